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
	"io"
	"log/slog"
	"path/filepath"
	"sync"
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
	db, err := sqldb.OpenSQLite(context.Background(), filepath.Join(dir, "sesame.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	key, err := seal.NewKey()
	if err != nil {
		tb.Fatal(err)
	}
	keys, err := seal.NewKeyring(key)
	if err != nil {
		tb.Fatal(err)
	}
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
