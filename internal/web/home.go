package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"sesame/internal/account"
	"sesame/internal/auth"
	"sesame/internal/store"
	"sesame/internal/totp"
)

func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write([]byte("ok\n"))
}

func (s *Server) handleReady(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	err := s.opts.Auth.Store.Ping(ctx)
	if err == nil && s.opts.Ready != nil {
		err = s.opts.Ready(ctx)
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if err != nil {
		s.opts.Log.Warn("not ready", "err", err)
		w.WriteHeader(http.StatusServiceUnavailable)
		w.Write([]byte("not ready\n"))
		return
	}
	w.Write([]byte("ready\n"))
}

// handleNotFound answers what no other route matched. The catch-all "/"
// pattern matches every method, so the mux's own 405 never happens: a path
// that exists under another method (PUT /login) gets 405 and Allow here.
func (s *Server) handleNotFound(mux *http.ServeMux) func(w http.ResponseWriter, r *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		var allow []string
		for _, m := range []string{http.MethodGet, http.MethodPost} {
			if m == r.Method {
				continue
			}
			probe := r.Clone(r.Context())
			probe.Method = m
			if _, pattern := mux.Handler(probe); pattern != "/" && pattern != "" {
				allow = append(allow, m)
			}
		}
		if len(allow) > 0 {
			w.Header().Set("Allow", strings.Join(allow, ", "))
			return &Error{Status: http.StatusMethodNotAllowed, Key: "error.bad_request", Err: fmt.Errorf("method %s", r.Method)}
		}
		return &Error{Status: http.StatusNotFound, Key: "error.not_found"}
	}
}

// homePage is the home page: for a logged-in person, who they are and how
// many recovery codes they have left, with the form that makes a new set.
type homePage struct {
	Base
	CodesLeft  int
	Linked     bool // an authenticator is linked: codes can be made
	Error      string
	FieldError map[string]string
}

// CodesLeftText says how many recovery codes are left, in the page's language.
func (p homePage) CodesLeftText() string { return p.cat.N(p.Lang, "codes.left", p.CodesLeft) }

func (s *Server) homePage(w http.ResponseWriter, r *http.Request) homePage {
	p := homePage{Base: s.base(w, r, "home.title"), FieldError: map[string]string{}}
	if p.Account != nil {
		ss, _, _ := s.session(r) // read by base, with the account
		p.Linked, p.CodesLeft = ss.Linked, ss.CodesLeft
	}
	return p
}

func (s *Server) handleHome(w http.ResponseWriter, r *http.Request) error {
	// The page is about who is logged in: when that cannot be read (the
	// database is down), say so rather than show a logged-out home page.
	if _, _, err := s.session(r); err != nil && !errors.Is(err, auth.ErrNoSession) {
		return err
	}
	s.render(w, r, http.StatusOK, "home", s.homePage(w, r))
	return nil
}

// loginPage is the login form (SPEC 2.1).
type loginPage struct {
	Base
	Form       credentialsForm
	Error      string
	AskType    bool
	FieldError map[string]string

	typesOffered []account.Type
}

// credentialsForm is what a login-like form sends back, kept to refill it
// (never the password or the code).
type credentialsForm struct {
	Identifier string
	Type       account.Type
}

// Types lists the account types the type question offers.
func (p loginPage) Types() []account.Type { return p.typesOffered }

func (s *Server) handleLoginForm(w http.ResponseWriter, r *http.Request) error {
	id := r.URL.Query().Get("authz")
	a, err := s.pending(w, r, id)
	if err != nil {
		return expiredAuthorization(err)
	}
	if a != nil && id != "" {
		if l, ok := s.uiLocale(r, a); ok {
			// The application's ui_locales, unless the person chose a language.
			http.Redirect(w, r, loginURL(a)+"&lang="+string(l), http.StatusSeeOther)
			return nil
		}
		if done, err := s.singleSignOn(w, r, a); done || err != nil {
			return err
		}
	}
	form := credentialsForm{}
	if a != nil {
		form.Identifier = a.LoginHint
	}
	s.render(w, r, http.StatusOK, "login", s.loginPage(w, r, form, a))
	return nil
}

// loginPage is the login form, for the portal itself or for the pending
// authorization a. An application that accepts one account type never shows
// the type question; one that accepts several shows it only when the
// identifier and password opened several accounts (see auth.LoginAny).
func (s *Server) loginPage(w http.ResponseWriter, r *http.Request, f credentialsForm, a *Authorization) loginPage {
	p := loginPage{Base: s.base(w, r, "login.title"), Form: f, AskType: len(s.opts.Types) > 1, FieldError: map[string]string{}, typesOffered: s.opts.Types}
	if a != nil {
		allowReturn(w, a)
		p.Pending = a
		p.Title = p.T("login.title_app", "App", a.ClientName)
		p.AskType, p.typesOffered = false, a.Types
	}
	return p
}

// readCredentials parses and checks the fields of a login-like form; field
// errors are translation keys by field name.
func (s *Server) readCredentials(w http.ResponseWriter, r *http.Request, withCode bool, types []account.Type) (auth.Credentials, credentialsForm, map[string]string, error) {
	fields := []string{"identifier", "password", "account_type"}
	if withCode {
		fields = append(fields, "totp")
	}
	f, err := s.parseForm(w, r, fields...)
	if err != nil {
		return auth.Credentials{}, credentialsForm{}, nil, err
	}
	c := auth.Credentials{Identifier: f.Get("identifier"), Password: f.Get("password"), Code: f.Get("totp"), Addr: s.clientAddr(r)}
	form := credentialsForm{Identifier: c.Identifier}
	errs := map[string]string{}
	switch {
	case c.Identifier == "":
		errs["identifier"] = "error.required"
	case len(c.Identifier) > account.MaxIdentifier:
		errs["identifier"] = "error.too_long"
	}
	switch {
	case c.Password == "":
		errs["password"] = "error.required"
	case len(c.Password) > 4*account.MaxPassword:
		errs["password"] = "error.too_long"
	}
	if len(types) == 1 {
		c.Type = types[0]
	} else if t, ok := account.ParseType(f.Get("account_type")); ok && contains(types, t) {
		c.Type = t
	} else if f.Get("account_type") == "" {
		errs["account_type"] = "error.required"
	} else {
		return auth.Credentials{}, credentialsForm{}, nil, badRequest(errors.New("unknown account type"))
	}
	form.Type = c.Type
	if withCode {
		s.checkCode(errs, c.Code)
	}
	return c, form, errs, nil
}

// checkCode records in errs["totp"] what is wrong with the form of a typed
// TOTP code: missing, or not the configured number of digits. Whether it is
// the right code is the service's question.
func (s *Server) checkCode(errs map[string]string, code string) {
	switch {
	case code == "":
		errs["totp"] = "error.required"
	case !totp.WellFormed(code, s.opts.Auth.TOTP.Digits):
		errs["totp"] = "error.code_format"
	}
}

func contains(types []account.Type, t account.Type) bool {
	for _, x := range types {
		if x == t {
			return true
		}
	}
	return false
}

func (s *Server) handleLoginSubmit(w http.ResponseWriter, r *http.Request) error {
	f, err := s.parseForm(w, r, "authz", "account_type")
	if err != nil {
		return err
	}
	pa, err := s.pending(w, r, f.Get("authz"))
	if err != nil {
		return expiredAuthorization(err)
	}
	types := s.opts.Types
	if pa != nil {
		types = pa.Types
	}
	askedType := f.Get("account_type") != ""
	if pa != nil && !askedType && len(types) > 1 {
		types = types[:1] // readCredentials wants one; LoginAny tries them all below
	}
	c, form, errs, err := s.readCredentials(w, r, true, types)
	if err != nil {
		return err
	}
	page := s.loginPage(w, r, form, pa)
	page.AskType = page.AskType || pa != nil && askedType
	if c.Code == "" {
		// An empty code is checked like a wrong one, after the password: a
		// person whose account has no authenticator yet (a new phone, an
		// administrator's reset) is then sent to the wizard.
		delete(errs, "totp")
	}
	if len(errs) > 0 {
		page.FieldError = errs
		s.render(w, r, http.StatusUnprocessableEntity, "login", page)
		return nil
	}
	var a account.Account
	if pa != nil && !askedType {
		a, err = s.opts.Auth.LoginAny(r.Context(), c, pa.Types)
	} else {
		a, err = s.opts.Auth.Login(r.Context(), c)
	}
	switch {
	case err == nil:
		s.metrics.outcome("login", "success")
		amr := []string{"pwd", "otp"}
		token, err := s.opts.Auth.StartSession(r.Context(), a, amr, c.Addr, r.UserAgent())
		if err != nil {
			return err
		}
		setCookie(w, sessionCookie, token, s.opts.Sessions.Absolute)
		if pa != nil {
			return s.complete(w, r, pa, a, store.Session{IDHash: auth.HashToken(token), Created: s.opts.Auth.Now(), AMR: amr})
		}
		s.redirect(w, r, "/")
		return nil
	case errors.Is(err, auth.ErrSeveralAccounts):
		s.metrics.outcome("login", "several_accounts")
		page.AskType, page.Error = true, page.T("login.several_accounts")
		s.render(w, r, http.StatusConflict, "login", page)
		return nil
	case errors.Is(err, auth.ErrNotEnrolled):
		s.metrics.outcome("login", "not_enrolled")
		token, err := s.opts.Auth.BeginEnrolment(r.Context(), a, c.Addr)
		if err != nil {
			return err
		}
		setCookie(w, flowCookie, token, 0)
		s.redirect(w, r, "/totp/init?notice=not_enrolled")
		return nil
	}
	return s.credentialsFailed(w, r, "login", err, func(status int, msg string) {
		page.Error = msg
		s.render(w, r, status, "login", page)
	})
}

// credentialsFailed shows the one generic message for any failure of a
// login-like form, or the address-throttling one.
// show renders the form again with msg, answered with status.
func (s *Server) credentialsFailed(w http.ResponseWriter, r *http.Request, flow string, err error, show func(status int, msg string)) error {
	b := Base{Lang: s.lang(w, r), cat: s.cat}
	switch {
	case errors.Is(err, auth.ErrCredentials):
		s.metrics.outcome(flow, "failure")
		show(http.StatusUnauthorized, b.T("error.credentials"))
	case errors.Is(err, auth.ErrAddressThrottled):
		s.metrics.outcome(flow, "throttled")
		show(http.StatusTooManyRequests, s.throttled(w, b))
	case errors.Is(err, auth.ErrBusy):
		// The form again, so the person only has to press the button.
		e := s.busy(w, err)
		show(e.Status, b.T(e.Key))
	default:
		return err
	}
	return nil
}

func (s *Server) handleLogout(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.parseForm(w, r); err != nil {
		return err
	}
	s.opts.Auth.EndSession(r.Context(), cookie(r, sessionCookie), s.clientAddr(r))
	setCookie(w, sessionCookie, "", 0)
	s.redirect(w, r, "/")
	return nil
}
