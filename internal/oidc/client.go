package oidc

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"slices"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"sesame/internal/account"
	"sesame/internal/config"
)

// client is a configured relying application, as op.Client.
type client struct {
	cfg        config.OIDCClient
	issuer     string
	types      []account.Type
	scopes     []string
	alg        jose.SignatureAlgorithm
	secretHash []byte // nil for a public client
	accessLife time.Duration
	idLife     time.Duration
	refresh    time.Duration // 0: the session's absolute lifetime
}

func newClient(c config.OIDCClient, issuer string) *client {
	cl := &client{cfg: c, issuer: issuer, alg: jose.RS256, accessLife: c.AccessTokenLifetime, idLife: c.IDTokenLifetime, refresh: c.RefreshTokenLifetime}
	if c.IDTokenSignedResponseAlg == "ES256" {
		cl.alg = jose.ES256
	}
	if cl.accessLife == 0 {
		cl.accessLife = defaultAccess
	}
	if cl.idLife == 0 {
		cl.idLife = defaultID
	}
	for _, t := range c.AccountTypes {
		if at, ok := account.ParseType(t); ok {
			cl.types = append(cl.types, at)
		}
	}
	if len(cl.types) == 0 {
		cl.types = []account.Type{account.Client, account.Group, account.Tiers}
	}
	cl.scopes = c.Scopes
	if len(cl.scopes) == 0 {
		cl.scopes = config.OIDCScopes
	}
	if !c.Public {
		if b, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(c.SecretHash, "sha256:")); err == nil && len(b) == sha256.Size {
			cl.secretHash = b
		}
	}
	return cl
}

// NewClientSecret returns a new random client secret and the secret_hash
// to configure for it.
func NewClientSecret() (secret, hash string) {
	secret = randomToken(32)
	return secret, SecretHash(secret)
}

// SecretHash is the configuration form of a client secret's hash.
func SecretHash(secret string) string {
	h := sha256.Sum256([]byte(secret))
	return "sha256:" + base64.RawURLEncoding.EncodeToString(h[:])
}

// checkSecret compares in constant time; a public client has no secret.
func (c *client) checkSecret(secret string) bool {
	h := sha256.Sum256([]byte(secret))
	if c == nil || c.secretHash == nil {
		subtle.ConstantTimeCompare(h[:], h[:])
		return false
	}
	return subtle.ConstantTimeCompare(h[:], c.secretHash) == 1
}

func (c *client) GetID() string                    { return c.cfg.ID }
func (c *client) RedirectURIs() []string           { return c.cfg.RedirectURIs }
func (c *client) PostLogoutRedirectURIs() []string { return c.cfg.PostLogoutRedirectURIs }

// ApplicationType is web for every client, public ones included: op then
// matches redirect URIs exactly (for native clients it ignores loopback
// ports). Whether a client has a secret is AuthMethod's business.
func (c *client) ApplicationType() op.ApplicationType { return op.ApplicationTypeWeb }

func (c *client) AuthMethod() oidc.AuthMethod {
	if c.cfg.Public {
		return oidc.AuthMethodNone
	}
	return oidc.AuthMethodBasic
}

func (c *client) ResponseTypes() []oidc.ResponseType {
	return []oidc.ResponseType{oidc.ResponseTypeCode}
}
func (c *client) GrantTypes() []oidc.GrantType {
	return []oidc.GrantType{oidc.GrantTypeCode, oidc.GrantTypeRefreshToken}
}

// LoginURL is the portal's login page, relative to the issuer.
func (c *client) LoginURL(id string) string { return loginPath + "?authz=" + id }

func (c *client) AccessTokenType() op.AccessTokenType  { return op.AccessTokenTypeBearer }
func (c *client) IDTokenLifetime() time.Duration       { return c.idLife }
func (c *client) DevMode() bool                        { return false }
func (c *client) IsScopeAllowed(scope string) bool     { return slices.Contains(c.scopes, scope) }
func (c *client) IDTokenUserinfoClaimsAssertion() bool { return true }
func (c *client) ClockSkew() time.Duration             { return 0 }
func (c *client) RestrictAdditionalIdTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}
func (c *client) RestrictAdditionalAccessTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}

// allowedScopes keeps the scopes the client may have.
func (c *client) allowedScopes(req []string) []string {
	var out []string
	for _, s := range req {
		if slices.Contains(c.scopes, s) && slices.Contains(config.OIDCScopes, s) && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}
