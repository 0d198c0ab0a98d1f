package web

// BenchmarkLogin measures a whole login through the real handler — GET
// /login for the CSRF cookie, then POST /login with identifier, password and
// TOTP code, answered 303 with a session — on a real SQLite store, built as
// newEnv builds the flow tests' portal. Requests go straight to ServeHTTP: no
// network or TLS, which the load generator (cmd/sesame-load) covers.
//
// "test-params" hashes with passhash.TestParams (64 KiB, one pass), so it
// measures everything but argon2id: routing, CSRF, form checks, templates,
// TOTP, the store's reads and the login transaction. "default-params" is the
// same login with the production argon2id settings (19 MiB, two passes).
// Figures are in BENCHMARKS.md; nothing here asserts a timing.

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"syscall"
	"testing"
	"time"

	"sesame/internal/account"
	"sesame/internal/auth"
	"sesame/internal/authtest"
	"sesame/internal/i18n"
	"sesame/internal/passhash"
	"sesame/internal/totp"
)

func BenchmarkLogin(b *testing.B) {
	for _, c := range []struct {
		name   string
		params passhash.Params
	}{
		{"test-params", passhash.TestParams()},
		{"default-params", passhash.DefaultParams()},
	} {
		b.Run(c.name, func(b *testing.B) {
			p := newBenchPortal(b, c.params)
			const identifier, password = "bench@example.be", "correct horse battery staple"
			secret := p.enrol(b, identifier, password)
			for b.Loop() {
				// A new time step for every login: a code is accepted once.
				p.clock.Add(30 * time.Second)
				v := p.visitor()
				if w := v.do("GET", "/login", nil); w.Code != http.StatusOK {
					b.Fatalf("GET /login: %d", w.Code)
				}
				w := v.do("POST", "/login", url.Values{"identifier": {identifier}, "password": {password},
					"account_type": {string(account.Client)}, "totp": {totp.Default().Code(secret, p.clock.Now())}})
				if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/" || v.cookies[sessionCookie] == "" {
					b.Fatalf("POST /login: %d to %q\n%s", w.Code, w.Header().Get("Location"), w.Body)
				}
			}
		})
	}
}

// BenchmarkHome measures a logged-in page view: GET / with a session
// cookie, through the real handler on SQLite — the session and account
// read, the session touch, the page rendered in the account's language.
// A Tiers account, whose page names its office. cpu-µs/op is the
// process's CPU per page (getrusage), and pages/cpu-s its inverse: the
// figure BENCHMARKS.md compares with the target of 5,000 per CPU-second.
func BenchmarkHome(b *testing.B) {
	p := newBenchPortal(b, passhash.TestParams())
	const identifier, password = "makelaar@example.be", "correct horse battery staple"
	office := p.env.CreateOffice(b, "Peeters Verzekeringen")
	secret := p.enrolAccount(b, account.Account{Type: account.Tiers, Identifier: identifier, Name: "Jan Peeters",
		OfficeID: office.ID, Lang: i18n.NL}, password)
	p.clock.Add(30 * time.Second)
	v := p.visitor()
	v.do("GET", "/login", nil)
	w := v.do("POST", "/login", url.Values{"identifier": {identifier}, "password": {password},
		"account_type": {string(account.Tiers)}, "totp": {totp.Default().Code(secret, p.clock.Now())}})
	if w.Code != http.StatusSeeOther || v.cookies[sessionCookie] == "" {
		b.Fatalf("POST /login: %d\n%s", w.Code, w.Body)
	}
	if w := v.do("GET", "/", nil); w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "Peeters Verzekeringen") {
		b.Fatalf("GET /: %d\n%s", w.Code, w.Body)
	}
	start := processCPU()
	for b.Loop() {
		if w := v.do("GET", "/", nil); w.Code != http.StatusOK {
			b.Fatalf("GET /: %d", w.Code)
		}
	}
	if cpu := processCPU() - start; cpu > 0 {
		b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/op")
		b.ReportMetric(float64(b.N)/cpu.Seconds(), "pages/cpu-s")
	}
}

// processCPU is this process's CPU time, every thread, user and system.
func processCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchPortal is newEnv's portal for a benchmark: newEnv and its browser
// go through a TLS server, which a benchmark of the handler does not want.
type benchPortal struct {
	handler http.Handler
	env     *authtest.Env
	clock   *authtest.Clock
}

func newBenchPortal(b *testing.B, params passhash.Params) *benchPortal {
	b.Helper()
	clk := authtest.NewClock(authtest.Start)
	// Logging would be measured too; failures are reported by b.Fatal.
	log := slog.New(slog.DiscardHandler)
	env := authtest.New(b, clk, authtest.WithParams(params), authtest.WithLog(log))
	w, err := New(Options{Auth: env.Auth, Sessions: auth.DefaultSessionPolicy(), DefaultLang: i18n.FR, AppName: "Finagora", Log: log})
	if err != nil {
		b.Fatal(err)
	}
	return &benchPortal{handler: w, env: env, clock: clk}
}

// enrol creates a Client account and links its authenticator through the
// wizard's pages, returning the TOTP secret.
func (p *benchPortal) enrol(b *testing.B, identifier, password string) []byte {
	b.Helper()
	return p.enrolAccount(b, account.Account{Type: account.Client, Identifier: identifier, Name: "Bench", Lang: i18n.FR}, password)
}

// enrolAccount is enrol for any account.
func (p *benchPortal) enrolAccount(b *testing.B, a account.Account, password string) []byte {
	b.Helper()
	p.env.CreateAccount(b, a, password)
	identifier := a.Identifier
	v := p.visitor()
	v.do("GET", "/totp/init", nil)
	steps := []struct {
		path string
		form url.Values
	}{
		{"/totp/init", url.Values{"identifier": {identifier}, "password": {password}, "account_type": {string(a.Type)}}},
		{"/totp/init/question", url.Values{"question": {"first_plush"}, "answer": {"Doudou"}}},
	}
	for _, s := range steps {
		if w := v.do("POST", s.path, s.form); w.Code != http.StatusSeeOther {
			b.Fatalf("POST %s: %d\n%s", s.path, w.Code, w.Body)
		}
	}
	w := v.do("GET", "/totp/init", nil)
	m := groupedSecret.FindStringSubmatch(w.Body.String())
	if m == nil {
		b.Fatalf("no secret on step 3:\n%s", w.Body)
	}
	secret, err := totp.DecodeSecret(m[1])
	if err != nil {
		b.Fatal(err)
	}
	w = v.do("POST", "/totp/init/code", url.Values{"totp": {totp.Default().Code(secret, p.clock.Now())}})
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/totp/init/done" {
		b.Fatalf("POST /totp/init/code: %d to %q\n%s", w.Code, w.Header().Get("Location"), w.Body)
	}
	return secret
}

// benchVisitor is one browser calling the handler directly, keeping its
// cookies by hand.
type benchVisitor struct {
	handler http.Handler
	cookies map[string]string
}

func (p *benchPortal) visitor() *benchVisitor {
	return &benchVisitor{handler: p.handler, cookies: map[string]string{}}
}

// do sends a request (a POST when form is not nil, with the CSRF token and
// as a same-origin browser) and keeps the cookies the answer sets.
func (v *benchVisitor) do(method, path string, form url.Values) *httptest.ResponseRecorder {
	var body io.Reader
	if form != nil {
		form.Set("csrf", v.cookies[csrfCookie])
		body = strings.NewReader(form.Encode())
	}
	r := httptest.NewRequest(method, "https://portal.example"+path, body)
	if form != nil {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.Header.Set("Sec-Fetch-Site", "same-origin")
	}
	for name, value := range v.cookies {
		r.AddCookie(&http.Cookie{Name: name, Value: value})
	}
	w := httptest.NewRecorder()
	v.handler.ServeHTTP(w, r)
	for _, c := range w.Result().Cookies() {
		if c.MaxAge < 0 {
			delete(v.cookies, c.Name)
		} else {
			v.cookies[c.Name] = c.Value
		}
	}
	return w
}
