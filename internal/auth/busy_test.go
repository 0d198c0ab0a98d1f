package auth_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"sesame/internal/account"
	"sesame/internal/auth"
	"sesame/internal/i18n"
	"sesame/internal/passhash"
)

// A login that would wait too long for a hashing turn is refused before
// anything is reserved: no attempt spent, nothing audited, nothing hashed.
func TestLoginShedWhenTheQueueIsFull(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	a := f.account("marie@example.be", i18n.FR)
	secret := f.enrol(a)
	// One turn, and any wait at all is too long: one flow already admitted
	// (and the average computation known from the set-up) fills the queue.
	h := passhash.NewWith(passhash.TestParams(), passhash.Options{Concurrent: 1, MaxWait: time.Nanosecond})
	if err := h.Dummy(context.Background()); err != nil {
		t.Fatal(err)
	}
	f.svc.Hasher = h
	_, done, err := h.Admit(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	auditBefore, computed := len(f.audit()), h.Stats().Computed
	for _, c := range []auth.Credentials{
		f.creds(a.Identifier, pass, f.code(secret)),
		f.creds(a.Identifier, "wrong password", f.code(secret)),
		f.creds("nobody@example.be", pass, "123456"),
	} {
		if _, err := f.svc.Login(context.Background(), c); !errors.Is(err, auth.ErrBusy) {
			t.Errorf("Login(%s) = %v, want ErrBusy", c.Identifier, err)
		}
		if _, err := f.svc.LoginAny(context.Background(), c, []account.Type{account.Client, account.Tiers}); !errors.Is(err, auth.ErrBusy) {
			t.Errorf("LoginAny(%s) = %v, want ErrBusy", c.Identifier, err)
		}
	}
	if got := h.Stats(); got.Computed != computed || got.Shed != 6 {
		t.Errorf("Stats = %+v, want nothing computed and 6 shed", got)
	}
	if n := len(f.audit()); n != auditBefore {
		t.Errorf("%d audit lines written for refused logins", n-auditBefore)
	}
	if got, _ := f.db.GetAccount(context.Background(), a.ID); got.FailedAttempts != 0 {
		t.Errorf("%d failed attempts counted, want 0", got.FailedAttempts)
	}
	done()
	if _, err := f.svc.Login(context.Background(), f.creds(a.Identifier, pass, f.code(secret))); err != nil {
		t.Errorf("Login once the queue is empty: %v", err)
	}
}

// When the turn does not come within the bound after all (the estimate had
// nothing to go on), the attempt reserved meanwhile is given back.
func TestLoginGivesItsAttemptBackWhenTheTurnComesTooLate(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	a := f.account("marie@example.be", i18n.FR)
	secret := f.enrol(a)
	// A hasher that has computed nothing yet (no average to judge by), whose
	// only turn is taken by a slow hash (its own parameters: 64 MiB, 3
	// passes, a few hundred milliseconds), and that waits at most 1 ms.
	slow := passhash.Params{Memory: 64 << 10, Time: 3, Threads: 1, SaltLen: 16, KeyLen: 32}
	h := passhash.NewWith(slow, passhash.Options{Concurrent: 1, MaxWait: time.Millisecond})
	f.svc.Hasher = h
	blocker := make(chan struct{})
	go func() { h.Hash(context.Background(), "x"); close(blocker) }()
	for h.Stats().Running == 0 {
		time.Sleep(100 * time.Microsecond)
	}
	_, err := f.svc.Login(context.Background(), f.creds(a.Identifier, pass, f.code(secret)))
	<-blocker
	if !errors.Is(err, auth.ErrBusy) {
		t.Fatalf("Login = %v, want ErrBusy", err)
	}
	if got, _ := f.db.GetAccount(context.Background(), a.ID); got.FailedAttempts != 0 || !got.LockedUntil.IsZero() {
		t.Errorf("after the refusal: %d failed attempts, locked until %v; want none", got.FailedAttempts, got.LockedUntil)
	}
	f.svc.Hasher = passhash.New(passhash.TestParams(), 1)
	if _, err := f.svc.Login(context.Background(), f.creds(a.Identifier, pass, f.code(secret))); err != nil {
		t.Errorf("Login afterwards: %v", err)
	}
}
