package auth_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"sesame/internal/auth"
	"sesame/internal/i18n"
	"sesame/internal/recovery"
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
	if n, err := f.svc.RecoveryCodesLeft(ctx, a.ID); err != nil || n != recovery.Count {
		t.Errorf("RecoveryCodesLeft = %d, %v", n, err)
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
	if n, _ := f.svc.RecoveryCodesLeft(ctx, a.ID); n != 0 {
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
