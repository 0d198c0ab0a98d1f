//go:build !unix

package sqldb

import (
	"context"
	"errors"
	"time"
)

// lockMigrations takes no lock where there is no flock: there, start the
// first process on a fresh SQLite database alone, or use PostgreSQL.
func lockMigrations(ctx context.Context, name string) (unlock func(), err error) {
	return func() {}, nil
}

// fileLock does nothing where there is no flock: there, writes queue
// within a process, and SQLite's busy timeout orders the processes.
type fileLock struct{}

func openFileLock(name string) (fileLock, error) { return fileLock{}, nil }

var errLockWait = errors.New("sqldb: lock wait ended")

func (fileLock) lock(context.Context, time.Duration, func()) error { return nil }
func (fileLock) unlock()                                           {}
func (fileLock) close() error                                      { return nil }
