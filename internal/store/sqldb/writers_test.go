package sqldb

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"sesame/internal/store"
	"sesame/internal/store/storetest"
)

// twoSQLite opens one SQLite file twice, as two instances of the service
// would.
func twoSQLite(t *testing.T) (a, b *DB) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "sesame.db")
	for _, s := range []**DB{&a, &b} {
		db, err := OpenSQLite(context.Background(), path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		*s = db
	}
	return a, b
}

func event(detail string) store.AuditEvent {
	return store.AuditEvent{Time: time.Now(), Action: "test", Outcome: "success", Detail: detail}
}

// holdWrite starts a transaction on s that holds the writer's turn until
// the returned function is called.
func holdWrite(t *testing.T, s *DB) (release func()) {
	t.Helper()
	held, done := make(chan struct{}), make(chan struct{})
	errc := make(chan error, 1)
	go func() {
		errc <- s.InTx(context.Background(), func(tx store.Store) error {
			if err := tx.AppendAudit(context.Background(), event("holder")); err != nil {
				return err
			}
			close(held)
			<-done
			return nil
		})
	}()
	select {
	case <-held:
	case err := <-errc:
		t.Fatalf("holding transaction: %v", err)
	}
	return func() {
		close(done)
		if err := <-errc; err != nil {
			t.Errorf("holding transaction: %v", err)
		}
	}
}

// A burst of writes of every kind from two instances: every one lands.
func TestSQLiteBurstOfWritesFromTwoInstances(t *testing.T) {
	a, b := twoSQLite(t)
	ctx := context.Background()
	const n = 120
	errs := make([]error, n)
	storetest.Burst(n, func(i int) {
		s := []*DB{a, b}[i%2]
		switch i % 3 {
		case 0: // a statement on its own
			errs[i] = s.AppendAudit(ctx, event("alone"))
		case 1: // a transaction
			errs[i] = s.InTx(ctx, func(tx store.Store) error {
				if err := tx.AppendAudit(ctx, event("tx 1")); err != nil {
					return err
				}
				return tx.AppendAudit(ctx, event("tx 2"))
			})
		case 2: // INSERT … RETURNING on its own
			_, errs[i] = s.ReserveAddressAttempt(ctx, "burst", time.Now(), time.Hour, n)
		}
	})
	for i, err := range errs {
		if err != nil {
			t.Errorf("write %d: %v", i, err)
		}
	}
	all, err := a.ListAudit(ctx, store.AuditFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if want := n/3 + 2*n/3; len(all) != want {
		t.Errorf("%d audit lines, want %d", len(all), want)
	}
}

// Writes queued behind a long one hold no connection: reads go on.
func TestSQLiteQueuedWritesLeaveReadsAlone(t *testing.T) {
	a, _ := twoSQLite(t)
	release := holdWrite(t, a)
	var queued sync.WaitGroup
	for range 12 { // more than the pool's 8 connections
		queued.Go(func() {
			if err := a.AppendAudit(context.Background(), event("queued")); err != nil {
				t.Errorf("queued write: %v", err)
			}
		})
	}
	time.Sleep(50 * time.Millisecond) // let them queue
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := a.ListAudit(ctx, store.AuditFilter{}); err != nil {
		t.Errorf("a read while writes queue: %v", err)
	}
	release()
	queued.Wait()
}

// A write that cannot have its turn in time is refused as the database
// being unavailable — in the holder's process and in another — or with the
// caller's own reason; a wait given up gives the turn back.
func TestSQLiteWriteWaitIsBounded(t *testing.T) {
	a, b := twoSQLite(t)
	release := holdWrite(t, a)
	for name, s := range map[string]*DB{"same instance": a, "other instance": b} {
		s.writers.wait = 100 * time.Millisecond
		if err := s.AppendAudit(context.Background(), event("late")); !errors.Is(err, store.ErrUnavailable) {
			t.Errorf("%s, statement: %v, want ErrUnavailable", name, err)
		}
		err := s.InTx(context.Background(), func(tx store.Store) error { return tx.AppendAudit(context.Background(), event("late")) })
		if !errors.Is(err, store.ErrUnavailable) {
			t.Errorf("%s, transaction: %v, want ErrUnavailable", name, err)
		}
		if _, err := s.ReserveAddressAttempt(context.Background(), "late", time.Now(), time.Hour, 5); !errors.Is(err, store.ErrUnavailable) {
			t.Errorf("%s, INSERT … RETURNING: %v, want ErrUnavailable", name, err)
		}
		s.writers.wait = time.Minute
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(20*time.Millisecond, cancel)
		if err := s.AppendAudit(ctx, event("late")); !errors.Is(err, context.Canceled) {
			t.Errorf("%s, cancelled: %v, want context.Canceled", name, err)
		}
	}
	release()
	for name, s := range map[string]*DB{"same instance": a, "other instance": b} {
		if err := s.AppendAudit(context.Background(), event("after")); err != nil {
			t.Errorf("%s, after the holder: %v", name, err)
		}
	}
}

// A closed database (a request still running as the service shuts down)
// is unavailable, for reads and writes alike: not an unexplained failure.
func TestSQLiteClosedIsUnavailable(t *testing.T) {
	a, _ := twoSQLite(t)
	a.Close()
	ctx := context.Background()
	if err := a.AppendAudit(ctx, event("closed")); !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("write: %v, want ErrUnavailable", err)
	}
	if err := a.InTx(ctx, func(tx store.Store) error { return nil }); !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("transaction: %v, want ErrUnavailable", err)
	}
	if _, err := a.GetOIDCAuthRequest(ctx, "x"); !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("read: %v, want ErrUnavailable", err)
	}
}
