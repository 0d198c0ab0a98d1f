// Package sqldb implements store.Store with database/sql on SQLite (the
// embedded default, through the pure-Go modernc.org/sqlite driver) and on
// PostgreSQL (through pgx). Both run the same SQL: placeholders are $N on
// both, times are Unix milliseconds, and the few differences (row locks,
// SKIP LOCKED) are two fields of dialect, not rewritten SQL.
//
// Migrations are embedded, one folder per database, and applied with goose
// at Open: on PostgreSQL under goose's advisory lock, on SQLite under a file
// lock beside the database (goose has no SQLite locker), so instances that
// start at once migrate a fresh database once.
package sqldb

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"sesame/internal/store"
)

//go:embed migrations
var migrations embed.FS

type dialect struct {
	name      string
	forUpdate string // appended to a SELECT that precedes an UPDATE of the same row
	skipLock  string // appended to the SELECT that claims outbox rows
}

var (
	sqliteDialect = dialect{name: "sqlite"}
	// SQLite write transactions are serialised (BEGIN IMMEDIATE), so row
	// locks are implied there; PostgreSQL needs them said.
	postgresDialect = dialect{name: "postgres", forUpdate: " FOR UPDATE", skipLock: " FOR UPDATE SKIP LOCKED"}
)

// DB is a store.Store on a SQL database.
type DB struct {
	db      *sql.DB
	q       querier // db, or the transaction this DB value is bound to
	tx      bool
	dialect dialect
	stmts   *stmtCache // SQLite's prepared statements; nil on PostgreSQL
	writers *writers   // SQLite's queue of writes; nil on PostgreSQL
}

type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) row
}

// row is a *sql.Row, or errRow when the statement could not start.
type row interface{ Scan(dest ...any) error }

type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }

// sqlQuerier is what *sql.DB and *sql.Tx offer.
type sqlQuerier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// plain runs statements on a *sql.DB or *sql.Tx as they are (PostgreSQL).
type plain struct{ sqlQuerier }

func (q plain) QueryRowContext(ctx context.Context, query string, args ...any) row {
	return q.sqlQuerier.QueryRowContext(ctx, query, args...)
}

var _ store.Store = (*DB)(nil)

// OpenSQLite opens (creating if needed) the SQLite database file at path and
// migrates it, under an exclusive lock on the file path+".migrate.lock", so
// several processes can start at once. It uses WAL, foreign keys and
// immediate write transactions; writes queue in turn (see writers), on
// path+".write.lock" across processes.
func OpenSQLite(ctx context.Context, path string) (*DB, error) {
	q := url.Values{}
	busy := fmt.Sprintf("busy_timeout(%d)", writeWait.Milliseconds())
	for _, p := range []string{busy, "journal_mode(WAL)", "foreign_keys(1)", "synchronous(NORMAL)"} {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("sqldb: open %s: %w", path, err)
	}
	// One writer at a time in SQLite; a few readers alongside in WAL mode.
	db.SetMaxOpenConns(8)
	db.SetMaxIdleConns(8)
	// goose has no SQLite locker: without this, processes started at once
	// on a fresh file all run the first migration, and all but one fail
	// ("table offices already exists").
	unlock, err := lockMigrations(ctx, path+".migrate.lock")
	if err != nil {
		db.Close()
		return nil, err
	}
	defer unlock()
	w, err := newWriters(path + ".write.lock")
	if err != nil {
		db.Close()
		return nil, err
	}
	s, err := open(ctx, db, sqliteDialect, goose.DialectSQLite3, nil)
	if err != nil {
		w.close()
		return nil, err
	}
	s.writers = w
	s.q = cachedDB{s.stmts, w}
	return s, nil
}

// OpenPostgres connects to the PostgreSQL database at dsn (a postgres://
// URL) and migrates it under an advisory lock, so several instances can
// start at once.
func OpenPostgres(ctx context.Context, dsn string) (*DB, error) {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, fmt.Errorf("sqldb: open postgres: %w", err)
	}
	db.SetMaxOpenConns(32)
	db.SetMaxIdleConns(32)
	db.SetConnMaxIdleTime(5 * time.Minute)
	locker, err := lock.NewPostgresSessionLocker()
	if err != nil {
		db.Close()
		return nil, err
	}
	return open(ctx, db, postgresDialect, goose.DialectPostgres, locker)
}

func open(ctx context.Context, db *sql.DB, d dialect, gd goose.Dialect, locker lock.SessionLocker) (*DB, error) {
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqldb: %s: %w", d.name, err)
	}
	fsys, err := fs.Sub(migrations, "migrations/"+d.name)
	if err != nil {
		db.Close()
		return nil, err
	}
	opts := []goose.ProviderOption{goose.WithDisableGlobalRegistry(true)}
	if locker != nil {
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	p, err := goose.NewProvider(gd, db, fsys, opts...)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("sqldb: migrations: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqldb: migrate %s: %w", d.name, err)
	}
	s := &DB{db: db, q: plain{db}, dialect: d}
	if d.name == sqliteDialect.name {
		s.stmts = newStmtCache(db)
	}
	return s, nil
}

// Close closes the database.
func (s *DB) Close() error {
	if s.stmts != nil {
		s.stmts.close()
	}
	err := s.db.Close()
	if s.writers != nil {
		s.writers.close()
	}
	return err
}

// Ping reports whether the database answers.
func (s *DB) Ping(ctx context.Context) error { return mapErr(s.db.PingContext(ctx)) }

// InTx runs fn in a transaction (or in the current one).
func (s *DB) InTx(ctx context.Context, fn func(tx store.Store) error) error {
	return s.inTx(ctx, func(t *DB) error { return fn(t) })
}

func (s *DB) inTx(ctx context.Context, fn func(t *DB) error) (err error) {
	if s.tx {
		return fn(s)
	}
	if s.writers != nil {
		// Every SQLite transaction here writes (BEGIN IMMEDIATE): it
		// queues with the other writes before it takes a connection.
		leave, err := s.writers.enter(ctx)
		if err != nil {
			return fmt.Errorf("sqldb: begin: %w", err)
		}
		defer leave()
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqldb: begin: %w", mapErr(err))
	}
	defer func() {
		if p := recover(); p != nil {
			tx.Rollback()
			panic(p)
		}
		if err != nil {
			tx.Rollback()
			return
		}
		if cerr := tx.Commit(); cerr != nil {
			if ctx.Err() != nil {
				// database/sql rolled back when ctx ended: say why, not
				// "transaction has already been committed or rolled back".
				cerr = ctx.Err()
			}
			err = fmt.Errorf("sqldb: commit: %w", mapErr(cerr))
		}
	}()
	var q querier = plain{tx}
	if s.stmts != nil {
		q = cachedTx{s.stmts, tx}
	}
	return fn(&DB{db: s.db, q: q, tx: true, dialect: s.dialect, stmts: s.stmts, writers: s.writers})
}

// ms stores a time as Unix milliseconds; the zero time is 0.
func ms(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// fromMS is the inverse of ms.
func fromMS(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v).UTC()
}

// nullID stores 0 as NULL, for optional foreign keys.
func nullID(id int64) sql.NullInt64 { return sql.NullInt64{Int64: id, Valid: id != 0} }

// mapErr turns driver errors into the store's vocabulary.
func mapErr(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, sql.ErrNoRows) {
		return store.ErrNotFound
	}
	if errors.Is(err, store.ErrUnavailable) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return fmt.Errorf("%w: %v", store.ErrAlreadyExists, err)
		case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
			return fmt.Errorf("%w: %v", store.ErrNotFound, err)
		}
		switch se.Code() & 0xff { // the primary result code
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_FULL:
			return fmt.Errorf("%w: %w", store.ErrUnavailable, err)
		}
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case pe.Code == "23505": // unique_violation
			return fmt.Errorf("%w: %v", store.ErrAlreadyExists, err)
		case pe.Code == "23503": // foreign_key_violation
			return fmt.Errorf("%w: %v", store.ErrNotFound, err)
		case strings.HasPrefix(pe.Code, "08"), // connection exception
			pe.Code == "57P01", pe.Code == "57P02", pe.Code == "57P03", // shutting down, starting up
			pe.Code == "53300": // too many connections
			return fmt.Errorf("%w: %w", store.ErrUnavailable, err)
		}
		return err
	}
	if unreachable(err) {
		return fmt.Errorf("%w: %w", store.ErrUnavailable, err)
	}
	return err
}

// unreachable reports whether err says the connection to the database could
// not be made or was lost, rather than anything about the query.
func unreachable(err error) bool {
	var ce *pgconn.ConnectError
	var ne net.Error
	return errors.Is(err, driver.ErrBadConn) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) ||
		errors.As(err, &ce) || errors.As(err, &ne) || pgconn.SafeToRetry(err) || pgconn.Timeout(err) ||
		strings.Contains(err.Error(), "conn closed") ||
		strings.Contains(err.Error(), "sql: database is closed") // shutting down; database/sql does not export it
}

// likePattern escapes s for a LIKE ... ESCAPE '\' substring match.
func likePattern(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(strings.ToLower(s)) + "%"
}
