package web

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"sesame/internal/account"
	"sesame/internal/auth"
	"sesame/internal/i18n"
	"sesame/internal/store"
)

// Single sign-on, as the pages see it. An application sends the browser to
// the OpenID Connect provider's authorize endpoint, which sends it here with
// ?authz=ID: a pending authorization to return to once the person has
// logged in — right away when the browser already has a Sesame session
// (single sign-on), or after the login form, the initialisation wizard or
// the TOTP reset. The pages know nothing else of the protocol.

// Authorizations is the OpenID Connect provider's side of a pending login.
type Authorizations interface {
	// Pending returns the pending authorization id, or ErrNoAuthorization
	// when it is unknown, expired or already completed.
	Pending(ctx context.Context, id string) (Authorization, error)
	// Complete records that the account logged in (at authTime, with amr,
	// in the Sesame session whose stored hash is sessionHash) and returns
	// where the browser goes next: back to the application.
	Complete(ctx context.Context, id string, accountID int64, sessionHash []byte, authTime time.Time, amr []string) (string, error)
	// Deny ends the authorization with an OAuth error code
	// ("login_required", "access_denied") and returns the redirect that
	// tells the application.
	Deny(ctx context.Context, id, code, description string) (string, error)
}

// Authorization is a pending login of an application.
type Authorization struct {
	ID         string
	ClientName string         // shown: "Log in to Finagora"
	Types      []account.Type // the account types the application accepts
	LoginHint  string
	UILocales  []string
	Prompt     []string       // "none", "login"
	MaxAge     *time.Duration // nil: any session will do
	// RedirectURI is the application's registered address the browser is
	// sent back to (see formAction).
	RedirectURI string
}

// Outcomes of Authorizations' methods.
var (
	// ErrNoAuthorization: the authorization id is unknown, expired or done.
	ErrNoAuthorization = errors.New("web: no such pending authorization")
	// ErrLoginRequired: the session cannot complete this authorization
	// (older than max_age, before prompt=login, an account type it does not
	// accept): the person logs in again.
	ErrLoginRequired = errors.New("web: a fresh login is required")
)

// authzCookie remembers the pending authorization while the person goes
// through the wizard or the TOTP reset, so their last page leads back to it.
const authzCookie = "__Host-sesame-authz"

// maxAuthzID bounds the id read from a URL, a form or a cookie.
const maxAuthzID = 64

// pending returns the request's pending authorization, named by ?authz= or
// the form's authz field, else by the cookie; nil when there is none (or no
// provider). A named one that is gone is ErrNoAuthorization; a remembered
// one that is gone is forgotten quietly.
func (s *Server) pending(w http.ResponseWriter, r *http.Request, named string) (*Authorization, error) {
	if s.opts.Authorizations == nil {
		return nil, nil
	}
	fromCookie := named == ""
	if fromCookie {
		named = cookie(r, authzCookie)
	}
	if named == "" {
		return nil, nil
	}
	if len(named) > maxAuthzID {
		return nil, ErrNoAuthorization
	}
	a, err := s.opts.Authorizations.Pending(r.Context(), named)
	if errors.Is(err, ErrNoAuthorization) && fromCookie {
		setCookie(w, authzCookie, "", 0)
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if !fromCookie {
		setCookie(w, authzCookie, a.ID, time.Hour)
	}
	return &a, nil
}

// expiredAuthorization is the page for a login request that is gone: never
// a redirect, the application's address is not known any more.
func expiredAuthorization(err error) error {
	if errors.Is(err, ErrNoAuthorization) {
		return &Error{Status: http.StatusBadRequest, Key: "login.authz_expired", Err: err}
	}
	return err
}

// uiLocale returns the language the application asked for, if the person
// has not chosen one and it is supported.
func (s *Server) uiLocale(r *http.Request, a *Authorization) (i18n.Lang, bool) {
	if r.URL.Query().Get("lang") != "" {
		return "", false
	}
	if c, err := r.Cookie(i18n.CookieName); err == nil && c.Value != "" {
		return "", false
	}
	for _, l := range a.UILocales {
		if lang, ok := i18n.Parse(l); ok {
			return lang, true
		}
	}
	return "", false
}

// singleSignOn finishes a pending authorization without a form when the
// browser's Sesame session will do: a full login (password and code) of an
// account type the application accepts, not older than max_age, unless the
// application asked prompt=login. With prompt=none and no such session the
// application is told login_required. It reports whether it answered.
func (s *Server) singleSignOn(w http.ResponseWriter, r *http.Request, a *Authorization) (bool, error) {
	if slices.Contains(a.Prompt, "login") {
		return false, nil
	}
	ss, acct, err := s.session(r)
	usable := err == nil && slices.Contains(ss.AMR, "otp") && slices.Contains(a.Types, acct.Type) &&
		(a.MaxAge == nil || s.opts.Auth.Now().Sub(ss.Created) <= *a.MaxAge)
	if err != nil && !errors.Is(err, auth.ErrNoSession) {
		return false, err
	}
	if usable {
		err := s.complete(w, r, a, acct, ss)
		if errors.Is(err, ErrLoginRequired) {
			return false, nil // the provider's rules are stricter: show the form
		}
		return true, err
	}
	if slices.Contains(a.Prompt, "none") {
		to, err := s.opts.Authorizations.Deny(r.Context(), a.ID, "login_required", "no usable session")
		if err != nil {
			return true, expiredAuthorization(err)
		}
		setCookie(w, authzCookie, "", 0)
		http.Redirect(w, r, to, http.StatusSeeOther)
		return true, nil
	}
	return false, nil
}

// complete hands the logged-in account back to the application.
func (s *Server) complete(w http.ResponseWriter, r *http.Request, a *Authorization, acct account.Account, ss store.Session) error {
	to, err := s.opts.Authorizations.Complete(r.Context(), a.ID, acct.ID, ss.IDHash, ss.Created, ss.AMR)
	if errors.Is(err, ErrLoginRequired) {
		return err
	} else if err != nil {
		return expiredAuthorization(err)
	}
	setCookie(w, authzCookie, "", 0)
	s.metrics.outcome("authorize", "completed")
	http.Redirect(w, r, to, http.StatusSeeOther)
	return nil
}

// allowReturn lets the page's forms lead back to the application: a
// browser applies the form-action directive of the page that sent a form
// to every redirect that follows the POST, and a successful login's
// redirects end at the application's redirect URI, on another origin than
// 'self' — Chromium aborts that navigation under plain form-action 'self'.
// The URI is one the application registered, so naming its origin lets
// nothing new in.
func allowReturn(w http.ResponseWriter, a *Authorization) {
	if a == nil {
		return
	}
	if src := cspSource(a.RedirectURI); src != "" {
		w.Header().Set("Content-Security-Policy", contentSecurityPolicy(src))
	}
}

// cspSource is the CSP source expression of uri's origin (a scheme source
// for a URI without a host, such as a native app's), or "" when it cannot
// be one.
func cspSource(uri string) string {
	u, err := url.Parse(uri)
	if err != nil || u.Scheme == "" || strings.ContainsAny(u.Host, " ;,'\"") {
		return ""
	}
	if u.Host == "" {
		return u.Scheme + ":"
	}
	return u.Scheme + "://" + u.Host
}

// loginURL is the login page of the pending authorization.
func loginURL(a *Authorization) string {
	if a == nil {
		return "/login"
	}
	return "/login?authz=" + url.QueryEscape(a.ID)
}
