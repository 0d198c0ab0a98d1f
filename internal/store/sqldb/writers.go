package sqldb

import (
	"context"
	"fmt"
	"strings"
	"time"

	"sesame/internal/store"
)

// writeWait is how long a write waits for its turn on SQLite before the
// store answers store.ErrUnavailable; SQLite's own busy timeout is the same.
const writeWait = 10 * time.Second

// writers queues a SQLite database's writes. SQLite lets one writer in at
// a time and makes the others poll, sleeping longer between tries the
// longer they have waited (up to 100 ms): under a burst the newest writers
// kept winning while the oldest ran out their busy timeout ("database is
// locked"), and every poller held one of the pool's connections. So the
// writes of a process queue here, first come first served, holding no
// connection while they wait; the one at the head then takes a lock file
// on which the other processes sharing the database wait in the kernel,
// which wakes them as soon as it is free. SQLite's busy timeout stays, for
// writers that do not queue here (the sqlite3 shell, a backup).
type writers struct {
	turn chan struct{} // holds a token while one of this process's writes runs
	file fileLock      // across processes; the zero fileLock where there is no flock
	wait time.Duration
}

func newWriters(path string) (*writers, error) {
	f, err := openFileLock(path)
	if err != nil {
		return nil, fmt.Errorf("sqldb: writer lock: %w", err)
	}
	return &writers{turn: make(chan struct{}, 1), file: f, wait: writeWait}, nil
}

// enter waits for the turn to write, until ctx ends or w.wait has passed
// (w.wait for this process's earlier writes, as long again for the other
// processes'), and returns the function that gives the turn to the next.
func (w *writers) enter(ctx context.Context) (leave func(), err error) {
	waitCtx := ctx
	select {
	case w.turn <- struct{}{}:
	default:
		var cancel context.CancelFunc
		waitCtx, cancel = context.WithTimeout(ctx, w.wait)
		defer cancel()
		select {
		case w.turn <- struct{}{}:
		case <-waitCtx.Done():
			return nil, w.waitErr(ctx)
		}
	}
	if err := w.file.lock(waitCtx, w.wait, w.leaveTurn); err != nil {
		if err == errLockWait {
			return nil, w.waitErr(ctx)
		}
		return nil, fmt.Errorf("%w: %w", store.ErrUnavailable, err) // the database closed, say
	}
	return w.leave, nil
}

func (w *writers) leave() {
	w.file.unlock()
	w.leaveTurn()
}

func (w *writers) leaveTurn() { <-w.turn }

// waitErr says why a wait ended: the caller's ctx, or the store's bound.
func (w *writers) waitErr(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return fmt.Errorf("%w: no turn to write within %s", store.ErrUnavailable, w.wait)
}

func (w *writers) close() error { return w.file.close() }

// isWrite reports whether a statement run outside a transaction changes
// the database: all of the store's reads start with SELECT.
func isWrite(query string) bool {
	q := strings.TrimLeft(query, " \t\r\n")
	return len(q) < 6 || !strings.EqualFold(q[:6], "SELECT")
}
