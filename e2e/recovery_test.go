package e2e

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
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
	"sesame/internal/mail"
	"sesame/internal/oidc"
	"sesame/internal/simulation"
	"sesame/internal/sso"
	"sesame/internal/store"
	"sesame/internal/totp"
	"sesame/internal/web"
)

// The lost phone, in a real browser, against the whole demo
// wired as in production: the portal with its OpenID Connect provider,
// Finagora logging in through it, and the e-mails delivered over SMTP to
// the catcher, where the test reads them.

// site is the portal, the provider, Finagora and the mail catcher.
type site struct {
	*portal
	finagora string // http://localhost:PORT of Finagora
	catcher  *mail.Catcher
}

func startSite(t *testing.T) *site {
	t.Helper()
	ctx := t.Context()
	// The provider's library reads the wall clock for expires_in: the
	// test's clock starts now, and moves on from there by hand.
	clk := authtest.NewClock(time.Now().UTC().Truncate(time.Second))
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	env := authtest.New(t, clk, authtest.WithLog(log))

	catcher, err := mail.StartCatcher("127.0.0.1:0", log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { catcher.Close() })
	host, port, _ := net.SplitHostPort(catcher.Addr())
	var portNum int
	for _, r := range port {
		portNum = portNum*10 + int(r-'0')
	}
	sender, err := mail.NewSMTP(mail.SMTPConfig{Host: host, Port: portNum, TLS: mail.TLSNone, From: mail.Address{Name: "Sesame", Email: "sesame@example.be"}})
	if err != nil {
		t.Fatal(err)
	}
	worker := &mail.Worker{Queue: env.DB, Sender: sender, Logger: log, Poll: 50 * time.Millisecond, Now: clk.Now}
	env.Auth.MailSent = worker.Notify
	wctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { worker.Run(wctx); close(done) }()
	t.Cleanup(func() { stop(); <-done })

	listen := func() (net.Listener, string) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		_, p, _ := net.SplitHostPort(ln.Addr().String())
		return ln, "http://localhost:" + p
	}
	portalLn, portalURL := listen()
	finLn, finURL := listen()

	secret, _ := oidc.NewClientSecret()
	policy := auth.DefaultSessionPolicy()
	provider, err := oidc.New(ctx, oidc.Options{Store: env.DB, Keys: env.Auth.Keys, Issuer: portalURL, Now: clk.Now, Log: log,
		SessionIdle: policy.Idle, SessionAbsolute: policy.Absolute,
		Clients: []config.OIDCClient{{ID: "finagora", Name: "Finagora", SecretHash: oidc.SecretHash(secret),
			RedirectURIs: []string{finURL + finagora.CallbackPath}, PostLogoutRedirectURIs: []string{finURL + "/"},
			AccountTypes: []string{"tiers", "group"}}}})
	if err != nil {
		t.Fatal(err)
	}
	pages, err := web.New(web.Options{Authorizations: sso.Authorizations(provider), Auth: env.Auth, Sessions: policy, DefaultLang: i18n.FR,
		AppName: "Finagora", AppURL: finURL + "/", Log: log, Passwords: web.PasswordOptions{PublicURL: portalURL}})
	if err != nil {
		t.Fatal(err)
	}
	serve(t, portalLn, sso.Handler(pages, provider))
	fin, err := finagora.New(finagora.Options{Basis: simulation.DefaultBasis(), Now: clk.Now, PortalURL: portalURL, Logger: log,
		Issuer: portalURL, ClientID: "finagora", ClientSecret: secret, RedirectURL: finURL + finagora.CallbackPath})
	if err != nil {
		t.Fatal(err)
	}
	serve(t, finLn, fin)
	office := env.CreateOffice(t, officeName)
	return &site{portal: &portal{t: t, url: portalURL, env: env, clock: clk, office: office, session: policy}, finagora: finURL, catcher: catcher}
}

func serve(t *testing.T, ln net.Listener, h http.Handler) {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
}

// enrolled creates a Tiers account of the office that has linked an
// authenticator (question "first_plush", answer "Doudou"), and returns it
// with its secret and recovery codes.
func (s *site) enrolled(id, name string, role account.Role) (account.Account, []byte, []string) {
	t := s.t
	t.Helper()
	ctx := context.Background()
	a := s.env.CreateAccount(t, account.Account{Type: account.Tiers, Identifier: id, Name: name, OfficeID: s.office.ID, Role: role, Lang: i18n.FR}, password)
	svc := s.env.Auth
	c := auth.Credentials{Type: account.Tiers, Identifier: id, Password: password, Addr: "127.0.0.1"}
	token, err := svc.StartEnrolment(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.ChooseQuestion(ctx, token, "first_plush", "", "Doudou", "127.0.0.1"); err != nil {
		t.Fatal(err)
	}
	e, err := svc.Enrolment(ctx, token)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.ConfirmCode(ctx, token, s.code(e.Secret), "127.0.0.1"); err != nil {
		t.Fatal(err)
	}
	codes, _, err := svc.RevealRecoveryCodes(ctx, token)
	if err != nil {
		t.Fatal(err)
	}
	s.clock.Add(30 * time.Second)
	return a, e.Secret, codes
}

// mailTo waits for an e-mail of subject to address and returns it.
func (s *site) mailTo(address, subject string) mail.Caught {
	s.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		for _, m := range s.catcher.Messages() {
			if strings.Contains(m.To, address) && m.Subject == subject {
				return m
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	var got []string
	for _, m := range s.catcher.Messages() {
		got = append(got, m.To+": "+m.Subject)
	}
	s.t.Fatalf("no e-mail %q to %s; the catcher has %q", subject, address, got)
	return mail.Caught{}
}

// shot saves a screenshot of the page as name, in the test's folder and,
// when SESAME_E2E_SHOTS names a folder, there too, for a person to look at.
func shot(t *testing.T, c *chrome, name string) {
	t.Helper()
	b := c.screenshot()
	savePNG(t, name, b, 800, 400)
	if dir := os.Getenv("SESAME_E2E_SHOTS"); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// fitsWindow fails the test when the page is wider than the window.
func fitsWindow(t *testing.T, c *chrome, what string) {
	t.Helper()
	if !eval[bool](c, `document.documentElement.scrollWidth <= window.innerWidth`) {
		t.Errorf("%s: the page is wider than the window (%v > %v)", what,
			eval[float64](c, `document.documentElement.scrollWidth`), eval[float64](c, `window.innerWidth`))
	}
}

// TestLostPhoneWithRecoveryCode: from Finagora's log-in, a person whose
// phone is lost uses a recovery code on the portal, goes straight on to
// the wizard's question, links a new phone, gets new codes, and is logged
// in on Finagora; the owner's e-mail says what happened and from where.
func TestLostPhoneWithRecoveryCode(t *testing.T) {
	s := startSite(t)
	acc, _, codes := s.enrolled(identifier, personName, account.RoleUser)
	c := newChrome(t)
	msg := catalog(t, "../internal/web/locales")

	// Finagora's "se connecter" leads to the portal's log-in for Finagora.
	if st := c.open(s.finagora + "/login?next=/espace"); st != http.StatusOK || !strings.HasPrefix(c.location(), s.url+"/login") {
		t.Fatalf("Finagora's log-in: %d at %s", st, c.location())
	}
	// The phone is gone: the menu's TOTP reset, then "I no longer have my old device".
	if st := c.submit(`nav.menu a[href="/totp/reset"]`); st != http.StatusOK {
		t.Fatalf("the reset page: %d", st)
	}
	if st := c.submit(`a[href="/totp/reset/lost"]`); st != http.StatusOK {
		t.Fatalf("the lost-device page: %d", st)
	}
	c.typeIn("#identifier", identifier)
	c.typeIn("#password", password)
	c.click(tiersRadio)
	c.typeIn("#recovery_code", strings.ToLower(codes[4])) // as typed from the printed sheet
	shot(t, c, "lost-device-form-fr.png")
	if st := c.submit(`form[action="/totp/reset/lost"] button[type=submit]`); st != http.StatusOK {
		t.Fatalf("the recovery code: %d", st)
	}
	// Straight on to step 2, for this account: its own question.
	if !strings.HasSuffix(c.location(), "/totp/init?notice=recovered") {
		t.Fatalf("after the recovery code at %s", c.location())
	}
	if got, want := c.text("p.notice"), msg.T(i18n.FR, "enrol.recovered", nil); got != want {
		t.Errorf("step 2 says %q, want %q", got, want)
	}
	if got := c.text("dl.for-account"); !strings.Contains(got, identifier) {
		t.Errorf("step 2 is for %q", got)
	}
	if got, want := c.text("p.question"), msg.T(i18n.FR, "question.first_plush", nil); got != want {
		t.Errorf("step 2 asks %q, want %q", got, want)
	}
	shot(t, c, "wizard-question-after-recovery-fr.png")
	c.typeIn("#answer", "doudou")
	if st := c.submit(questionSubmit); st != http.StatusOK {
		t.Fatalf("step 2: %d", st)
	}
	secret, err := totp.DecodeSecret(c.text("p.secret code"))
	if err != nil {
		t.Fatal(err)
	}
	c.typeIn("#totp", s.code(secret))
	if st := c.submit(codeSubmit); st != http.StatusOK {
		t.Fatalf("step 3: %d", st)
	}
	// Step 4: ten new codes, once, and a way back to Finagora's log-in.
	if n := eval[int](c, `document.querySelectorAll(".code-list code").length`); n != 10 {
		t.Errorf("%d recovery codes on the success page, want 10", n)
	}
	if got := c.attr("a.download", "download"); got != "sesame-recovery-codes.txt" {
		t.Errorf("the download link's file name is %q", got)
	}
	shot(t, c, "wizard-done-codes-fr.png")
	s.clock.Add(30 * time.Second)
	if st := c.submit(".card.success a.button"); st != http.StatusOK || !strings.Contains(c.location(), "/login?authz=") {
		t.Fatalf("back to the log-in: %d at %s", st, c.location())
	}
	c.typeIn("#identifier", identifier)
	c.typeIn("#password", password)
	if eval[bool](c, `document.querySelector('input[name=account_type][value="tiers"]') !== null`) {
		c.click(tiersRadio)
	}
	c.typeIn("#totp", s.code(secret))
	if st := c.submit(loginSubmit); st != http.StatusOK {
		t.Fatalf("login: %d at %s", st, c.location())
	}
	// The login's redirects lead on to Finagora's callback and its page.
	for deadline := time.Now().Add(10 * time.Second); !strings.HasPrefix(c.location(), s.finagora) && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
	}
	c.waitFor("body")
	if !strings.HasPrefix(c.location(), s.finagora+"/espace") || !strings.Contains(c.text("body"), personName) {
		t.Fatalf("not logged in on Finagora: at %s\n%s", c.location(), c.text("body"))
	}
	shot(t, c, "finagora-logged-in-after-recovery-fr.png")

	// The owner was told, with the address, over SMTP.
	m := s.mailTo(identifier, catalog(t, "../internal/mail/locales").T(i18n.FR, "authenticator_recovered.subject", nil))
	if !strings.Contains(m.Text, "127.0.0.1") {
		t.Errorf("the e-mail lacks the address:\n%s", m.Text)
	}
	// The code is spent; the old set is gone; the new set is there.
	if codes, _ := s.env.DB.UnusedRecoveryCodes(context.Background(), acc.ID); len(codes) != 10 {
		t.Errorf("%d codes after the new linking, want 10", len(codes))
	}
}

var requestLink = regexp.MustCompile(`http://localhost:\d+/admin/requests/\d+`)

// TestAskMyAdministrator: a person without the device or a code sends a
// request from the reset page; the office administrator gets the e-mail,
// follows its link, confirms the TOTP reset in one click, and the person
// gets the reset e-mail.
func TestAskMyAdministrator(t *testing.T) {
	s := startSite(t)
	jan, _, _ := s.enrolled(identifier, personName, account.RoleUser)
	_, adminSecret, _ := s.enrolled("admin@cabinet-dupont.be", "Paul Dupont", account.RoleOfficeAdmin)
	c := newChrome(t)
	msg := catalog(t, "../internal/web/locales")
	mails := catalog(t, "../internal/mail/locales")

	if st := c.open(s.url + "/totp/reset"); st != http.StatusOK {
		t.Fatalf("the reset page: %d", st)
	}
	c.click("details.help summary")
	c.typeIn("#help-identifier", identifier)
	c.click(`form[action="/help"] input[name=account_type][value="tiers"]`)
	c.typeIn("#help-message", "Téléphone volé hier soir. Joignable au 0470 12 34 56.")
	shot(t, c, "reset-page-help-open-fr.png")
	if st := c.submit(`form[action="/help"] button[type=submit]`); st != http.StatusOK {
		t.Fatalf("the request: %d", st)
	}
	if got, want := c.text(".card.success p"), msg.T(i18n.FR, "help.sent", nil); got != want {
		t.Errorf("the answer says %q, want %q", got, want)
	}
	shot(t, c, "help-sent-fr.png")

	// The office administrator's e-mail, with the link to the request.
	m := s.mailTo("admin@cabinet-dupont.be", mails.T(i18n.FR, "help_requested.subject", map[string]any{"Requester": identifier}))
	if !strings.Contains(m.Text, "0470 12 34 56") {
		t.Errorf("the e-mail lacks the message:\n%s", m.Text)
	}
	link := requestLink.FindString(m.Text)
	if link == "" || !strings.HasPrefix(link, s.url) {
		t.Fatalf("no link to the request in:\n%s", m.Text)
	}

	// The administrator logs in, looks at the list, and follows the link.
	if st := c.open(s.url + "/login"); st != http.StatusOK {
		t.Fatal(st)
	}
	c.typeIn("#identifier", "admin@cabinet-dupont.be")
	c.typeIn("#password", password)
	c.click(tiersRadio)
	c.typeIn("#totp", s.code(adminSecret))
	if st := c.submit(loginSubmit); st != http.StatusOK {
		t.Fatalf("the administrator's login: %d", st)
	}
	if st := c.submit(`nav.menu a[href="/admin/requests"]`); st != http.StatusOK {
		t.Fatalf("the requests list: %d", st)
	}
	if got := c.text("table.requests"); !strings.Contains(got, identifier) || !strings.Contains(got, "0470 12 34 56") {
		t.Errorf("the list shows %q", got)
	}
	fitsWindow(t, c, "the requests list")
	shot(t, c, "admin-requests-fr.png")
	if st := c.open(link); st != http.StatusOK || !strings.HasSuffix(c.location(), "/totp_reset") {
		t.Fatalf("the e-mail's link: %d at %s", st, c.location())
	}
	shot(t, c, "admin-confirm-from-request-fr.png")
	if st := c.submit(`main form button[type=submit]`); st != http.StatusOK || !strings.Contains(c.location(), "done=totp_reset") {
		t.Fatalf("the reset: %d at %s", st, c.location())
	}
	// The request is closed, and the person got the e-mail that exists for a reset.
	list, _, _ := s.env.DB.ListHelpRequests(context.Background(), store.HelpRequestFilter{Open: true})
	if len(list) != 0 {
		t.Errorf("%d requests still open", len(list))
	}
	s.mailTo(identifier, mails.T(i18n.FR, "authenticator_reset.subject", nil))
	if _, err := s.env.DB.GetAuthenticator(context.Background(), jan.ID); err == nil {
		t.Error("the authenticator is still linked")
	}
	// The audit page names it all in French and fits the window.
	if st := c.open(s.url + "/admin/audit"); st != http.StatusOK {
		t.Fatal(st)
	}
	body := c.text("table.audit")
	for _, want := range []string{msg.T(i18n.FR, "audit.action.help_request", nil), msg.T(i18n.FR, "audit.action.help_request_closed", nil)} {
		if !strings.Contains(body, want) {
			t.Errorf("the audit page lacks %q", want)
		}
	}
	fitsWindow(t, c, "the audit page")
	shot(t, c, "admin-audit-fr.png")
}

// TestRecoveryPagesLook opens each page of the lost-phone paths, in
// French and in Dutch: each fits the window and screenshots as a page
// (saved in SESAME_E2E_SHOTS when set, for a person to look at).
func TestRecoveryPagesLook(t *testing.T) {
	for _, lang := range []i18n.Lang{i18n.FR, i18n.NL} {
		t.Run(string(lang), func(t *testing.T) { lookAtPages(t, lang) })
	}
}

func lookAtPages(t *testing.T, lang i18n.Lang) {
	s := startSite(t)
	s.enrolled(identifier, personName, account.RoleUser)
	_, adminSecret, _ := s.enrolled("admin@cabinet-dupont.be", "Paul Dupont", account.RoleOfficeAdmin)
	c := newChrome(t)
	l := string(lang)
	look := func(path, name string) {
		t.Helper()
		if st := c.open(s.url + path); st != http.StatusOK {
			t.Fatalf("%s %s: %d", l, path, st)
		}
		if got := c.attr("html", "lang"); got != l {
			t.Errorf("%s: page language %q", path, got)
		}
		fitsWindow(t, c, l+" "+path)
		shot(t, c, name+"-"+l+".png")
	}
	c.open(s.url + "/?lang=" + l) // remembered from here on
	look("/totp/reset", "reset")
	c.click("details.help summary")
	shot(t, c, "reset-help-open-"+l+".png")
	look("/totp/reset/lost", "lost-device")
	look("/help?kind=question", "help-form")
	c.typeIn("#identifier", "nobody@example.be")
	c.click(tiersRadio)
	c.submit(`form[action="/help"] button[type=submit]`)
	fitsWindow(t, c, l+" help sent")
	shot(t, c, "help-sent-"+l+".png")

	// The wizard cancelled at step 2, with its question-step request form.
	s.clock.Add(30 * time.Second)
	if err := s.env.DB.UnlinkAuthenticator(context.Background(), mustFind(t, s, identifier).ID); err != nil {
		t.Fatal(err)
	}
	c.open(s.url + "/totp/init")
	c.typeIn("#identifier", identifier)
	c.typeIn("#password", password)
	c.click(tiersRadio)
	c.submit(enrolSubmit)
	c.typeIn("#answer", "wrong answer")
	c.submit(questionSubmit)
	fitsWindow(t, c, l+" wizard step 2")
	shot(t, c, "wizard-question-wrong-answer-help-"+l+".png")
	c.submit(`form[action="/totp/init/question"] button[formaction="/totp/init/cancel"]`)
	shot(t, c, "wizard-cancelled-"+l+".png")
	// Through the wizard again: the success page with its codes.
	c.typeIn("#password", password)
	c.submit(enrolSubmit)
	c.typeIn("#answer", "Doudou")
	c.submit(questionSubmit)
	secret, _ := totp.DecodeSecret(c.text("p.secret code"))
	c.typeIn("#totp", s.code(secret))
	c.submit(codeSubmit)
	fitsWindow(t, c, l+" wizard done")
	shot(t, c, "wizard-done-codes-"+l+".png")
	s.clock.Add(30 * time.Second)

	// The reset with the old device leads on to the initialisation.
	c.open(s.url + "/totp/reset")
	c.typeIn("#identifier", identifier)
	c.typeIn("#password", password)
	c.click(`form[action="/totp/reset"] ` + tiersRadio)
	c.typeIn("#totp", s.code(secret))
	c.submit(`form[action="/totp/reset"] button[type=submit]`)
	shot(t, c, "reset-done-"+l+".png")
	c.submit(".card.success a.button")
	if got := eval[string](c, `document.querySelector("#identifier").value`); got != identifier {
		t.Errorf("%s: the initialisation after the reset has identifier %q", l, got)
	}
	shot(t, c, "init-filled-in-"+l+".png")

	// The administrator's home, its codes, the console's requests and audit.
	s.clock.Add(30 * time.Second)
	c.open(s.url + "/login")
	c.typeIn("#identifier", "admin@cabinet-dupont.be")
	c.typeIn("#password", password)
	c.click(tiersRadio)
	c.typeIn("#totp", s.code(adminSecret))
	c.submit(loginSubmit)
	if n := eval[int](c, `document.querySelectorAll('form[action="/logout"]').length`); n != 1 {
		t.Errorf("%s: %d log-out controls on the home page", l, n)
	}
	look("/", "home-codes")
	s.clock.Add(30 * time.Second)
	c.typeIn("#totp", s.code(adminSecret))
	c.submit(`form[action="/recovery-codes"] button[type=submit]`)
	fitsWindow(t, c, l+" new codes")
	shot(t, c, "new-codes-"+l+".png")
	look("/admin/requests?all=1", "admin-requests")
	look("/admin/audit", "admin-audit")
}

func mustFind(t *testing.T, s *site, id string) account.Account {
	t.Helper()
	a, err := s.env.DB.FindAccount(context.Background(), account.Tiers, id)
	if err != nil {
		t.Fatal(err)
	}
	return a
}
