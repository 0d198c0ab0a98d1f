package sso_test

import (
	"html"
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
	"sesame/internal/config"
	"sesame/internal/finagora"
	"sesame/internal/i18n"
	"sesame/internal/oidc"
	"sesame/internal/simulation"
	"sesame/internal/sso"
	"sesame/internal/totp"
	"sesame/internal/web"
)

// fixture is the portal with its provider and two relying applications —
// Finagora ("finagora") and a second instance of it ("finagora2") — each a
// real server over TLS on loopback, wired as cmd/sesame wires them. Their
// cookies are __Host- (Secure), hence TLS; every httptest TLS server has the
// same certificate, so the portal's test client trusts all three.
//
// The clock starts at the wall clock's time and only moves forward by a few
// 30-second TOTP steps in a test: the provider's library dates ID tokens by
// the wall clock, and Finagora checks them on this clock.
type fixture struct {
	t        *testing.T
	clock    *authtest.Clock
	env      *authtest.Env
	provider *oidc.Provider
	portal   string // https://127.0.0.1:PORT, the issuer
	apps     map[string]string
	office   account.Office
	tls      func() *http.Client // a client that trusts the test servers
}

const (
	password   = "sesame-sso-2026!"
	officeName = "Cabinet Peeters & Fils"
	answer     = "Doudou"
)

// The relying applications' client ids and display names.
const (
	finagoraID   = "finagora"
	finagora2ID  = "finagora2"
	finagora2App = "Finagora Pro"
)

func newFixture(t *testing.T) *fixture {
	t.Helper()
	return newFixtureWith(t, nil)
}

// newFixtureWith is newFixture with the provider's options changed by set.
func newFixtureWith(t *testing.T, set func(*oidc.Options)) *fixture {
	t.Helper()
	clk := authtest.NewClock(time.Now())
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	env := authtest.New(t, clk, authtest.WithLog(log))
	f := &fixture{t: t, clock: clk, env: env, apps: map[string]string{}}

	// Every address first: the registrations name them.
	portalSrv := httptest.NewUnstartedServer(nil)
	t.Cleanup(portalSrv.Close)
	f.portal = "https://" + portalSrv.Listener.Addr().String()
	f.tls = func() *http.Client { return portalSrv.Client() }
	appSrv := map[string]*httptest.Server{}
	var clients []config.OIDCClient
	secrets := map[string]string{}
	for _, c := range []struct{ id, name string }{{finagoraID, "Finagora"}, {finagora2ID, finagora2App}} {
		srv := httptest.NewUnstartedServer(nil)
		t.Cleanup(srv.Close)
		appURL := "https://" + srv.Listener.Addr().String()
		appSrv[c.id], f.apps[c.id] = srv, appURL
		secret, hash := oidc.NewClientSecret()
		secrets[c.id] = secret
		// As cmd/sesame registers Finagora in the demo.
		clients = append(clients, config.OIDCClient{
			ID: c.id, Name: c.name, SecretHash: hash,
			RedirectURIs:           []string{appURL + finagora.CallbackPath},
			PostLogoutRedirectURIs: []string{appURL + "/"},
			BackchannelLogoutURI:   appURL + finagora.BackchannelLogoutPath,
			AccountTypes:           []string{"tiers", "group"},
		})
	}
	if err := (config.OIDC{Clients: clients}).Validate(); err != nil {
		t.Fatal(err)
	}

	// The portal and its provider, as cmd/sesame's app.site builds them.
	policy := auth.DefaultSessionPolicy()
	opts := oidc.Options{
		Store: env.DB, Keys: env.Auth.Keys, Issuer: f.portal, Clients: clients,
		SessionIdle: policy.Idle, SessionAbsolute: policy.Absolute, Now: clk.Now, Log: log,
		// Back-channel logout posts to the applications' TLS servers.
		HTTPClient: &http.Client{Transport: lateTransport{portalSrv}, Timeout: 5 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
	}
	if set != nil {
		set(&opts)
	}
	p, err := oidc.New(t.Context(), opts)
	if err != nil {
		t.Fatal(err)
	}
	f.provider = p
	pages, err := web.New(web.Options{
		Authorizations: sso.Authorizations(p), Auth: env.Auth, Sessions: policy, DefaultLang: i18n.FR,
		AppName: "Finagora", AppURL: f.apps[finagoraID], Log: log,
		Passwords: web.PasswordOptions{PublicURL: f.portal},
	})
	if err != nil {
		t.Fatal(err)
	}
	portalSrv.Config.Handler = sso.Handler(pages, p)
	portalSrv.StartTLS()

	for id, srv := range appSrv {
		h, err := finagora.New(finagora.Options{
			Basis: simulation.DefaultBasis(), DefaultLang: i18n.FR, PortalURL: f.portal, Logger: log, Now: clk.Now,
			Issuer: f.portal, ClientID: id, ClientSecret: secrets[id], RedirectURL: f.apps[id] + finagora.CallbackPath,
			HTTPClient: f.client(),
		})
		if err != nil {
			t.Fatal(err)
		}
		srv.Config.Handler = h
		srv.StartTLS()
	}
	f.office = env.CreateOffice(t, officeName)
	return f
}

// lateTransport is the TLS transport of a test server that is not started
// yet when the client is built.
type lateTransport struct{ srv *httptest.Server }

func (l lateTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	return l.srv.Client().Transport.RoundTrip(r)
}

// client is a fresh client that trusts the test servers.
func (f *fixture) client() *http.Client {
	c := *f.tls() // a copy: Client returns the same one every time
	c.Timeout = 10 * time.Second
	return &c
}

// person is an account of the fixture.
type person struct {
	account.Account
	secret []byte // the linked authenticator's secret, once there is one
}

// createPerson adds an account without an authenticator; Tiers accounts
// are in the fixture's office.
func (f *fixture) createPerson(typ account.Type, identifier, name string, lang i18n.Lang) *person {
	f.t.Helper()
	a := account.Account{Type: typ, Identifier: identifier, Name: name, Lang: lang}
	if typ == account.Tiers {
		a.OfficeID = f.office.ID
	}
	return &person{Account: f.env.CreateAccount(f.t, a, password)}
}

// enrolled adds an account and links an authenticator to it through the
// portal's own wizard (no application involved), in a browser of its own.
func (f *fixture) enrolled(typ account.Type, identifier, name string, lang i18n.Lang) *person {
	f.t.Helper()
	p := f.createPerson(typ, identifier, name, lang)
	b := f.browser("fr")
	b.get(f.portal + "/totp/init")
	p.secret = b.wizard(p, true)
	b.expectText("step 4", "class=\"card success\"")
	return p
}

// code is what p's authenticator shows now.
func (f *fixture) code(p *person) string {
	return totp.Default().Code(p.secret, f.clock.Now())
}

// nextStep moves the clock to the next TOTP step: each step's code is
// accepted once, as the authenticator shows the next one 30 s later.
func (f *fixture) nextStep() { f.clock.Add(30 * time.Second) }

// browser is one person's browser: a cookie jar shared by the portal and
// the applications (all on 127.0.0.1, as a browser shares cookies across
// ports of one host), following redirects, asking for one language.
type browser struct {
	f    *fixture
	t    *testing.T
	c    *http.Client
	lang string // Accept-Language

	status int
	url    *url.URL // the page's address, after redirects
	body   string   // the page, HTML entities decoded
	raw    string   // the page as sent
	csp    string   // the page's Content-Security-Policy
	header http.Header
}

func (f *fixture) browser(lang string) *browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		f.t.Fatal(err)
	}
	c := f.client()
	c.Jar = jar
	return &browser{f: f, t: f.t, c: c, lang: lang}
}

// on is the same browser reporting to t: for subtests.
func (b *browser) on(t *testing.T) *browser { c := *b; c.t = t; return &c }

func (b *browser) do(req *http.Request) {
	b.t.Helper()
	req.Header.Set("Accept-Language", b.lang)
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		b.t.Fatal(err)
	}
	b.status, b.url, b.raw, b.body = resp.StatusCode, resp.Request.URL, string(raw), html.UnescapeString(string(raw))
	b.csp, b.header = resp.Header.Get("Content-Security-Policy"), resp.Header
}

// get opens an address, following redirects.
func (b *browser) get(u string) {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	b.do(req)
}

// post submits a form of the current page to path (on the current page's
// origin), as a browser would: same-origin, with the page's CSRF token and
// hidden fields (authz) unless form sets them.
func (b *browser) post(path string, form url.Values) {
	b.t.Helper()
	origin := b.url.Scheme + "://" + b.url.Host
	for _, h := range hiddenField.FindAllStringSubmatch(b.raw, -1) {
		if !form.Has(h[1]) {
			form.Set(h[1], html.UnescapeString(h[2]))
		}
	}
	req, err := http.NewRequest(http.MethodPost, origin+path, strings.NewReader(form.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", origin)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	// As Chromium does, the page's form-action applies to the POST and to
	// every redirect after it: a login whose way back to the application
	// is not allowed never gets there in a real browser.
	allowed := formAction(b.csp, b.url)
	if !allowed(req.URL) {
		b.t.Fatalf("the page %s may not post to %s (Content-Security-Policy %q)", b.url, req.URL, b.csp)
	}
	page, c := b.url, *b.c
	c.CheckRedirect = func(next *http.Request, via []*http.Request) error {
		if !allowed(next.URL) {
			b.t.Fatalf("the form of %s is redirected to %s, which its Content-Security-Policy %q forbids: a browser aborts there",
				page, next.URL, b.csp)
		}
		return nil
	}
	b.c = &c
	defer func() { b.c.CheckRedirect = nil }()
	b.do(req)
}

// formAction reports which addresses the form-action directive of csp, on
// a page at page, lets a form (and the redirects after it) go to: 'self',
// an origin or a scheme, as browsers match them; no directive allows all.
func formAction(csp string, page *url.URL) func(*url.URL) bool {
	var sources []string
	found := false
	for _, d := range strings.Split(csp, ";") {
		fields := strings.Fields(d)
		if len(fields) > 0 && strings.EqualFold(fields[0], "form-action") {
			sources, found = fields[1:], true
			break
		}
	}
	return func(u *url.URL) bool {
		if !found {
			return true
		}
		for _, s := range sources {
			switch {
			case s == "'self'":
				if u.Scheme == page.Scheme && u.Host == page.Host {
					return true
				}
			case strings.HasSuffix(s, ":") && !strings.Contains(s, "/"):
				if u.Scheme+":" == s {
					return true
				}
			case s == u.Scheme+"://"+u.Host:
				return true
			}
		}
		return false
	}
}

var hiddenField = regexp.MustCompile(`<input type="hidden" name="([a-z_]+)" value="([^"]*)">`)

// hidden returns the value of the page's hidden field name ("" when none).
func (b *browser) hidden(name string) string {
	for _, h := range hiddenField.FindAllStringSubmatch(b.raw, -1) {
		if h[1] == name {
			return html.UnescapeString(h[2])
		}
	}
	return ""
}

// follow opens the first link of the page whose tag matches linkRE (an
// expression over the whole <a ...> tag) and returns its address.
func (b *browser) follow(what, linkRE string) string {
	b.t.Helper()
	re := regexp.MustCompile(`<a [^>]*` + linkRE + `[^>]*>`)
	tag := re.FindString(b.raw)
	if tag == "" {
		b.t.Fatalf("%s: no link matching %s on %s:\n%s", what, linkRE, b.url, b.raw)
	}
	m := regexp.MustCompile(`href="([^"]*)"`).FindStringSubmatch(tag)
	if m == nil {
		b.t.Fatalf("%s: link %s has no href", what, tag)
	}
	href, err := b.url.Parse(html.UnescapeString(m[1]))
	if err != nil {
		b.t.Fatal(err)
	}
	b.get(href.String())
	return href.String()
}

// at fails unless the page is at origin+path with status 200.
func (b *browser) at(what, origin, path string) {
	b.t.Helper()
	if b.status != http.StatusOK || b.url.Scheme+"://"+b.url.Host != origin || b.url.Path != path {
		b.t.Fatalf("%s: %d at %s, want 200 at %s%s\n%s", what, b.status, b.url, origin, path, b.body)
	}
}

// expectText reports each text the page lacks.
func (b *browser) expectText(what string, texts ...string) {
	b.t.Helper()
	for _, s := range texts {
		if !strings.Contains(b.body, s) {
			b.t.Errorf("%s (%s): the page lacks %q", what, b.url, s)
		}
	}
}

var groupedSecret = regexp.MustCompile(`<p class="secret"><code>([A-Z2-7 ]+)</code>`)

// wizard runs the initialisation wizard from its current page to step 4:
// identifier, password, type; the question (chosen when choose, else
// answered); the code of the secret shown at step 3, which it returns.
// The clock is then at the next step, ready for a login.
func (b *browser) wizard(p *person, choose bool) []byte {
	b.t.Helper()
	b.at("wizard", b.f.portal, "/totp/init")
	if strings.Contains(b.raw, `action="/totp/init" `) { // step 1; a login without a code starts at step 2
		b.post("/totp/init", url.Values{"identifier": {p.Identifier}, "password": {password}, "account_type": {string(p.Type)}})
		b.at("wizard step 1 → 2", b.f.portal, "/totp/init")
	}
	if choose {
		b.post("/totp/init/question", url.Values{"question": {"first_plush"}, "answer": {answer}})
	} else {
		if strings.Contains(b.raw, `name="question"`) {
			b.t.Fatalf("wizard step 2 asks to choose a question again:\n%s", b.body)
		}
		b.post("/totp/init/question", url.Values{"answer": {answer}})
	}
	b.at("wizard step 2 → 3", b.f.portal, "/totp/init")
	m := groupedSecret.FindStringSubmatch(b.raw)
	if m == nil {
		b.t.Fatalf("wizard step 3 shows no secret:\n%s", b.body)
	}
	secret, err := totp.DecodeSecret(m[1])
	if err != nil {
		b.t.Fatal(err)
	}
	b.post("/totp/init/code", url.Values{"totp": {totp.Default().Code(secret, b.f.clock.Now())}})
	b.at("wizard step 3 → 4", b.f.portal, "/totp/init/done")
	b.f.nextStep()
	return secret
}

// portalLoggedIn reports whether the portal's home page shows someone
// logged in.
func (b *browser) portalLoggedIn() bool {
	b.t.Helper()
	b.get(b.f.portal + "/")
	b.at("portal home", b.f.portal, "/")
	return strings.Contains(b.raw, `action="/logout"`)
}

// appLoggedIn reports whether the application's logged-in area opens
// without going through a log-in.
func (b *browser) appLoggedIn(app string) bool {
	b.t.Helper()
	stop := *b.c
	stop.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	req, _ := http.NewRequest(http.MethodGet, b.f.apps[app]+"/espace", nil)
	resp, err := stop.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusOK:
		return true
	case resp.StatusCode == http.StatusSeeOther && strings.HasPrefix(resp.Header.Get("Location"), "/login"):
		return false
	}
	b.t.Fatalf("GET /espace: %d → %s", resp.StatusCode, resp.Header.Get("Location"))
	return false
}
