package sqldb

import (
	"context"
	"database/sql"
	"sync"
)

// stmtCache prepares each statement once on the *sql.DB; database/sql then
// prepares it on each connection the first time that connection runs it,
// and reuses it there, inside transactions too (Tx.StmtContext). Without
// it the SQLite driver parses every statement on every call, which was a
// sixth of the portal's CPU on logged-in pages. PostgreSQL does not need
// it: pgx caches prepared statements per connection by itself.
type stmtCache struct {
	db        *sql.DB
	mu        sync.RWMutex
	m         map[string]*sql.Stmt
	preparing map[string]bool // being prepared in the background
	closed    bool
	bg        sync.WaitGroup // the background preparations, which close waits for
}

// maxCachedStmts bounds the cache; the store's queries are constant
// strings, well under this, so it only guards against a mistake.
const maxCachedStmts = 512

func newStmtCache(db *sql.DB) *stmtCache {
	return &stmtCache{db: db, m: map[string]*sql.Stmt{}, preparing: map[string]bool{}}
}

// stmt returns query prepared, or nil (run it unprepared) when it cannot
// be prepared or the cache is full. The lock is not held while preparing:
// that waits for a connection, which may be held by a transaction that
// needs the lock.
func (c *stmtCache) stmt(ctx context.Context, query string) *sql.Stmt {
	if st := c.cached(query); st != nil {
		return st
	}
	c.mu.RLock()
	full := len(c.m) >= maxCachedStmts
	c.mu.RUnlock()
	if full {
		return nil
	}
	// Prepared outside the request's cancellation: the statement outlives it.
	st, err := c.db.PrepareContext(context.WithoutCancel(ctx), query)
	if err != nil {
		return nil // the unprepared call reports the error
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if other := c.m[query]; other != nil {
		st.Close() // prepared twice at once: keep the first
		return other
	}
	c.m[query] = st
	return st
}

func (c *stmtCache) cached(query string) *sql.Stmt {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.m[query]
}

// inTx returns query prepared for a transaction's use, or nil the first
// time: preparing on the *sql.DB needs a connection of its own, and a
// transaction that waited for one while holding SQLite's write lock could
// wait for ever (every other connection waiting for that lock). So the
// first call runs unprepared and the statement is prepared beside it.
func (c *stmtCache) inTx(query string) *sql.Stmt {
	if st := c.cached(query); st != nil {
		return st
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed || c.preparing[query] || c.m[query] != nil || len(c.m) >= maxCachedStmts {
		return c.m[query]
	}
	c.preparing[query] = true
	c.bg.Go(func() {
		c.stmt(context.Background(), query)
		c.mu.Lock()
		delete(c.preparing, query)
		c.mu.Unlock()
	})
	return nil
}

// close waits for the background preparations — one still holding a
// connection when the database closes would touch its files afterwards —
// then closes every statement.
func (c *stmtCache) close() {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	c.bg.Wait()
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, st := range c.m {
		st.Close()
	}
	clear(c.m)
}

// cachedDB runs statements outside a transaction through the cache, and
// queues those that write with the transactions (see writers). A write
// through QueryRowContext (INSERT … RETURNING) has made its change when
// the call returns, so its turn ends there; SQLite keeps the lock until
// the row is scanned, right after, and a next writer's busy wait covers
// that.
type cachedDB struct {
	c *stmtCache
	w *writers
}

// turn waits for a write's turn (see writers); a read needs none.
func (q cachedDB) turn(ctx context.Context, query string) (leave func(), err error) {
	if !isWrite(query) {
		return noTurn, nil
	}
	return q.w.enter(ctx)
}

func noTurn() {}

func (q cachedDB) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	st := q.c.stmt(ctx, query)
	leave, err := q.turn(ctx, query)
	if err != nil {
		return nil, err
	}
	defer leave()
	if st != nil {
		return st.ExecContext(ctx, args...)
	}
	return q.c.db.ExecContext(ctx, query, args...)
}

func (q cachedDB) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	st := q.c.stmt(ctx, query)
	leave, err := q.turn(ctx, query)
	if err != nil {
		return nil, err
	}
	defer leave()
	if st != nil {
		return st.QueryContext(ctx, args...)
	}
	return q.c.db.QueryContext(ctx, query, args...)
}

func (q cachedDB) QueryRowContext(ctx context.Context, query string, args ...any) row {
	st := q.c.stmt(ctx, query)
	leave, err := q.turn(ctx, query)
	if err != nil {
		return errRow{err}
	}
	defer leave()
	if st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return q.c.db.QueryRowContext(ctx, query, args...)
}

// cachedTx runs statements in tx through the cache.
type cachedTx struct {
	c  *stmtCache
	tx *sql.Tx
}

func (q cachedTx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if st := q.c.inTx(query); st != nil {
		return q.tx.StmtContext(ctx, st).ExecContext(ctx, args...)
	}
	return q.tx.ExecContext(ctx, query, args...)
}

func (q cachedTx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := q.c.inTx(query); st != nil {
		return q.tx.StmtContext(ctx, st).QueryContext(ctx, args...)
	}
	return q.tx.QueryContext(ctx, query, args...)
}

func (q cachedTx) QueryRowContext(ctx context.Context, query string, args ...any) row {
	if st := q.c.inTx(query); st != nil {
		return q.tx.StmtContext(ctx, st).QueryRowContext(ctx, args...)
	}
	return q.tx.QueryRowContext(ctx, query, args...)
}
