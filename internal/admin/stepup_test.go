package admin

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"sesame/internal/account"
	"sesame/internal/auth"
	"sesame/internal/i18n"
	"sesame/internal/store"
)

// TestConfirmCode: an administrator's own code, enrolled through package
// auth, opens sensitive actions for FreshFor; a code is accepted once; wrong
// codes count against the administrator's account like at login.
func TestConfirmCode(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	boss, err := f.svc.CreateAccount(ctx, Actor{Operator: "ops"}, NewAccount{Type: account.Tiers, Identifier: "boss@dupont.be",
		Name: "Boss", OfficeID: f.dupont.ID, Role: account.RoleOfficeAdmin, Lang: i18n.FR, Password: storyPassword})
	if err != nil {
		t.Fatal(err)
	}
	secret := enrolUser(t, f, f.auth, boss, "Rex")
	f.clock.Add(30 * time.Second)
	token, err := f.auth.StartSession(ctx, boss, []string{"pwd", "otp"}, "192.0.2.7", "test")
	if err != nil {
		t.Fatal(err)
	}
	hash := auth.HashToken(token)
	session := func() store.Session {
		ss, err := f.st.GetSession(ctx, hash)
		if err != nil {
			t.Fatal(err)
		}
		return ss
	}
	actor := Actor{Account: f.get2(boss.ID), Addr: "192.0.2.7"}

	if !f.svc.Fresh(session()) {
		t.Error("a session just logged in is not fresh")
	}
	f.clock.Add(FreshFor)
	if f.svc.Fresh(session()) {
		t.Errorf("a session %v after its last code is fresh", FreshFor)
	}
	code := f.auth.TOTP.Code(secret, f.clock.Now())
	if err := f.svc.ConfirmCode(ctx, actor, hash, code); err != nil {
		t.Fatalf("ConfirmCode: %v", err)
	}
	if !f.svc.Fresh(session()) {
		t.Error("not fresh after ConfirmCode")
	}
	if err := f.svc.ConfirmCode(ctx, actor, hash, code); !errors.Is(err, ErrWrongCode) {
		t.Errorf("the same code again: %v, want ErrWrongCode", err)
	}
	for _, bad := range []string{"000000", "", "12345", "abcdef", strings.Repeat("9", 100)} {
		if err := f.svc.ConfirmCode(ctx, actor, hash, bad); !errors.Is(err, ErrWrongCode) {
			t.Errorf("code %q: %v, want ErrWrongCode", bad, err)
		}
	}
	// One replay and five wrong codes: the administrator's account is
	// locked (the throttle's free failures are fewer than six).
	locked := f.get2(boss.ID)
	if !locked.Locked(f.clock.Now()) || locked.FailedAttempts == 0 {
		t.Errorf("after 6 failures: %d failures, locked %v", locked.FailedAttempts, locked.Locked(f.clock.Now()))
	}
	f.clock.Add(30 * time.Second)
	if err := f.svc.ConfirmCode(ctx, actor, hash, f.auth.TOTP.Code(secret, f.clock.Now())); !errors.Is(err, ErrWrongCode) {
		t.Errorf("a right code while locked: %v, want ErrWrongCode", err)
	}
	if got := f.get2(boss.ID); got.FailedAttempts != locked.FailedAttempts {
		t.Errorf("a try during the lock counted: %d failures", got.FailedAttempts)
	}
	if err := f.svc.ConfirmCode(ctx, Actor{Operator: "ops"}, hash, code); !errors.Is(err, ErrForbidden) {
		t.Errorf("the command line: %v, want ErrForbidden", err)
	}
	if err := f.svc.ConfirmCode(ctx, f.actor("jan"), hash, code); !errors.Is(err, ErrForbidden) {
		t.Errorf("a plain user: %v, want ErrForbidden", err)
	}
	var outcomes []string
	for _, e := range f.audit() {
		if e.Action == ActionCodeConfirm {
			outcomes = append(outcomes, e.Outcome)
		}
	}
	if got := strings.Join(outcomes, ","); got != "success,failure,failure,failure,failure,failure,failure,failure" {
		t.Errorf("code_confirm events: %s", got)
	}
}

func (f *fixture) get2(id int64) account.Account {
	f.t.Helper()
	a, err := f.st.GetAccount(context.Background(), id)
	if err != nil {
		f.t.Fatal(err)
	}
	return a
}

func TestSendPasswordReset(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if _, err := f.svc.Act(ctx, f.actor("marie"), SendPasswordReset, f.acc["jan"].ID); err != nil {
		t.Fatal(err)
	}
	mails := f.outbox()
	if len(mails) != 1 || mails[0].Kind != "password_reset" || mails[0].Lang != i18n.NL || !strings.Contains(mails[0].Text, "https://sesame.example/password/reset/") {
		t.Fatalf("outbox: %+v", mails)
	}
	var got []string
	for _, e := range f.audit() {
		got = append(got, e.Action+":"+e.Actor)
	}
	if want := "password_reset_request:,password_reset_send:marie@tiers.example"; strings.Join(got, ",") != want {
		t.Errorf("audit: %v, want %s", got, want)
	}

	if _, err := f.svc.Act(ctx, f.actor("sofie"), SendPasswordReset, f.acc["eva"].ID); !errors.Is(err, ErrInvalid) {
		t.Errorf("to a Group account: %v, want ErrInvalid", err)
	}
	f.prepare(f.acc["an"].ID, Enable) // disabled
	if _, err := f.svc.Act(ctx, f.actor("marie"), SendPasswordReset, f.acc["an"].ID); !errors.Is(err, ErrInvalid) {
		t.Errorf("to a disabled account: %v, want ErrInvalid", err)
	}
	svc := *f.svc
	svc.ResetLink = nil
	if _, err := svc.Act(ctx, f.actor("marie"), SendPasswordReset, f.acc["jan"].ID); !errors.Is(err, ErrInvalid) {
		t.Errorf("without reset links: %v, want ErrInvalid", err)
	}
	if v, _ := svc.Get(ctx, f.actor("marie"), f.acc["jan"].ID); v.Can(SendPasswordReset) {
		t.Error("the action is offered without reset links")
	}
	if v, _ := f.svc.Get(ctx, f.actor("marie"), f.acc["jan"].ID); !v.Can(SendPasswordReset) {
		t.Error("the action is not offered")
	}
	if n := len(f.outbox()); n != 0 {
		t.Errorf("%d more e-mails", n)
	}
}
