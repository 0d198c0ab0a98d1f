package config

import (
	"strings"
	"testing"
)

func TestOIDCValidate(t *testing.T) {
	hash := "sha256:" + strings.Repeat("A", 43)
	ok := OIDCClient{ID: "app", Name: "App", SecretHash: hash, RedirectURIs: []string{"https://app.example/cb", "http://127.0.0.1:8081/cb"}}
	tests := []struct {
		name string
		edit func(c *OIDCClient)
		want string // substring of the error; "" for none
	}{
		{"valid", func(c *OIDCClient) {}, ""},
		{"public with secret", func(c *OIDCClient) { c.Public = true }, "public client must not"},
		{"confidential without secret", func(c *OIDCClient) { c.SecretHash = "" }, "needs a secret_hash"},
		{"bad hash", func(c *OIDCClient) { c.SecretHash = "$argon2id$x" }, "secret_hash must be"},
		{"http outside loopback", func(c *OIDCClient) { c.RedirectURIs = []string{"http://app.example/cb"} }, "loopback"},
		{"fragment", func(c *OIDCClient) { c.RedirectURIs = []string{"https://app.example/cb#x"} }, "fragment"},
		{"relative", func(c *OIDCClient) { c.RedirectURIs = []string{"/cb"} }, "absolute"},
		{"custom scheme", func(c *OIDCClient) { c.PostLogoutRedirectURIs = []string{"app://x"} }, "scheme"},
		{"backchannel http", func(c *OIDCClient) { c.BackchannelLogoutURI = "http://rp.example/bc" }, "backchannel"},
		{"account type", func(c *OIDCClient) { c.AccountTypes = []string{"broker"} }, "account type"},
		{"scope", func(c *OIDCClient) { c.Scopes = []string{"phone"} }, "scope"},
		{"alg", func(c *OIDCClient) { c.IDTokenSignedResponseAlg = "HS256" }, "RS256 or ES256"},
		{"no name", func(c *OIDCClient) { c.Name = "" }, "name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := ok
			tt.edit(&c)
			err := OIDC{Clients: []OIDCClient{c}}.Validate()
			if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
				t.Errorf("Validate = %v, want %q", err, tt.want)
			}
		})
	}
	if err := (OIDC{Clients: []OIDCClient{ok, ok}}).Validate(); err == nil || !strings.Contains(err.Error(), "duplicate") {
		t.Errorf("duplicate ids: %v", err)
	}
}
