package auth

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"sesame/internal/account"
	"sesame/internal/i18n"
	"sesame/internal/mail"
	"sesame/internal/passhash"
	"sesame/internal/password"
	"sesame/internal/seal"
	"sesame/internal/store"
	"sesame/internal/store/sqldb"
	"sesame/internal/totp"
)

// pwEnv is the password flows on a real SQLite store in a temp folder, with
// a clock the test moves by hand.
type pwEnv struct {
	t   *testing.T
	dir string
	st  store.Store
	p   *Passwords
	mu  sync.Mutex
	now time.Time
}

const (
	pwOld  = "an old but long password"
	pwNew  = "Vlinder boven de Schelde 2026"
	pwAddr = "192.0.2.10"
)

func newPWEnv(t *testing.T) *pwEnv {
	t.Helper()
	dir := t.TempDir()
	st, err := sqldb.OpenSQLite(context.Background(), filepath.Join(dir, "sesame.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	key, _ := seal.NewKey()
	keys, err := seal.NewKeyring(key)
	if err != nil {
		t.Fatal(err)
	}
	renderer, err := mail.NewRenderer()
	if err != nil {
		t.Fatal(err)
	}
	e := &pwEnv{t: t, dir: dir, st: st, now: time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)}
	e.p = &Passwords{Service: &Service{Store: st, Hasher: passhash.New(passhash.TestParams(), 2), Keys: keys, TOTP: totp.Default(),
		Throttle: account.DefaultThrottle(), AddressLimit: account.DefaultAddressLimit(), Issuer: "Finagora",
		Now: e.clock, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Mail: renderer}}
	return e
}

func (e *pwEnv) clock() time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.now
}

func (e *pwEnv) advance(d time.Duration) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.now = e.now.Add(d)
}

// account creates an account with password pwOld and, when linked, an
// authenticator whose secret it returns.
func (e *pwEnv) account(typ account.Type, id string, linked bool) (account.Account, []byte) {
	e.t.Helper()
	ctx := context.Background()
	h, err := e.p.Hasher.Hash(ctx, pwOld)
	if err != nil {
		e.t.Fatal(err)
	}
	a := account.Account{Type: typ, Identifier: id, Name: "Jan Peeters", Lang: i18n.NL, PasswordHash: h, Created: e.clock()}
	if err := e.st.CreateAccount(ctx, &a); err != nil {
		e.t.Fatal(err)
	}
	if !linked {
		return a, nil
	}
	secret, _ := totp.GenerateSecret()
	sealed, err := e.p.Keys.Seal(secret, accountAD(a.ID))
	if err != nil {
		e.t.Fatal(err)
	}
	if err := e.st.LinkAuthenticator(ctx, store.Authenticator{AccountID: a.ID, Secret: sealed, Linked: e.clock()}); err != nil {
		e.t.Fatal(err)
	}
	return a, secret
}

// code returns the current code and moves the clock to the next step, so
// the next code is a fresh one.
func (e *pwEnv) code(secret []byte) string {
	c := e.p.TOTP.Code(secret, e.clock())
	e.advance(30 * time.Second)
	return c
}

// mails returns the messages queued since the last call.
func (e *pwEnv) mails() []mail.Queued {
	e.t.Helper()
	ctx := context.Background()
	list, err := e.st.ClaimMail(ctx, e.clock().Add(time.Hour), time.Minute, 100)
	if err != nil {
		e.t.Fatal(err)
	}
	for _, q := range list {
		e.st.MarkMailSent(ctx, q.ID, e.clock())
	}
	return list
}

func (e *pwEnv) session(a account.Account) string {
	e.t.Helper()
	tok, err := e.p.StartSession(context.Background(), a, []string{"pwd", "otp"}, pwAddr, "test")
	if err != nil {
		e.t.Fatal(err)
	}
	return tok
}

func (e *pwEnv) sessionAlive(tok string) bool {
	_, err := e.st.GetSession(context.Background(), HashToken(tok))
	return err == nil
}

func (e *pwEnv) passwordIs(a account.Account, pw string) bool {
	e.t.Helper()
	got, err := e.st.GetAccount(context.Background(), a.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	ok, _, err := e.p.Hasher.Verify(context.Background(), got.PasswordHash, pw)
	return err == nil && ok
}

func (e *pwEnv) lastAudit(action string) store.AuditEvent {
	e.t.Helper()
	list, err := e.st.ListAudit(context.Background(), store.AuditFilter{Limit: 1000})
	if err != nil {
		e.t.Fatal(err)
	}
	for _, ev := range list {
		if ev.Action == action {
			return ev
		}
	}
	e.t.Fatalf("no %s event in the audit log", action)
	return store.AuditEvent{}
}

func invalidKey(err error) string {
	var ie *InvalidError
	if errors.As(err, &ie) {
		return ie.Key
	}
	return ""
}

func TestChangePasswordRefusals(t *testing.T) {
	e := newPWEnv(t)
	const id = "jan.peeters@example.be"
	a, secret := e.account(account.Tiers, id, true)
	change := func(current, code, newPW, confirm string) error {
		return e.p.ChangePassword(context.Background(), ChangePassword{
			Credentials: Credentials{Type: account.Tiers, Identifier: id, Password: current, Code: code, Addr: pwAddr},
			New:         newPW, Confirm: confirm})
	}
	replayed := e.p.TOTP.Code(secret, e.clock())
	if _, err := e.p.Login(context.Background(), Credentials{Type: account.Tiers, Identifier: id, Password: pwOld, Code: replayed, Addr: pwAddr}); err != nil {
		t.Fatalf("login: %v", err)
	}
	tests := []struct {
		name            string
		current, code   string
		newPW, confirm  string
		wantErr         error
		wantKey         string
		countsAsFailure bool
	}{
		{"wrong current password", "not the password", "", pwNew, pwNew, ErrCredentials, "", true},
		{"wrong code", pwOld, "000000", pwNew, pwNew, ErrCredentials, "", true},
		{"replayed code", pwOld, replayed, pwNew, pwNew, ErrCredentials, "", true},
		{"mismatch", pwOld, "", pwNew, pwNew + "!", ErrInvalid, KeyPasswordMismatch, false},
		{"too short", pwOld, "", "short pw 11", "short pw 11", ErrInvalid, password.ErrTooShort.Key, false},
		{"too long", pwOld, "", strings.Repeat("x", 129), strings.Repeat("x", 129), ErrInvalid, password.ErrTooLong.Key, false},
		{"common", pwOld, "", "QwertyUiop123", "QwertyUiop123", ErrInvalid, password.ErrCommon.Key, false},
		{"contains identifier", pwOld, "", "Jan.Peeters is my name", "Jan.Peeters is my name", ErrInvalid, password.ErrContainsIdentifier.Key, false},
		{"unchanged", pwOld, "", pwOld, pwOld, ErrInvalid, KeyPasswordUnchanged, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code := tt.code
			if code == "" {
				code = e.code(secret)
			}
			before, _ := e.st.GetAccount(context.Background(), a.ID)
			err := change(tt.current, code, tt.newPW, tt.confirm)
			if !errors.Is(err, tt.wantErr) || invalidKey(err) != tt.wantKey {
				t.Fatalf("ChangePassword = %v (key %q), want %v (key %q)", err, invalidKey(err), tt.wantErr, tt.wantKey)
			}
			if !e.passwordIs(a, pwOld) {
				t.Fatal("the password changed")
			}
			after, _ := e.st.GetAccount(context.Background(), a.ID)
			if got := after.FailedAttempts > before.FailedAttempts; got != tt.countsAsFailure {
				t.Errorf("failure counted: %t, want %t", got, tt.countsAsFailure)
			}
		})
	}
	if m := e.mails(); len(m) != 0 {
		t.Errorf("refused changes sent %d e-mails", len(m))
	}
}

// A refused new password burns no code: the same code then works.
func TestChangePasswordPolicyKeepsCode(t *testing.T) {
	e := newPWEnv(t)
	_, secret := e.account(account.Client, "an@example.be", true)
	code := e.p.TOTP.Code(secret, e.clock())
	c := Credentials{Type: account.Client, Identifier: "an@example.be", Password: pwOld, Code: code, Addr: pwAddr}
	if err := e.p.ChangePassword(context.Background(), ChangePassword{Credentials: c, New: "too short", Confirm: "too short"}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("short password: %v", err)
	}
	if err := e.p.ChangePassword(context.Background(), ChangePassword{Credentials: c, New: pwNew, Confirm: pwNew}); err != nil {
		t.Fatalf("same code after a refused password: %v", err)
	}
}

func TestChangePasswordSuccess(t *testing.T) {
	e := newPWEnv(t)
	ctx := context.Background()
	a, secret := e.account(account.Tiers, "jan@example.be", true)
	keep, other1, other2 := e.session(a), e.session(a), e.session(a)
	b, _ := e.account(account.Client, "jan@example.be", false) // same address, other account
	otherAccount := e.session(b)
	// A pending reset link dies with the change.
	var token string
	if err := e.p.RequestPasswordReset(ctx, account.Tiers, "jan@example.be", pwAddr, func(tok string) string { token = tok; return "https://sesame.example/r/" + tok }); err != nil {
		t.Fatal(err)
	}
	e.mails()
	if _, err := e.st.UpdateAccount(ctx, a.ID, func(a *account.Account) error { a.FailedAttempts = 3; return nil }); err != nil {
		t.Fatal(err)
	}

	// Composed and decomposed "é" are the same new password.
	newPW, confirm := "Café du Sablon, tous les jeudis", "Cafe\u0301 du Sablon, tous les jeudis"
	err := e.p.ChangePassword(ctx, ChangePassword{
		Credentials: Credentials{Type: account.Tiers, Identifier: " Jan@Example.be ", Password: pwOld, Code: e.code(secret), Addr: pwAddr},
		New:         newPW, Confirm: confirm, KeepSession: HashToken(keep)})
	if err != nil {
		t.Fatal(err)
	}
	if !e.passwordIs(a, newPW) || !e.passwordIs(a, confirm) || e.passwordIs(a, pwOld) {
		t.Error("the new password is not the one that works")
	}
	for _, tt := range []struct {
		name  string
		token string
		want  bool
	}{{"kept session", keep, true}, {"other session 1", other1, false}, {"other session 2", other2, false}, {"other account's session", otherAccount, true}} {
		if got := e.sessionAlive(tt.token); got != tt.want {
			t.Errorf("%s alive: %t, want %t", tt.name, got, tt.want)
		}
	}
	if got, _ := e.st.GetAccount(ctx, a.ID); got.FailedAttempts != 0 {
		t.Errorf("failed attempts after the change: %d", got.FailedAttempts)
	}
	if _, err := e.p.PasswordResetInfo(ctx, token, pwAddr); !errors.Is(err, ErrResetInvalid) {
		t.Errorf("reset link after a change: %v, want ErrResetInvalid", err)
	}
	m := e.mails()
	if len(m) != 1 || m[0].Kind != "password_changed" || m[0].To.Email != "jan@example.be" || m[0].Lang != i18n.NL || !strings.Contains(m[0].Text, pwAddr) {
		t.Errorf("notification = %+v", m)
	}
	if ev := e.lastAudit(ActionPasswordChange); ev.Outcome != OutcomeSuccess || ev.SubjectID != a.ID || ev.Detail != "2 other sessions ended" {
		t.Errorf("audit = %+v", ev)
	}
	// The next login needs the new password and a code.
	if _, err := e.p.Login(ctx, Credentials{Type: account.Tiers, Identifier: "jan@example.be", Password: newPW, Code: e.code(secret), Addr: pwAddr}); err != nil {
		t.Errorf("login with the new password: %v", err)
	}
}

func TestChangePasswordWithoutAuthenticator(t *testing.T) {
	e := newPWEnv(t)
	e.account(account.Client, "new@example.be", false)
	err := e.p.ChangePassword(context.Background(), ChangePassword{
		Credentials: Credentials{Type: account.Client, Identifier: "new@example.be", Password: pwOld, Code: "123456", Addr: pwAddr},
		New:         pwNew, Confirm: pwNew})
	if !errors.Is(err, ErrNotEnrolled) {
		t.Errorf("ChangePassword = %v, want ErrNotEnrolled", err)
	}
}

// requestReset asks for a reset and returns the token given to the link
// function (a decoy's when no e-mail is sent).
func (e *pwEnv) requestReset(typ account.Type, id, addr string) (string, error) {
	var token string
	err := e.p.RequestPasswordReset(context.Background(), typ, id, addr, func(tok string) string {
		token = tok
		return "https://sesame.example/password/reset/" + tok
	})
	return token, err
}

func TestResetRequestSameAnswer(t *testing.T) {
	e := newPWEnv(t)
	ctx := context.Background()
	e.account(account.Client, "client@example.be", false)
	e.account(account.Group, "staff@insurer.be", true)
	disabled, _ := e.account(account.Tiers, "gone@example.be", false)
	e.st.UpdateAccount(ctx, disabled.ID, func(a *account.Account) error { a.Disabled = true; return nil })

	tests := []struct {
		name     string
		typ      account.Type
		id       string
		wantMail bool
	}{
		{"real client account", account.Client, "Client@Example.be", true},
		{"unknown account", account.Client, "nobody@example.be", false},
		{"account under another type", account.Tiers, "client@example.be", false},
		{"group account", account.Group, "staff@insurer.be", false},
		{"disabled account", account.Tiers, "gone@example.be", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			token, err := e.requestReset(tt.typ, tt.id, pwAddr)
			if err != nil {
				t.Fatalf("RequestPasswordReset = %v, want nil like any other", err)
			}
			// Every request stores a row: a decoy when no e-mail goes out.
			r, err := e.st.GetPasswordReset(ctx, HashToken(token))
			if err != nil {
				t.Fatalf("no reset row: %v", err)
			}
			if got := r.AccountID != 0; got != tt.wantMail {
				t.Errorf("real link: %t, want %t", got, tt.wantMail)
			}
			m := e.mails()
			if got := len(m) == 1; got != tt.wantMail || len(m) > 1 {
				t.Fatalf("%d e-mails, want sent=%t", len(m), tt.wantMail)
			}
			if tt.wantMail && (m[0].Kind != "password_reset" || m[0].Lang != i18n.NL || !strings.Contains(m[0].Text, "https://sesame.example/password/reset/"+token)) {
				t.Errorf("e-mail = %+v", m[0])
			}
			ev := e.lastAudit(ActionPasswordResetRequest)
			if wantOutcome := map[bool]string{true: OutcomeSuccess, false: OutcomeDenied}[tt.wantMail]; ev.Outcome != wantOutcome || strings.Contains(ev.Detail, token) {
				t.Errorf("audit = %+v, want outcome %s and no token", ev, wantOutcome)
			}
			// A decoy's token opens nothing.
			if !tt.wantMail {
				if _, err := e.p.PasswordResetInfo(ctx, token, pwAddr); !errors.Is(err, ErrResetInvalid) {
					t.Errorf("decoy token: %v, want ErrResetInvalid", err)
				}
			}
		})
	}
	for _, in := range []struct {
		typ account.Type
		id  string
		key string
	}{{account.Client, "not an address", KeyIdentifierInvalid}, {"admin", "client@example.be", KeyAccountTypeInvalid}} {
		if _, err := e.requestReset(in.typ, in.id, pwAddr); invalidKey(err) != in.key {
			t.Errorf("RequestPasswordReset(%q, %q) = %v, want key %s", in.typ, in.id, err, in.key)
		}
	}
}

func TestResetThrottled(t *testing.T) {
	e := newPWEnv(t)
	e.account(account.Client, "flood@example.be", false)
	e.account(account.Tiers, "flood@example.be", false)
	// Three e-mails an hour to one mailbox, across account types.
	sent := 0
	for i := range 5 {
		typ := account.Client
		if i%2 == 1 {
			typ = account.Tiers
		}
		if _, err := e.requestReset(typ, "flood@example.be", pwAddr); err != nil {
			t.Fatal(err)
		}
		sent += len(e.mails())
	}
	if sent != 3 {
		t.Errorf("%d e-mails for 5 requests, want 3", sent)
	}
	e.advance(61 * time.Minute)
	if _, err := e.requestReset(account.Client, "flood@example.be", pwAddr); err != nil || len(e.mails()) != 1 {
		t.Errorf("an hour later: %v, want one e-mail", err)
	}

	// Ten requests an hour from one client address, whatever they name.
	e.advance(61 * time.Minute)
	for i := range 10 {
		e.account(account.Client, string(rune('a'+i))+"-many@example.be", false)
	}
	sent = 0
	for i := range 10 {
		e.requestReset(account.Client, string(rune('a'+i))+"-many@example.be", "198.51.100.7")
		sent += len(e.mails())
	}
	e.requestReset(account.Client, "flood@example.be", "198.51.100.7")
	if n := len(e.mails()); sent != 10 || n != 0 {
		t.Errorf("from one address: %d then %d e-mails, want 10 then 0", sent, n)
	}
	if _, err := e.requestReset(account.Client, "flood@example.be", "203.0.113.1"); err != nil || len(e.mails()) != 1 {
		t.Errorf("from another address: %v, want one e-mail", err)
	}
}

func TestResetLinkOnceAndExpiry(t *testing.T) {
	e := newPWEnv(t)
	ctx := context.Background()
	a, _ := e.account(account.Client, "once@example.be", false)
	s1, s2 := e.session(a), e.session(a)
	e.st.UpdateAccount(ctx, a.ID, func(a *account.Account) error { a.FailedAttempts = 7; a.LockedUntil = account.Forever; return nil })

	token, _ := e.requestReset(account.Client, "once@example.be", pwAddr)
	e.mails()
	if needs, err := e.p.PasswordResetInfo(ctx, token, pwAddr); err != nil || needs {
		t.Fatalf("PasswordResetInfo = %t, %v; want no code needed", needs, err)
	}
	// A refused password leaves the link usable.
	if err := e.p.ResetPassword(ctx, token, "password1234", "password1234", "", pwAddr); invalidKey(err) != password.ErrCommon.Key {
		t.Fatalf("common password: %v", err)
	}
	if err := e.p.ResetPassword(ctx, token, pwNew, pwNew+" ", "", pwAddr); invalidKey(err) != KeyPasswordMismatch {
		t.Fatalf("mismatch: %v", err)
	}
	if err := e.p.ResetPassword(ctx, token, pwNew, pwNew, "", pwAddr); err != nil {
		t.Fatalf("ResetPassword = %v", err)
	}
	if !e.passwordIs(a, pwNew) {
		t.Error("the new password does not work")
	}
	got, _ := e.st.GetAccount(ctx, a.ID)
	if got.FailedAttempts != 0 || got.Locked(e.clock()) {
		t.Errorf("after the reset: %d failures, locked until %v", got.FailedAttempts, got.LockedUntil)
	}
	if e.sessionAlive(s1) || e.sessionAlive(s2) {
		t.Error("sessions survived the reset")
	}
	if m := e.mails(); len(m) != 1 || m[0].Kind != "password_changed" {
		t.Errorf("confirmation e-mail = %+v", m)
	}
	if ev := e.lastAudit(ActionPasswordReset); ev.Outcome != OutcomeSuccess || ev.SubjectID != a.ID {
		t.Errorf("audit = %+v", ev)
	}
	// Once only.
	if err := e.p.ResetPassword(ctx, token, "Another fine passphrase", "Another fine passphrase", "", pwAddr); !errors.Is(err, ErrResetInvalid) {
		t.Errorf("second use: %v, want ErrResetInvalid", err)
	}
	if !e.passwordIs(a, pwNew) {
		t.Error("the second use changed the password")
	}

	// Ten minutes: valid at 9:59, dead at 10:00.
	token, _ = e.requestReset(account.Client, "once@example.be", pwAddr)
	e.advance(10*time.Minute - time.Second)
	if _, err := e.p.PasswordResetInfo(ctx, token, pwAddr); err != nil {
		t.Errorf("at 9:59: %v", err)
	}
	e.advance(time.Second)
	if _, err := e.p.PasswordResetInfo(ctx, token, pwAddr); !errors.Is(err, ErrResetInvalid) {
		t.Errorf("at 10:00: %v, want ErrResetInvalid", err)
	}
	if err := e.p.ResetPassword(ctx, token, "Another fine passphrase", "Another fine passphrase", "", pwAddr); !errors.Is(err, ErrResetInvalid) {
		t.Errorf("reset at 10:00: %v, want ErrResetInvalid", err)
	}

	// A configured lifetime is honoured.
	e.p.ResetLifetime = 2 * time.Minute
	token, _ = e.requestReset(account.Client, "once@example.be", pwAddr)
	e.advance(2 * time.Minute)
	if _, err := e.p.PasswordResetInfo(ctx, token, pwAddr); !errors.Is(err, ErrResetInvalid) {
		t.Errorf("after a 2-minute lifetime: %v, want ErrResetInvalid", err)
	}
}

func TestResetNewerLinkReplacesOlder(t *testing.T) {
	e := newPWEnv(t)
	ctx := context.Background()
	e.account(account.Tiers, "twice@example.be", false)
	first, _ := e.requestReset(account.Tiers, "twice@example.be", pwAddr)
	e.advance(time.Minute)
	second, _ := e.requestReset(account.Tiers, "twice@example.be", pwAddr)
	if first == second {
		t.Fatal("two requests gave the same token")
	}
	if err := e.p.ResetPassword(ctx, first, pwNew, pwNew, "", pwAddr); !errors.Is(err, ErrResetInvalid) {
		t.Errorf("older link: %v, want ErrResetInvalid", err)
	}
	if err := e.p.ResetPassword(ctx, second, pwNew, pwNew, "", pwAddr); err != nil {
		t.Errorf("newer link: %v", err)
	}
}

// The token is only in the e-mail: the reset row keeps its SHA-256, and
// once the e-mail is delivered (the outbox clears sent bodies) no table
// holds it in clear.
func TestResetTokenNotStoredInClear(t *testing.T) {
	e := newPWEnv(t)
	e.account(account.Client, "clear@example.be", false)
	token, _ := e.requestReset(account.Client, "clear@example.be", pwAddr)
	if len(token) < 22 { // 128 bits in base64url
		t.Fatalf("token %q is shorter than 128 bits", token)
	}
	if m := e.mails(); len(m) != 1 || !strings.Contains(m[0].Text, token) {
		t.Fatal("the e-mail does not carry the token")
	}
	r, err := e.st.GetPasswordReset(context.Background(), HashToken(token))
	if err != nil {
		t.Fatalf("no row under the token's hash: %v", err)
	}
	if sum := sha256.Sum256([]byte(token)); !bytes.Equal(r.TokenHash, sum[:]) {
		t.Errorf("token_hash = %x, want SHA-256 of the token", r.TokenHash)
	}

	db, err := sql.Open("sqlite", filepath.Join(e.dir, "sesame.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	tables, err := queryStrings(db, `SELECT name FROM sqlite_master WHERE type = 'table'`)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(tables, "password_resets") {
		t.Fatalf("tables %v: no password_resets", tables)
	}
	for _, table := range tables {
		rows, err := db.Query(`SELECT * FROM "` + table + `"`)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			for i, v := range vals {
				if strings.Contains(fmt.Sprint(v), token) || strings.Contains(fmt.Sprintf("%s", v), token) {
					t.Errorf("%s.%s holds the token in clear", table, cols[i])
				}
			}
		}
		rows.Close()
	}
}

func queryStrings(db *sql.DB, q string) ([]string, error) {
	rows, err := db.Query(q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var list []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		list = append(list, s)
	}
	return list, rows.Err()
}

func TestResetKeepsSecondFactor(t *testing.T) {
	e := newPWEnv(t)
	ctx := context.Background()
	a, secret := e.account(account.Tiers, "mfa@example.be", true)
	token, _ := e.requestReset(account.Tiers, "mfa@example.be", pwAddr)
	if needs, err := e.p.PasswordResetInfo(ctx, token, pwAddr); err != nil || !needs {
		t.Fatalf("PasswordResetInfo = %t, %v; want a code needed", needs, err)
	}
	if err := e.p.ResetPassword(ctx, token, pwNew, pwNew, "", pwAddr); !errors.As(err, new(*WrongCodeError)) {
		t.Fatalf("no code: %v, want *WrongCodeError", err)
	}
	var wc *WrongCodeError
	if err := e.p.ResetPassword(ctx, token, pwNew, pwNew, "000000", pwAddr); !errors.As(err, &wc) || wc.TriesLeft != 1 {
		t.Fatalf("wrong code: %v, want 1 try left", err)
	}
	if !e.passwordIs(a, pwOld) {
		t.Fatal("a wrong code changed the password")
	}
	code := e.code(secret)
	if err := e.p.ResetPassword(ctx, token, pwNew, pwNew, code, pwAddr); err != nil {
		t.Fatalf("right code: %v", err)
	}
	// The authenticator is still linked, the code was consumed, and the
	// next login needs a code.
	if _, err := e.st.GetAuthenticator(ctx, a.ID); err != nil {
		t.Errorf("authenticator after the reset: %v", err)
	}
	if _, err := e.p.Login(ctx, Credentials{Type: account.Tiers, Identifier: "mfa@example.be", Password: pwNew, Code: code, Addr: pwAddr}); !errors.Is(err, ErrCredentials) {
		t.Errorf("login replaying the reset's code: %v, want ErrCredentials", err)
	}
	if _, err := e.p.Login(ctx, Credentials{Type: account.Tiers, Identifier: "mfa@example.be", Password: pwNew, Code: "", Addr: pwAddr}); !errors.Is(err, ErrCredentials) {
		t.Errorf("login without a code: %v, want ErrCredentials", err)
	}
	if _, err := e.p.Login(ctx, Credentials{Type: account.Tiers, Identifier: "mfa@example.be", Password: pwNew, Code: e.code(secret), Addr: pwAddr}); err != nil {
		t.Errorf("login with the new password and a code: %v", err)
	}
}

func TestResetWrongCodesSpendLink(t *testing.T) {
	e := newPWEnv(t)
	ctx := context.Background()
	a, secret := e.account(account.Client, "spent@example.be", true)
	token, _ := e.requestReset(account.Client, "spent@example.be", pwAddr)
	for want := 2; want >= 1; want-- {
		var wc *WrongCodeError
		if err := e.p.ResetPassword(ctx, token, pwNew, pwNew, "000000", pwAddr); !errors.As(err, &wc) || wc.TriesLeft != want {
			t.Fatalf("wrong code: %v, want %d tries left", err, want)
		}
	}
	if err := e.p.ResetPassword(ctx, token, pwNew, pwNew, "000000", pwAddr); !errors.Is(err, ErrResetInvalid) {
		t.Fatalf("third wrong code: %v, want ErrResetInvalid", err)
	}
	if err := e.p.ResetPassword(ctx, token, pwNew, pwNew, e.code(secret), pwAddr); !errors.Is(err, ErrResetInvalid) {
		t.Errorf("right code after the link was spent: %v, want ErrResetInvalid", err)
	}
	if got, _ := e.st.GetAccount(ctx, a.ID); got.FailedAttempts != 3 {
		t.Errorf("failed attempts = %d, want 3 (wrong codes count as at login)", got.FailedAttempts)
	}

	// A locked account's code cannot be tried from a link.
	e.st.UpdateAccount(ctx, a.ID, func(a *account.Account) error { a.LockedUntil = e.clock().Add(5 * time.Minute); return nil })
	token, _ = e.requestReset(account.Client, "spent@example.be", pwAddr)
	if err := e.p.ResetPassword(ctx, token, pwNew, pwNew, e.code(secret), pwAddr); !errors.Is(err, ErrResetLocked) {
		t.Errorf("locked account: %v, want ErrResetLocked", err)
	}
	e.advance(5 * time.Minute)
	if err := e.p.ResetPassword(ctx, token, pwNew, pwNew, e.code(secret), pwAddr); err != nil {
		t.Errorf("after the lock, within the link's lifetime: %v", err)
	}
}

func TestResetBadTokens(t *testing.T) {
	e := newPWEnv(t)
	ctx := context.Background()
	for _, tok := range []string{"", "short", strings.Repeat("A", 43), strings.Repeat("A", 10000), "\x00\xff"} {
		if _, err := e.p.PasswordResetInfo(ctx, tok, pwAddr); !errors.Is(err, ErrResetInvalid) {
			t.Errorf("PasswordResetInfo(%.20q) = %v, want ErrResetInvalid", tok, err)
		}
	}
	// Guessing links from one address is throttled like guessing passwords.
	for range e.p.AddressLimit.Failures {
		e.p.PasswordResetInfo(ctx, "guess", "198.51.100.9")
	}
	if _, err := e.p.PasswordResetInfo(ctx, "guess", "198.51.100.9"); !errors.Is(err, ErrAddressThrottled) {
		t.Errorf("after %d bad links: %v, want ErrAddressThrottled", e.p.AddressLimit.Failures, err)
	}
}

// Two concurrent uses of one link: exactly one sets its password.
func TestResetConcurrentUse(t *testing.T) {
	e := newPWEnv(t)
	e.account(account.Client, "race@example.be", false)
	token, _ := e.requestReset(account.Client, "race@example.be", pwAddr)
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() {
			pw := "Concurrent passphrase number " + string(rune('A'+i))
			errs[i] = e.p.ResetPassword(context.Background(), token, pw, pw, "", pwAddr)
		})
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, ErrResetInvalid):
			t.Errorf("unexpected error: %v", err)
		}
	}
	if ok != 1 {
		t.Errorf("%d uses succeeded, want 1", ok)
	}
}

func TestPurgePasswordResets(t *testing.T) {
	e := newPWEnv(t)
	e.account(account.Client, "purge@example.be", false)
	e.requestReset(account.Client, "purge@example.be", pwAddr)
	e.requestReset(account.Client, "nobody@example.be", pwAddr)
	if n, err := e.p.PurgePasswordResets(context.Background()); err != nil || n != 0 {
		t.Errorf("purge before expiry = %d, %v", n, err)
	}
	e.advance(11 * time.Minute)
	if n, err := e.p.PurgePasswordResets(context.Background()); err != nil || n != 2 {
		t.Errorf("purge after expiry = %d, %v; want 2 (the link and the decoy)", n, err)
	}
}
