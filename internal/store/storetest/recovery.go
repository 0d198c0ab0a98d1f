package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"

	"sesame/internal/account"
	"sesame/internal/store"
)

func testRecoveryCodes(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := newAccount(t, s, account.Tiers, "codes@example.be", 0)
	b := newAccount(t, s, account.Client, "other@example.be", 0)
	if got, err := s.UnusedRecoveryCodes(ctx, a.ID); err != nil || len(got) != 0 {
		t.Fatalf("UnusedRecoveryCodes of an account without codes = %x, %v", got, err)
	}
	set := [][]byte{[]byte("h1"), []byte("h2"), []byte("h3")}
	if err := s.ReplaceRecoveryCodes(ctx, a.ID, set, t0); err != nil {
		t.Fatal(err)
	}
	if err := s.ReplaceRecoveryCodes(ctx, b.ID, [][]byte{[]byte("h1")}, t0); err != nil {
		t.Fatal(err)
	}
	if err := s.ReplaceRecoveryCodes(ctx, 999999, set, t0); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("codes of a missing account: %v, want ErrNotFound", err)
	}
	if err := s.ReplaceRecoveryCodes(ctx, 999999, nil, t0); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("no codes for a missing account: %v, want ErrNotFound", err)
	}
	if got, _ := s.UnusedRecoveryCodes(ctx, a.ID); len(got) != 3 {
		t.Errorf("%d unused codes, want 3", len(got))
	}
	if err := s.UseRecoveryCode(ctx, a.ID, []byte("h2"), t0); err != nil {
		t.Fatal(err)
	}
	if err := s.UseRecoveryCode(ctx, a.ID, []byte("h2"), t0); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a used code used again: %v, want ErrNotFound", err)
	}
	if err := s.UseRecoveryCode(ctx, a.ID, []byte("nope"), t0); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("an unknown code: %v, want ErrNotFound", err)
	}
	secondFactors(t, s, a.ID, false, 2) // codes without an authenticator: the home page says no
	if err := s.LinkAuthenticator(ctx, store.Authenticator{AccountID: a.ID, Secret: []byte("s"), Linked: t0}); err != nil {
		t.Fatal(err)
	}
	secondFactors(t, s, a.ID, true, 2)
	secondFactors(t, s, b.ID, false, 1)
	got, _ := s.UnusedRecoveryCodes(ctx, a.ID)
	if len(got) != 2 || bytes.Equal(got[0], []byte("h2")) || bytes.Equal(got[1], []byte("h2")) {
		t.Errorf("unused after one use: %q", got)
	}
	// The other account's identical hash is its own.
	if got, _ := s.UnusedRecoveryCodes(ctx, b.ID); len(got) != 1 {
		t.Errorf("the other account's codes: %q", got)
	}
	// A new set replaces the old one, used codes included.
	if err := s.ReplaceRecoveryCodes(ctx, a.ID, [][]byte{[]byte("n1"), []byte("n2")}, t0); err != nil {
		t.Fatal(err)
	}
	if err := s.UseRecoveryCode(ctx, a.ID, []byte("h1"), t0); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a code of the old set: %v, want ErrNotFound", err)
	}
	if n, err := s.DeleteRecoveryCodes(ctx, a.ID); err != nil || n != 2 {
		t.Errorf("DeleteRecoveryCodes = %d, %v; want 2", n, err)
	}
	if got, _ := s.UnusedRecoveryCodes(ctx, a.ID); len(got) != 0 {
		t.Errorf("codes after deletion: %q", got)
	}
	secondFactors(t, s, a.ID, true, 0)
	// Inside a transaction that rolls back, a spent code is not spent.
	errRollback := errors.New("roll back")
	err := s.InTx(ctx, func(tx store.Store) error {
		if err := tx.UseRecoveryCode(ctx, b.ID, []byte("h1"), t0); err != nil {
			return err
		}
		return errRollback
	})
	if !errors.Is(err, errRollback) {
		t.Fatal(err)
	}
	if got, _ := s.UnusedRecoveryCodes(ctx, b.ID); len(got) != 1 {
		t.Errorf("a rolled-back use spent the code: %q", got)
	}
}

func secondFactors(t *testing.T, s store.Store, accountID int64, linked bool, left int) {
	t.Helper()
	ctx := context.Background()
	id := []byte(fmt.Sprintf("second-factors-%d", accountID))
	if err := s.CreateSession(ctx, store.Session{IDHash: id, AccountID: accountID, Created: t0, LastSeen: t0, LastOTP: t0}); err != nil {
		t.Fatal(err)
	}
	defer s.DeleteSession(ctx, id)
	ss, _, err := s.GetSessionAccount(ctx, id)
	if err != nil || ss.Linked != linked || ss.CodesLeft != left {
		t.Errorf("GetSessionAccount of account %d: Linked %v, CodesLeft %d, %v; want %v, %d", accountID, ss.Linked, ss.CodesLeft, err, linked, left)
	}
}

// testRecoveryCodeRace: of simultaneous uses of one code, exactly one wins.
func testRecoveryCodeRace(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := newAccount(t, s, account.Tiers, "race@example.be", 0)
	if err := s.ReplaceRecoveryCodes(ctx, a.ID, [][]byte{[]byte("only")}, t0); err != nil {
		t.Fatal(err)
	}
	var won atomic.Int32
	Burst(20, func(int) {
		err := s.UseRecoveryCode(ctx, a.ID, []byte("only"), t0)
		switch {
		case err == nil:
			won.Add(1)
		case !errors.Is(err, store.ErrNotFound):
			t.Error(err)
		}
	})
	if n := won.Load(); n != 1 {
		t.Errorf("%d of 20 simultaneous uses of one code succeeded, want 1", n)
	}
}
