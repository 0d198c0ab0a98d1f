package web

import (
	"context"
	"html"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"sesame/internal/account"
	"sesame/internal/auth"
	"sesame/internal/i18n"
	"sesame/internal/mail"
)

// Flow tests of the password pages (SPEC 2.4–2.6) against the real
// handler, a SQLite store, and — for the reset e-mail — a real SMTP
// conversation with the in-process Catcher.

const (
	pwNewPass     = "Vlinder boven de Schelde 2026"
	pwInternalURL = "https://directory.insurer.example/reset"
)

// newPasswordEnv is newEnv with the password pages configured: links are
// built on the test server's URL.
func newPasswordEnv(t *testing.T) *env {
	e := newEnv(t)
	e.web.opts.Passwords = PasswordOptions{PublicURL: e.srv.URL, InternalResetURL: pwInternalURL}
	return e
}

// mails returns the messages queued since the last call, marking them sent.
func (e *env) mails() []mail.Queued {
	e.t.Helper()
	ctx := context.Background()
	list, err := e.store.ClaimMail(ctx, e.clock.Now().Add(time.Hour), time.Minute, 100)
	if err != nil {
		e.t.Fatal(err)
	}
	for _, q := range list {
		e.store.MarkMailSent(ctx, q.ID, e.clock.Now())
	}
	return list
}

// changePassword posts the change form.
func (b *browser) changePassword(typ account.Type, identifier, current, code, newPW, confirm string) (int, string) {
	b.e.t.Helper()
	b.get("/password")
	return b.post("/password", url.Values{"identifier": {identifier}, "password": {current}, "account_type": {string(typ)},
		"totp": {code}, "new_password": {newPW}, "new_password_confirm": {confirm}})
}

// fieldError is the message shown under a field ("" when none).
func (b *browser) fieldError(field string) string {
	m := regexp.MustCompile(`<span class="field-error" id="` + regexp.QuoteMeta(field) + `-error">([^<]*)</span>`).FindStringSubmatch(b.body)
	if m == nil {
		return ""
	}
	return html.UnescapeString(m[1])
}

func TestPasswordChange(t *testing.T) {
	for _, l := range langs {
		t.Run(string(l.lang), func(t *testing.T) {
			e := newPasswordEnv(t)
			a := e.createAccount(account.Tiers, janID, janPass, l.lang)
			secret := e.browser(l.accept).enrol(account.Tiers, janID, janPass)
			e.mails() // the "authenticator linked" notice
			here, elsewhere := e.browser(l.accept), e.browser(l.accept)
			for _, b := range []*browser{here, elsewhere} {
				if st, _ := b.login(account.Tiers, janID, janPass, e.code(secret)); st != 200 || !b.loggedIn() {
					t.Fatalf("login: %d", st)
				}
				e.clock.Add(30 * time.Second)
			}

			refusals := []struct {
				name, current, code, newPW, confirm string
				field, key                          string // the field error, or "" for the form's error
				status                              int
			}{
				{"wrong current password", "not my password", "", pwNewPass, pwNewPass, "", "error.credentials", 401},
				{"wrong code", janPass, e.wrongCode(secret), pwNewPass, pwNewPass, "", "error.credentials", 401},
				{"mismatch", janPass, "", pwNewPass, pwNewPass + "?", fieldConfirm, "password.error.mismatch", 422},
				{"too short", janPass, "", "eleven char", "eleven char", fieldNew, "password.error.too_short", 422},
				{"too long", janPass, "", strings.Repeat("ab", 65), strings.Repeat("ab", 65), fieldNew, "password.error.too_long", 422},
				{"common", janPass, "", "1qaz2wsx3edc4rfv", "1qaz2wsx3edc4rfv", fieldNew, "password.error.common", 422},
				{"contains identifier", janPass, "", "hello jan@example.be!", "hello jan@example.be!", fieldNew, "password.error.contains_identifier", 422},
				{"new password missing", janPass, "", "", "", fieldNew, "error.required", 422},
			}
			for _, tt := range refusals {
				code := tt.code
				if code == "" {
					code = e.code(secret)
				}
				st, _ := here.changePassword(account.Tiers, janID, tt.current, code, tt.newPW, tt.confirm)
				got := here.errorMessage()
				if tt.field != "" {
					got = here.fieldError(tt.field)
				}
				if st != tt.status || got != e.msg(l.lang, tt.key) {
					t.Errorf("%s: %d %q, want %d %q", tt.name, st, got, tt.status, e.msg(l.lang, tt.key))
				}
				if strings.Contains(here.body, tt.newPW) && tt.newPW != "" {
					t.Errorf("%s: the page shows the new password back", tt.name)
				}
				e.clock.Add(30 * time.Second)
			}

			st, _ := here.changePassword(account.Tiers, janID, janPass, e.code(secret), pwNewPass, pwNewPass)
			if st != 200 || !strings.Contains(here.text(), e.msg(l.lang, "password.change.success")) {
				t.Fatalf("change: %d\n%s", st, here.body)
			}
			if !here.loggedIn() || elsewhere.loggedIn() {
				t.Errorf("after the change: this browser logged in %t (want true), the other %t (want false)", here.loggedIn(), elsewhere.loggedIn())
			}
			if m := e.mails(); len(m) != 1 || m[0].Kind != "password_changed" || m[0].Lang != l.lang {
				t.Errorf("notification: %+v", m)
			}
			if got := e.audit(a); !containsStr(got, auth.ActionPasswordChange+"/success") {
				t.Errorf("audit %v", got)
			}
			e.clock.Add(30 * time.Second)
			if st, _ := e.browser(l.accept).login(account.Tiers, janID, janPass, e.code(secret)); st != http.StatusUnauthorized {
				t.Errorf("login with the old password: %d", st)
			}
			e.clock.Add(30 * time.Second)
			if st, _ := e.browser(l.accept).login(account.Tiers, janID, pwNewPass, e.code(secret)); st != 200 {
				t.Errorf("login with the new password: %d", st)
			}
		})
	}
}

// requestReset posts the "other" reset form.
func (b *browser) requestReset(typ account.Type, identifier string) (int, string) {
	b.e.t.Helper()
	b.get("/password/reset")
	return b.post("/password/reset", url.Values{"identifier": {identifier}, "account_type": {string(typ)}})
}

// An unknown account and a Group account get exactly the page a real one
// gets; only the real one gets an e-mail.
func TestPasswordResetSameAnswer(t *testing.T) {
	e := newPasswordEnv(t)
	e.createAccount(account.Client, "client@example.be", janPass, i18n.NL)
	e.createAccount(account.Group, "staff@insurer.be", janPass, i18n.NL)
	b := e.browser("nl-BE")
	st, real := b.requestReset(account.Client, "client@example.be")
	if st != 200 || !strings.Contains(b.text(), e.web.cat.N(i18n.NL, "password.reset.sent", 10)) {
		t.Fatalf("real account: %d\n%s", st, real)
	}
	if m := e.mails(); len(m) != 1 || m[0].To.Email != "client@example.be" {
		t.Fatalf("real account: e-mails %+v", m)
	}
	for _, other := range []struct {
		typ account.Type
		id  string
	}{{account.Client, "nobody@example.be"}, {account.Group, "staff@insurer.be"}, {account.Tiers, "client@example.be"}} {
		st, body := b.requestReset(other.typ, other.id)
		if st != 200 || body != real {
			t.Errorf("%s %s: %d, page differs from a real account's:\n%s\n---\n%s", other.typ, other.id, st, body, real)
		}
		if m := e.mails(); len(m) != 0 {
			t.Errorf("%s %s: %d e-mails", other.typ, other.id, len(m))
		}
	}
}

func TestPasswordResetBadInput(t *testing.T) {
	e := newPasswordEnv(t)
	b := e.browser("en")
	tests := []struct {
		name   string
		form   url.Values
		status int
		field  string
		key    string
	}{
		{"missing identifier", url.Values{"account_type": {"client"}}, 422, "identifier", "error.required"},
		{"missing type", url.Values{"identifier": {"a@example.be"}}, 422, "account_type", "error.required"},
		{"not an address", url.Values{"identifier": {"not an address"}, "account_type": {"client"}}, 422, "identifier", "password.error.identifier"},
		{"overlong identifier", url.Values{"identifier": {strings.Repeat("a", 300) + "@example.be"}, "account_type": {"client"}}, 422, "identifier", "error.too_long"},
	}
	for _, tt := range tests {
		b.get("/password/reset")
		if st, _ := b.post("/password/reset", tt.form); st != tt.status || b.fieldError(tt.field) != e.msg(i18n.EN, tt.key) {
			t.Errorf("%s: %d %q, want %d %q", tt.name, st, b.fieldError(tt.field), tt.status, e.msg(i18n.EN, tt.key))
		}
	}
	if st, _ := b.post("/password/reset", url.Values{"identifier": {"a@example.be"}, "account_type": {"admin"}}); st != 400 {
		t.Errorf("unknown account type: %d, want 400", st)
	}
	for _, tok := range []string{"x", strings.Repeat("A", 43), "%00", strings.Repeat("z", 300)} {
		if st, _ := b.get("/password/reset/" + tok); st != http.StatusGone || !strings.Contains(b.text(), e.msg(i18n.EN, "password.new.invalid")) {
			t.Errorf("link %.20q: %d", tok, st)
		}
	}
	if m := e.mails(); len(m) != 0 {
		t.Errorf("bad input sent %d e-mails", len(m))
	}
}

var linkRe = regexp.MustCompile(`https?://[^\s"<>]+/password/reset/[A-Za-z0-9_-]+`)

// The whole "other" reset as a person lives it: the request's e-mail goes
// through the outbox and a real SMTP conversation to the Catcher, its link
// opens the page, which asks for the code of the still-linked authenticator.
func TestPasswordResetByMail(t *testing.T) {
	e := newPasswordEnv(t)
	ctx := context.Background()
	a := e.createAccount(account.Tiers, janID, janPass, i18n.FR)
	secret := e.browser("fr").enrol(account.Tiers, janID, janPass)
	e.mails() // the "authenticator linked" notice

	catcher, err := mail.StartCatcher("127.0.0.1:0", slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { catcher.Close() })
	host, port, _ := net.SplitHostPort(catcher.Addr())
	portN, _ := strconv.Atoi(port)
	sender, err := mail.NewSMTP(mail.SMTPConfig{Host: host, Port: portN, TLS: mail.TLSNone, From: mail.Address{Name: "Sesame", Email: "no-reply@sesame.example"}})
	if err != nil {
		t.Fatal(err)
	}
	worker := &mail.Worker{Queue: e.store, Sender: sender, Now: e.clock.Now}

	b := e.browser("fr-BE")
	if st, _ := b.requestReset(account.Tiers, janID); st != 200 {
		t.Fatalf("request: %d\n%s", st, b.body)
	}
	if n, err := worker.DeliverDue(ctx); err != nil || n != 1 {
		t.Fatalf("DeliverDue = %d, %v", n, err)
	}
	wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := catcher.WaitFor(wctx, 1); err != nil {
		t.Fatal(err)
	}
	caught := catcher.Messages()[0]
	if len(caught.EnvelopeTo) != 1 || caught.EnvelopeTo[0] != janID || !strings.Contains(caught.Subject, "mot de passe") {
		t.Fatalf("caught %+v", caught)
	}
	link := linkRe.FindString(caught.Text)
	if link == "" || !strings.HasPrefix(link, e.srv.URL+"/password/reset/") {
		t.Fatalf("no link to the portal in the e-mail:\n%s", caught.Text)
	}
	path := strings.TrimPrefix(link, e.srv.URL)

	// Opening the link (as a mail scanner would, too) spends nothing.
	for range 2 {
		if st, _ := b.get(path); st != 200 || !strings.Contains(b.body, `name="totp"`) || !strings.Contains(b.body, `name="new_password"`) {
			t.Fatalf("link page: %d\n%s", st, b.body)
		}
	}
	// Without the code nothing changes: the reset never weakens the second factor.
	if st, _ := b.post(path, url.Values{"new_password": {pwNewPass}, "new_password_confirm": {pwNewPass}}); st != 422 || b.fieldError("totp") != e.msg(i18n.FR, "error.required") {
		t.Errorf("no code: %d %q", st, b.fieldError("totp"))
	}
	if st, _ := b.post(path, url.Values{"new_password": {pwNewPass}, "new_password_confirm": {pwNewPass}, "totp": {e.wrongCode(secret)}}); st != 401 ||
		b.errorMessage() != e.web.cat.N(i18n.FR, "enrol.tries_left", 2) {
		t.Errorf("wrong code: %d %q", st, b.errorMessage())
	}
	if st, _ := b.post(path, url.Values{"new_password": {pwNewPass}, "new_password_confirm": {pwNewPass}, "totp": {e.code(secret)}}); st != 200 ||
		!strings.Contains(b.text(), e.msg(i18n.FR, "password.new.success")) {
		t.Fatalf("reset: %d\n%s", st, b.body)
	}
	e.clock.Add(30 * time.Second)
	if got := e.audit(a); !containsStr(got, auth.ActionPasswordReset+"/success") || !containsStr(got, auth.ActionPasswordResetRequest+"/success") {
		t.Errorf("audit %v", got)
	}
	// The confirmation goes out the same way.
	if n, err := worker.DeliverDue(ctx); err != nil || n != 1 {
		t.Errorf("confirmation: DeliverDue = %d, %v", n, err)
	}
	if err := catcher.WaitFor(wctx, 2); err != nil {
		t.Error(err)
	} else if c := catcher.Messages()[1]; linkRe.MatchString(c.Text) || !strings.Contains(c.Subject, "mot de passe") {
		t.Errorf("confirmation e-mail: %q\n%s", c.Subject, c.Text)
	}

	// Once only.
	if st, _ := b.get(path); st != http.StatusGone {
		t.Errorf("link after use: %d, want 410", st)
	}
	if st, _ := b.post(path, url.Values{"new_password": {"Another fine passphrase"}, "new_password_confirm": {"Another fine passphrase"}, "totp": {e.code(secret)}}); st != http.StatusGone {
		t.Errorf("second use: %d, want 410", st)
	}
	e.clock.Add(30 * time.Second)
	// The next login needs the new password and a code.
	if st, _ := e.browser("fr").login(account.Tiers, janID, pwNewPass, ""); st == 200 {
		t.Error("login without a code after the reset")
	}
	if st, _ := e.browser("fr").login(account.Tiers, janID, pwNewPass, e.code(secret)); st != 200 {
		t.Errorf("login with the new password and a code: %d", st)
	}
}

func TestPasswordResetLinkExpires(t *testing.T) {
	e := newPasswordEnv(t)
	e.createAccount(account.Client, "late@example.be", janPass, i18n.EN)
	b := e.browser("en")
	b.requestReset(account.Client, "late@example.be")
	m := e.mails()
	if len(m) != 1 {
		t.Fatalf("%d e-mails", len(m))
	}
	path := strings.TrimPrefix(linkRe.FindString(m[0].Text), e.srv.URL)
	e.clock.Add(9*time.Minute + 59*time.Second)
	if st, _ := b.get(path); st != 200 {
		t.Fatalf("at 9:59: %d", st)
	}
	e.clock.Add(time.Second)
	if st, _ := b.post(path, url.Values{"new_password": {pwNewPass}, "new_password_confirm": {pwNewPass}}); st != http.StatusGone ||
		!strings.Contains(b.text(), e.msg(i18n.EN, "password.new.invalid")) {
		t.Errorf("at 10:00: %d\n%s", st, b.body)
	}
	// A newer request's link replaces the older one.
	b.requestReset(account.Client, "late@example.be")
	first := strings.TrimPrefix(linkRe.FindString(e.mails()[0].Text), e.srv.URL)
	b.requestReset(account.Client, "late@example.be")
	second := strings.TrimPrefix(linkRe.FindString(e.mails()[0].Text), e.srv.URL)
	if st, _ := b.get(first); st != http.StatusGone {
		t.Errorf("older link: %d, want 410", st)
	}
	if st, _ := b.post(second, url.Values{"new_password": {pwNewPass}, "new_password_confirm": {pwNewPass}}); st != 200 {
		t.Errorf("newer link: %d\n%s", st, b.body)
	}
}

func TestPasswordInternalPageAndMenu(t *testing.T) {
	e := newPasswordEnv(t)
	for _, l := range langs {
		b := e.browser(l.accept)
		if st, _ := b.get("/password/internal"); st != 200 || !strings.Contains(b.body, `href="`+pwInternalURL+`"`) ||
			!strings.Contains(b.text(), e.msg(l.lang, "password.internal.intro")) {
			t.Errorf("%s: internal page %d\n%s", l.lang, st, b.body)
		}
		for _, item := range []struct{ path, key string }{{"/password", "nav.password"}, {"/password/reset", "nav.password_reset"}, {"/password/internal", "nav.password_internal"}} {
			if !strings.Contains(b.text(), `<a href="`+item.path+`"`) || !strings.Contains(b.text(), e.msg(l.lang, item.key)) {
				t.Errorf("%s: no menu entry %s", l.lang, item.path)
			}
		}
	}
	// Without a configured address the page says whom to ask.
	e.web.opts.Passwords.InternalResetURL = ""
	b := e.browser("en")
	if b.get("/password/internal"); !strings.Contains(b.text(), e.msg(i18n.EN, "password.internal.no_link")) {
		t.Errorf("no address configured:\n%s", b.body)
	}
}

// The new-password fields tell password managers what they are.
func TestPasswordFormContract(t *testing.T) {
	e := newPasswordEnv(t)
	e.createAccount(account.Client, "form@example.be", janPass, i18n.FR)
	b := e.browser("fr")
	b.requestReset(account.Client, "form@example.be")
	link := strings.TrimPrefix(linkRe.FindString(e.mails()[0].Text), e.srv.URL)
	for _, path := range []string{"/password", link} {
		b.get(path)
		for _, field := range []string{fieldNew, fieldConfirm} {
			m := regexp.MustCompile(`<input id="` + field + `"[^>]*>`).FindString(b.body)
			a := attrs(m)
			if a["type"] != "password" || a["autocomplete"] != "new-password" || !strings.Contains(b.body, `<label for="`+field+`"`) {
				t.Errorf("%s: field %s: %s", path, field, m)
			}
		}
	}
	// The link page of an account without an authenticator asks no code.
	if b.get(link); strings.Contains(b.body, `name="totp"`) {
		t.Error("the link page asks a code of an account without an authenticator")
	}
}
