package config

import (
	"strings"
	"testing"
	"time"
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

func TestOIDCAuthorizeLimit(t *testing.T) {
	for _, tt := range []struct {
		requests int
		window   time.Duration
		ok       bool
	}{
		{0, 0, true}, // the defaults
		{50, 15 * time.Minute, true},
		{-1, 0, false},
		{10, -time.Minute, false},
		{10, time.Second, false},
		{10, 48 * time.Hour, false},
	} {
		var o OIDC
		o.AuthorizeLimit.Requests, o.AuthorizeLimit.Window = tt.requests, tt.window
		if err := o.Validate(); (err == nil) != tt.ok {
			t.Errorf("%d in %v: %v", tt.requests, tt.window, err)
		}
	}
}
