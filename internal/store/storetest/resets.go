package storetest

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"sesame/internal/account"
	"sesame/internal/store"
)

func testPasswordResets(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := newAccount(t, s, account.Client, "reset@example.be", 0)
	b := newAccount(t, s, account.Tiers, "other@example.be", 0)
	exp := t0.Add(10 * time.Minute)
	r1 := store.PasswordReset{TokenHash: []byte("hash-1"), AccountID: a.ID, Created: t0, Expires: exp, TriesLeft: 3}
	if err := s.CreatePasswordReset(ctx, r1); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetPasswordReset(ctx, []byte("hash-1"))
	if err != nil || got.AccountID != a.ID || !got.Created.Equal(t0) || !got.Expires.Equal(exp) || got.TriesLeft != 3 || string(got.TokenHash) != "hash-1" {
		t.Fatalf("GetPasswordReset = %+v, %v", got, err)
	}
	if err := s.CreatePasswordReset(ctx, r1); !errors.Is(err, store.ErrAlreadyExists) {
		t.Errorf("duplicate hash: %v, want ErrAlreadyExists", err)
	}
	if err := s.CreatePasswordReset(ctx, store.PasswordReset{TokenHash: []byte("orphan"), AccountID: 999999, Created: t0, Expires: exp}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("reset of a missing account: %v, want ErrNotFound", err)
	}

	// Another account's link and decoys are not touched by a new link.
	if err := s.CreatePasswordReset(ctx, store.PasswordReset{TokenHash: []byte("hash-b"), AccountID: b.ID, Created: t0, Expires: exp}); err != nil {
		t.Fatal(err)
	}
	for _, h := range []string{"decoy-1", "decoy-2"} {
		if err := s.CreatePasswordReset(ctx, store.PasswordReset{TokenHash: []byte(h), Created: t0, Expires: exp}); err != nil {
			t.Fatalf("decoy %s: %v", h, err)
		}
	}
	if d, err := s.GetPasswordReset(ctx, []byte("decoy-1")); err != nil || d.AccountID != 0 {
		t.Errorf("decoy = %+v, %v; want account 0", d, err)
	}
	// A newer link of the same account replaces the older one.
	if err := s.CreatePasswordReset(ctx, store.PasswordReset{TokenHash: []byte("hash-2"), AccountID: a.ID, Created: t0.Add(time.Minute), Expires: exp.Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetPasswordReset(ctx, []byte("hash-1")); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("older link after a newer one: %v, want ErrNotFound", err)
	}
	for _, h := range []string{"hash-2", "hash-b", "decoy-1", "decoy-2"} {
		if _, err := s.GetPasswordReset(ctx, []byte(h)); err != nil {
			t.Errorf("%s after a new link of another account: %v", h, err)
		}
	}

	up, err := s.UpdatePasswordReset(ctx, []byte("hash-2"), func(r *store.PasswordReset) error { r.TriesLeft = 2; return nil })
	if err != nil || up.TriesLeft != 2 {
		t.Fatalf("UpdatePasswordReset = %+v, %v", up, err)
	}
	sentinel := errors.New("stop")
	if _, err := s.UpdatePasswordReset(ctx, []byte("hash-2"), func(r *store.PasswordReset) error { r.TriesLeft = 0; return sentinel }); !errors.Is(err, sentinel) {
		t.Errorf("fn error: %v", err)
	}
	if got, _ := s.GetPasswordReset(ctx, []byte("hash-2")); got.TriesLeft != 2 {
		t.Errorf("a failed update was written: %+v", got)
	}
	if _, err := s.UpdatePasswordReset(ctx, []byte("missing"), func(*store.PasswordReset) error { return nil }); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("update missing: %v", err)
	}

	if err := s.DeletePasswordReset(ctx, []byte("hash-2")); err != nil {
		t.Fatal(err)
	}
	if err := s.DeletePasswordReset(ctx, []byte("hash-2")); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("second use of a link: %v, want ErrNotFound", err)
	}

	if n, err := s.DeleteAccountPasswordResets(ctx, b.ID); err != nil || n != 1 {
		t.Errorf("DeleteAccountPasswordResets = %d, %v; want 1", n, err)
	}
	if n, err := s.DeletePasswordResetsBefore(ctx, exp); err != nil || n != 0 {
		t.Errorf("DeletePasswordResetsBefore(expiry) = %d, %v; want 0 (not yet expired)", n, err)
	}
	if n, err := s.DeletePasswordResetsBefore(ctx, exp.Add(time.Millisecond)); err != nil || n != 2 {
		t.Errorf("DeletePasswordResetsBefore(after) = %d, %v; want the 2 decoys", n, err)
	}
}

// A link is used by deleting it: of concurrent uses, exactly one wins.
func testPasswordResetUseRace(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := newAccount(t, s, account.Client, "race-reset@example.be", 0)
	if err := s.CreatePasswordReset(ctx, store.PasswordReset{TokenHash: []byte("once"), AccountID: a.ID, Created: t0, Expires: t0.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	var wins atomic.Int32
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			err := s.InTx(ctx, func(tx store.Store) error { return tx.DeletePasswordReset(ctx, []byte("once")) })
			switch {
			case err == nil:
				wins.Add(1)
			case !errors.Is(err, store.ErrNotFound):
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n := wins.Load(); n != 1 {
		t.Errorf("%d concurrent uses succeeded, want 1", n)
	}
}
