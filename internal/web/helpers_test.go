package web

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"sesame/internal/account"
	"sesame/internal/auth"
	"sesame/internal/authtest"
	"sesame/internal/i18n"
	"sesame/internal/store"
	"sesame/internal/totp"
)

// env is a portal on a real SQLite store in a temp folder, served over TLS
// by httptest (the cookies are __Host-, so Secure), with a clock the test
// moves by hand.
type env struct {
	t      *testing.T
	srv    *httptest.Server
	web    *Server
	auth   *auth.Service
	store  store.Store
	clock  *authtest.Clock
	office account.Office
	base   *authtest.Env
}

func newEnv(t *testing.T, opts ...authtest.Option) *env {
	t.Helper()
	clk := authtest.NewClock(authtest.Start)
	log := slog.New(slog.NewTextHandler(t.Output(), nil))
	base := authtest.New(t, clk, append([]authtest.Option{authtest.WithLog(log)}, opts...)...)
	w, err := New(Options{Auth: base.Auth, Sessions: auth.DefaultSessionPolicy(), DefaultLang: i18n.FR, AppName: "Finagora", Log: log})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewTLSServer(w)
	t.Cleanup(srv.Close)
	office := base.CreateOffice(t, "Cabinet Peeters")
	return &env{t: t, srv: srv, web: w, auth: base.Auth, store: base.DB, clock: clk, office: office, base: base}
}

// createAccount adds an account with a password (and no authenticator).
func (e *env) createAccount(typ account.Type, identifier, password string, lang i18n.Lang) account.Account {
	e.t.Helper()
	a := account.Account{Type: typ, Identifier: identifier, Name: "Test " + identifier, Lang: lang}
	if typ == account.Tiers {
		a.OfficeID = e.office.ID
	}
	return e.base.CreateAccount(e.t, a, password)
}

// browser is one person's browser: a cookie jar and the language it asks for.
type browser struct {
	e    *env
	c    *http.Client
	lang string
	last *http.Response
	body string
}

func (e *env) browser(lang string) *browser {
	jar, _ := cookiejar.New(nil)
	// A copy: srv.Client() is shared, and each browser needs its own jar.
	c := *e.srv.Client()
	c.Jar = jar
	return &browser{e: e, c: &c, lang: lang}
}

func (b *browser) do(req *http.Request) (int, string) {
	b.e.t.Helper()
	if b.lang != "" {
		req.Header.Set("Accept-Language", b.lang)
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.e.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	b.last, b.body = resp, string(body)
	return resp.StatusCode, b.body
}

// get fetches a page.
func (b *browser) get(path string) (int, string) {
	b.e.t.Helper()
	req, _ := http.NewRequest("GET", b.e.srv.URL+path, nil)
	return b.do(req)
}

// csrf returns the browser's CSRF token (from its cookie, fetching a page first if it has none).
func (b *browser) csrf() string {
	b.e.t.Helper()
	u, _ := url.Parse(b.e.srv.URL)
	for range 2 {
		for _, c := range b.c.Jar.Cookies(u) {
			if c.Name == csrfCookie {
				return c.Value
			}
		}
		b.get("/login")
	}
	b.e.t.Fatal("no CSRF cookie")
	return ""
}

// post submits a form as a same-origin browser would, with the CSRF token.
func (b *browser) post(path string, form url.Values) (int, string) {
	b.e.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if !form.Has("csrf") {
		form.Set("csrf", b.csrf())
	}
	req, _ := http.NewRequest("POST", b.e.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", b.e.srv.URL)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	return b.do(req)
}

// code returns the current TOTP code of secret on the env's clock.
func (e *env) code(secret []byte) string { return totp.Default().Code(secret, e.clock.Now()) }

var groupedSecret = regexp.MustCompile(`<p class="secret"><code>([A-Z2-7 ]+)</code>`)

// secretOnPage reads the pending secret shown at step 3.
func (b *browser) secretOnPage() []byte {
	b.e.t.Helper()
	m := groupedSecret.FindStringSubmatch(b.body)
	if m == nil {
		b.e.t.Fatalf("no secret on the page:\n%s", b.body)
	}
	s, err := totp.DecodeSecret(m[1])
	if err != nil {
		b.e.t.Fatal(err)
	}
	return s
}

// enrol runs the whole wizard for an account with no question yet and
// returns the linked secret.
func (b *browser) enrol(typ account.Type, identifier, password string) []byte {
	b.e.t.Helper()
	b.get("/totp/init")
	if st, body := b.post("/totp/init", url.Values{"identifier": {identifier}, "password": {password}, "account_type": {string(typ)}}); st != 200 || !strings.Contains(body, `name="answer"`) {
		b.e.t.Fatalf("step 1: %d\n%s", st, body)
	}
	if st, body := b.post("/totp/init/question", url.Values{"question": {"first_plush"}, "answer": {"Doudou"}}); st != 200 || !strings.Contains(body, "otpauth://totp/") {
		b.e.t.Fatalf("step 2: %d\n%s", st, body)
	}
	secret := b.secretOnPage()
	if st, body := b.post("/totp/init/code", url.Values{"totp": {b.e.code(secret)}}); st != 200 || !strings.Contains(body, `class="card success"`) {
		b.e.t.Fatalf("step 3: %d\n%s", st, body)
	}
	b.e.clock.Add(30 * time.Second) // the enrolment consumed this step's code
	return secret
}

// login logs in and reports the status and page.
func (b *browser) login(typ account.Type, identifier, password, code string) (int, string) {
	b.e.t.Helper()
	b.get("/login")
	return b.post("/login", url.Values{"identifier": {identifier}, "password": {password}, "account_type": {string(typ)}, "totp": {code}})
}
