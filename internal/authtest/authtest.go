// Package authtest builds a real auth.Service for tests: SQLite in a temp
// folder, fast argon2id parameters, a fresh sealing key, a clock the test
// moves.
//
// Like net/http/httptest, it is imported only by tests (and benchmarks and
// fuzz targets, hence testing.TB everywhere); no program links it. It holds
// the plumbing every package's tests need and nothing else: each package
// keeps its own fixtures of people, browsers and wizard steps.
package authtest

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"sesame/internal/account"
	"sesame/internal/auth"
	"sesame/internal/mail"
	"sesame/internal/passhash"
	"sesame/internal/seal"
	"sesame/internal/store/sqldb"
	"sesame/internal/totp"
)

// Start is where a NewClock of the tests usually begins: a fixed instant,
// so TOTP steps and expiries are the same on every run.
var Start = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

// Clock is a clock the test moves by hand. It is safe for concurrent use:
// the portal's handlers read it while the test moves it.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a clock showing start.
func NewClock(start time.Time) *Clock { return &Clock{now: start} }

// Now returns the clock's time; it is the service's Now.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Add moves the clock by d.
func (c *Clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// Env is an auth.Service on its own SQLite store.
type Env struct {
	Auth *auth.Service
	DB   *sqldb.DB // the service's Store
	Dir  string    // the temp folder holding the database files (sesame.db*)
}

// An Option changes the service before New returns it: a logger, other
// hashing parameters, a laxer throttle.
type Option func(*auth.Service)

// WithLog sends the service's log to l instead of discarding it.
func WithLog(l *slog.Logger) Option { return func(s *auth.Service) { s.Log = l } }

// WithParams hashes with p instead of passhash.TestParams (a benchmark of
// the production cost).
func WithParams(p passhash.Params) Option {
	return func(s *auth.Service) { s.Hasher = passhash.New(p, hashers) }
}

// hashers bounds concurrent argon2id computations, as in production; with
// the test parameters each takes a fraction of a millisecond.
const hashers = 4

// New opens a SQLite store in a temp folder (closed when the test ends) and
// returns a service on it with passhash.TestParams, a fresh sealing key, the
// default TOTP parameters, throttle and address limit, the mail renderer,
// issuer "Finagora" and a discarded log. Its Now is clk.Now, or the wall
// clock when clk is nil (for a test that drives the portal from outside,
// with codes of the real time). Failures end the test.
func New(tb testing.TB, clk *Clock, opts ...Option) *Env {
	tb.Helper()
	dir := tb.TempDir()
	db := openSQLite(tb, filepath.Join(dir, "sesame.db"))
	return newEnv(tb, clk, db, newKeyring(tb), dir, opts)
}

// Backends names the databases that tests of several instances run on:
// "sqlite" always, and "postgres" when SESAME_TEST_POSTGRES names a server
// (in CI, CI set, its absence fails the test instead of skipping).
func Backends(tb testing.TB) []string {
	if os.Getenv("SESAME_TEST_POSTGRES") != "" {
		return []string{"sqlite", "postgres"}
	}
	if os.Getenv("CI") != "" {
		tb.Fatal("SESAME_TEST_POSTGRES is not set in CI")
	}
	return []string{"sqlite"}
}

// Instances returns n services on one fresh database of backend ("sqlite":
// one file opened n times; "postgres": a fresh schema on the server named
// by SESAME_TEST_POSTGRES), each with its own connection pool and hasher
// but the same sealing key and clock — n Sesame processes on one database.
func Instances(tb testing.TB, clk *Clock, backend string, n int, opts ...Option) []*Env {
	tb.Helper()
	dir := tb.TempDir()
	keys := newKeyring(tb)
	open := func() *sqldb.DB { return openSQLite(tb, filepath.Join(dir, "sesame.db")) }
	if backend == "postgres" {
		dsn := PostgresSchema(tb)
		open = func() *sqldb.DB {
			db, err := sqldb.OpenPostgres(context.Background(), dsn)
			if err != nil {
				tb.Fatal(err)
			}
			tb.Cleanup(func() { db.Close() })
			return db
		}
	}
	envs := make([]*Env, n)
	for i := range envs {
		envs[i] = newEnv(tb, clk, open(), keys, dir, opts)
	}
	return envs
}

var schemas atomic.Int64

// PostgresSchema creates a fresh schema on the SESAME_TEST_POSTGRES server,
// dropped when the test ends, and returns a DSN that uses it. Without the
// variable the test is skipped, or fails in CI.
func PostgresSchema(tb testing.TB) string {
	tb.Helper()
	dsn := os.Getenv("SESAME_TEST_POSTGRES")
	if dsn == "" {
		if os.Getenv("CI") != "" {
			tb.Fatal("SESAME_TEST_POSTGRES is not set in CI")
		}
		tb.Skip("SESAME_TEST_POSTGRES not set")
	}
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { admin.Close() })
	schema := fmt.Sprintf("authtest_%d_%d", os.Getpid(), schemas.Add(1))
	if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { admin.Exec("DROP SCHEMA " + schema + " CASCADE") })
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	return dsn + sep + "search_path=" + schema
}

func openSQLite(tb testing.TB, path string) *sqldb.DB {
	tb.Helper()
	db, err := sqldb.OpenSQLite(context.Background(), path)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

func newKeyring(tb testing.TB) *seal.Keyring {
	tb.Helper()
	key, err := seal.NewKey()
	if err != nil {
		tb.Fatal(err)
	}
	keys, err := seal.NewKeyring(key)
	if err != nil {
		tb.Fatal(err)
	}
	return keys
}

// NewOn returns a service, as New does, on a store the test opened itself.
func NewOn(tb testing.TB, clk *Clock, db *sqldb.DB, opts ...Option) *Env {
	tb.Helper()
	return newEnv(tb, clk, db, newKeyring(tb), tb.TempDir(), opts)
}

func newEnv(tb testing.TB, clk *Clock, db *sqldb.DB, keys *seal.Keyring, dir string, opts []Option) *Env {
	tb.Helper()
	renderer, err := mail.NewRenderer()
	if err != nil {
		tb.Fatal(err)
	}
	now := time.Now
	if clk != nil {
		now = clk.Now
	}
	svc := &auth.Service{Store: db, Hasher: passhash.New(passhash.TestParams(), hashers), Keys: keys, TOTP: totp.Default(),
		Throttle: account.DefaultThrottle(), AddressLimit: account.DefaultAddressLimit(), Issuer: "Finagora",
		Now: now, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Mail: renderer}
	for _, o := range opts {
		o(svc)
	}
	return &Env{Auth: svc, DB: db, Dir: dir}
}

// CreateOffice adds an office created now.
func (e *Env) CreateOffice(tb testing.TB, name string) account.Office {
	tb.Helper()
	o := account.Office{Name: name, Created: e.Auth.Now()}
	if err := e.DB.CreateOffice(context.Background(), &o); err != nil {
		tb.Fatal(err)
	}
	return o
}

// CreateAccount adds a with password hashed into its PasswordHash, created
// now unless a says when, and returns it with its ID.
func (e *Env) CreateAccount(tb testing.TB, a account.Account, password string) account.Account {
	tb.Helper()
	ctx := context.Background()
	h, err := e.Auth.Hasher.Hash(ctx, password)
	if err != nil {
		tb.Fatal(err)
	}
	a.PasswordHash = h
	if a.Created.IsZero() {
		a.Created = e.Auth.Now()
	}
	if err := e.DB.CreateAccount(ctx, &a); err != nil {
		tb.Fatal(err)
	}
	return a
}
