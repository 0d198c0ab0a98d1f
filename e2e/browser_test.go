package e2e

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"

	"sesame/internal/finagora"
	"sesame/internal/i18n"
	"sesame/internal/simulation"
	"sesame/internal/totp"
)

// Selectors of the portal's pages (internal/web/pages).
const (
	enrolSubmit    = `form[action="/totp/init"] button[type=submit]`
	questionSubmit = `form[action="/totp/init/question"] button[type=submit]:not([formaction])`
	codeSubmit     = `form[action="/totp/init/code"] button[type=submit]:not([formaction])`
	loginSubmit    = `form[action="/login"] button[type=submit]`
	logoutButton   = `nav.menu form[action="/logout"] button`
	tiersRadio     = `input[name=account_type][value="tiers"]`
	sessionCookie  = "__Host-sesame"
)

// TestPortalJourney is one person's first day, in one browser: the TOTP
// initialisation wizard, a login with the next code, a cross-site form
// that tries to log them out and is refused, then their own log-out.
func TestPortalJourney(t *testing.T) {
	p := startPortal(t)
	acc := p.createAccount()
	browser := newChrome(t)
	msg := catalog(t, "../internal/web/locales")
	var secret []byte

	ok := t.Run("enrolment wizard", func(t *testing.T) {
		c := browser.on(t)
		if st := c.open(p.url + "/totp/init"); st != http.StatusOK {
			t.Fatalf("GET /totp/init: %d", st)
		}
		// The browser asks for French (fr-BE): the whole wizard is in French.
		if got := c.attr("html", "lang"); got != "fr" {
			t.Errorf("page language %q, want fr", got)
		}
		if got, want := c.text("h1"), msg.T(i18n.FR, "enrol.heading", nil); got != want {
			t.Errorf("heading %q, want %q", got, want)
		}

		// Step 1: identifier, password and account type.
		c.typeIn("#identifier", identifier)
		c.typeIn("#password", password)
		c.click(tiersRadio)
		if st := c.submit(enrolSubmit); st != http.StatusOK {
			t.Fatalf("step 1: %d", st)
		}

		// Step 2: choose a question and answer it.
		c.pick("#question", "first_plush")
		c.typeIn("#answer", "Doudou")
		if st := c.submit(questionSubmit); st != http.StatusOK {
			t.Fatalf("step 2: %d", st)
		}

		// Step 3: the secret as text and as a QR code.
		grouped := c.text("p.secret code")
		var err error
		if secret, err = totp.DecodeSecret(grouped); err != nil {
			t.Fatalf("step 3 shows %q: %v", grouped, err)
		}
		c.waitFor("figure.qr img")
		if !eval[bool](c, `(() => { const i = document.querySelector("figure.qr img"); return i.complete && i.naturalWidth > 0 })()`) {
			t.Fatal("the QR code image did not load")
		}
		savePNG(t, "step3.png", c.screenshot(), 800, 600)
		// The QR code as drawn on screen holds the same secret as the
		// text: what a phone would scan.
		wantURI := totp.URI("Finagora", identifier, secret, totp.Default())
		if got := scanQR(t, c.screenshotOf("figure.qr img")); got != wantURI {
			t.Errorf("the QR code on screen holds %q, want %q", got, wantURI)
		}
		if got := c.attr(`a[href^="otpauth:"]`, "href"); got != wantURI {
			t.Errorf("the app link is %q, want %q", got, wantURI)
		}
		c.typeIn("#totp", p.code(secret))
		if st := c.submit(codeSubmit); st != http.StatusOK {
			t.Fatalf("step 3: %d", st)
		}

		// Step 4: the success message, in French.
		want := msg.T(i18n.FR, "enrol.done", map[string]any{"App": "Finagora"})
		if got := c.text(".card.success h2"); got != want {
			t.Errorf("step 4 says %q, want %q", got, want)
		}
	})
	if !ok {
		return
	}

	ok = t.Run("login", func(t *testing.T) {
		c := browser.on(t)
		// The enrolment used this step's code; an authenticator shows the
		// next one 30 seconds later.
		p.clock.Add(30 * time.Second)
		if st := c.submit(".card.success a.button"); st != http.StatusOK || !strings.HasSuffix(c.location(), "/login") {
			t.Fatalf("the link after the wizard: %d at %s, want the login page", st, c.location())
		}
		c.typeIn("#identifier", identifier)
		c.typeIn("#password", password)
		c.click(tiersRadio)
		c.typeIn("#totp", p.code(secret))
		if st := c.submit(loginSubmit); st != http.StatusOK {
			t.Fatalf("login: %d", st)
		}
		if got, want := c.location(), p.url+"/"; got != want {
			t.Fatalf("after login at %s, want %s", got, want)
		}
		if got, want := c.text("main h2"), msg.T(i18n.FR, "home.welcome", map[string]any{"Name": personName}); got != want {
			t.Errorf("home says %q, want %q", got, want)
		}
		details := c.text("main dl")
		for _, want := range []string{msg.T(i18n.FR, "home.office", nil), officeName, identifier} {
			if !strings.Contains(details, want) {
				t.Errorf("home's details %q lack %q", details, want)
			}
		}
		if !p.loggedIn(c.cookie(p.url, sessionCookie), acc) {
			t.Error("the browser holds no live session")
		}
	})
	if !ok {
		return
	}

	ok = t.Run("cross-site form refused", func(t *testing.T) {
		c := browser.on(t)
		token := c.cookie(p.url, sessionCookie)
		// A page on another site that posts a log-out form to the portal
		// as soon as it loads.
		evil := foreignSite(t, `<!doctype html><title>Gagnez un iPhone</title>
<form method="post" action="`+p.url+`/logout"><input type="hidden" name="csrf" value="guess"></form>
<script>addEventListener("load", () => document.forms[0].submit())</script>`)
		if st := c.openAndAwait(evil, p.url+"/logout"); st != http.StatusForbidden {
			t.Errorf("the cross-site POST got %d, want 403", st)
		}
		c.waitFor("header.top") // the portal's error page, not the foreign one
		// The message says why: refused by the cross-origin check, not
		// merely for a missing CSRF token.
		if got, want := c.text("main"), msg.T(i18n.FR, "error.forbidden", nil); !strings.Contains(got, want) {
			t.Errorf("the refusal page says %q, want %q", got, want)
		}
		if !p.loggedIn(token, acc) || c.cookie(p.url, sessionCookie) != token {
			t.Fatal("the cross-site POST ended the session")
		}
		if st := c.open(p.url + "/"); st != http.StatusOK {
			t.Fatalf("GET /: %d", st)
		}
		if got, want := c.text("main h2"), msg.T(i18n.FR, "home.welcome", map[string]any{"Name": personName}); got != want {
			t.Errorf("home after the attack says %q, want %q", got, want)
		}
	})
	if !ok {
		return
	}

	t.Run("logout", func(t *testing.T) {
		c := browser.on(t)
		token := c.cookie(p.url, sessionCookie)
		if st := c.submit(logoutButton); st != http.StatusOK {
			t.Fatalf("logout: %d", st)
		}
		if p.loggedIn(token, acc) {
			t.Error("the session outlives the log-out")
		}
		if got := c.cookie(p.url, sessionCookie); got != "" {
			t.Errorf("the session cookie outlives the log-out: %q", got)
		}
		if !eval[bool](c, `document.querySelector('main a.button[href="/login"]') !== null && document.querySelector("nav.menu .who") === null`) {
			t.Error("home after log-out still shows someone logged in")
		}
	})
}

// TestLanguageSwitch: a French browser clicks NL, and the portal stays in
// Dutch from page to page until the person picks another language.
func TestLanguageSwitch(t *testing.T) {
	p := startPortal(t)
	c := newChrome(t)
	msg := catalog(t, "../internal/web/locales")
	if st := c.open(p.url + "/login"); st != http.StatusOK {
		t.Fatalf("GET /login: %d", st)
	}
	steps := []struct {
		name     string
		click    string // what the person clicks ("" for the first page)
		wantLang i18n.Lang
		css, key string // an element and the message it must show
	}{
		{"browser's language", "", i18n.FR, `label[for=identifier]`, "field.identifier"},
		{"click NL", `nav.langs a[hreflang=nl]`, i18n.NL, `label[for=identifier]`, "field.identifier"},
		{"next page", `nav.menu a[href="/totp/init"]`, i18n.NL, "h1", "enrol.heading"},
		{"and the next", `nav.menu a[href="/"]`, i18n.NL, "main .button", "login.submit_link"},
		{"click EN", `nav.langs a[hreflang=en]`, i18n.EN, "main .button", "login.submit_link"},
		{"back to the login", `main a.button[href="/login"]`, i18n.EN, `label[for=identifier]`, "field.identifier"},
	}
	for _, s := range steps {
		if s.click != "" {
			if st := c.submit(s.click); st != http.StatusOK {
				t.Fatalf("%s: %d", s.name, st)
			}
		}
		if got := c.attr("html", "lang"); got != string(s.wantLang) {
			t.Errorf("%s: page language %q, want %q", s.name, got, s.wantLang)
		}
		if got, want := c.text(s.css), msg.T(s.wantLang, s.key, nil); got != want {
			t.Errorf("%s: %s says %q, want %q", s.name, s.css, got, want)
		}
		// Shown in capitals by the style sheet.
		if got := c.text(`nav.langs [aria-current]`); !strings.EqualFold(got, string(s.wantLang)) {
			t.Errorf("%s: the switch marks %q as current, want %q", s.name, got, s.wantLang)
		}
	}
}

// TestFinagoraHome: the demo application's home page renders in the
// browser, in French, with its simulation form, and screenshots as a real
// page.
func TestFinagoraHome(t *testing.T) {
	h, err := finagora.New(finagora.Options{Basis: simulation.DefaultBasis()})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	c := newChrome(t)
	msg := catalog(t, "../internal/finagora/locales")
	if st := c.open(localhost(t, srv) + "/"); st != http.StatusOK {
		t.Fatalf("GET /: %d", st)
	}
	if got, want := c.text("h1"), msg.T(i18n.FR, "home.welcome", nil); got != want {
		t.Errorf("heading %q, want %q", got, want)
	}
	c.waitFor("form.sim-form")
	savePNG(t, "finagora.png", c.screenshot(), 800, 600)
}

// scanQR reads the QR code in a PNG screenshot, as a phone's camera would.
func scanQR(t *testing.T, shot []byte) string {
	t.Helper()
	bmp, err := gozxing.NewBinaryBitmapFromImage(decodePNG(t, shot))
	if err != nil {
		t.Fatal(err)
	}
	res, err := qrcode.NewQRCodeReader().Decode(bmp, nil)
	if err != nil {
		t.Fatalf("no QR code readable in the screenshot: %v", err)
	}
	return res.GetText()
}
