package sso_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"sesame/internal/account"
	"sesame/internal/admin"
	"sesame/internal/i18n"
	"sesame/internal/oidc"
)

// The single sign-on paths of the guides, end to end over HTTP: Finagora's
// "log in" through the portal's pages and back, in each language. The
// expected texts are written out here rather than read from the catalogs,
// so a changed translation shows up as a failing test to look at.

// language is what a browser asks for and what the pages must then say.
type language struct {
	lang   i18n.Lang
	accept string
	// The portal.
	loginApp     string // login.title_app for Finagora
	loginApp2    string // ... for the second application
	enrolDone    string // enrol.done for Finagora
	enrolLink    string // enrol.done_link
	resetSuccess string // reset.success
	credentials  string // error.credentials, the one generic message
	badLogin     string // error.app_login: an application's request refused without a redirect
	badLogout    string // error.app_logout
	unavailable  string // error.unavailable
	throttled    string // error.address_throttled
	// Finagora.
	tiers, office, logout, login string
}

var languages = []language{
	{lang: i18n.FR, accept: "fr-BE,fr;q=0.9",
		loginApp: "Se connecter à Finagora", loginApp2: "Se connecter à " + finagora2App,
		enrolDone:    "Votre application d'authentification est liée à Finagora. Vous pouvez vous connecter !",
		enrolLink:    "Se connecter à Finagora",
		resetSuccess: "Votre code TOTP a été réinitialisé.",
		credentials:  "Identifiant, mot de passe ou code incorrect",
		badLogin:     "La demande de connexion de l'application n'est pas valide ou a expiré.",
		badLogout:    "Vous êtes peut-être encore connecté ici",
		unavailable:  "Le portail ne parvient pas à joindre sa base de données pour le moment.",
		throttled:    "Trop de tentatives depuis votre réseau.",
		tiers:        "Courtier (Tiers)", office: "Bureau", logout: "Se déconnecter", login: "Se connecter"},
	{lang: i18n.NL, accept: "nl-BE,nl;q=0.9",
		loginApp: "Inloggen bij Finagora", loginApp2: "Inloggen bij " + finagora2App,
		enrolDone:    "Je authenticator-app is gekoppeld aan Finagora!",
		enrolLink:    "Inloggen op Finagora",
		resetSuccess: "Uw TOTP code is gereset.",
		credentials:  "Login, wachtwoord of code onjuist",
		badLogin:     "De loginaanvraag van de applicatie is ongeldig of verlopen.",
		badLogout:    "Misschien ben je hier nog ingelogd",
		unavailable:  "Het portaal kan zijn databank op dit moment niet bereiken.",
		throttled:    "Te veel pogingen vanaf uw netwerk.",
		tiers:        "Makelaar (Tiers)", office: "Kantoor", logout: "Uitloggen", login: "Inloggen"},
	{lang: i18n.EN, accept: "en-GB,en;q=0.9",
		loginApp: "Log in to Finagora", loginApp2: "Log in to " + finagora2App,
		enrolDone:    "Your authenticator app is linked to Finagora. You can log in!",
		enrolLink:    "Log in to Finagora",
		resetSuccess: "Your TOTP code has been reset.",
		credentials:  "Identifier, password or code incorrect",
		badLogin:     "The application's login request is not valid or has expired.",
		badLogout:    "You may still be logged in here",
		unavailable:  "The portal cannot reach its database right now.",
		throttled:    "Too many attempts from your network.",
		tiers:        "Broker (Tiers)", office: "Office", logout: "Log out", login: "Log in"},
}

// forEachLanguage runs flow once per language, each on fresh servers (so
// the clock never drifts far from the wall clock the provider's library
// dates ID tokens by).
func forEachLanguage(t *testing.T, flow func(t *testing.T, f *fixture, l language)) {
	for _, l := range languages {
		t.Run(string(l.lang), func(t *testing.T) {
			flow(t, newFixture(t), l)
		})
	}
}

// startLogin clicks the application's "log in" and checks it lands on the
// portal's login page naming the application, without the account-type
// question (Finagora accepts two types; the page never asks, see
// auth.LoginAny). It returns the pending authorization's id.
func startLogin(b *browser, app, title string) string {
	b.t.Helper()
	b.get(b.f.apps[app] + "/login")
	b.at("the application's log-in", b.f.portal, "/login")
	b.expectText("login page", title)
	if strings.Contains(b.raw, `name="account_type"`) {
		b.t.Errorf("the login page for %s asks for the account type", app)
	}
	id := b.hidden("authz")
	if id == "" {
		b.t.Fatalf("the login page carries no pending authorization:\n%s", b.body)
	}
	return id
}

// submitLogin fills the portal's login form with p's identifier, password
// and current code.
func submitLogin(b *browser, p *person) {
	b.t.Helper()
	b.post("/login", url.Values{"identifier": {p.Identifier}, "password": {password}, "totp": {b.f.code(p)}})
}

// atEspace checks the application's logged-in area shows p.
func atEspace(b *browser, app string, p *person, l language) {
	b.t.Helper()
	b.at("back on the application", b.f.apps[app], "/espace")
	b.expectText("logged-in area", p.Name, p.Identifier, l.tiers, l.office, officeName, l.logout)
}

// loginToApp is flow 1 for an enrolled person: the application's "log in",
// the form, and back.
func loginToApp(b *browser, app string, p *person, l language) {
	b.t.Helper()
	title := l.loginApp
	if app == finagora2ID {
		title = l.loginApp2
	}
	startLogin(b, app, title)
	submitLogin(b, p)
	atEspace(b, app, p, l)
	b.f.nextStep()
}

// Flow 1: Finagora's home → "log in" → the portal's login page naming
// Finagora → identifier, password, code → Finagora's logged-in area.
func TestFlowLogin(t *testing.T) {
	forEachLanguage(t, func(t *testing.T, f *fixture, l language) {
		p := f.enrolled(account.Tiers, "an@peeters.be", "An Peeters", l.lang)
		b := f.browser(l.accept)
		b.get(f.apps[finagoraID] + "/")
		b.at("Finagora's home", f.apps[finagoraID], "/")
		b.expectText("Finagora's home", l.login)
		b.follow("Finagora's log-in button", `href="/login"`)
		b.at("the log-in button", f.portal, "/login")
		if got := b.url.Query().Get("lang"); got != string(l.lang) {
			t.Errorf("the login page is in %q, want %q (Finagora's ui_locales)", got, l.lang)
		}
		b.expectText("login page", l.loginApp)
		if strings.Contains(b.raw, `name="account_type"`) {
			t.Error("the login page asks for the account type")
		}
		submitLogin(b, p)
		atEspace(b, finagoraID, p, l)
		if !b.appLoggedIn(finagoraID) || !b.portalLoggedIn() {
			t.Error("after the login, Finagora or the portal has no session")
		}
	})
}

// The language switch of the login page keeps the application's pending
// log-in: a French-speaking browser switches the page to Dutch and still
// logs in to Finagora.
func TestFlowLanguageSwitchKeepsApp(t *testing.T) {
	f := newFixture(t)
	fr, nl := languages[0], languages[1]
	p := f.enrolled(account.Tiers, "an@peeters.be", "An Peeters", i18n.FR)
	b := f.browser(fr.accept)
	id := startLogin(b, finagoraID, fr.loginApp)
	b.follow("the language switch", `hreflang="nl"`)
	b.at("the login page in Dutch", f.portal, "/login")
	b.expectText("the login page in Dutch", nl.loginApp)
	if got := b.hidden("authz"); got != id {
		t.Fatalf("after switching language the pending log-in is %q, want %q", got, id)
	}
	submitLogin(b, p)
	b.at("back on the application", f.apps[finagoraID], "/espace")
	if !b.appLoggedIn(finagoraID) {
		t.Error("Finagora has no session after the log-in")
	}
}

// Flow 2: a broker without an authenticator follows "initialisation" from
// Finagora's login page — or just logs in without a code, and is sent
// there (SPEC 2.1) — goes through the wizard, whose last step leads back
// to that login, and logs in with the new code.
func TestFlowFirstLogin(t *testing.T) {
	ways := []struct {
		name  string
		reach func(b *browser, p *person) // from the login page to the wizard
	}{
		{"initialisation link", func(b *browser, p *person) { b.follow("initialisation", `href="/totp/init"`) }},
		{"login without a code", func(b *browser, p *person) {
			b.post("/login", url.Values{"identifier": {p.Identifier}, "password": {password}})
		}},
	}
	forEachLanguage(t, func(t *testing.T, f *fixture, l language) {
		for i, way := range ways {
			t.Run(way.name, func(t *testing.T) {
				firstLogin(t, f, l, fmt.Sprintf("jan%d@peeters.be", i), way.reach)
			})
		}
	})
}

func firstLogin(t *testing.T, f *fixture, l language, identifier string, toWizard func(*browser, *person)) {
	p := f.createPerson(account.Tiers, identifier, "Jan Peeters", l.lang)
	b := f.browser(l.accept).on(t)
	authz := startLogin(b, finagoraID, l.loginApp)
	toWizard(b, p)
	p.secret = b.wizard(p, true)
	b.expectText("wizard step 4", l.enrolDone, l.enrolLink)
	link := b.follow("step 4's link", `class="button"`)
	if want := f.portal + "/login?authz=" + url.QueryEscape(authz); link != want {
		t.Errorf("step 4 leads to %s, want the pending login %s", link, want)
	}
	b.at("step 4's link", f.portal, "/login")
	b.expectText("login page after the wizard", l.loginApp)
	if got := b.hidden("authz"); got != authz {
		t.Errorf("the login page after the wizard is for authorization %q, want %q", got, authz)
	}
	submitLogin(b, p)
	atEspace(b, finagoraID, p, l)
}

// Flow 3: a broker with an authenticator, on Finagora's login page, resets
// it with the old device (guide steps 1–4); the success page leads to the
// wizard, the wizard back to the pending login, and so to Finagora.
func TestFlowResetThenLogin(t *testing.T) {
	forEachLanguage(t, func(t *testing.T, f *fixture, l language) {
		p := f.enrolled(account.Tiers, "an@peeters.be", "An Peeters", l.lang)
		b := f.browser(l.accept)
		authz := startLogin(b, finagoraID, l.loginApp)
		b.get(f.portal + "/totp/reset")
		b.at("TOTP reset", f.portal, "/totp/reset")
		b.post("/totp/reset", url.Values{"identifier": {p.Identifier}, "password": {password}, "account_type": {"tiers"},
			"totp": {f.code(p)}})
		b.at("TOTP reset → success", f.portal, "/totp/reset")
		b.expectText("reset success", l.resetSuccess)
		f.nextStep()
		// The main button is the initialisation, identifier and type filled in.
		b.follow("the success page's main button", `class="button" href="/totp/init\?account_type=tiers&amp;identifier=an%40peeters.be"`)
		p.secret = b.wizard(p, false) // the question was kept: it is answered
		b.expectText("wizard step 4", l.enrolDone)
		link := b.follow("step 4's link", `class="button"`)
		if want := f.portal + "/login?authz=" + url.QueryEscape(authz); link != want {
			t.Errorf("step 4 leads to %s, want the pending login %s", link, want)
		}
		b.expectText("login page after the reset", l.loginApp)
		submitLogin(b, p)
		atEspace(b, finagoraID, p, l)
	})
}

// Flow 4: logged in to Finagora, the person opens a second application,
// which logs them in without the form; asked for a fresh login
// (prompt=login, max_age=0), the form is shown again.
func TestFlowSingleSignOn(t *testing.T) {
	forEachLanguage(t, func(t *testing.T, f *fixture, l language) {
		p := f.enrolled(account.Tiers, "an@peeters.be", "An Peeters", l.lang)
		b := f.browser(l.accept)
		loginToApp(b, finagoraID, p, l)

		app2 := f.apps[finagora2ID]
		b.get(app2 + "/login")
		atEspace(b, finagora2ID, p, l) // no form on the way

		for _, fresh := range []string{"prompt=login", "max_age=0"} {
			t.Run(fresh, func(t *testing.T) {
				b := b.on(t)
				f.nextStep() // time passes; and the last code is spent
				b.get(app2 + "/login?" + fresh)
				b.at("a fresh log-in", f.portal, "/login")
				b.expectText("login page", l.loginApp2)
				submitLogin(b, p)
				atEspace(b, finagora2ID, p, l)
			})
		}
	})
}

// Flow 5: "log out" on Finagora ends Finagora's session and, through the
// provider's end_session, the portal's; the browser lands on Finagora's
// home, logged out.
func TestFlowLogout(t *testing.T) {
	forEachLanguage(t, func(t *testing.T, f *fixture, l language) {
		p := f.enrolled(account.Tiers, "an@peeters.be", "An Peeters", l.lang)
		b := f.browser(l.accept)
		loginToApp(b, finagoraID, p, l)
		b.post("/logout", url.Values{})
		b.at("after log-out", f.apps[finagoraID], "/")
		b.expectText("Finagora's home after log-out", l.login)
		if strings.Contains(b.raw, `action="/logout"`) {
			t.Error("Finagora's home still shows someone logged in")
		}
		if b.appLoggedIn(finagoraID) {
			t.Error("Finagora's session outlives the log-out")
		}
		if b.portalLoggedIn() {
			t.Error("the portal's session outlives the log-out at Finagora")
		}
		// And the next "log in" shows the form again.
		startLogin(b, finagoraID, l.loginApp)
	})
}

// Flow 6: an administrator resets the person's authenticator (their phone
// was lost): that ends their portal sessions, and the provider's
// back-channel logout ends Finagora's.
func TestFlowBackchannelLogout(t *testing.T) {
	forEachLanguage(t, func(t *testing.T, f *fixture, l language) {
		p := f.enrolled(account.Tiers, "an@peeters.be", "An Peeters", l.lang)
		b := f.browser(l.accept)
		loginToApp(b, finagoraID, p, l)
		b.get(f.apps[finagora2ID] + "/login") // and the second application, by single sign-on
		atEspace(b, finagora2ID, p, l)

		ctx := t.Context()
		if n, err := f.provider.LogoutPass(ctx); n != 0 || err != nil {
			t.Fatalf("a logout pass with the session alive: %d, %v", n, err)
		}
		adm := &admin.Service{Store: f.env.DB, Now: f.clock.Now, Log: f.env.Auth.Log}
		if _, err := adm.ResetTOTP(ctx, admin.Actor{Operator: "ops", Addr: "cli"}, p.ID); err != nil {
			t.Fatal(err)
		}
		if n, err := f.provider.LogoutPass(ctx); n != 2 || err != nil {
			t.Fatalf("the logout pass after the reset handled %d grants (%v), want 2", n, err)
		}
		for _, app := range []string{finagoraID, finagora2ID} {
			if b.appLoggedIn(app) {
				t.Errorf("%s's session outlives the administrator's reset", app)
			}
		}
		if b.portalLoggedIn() {
			t.Error("the portal's session outlives the administrator's reset")
		}
		// Finagora's logged-in area now sends the person to log in again.
		b.get(f.apps[finagoraID] + "/espace")
		b.at("Finagora's logged-in area after the reset", f.portal, "/login")
		b.expectText("login page", l.loginApp)
	})
}

// Flow 7: an account type Finagora does not accept (Client) cannot log in,
// and is told exactly what a wrong password is told.
func TestFlowRefusedAccountType(t *testing.T) {
	forEachLanguage(t, func(t *testing.T, f *fixture, l language) {
		client := f.enrolled(account.Client, "sophie@example.be", "Sophie Martin", l.lang)
		broker := f.enrolled(account.Tiers, "an@peeters.be", "An Peeters", l.lang)
		b := f.browser(l.accept)

		startLogin(b, finagoraID, l.loginApp)
		b.post("/login", url.Values{"identifier": {broker.Identifier}, "password": {"not-the-password"}, "totp": {f.code(broker)}})
		if b.status != http.StatusUnauthorized || b.url.Host != strings.TrimPrefix(f.portal, "https://") {
			t.Fatalf("wrong password: %d at %s", b.status, b.url)
		}
		wrongPassword := errorMessage(b)
		if !strings.Contains(wrongPassword, l.credentials) {
			t.Errorf("wrong password says %q, want %q", wrongPassword, l.credentials)
		}

		b.post("/login", url.Values{"identifier": {client.Identifier}, "password": {password}, "totp": {f.code(client)}})
		if b.status != http.StatusUnauthorized || b.url.Path != "/login" {
			t.Fatalf("a Client account at Finagora: %d at %s", b.status, b.url)
		}
		if got := errorMessage(b); got != wrongPassword {
			t.Errorf("a Client account is told %q, a wrong password %q: they must be the same", got, wrongPassword)
		}
		if strings.Contains(b.raw, `name="account_type"`) {
			t.Error("the refusal asks for the account type")
		}
		b.expectText("login page after the refusal", l.loginApp)
		if b.appLoggedIn(finagoraID) || b.portalLoggedIn() {
			t.Error("the Client account got a session")
		}
	})
}

// errorMessage is the login form's error.
func errorMessage(b *browser) string {
	b.t.Helper()
	i := strings.Index(b.body, `id="form-error">`)
	if i < 0 {
		b.t.Fatalf("no error on the page:\n%s", b.body)
	}
	rest := b.body[i+len(`id="form-error">`):]
	return rest[:strings.Index(rest, "<")]
}

// A request an application sends a person's browser with, that the
// provider refuses without sending the browser back (the client or the
// redirect URI is unknown, the request is malformed or gone, the log-out
// is not the application's): the portal's error page in the person's
// language, with the pages' security headers — not the provider library's
// line of English. What goes back to the application, and what
// applications call themselves, is left as the protocol says.
func TestFlowRefusedRequests(t *testing.T) {
	f := newFixture(t)
	app := f.apps[finagoraID]
	authorize := func(q url.Values) string { return f.portal + "/authorize?" + q.Encode() }
	good := url.Values{"client_id": {finagoraID}, "redirect_uri": {app + "/callback"}, "response_type": {"code"},
		"scope": {"openid"}, "state": {"s1"}, "code_challenge": {strings.Repeat("a", 43)}, "code_challenge_method": {"S256"}}
	with := func(k, v string) url.Values {
		q := url.Values{}
		for key, vs := range good {
			q[key] = vs
		}
		q.Set(k, v)
		return q
	}
	refused := []struct {
		name   string
		url    string
		logout bool
	}{
		{"unregistered redirect URI", authorize(with("redirect_uri", "https://attacker.example/cb")), false},
		{"unknown client", authorize(with("client_id", "nobody")), false},
		{"no parameters", f.portal + "/authorize", false},
		{"unknown pending request", f.portal + "/authorize/callback?id=" + strings.Repeat("x", 32), false},
		{"callback without an id", f.portal + "/authorize/callback", false},
		{"callback with an id given twice", f.portal + "/authorize/callback?id=&id=" + strings.Repeat("x", 32), false},
		{"foreign post-logout address", f.portal + "/end_session?" + url.Values{"client_id": {finagoraID},
			"post_logout_redirect_uri": {"https://attacker.example/"}}.Encode(), true},
		{"forged ID token hint", f.portal + "/end_session?id_token_hint=not.a.token", true},
		{"unreadable logout request", f.portal + "/end_session?state=%zz", true},
	}
	// Nothing here is the portal's failure: the provider's library, which
	// logs through slog's default logger, must not call any of it an error
	// (an operator's alert on ERROR lines is for real failures).
	errs := &errorLines{}
	defer slog.SetDefault(slog.Default())
	slog.SetDefault(slog.New(errs))
	for _, l := range languages {
		for _, tc := range refused {
			t.Run(string(l.lang)+"/"+tc.name, func(t *testing.T) {
				b := f.browser(l.accept).on(t)
				b.get(tc.url)
				want := l.badLogin
				if tc.logout {
					want = l.badLogout
				}
				if b.status != http.StatusBadRequest || b.url.Host != strings.TrimPrefix(f.portal, "https://") {
					t.Fatalf("%d at %s, want 400 at the portal", b.status, b.url)
				}
				b.expectText(tc.name, want, `<html lang="`+string(l.lang)+`"`)
				if b.csp == "" || strings.Contains(b.body, "redirect_uri") || strings.Contains(b.body, `"error":`) ||
					strings.Contains(b.body, "auth request") || strings.Contains(b.body, "unknown authorization") {
					t.Errorf("not the portal's page (CSP %q):\n%s", b.csp, b.body)
				}
			})
		}
	}

	// A client assertion (no client has keys to sign one) is refused as
	// such, whatever the grant.
	for _, grant := range []url.Values{
		{"grant_type": {"refresh_token"}, "refresh_token": {strings.Repeat("A", 43)}},
		{"grant_type": {"authorization_code"}, "code": {strings.Repeat("A", 43)}, "redirect_uri": {app + "/callback"}},
	} {
		grant.Set("client_id", finagoraID)
		grant.Set("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
		grant.Set("client_assertion", "eyJhbGciOiJSUzI1NiJ9.e30.c2ln")
		resp, err := f.client().PostForm(f.portal+"/oauth/token", grant)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(string(body), `"invalid_client"`) {
			t.Errorf("%s with a client assertion: %d %s; want 401 invalid_client", grant.Get("grant_type"), resp.StatusCode, body)
		}
	}

	if got := errs.lines(); len(got) > 0 {
		t.Errorf("the provider's library logged refused requests as errors: %q", got)
	}

	// What goes back to the application still does, and the endpoints
	// applications call still answer them in the protocol's JSON.
	c := f.client()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := c.Get(authorize(with("scope", "email")))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusFound || !strings.HasPrefix(loc, app+"/callback?error=invalid_scope") {
		t.Errorf("scope without openid: %d, Location %q; want invalid_scope at the application", resp.StatusCode, loc)
	}
	resp, err = c.PostForm(f.portal+"/oauth/token", url.Values{"grant_type": {"password"}})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), `"unsupported_grant_type"`) {
		t.Errorf("token endpoint: %d %s; want 400 unsupported_grant_type in JSON", resp.StatusCode, body)
	}
}

// errorLines is a slog handler that keeps the messages of ERROR records.
type errorLines struct {
	mu  sync.Mutex
	got []string
}

func (h *errorLines) Enabled(context.Context, slog.Level) bool { return true }
func (h *errorLines) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *errorLines) WithGroup(string) slog.Handler            { return h }

func (h *errorLines) Handle(_ context.Context, r slog.Record) error {
	if r.Level >= slog.LevelError {
		h.mu.Lock()
		h.got = append(h.got, r.Message)
		h.mu.Unlock()
	}
	return nil
}

func (h *errorLines) lines() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.got...)
}

// TestFlowDatabaseOutage: an application sends a person to the portal
// while its database is down. The portal says so, in the person's
// language, at its own address — a reload will do once the database is
// back — instead of sending them back to the application with an error or
// calling the application's request invalid.
func TestFlowDatabaseOutage(t *testing.T) {
	f := newFixture(t)
	app := f.apps[finagoraID]
	request := f.portal + "/authorize?" + url.Values{"client_id": {finagoraID}, "redirect_uri": {app + "/callback"},
		"response_type": {"code"}, "scope": {"openid"}, "state": {"s1"}, "code_challenge": {strings.Repeat("a", 43)},
		"code_challenge_method": {"S256"}}.Encode()
	f.env.DB.Close()
	for _, l := range languages {
		t.Run(string(l.lang), func(t *testing.T) {
			b := f.browser(l.accept).on(t)
			b.get(request)
			if b.status != http.StatusServiceUnavailable || b.url.Host != strings.TrimPrefix(f.portal, "https://") || b.header.Get("Retry-After") == "" {
				t.Fatalf("%d at %s (Retry-After %q), want 503 at the portal with Retry-After", b.status, b.url, b.header.Get("Retry-After"))
			}
			b.expectText("outage", l.unavailable, `<html lang="`+string(l.lang)+`"`)
			if b.csp == "" || strings.Contains(b.body, "server_error") {
				t.Errorf("not the portal's page (CSP %q):\n%s", b.csp, b.body)
			}
		})
	}
}

// TestFlowAuthorizeLimit: past its network's budget of authorization
// requests, a person is told to wait, in their language, at the portal —
// the application is not sent an error.
func TestFlowAuthorizeLimit(t *testing.T) {
	// Not the default window: the page says the one configured.
	f := newFixtureWith(t, func(o *oidc.Options) { o.AuthorizeLimit = oidc.AuthorizeLimit{Requests: 2, Window: 20 * time.Minute} })
	app := f.apps[finagoraID]
	request := f.portal + "/authorize?" + url.Values{"client_id": {finagoraID}, "redirect_uri": {app + "/callback"},
		"response_type": {"code"}, "scope": {"openid"}, "state": {"s1"}, "code_challenge": {strings.Repeat("a", 43)},
		"code_challenge_method": {"S256"}}.Encode()
	// A flood is the visitors' doing, not a failure of the portal's: no
	// ERROR line for an operator's alert.
	errs := &errorLines{}
	defer slog.SetDefault(slog.Default())
	slog.SetDefault(slog.New(errs))
	for range 2 {
		b := f.browser("fr").on(t)
		b.get(request)
		b.at("within the budget", f.portal, "/login")
	}
	for _, l := range languages {
		t.Run(string(l.lang), func(t *testing.T) {
			b := f.browser(l.accept).on(t)
			b.get(request)
			if b.status != http.StatusTooManyRequests || b.url.Host != strings.TrimPrefix(f.portal, "https://") || b.header.Get("Retry-After") != "1200" {
				t.Fatalf("%d at %s (Retry-After %q), want 429 at the portal, Retry-After 1200", b.status, b.url, b.header.Get("Retry-After"))
			}
			b.expectText("over the budget", l.throttled, " 20 minut", `<html lang="`+string(l.lang)+`"`)
		})
	}
	if got := errs.lines(); len(got) > 0 {
		t.Errorf("refusals over the budget logged as errors: %q", got)
	}
}
