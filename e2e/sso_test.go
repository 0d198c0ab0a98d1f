package e2e

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

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

// Selectors of Finagora's pages (internal/finagora/templates).
const (
	finagoraLogin  = `header.top a.button[href="/login"]`
	finagoraLogout = `main form[action="/logout"] button`
	finagoraWho    = `header.top .who`
	initLink       = `form[action="/login"] a[href="/totp/init"]`
	doneLink       = `.card.success a.button`
)

// sso is the demo's pair as cmd/sesame wires it: the portal with its
// OpenID Connect provider on one origin, and Finagora registered as its
// client "finagora" accepting Tiers and Group accounts — both served over
// plain http and addressed as localhost, so the issuer is
// http://localhost:PORT.
type ssoPair struct {
	portal   *portal
	finagora string // http://localhost:PORT
}

func startSSO(t *testing.T) *ssoPair {
	t.Helper()
	// The provider's library dates ID tokens by the wall clock and Finagora
	// checks them on this one: it starts now and moves only by TOTP steps.
	clk := authtest.NewClock(time.Now())
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	env := authtest.New(t, clk, authtest.WithLog(log))
	policy := auth.DefaultSessionPolicy()

	portalSrv := httptest.NewUnstartedServer(nil)
	t.Cleanup(portalSrv.Close)
	appSrv := httptest.NewUnstartedServer(nil)
	t.Cleanup(appSrv.Close)
	issuer := "http://localhost:" + port(t, portalSrv)
	app := "http://localhost:" + port(t, appSrv)

	secret, hash := oidc.NewClientSecret()
	clients := []config.OIDCClient{{
		ID: "finagora", Name: "Finagora", SecretHash: hash,
		RedirectURIs:           []string{app + finagora.CallbackPath},
		PostLogoutRedirectURIs: []string{app + "/"},
		BackchannelLogoutURI:   app + finagora.BackchannelLogoutPath,
		AccountTypes:           []string{"tiers", "group"},
	}}
	p, err := oidc.New(t.Context(), oidc.Options{Store: env.DB, Keys: env.Auth.Keys, Issuer: issuer, Clients: clients,
		SessionIdle: policy.Idle, SessionAbsolute: policy.Absolute, Now: clk.Now, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	pages, err := web.New(web.Options{Authorizations: sso.Authorizations(p), Auth: env.Auth, Sessions: policy,
		DefaultLang: i18n.FR, AppName: "Finagora", AppURL: app, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	portalSrv.Config.Handler = sso.Handler(pages, p)
	portalSrv.Start()

	h, err := finagora.New(finagora.Options{Basis: simulation.DefaultBasis(), DefaultLang: i18n.FR, PortalURL: issuer, Logger: log,
		Now: clk.Now, Issuer: issuer, ClientID: "finagora", ClientSecret: secret, RedirectURL: app + finagora.CallbackPath})
	if err != nil {
		t.Fatal(err)
	}
	appSrv.Config.Handler = h
	appSrv.Start()

	office := env.CreateOffice(t, officeName)
	return &ssoPair{
		portal:   &portal{t: t, url: issuer, env: env, clock: clk, office: office, session: policy},
		finagora: app,
	}
}

// port is the port an unstarted test server listens on.
func port(t *testing.T, srv *httptest.Server) string {
	t.Helper()
	u, err := url.Parse("http://" + srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	return u.Port()
}

// shareShot also copies a screenshot into the folder SESAME_E2E_SHOTS
// names, if any, for people to look at after the run.
func shareShot(t *testing.T, name string, b []byte) {
	t.Helper()
	dir := os.Getenv("SESAME_E2E_SHOTS")
	if dir == "" {
		return
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestFinagoraFirstLogin is the guides' path in the browser, in French and
// in Dutch: Finagora's home → "se connecter" / "inloggen" → Sesame's login
// page for Finagora → "initialisation" → the wizard, its QR code scanned
// from the screen → step 4's link back to the login → identifier,
// password, next code → Finagora's logged-in area → log out.
func TestFinagoraFirstLogin(t *testing.T) {
	for _, lang := range []i18n.Lang{i18n.FR, i18n.NL} {
		t.Run(string(lang), func(t *testing.T) {
			s := startSSO(t)
			p := s.portal
			acc := p.createAccount()
			c := newChrome(t) // asks for French, like the guides' first reader
			msg := catalog(t, "../internal/web/locales")
			app := catalog(t, "../internal/finagora/locales")
			shot := func(name string, minH int) {
				t.Helper()
				b := c.screenshot()
				savePNG(t, name+".png", b, 800, minH)
				shareShot(t, "sso-"+string(lang)+"-"+name+".png", b)
			}

			// Finagora's home; a Dutch reader clicks NL in its header.
			if st := c.open(s.finagora + "/"); st != http.StatusOK {
				t.Fatalf("Finagora's home: %d", st)
			}
			if lang != i18n.FR {
				if st := c.submit(`nav.langs a[hreflang="` + string(lang) + `"]`); st != http.StatusOK {
					t.Fatalf("Finagora's %s link: %d", lang, st)
				}
			}
			if got, want := c.text(finagoraLogin), app.T(lang, "layout.login", nil); !strings.EqualFold(got, want) {
				t.Errorf("Finagora's log-in button says %q, want %q", got, want)
			}

			// "se connecter" / "inloggen": Sesame's login page, for Finagora.
			if st := c.submit(finagoraLogin); st != http.StatusOK {
				t.Fatalf("log-in button: %d", st)
			}
			if loc := c.location(); !strings.HasPrefix(loc, p.url+"/login?authz=") {
				t.Fatalf("the log-in button leads to %s, want Sesame's login page", loc)
			}
			if got := c.attr("html", "lang"); got != string(lang) {
				t.Errorf("the login page is in %q, want %q", got, lang)
			}
			if got, want := c.text("main .lead"), msg.T(lang, "login.title_app", map[string]any{"App": "Finagora"}); got != want {
				t.Errorf("the login page says %q, want %q", got, want)
			}
			shot("login", 600)

			// "initialisation": the wizard, which knows where the person came from.
			if st := c.submit(initLink); st != http.StatusOK {
				t.Fatalf("initialisation: %d", st)
			}
			c.typeIn("#identifier", identifier)
			c.typeIn("#password", password)
			if eval[bool](c, `document.querySelector('input[name=account_type]') !== null`) {
				c.click(tiersRadio)
			}
			if st := c.submit(enrolSubmit); st != http.StatusOK {
				t.Fatalf("wizard step 1: %d", st)
			}
			c.pick("#question", "first_plush")
			c.typeIn("#answer", "Doudou")
			if st := c.submit(questionSubmit); st != http.StatusOK {
				t.Fatalf("wizard step 2: %d", st)
			}

			// Step 3: the phone scans the QR code on the screen.
			c.waitFor("figure.qr img")
			scanned, err := url.Parse(scanQR(t, c.screenshotOf("figure.qr img")))
			if err != nil || scanned.Scheme != "otpauth" {
				t.Fatalf("the QR code holds %v (%v), want an otpauth URI", scanned, err)
			}
			secret, err := totp.DecodeSecret(scanned.Query().Get("secret"))
			if err != nil {
				t.Fatalf("the QR code's secret: %v", err)
			}
			if shown, err := totp.DecodeSecret(c.text("p.secret code")); err != nil || string(shown) != string(secret) {
				t.Errorf("the secret shown as text differs from the QR code's (%v)", err)
			}
			c.typeIn("#totp", p.code(secret))
			if st := c.submit(codeSubmit); st != http.StatusOK {
				t.Fatalf("wizard step 3: %d", st)
			}

			// Step 4: linked to Finagora, and a link back to its login.
			if got, want := c.text(".card.success h2"), msg.T(lang, "enrol.done", map[string]any{"App": "Finagora"}); got != want {
				t.Errorf("step 4 says %q, want %q", got, want)
			}
			if href := c.attr(doneLink, "href"); !strings.HasPrefix(href, "/login?authz=") {
				t.Errorf("step 4's link goes to %q, want the pending login", href)
			}
			shot("step4", 400)

			// The authenticator shows the next code 30 seconds later.
			p.clock.Add(30 * time.Second)
			if st := c.submit(doneLink); st != http.StatusOK || !strings.HasPrefix(c.location(), p.url+"/login?authz=") {
				t.Fatalf("step 4's link: %d at %s, want Finagora's pending login", st, c.location())
			}
			if got, want := c.text("main .lead"), msg.T(lang, "login.title_app", map[string]any{"App": "Finagora"}); got != want {
				t.Errorf("the login page after the wizard says %q, want %q", got, want)
			}
			c.typeIn("#identifier", identifier)
			c.typeIn("#password", password)
			c.typeIn("#totp", p.code(secret))
			if st := c.submit(loginSubmit); st != http.StatusOK {
				t.Fatalf("login: %d", st)
			}

			// Back on Finagora, logged in: name, type and office.
			if got, want := c.location(), s.finagora+"/espace"; got != want {
				t.Fatalf("after the login at %s, want %s", got, want)
			}
			profile := c.text("dl.profile")
			for _, want := range []string{personName, identifier, app.T(lang, "account.type.tiers", nil), officeName} {
				if !strings.Contains(profile, want) {
					t.Errorf("the logged-in area %q lacks %q", profile, want)
				}
			}
			if !p.loggedIn(c.cookie(p.url, sessionCookie), acc) {
				t.Error("the browser holds no live Sesame session")
			}
			shot("espace", 500)

			// Log out: Finagora's home, nobody logged in, here or at Sesame.
			token := c.cookie(p.url, sessionCookie)
			if st := c.submit(finagoraLogout); st != http.StatusOK {
				t.Fatalf("log out: %d", st)
			}
			if loc, err := url.Parse(c.location()); err != nil || loc.Scheme+"://"+loc.Host != s.finagora || loc.Path != "/" {
				t.Errorf("after log-out at %s, want Finagora's home", c.location())
			}
			if !eval[bool](c, `document.querySelector('`+finagoraLogin+`') !== null && document.querySelector('`+finagoraWho+`') === null`) {
				t.Error("Finagora's home after log-out still shows someone logged in")
			}
			if p.loggedIn(token, acc) {
				t.Error("the Sesame session outlives the log-out at Finagora")
			}
		})
	}
}

// TestLoginLanguageSwitchKeepsApp: on Sesame's login page for Finagora, a
// French reader clicks NL; the page turns Dutch and still names Finagora,
// its pending log-in kept in the address.
func TestLoginLanguageSwitchKeepsApp(t *testing.T) {
	s := startSSO(t)
	c := newChrome(t) // asks for French
	msg := catalog(t, "../internal/web/locales")
	if st := c.open(s.finagora + "/"); st != http.StatusOK {
		t.Fatalf("Finagora's home: %d", st)
	}
	if st := c.submit(finagoraLogin); st != http.StatusOK {
		t.Fatalf("log-in button: %d", st)
	}
	before, err := url.Parse(c.location())
	if err != nil || before.Query().Get("authz") == "" {
		t.Fatalf("the log-in button leads to %s, want Sesame's login page for Finagora", c.location())
	}
	if st := c.submit(`nav.langs a[hreflang="nl"]`); st != http.StatusOK {
		t.Fatalf("the NL link: %d", st)
	}
	after, err := url.Parse(c.location())
	if err != nil || after.Path != "/login" || after.Query().Get("authz") != before.Query().Get("authz") || after.Query().Get("lang") != "nl" {
		t.Errorf("the NL link leads to %s, want the same pending login in Dutch", c.location())
	}
	if got := c.attr("html", "lang"); got != "nl" {
		t.Errorf("the page is in %q after the NL link", got)
	}
	if got, want := c.text("main .lead"), msg.T(i18n.NL, "login.title_app", map[string]any{"App": "Finagora"}); got != want {
		t.Errorf("the login page in Dutch says %q, want %q", got, want)
	}
	b := c.screenshot()
	savePNG(t, "login-switched.png", b, 800, 500)
	shareShot(t, "sso-login-switched-nl.png", b)
}

// An application's link that the provider refuses without sending the
// browser back — here one naming an unregistered redirect URI — shows the
// portal's error page in the person's language, not the provider library's
// line of English.
func TestRefusedApplicationRequest(t *testing.T) {
	s := startSSO(t)
	c := newChrome(t) // asks for French
	msg := catalog(t, "../internal/web/locales")
	if st := c.open(s.portal.url + "/?lang=nl"); st != http.StatusOK { // the language chosen, as on any page
		t.Fatalf("home in Dutch: %d", st)
	}
	q := url.Values{"client_id": {"finagora"}, "redirect_uri": {"https://attacker.example/callback"},
		"response_type": {"code"}, "scope": {"openid"}, "state": {"s1"}}
	if st := c.open(s.portal.url + "/authorize?" + q.Encode()); st != http.StatusBadRequest {
		t.Fatalf("the refused request: %d, want 400", st)
	}
	if got, want := c.text("main p.error"), msg.T(i18n.NL, "error.app_login", nil); got != want {
		t.Errorf("the page says %q, want %q", got, want)
	}
	if got := c.attr("html", "lang"); got != "nl" {
		t.Errorf("the page is in %q", got)
	}
	b := c.screenshot()
	savePNG(t, "refused-request.png", b, 800, 400)
	shareShot(t, "sso-refused-request-nl.png", b)
}
