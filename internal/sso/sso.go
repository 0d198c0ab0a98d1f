// Package sso joins the portal's pages (package web) to the OpenID Connect
// provider (package oidc): the provider's endpoints are served on the
// portal's origin, and a pending authorization is what the login, wizard
// and reset pages lead back to. Neither package knows the other; the
// programs (cmd/sesame) and the end-to-end tests wire them through here.
package sso

import (
	"context"
	"errors"
	"net/http"
	"time"

	"sesame/internal/oidc"
	"sesame/internal/web"
)

// Handler serves the provider's endpoints beside the portal's pages,
// on the portal's origin (the issuer).
func Handler(portal http.Handler, p *oidc.Provider) http.Handler {
	mux := http.NewServeMux()
	for _, route := range p.Routes() {
		mux.Handle(route, p.Handler())
	}
	mux.Handle("/", portal)
	return mux
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
