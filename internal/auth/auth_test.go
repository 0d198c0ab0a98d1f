package auth_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"sesame/internal/account"
	"sesame/internal/auth"
	"sesame/internal/authtest"
	"sesame/internal/enrol"
	"sesame/internal/i18n"
	"sesame/internal/mail"
	"sesame/internal/store"
	"sesame/internal/store/sqldb"
	"sesame/internal/totp"
)

// The service against a real SQLite store: the store is its own fake.

type fixture struct {
	t     *testing.T
	env   *authtest.Env
	svc   *auth.Service
	db    *sqldb.DB
	clock *authtest.Clock
}

const (
	pass = "correct horse battery"
	addr = "192.0.2.7"
)

func newFixture(t *testing.T) *fixture {
	t.Helper()
	clk := authtest.NewClock(authtest.Start)
	env := authtest.New(t, clk)
	return &fixture{t: t, env: env, svc: env.Auth, db: env.DB, clock: clk}
}

func (f *fixture) account(identifier string, lang i18n.Lang) account.Account {
	f.t.Helper()
	return f.env.CreateAccount(f.t, account.Account{Type: account.Client, Identifier: identifier, Name: "Marie Peeters", Lang: lang}, pass)
}

func (f *fixture) creds(identifier, password, code string) auth.Credentials {
	return auth.Credentials{Type: account.Client, Identifier: identifier, Password: password, Code: code, Addr: addr}
}

// toCode runs steps 1 and 2 of the wizard and returns its token and secret.
func (f *fixture) toCode(a account.Account) (string, []byte) {
	f.t.Helper()
	ctx := context.Background()
	token, err := f.svc.StartEnrolment(ctx, f.creds(a.Identifier, pass, ""))
	if err != nil {
		f.t.Fatal(err)
	}
	if err := f.svc.ChooseQuestion(ctx, token, "first_pet", "", "Minou", addr); err != nil {
		f.t.Fatal(err)
	}
	e, err := f.svc.Enrolment(ctx, token)
	if err != nil || e.State != enrol.Code {
		f.t.Fatalf("after step 2: %+v, %v", e, err)
	}
	return token, e.Secret
}

// enrol links an authenticator and moves the clock past the step it used.
func (f *fixture) enrol(a account.Account) []byte {
	f.t.Helper()
	token, secret := f.toCode(a)
	if _, err := f.svc.ConfirmCode(context.Background(), token, f.code(secret), addr); err != nil {
		f.t.Fatal(err)
	}
	f.clock.Add(30 * time.Second)
	return secret
}

func (f *fixture) code(secret []byte) string { return f.svc.TOTP.Code(secret, f.clock.Now()) }

func (f *fixture) audit() []store.AuditEvent {
	f.t.Helper()
	evs, err := f.db.ListAudit(context.Background(), store.AuditFilter{})
	if err != nil {
		f.t.Fatal(err)
	}
	for i, j := 0, len(evs)-1; i < j; i, j = i+1, j-1 { // oldest first
		evs[i], evs[j] = evs[j], evs[i]
	}
	return evs
}

func (f *fixture) mails() []mail.Queued {
	f.t.Helper()
	q, err := f.db.ClaimMail(context.Background(), f.clock.Now(), time.Minute, 100)
	if err != nil {
		f.t.Fatal(err)
	}
	return q
}

// wrong returns a code the secret does not give near now.
func (f *fixture) wrong(secret []byte) string {
	for _, c := range []string{"000000", "111111", "222222", "333333"} {
		if _, ok := f.svc.TOTP.Verify(secret, c, f.clock.Now()); !ok {
			return c
		}
	}
	panic("unreachable")
}

func TestLoginAudit(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	a := f.account("marie@example.be", i18n.FR)
	secret := f.enrol(a)
	ctx := context.Background()
	tests := []struct {
		name              string
		identifier, pass  string
		code              func() string
		wantErr           error
		wantOutcome       string
		wantSubjectID     int64
		wantDetailContain string
	}{
		{"success", a.Identifier, pass, func() string { return f.code(secret) }, nil, auth.OutcomeSuccess, a.ID, ""},
		{"wrong password", a.Identifier, "not the password", func() string { return f.code(secret) }, auth.ErrCredentials, auth.OutcomeFailure, a.ID, "wrong password"},
		{"wrong code", a.Identifier, pass, func() string { return f.wrong(secret) }, auth.ErrCredentials, auth.OutcomeFailure, a.ID, "code"},
		{"unknown account", "nobody@example.be", pass, func() string { return "123456" }, auth.ErrCredentials, auth.OutcomeFailure, 0, "unknown account"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f.clock.Add(time.Minute)
			before := len(f.audit())
			_, err := f.svc.Login(ctx, f.creds(tt.identifier, tt.pass, tt.code()))
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Login: %v, want %v", err, tt.wantErr)
			}
			evs := f.audit()[before:]
			if len(evs) != 1 {
				t.Fatalf("%d audit events, want 1: %+v", len(evs), evs)
			}
			ev := evs[0]
			if ev.Action != auth.ActionLogin || ev.Outcome != tt.wantOutcome || ev.SubjectID != tt.wantSubjectID ||
				ev.Subject != tt.identifier || ev.Addr != addr || !ev.Time.Equal(f.clock.Now()) || !strings.Contains(ev.Detail, tt.wantDetailContain) {
				t.Errorf("audit event %+v", ev)
			}
		})
	}

	t.Run("lockout", func(t *testing.T) {
		f.clock.Add(time.Minute)
		before := len(f.audit())
		// FreeFailures are free; the next one locks; attempts while locked do
		// not lock again.
		for range f.svc.Throttle.FreeFailures + 3 {
			if _, err := f.svc.Login(ctx, f.creds(a.Identifier, pass, f.wrong(secret))); !errors.Is(err, auth.ErrCredentials) {
				t.Fatal(err)
			}
		}
		var lockouts, failures int
		for _, ev := range f.audit()[before:] {
			switch {
			case ev.Action == auth.ActionLockout && ev.Outcome == auth.OutcomeSuccess && ev.SubjectID == a.ID:
				lockouts++
			case ev.Action == auth.ActionLogin && ev.Outcome == auth.OutcomeFailure:
				failures++
			}
		}
		if lockouts != 1 || failures != f.svc.Throttle.FreeFailures+3 {
			t.Errorf("%d lockout and %d failure events, want 1 and %d", lockouts, failures, f.svc.Throttle.FreeFailures+3)
		}
		if _, err := f.svc.Login(ctx, f.creds(a.Identifier, pass, f.code(secret))); !errors.Is(err, auth.ErrCredentials) {
			t.Errorf("locked account logged in: %v", err)
		}
		last := f.audit()[len(f.audit())-1]
		if last.Detail != "locked" || last.Outcome != auth.OutcomeFailure {
			t.Errorf("login while locked audited as %+v", last)
		}
	})

	for _, ev := range f.audit() {
		if strings.Contains(ev.Detail+ev.Subject+ev.Actor, pass) || strings.Contains(ev.Detail, "Minou") {
			t.Errorf("a secret in the audit log: %+v", ev)
		}
	}
}

// The TOTP secret is stored sealed: neither the pending one nor the linked
// one appears in the database's files, raw or in base32.
func TestSecretStoredSealed(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	a := f.account("marie@example.be", i18n.FR)
	token, secret := f.toCode(a)
	forms := [][]byte{secret, []byte(totp.EncodeSecret(secret)), []byte(strings.ToLower(totp.EncodeSecret(secret)))}

	pending, err := f.db.GetEnrolment(ctx, auth.HashToken(token))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.ConfirmCode(ctx, token, f.code(secret), addr); err != nil {
		t.Fatal(err)
	}
	linked, err := f.db.GetAuthenticator(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	for name, stored := range map[string][]byte{"pending": pending.Secret, "linked": linked.Secret} {
		if len(stored) <= len(secret) {
			t.Errorf("%s secret stored in %d bytes: not sealed", name, len(stored))
		}
		for _, plain := range forms {
			if bytes.Contains(stored, plain) {
				t.Errorf("%s secret stored in the clear", name)
			}
		}
		if got, err := f.svc.Keys.Open(stored, []byte("sesame/totp/"+"999")); err == nil || bytes.Equal(got, secret) {
			t.Errorf("%s secret opens for another account", name)
		}
	}
	// The database files themselves (the WAL holds recent writes).
	files, _ := filepath.Glob(filepath.Join(f.env.Dir, "sesame.db*"))
	for _, name := range files {
		raw, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, plain := range forms {
			if bytes.Contains(raw, plain) {
				t.Errorf("%s holds the secret in the clear", filepath.Base(name))
			}
		}
	}
}

// Notification e-mails are written in the account's language, in the
// transaction of the change.
func TestNotificationMails(t *testing.T) {
	t.Parallel()
	for _, lang := range i18n.Supported {
		t.Run(string(lang), func(t *testing.T) {
			f := newFixture(t)
			ctx := context.Background()
			a := f.account("marie@example.be", lang)
			secret := f.enrol(a)
			linked := f.mails()
			if len(linked) != 1 || linked[0].Kind != "authenticator_linked" || linked[0].Lang != lang || linked[0].To.Email != a.Identifier {
				t.Fatalf("after enrolment the outbox holds %+v", linked)
			}
			if !strings.Contains(linked[0].Text, "Finagora") {
				t.Errorf("linked mail does not name the application:\n%s", linked[0].Text)
			}

			if _, err := f.svc.ResetTOTP(ctx, f.creds(a.Identifier, pass, f.code(secret))); err != nil {
				t.Fatal(err)
			}
			reset := f.mails()
			if len(reset) != 1 || reset[0].Kind != "authenticator_reset" || reset[0].Lang != lang || reset[0].To.Email != a.Identifier {
				t.Fatalf("after reset the outbox holds %+v", reset)
			}
			if reset[0].Subject == linked[0].Subject {
				t.Errorf("both mails have the subject %q", reset[0].Subject)
			}
		})
	}
	// The subjects really are translated.
	subjects := map[string]bool{}
	for _, lang := range i18n.Supported {
		f := newFixture(t)
		f.enrol(f.account("marie@example.be", lang))
		subjects[f.mails()[0].Subject] = true
	}
	if len(subjects) != len(i18n.Supported) {
		t.Errorf("linked mail subjects are not distinct per language: %v", subjects)
	}
}

var errBoom = errors.New("boom")

// faultyStore fails one kind of write inside transactions, to check that
// the whole transaction — the change and its audit line — rolls back.
type faultyStore struct {
	store.Store
	fail string // "mail", or "audit:<action>"
}

func (s faultyStore) InTx(ctx context.Context, fn func(tx store.Store) error) error {
	return s.Store.InTx(ctx, func(tx store.Store) error { return fn(faultyTx(faultyStore{tx, s.fail})) })
}

type faultyTx faultyStore

func (s faultyTx) InTx(ctx context.Context, fn func(tx store.Store) error) error { return fn(s) }

func (s faultyTx) EnqueueMail(ctx context.Context, m mail.Message, now time.Time) (int64, error) {
	if s.fail == "mail" {
		return 0, errBoom
	}
	return s.Store.EnqueueMail(ctx, m, now)
}

func (s faultyTx) AppendAudit(ctx context.Context, e store.AuditEvent) error {
	if s.fail == "audit:"+e.Action {
		return errBoom
	}
	return s.Store.AppendAudit(ctx, e)
}

func TestFailureInTransactionRollsBack(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	has := func(f *fixture, action, outcome string) bool {
		for _, ev := range f.audit() {
			if ev.Action == action && ev.Outcome == outcome {
				return true
			}
		}
		return false
	}

	t.Run("enrolment, mail fails", func(t *testing.T) {
		f := newFixture(t)
		a := f.account("marie@example.be", i18n.NL)
		token, secret := f.toCode(a)
		f.svc.Store = faultyStore{f.db, "mail"}
		if _, err := f.svc.ConfirmCode(ctx, token, f.code(secret), addr); !errors.Is(err, errBoom) {
			t.Fatalf("ConfirmCode: %v, want the store's error", err)
		}
		if _, err := f.db.GetAuthenticator(ctx, a.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("authenticator linked despite the failure: %v", err)
		}
		if has(f, auth.ActionTOTPLinked, auth.OutcomeSuccess) {
			t.Error("the audit line of the rolled-back link was kept")
		}
		if e, err := f.db.GetEnrolment(ctx, auth.HashToken(token)); err != nil || e.State != enrol.Code {
			t.Errorf("the wizard was lost: %+v, %v", e, err)
		}
		// Once the store works again the same code links it.
		f.svc.Store = f.db
		if _, err := f.svc.ConfirmCode(ctx, token, f.code(secret), addr); err != nil {
			t.Fatalf("retry: %v", err)
		}
	})

	t.Run("reset, audit fails", func(t *testing.T) {
		f := newFixture(t)
		a := f.account("marie@example.be", i18n.EN)
		secret := f.enrol(a)
		session, err := f.svc.StartSession(ctx, a, []string{"pwd", "otp"}, addr, "test")
		if err != nil {
			t.Fatal(err)
		}
		f.mails() // drain the linked notice
		f.svc.Store = faultyStore{f.db, "audit:" + auth.ActionTOTPReset}
		code := f.code(secret)
		if _, err := f.svc.ResetTOTP(ctx, f.creds(a.Identifier, pass, code)); !errors.Is(err, errBoom) {
			t.Fatalf("ResetTOTP: %v, want the store's error", err)
		}
		f.svc.Store = f.db
		if _, err := f.db.GetAuthenticator(ctx, a.ID); err != nil {
			t.Errorf("authenticator unlinked despite the failure: %v", err)
		}
		if _, err := f.db.GetSession(ctx, auth.HashToken(session)); err != nil {
			t.Errorf("sessions ended despite the failure: %v", err)
		}
		if m := f.mails(); len(m) != 0 {
			t.Errorf("notification queued for a rolled-back reset: %+v", m)
		}
		// The failed action did not burn the code.
		if _, err := f.svc.Login(ctx, f.creds(a.Identifier, pass, code)); err != nil {
			t.Errorf("the code of the rolled-back reset no longer works: %v", err)
		}
	})

	t.Run("login, audit fails", func(t *testing.T) {
		f := newFixture(t)
		a := f.account("marie@example.be", i18n.FR)
		secret := f.enrol(a)
		f.svc.Store = faultyStore{f.db, "audit:" + auth.ActionLogin}
		code := f.code(secret)
		if _, err := f.svc.Login(ctx, f.creds(a.Identifier, pass, code)); !errors.Is(err, errBoom) {
			t.Fatalf("Login: %v, want the store's error", err)
		}
		f.svc.Store = f.db
		if got, _ := f.db.GetAccount(ctx, a.ID); !got.LastLogin.IsZero() {
			t.Errorf("last login recorded for a rolled-back login: %v", got.LastLogin)
		}
		if _, err := f.svc.Login(ctx, f.creds(a.Identifier, pass, code)); err != nil {
			t.Errorf("the code of the rolled-back login no longer works: %v", err)
		}
	})
}

func TestAddressKey(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"192.0.2.7", "192.0.2.7"},
		{"::ffff:192.0.2.7", "192.0.2.7"}, // IPv4-mapped: the same client as plain IPv4
		{"2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"},
		{"2001:db8:1:2:ffff::1", "2001:db8:1:2::/64"}, // same /64, same key
		{"2001:DB8:1:3::1", "2001:db8:1:3::/64"},
		{"::1", "::/64"},
		{"fe80::1%eth0", "fe80::/64"},
		{"", "invalid"},
		{"192.0.2.7:443", "invalid"},
		{"not an address", "invalid"},
		{"999.1.1.1", "invalid"},
	}
	for _, tt := range tests {
		if got := auth.AddressKey(tt.in); got != tt.want {
			t.Errorf("AddressKey(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
