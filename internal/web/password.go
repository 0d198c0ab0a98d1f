package web

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"sesame/internal/account"
	"sesame/internal/auth"
)

// The password pages (SPEC 2.4–2.6): change (identifier, current password,
// code, new password twice); the "other" reset, which asks for an e-mailed
// link and always answers the same; the link's page; and the "internal"
// page that sends staff to the insurer's directory.

// PasswordOptions configure the password pages.
type PasswordOptions struct {
	// PublicURL is the portal's public base URL (e.g. https://sesame.example.be):
	// reset links are built on it, never on the request's Host header, which
	// an attacker could set to have a victim's link point at their own server.
	PublicURL string
	// InternalResetURL is where staff (Group accounts) reset their password:
	// the insurer's directory. Empty: the page tells them to ask IT support.
	InternalResetURL string
	ResetLifetime    time.Duration   // how long a link works; 0: 10 minutes (ASVS 2.7.2)
	ResetLimit       auth.ResetLimit // zero: auth.DefaultResetLimit()
}

// passwords is the auth service's password flows with the page options.
func (s *Server) passwords() *auth.Passwords {
	o := s.opts.Passwords
	return &auth.Passwords{Service: s.opts.Auth, ResetLifetime: o.ResetLifetime, ResetLimit: o.ResetLimit}
}

// resetLink turns a token into the link the e-mail carries.
func (s *Server) resetLink() (func(token string) string, error) {
	base, err := url.Parse(s.opts.Passwords.PublicURL)
	if err != nil || base.Host == "" || (base.Scheme != "https" && base.Scheme != "http") {
		return nil, errors.New("web: Options.Passwords.PublicURL must be the portal's absolute http(s) URL to send reset links")
	}
	prefix := strings.TrimSuffix(base.String(), "/") + "/password/reset/"
	return func(token string) string { return prefix + url.PathEscape(token) }, nil
}

// Fields of the password forms beyond the login-like ones.
const (
	fieldNew     = "new_password"
	fieldConfirm = "new_password_confirm"
)

// passwordFieldOf is the form field an auth.InvalidError key is about.
func passwordFieldOf(key string) string {
	switch key {
	case auth.KeyPasswordMismatch:
		return fieldConfirm
	case auth.KeyIdentifierInvalid:
		return "identifier"
	case auth.KeyAccountTypeInvalid:
		return "account_type"
	}
	return fieldNew
}

// readNewPassword checks the two new-password fields (already parsed) and
// puts their field errors in errs.
func readNewPassword(f Form, errs map[string]string) (string, string) {
	newPW, confirm := f.Get(fieldNew), f.Get(fieldConfirm)
	if newPW == "" {
		errs[fieldNew] = "error.required"
	}
	if confirm == "" {
		errs[fieldConfirm] = "error.required"
	}
	return newPW, confirm
}

// --- Change (SPEC 2.4) ---

type passwordChangePage struct {
	Base
	Done       bool
	Form       credentialsForm
	Error      string
	FieldError map[string]string
}

// Types lists the account types the form offers.
func (p passwordChangePage) Types() []account.Type { return account.Types }

func (s *Server) passwordChangePage(w http.ResponseWriter, r *http.Request) passwordChangePage {
	return passwordChangePage{Base: s.base(w, r, "password.change.title"), FieldError: map[string]string{}}
}

func (s *Server) handlePasswordForm(w http.ResponseWriter, r *http.Request) error {
	s.render(w, r, http.StatusOK, "password_change", s.passwordChangePage(w, r))
	return nil
}

func (s *Server) handlePasswordSubmit(w http.ResponseWriter, r *http.Request) error {
	c, form, errs, err := s.readCredentials(w, r, true, account.Types)
	if err != nil {
		return err
	}
	// The body is parsed already; this checks the two extra fields.
	f, err := s.parseForm(w, r, fieldNew, fieldConfirm)
	if err != nil {
		return err
	}
	newPW, confirm := readNewPassword(f, errs)
	p := s.passwordChangePage(w, r)
	p.Form, p.FieldError = form, errs
	if len(errs) > 0 {
		s.render(w, r, http.StatusUnprocessableEntity, "password_change", p)
		return nil
	}
	var keep []byte
	if t := cookie(r, sessionCookie); t != "" {
		keep = auth.HashToken(t)
	}
	err = s.passwords().ChangePassword(r.Context(), auth.ChangePassword{Credentials: c, New: newPW, Confirm: confirm, KeepSession: keep})
	var invalid *auth.InvalidError
	switch {
	case err == nil:
		s.metrics.outcome("password_change", "success")
		p.Done = true
		s.render(w, r, http.StatusOK, "password_change", p)
		return nil
	case errors.As(err, &invalid):
		s.metrics.outcome("password_change", "refused")
		p.FieldError[passwordFieldOf(invalid.Key)] = invalid.Key
		s.render(w, r, http.StatusUnprocessableEntity, "password_change", p)
		return nil
	case errors.Is(err, auth.ErrNotEnrolled):
		s.metrics.outcome("password_change", "not_enrolled")
		p.Error = p.T("password.change.not_linked")
		s.render(w, r, http.StatusConflict, "password_change", p)
		return nil
	}
	return s.credentialsFailed(w, r, "password_change", err, func(status int, msg string) {
		p.Error = msg
		s.render(w, r, status, "password_change", p)
	})
}

// --- Reset "other": the request (SPEC 2.5) ---

type passwordResetPage struct {
	Base
	Sent       bool
	SentText   string // the one answer, with the link's lifetime
	Form       credentialsForm
	FieldError map[string]string
}

// Types lists the account types whose passwords Sesame resets; staff have
// their own page.
func (p passwordResetPage) Types() []account.Type {
	return []account.Type{account.Client, account.Tiers}
}

func (s *Server) passwordResetPage(w http.ResponseWriter, r *http.Request) passwordResetPage {
	return passwordResetPage{Base: s.base(w, r, "password.reset.title"), FieldError: map[string]string{}}
}

func (s *Server) handlePasswordResetForm(w http.ResponseWriter, r *http.Request) error {
	s.render(w, r, http.StatusOK, "password_reset", s.passwordResetPage(w, r))
	return nil
}

func (s *Server) handlePasswordResetSubmit(w http.ResponseWriter, r *http.Request) error {
	f, err := s.parseForm(w, r, "identifier", "account_type")
	if err != nil {
		return err
	}
	p := s.passwordResetPage(w, r)
	p.Form.Identifier = f.Get("identifier")
	switch {
	case p.Form.Identifier == "":
		p.FieldError["identifier"] = "error.required"
	case len(p.Form.Identifier) > account.MaxIdentifier:
		p.FieldError["identifier"] = "error.too_long"
	}
	// Group is accepted (and answered like any other) even though the form
	// does not offer it: refusing it would be a different answer.
	if t, ok := account.ParseType(f.Get("account_type")); ok {
		p.Form.Type = t
	} else if f.Get("account_type") == "" {
		p.FieldError["account_type"] = "error.required"
	} else {
		return badRequest(errors.New("unknown account type"))
	}
	if len(p.FieldError) > 0 {
		s.render(w, r, http.StatusUnprocessableEntity, "password_reset", p)
		return nil
	}
	link, err := s.resetLink()
	if err != nil {
		return err
	}
	err = s.passwords().RequestPasswordReset(r.Context(), p.Form.Type, p.Form.Identifier, s.clientAddr(r), link)
	var invalid *auth.InvalidError
	if errors.As(err, &invalid) {
		p.FieldError[passwordFieldOf(invalid.Key)] = invalid.Key
		s.render(w, r, http.StatusUnprocessableEntity, "password_reset", p)
		return nil
	}
	if err != nil {
		return err
	}
	// The one answer, whatever happened: no outcome metric either, since
	// it could not say more than the page does.
	p.Sent, p.SentText = true, s.cat.N(p.Lang, "password.reset.sent", int(s.lifetime().Round(time.Minute)/time.Minute))
	s.render(w, r, http.StatusOK, "password_reset", p)
	return nil
}

func (s *Server) lifetime() time.Duration {
	if d := s.opts.Passwords.ResetLifetime; d > 0 {
		return d
	}
	return auth.DefaultResetLifetime
}

// --- Reset "other": the link's page ---

type passwordNewPage struct {
	Base
	Token      string
	Invalid    bool // the link is unknown, used or expired
	NeedsCode  bool
	Done       bool
	Error      string
	FieldError map[string]string
}

func (s *Server) passwordNewPage(w http.ResponseWriter, r *http.Request) passwordNewPage {
	return passwordNewPage{Base: s.base(w, r, "password.new.title"), Token: r.PathValue("token"), FieldError: map[string]string{}}
}

// linkFailed shows the page for a link that cannot be used, or returns err.
func (s *Server) linkFailed(w http.ResponseWriter, r *http.Request, p passwordNewPage, err error) error {
	switch {
	case errors.Is(err, auth.ErrResetInvalid):
		s.metrics.outcome("password_reset", "invalid_link")
		p.Invalid = true
		s.render(w, r, http.StatusGone, "password_new", p)
		return nil
	case errors.Is(err, auth.ErrAddressThrottled):
		s.metrics.outcome("password_reset", "throttled")
		p.Invalid, p.Error = true, s.throttled(w, p.Base)
		s.render(w, r, http.StatusTooManyRequests, "password_new", p)
		return nil
	}
	return err
}

func (s *Server) handlePasswordNewForm(w http.ResponseWriter, r *http.Request) error {
	p := s.passwordNewPage(w, r)
	needs, err := s.passwords().PasswordResetInfo(r.Context(), p.Token, s.clientAddr(r))
	if err != nil {
		return s.linkFailed(w, r, p, err)
	}
	p.NeedsCode = needs
	s.render(w, r, http.StatusOK, "password_new", p)
	return nil
}

func (s *Server) handlePasswordNewSubmit(w http.ResponseWriter, r *http.Request) error {
	f, err := s.parseForm(w, r, fieldNew, fieldConfirm, "totp")
	if err != nil {
		return err
	}
	p := s.passwordNewPage(w, r)
	pw := s.passwords()
	addr := s.clientAddr(r)
	if p.NeedsCode, err = pw.PasswordResetInfo(r.Context(), p.Token, addr); err != nil {
		return s.linkFailed(w, r, p, err)
	}
	newPW, confirm := readNewPassword(f, p.FieldError)
	code := f.Get("totp")
	if p.NeedsCode {
		s.checkCode(p.FieldError, code)
	}
	if len(p.FieldError) > 0 {
		s.render(w, r, http.StatusUnprocessableEntity, "password_new", p)
		return nil
	}
	err = pw.ResetPassword(r.Context(), p.Token, newPW, confirm, code, addr)
	var invalid *auth.InvalidError
	var wrong *auth.WrongCodeError
	switch {
	case err == nil:
		s.metrics.outcome("password_reset", "success")
		// Every session of the account ended, this browser's included.
		setCookie(w, sessionCookie, "", 0)
		p.Done, p.Account = true, nil
		s.render(w, r, http.StatusOK, "password_new", p)
		return nil
	case errors.As(err, &invalid):
		s.metrics.outcome("password_reset", "refused")
		p.FieldError[passwordFieldOf(invalid.Key)] = invalid.Key
		s.render(w, r, http.StatusUnprocessableEntity, "password_new", p)
		return nil
	case errors.As(err, &wrong):
		s.metrics.outcome("password_reset", "wrong_code")
		p.Error = s.cat.N(p.Lang, "enrol.tries_left", wrong.TriesLeft)
		s.render(w, r, http.StatusUnauthorized, "password_new", p)
		return nil
	case errors.Is(err, auth.ErrResetLocked):
		s.metrics.outcome("password_reset", "locked")
		p.Error = p.T("password.new.locked")
		s.render(w, r, http.StatusTooManyRequests, "password_new", p)
		return nil
	}
	return s.linkFailed(w, r, p, err)
}

// --- Reset "internal" (SPEC 2.6) ---

type passwordInternalPage struct {
	Base
	ResetURL string
}

func (s *Server) handlePasswordInternal(w http.ResponseWriter, r *http.Request) error {
	s.render(w, r, http.StatusOK, "password_internal", passwordInternalPage{
		Base: s.base(w, r, "password.internal.title"), ResetURL: s.opts.Passwords.InternalResetURL})
	return nil
}
