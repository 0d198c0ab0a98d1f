// Package sso joins the portal's pages (package web) to the OpenID Connect
// provider (package oidc): the provider's endpoints are served on the
// portal's origin, and a pending authorization is what the login, wizard
// and reset pages lead back to. Neither package knows the other; the
// programs (cmd/sesame) and the end-to-end tests wire them through here.
package sso

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"sesame/internal/oidc"
	"sesame/internal/web"
)

// Handler serves the provider's endpoints beside the portal's pages,
// on the portal's origin (the issuer).
//
// On the endpoints a browser is sent to, a refusal that does not go back to
// the application — an unknown client or redirect URI, a malformed or
// expired request, an invalid log-out request — becomes the portal's error
// page in the person's language. The provider's library writes a line of
// English there (JSON at end_session), without the pages' security headers.
func Handler(portal *web.Server, p *oidc.Provider) http.Handler {
	mux := http.NewServeMux()
	pages := map[string]bool{}
	for _, b := range p.BrowserRoutes() {
		key := "error.app_login"
		if b.Logout {
			key = "error.app_logout"
		}
		mux.Handle(b.Path, refusalsAsPages(portal, p.Handler(), key))
		pages[b.Path] = true
	}
	for _, route := range p.Routes() {
		if !pages[route] {
			mux.Handle(route, p.Handler())
		}
	}
	mux.Handle("/", portal)
	return mux
}

// refusalsAsPages serves next, and when it answers an error that is not a
// redirect, answers the portal's error page instead: key's message for a
// refused request, the portal's own for a failure of its own (5xx).
func refusalsAsPages(portal *web.Server, next http.Handler, key string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rw := &refusal{ResponseWriter: w}
		next.ServeHTTP(rw, r)
		if rw.status == 0 {
			return
		}
		e := &web.Error{Status: rw.status, Key: key, Err: fmt.Errorf("the provider refused the request with %d", rw.status)}
		switch {
		case rw.status == http.StatusTooManyRequests:
			// The provider's budget per network: its Retry-After is the
			// window, which the page says too.
			secs, _ := strconv.Atoi(w.Header().Get("Retry-After"))
			err := e.Err
			e = web.Throttled(w, time.Duration(secs)*time.Second)
			e.Err = err
		case rw.status == http.StatusServiceUnavailable:
			w.Header().Set("Retry-After", "5")
			e.Key = "error.unavailable"
		case rw.status >= 500:
			e.Key = "error.internal"
		}
		portal.ServeError(w, r, e)
	})
}

// refusal passes a response through unless it is an error without a
// Location; then it keeps the status and drops the body.
type refusal struct {
	http.ResponseWriter
	status int // the error answered instead of passed through; 0: none
}

func (w *refusal) WriteHeader(code int) {
	if code >= 400 && w.Header().Get("Location") == "" {
		w.status = code
		return
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *refusal) Write(b []byte) (int, error) {
	if w.status != 0 {
		return len(b), nil
	}
	return w.ResponseWriter.Write(b)
}

// Authorizations is the provider as the portal's pages see it.
func Authorizations(p *oidc.Provider) web.Authorizations { return authorizations{p} }

type authorizations struct{ p *oidc.Provider }

func (z authorizations) Pending(ctx context.Context, id string) (web.Authorization, error) {
	r, err := z.p.Request(ctx, id)
	if err != nil {
		return web.Authorization{}, webError(err)
	}
	return web.Authorization{ID: r.ID, ClientName: r.ClientName, Types: r.AccountTypes, LoginHint: r.LoginHint,
		UILocales: r.UILocales, Prompt: r.Prompt, MaxAge: r.MaxAge, RedirectURI: r.RedirectURI}, nil
}

func (z authorizations) Complete(ctx context.Context, id string, accountID int64, sessionHash []byte, authTime time.Time, amr []string) (string, error) {
	to, err := z.p.Complete(ctx, id, accountID, sessionHash, authTime, amr)
	return to, webError(err)
}

func (z authorizations) Deny(ctx context.Context, id, code, description string) (string, error) {
	to, err := z.p.Deny(ctx, id, code, description)
	return to, webError(err)
}

// webError turns the provider's outcomes into the pages' vocabulary.
func webError(err error) error {
	switch {
	case errors.Is(err, oidc.ErrUnknownRequest):
		return errors.Join(web.ErrNoAuthorization, err)
	case errors.Is(err, oidc.ErrLoginRequired), errors.Is(err, oidc.ErrAccountType):
		return errors.Join(web.ErrLoginRequired, err)
	}
	return err
}
