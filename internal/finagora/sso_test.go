package finagora

import (
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"sesame/internal/simulation"
)

// clock is the tests' movable clock, shared by Finagora and the issuer.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// ssoEnv is Finagora over TLS (its cookies are Secure), logging in at a
// fake issuer.
type ssoEnv struct {
	t      *testing.T
	clock  *clock
	issuer *fakeIssuer
	url    string // Finagora's
	srv    *httptest.Server
}

func newSSO(t *testing.T) *ssoEnv {
	t.Helper()
	c := &clock{t: testNow}
	f := startIssuer(t, c.Now)
	return newSSOWith(t, c, f, f.url)
}

// newSSOWith starts Finagora with issuerURL, which need not answer.
func newSSOWith(t *testing.T, c *clock, f *fakeIssuer, issuerURL string) *ssoEnv {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	e := &ssoEnv{t: t, clock: c, issuer: f, url: "https://" + ln.Addr().String()}
	h, err := New(Options{
		Basis: simulation.DefaultBasis(), Now: c.Now,
		Issuer: issuerURL, ClientID: "finagora", ClientSecret: "s3cret-finagora-client",
		RedirectURL: e.url + "/callback",
	})
	if err != nil {
		t.Fatal(err)
	}
	e.srv = &httptest.Server{Listener: ln, Config: &http.Server{Handler: h}}
	e.srv.StartTLS()
	t.Cleanup(e.srv.Close)
	return e
}

// browser is a client with its own cookie jar, following redirects
// (across Finagora and the issuer) unless stop.
func (e *ssoEnv) browser(lang string, stop bool) *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		e.t.Fatal(err)
	}
	c := new(http.Client)
	*c = *e.srv.Client() // a copy: Client returns the same one every time
	c.Jar = jar
	if stop {
		c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	}
	c.Transport = langTransport{c.Transport, lang}
	return c
}

// langTransport sends Accept-Language, as a browser would.
type langTransport struct {
	next http.RoundTripper
	lang string
}

func (l langTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Accept-Language", l.lang)
	return l.next.RoundTrip(r)
}

type page struct {
	status int
	url    string // the final URL, after redirects
	loc    string // Location, when redirects are not followed
	body   string
	header http.Header
}

func get(t *testing.T, c *http.Client, u string) page {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	return read(t, resp)
}

func read(t *testing.T, resp *http.Response) page {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return page{status: resp.StatusCode, url: resp.Request.URL.String(), loc: resp.Header.Get("Location"), body: string(b), header: resp.Header}
}

// postForm posts a form as a same-origin page would.
func postFrom(t *testing.T, c *http.Client, u, origin string, form url.Values) page {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return read(t, resp)
}

// login logs a browser in as user, through the whole redirect chain.
func (e *ssoEnv) login(c *http.Client, user fakeUser) page {
	e.t.Helper()
	e.issuer.set(func(f *fakeIssuer) { f.user = user })
	p := get(e.t, c, e.url+"/login")
	if p.status != http.StatusOK || !strings.HasSuffix(p.url, "/espace") {
		e.t.Fatalf("login: %d at %s\n%s", p.status, p.url, p.body)
	}
	return p
}

// loggedIn reports whether the browser has a Finagora session.
func (e *ssoEnv) loggedIn(c *http.Client) bool {
	e.t.Helper()
	stop := *c
	stop.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	p := get(e.t, &stop, e.url+"/espace")
	switch p.status {
	case http.StatusOK:
		return true
	case http.StatusSeeOther:
		return false
	}
	e.t.Fatalf("/espace: %d", p.status)
	return false
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func csrfOf(t *testing.T, body string) string {
	t.Helper()
	m := csrfField.FindStringSubmatch(body)
	if m == nil {
		t.Fatal("no CSRF token on the page")
	}
	return m[1]
}

func TestLoginRedirect(t *testing.T) {
	e := newSSO(t)
	c := e.browser("nl-BE", true)
	p := get(t, c, e.url+"/login?next=/subscription")
	if p.status != http.StatusFound || !strings.HasPrefix(p.loc, e.issuer.url+"/authorize?") {
		t.Fatalf("GET /login: %d → %q", p.status, p.loc)
	}
	u, _ := url.Parse(p.loc)
	q := u.Query()
	for k, want := range map[string]string{
		"response_type": "code", "client_id": "finagora", "redirect_uri": e.url + "/callback",
		"scope": "openid email profile sesame", "code_challenge_method": "S256", "ui_locales": "nl",
	} {
		if got := q.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	for _, k := range []string{"state", "nonce"} {
		if len(q.Get(k)) < 43 {
			t.Errorf("%s = %q: too short to be unguessable", k, q.Get(k))
		}
	}
	if len(q.Get("code_challenge")) != 43 || q.Get("state") == q.Get("nonce") {
		t.Errorf("code_challenge %q, state %q, nonce %q", q.Get("code_challenge"), q.Get("state"), q.Get("nonce"))
	}
	if strings.Contains(p.loc, "s3cret") || q.Has("prompt") || q.Has("max_age") {
		t.Errorf("authorization URL %s", p.loc)
	}
	var pending *http.Cookie
	for _, ck := range get(t, c, e.url+"/login").header.Values("Set-Cookie") {
		if strings.HasPrefix(ck, pendingCookie+"=") {
			pending, _ = http.ParseSetCookie(ck)
		}
	}
	if pending == nil || !pending.Secure || !pending.HttpOnly || pending.SameSite != http.SameSiteLaxMode ||
		pending.Path != "/" || pending.Domain != "" || pending.MaxAge <= 0 || pending.MaxAge > 600 {
		t.Errorf("pending-login cookie %+v", pending)
	}

	p = get(t, c, e.url+"/login?prompt=login&max_age=0")
	q = mustURL(t, p.loc).Query()
	if q.Get("prompt") != "login" || q.Get("max_age") != "0" {
		t.Errorf("prompt/max_age not passed on: %s", p.loc)
	}
	for _, bad := range []string{"prompt=evil", "max_age=-1", "max_age=soon"} {
		if p := get(t, c, e.url+"/login?"+bad); p.status != http.StatusBadRequest {
			t.Errorf("/login?%s: %d, want 400", bad, p.status)
		}
	}
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestLoginFlow(t *testing.T) {
	e := newSSO(t)
	tests := []struct {
		lang  string
		user  fakeUser
		wants []string
		lacks []string
	}{
		{"fr-BE", marie, []string{"Vous êtes connecté(e)", "Marie Dupont", "courtier@cabinet-dupont.be",
			"Courtier (Tiers)", "Cabinet Dupont &amp; Fils", "Se déconnecter", `action="/logout"`}, []string{">Se connecter<"}},
		{"nl-BE", jan, []string{"U bent ingelogd", "Jan Peeters", "makelaar@peeters-verzekeringen.be",
			"Makelaar (Tiers)", "Peeters Verzekeringen", "Uitloggen", "Kantoor"}, []string{">Inloggen<"}},
		{"en", staff, []string{"Staff Member", "Insurer&#39;s staff (Group)"}, []string{"Office"}},
	}
	for _, tt := range tests {
		c := e.browser(tt.lang, false)
		p := e.login(c, tt.user)
		wantContains(t, tt.lang, p.body, tt.wants...)
		for _, l := range tt.lacks {
			if strings.Contains(p.body, l) {
				t.Errorf("%s: the logged-in area shows %q", tt.lang, l)
			}
		}
		if strings.Contains(p.body, e.issuer.idTokens[len(e.issuer.idTokens)-1]) || p.header.Get("Cache-Control") != "no-store" {
			t.Errorf("%s: the page shows the ID token, or may be cached (%q)", tt.lang, p.header.Get("Cache-Control"))
		}
		// The header shows the person on every page.
		home := get(t, c, e.url+"/")
		wantContains(t, tt.lang+" home", home.body, tt.user.Name, `href="/espace"`)
	}

	// The token request: Basic authorization, the PKCE verifier, no secret in the form.
	tok := e.issuer.tokens[0]
	if tok.Has("client_secret") || len(tok.Get("code_verifier")) < 43 {
		t.Errorf("token request form %v", tok)
	}

	// The session cookie.
	c := e.browser("fr", true)
	p := get(t, c, e.url+"/login")
	p = get(t, c, p.loc) // the issuer's authorization endpoint
	p = get(t, c, p.loc) // Finagora's callback
	if p.status != http.StatusSeeOther || p.loc != "/espace" {
		t.Fatalf("callback: %d → %q\n%s", p.status, p.loc, p.body)
	}
	var sess *http.Cookie
	for _, ck := range p.header.Values("Set-Cookie") {
		if strings.HasPrefix(ck, sessionCookie+"=") {
			sess, _ = http.ParseSetCookie(ck)
		}
	}
	if sess == nil || !sess.Secure || !sess.HttpOnly || sess.SameSite != http.SameSiteLaxMode || sess.Path != "/" || len(sess.Value) < 43 {
		t.Errorf("session cookie %+v", sess)
	}
}

// TestCallbackRefusals: a callback that does not belong to a log-in this
// browser started, or that reports an error, starts no session.
func TestCallbackRefusals(t *testing.T) {
	e := newSSO(t)
	// start begins a log-in in c and returns the issuer's answer, unsent.
	start := func(c *http.Client) url.Values {
		t.Helper()
		p := get(t, c, e.url+"/login")
		p = get(t, c, p.loc)
		return mustURL(t, p.loc).Query()
	}
	callback := func(c *http.Client, q url.Values) page {
		t.Helper()
		return get(t, c, e.url+"/callback?"+q.Encode())
	}
	tests := []struct {
		name   string
		change func(c *http.Client, q url.Values) *http.Client // returns the browser that calls back
		want   string
	}{
		{"wrong state", func(c *http.Client, q url.Values) *http.Client { q.Set("state", "forged"); return c }, "Connexion expirée"},
		{"no pending login", func(c *http.Client, q url.Values) *http.Client { return e.browser("fr", true) }, "Connexion expirée"},
		{"wrong iss", func(c *http.Client, q url.Values) *http.Client { q.Set("iss", "https://evil.example"); return c }, "Connexion impossible"},
		{"no iss", func(c *http.Client, q url.Values) *http.Client { q.Del("iss"); return c }, "Connexion impossible"},
		{"login_required", func(c *http.Client, q url.Values) *http.Client {
			q.Del("code")
			q.Set("error", "login_required")
			return c
		}, "Connexion nécessaire"},
		{"access_denied", func(c *http.Client, q url.Values) *http.Client {
			q.Del("code")
			q.Set("error", "access_denied")
			return c
		}, "Connexion annulée"},
		{"no code", func(c *http.Client, q url.Values) *http.Client { q.Del("code"); return c }, "Connexion impossible"},
		{"bad code", func(c *http.Client, q url.Values) *http.Client { q.Set("code", "forged"); return c }, "Connexion impossible"},
	}
	for _, tt := range tests {
		c := e.browser("fr", true)
		q := start(c)
		back := tt.change(c, q)
		p := callback(back, q)
		if p.status != http.StatusBadRequest || !strings.Contains(p.body, tt.want) {
			t.Errorf("%s: %d\n%s", tt.name, p.status, p.body)
		}
		if e.loggedIn(back) || e.loggedIn(c) {
			t.Errorf("%s: a session was started", tt.name)
		}
	}

	// A state is used once: the same answer again is refused, even after
	// the log-in succeeded.
	c := e.browser("nl", true)
	q := start(c)
	if p := callback(c, q); p.status != http.StatusSeeOther {
		t.Fatalf("good callback: %d\n%s", p.status, p.body)
	}
	other := e.browser("nl", true)
	start(other) // a pending log-in of its own
	p := callback(other, q)
	if p.status != http.StatusBadRequest || !strings.Contains(p.body, "Inlogpoging verlopen") || e.loggedIn(other) {
		t.Errorf("replayed state: %d\n%s", p.status, p.body)
	}
	if p := callback(c, q); p.status != http.StatusBadRequest {
		t.Errorf("replayed callback in the same browser: %d", p.status)
	}
}

// TestIDTokenRefused: go-oidc's verifier and the nonce check refuse ID
// tokens that are not for this log-in.
func TestIDTokenRefused(t *testing.T) {
	e := newSSO(t)
	unknown := newECKey(t, "es-1") // the same key id, another key
	tests := []struct {
		name   string
		change func(f *fakeIssuer)
	}{
		{"nonce differs", func(f *fakeIssuer) { f.tamper = func(c map[string]any) { c["nonce"] = "another" } }},
		{"no nonce", func(f *fakeIssuer) { f.tamper = func(c map[string]any) { delete(c, "nonce") } }},
		{"aud differs", func(f *fakeIssuer) { f.tamper = func(c map[string]any) { c["aud"] = "another-client" } }},
		{"iss differs", func(f *fakeIssuer) { f.tamper = func(c map[string]any) { c["iss"] = "https://evil.example" } }},
		{"expired", func(f *fakeIssuer) {
			f.tamper = func(c map[string]any) { c["exp"] = f.now().Add(-time.Second).Unix() }
		}},
		{"unknown key", func(f *fakeIssuer) { f.signWith = unknown }},
		{"unknown key id", func(f *fakeIssuer) { f.signWith = signingKey{priv: unknown.priv, kid: "nobody", alg: unknown.alg} }},
	}
	for _, tt := range tests {
		e.issuer.set(func(f *fakeIssuer) { f.tamper, f.signWith = nil, f.es; tt.change(f) })
		c := e.browser("fr", false)
		p := get(t, c, e.url+"/login")
		if p.status != http.StatusBadRequest || !strings.Contains(p.body, "Connexion impossible") || e.loggedIn(c) {
			t.Errorf("%s: %d at %s\n%s", tt.name, p.status, p.url, p.body)
		}
	}

	// Both of the portal's algorithms are accepted.
	for _, k := range []signingKey{e.issuer.rsa, e.issuer.es} {
		e.issuer.set(func(f *fakeIssuer) { f.tamper, f.signWith = nil, k })
		e.login(e.browser("fr", false), marie)
	}
}

func TestLogout(t *testing.T) {
	e := newSSO(t)
	c := e.browser("fr", false)
	p := e.login(c, marie)
	token := csrfOf(t, p.body)
	idToken := e.issuer.idTokens[len(e.issuer.idTokens)-1]

	// CSRF: a missing or wrong token, or another site's form, changes nothing.
	for name, try := range map[string]func() page{
		"no token":    func() page { return postFrom(t, c, e.url+"/logout", e.url, nil) },
		"wrong token": func() page { return postFrom(t, c, e.url+"/logout", e.url, url.Values{"csrf": {"forged"}}) },
		"cross-site": func() page {
			return postFrom(t, c, e.url+"/logout", "https://evil.example", url.Values{"csrf": {token}})
		},
	} {
		if p := try(); p.status != http.StatusForbidden || !strings.Contains(p.body, "Demande refusée") {
			t.Errorf("%s: %d", name, p.status)
		}
		if !e.loggedIn(c) {
			t.Fatalf("%s: the session ended", name)
		}
	}

	stop := *c
	stop.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	p = postFrom(t, &stop, e.url+"/logout", e.url, url.Values{"csrf": {token}})
	if p.status != http.StatusSeeOther || !strings.HasPrefix(p.loc, e.issuer.url+"/end-session?") {
		t.Fatalf("logout: %d → %q", p.status, p.loc)
	}
	q := mustURL(t, p.loc).Query()
	if q.Get("id_token_hint") != idToken || q.Get("post_logout_redirect_uri") != e.url+"/" || q.Get("state") == "" ||
		q.Get("client_id") != "finagora" {
		t.Errorf("end-session request %v", q)
	}
	if e.loggedIn(c) {
		t.Error("the session outlived the logout")
	}
	// Back from the portal: the home page, logged out, says so once.
	p = get(t, c, p.loc)
	if !strings.HasPrefix(p.url, e.url+"/?state=") {
		t.Fatalf("after logout: at %s", p.url)
	}
	wantContains(t, "after logout", p.body, "Vous êtes déconnecté(e)", ">Se connecter<")
	if p := get(t, c, p.url); strings.Contains(p.body, "Vous êtes déconnecté(e)") {
		t.Error("the logged-out notice shows again")
	}
	// A forged return shows nothing.
	if p := get(t, c, e.url+"/?state=forged"); strings.Contains(p.body, "Vous êtes déconnecté(e)") {
		t.Error("a forged state shows the notice")
	}
	// Logging out again (another tab) just goes home.
	if p := postFrom(t, &stop, e.url+"/logout", e.url, url.Values{"csrf": {token}}); p.status != http.StatusSeeOther || p.loc != "/" {
		t.Errorf("second logout: %d → %q", p.status, p.loc)
	}
}

// backchannel posts a logout token as the portal's server would: no
// cookie, no Origin.
func (e *ssoEnv) backchannel(token string, origin string) page {
	e.t.Helper()
	return postFrom(e.t, e.srv.Client(), e.url+"/backchannel-logout", origin, url.Values{"logout_token": {token}})
}

func TestBackchannelLogout(t *testing.T) {
	e := newSSO(t)
	a, b, d := e.browser("fr", false), e.browser("fr", false), e.browser("nl", false)
	e.login(a, marie)
	e.login(b, marie) // Marie again, in another portal session
	e.login(d, jan)
	sidA := "sid-1"

	p := e.backchannel(e.issuer.logoutToken(sidA, marie.Sub, nil), "")
	if p.status != http.StatusOK || p.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("valid logout token: %d %q\n%s", p.status, p.header.Get("Cache-Control"), p.body)
	}
	if e.loggedIn(a) || !e.loggedIn(b) || !e.loggedIn(d) {
		t.Errorf("after logout of %s: a %v, b %v, d %v; want only a logged out", sidA, e.loggedIn(a), e.loggedIn(b), e.loggedIn(d))
	}

	// Without sid, every session of the subject ends; an Origin does not
	// make the cross-origin protection refuse the portal.
	if p := e.backchannel(e.issuer.logoutToken("", marie.Sub, nil), "https://portal.example"); p.status != http.StatusOK {
		t.Fatalf("sub-only logout token: %d\n%s", p.status, p.body)
	}
	if e.loggedIn(b) || !e.loggedIn(d) {
		t.Error("a sub-only token did not end exactly that subject's sessions")
	}

	replayed := e.issuer.logoutToken("sid-3", "", nil)
	if p := e.backchannel(replayed, ""); p.status != http.StatusOK || e.loggedIn(d) {
		t.Fatalf("sid-only logout token: %d", p.status)
	}
	e.login(d, jan)

	other := newECKey(t, "es-1")
	bad := map[string]string{
		"nonce":       e.issuer.logoutToken("sid-4", "", func(c map[string]any) { c["nonce"] = "n" }),
		"no events":   e.issuer.logoutToken("sid-4", "", func(c map[string]any) { delete(c, "events") }),
		"other event": e.issuer.logoutToken("sid-4", "", func(c map[string]any) { c["events"] = map[string]any{"urn:other": map[string]any{}} }),
		"event not JSON object": e.issuer.logoutToken("sid-4", "", func(c map[string]any) {
			c["events"] = map[string]any{"http://schemas.openid.net/event/backchannel-logout": "yes"}
		}),
		"no iat":         e.issuer.logoutToken("sid-4", "", func(c map[string]any) { delete(c, "iat") }),
		"no jti":         e.issuer.logoutToken("sid-4", "", func(c map[string]any) { delete(c, "jti") }),
		"no sid nor sub": e.issuer.logoutToken("", "", nil),
		"wrong aud":      e.issuer.logoutToken("sid-4", "", func(c map[string]any) { c["aud"] = "another-client" }),
		"wrong iss":      e.issuer.logoutToken("sid-4", "", func(c map[string]any) { c["iss"] = "https://evil.example" }),
		"expired":        e.issuer.logoutToken("sid-4", "", func(c map[string]any) { c["exp"] = testNow.Add(-time.Second).Unix() }),
		"bad signature":  other.sign(t, map[string]any{"iss": e.issuer.url, "aud": "finagora", "sid": "sid-4", "jti": "x", "iat": testNow.Unix(), "exp": testNow.Add(time.Minute).Unix(), "events": map[string]any{"http://schemas.openid.net/event/backchannel-logout": map[string]any{}}}, "logout+jwt"),
		"an ID token":    e.issuer.idTokens[len(e.issuer.idTokens)-1],
		"replayed jti":   replayed,
		"garbage":        "not.a.token",
		"empty":          "",
	}
	for name, tok := range bad {
		p := e.backchannel(tok, "")
		if p.status != http.StatusBadRequest || strings.TrimSpace(p.body) != `{"error":"invalid_request"}` ||
			p.header.Get("Cache-Control") != "no-store" || p.header.Get("Content-Type") != "application/json" {
			t.Errorf("%s: %d %q %q", name, p.status, p.body, p.header.Get("Cache-Control"))
		}
	}
	if !e.loggedIn(d) {
		t.Error("a refused logout token ended a session")
	}
}

// TestProtectedPages: the full simulation and subscription send anonymous
// visitors through the log-in and back; logged-in visitors go straight there.
func TestProtectedPages(t *testing.T) {
	e := newSSO(t)
	c := e.browser("fr", false)
	p := get(t, c, e.url+"/simulation/complete")
	if p.status != http.StatusOK || p.url != e.url+"/simulation/complete" {
		t.Fatalf("after log-in: %d at %s", p.status, p.url)
	}
	wantContains(t, "full simulation", p.body, "Simulation complète", "pas disponible dans cette démonstration",
		"chiffres de la simulation rapide", "Marie Dupont")
	if strings.Contains(p.body, "<input") && !strings.Contains(p.body, `name="csrf"`) {
		t.Error("the full simulation page has a form")
	}
	n := len(e.issuer.authz)
	p = get(t, c, e.url+"/subscription?lang=nl")
	wantContains(t, "subscription", p.body, "Onderschrijving", "niet beschikbaar in deze demonstratie")
	if len(e.issuer.authz) != n {
		t.Error("a logged-in visitor went through the portal again")
	}
	// The page to come back to must be on this site.
	for _, next := range []string{"https://evil.example/", "//evil.example", "/\\evil.example", "/login", "javascript:alert(1)"} {
		c := e.browser("fr", false)
		if p := get(t, c, e.url+"/login?next="+url.QueryEscape(next)); p.url != e.url+"/espace" {
			t.Errorf("next=%s: ended at %s", next, p.url)
		}
	}
}

func TestLocalPath(t *testing.T) {
	for in, want := range map[string]string{
		"": "/espace", "/": "/", "/subscription": "/subscription", "/simulation/complete?x=1": "/simulation/complete?x=1",
		"//evil.example": "/espace", "https://evil.example": "/espace", "/\\evil": "/espace", "evil": "/espace",
		"/callback": "/espace", "/a\nb": "/espace", "/" + strings.Repeat("a", 600): "/espace",
	} {
		if got := localPath(in); got != want {
			t.Errorf("localPath(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSessionExpiry(t *testing.T) {
	e := newSSO(t)
	c := e.browser("fr", false)
	e.login(c, marie)
	e.clock.Add(29 * time.Minute)
	if !e.loggedIn(c) {
		t.Fatal("the session ended before its idle time")
	}
	e.clock.Add(30 * time.Minute)
	if e.loggedIn(c) {
		t.Fatal("the session outlived its idle time")
	}
	e.login(c, marie)
	for range 12 * 3 {
		e.clock.Add(20 * time.Minute)
		if !e.loggedIn(c) {
			break
		}
	}
	if e.loggedIn(c) {
		t.Error("the session outlived its absolute lifetime")
	}
}

// TestProviderDown: Finagora starts without the portal, says so in the
// visitor's language (503), and logs in once the portal answers.
func TestProviderDown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String()
	ln.Close()
	down := newSSOWith(t, &clock{t: testNow}, nil, closed)
	for lang, want := range map[string]string{"fr": "Le service de connexion est momentanément injoignable", "nl": "De inlogdienst is momenteel niet bereikbaar"} {
		p := get(t, down.browser(lang, false), down.url+"/simulation/complete")
		if p.status != http.StatusServiceUnavailable || !strings.Contains(p.body, want) || p.header.Get("Retry-After") == "" ||
			!strings.Contains(p.body, `href="/login?next=%2Fsimulation%2Fcomplete"`) {
			t.Errorf("%s: %d\n%s", lang, p.status, p.body)
		}
	}

	e := newSSO(t)
	e.issuer.set(func(f *fakeIssuer) { f.down = true })
	c := e.browser("fr", false)
	if p := get(t, c, e.url+"/login"); p.status != http.StatusServiceUnavailable {
		t.Fatalf("portal starting: %d", p.status)
	}
	e.issuer.set(func(f *fakeIssuer) { f.down = false })
	e.login(c, marie)
}

func TestNewRejectsBadSSOOptions(t *testing.T) {
	good := Options{Basis: simulation.DefaultBasis(), Issuer: "https://sesame.example", ClientID: "finagora",
		ClientSecret: "secret", RedirectURL: "https://finagora.example/callback"}
	if _, err := New(good); err != nil {
		t.Fatalf("New: %v", err)
	}
	for name, change := range map[string]func(o *Options){
		"issuer":      func(o *Options) { o.Issuer = "sesame.example" },
		"client id":   func(o *Options) { o.ClientID = "" },
		"secret":      func(o *Options) { o.ClientSecret = "" },
		"redirect":    func(o *Options) { o.RedirectURL = "https://finagora.example/elsewhere" },
		"no redirect": func(o *Options) { o.RedirectURL = "" },
		"post-logout": func(o *Options) { o.PostLogoutRedirectURL = "/" },
	} {
		o := good
		change(&o)
		if _, err := New(o); err == nil {
			t.Errorf("%s: New accepted bad options", name)
		}
	}
}
