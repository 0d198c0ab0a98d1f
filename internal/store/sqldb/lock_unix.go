//go:build unix

package sqldb

import (
	"context"
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"
)

// lockMigrations takes an exclusive lock on the file name (created if
// needed), so that one process at a time migrates a SQLite database. The
// lock is released by unlock, or by the system when the process ends, so a
// crash leaves nothing stale; the file itself stays (removing it would let
// a waiter lock a file that a newcomer no longer sees). Waiting ends with ctx.
func lockMigrations(ctx context.Context, name string) (unlock func(), err error) {
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("sqldb: migration lock: %w", err)
	}
	for {
		// Non-blocking, polled: a blocking flock would not hear ctx.
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() { f.Close() }, nil // closing the only descriptor releases the lock
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR) {
			f.Close()
			return nil, fmt.Errorf("sqldb: migration lock %s: %w", name, err)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("sqldb: migration lock %s: %w", name, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}
