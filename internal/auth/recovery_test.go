package auth_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"sesame/internal/auth"
	"sesame/internal/enrol"
	"sesame/internal/i18n"
	"sesame/internal/recovery"
	"sesame/internal/store"
)

// enrolWithCodes links an authenticator and returns its secret and the
// recovery codes the success page would show.
func (f *fixture) enrolWithCodes(identifier string) ([]byte, []string) {
	f.t.Helper()
	ctx := context.Background()
	a := f.account(identifier, i18n.FR)
	token, secret := f.toCode(a)
	if _, err := f.svc.ConfirmCode(ctx, token, f.code(secret), addr); err != nil {
		f.t.Fatal(err)
	}
	codes, got, err := f.svc.RevealRecoveryCodes(ctx, token)
	if err != nil || got.ID != a.ID {
		f.t.Fatalf("RevealRecoveryCodes = %v, account %d", err, got.ID)
	}
	f.clock.Add(30 * time.Second) // the enrolment consumed this step's code
	return secret, codes
}

func TestRecoveryCodesMadeAtLinkingShownOnce(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	a := f.account("marie@example.be", i18n.FR)
	token, secret := f.toCode(a)
	if _, _, err := f.svc.RevealRecoveryCodes(ctx, token); !errors.Is(err, auth.ErrFlowExpired) {
		t.Errorf("codes before linking: %v, want ErrFlowExpired", err)
	}
	if _, err := f.svc.ConfirmCode(ctx, token, f.code(secret), addr); err != nil {
		t.Fatal(err)
	}
	// The wizard is over: its token opens no step.
	if err := f.svc.AnswerQuestion(ctx, token, "Minou", addr); err == nil {
		t.Error("the linked wizard's token answered a question")
	}
	if _, err := f.svc.ConfirmCode(ctx, token, f.code(secret), addr); err == nil {
		t.Error("the linked wizard's token confirmed a code")
	}
	codes, _, err := f.svc.RevealRecoveryCodes(ctx, token)
	if err != nil || len(codes) != recovery.Count {
		t.Fatalf("RevealRecoveryCodes = %d codes, %v", len(codes), err)
	}
	if _, _, err := f.svc.RevealRecoveryCodes(ctx, token); !errors.Is(err, auth.ErrFlowExpired) {
		t.Errorf("codes shown twice: %v", err)
	}
	if n, err := codesLeft(f, a.ID); err != nil || n != recovery.Count {
		t.Errorf("%d codes left, %v; want %d", n, err, recovery.Count)
	}
	stored, _ := f.db.UnusedRecoveryCodes(ctx, a.ID)
	for _, c := range codes {
		if recovery.Match(stored, recovery.Hash(a.ID, c)) == nil {
			t.Errorf("code %s not stored as its hash", c)
		}
	}
}

func TestRecoveryCodesDieWithTheAuthenticator(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	secret, _ := f.enrolWithCodes("marie@example.be")
	a, _ := f.db.FindAccount(ctx, "client", "marie@example.be")
	if _, err := f.svc.ResetTOTP(ctx, f.creds(a.Identifier, pass, f.code(secret))); err != nil {
		t.Fatal(err)
	}
	if n, _ := codesLeft(f, a.ID); n != 0 {
		t.Errorf("%d recovery codes outlive the reset", n)
	}
}

func TestNewRecoveryCodes(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	secret, old := f.enrolWithCodes("marie@example.be")
	a, _ := f.db.FindAccount(ctx, "client", "marie@example.be")
	token, err := f.svc.StartSession(ctx, a, []string{"pwd", "otp"}, addr, "")
	if err != nil {
		t.Fatal(err)
	}
	hash := auth.HashToken(token)
	if _, err := f.svc.NewRecoveryCodes(ctx, a.ID, hash, f.wrong(secret), addr); !errors.Is(err, auth.ErrCredentials) {
		t.Errorf("a wrong code: %v, want ErrCredentials", err)
	}
	if got, _ := f.db.GetAccount(ctx, a.ID); got.FailedAttempts != 1 {
		t.Errorf("the wrong code left %d failures, want 1", got.FailedAttempts)
	}
	fresh, err := f.svc.NewRecoveryCodes(ctx, a.ID, hash, f.code(secret), addr)
	if err != nil || len(fresh) != recovery.Count {
		t.Fatalf("NewRecoveryCodes = %d, %v", len(fresh), err)
	}
	stored, _ := f.db.UnusedRecoveryCodes(ctx, a.ID)
	if recovery.Match(stored, recovery.Hash(a.ID, old[0])) != nil {
		t.Error("the old set still works")
	}
	if recovery.Match(stored, recovery.Hash(a.ID, fresh[0])) == nil {
		t.Error("the new set is not stored")
	}
	if got, _ := f.db.GetAccount(ctx, a.ID); got.FailedAttempts != 0 {
		t.Errorf("the right code left %d failures", got.FailedAttempts)
	}
	if _, err := f.svc.NewRecoveryCodes(ctx, a.ID, hash, f.code(secret), addr); !errors.Is(err, auth.ErrCredentials) {
		t.Errorf("a replayed code: %v, want ErrCredentials", err)
	}
}

func TestRecoverWithCode(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	_, codes := f.enrolWithCodes("marie@example.be")
	a, _ := f.db.FindAccount(ctx, "client", "marie@example.be")
	session, _ := f.svc.StartSession(ctx, a, []string{"pwd", "otp"}, addr, "")
	f.mails() // the linking notice

	// A wrong code, and a right code with a wrong password: failures, nothing unlinked.
	if _, _, err := f.svc.RecoverWithCode(ctx, f.creds(a.Identifier, pass, "AAAA-AAAA-AAAA-AAAA")); !errors.Is(err, auth.ErrCredentials) {
		t.Errorf("a wrong code: %v, want ErrCredentials", err)
	}
	if _, _, err := f.svc.RecoverWithCode(ctx, f.creds(a.Identifier, "wrong password", codes[0])); !errors.Is(err, auth.ErrCredentials) {
		t.Errorf("a wrong password: %v, want ErrCredentials", err)
	}
	if _, _, err := f.svc.RecoverWithCode(ctx, f.creds(a.Identifier, pass, "not a code")); !errors.Is(err, auth.ErrCredentials) {
		t.Errorf("a malformed code: %v, want ErrCredentials", err)
	}
	if got, _ := f.db.GetAccount(ctx, a.ID); got.FailedAttempts != 3 {
		t.Errorf("%d failures counted, want 3", got.FailedAttempts)
	}
	if n, _ := codesLeft(f, a.ID); n != 10 {
		t.Errorf("failures spent codes: %d left", n)
	}

	// The right one, typed sloppily.
	typed := strings.ToLower(strings.ReplaceAll(codes[3], "-", " "))
	token, got, err := f.svc.RecoverWithCode(ctx, auth.Credentials{Type: "client", Identifier: a.Identifier, Password: pass, Code: typed, Addr: "2001:db8::7"})
	if err != nil || got.ID != a.ID {
		t.Fatalf("RecoverWithCode = %v, %d", err, got.ID)
	}
	if _, err := f.db.GetAuthenticator(ctx, a.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the authenticator is still linked: %v", err)
	}
	if n, _ := codesLeft(f, a.ID); n != 0 {
		t.Errorf("%d codes left after the reset", n)
	}
	if _, _, err := f.svc.Session(ctx, auth.DefaultSessionPolicy(), session); !errors.Is(err, auth.ErrNoSession) {
		t.Errorf("a session outlived the reset: %v", err)
	}
	if got, _ := f.db.GetAccount(ctx, a.ID); got.FailedAttempts != 0 {
		t.Errorf("%d failures after the success", got.FailedAttempts)
	}
	// The wizard is open at the question, for this account.
	e, err := f.svc.Enrolment(ctx, token)
	if err != nil || e.State != enrol.Question || e.Account.ID != a.ID {
		t.Fatalf("the wizard after the reset: %+v, %v", e, err)
	}
	mails := f.mails()
	if len(mails) != 1 || mails[0].Kind != "authenticator_recovered" || !strings.Contains(mails[0].Text, "2001:db8::7") {
		t.Fatalf("mails = %+v", mails)
	}
	var detail string
	for _, ev := range f.audit() {
		if ev.Action == auth.ActionTOTPReset && ev.Outcome == auth.OutcomeSuccess {
			detail = ev.Detail
		}
	}
	if detail != "self-service, with a recovery code" {
		t.Errorf("audit detail %q", detail)
	}
	// No code works any more, and nothing is left to unlink.
	if _, _, err := f.svc.RecoverWithCode(ctx, f.creds(a.Identifier, pass, codes[4])); !errors.Is(err, auth.ErrNotEnrolled) {
		t.Errorf("another code after the reset: %v, want ErrNotEnrolled", err)
	}
	// The wizard goes on as usual: the account's question, then a new code and new recovery codes.
	if err := f.svc.AnswerQuestion(ctx, token, "Minou", addr); err != nil {
		t.Fatal(err)
	}
	e, _ = f.svc.Enrolment(ctx, token)
	if _, err := f.svc.ConfirmCode(ctx, token, f.code(e.Secret), addr); err != nil {
		t.Fatal(err)
	}
	fresh, _, err := f.svc.RevealRecoveryCodes(ctx, token)
	if err != nil || len(fresh) != 10 {
		t.Fatalf("new codes: %d, %v", len(fresh), err)
	}
}

func TestRecoveryCodeIsNotALogin(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	_, codes := f.enrolWithCodes("marie@example.be")
	a, _ := f.db.FindAccount(ctx, "client", "marie@example.be")
	if _, err := f.svc.Login(ctx, f.creds(a.Identifier, pass, codes[0])); !errors.Is(err, auth.ErrCredentials) {
		t.Errorf("a recovery code at login: %v, want ErrCredentials", err)
	}
	if n, _ := codesLeft(f, a.ID); n != 10 {
		t.Errorf("the login spent a code: %d left", n)
	}
}

// codesLeft counts the account's unused recovery codes.
func codesLeft(f *fixture, accountID int64) (int, error) {
	list, err := f.db.UnusedRecoveryCodes(context.Background(), accountID)
	return len(list), err
}
