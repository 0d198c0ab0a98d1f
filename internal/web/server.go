// Package web serves the portal's pages: login, the TOTP initialisation
// wizard, the TOTP reset, and the home page, in French, Dutch and English.
//
// Every route is listed in routes.go; each flow has its file and its page
// templates in pages/ (embedded, parsed once at start-up, rendered into a
// buffer before anything is written). Handlers return errors; one place
// (handle) turns them into a status, a log line and a translated page.
//
// Security: every POST must pass http.CrossOriginProtection and carry the
// CSRF token of the browser's __Host- cookie; every page is no-store with a
// strict CSP; sessions and wizard progress live in the store, the browser
// holds only random tokens.
package web

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"embed"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	mathrand "math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"sesame/internal/account"
	"sesame/internal/auth"
	"sesame/internal/i18n"
	"sesame/internal/passhash"
	"sesame/internal/store"
)

var (
	//go:embed pages
	pageFS embed.FS
	//go:embed locales
	localeFS embed.FS
	//go:embed static
	staticFS embed.FS
)

// Options configure the portal.
type Options struct {
	Auth        *auth.Service
	Sessions    auth.SessionPolicy
	DefaultLang i18n.Lang
	AppName     string         // the relying application named on the pages, e.g. "Finagora"
	AppURL      string         // where "back to the application" links go; may be empty
	Types       []account.Type // account types that may log in here; empty: all
	// TrustProxy: take the client address from X-Forwarded-For's last hop,
	// and https from X-Forwarded-Proto (only behind a proxy that sets both).
	TrustProxy bool
	Log        *slog.Logger
	Ready      func(context.Context) error // readiness check; nil: always ready
	Passwords  PasswordOptions             // the password pages: reset links, internal reset address (password.go)
	// Authorizations is the OpenID Connect provider's pending logins
	// (authorize.go); nil: the portal serves no application.
	Authorizations Authorizations
}

// Server is the portal's HTTP handler.
type Server struct {
	opts    Options
	cat     *i18n.Catalog
	pages   map[i18n.Lang]func() (map[string]*template.Template, error) // each language's pages, parsed on first use
	chromes map[i18n.Lang]*chrome                                       // each language's menu and switch
	handler http.Handler
	metrics *metrics
}

// New parses the templates and catalogs and builds the routes.
func New(opts Options) (*Server, error) {
	if opts.Auth == nil || opts.Log == nil {
		return nil, errors.New("web: Auth and Log are required")
	}
	if opts.DefaultLang == "" {
		opts.DefaultLang = i18n.FR
	}
	if opts.AppName == "" {
		opts.AppName = "Sesame"
	}
	if len(opts.Types) == 0 {
		opts.Types = account.Types
	}
	locales, _ := fs.Sub(localeFS, "locales")
	cat, err := i18n.Load(locales)
	if err != nil {
		return nil, err
	}
	s := &Server{opts: opts, cat: cat, metrics: newMetrics(), chromes: map[i18n.Lang]*chrome{}}
	for _, l := range i18n.Supported {
		s.chromes[l] = newChrome(cat, l)
	}
	if opts.Auth.Hasher != nil {
		s.metrics.watchHasher(opts.Auth.Hasher)
	}
	if err := s.parsePages(); err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	s.routes(mux)
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.renderError(w, r, &Error{Status: http.StatusForbidden, Key: "error.forbidden", Err: errors.New("cross-origin request refused")})
	}))
	s.handler = s.metrics.wrap(securityHeaders(s.stampArrival(cop.Handler(notePattern(mux))), opts.TrustProxy))
	return s, nil
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// Metrics returns the portal's Prometheus handler.
func (s *Server) Metrics() http.Handler { return s.metrics.handler() }

func (s *Server) parsePages() error {
	s.pages = map[i18n.Lang]func() (map[string]*template.Template, error){}
	for _, lang := range i18n.Supported {
		s.pages[lang] = sync.OnceValues(func() (map[string]*template.Template, error) { return parsePageSet(s.cat, lang) })
	}
	// The default language's now, so a broken page stops the start; the
	// others (the same files) when first asked for, so start-up parses
	// once, not once per language.
	_, err := s.pages[s.opts.DefaultLang]()
	return err
}

// parsePageSet parses every page for lang, its fixed words translated (see
// pretranslate.go).
func parsePageSet(cat *i18n.Catalog, lang i18n.Lang) (map[string]*template.Template, error) {
	names, err := fs.Glob(pageFS, "pages/*.html")
	if err != nil {
		return nil, err
	}
	set := map[string]*template.Template{}
	for _, name := range names {
		base := strings.TrimSuffix(strings.TrimPrefix(name, "pages/"), ".html")
		if base == "layout" || base == "fields" {
			continue
		}
		t, err := template.New(base).Funcs(funcs).ParseFS(pageFS, "pages/layout.html", "pages/fields.html", name)
		if err != nil {
			return nil, fmt.Errorf("web: %s: %w", name, err)
		}
		pretranslate(t, cat, lang)
		set[base] = t
	}
	return set, nil
}

var funcs = template.FuncMap{
	"dataURI": func(mime string, b []byte) template.URL {
		return template.URL("data:" + mime + ";base64," + base64.StdEncoding.EncodeToString(b))
	},
	// otpauth links are not among html/template's safe schemes; this one
	// is built by totp.URI from escaped parts.
	"otpauth": func(s string) template.URL {
		if !strings.HasPrefix(s, "otpauth://totp/") {
			return "#"
		}
		return template.URL(s)
	},
}

// contentSecurityPolicy is every page's policy: no script, this site's
// style sheet, images from here or inline (the QR code), no frames; forms
// post here, and lead to the extra sources only (see allowReturn).
func contentSecurityPolicy(formTargets ...string) string {
	targets := strings.Join(append([]string{"'self'"}, formTargets...), " ")
	return "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action " + targets + "; frame-ancestors 'none'; base-uri 'none'"
}

// securityHeaders sets the headers every response carries. HSTS goes only
// on a response the browser gets over https: a real TLS connection, or a
// proxy the operator trusts that says so. Anyone can send X-Forwarded-Proto.
func securityHeaders(next http.Handler, trustProxy bool) http.Handler {
	// The values are made once and shared by every response (nothing
	// appends to a header's value slice; Set replaces it): the keys are in
	// canonical form.
	fixed := map[string][]string{
		"Content-Security-Policy":      {contentSecurityPolicy()},
		"X-Content-Type-Options":       {"nosniff"},
		"X-Frame-Options":              {"DENY"},
		"Referrer-Policy":              {"no-referrer"},
		"Cross-Origin-Opener-Policy":   {"same-origin"},
		"Cross-Origin-Resource-Policy": {"same-origin"},
		"Permissions-Policy":           {"camera=(), microphone=(), geolocation=(), payment=()"},
	}
	hsts := []string{"max-age=63072000; includeSubDomains"}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		for k, v := range fixed {
			h[k] = v
		}
		if r.TLS != nil || (trustProxy && r.Header.Get("X-Forwarded-Proto") == "https") {
			h["Strict-Transport-Security"] = hsts
		}
		next.ServeHTTP(w, r)
	})
}

// stampArrival records when each request arrived: TOTP codes are checked
// against that instant, however long the request then waits for a hashing
// turn (see auth.WithArrival).
func (s *Server) stampArrival(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r.WithContext(auth.WithArrival(r.Context(), s.opts.Auth.Now())))
	})
}

// Error is an error with what the person is told: a status and the
// translation key of the message. Err is only logged.
type Error struct {
	Status int
	Key    string
	Count  int // a plural message's count (see Throttled); 0: Key is not plural
	Err    error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Key + ": " + e.Err.Error()
	}
	return e.Key
}
func (e *Error) Unwrap() error { return e.Err }

func badRequest(err error) error {
	return &Error{Status: http.StatusBadRequest, Key: "error.bad_request", Err: err}
}

// handle adapts a handler that returns an error.
func (s *Server) handle(h func(w http.ResponseWriter, r *http.Request) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if p := recover(); p != nil {
				s.opts.Log.Error("panic in handler", "route", r.Pattern, "request_id", RequestID(r.Context()), "panic", p)
				s.renderError(w, r, &Error{Status: http.StatusInternalServerError, Key: "error.internal"})
			}
		}()
		if err := h(w, r); err != nil {
			s.renderError(w, r, err)
		}
	})
}

func (s *Server) renderError(w http.ResponseWriter, r *http.Request, err error) {
	if r.Context().Err() != nil {
		// The client went away, or its request did not arrive within the
		// server's read timeout, which ends the request's context too.
		// Whatever the request was doing was rolled back or finished on its
		// own. A slow client may still read: it is told, and the access log
		// says 408 rather than an empty 200.
		s.opts.Log.Debug("request ended before its answer", "method", r.Method, "route", r.Pattern, "request_id", RequestID(r.Context()), "err", err)
		s.errorPage(w, r, http.StatusRequestTimeout, "error.bad_request", 0)
		return
	}
	var e *Error
	switch {
	case errors.As(err, &e):
	case errors.Is(err, auth.ErrNoSession):
		e = &Error{Status: http.StatusUnauthorized, Key: "error.session_ended", Err: err}
	case errors.Is(err, store.ErrUnavailable):
		// The database is down or restarting: say so, and when to come back.
		w.Header().Set("Retry-After", "5")
		e = &Error{Status: http.StatusServiceUnavailable, Key: "error.unavailable", Err: err}
	case errors.Is(err, auth.ErrBusy), errors.Is(err, passhash.ErrBusy):
		e = s.busy(w, err)
	default:
		e = &Error{Status: http.StatusInternalServerError, Key: "error.internal", Err: err}
	}
	level := slog.LevelInfo
	switch {
	case e.Status == http.StatusServiceUnavailable:
		level = slog.LevelWarn
	case e.Status >= 500:
		level = slog.LevelError
	}
	// The route pattern, not the path: a path may hold a password-reset token.
	s.opts.Log.Log(r.Context(), level, "request failed", "method", r.Method, "route", r.Pattern, "status", e.Status,
		"request_id", RequestID(r.Context()), "err", err.Error())
	s.errorPage(w, r, e.Status, e.Key, e.Count)
}

// errorPage answers the error page with status and key's message (count:
// a plural message's, see Error).
func (s *Server) errorPage(w http.ResponseWriter, r *http.Request, status int, key string, count int) {
	v := s.base(w, r, "error.title")
	msg := v.T(key)
	if count > 0 {
		msg = s.cat.N(v.Lang, key, count)
	}
	s.render(w, r, status, "error", struct {
		Base
		Message string
	}{v, msg})
}

// ServeError answers r with the error page for e, translated and with
// every page's security headers. It is for handlers beside the portal's
// routes whose answers a person reads: the provider's (package sso).
func (s *Server) ServeError(w http.ResponseWriter, r *http.Request, e *Error) {
	securityHeaders(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { s.renderError(w, r, e) }), s.opts.TrustProxy).ServeHTTP(w, r)
}

// busy answers a request refused because the hashing queue is full: 503
// with a Retry-After of a few seconds, spread so the refused do not all come
// back in the same second.
func (s *Server) busy(w http.ResponseWriter, err error) *Error {
	s.metrics.outcome("hash", "shed")
	w.Header().Set("Retry-After", strconv.Itoa(2+mathrand.IntN(4)))
	return &Error{Status: http.StatusServiceUnavailable, Key: "error.busy", Err: err}
}

// Throttled is the error for a request refused by a budget per network
// whose window is window: 429, and a Retry-After and a message that say how
// long the refusal may last (at most the window: it began with the first
// attempt counted).
func Throttled(w http.ResponseWriter, window time.Duration) *Error {
	window = max(window, time.Second)
	w.Header().Set("Retry-After", strconv.Itoa(int((window+time.Second-1)/time.Second)))
	return &Error{Status: http.StatusTooManyRequests, Key: "error.address_throttled", Count: int((window + time.Minute - 1) / time.Minute)}
}

// throttled is Throttled for the portal's own budget per network, as its
// pages say it: the message in b's language.
func (s *Server) throttled(w http.ResponseWriter, b Base) string {
	e := Throttled(w, s.opts.Auth.AddressLimit.Window)
	return s.cat.N(b.Lang, e.Key, e.Count)
}

// Base is what every page needs: its language, translations, the CSRF
// token, the logged-in account if any, and the menu.
type Base struct {
	Lang     i18n.Lang
	Title    string
	CSRF     string
	Path     string
	AppName  string
	AppURL   string
	Account  *account.Account
	Office   string
	Pending  *Authorization // the application's login this page leads back to, if any
	Messages []string       // notices shown at the top of the page
	cat      *i18n.Catalog
	chrome   *chrome // the language's menu and switch, written out (nil: made when asked)
	query    string  // the address's query, kept by the language switch
}

// T translates key; kv are name/value pairs for the message's template.
func (b Base) T(key string, kv ...any) string {
	if len(kv) == 0 {
		return b.cat.T(b.Lang, key, nil) // an untyped nil: the catalog's translated-once messages
	}
	var data map[string]any
	if len(kv) > 0 {
		data = map[string]any{}
		for i := 0; i+1 < len(kv); i += 2 {
			if k, ok := kv[i].(string); ok {
				data[k] = kv[i+1]
			}
		}
	}
	return b.cat.T(b.Lang, key, data)
}

// pageLang is the language the page is rendered in: render picks the copy
// of the page translated into it.
func (b Base) pageLang() i18n.Lang { return b.Lang }

// pageData is what render takes: a struct that embeds Base. The templates name
// Base's fields through it ({{.Base.CSRF}}, not {{.CSRF}}): text/template
// finds a field promoted from an embedded struct by walking the embedded
// structs on every execution (reflect's FieldByNameFunc, which allocates),
// and a field of .Base directly; about 8 % of a home page's CPU.
type pageData interface{ pageLang() i18n.Lang }

// Langs lists the language switch's entries.
func (b Base) Langs() []i18n.Lang { return i18n.Supported }

func (s *Server) base(w http.ResponseWriter, r *http.Request, titleKey string) Base {
	b := Base{Lang: s.lang(w, r), CSRF: s.csrfToken(w, r), Path: r.URL.Path, AppName: s.opts.AppName, AppURL: s.opts.AppURL, cat: s.cat}
	b.chrome, b.query = s.chromes[b.Lang], r.URL.RawQuery
	b.Title = b.T(titleKey)
	if ss, a, err := s.session(r); err == nil {
		b.Account = &a
		b.Office = ss.OfficeName // read with the session: no query of its own
	}
	return b
}

// lang picks the page language; ?lang= switches and is remembered.
func (s *Server) lang(w http.ResponseWriter, r *http.Request) i18n.Lang {
	if q := r.URL.Query().Get("lang"); q != "" {
		if l, ok := i18n.Parse(q); ok {
			http.SetCookie(w, &http.Cookie{Name: i18n.CookieName, Value: string(l), Path: "/", MaxAge: 365 * 24 * 3600,
				Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode})
			return l
		}
	}
	explicit := ""
	if c, err := r.Cookie(i18n.CookieName); err == nil {
		explicit = c.Value
	}
	return i18n.Negotiate(explicit, r.Header.Get("Accept-Language"), s.opts.DefaultLang)
}

// pageBuffers are render's buffers, reused: a page is a few kilobytes.
var pageBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// render executes a page into a buffer, then writes it: a template error
// never leaves half a page.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name string, data pageData) {
	lang := s.opts.DefaultLang
	if _, known := i18n.Parse(string(data.pageLang())); known {
		lang = data.pageLang()
	}
	set, err := s.pages[lang]()
	if err != nil {
		s.opts.Log.Error("pages", "lang", lang, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	t, ok := set[name]
	if !ok {
		s.opts.Log.Error("no such page", "page", name)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	buf := pageBuffers.Get().(*bytes.Buffer)
	defer func() {
		if buf.Cap() <= 64<<10 { // an unusually large page's buffer goes
			buf.Reset()
			pageBuffers.Put(buf)
		}
	}()
	if err := t.ExecuteTemplate(buf, "layout", data); err != nil {
		s.opts.Log.Error("render failed", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

func (s *Server) redirect(w http.ResponseWriter, r *http.Request, path string) {
	http.Redirect(w, r, path, http.StatusSeeOther)
}

// Cookies. The __Host- prefix makes the browser refuse them unless Secure,
// host-only and Path=/, so a sibling subdomain cannot plant one.
const (
	sessionCookie = "__Host-sesame"
	flowCookie    = "__Host-sesame-flow"
	csrfCookie    = "__Host-sesame-csrf"
)

func setCookie(w http.ResponseWriter, name, value string, maxAge time.Duration) {
	c := &http.Cookie{Name: name, Value: value, Path: "/", Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode}
	if maxAge > 0 {
		c.MaxAge = int(maxAge.Seconds())
	}
	if value == "" {
		c.MaxAge = -1
	}
	http.SetCookie(w, c)
}

func cookie(r *http.Request, name string) string {
	c, err := r.Cookie(name)
	if err != nil || len(c.Value) > 64 {
		return ""
	}
	return c.Value
}

// csrfToken returns the browser's CSRF token, setting the cookie if it has none.
func (s *Server) csrfToken(w http.ResponseWriter, r *http.Request) string {
	if t := cookie(r, csrfCookie); len(t) == 22 {
		return t
	}
	if t, ok := r.Context().Value(csrfKey{}).(string); ok {
		return t
	}
	b := make([]byte, 16)
	rand.Read(b)
	t := base64.RawURLEncoding.EncodeToString(b)
	setCookie(w, csrfCookie, t, 0)
	*r = *r.WithContext(context.WithValue(r.Context(), csrfKey{}, t))
	return t
}

type csrfKey struct{}

// maxForm bounds a form body; the largest legitimate form is far smaller.
const maxForm = 16 << 10

// Form is a parsed, checked POST body.
type Form struct{ values map[string]string }

// Get returns a field's value ("" when absent).
func (f Form) Get(name string) string { return f.values[name] }

// parseForm reads a POST form: bounded, valid UTF-8 without NUL, each field
// at most once and at most maxField bytes, and with the right CSRF token.
func (s *Server) parseForm(w http.ResponseWriter, r *http.Request, fields ...string) (Form, error) {
	r.Body = http.MaxBytesReader(w, r.Body, maxForm) // a second call reads nothing more: the form is parsed once
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/x-www-form-urlencoded") {
		return Form{}, &Error{Status: http.StatusUnsupportedMediaType, Key: "error.bad_request", Err: fmt.Errorf("content type %q", ct)}
	}
	if err := r.ParseForm(); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return Form{}, &Error{Status: http.StatusRequestEntityTooLarge, Key: "error.bad_request", Err: err}
		}
		return Form{}, badRequest(err)
	}
	want := cookie(r, csrfCookie)
	got := r.PostForm.Get("csrf")
	if want == "" || subtle.ConstantTimeCompare([]byte(want), []byte(got)) != 1 {
		return Form{}, &Error{Status: http.StatusForbidden, Key: "error.csrf", Err: errors.New("missing or wrong CSRF token")}
	}
	f := Form{values: map[string]string{}}
	for _, name := range fields {
		vs := r.PostForm[name]
		if len(vs) > 1 {
			return Form{}, badRequest(fmt.Errorf("field %s given %d times", name, len(vs)))
		}
		if len(vs) == 1 {
			v := vs[0]
			if !utf8.ValidString(v) || strings.ContainsRune(v, 0) {
				return Form{}, badRequest(fmt.Errorf("field %s is not clean UTF-8", name))
			}
			if len(v) > maxField {
				return Form{}, badRequest(fmt.Errorf("field %s too long", name))
			}
			f.values[name] = v
		}
	}
	return f, nil
}

// maxField bounds any one field; fields with a tighter rule check it too.
const maxField = 1024

// clientAddr is the request's client address, for throttling and audit.
func (s *Server) clientAddr(r *http.Request) string { return ClientAddr(r, s.opts.TrustProxy) }

// ClientAddr is the address r comes from: X-Forwarded-For's last hop when
// trustProxy (set only behind a proxy that appends it), else the
// connection's.
func ClientAddr(r *http.Request, trustProxy bool) string {
	if trustProxy {
		if xff := r.Header.Get("X-Forwarded-For"); xff != "" {
			parts := strings.Split(xff, ",")
			if ip := net.ParseIP(strings.TrimSpace(parts[len(parts)-1])); ip != nil {
				return ip.String()
			}
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// session returns the request's live session, if any.
func (s *Server) session(r *http.Request) (store.Session, account.Account, error) {
	if v, ok := r.Context().Value(sessionKey{}).(*sessionValue); ok {
		return v.s, v.a, v.err
	}
	ss, a, err := s.opts.Auth.Session(r.Context(), s.opts.Sessions, cookie(r, sessionCookie))
	*r = *r.WithContext(context.WithValue(r.Context(), sessionKey{}, &sessionValue{ss, a, err}))
	return ss, a, err
}

type sessionKey struct{}
type sessionValue struct {
	s   store.Session
	a   account.Account
	err error
}
