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

// fileLock is an open lock file, locked with flock while one process's
// write runs.
type fileLock struct{ f *os.File }

func openFileLock(name string) (fileLock, error) {
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o600)
	return fileLock{f}, err
}

// errLockWait is lock's answer when ctx ended first.
var errLockWait = errors.New("sqldb: lock wait ended")

// lock takes the lock, waiting in the kernel (woken the moment the holder
// lets go) until ctx ends or wait has passed. A wait given up goes on in
// the background, then lets go of the lock it got too late and calls
// abandoned; abandoned is called too when lock fails.
func (l fileLock) lock(ctx context.Context, wait time.Duration, abandoned func()) error {
	fd := int(l.f.Fd())
	err := flock(fd, syscall.LOCK_EX|syscall.LOCK_NB)
	if err == nil {
		return nil
	}
	if !errors.Is(err, syscall.EWOULDBLOCK) {
		abandoned()
		return fmt.Errorf("sqldb: writer lock: %w", err)
	}
	got := make(chan error, 1)
	go func() { got <- flock(fd, syscall.LOCK_EX) }()
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case err := <-got:
		if err != nil {
			abandoned()
			return fmt.Errorf("sqldb: writer lock: %w", err)
		}
		return nil
	case <-ctx.Done():
	case <-t.C:
	}
	go func() {
		if <-got == nil {
			flock(fd, syscall.LOCK_UN)
		}
		abandoned()
	}()
	return errLockWait
}

func (l fileLock) unlock() { flock(int(l.f.Fd()), syscall.LOCK_UN) }

func (l fileLock) close() error { return l.f.Close() }

// flock is syscall.Flock, tried again when a signal interrupted it.
func flock(fd, how int) error {
	for {
		err := syscall.Flock(fd, how)
		if !errors.Is(err, syscall.EINTR) {
			return err
		}
	}
}
