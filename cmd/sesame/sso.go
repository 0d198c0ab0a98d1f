package main

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"sesame/internal/auth"
	"sesame/internal/config"
	"sesame/internal/finagora"
	"sesame/internal/oidc"
	"sesame/internal/web"
)

// provider builds the OpenID Connect provider on the app's store and keys:
// the portal's public URL is its issuer.
func (a *app) provider(ctx context.Context) (*oidc.Provider, error) {
	return oidc.New(ctx, oidc.Options{
		Store: a.store, Keys: a.auth.Keys, Issuer: a.cfg.PublicURL, Clients: a.cfg.OIDC.Clients,
		SessionIdle: a.cfg.Sessions.Idle, SessionAbsolute: a.cfg.Sessions.Absolute,
		KeyRotationDelay: a.cfg.OIDC.KeyRotationDelay, Now: time.Now, Log: a.log,
		// Authorization requests are counted per network as the portal
		// counts login attempts: behind the trusted proxy, an IPv6 /64 as one.
		AddressKey:     func(r *http.Request) string { return auth.AddressKey(web.ClientAddr(r, a.cfg.TrustProxy)) },
		AuthorizeLimit: oidc.AuthorizeLimit{Requests: a.cfg.OIDC.AuthorizeLimit.Requests, Window: a.cfg.OIDC.AuthorizeLimit.Window},
	})
}

// finagoraClientID is Finagora's registration in the demo.
const finagoraClientID = "finagora"

// registerFinagora registers the demo's Finagora with the provider and gives
// Finagora its side of the registration: a client secret generated on the
// first run and kept in the data folder (finagora.secret), like the sealing
// key, so restarts keep working.
func registerFinagora(c *config.Config, dir string) error {
	path := filepath.Join(dir, "finagora.secret")
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		secret, _ := oidc.NewClientSecret()
		data = []byte(secret + "\n")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			return err
		}
	} else if err != nil {
		return err
	}
	secret := strings.TrimSpace(string(data))
	app := strings.TrimSuffix(c.AppURL, "/")
	c.OIDC.Clients = append(c.OIDC.Clients, config.OIDCClient{
		ID: finagoraClientID, Name: "Finagora", SecretHash: oidc.SecretHash(secret),
		RedirectURIs:           []string{app + finagora.CallbackPath},
		PostLogoutRedirectURIs: []string{app + "/"},
		BackchannelLogoutURI:   app + finagora.BackchannelLogoutPath,
		AccountTypes:           []string{"tiers", "group"},
	})
	c.Finagora.Issuer, c.Finagora.ClientID, c.Finagora.ClientSecret = c.PublicURL, finagoraClientID, secret
	return nil
}
