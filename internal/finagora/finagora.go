// Package finagora is the demo relying application that ships with Sesame:
// the public home page of an insurer's broker extranet, with its "quick
// simulation" of a loan-insurance premium (simulation rapide / snelle
// simulatie) in French, Dutch and English, and the same calculation as JSON
// at POST /api/simulation.
//
// The calculation is package simulation; this package reads the form, checks
// it, renders the pages and maps every bad input to a translated message
// next to its field (or a JSON error), never to a 500.
//
// Log-in goes through the Sesame portal over OpenID Connect only, as for any
// third-party application (sso.go, login.go): /login starts the
// authorization code flow (PKCE S256, nonce, state bound to the browser by a
// cookie), /callback verifies the answer and starts Finagora's own session
// (sessions.go, in memory), /logout ends it and the portal's, and the portal
// ends Finagora's sessions at /backchannel-logout. The logged-in area is
// /espace; the full simulation and subscription (account.go) are behind
// log-in and say honestly that this demo does not have them. Without a
// configured issuer, /login shows a page saying log-in is not available.
//
// Every route is in routes.go; the pages are templates/*.html, embedded and
// parsed once by New; the texts are locales/{fr,nl,en}.json.
package finagora

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"sesame/internal/i18n"
	"sesame/internal/simulation"
)

// Options configure the Finagora application.
type Options struct {
	// Basis is the technical basis and the limits of the quick simulation,
	// from the product configuration; New validates it.
	Basis simulation.Basis
	// DefaultLang is used when neither the request nor the browser names a
	// supported language; empty means French.
	DefaultLang i18n.Lang
	// PortalURL is the Sesame portal's address (http or https); it may be
	// empty until log-in goes through single sign-on.
	PortalURL string
	// Logger receives errors; nil discards them.
	Logger *slog.Logger
	// Now is the clock the simulation date comes from, and the one that
	// ages sessions and checks tokens; nil means time.Now.
	Now func() time.Time

	// Single sign-on through the portal (OpenID Connect). An empty Issuer
	// leaves it off: /login then says log-in is not available.
	//
	// Issuer is the portal's issuer URL; its discovery document is fetched
	// on first use, not by New, and again until it answers.
	Issuer string
	// ClientID and ClientSecret are Finagora's registration at the portal;
	// the secret is sent only in the token request's Basic authorization.
	ClientID, ClientSecret string
	// RedirectURL is Finagora's callback as the portal knows it:
	// <Finagora's URL>/callback (CallbackPath).
	RedirectURL string
	// PostLogoutRedirectURL is where the portal sends the browser after
	// logout: Finagora's home page. Empty means "/" on RedirectURL's host.
	PostLogoutRedirectURL string
	// HTTPClient talks to the portal (discovery, keys, token); nil means a
	// client with a 10-second timeout.
	HTTPClient *http.Client
	// TrustProxy takes https from X-Forwarded-Proto (HSTS, Secure cookies):
	// only behind a proxy that sets it and terminates TLS.
	TrustProxy bool
}

var (
	//go:embed templates/*.html
	templateFS embed.FS
	//go:embed static
	staticFS embed.FS
	//go:embed locales/*.json
	localeFS embed.FS
)

// pageNames are the templates/*.html files that are pages; layout.html
// wraps each of them.
var pageNames = []string{"home", "login", "error", "account", "feature"}

type server struct {
	basis  simulation.Basis
	lang   i18n.Lang
	portal *url.URL
	rp     *relyingParty // nil: single sign-on is not configured
	store  *store
	log    *slog.Logger
	now    func() time.Time
	cat    *i18n.Catalog
	pages  map[string]*template.Template
	static fs.FS
	// trustProxy: see Options.TrustProxy.
	trustProxy bool
}

// New checks the options, loads the templates and translations, and returns
// the application's handler. It fails only on bad options or a broken
// build (a template or catalog that does not parse).
func New(opts Options) (http.Handler, error) {
	if err := opts.Basis.Validate(); err != nil {
		return nil, fmt.Errorf("finagora: %w", err)
	}
	s := &server{basis: opts.Basis, lang: opts.DefaultLang, log: opts.Logger, now: opts.Now, store: newStore(), trustProxy: opts.TrustProxy}
	if s.lang == "" {
		s.lang = i18n.FR
	}
	if _, ok := i18n.Parse(string(s.lang)); !ok {
		return nil, fmt.Errorf("finagora: unsupported default language %q", opts.DefaultLang)
	}
	if opts.PortalURL != "" {
		u, err := url.Parse(opts.PortalURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("finagora: portal URL %q is not an absolute http(s) URL", opts.PortalURL)
		}
		s.portal = u
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if opts.Issuer != "" {
		rp, err := newRelyingParty(opts, s.now)
		if err != nil {
			return nil, err
		}
		s.rp = rp
	}
	var err error
	if s.cat, err = loadCatalog(); err != nil {
		return nil, err
	}
	if s.pages, err = parsePages(); err != nil {
		return nil, err
	}
	if s.static, err = fs.Sub(staticFS, "static"); err != nil {
		return nil, fmt.Errorf("finagora: %w", err)
	}
	return s.routes(), nil
}

// newRelyingParty checks the single sign-on options. It does not contact
// the issuer: discovery happens on first use.
func newRelyingParty(opts Options, now func() time.Time) (*relyingParty, error) {
	if !absoluteHTTP(opts.Issuer) {
		return nil, fmt.Errorf("finagora: issuer %q is not an absolute http(s) URL", opts.Issuer)
	}
	if opts.ClientID == "" || opts.ClientSecret == "" {
		return nil, errors.New("finagora: an issuer needs a client id and a client secret")
	}
	redirect, err := url.Parse(opts.RedirectURL)
	if err != nil || !absoluteHTTP(opts.RedirectURL) || redirect.Path != CallbackPath || redirect.RawQuery != "" {
		return nil, fmt.Errorf("finagora: redirect URL %q must be an absolute http(s) URL ending in %s", opts.RedirectURL, CallbackPath)
	}
	postLogout := opts.PostLogoutRedirectURL
	if postLogout == "" {
		postLogout = (&url.URL{Scheme: redirect.Scheme, Host: redirect.Host, Path: "/"}).String()
	}
	if !absoluteHTTP(postLogout) {
		return nil, fmt.Errorf("finagora: post-logout redirect URL %q is not an absolute http(s) URL", postLogout)
	}
	client := opts.HTTPClient
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	return &relyingParty{
		issuer: opts.Issuer, clientID: opts.ClientID, clientSecret: opts.ClientSecret,
		redirectURL: opts.RedirectURL, postLogoutURL: postLogout, client: client, now: now,
	}, nil
}

func absoluteHTTP(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" && u.User == nil
}

func loadCatalog() (*i18n.Catalog, error) {
	sub, err := fs.Sub(localeFS, "locales")
	if err != nil {
		return nil, fmt.Errorf("finagora: %w", err)
	}
	cat, err := i18n.Load(sub)
	if err != nil {
		return nil, fmt.Errorf("finagora: %w", err)
	}
	return cat, nil
}

func parsePages() (map[string]*template.Template, error) {
	pages := map[string]*template.Template{}
	for _, name := range pageNames {
		t, err := template.ParseFS(templateFS, "templates/layout.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("finagora: %w", err)
		}
		pages[name] = t
	}
	return pages, nil
}

// today is the simulation date: the calendar day of the clock, in its zone.
func (s *server) today() time.Time {
	y, m, d := s.now().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// language picks the request's language: ?lang= (remembered in the lang
// cookie), then the cookie, then Accept-Language, then the default.
func (s *server) language(w http.ResponseWriter, r *http.Request) i18n.Lang {
	w.Header().Add("Vary", "Accept-Language, Cookie")
	if l, ok := i18n.Parse(r.URL.Query().Get("lang")); ok {
		http.SetCookie(w, &http.Cookie{
			Name: i18n.CookieName, Value: string(l), Path: "/", MaxAge: 365 * 24 * 3600,
			HttpOnly: true, Secure: overHTTPS(r, s.trustProxy), SameSite: http.SameSiteLaxMode,
		})
		return l
	}
	explicit := ""
	if c, err := r.Cookie(i18n.CookieName); err == nil {
		explicit = c.Value
	}
	return i18n.Negotiate(explicit, r.Header.Get("Accept-Language"), s.lang)
}

// render executes a page into a buffer, so that a template error becomes a
// clean 500 instead of half a page.
func (s *server) render(w http.ResponseWriter, r *http.Request, status int, name string, data any) {
	var buf bytes.Buffer
	if err := s.pages[name].ExecuteTemplate(&buf, "layout", data); err != nil {
		s.log.Error("finagora: render page", "page", name, "path", r.URL.Path, "err", err)
		http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// isTooLarge reports whether err comes from a body cut at maxBody by MaxBytesReader.
func isTooLarge(err error) bool {
	var mbe *http.MaxBytesError
	return errors.As(err, &mbe)
}
