package config

import (
	"encoding/base64"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"sesame/internal/account"
)

// OIDC is the OpenID Connect provider's configuration: the relying
// applications allowed to use it.
type OIDC struct {
	Clients []OIDCClient `yaml:"clients"`
	// KeyRotationDelay is how long a new signing key is published before it
	// signs (at least one JWKS cache lifetime); 0: 15 minutes.
	KeyRotationDelay time.Duration `yaml:"key_rotation_delay"`
	// AuthorizeLimit bounds the authorization requests one network (an
	// IPv4 address or IPv6 /64) may open in a window: each is stored, and
	// anyone may send them. Zero: 1,000 in 15 minutes.
	AuthorizeLimit struct {
		Requests int           `yaml:"requests"`
		Window   time.Duration `yaml:"window"`
	} `yaml:"authorize_limit"`
}

// OIDCClient is one relying application.
type OIDCClient struct {
	ID   string `yaml:"id"`
	Name string `yaml:"name"` // shown on the login page
	// SecretHash is "sha256:" and the unpadded base64url SHA-256 of the
	// client secret ('sesame client secret' prints both). A client secret is
	// a 256-bit random value, so a fast hash cannot be reversed by guessing;
	// argon2id would cost ~90 ms a token request on the hot token endpoint
	// for no gain.
	SecretHash             string   `yaml:"secret_hash"`
	Public                 bool     `yaml:"public"` // no secret; PKCE required
	RedirectURIs           []string `yaml:"redirect_uris"`
	PostLogoutRedirectURIs []string `yaml:"post_logout_redirect_uris"`
	BackchannelLogoutURI   string   `yaml:"backchannel_logout_uri"`
	AccountTypes           []string `yaml:"account_types"` // client, group, tiers; empty: all
	// Scopes the client may ask for among openid, email, profile, sesame and
	// offline_access (refresh tokens); empty: all.
	Scopes                   []string      `yaml:"scopes"`
	IDTokenSignedResponseAlg string        `yaml:"id_token_signed_response_alg"` // RS256 (default) or ES256
	AccessTokenLifetime      time.Duration `yaml:"access_token_lifetime"`        // 0: 5 minutes
	IDTokenLifetime          time.Duration `yaml:"id_token_lifetime"`            // 0: 5 minutes
	RefreshTokenLifetime     time.Duration `yaml:"refresh_token_lifetime"`       // 0: the session's absolute lifetime
}

// OIDCScopes are the scopes the provider knows.
var OIDCScopes = []string{"openid", "email", "profile", "sesame", "offline_access"}

// Validate checks every client strictly.
func (o OIDC) Validate() error {
	var errs []string
	bad := func(format string, args ...any) { errs = append(errs, fmt.Sprintf(format, args...)) }
	if o.KeyRotationDelay < 0 {
		bad("key_rotation_delay must not be negative")
	}
	if l := o.AuthorizeLimit; l.Requests < 0 || l.Window < 0 || (l.Window > 0 && l.Window < time.Minute) || l.Window > 24*time.Hour {
		bad("authorize_limit: requests must not be negative, and window between 1m and 24h")
	}
	seen := map[string]bool{}
	for i, c := range o.Clients {
		name := fmt.Sprintf("clients[%d] (%s)", i, c.ID)
		if c.ID == "" || strings.ContainsAny(c.ID, " :\t\n") {
			bad("%s: id is required and has no spaces or colons", name)
		}
		if seen[c.ID] {
			bad("%s: duplicate id", name)
		}
		seen[c.ID] = true
		if c.Name == "" {
			bad("%s: name is required", name)
		}
		switch {
		case c.Public && c.SecretHash != "":
			bad("%s: a public client must not have a secret_hash", name)
		case !c.Public && c.SecretHash == "":
			bad("%s: a confidential client needs a secret_hash (or public: true)", name)
		case !c.Public && !validSecretHash(c.SecretHash):
			bad("%s: secret_hash must be sha256:<base64url> as printed by 'sesame client secret'", name)
		}
		if len(c.RedirectURIs) == 0 {
			bad("%s: at least one redirect_uri", name)
		}
		for _, u := range c.RedirectURIs {
			if err := checkClientURL(u); err != nil {
				bad("%s: redirect_uris: %s: %v", name, u, err)
			}
		}
		for _, u := range c.PostLogoutRedirectURIs {
			if err := checkClientURL(u); err != nil {
				bad("%s: post_logout_redirect_uris: %s: %v", name, u, err)
			}
		}
		if c.BackchannelLogoutURI != "" {
			if err := checkClientURL(c.BackchannelLogoutURI); err != nil {
				bad("%s: backchannel_logout_uri: %v", name, err)
			}
		}
		for _, t := range c.AccountTypes {
			if _, ok := account.ParseType(t); !ok {
				bad("%s: unknown account type %q", name, t)
			}
		}
		for _, s := range c.Scopes {
			if !contains(OIDCScopes, s) {
				bad("%s: unknown scope %q", name, s)
			}
		}
		switch c.IDTokenSignedResponseAlg {
		case "", "RS256", "ES256":
		default:
			bad("%s: id_token_signed_response_alg must be RS256 or ES256", name)
		}
		if c.AccessTokenLifetime < 0 || c.IDTokenLifetime < 0 || c.RefreshTokenLifetime < 0 ||
			c.AccessTokenLifetime > time.Hour || c.IDTokenLifetime > time.Hour {
			bad("%s: token lifetimes must be positive, access and id at most an hour", name)
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return nil
}

func contains(l []string, s string) bool {
	for _, v := range l {
		if v == s {
			return true
		}
	}
	return false
}

func validSecretHash(s string) bool {
	b64, ok := strings.CutPrefix(s, "sha256:")
	if !ok {
		return false
	}
	b, err := base64.RawURLEncoding.DecodeString(b64)
	return err == nil && len(b) == 32
}

// checkClientURL accepts absolute https URLs, http only on loopback, never
// a fragment (the response is appended to the query).
func checkClientURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return fmt.Errorf("not an absolute URL")
	}
	if u.Fragment != "" || strings.Contains(s, "#") {
		return fmt.Errorf("has a fragment")
	}
	if u.User != nil {
		return fmt.Errorf("has user information")
	}
	switch u.Scheme {
	case "https":
	case "http":
		h := u.Hostname()
		if ip := net.ParseIP(h); h != "localhost" && (ip == nil || !ip.IsLoopback()) {
			return fmt.Errorf("http is only allowed on loopback; use https")
		}
	default:
		return fmt.Errorf("scheme must be https (or http on loopback)")
	}
	return nil
}
