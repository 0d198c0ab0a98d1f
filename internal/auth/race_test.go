package auth_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"sesame/internal/account"
	"sesame/internal/auth"
	"sesame/internal/authtest"
	"sesame/internal/enrol"
	"sesame/internal/i18n"
	"sesame/internal/store"
	"sesame/internal/store/storetest"
)

// The attempt budgets under simultaneous requests: every test releases its
// requests together from a barrier, across two service instances on one
// database (SQLite, and PostgreSQL when SESAME_TEST_POSTGRES is set), and
// counts in the audit log how many attempts were really evaluated.

// budget is the account's: failures 1–4 are free, the 5th locks.
const budget = 5

type twins struct {
	t     *testing.T
	svcs  []*auth.Service
	db    store.Store
	clock *authtest.Clock
}

func forEachBackend(t *testing.T, fn func(t *testing.T, w *twins)) {
	t.Parallel()
	for _, backend := range authtest.Backends(t) {
		t.Run(backend, func(t *testing.T) {
			clk := authtest.NewClock(authtest.Start)
			envs := authtest.Instances(t, clk, backend, 2)
			fn(t, &twins{t: t, svcs: []*auth.Service{envs[0].Auth, envs[1].Auth}, db: envs[0].DB, clock: clk})
		})
	}
}

// svc returns the instance request i goes to.
func (w *twins) svc(i int) *auth.Service { return w.svcs[i%len(w.svcs)] }

func (w *twins) account(identifier string) account.Account {
	w.t.Helper()
	h, err := w.svcs[0].Hasher.Hash(context.Background(), pass)
	if err != nil {
		w.t.Fatal(err)
	}
	a := account.Account{Type: account.Client, Identifier: identifier, Name: "Marie Peeters", Lang: i18n.FR, PasswordHash: h, Created: w.clock.Now()}
	if err := w.db.CreateAccount(context.Background(), &a); err != nil {
		w.t.Fatal(err)
	}
	return a
}

// enrolled links an authenticator through the wizard and returns its secret.
func (w *twins) enrolled(a account.Account) []byte {
	w.t.Helper()
	ctx := context.Background()
	svc := w.svcs[0]
	token, err := svc.StartEnrolment(ctx, creds(a.Identifier, pass, ""))
	if err != nil {
		w.t.Fatal(err)
	}
	if e, _ := svc.Enrolment(ctx, token); e.Account.HasQuestion() {
		err = svc.AnswerQuestion(ctx, token, "Minou", addr)
	} else {
		err = svc.ChooseQuestion(ctx, token, "first_pet", "", "Minou", addr)
	}
	if err != nil {
		w.t.Fatal(err)
	}
	e, err := svc.Enrolment(ctx, token)
	if err != nil {
		w.t.Fatal(err)
	}
	if _, err := svc.ConfirmCode(ctx, token, svc.TOTP.Code(e.Secret, w.clock.Now()), addr); err != nil {
		w.t.Fatal(err)
	}
	w.clock.Add(30 * time.Second)
	return e.Secret
}

// evaluated counts the audit lines of action whose detail is one of details.
func (w *twins) evaluated(action string, details ...string) int {
	w.t.Helper()
	events, err := w.db.ListAudit(context.Background(), store.AuditFilter{Limit: 1000})
	if err != nil {
		w.t.Fatal(err)
	}
	n := 0
	for _, e := range events {
		for _, d := range details {
			if e.Action == action && e.Detail == d {
				n++
			}
		}
	}
	return n
}

func (w *twins) get(id int64) account.Account {
	w.t.Helper()
	a, err := w.db.GetAccount(context.Background(), id)
	if err != nil {
		w.t.Fatal(err)
	}
	return a
}

func creds(identifier, password, code string) auth.Credentials {
	return auth.Credentials{Type: account.Client, Identifier: identifier, Password: password, Code: code, Addr: addr}
}

// expect fails the test on an error outside want: a race must map to an
// outcome a person understands, never to a store error.
func expect(t *testing.T, err error, want ...error) {
	t.Helper()
	if err == nil {
		return
	}
	for _, w := range want {
		if errors.Is(err, w) {
			return
		}
	}
	var wrong *auth.WrongCodeError
	if errors.As(err, &wrong) {
		for _, w := range want {
			if errors.As(w, &wrong) {
				return
			}
		}
	}
	t.Errorf("unexpected outcome: %v", err)
}

func TestBurstOfWrongPasswords(t *testing.T) {
	forEachBackend(t, func(t *testing.T, w *twins) {
		a := w.account("burst@example.be")
		storetest.Burst(40, func(i int) {
			_, err := w.svc(i).Login(context.Background(), creds(a.Identifier, "wrong password!", "123456"))
			expect(t, err, auth.ErrCredentials)
		})
		if n := w.evaluated(auth.ActionLogin, "wrong password"); n != budget {
			t.Errorf("%d of 40 simultaneous wrong passwords evaluated, want exactly %d", n, budget)
		}
		if got := w.get(a.ID); got.FailedAttempts != budget || !got.Locked(w.clock.Now()) {
			t.Errorf("after the burst: %d failures, locked until %v", got.FailedAttempts, got.LockedUntil)
		}
	})
}

func TestBurstOfWrongCodesThenTheRightOne(t *testing.T) {
	forEachBackend(t, func(t *testing.T, w *twins) {
		ctx := context.Background()
		a := w.account("codes@example.be")
		secret := w.enrolled(a)
		right := w.svcs[0].TOTP.Code(secret, w.clock.Now())
		wrong := fmt.Sprintf("%06d", (atoi(right)+500000)%1000000)
		storetest.Burst(41, func(i int) {
			code := wrong
			if i == 40 {
				// The right code, sent in the same burst once the budget is spent.
				for acc := w.get(a.ID); !acc.Locked(w.clock.Now()); acc = w.get(a.ID) {
					time.Sleep(time.Millisecond)
				}
				code = right
			}
			_, err := w.svc(i).Login(ctx, creds(a.Identifier, pass, code))
			if i == 40 && !errors.Is(err, auth.ErrCredentials) {
				t.Errorf("the right code after the budget was spent: %v, want ErrCredentials", err)
			}
			expect(t, err, auth.ErrCredentials)
		})
		if n := w.evaluated(auth.ActionLogin, "wrong or reused code"); n != budget {
			t.Errorf("%d of 40 simultaneous wrong codes evaluated, want exactly %d", n, budget)
		}
		if n := w.evaluated(auth.ActionLogin, ""); n != 0 {
			t.Errorf("%d logins succeeded", n)
		}
	})
}

// TestWizardTakeover is the attack that linked an attacker's authenticator
// with the password alone: many wizards opened at once, then many answers —
// the right one among them — at once.
func TestWizardTakeover(t *testing.T) {
	forEachBackend(t, func(t *testing.T, w *twins) {
		ctx := context.Background()
		a := w.account("takeover@example.be")
		// The account had a question; an administrator reset its authenticator.
		h, _ := w.svcs[0].Hasher.Hash(ctx, "Minou")
		if _, err := w.db.UpdateAccount(ctx, a.ID, func(a *account.Account) error {
			a.QuestionKey, a.AnswerHash = "first_pet", h
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		// The password is a factor too: of 41 simultaneous starts, those past
		// the account's budget in flight are refused like a wrong password.
		tokens := make([]string, 41)
		storetest.Burst(len(tokens), func(i int) {
			var err error
			tokens[i], err = w.svc(i).StartEnrolment(ctx, creds(a.Identifier, pass, ""))
			expect(t, err, auth.ErrCredentials)
		})
		open := 0
		for _, tok := range tokens {
			if _, err := w.svcs[0].Enrolment(ctx, tok); err == nil {
				open++
			}
		}
		if open != 1 {
			t.Fatalf("%d wizards open for one account, want 1", open)
		}
		var passed atomic.Int32
		storetest.Burst(len(tokens), func(i int) {
			answer := fmt.Sprintf("guess %d", i)
			if i == len(tokens)-1 {
				answer = "Minou"
			}
			err := w.svc(i).AnswerQuestion(ctx, tokens[i], answer, addr)
			if err == nil {
				passed.Add(1)
			}
			expect(t, err, auth.ErrWrongAnswer, auth.ErrFlowExpired, auth.ErrCredentials)
		})
		wrongs := w.evaluated(auth.ActionQuestionAnswer, "wrong answer")
		if wrongs+int(passed.Load()) > budget {
			t.Errorf("%d answers evaluated, want at most %d", wrongs+int(passed.Load()), budget)
		}
		if passed.Load() > 0 && tokens[len(tokens)-1] == "" {
			t.Error("an answer passed on a wizard that was not opened")
		}
	})
}

func TestBurstOfWrongAnswersOnOneWizard(t *testing.T) {
	forEachBackend(t, func(t *testing.T, w *twins) {
		ctx := context.Background()
		a := w.account("answers@example.be")
		w.enrolled(a) // sets the question "Minou"
		if _, err := w.db.UpdateAccount(ctx, a.ID, func(*account.Account) error { return nil }); err != nil {
			t.Fatal(err)
		}
		if err := w.db.UnlinkAuthenticator(ctx, a.ID); err != nil {
			t.Fatal(err)
		}
		token, err := w.svcs[0].StartEnrolment(ctx, creds(a.Identifier, pass, ""))
		if err != nil {
			t.Fatal(err)
		}
		storetest.Burst(40, func(i int) {
			err := w.svc(i).AnswerQuestion(ctx, token, fmt.Sprintf("guess %d", i), addr)
			expect(t, err, auth.ErrWrongAnswer, auth.ErrFlowExpired, auth.ErrCredentials)
		})
		if n := w.evaluated(auth.ActionQuestionAnswer, "wrong answer"); n != budget {
			t.Errorf("%d of 40 simultaneous wrong answers evaluated, want exactly %d", n, budget)
		}
	})
}

func TestBurstOfWizardCodes(t *testing.T) {
	forEachBackend(t, func(t *testing.T, w *twins) {
		ctx := context.Background()
		a := w.account("wizardcodes@example.be")
		token, err := w.svcs[0].StartEnrolment(ctx, creds(a.Identifier, pass, ""))
		if err != nil {
			t.Fatal(err)
		}
		if err := w.svcs[0].ChooseQuestion(ctx, token, "first_pet", "", "Minou", addr); err != nil {
			t.Fatal(err)
		}
		var wrongOrCancelled atomic.Int32
		storetest.Burst(30, func(i int) {
			_, err := w.svc(i).ConfirmCode(ctx, token, "000000", addr)
			var wrong *auth.WrongCodeError
			if errors.As(err, &wrong) || errors.Is(err, auth.ErrEnrolmentCancelled) {
				wrongOrCancelled.Add(1)
			}
			expect(t, err, &auth.WrongCodeError{}, auth.ErrEnrolmentCancelled, auth.ErrFlowExpired)
		})
		if n := wrongOrCancelled.Load(); n != enrol.MaxCodeTries {
			t.Errorf("%d of 30 simultaneous codes evaluated by one wizard, want %d", n, enrol.MaxCodeTries)
		}
		if _, err := w.svcs[0].Enrolment(ctx, token); !errors.Is(err, auth.ErrFlowExpired) {
			t.Errorf("the wizard after its tries: %v, want ErrFlowExpired", err)
		}
	})
}

func TestBurstFromOneAddress(t *testing.T) {
	forEachBackend(t, func(t *testing.T, w *twins) {
		for _, s := range w.svcs {
			s.AddressLimit = account.AddressLimit{Failures: 10, Window: 15 * time.Minute}
		}
		storetest.Burst(40, func(i int) {
			_, err := w.svc(i).Login(context.Background(), creds(fmt.Sprintf("nobody%d@example.be", i), pass, "123456"))
			expect(t, err, auth.ErrCredentials, auth.ErrAddressThrottled)
		})
		if n := w.evaluated(auth.ActionLogin, "unknown account"); n != 10 {
			t.Errorf("%d of 40 simultaneous attempts from one address evaluated, want exactly 10", n)
		}
	})
}

// TestFlowsRacingOnOneAccount runs the flows that change an account at the
// same moment: every outcome is one a person is shown, never a store error.
func TestFlowsRacingOnOneAccount(t *testing.T) {
	forEachBackend(t, func(t *testing.T, w *twins) {
		ctx := context.Background()
		a := w.account("racing@example.be")
		secret := w.enrolled(a)
		pw := &auth.Passwords{Service: w.svcs[1]}
		code := func() string { return w.svcs[0].TOTP.Code(secret, w.clock.Now()) }
		for round := range 3 {
			c := code()
			storetest.Burst(8, func(i int) {
				switch i % 4 {
				case 0:
					_, err := w.svc(i).ResetTOTP(ctx, creds(a.Identifier, pass, c))
					expect(t, err, auth.ErrCredentials, auth.ErrNotEnrolled)
				case 1:
					err := pw.ChangePassword(ctx, auth.ChangePassword{Credentials: creds(a.Identifier, pass, c),
						New: "a brand new passphrase", Confirm: "a brand new passphrase"})
					expect(t, err, auth.ErrCredentials, auth.ErrNotEnrolled)
				case 2:
					_, err := w.svc(i).Login(ctx, creds(a.Identifier, pass, c))
					expect(t, err, auth.ErrCredentials, auth.ErrNotEnrolled)
				case 3:
					tok, err := w.svc(i).StartEnrolment(ctx, creds(a.Identifier, pass, ""))
					expect(t, err, auth.ErrCredentials, auth.ErrAlreadyEnrolled)
					if err == nil {
						err = w.svc(i).AnswerQuestion(ctx, tok, "Minou", addr)
						expect(t, err, auth.ErrFlowExpired, auth.ErrWrongAnswer, auth.ErrCredentials)
					}
				}
			})
			// Put the account back: the original password, unlocked, an authenticator.
			h, _ := w.svcs[0].Hasher.Hash(ctx, pass)
			if _, err := w.db.UpdateAccount(ctx, a.ID, func(a *account.Account) error {
				a.PasswordHash, a.FailedAttempts, a.LockedUntil = h, 0, time.Time{}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			if _, err := w.db.GetAuthenticator(ctx, a.ID); errors.Is(err, store.ErrNotFound) {
				secret = w.enrolled(a)
			}
			w.clock.Add(time.Duration(round+1) * 30 * time.Second)
		}
	})
}

func atoi(s string) int {
	n := 0
	for _, r := range strings.TrimSpace(s) {
		n = n*10 + int(r-'0')
	}
	return n
}
