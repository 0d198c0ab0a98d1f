package auth_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"sesame/internal/account"
	"sesame/internal/auth"
	"sesame/internal/store/storetest"
)

// codes links an authenticator through the wizard and returns the recovery
// codes its success page shows.
func (w *twins) codes(a account.Account) []string {
	w.t.Helper()
	ctx := context.Background()
	svc := w.svcs[0]
	token, err := svc.StartEnrolment(ctx, creds(a.Identifier, pass, ""))
	if err != nil {
		w.t.Fatal(err)
	}
	if err := svc.ChooseQuestion(ctx, token, "first_pet", "", "Minou", addr); err != nil {
		w.t.Fatal(err)
	}
	e, err := svc.Enrolment(ctx, token)
	if err != nil {
		w.t.Fatal(err)
	}
	if _, err := svc.ConfirmCode(ctx, token, svc.TOTP.Code(e.Secret, w.clock.Now()), addr); err != nil {
		w.t.Fatal(err)
	}
	codes, _, err := svc.RevealRecoveryCodes(ctx, token)
	if err != nil {
		w.t.Fatal(err)
	}
	return codes
}

// TestRecoveryCodeUsedTwiceAtOnce: one code sent by two people at once, on
// two instances: one unlinks the authenticator and opens a wizard, the
// other is refused.
func TestRecoveryCodeUsedTwiceAtOnce(t *testing.T) {
	forEachBackend(t, func(t *testing.T, w *twins) {
		ctx := context.Background()
		for round := range 3 {
			a := w.account(fmt.Sprintf("twice%d@example.be", round))
			code := w.codes(a)[round]
			var won atomic.Int32
			storetest.Burst(2, func(i int) {
				_, _, err := w.svc(i).RecoverWithCode(ctx, creds(a.Identifier, pass, code))
				if err == nil {
					won.Add(1)
				}
				expect(t, err, auth.ErrCredentials, auth.ErrNotEnrolled)
			})
			if n := won.Load(); n != 1 {
				t.Errorf("round %d: %d of 2 simultaneous uses of one code succeeded, want 1", round, n)
			}
		}
	})
}

func TestBurstOfWrongRecoveryCodes(t *testing.T) {
	forEachBackend(t, func(t *testing.T, w *twins) {
		ctx := context.Background()
		a := w.account("wrongcodes@example.be")
		codes := w.codes(a)
		storetest.Burst(41, func(i int) {
			code := fmt.Sprintf("%04d-AAAA-BBBB-CCCC", i)
			if i == 40 {
				// A right code, sent once the budget is spent.
				for acc := w.get(a.ID); !acc.Locked(w.clock.Now()); acc = w.get(a.ID) {
					time.Sleep(time.Millisecond)
				}
				code = codes[0]
			}
			_, _, err := w.svc(i).RecoverWithCode(ctx, creds(a.Identifier, pass, code))
			if i == 40 && !errors.Is(err, auth.ErrCredentials) {
				t.Errorf("a right code after the budget was spent: %v, want ErrCredentials", err)
			}
			expect(t, err, auth.ErrCredentials)
		})
		if n := w.evaluated(auth.ActionTOTPReset, "wrong or used recovery code"); n != budget {
			t.Errorf("%d of 40 simultaneous wrong recovery codes evaluated, want exactly %d", n, budget)
		}
		if _, err := w.db.GetAuthenticator(ctx, a.ID); err != nil {
			t.Errorf("the authenticator was unlinked: %v", err)
		}
	})
}
