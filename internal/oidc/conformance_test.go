package oidc

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"sesame/internal/config"
)

// The OpenID Foundation's conformance suite (openid-certification/
// conformance-suite), as Go tests against the provider. conformanceModules
// lists every module of its "Basic OP" (oidcc-basic-certification-test-plan:
// response_type code, client_secret_basic, one module with
// client_secret_post) and "Config OP" (oidcc-config-certification-test-plan)
// plans, in the plans' order, and says whether each applies to Sesame; a few
// modules of the "Dynamic OP" plan that are often thought to be in Basic
// follow, marked as such. A module that applies is run by TestConformance as
// a subtest of the same name (conformanceChecks), asserting what the module
// asserts; some modules that do not apply have a check too, proving the
// refusal the suite would accept.
//
// The suite drives a browser; here the login page is the provider's API:
// Request shows what the page would show, Complete (with the auth_time the
// page would pass) or Deny ends it, and the returned URL is followed to the
// client. A screenshot the suite asks for (an error page) is a 400 answer
// without a redirect.
type conformanceModule struct {
	module  string
	applies bool
	why     string
}

var conformanceModules = []conformanceModule{
	// Basic OP.
	{"oidcc-server", true, "the code flow: code, state and iss in the response; Bearer token, ID token signed, nonce, kid, aud, exp; client_secret_basic"},
	{"oidcc-response-type-missing", true, "invalid_request back to the client with state and iss"},
	{"oidcc-idtoken-signature", true, "the suite runs it with dynamic registration only; its checks (kid present, RS256 when the client names no algorithm) hold for configured clients and are run"},
	{"oidcc-idtoken-unsigned", false, "ID tokens are always signed (RS256 or ES256): discovery does not list \"none\", so the suite skips it (it also needs dynamic registration)"},
	{"oidcc-userinfo-get", true, "userinfo with GET and a Bearer header"},
	{"oidcc-userinfo-post-header", true, "userinfo with POST and a Bearer header"},
	{"oidcc-userinfo-post-body", true, "userinfo with POST and access_token in the body (RFC 6750 §2.2)"},
	{"oidcc-ensure-request-without-nonce-succeeds-for-code-flow", true, "nonce is optional in the code flow"},
	{"oidcc-scope-profile", true, "name and locale with profile, nothing of other scopes"},
	{"oidcc-scope-email", true, "email and email_verified with email, nothing of other scopes"},
	{"oidcc-scope-address", false, "Sesame holds no postal address: address is not in scopes_supported, so the suite skips it; asking for it is harmless and gives no address claim (checked)"},
	{"oidcc-scope-phone", false, "Sesame holds no phone number: phone is not in scopes_supported, so the suite skips it; asking for it gives no phone claim (checked)"},
	{"oidcc-scope-all", false, "needs address and phone in scopes_supported, so the suite skips it; asking for all four gives the email and profile claims only (checked)"},
	{"oidcc-alternate-happy-flow", true, "scope order reversed and parameters reordered (replaced oidcc-ensure-other-scope-order-succeeds in the plan)"},
	{"oidcc-display-page", true, "display=page is accepted"},
	{"oidcc-display-popup", true, "display=popup is accepted"},
	{"oidcc-prompt-login", true, "prompt=login reaches the page; an older authentication is refused (ErrLoginRequired); the new auth_time is later"},
	{"oidcc-prompt-none-not-logged-in", true, "the page denies with login_required: it reaches the client with the 128-character state and iss"},
	{"oidcc-prompt-none-logged-in", true, "prompt=none completed from the existing session: same sub and auth_time"},
	{"oidcc-max-age-1", true, "an authentication older than max_age is refused (ErrLoginRequired); the fresh one's auth_time is in the ID token"},
	{"oidcc-max-age-10000", true, "a recent enough authentication is reused: auth_time present and equal in both ID tokens, same sub"},
	{"oidcc-ensure-request-with-unknown-parameter-succeeds", true, "unknown parameters are ignored"},
	{"oidcc-id-token-hint", true, "prompt=none with the first ID token as id_token_hint succeeds; same sub and auth_time"},
	{"oidcc-login-hint", true, "login_hint reaches the page (Request.LoginHint)"},
	{"oidcc-ui-locales", true, "ui_locales reach the page (Request.UILocales)"},
	{"oidcc-claims-locales", true, "claims_locales is accepted (and ignored)"},
	{"oidcc-ensure-request-with-acr-values-succeeds", true, "acr_values accepted; acr is always ACR (the suite only warns when it is not one requested)"},
	{"oidcc-codereuse", true, "a second redemption is invalid_grant (400, JSON) and revokes what the first gave"},
	{"oidcc-codereuse-30seconds", true, "the same 30 s later (the code is still within its 60 s): invalid_grant, and the first access token no longer works at userinfo"},
	{"oidcc-ensure-registered-redirect-uri", true, "an unregistered redirect_uri gets an error page, no redirect anywhere"},
	{"oidcc-ensure-post-request-succeeds", true, "the authorization request as a POST"},
	{"oidcc-server-client-secret-post", true, "the code flow with client_secret_post"},
	{"oidcc-request-uri-unsigned-supported-correctly-or-rejected-as-unsupported", false, "the suite runs it with dynamic registration only; request_uri is not supported (discovery says request_uri_parameter_supported: false) and a request naming one gets request_uri_not_supported, with state and iss, at the client's registered redirect URI"},
	{"oidcc-unsigned-request-object-supported-correctly-or-rejected-as-unsupported", true, "request objects are not supported: the module accepts request_not_supported (with iss) at the client, which is what op answers"},
	{"oidcc-claims-essential", true, "the claims parameter is not supported (claims_parameter_supported: false) and ignored: the flow succeeds; the module warns that name is missing from userinfo without the profile scope"},
	{"oidcc-ensure-request-object-with-redirect-uri", true, "the outer redirect_uri is unregistered and the request object is not read: an error page, no redirect (one of the two outcomes the module accepts)"},
	{"oidcc-refresh-token", true, "offline_access gives a refresh token; refreshing (with scope) gives a consistent ID token; another client cannot use it (invalid_grant)"},
	{"oidcc-ensure-request-with-valid-pkce-succeeds", true, "PKCE S256"},
	// Config OP.
	{"oidcc-discovery-endpoint-verification", true, "the discovery document: issuer, endpoints, jwks_uri and its keys, response, subject and grant types, RS256, scopes and claims supported"},
	// Not in Basic or Config: the Dynamic OP plan (oidcc-dynamic-certification-test-plan).
	{"oidcc-idtoken-rs256", false, "Dynamic OP only (registers a client asking for RS256); oidcc-idtoken-signature's check covers RS256"},
	{"oidcc-userinfo-rs256", false, "Dynamic OP only; signed userinfo responses are not offered (userinfo is JSON)"},
	{"oidcc-ensure-redirect-uri-in-authorization-request", false, "Dynamic OP only; a request without redirect_uri is refused (checked)"},
	{"oidcc-redirect-uri-query-OK", false, "Dynamic OP only (registers a redirect URI with a query); exact matching makes it work for configured URIs"},
	{"oidcc-redirect-uri-query-mismatch", false, "Dynamic OP only; exact matching refuses a different query (checked)"},
	{"oidcc-redirect-uri-query-added", false, "Dynamic OP only; exact matching refuses an added query (checked)"},
	{"oidcc-redirect-uri-regfrag", false, "Dynamic OP only; configuration refuses redirect URIs with a fragment"},
	{"oidcc-registration-logo-uri", false, "Dynamic OP only: dynamic registration is not offered (clients are configured)"},
	{"oidcc-registration-policy-uri", false, "dynamic registration is not offered"},
	{"oidcc-registration-tos-uri", false, "dynamic registration is not offered"},
	{"oidcc-registration-jwks-uri", false, "dynamic registration is not offered"},
	{"oidcc-registration-sector-uri", false, "dynamic registration is not offered; sub is the same for every client (no pairwise)"},
	{"oidcc-registration-sector-bad", false, "dynamic registration is not offered"},
	{"oidcc-server-rotate-keys", false, "Dynamic OP only, and rotation is an operator's command (sesame keys rotate): keys_test.go tests it"},
	{"oidcc-refresh-token-rp-key-rotation", false, "Dynamic OP only: it rotates the client's JWKS for private_key_jwt, which is not offered"},
	{"oidcc-request-uri-unsigned", false, "Dynamic OP only; request_uri is not supported"},
	{"oidcc-request-uri-signed-rs256", false, "Dynamic OP only; request_uri is not supported"},
	{"oidcc-ensure-client-assertion-with-iss-aud-succeeds", false, "Dynamic OP only; private_key_jwt and client_secret_jwt are not offered"},
}

// httpsRedirect is the redirect URI of the client "web", registered only in
// TestConformance's provider.
const httpsRedirect = "https://rp.example/cb"

// conf is what every module's check works with: one provider, one account
// logged in, the confidential clients rs (RS256) and es (ES256).
type conf struct{ e *testEnv }

// confResult is the client's view of one authorization.
type confResult struct {
	state, nonce string
	redirect     url.Values // the authorization response's query
	tok          *oauth2.Token
	idt          *gooidc.IDToken
	claims       map[string]any
	rawID        string
}

// noFollow does not follow redirects.
var noFollow = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// confParams are an authorization request's parameters as the suite sends
// them for client_id (no PKCE: the suite sends none but in the PKCE module).
func confParams(clientID string, scope string) (url.Values, string, string) {
	state, nonce := randomToken(12), randomToken(12)
	return url.Values{"client_id": {clientID}, "response_type": {"code"}, "scope": {scope}, "redirect_uri": {rpRedirect},
		"state": {state}, "nonce": {nonce}}, state, nonce
}

// start sends the authorization request and returns the pending request id
// the login page receives.
func (c *conf) start(t *testing.T, q url.Values, post bool) string {
	t.Helper()
	var resp *http.Response
	var err error
	if post {
		resp, err = noFollow.PostForm(c.e.issuer+pathAuthorize, q)
	} else {
		resp, err = noFollow.Get(c.e.issuer + pathAuthorize + "?" + q.Encode())
	}
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusFound || loc == nil || loc.Path != loginPath {
		t.Fatalf("authorization request: status %d, Location %v; want the login page", resp.StatusCode, loc)
	}
	return loc.Query().Get("authz")
}

// follow GETs u and returns the redirect to the client's redirect URI.
func (c *conf) follow(t *testing.T, u string) url.Values {
	t.Helper()
	resp, err := noFollow.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusFound || loc == nil || !strings.HasPrefix(loc.String(), rpRedirect+"?") {
		t.Fatalf("GET %s: status %d, Location %v; want the client's redirect URI", u, resp.StatusCode, loc)
	}
	return loc.Query()
}

// complete is the login page completing the request with an authentication
// at authTime in the current Sesame session.
func (c *conf) complete(t *testing.T, id string, authTime time.Time) url.Values {
	t.Helper()
	next, err := c.e.p.Complete(context.Background(), id, c.e.acct.ID, c.e.sessHash, authTime, []string{"pwd", "otp"})
	if err != nil {
		t.Fatalf("Complete: %v", err)
	}
	return c.follow(t, next)
}

// run is a whole authorization for client (rs or es) with the given
// parameters (merged over confParams'), a fresh login at authTime (zero: now),
// and the code exchange with client_secret_basic.
func (c *conf) run(t *testing.T, client, scope string, extra url.Values, authTime time.Time) confResult {
	t.Helper()
	q, state, nonce := confParams(client, scope)
	for k, v := range extra {
		q[k] = v
	}
	if authTime.IsZero() {
		authTime = c.e.now()
	}
	res := confResult{state: state, nonce: nonce}
	res.redirect = c.complete(t, c.start(t, q, false), authTime)
	c.checkCodeResponse(t, res.redirect, state)
	alg := "RS256"
	if client == "es" {
		alg = "ES256"
	}
	r := c.e.rp(t, client, alg)
	r.cfg.Endpoint.AuthStyle = oauth2.AuthStyleInHeader
	c.exchange(t, r, &res, q.Get("nonce"))
	return res
}

func (c *conf) checkCodeResponse(t *testing.T, q url.Values, state string) {
	t.Helper()
	if q.Get("code") == "" || q.Get("state") != state || q.Get("iss") != c.e.issuer || q.Get("error") != "" {
		t.Fatalf("authorization response %v: want code, state %q and iss", q, state)
	}
}

// exchange redeems res.redirect's code and verifies the ID token as the
// suite does (go-oidc checks signature, iss, aud, exp; then nonce, kid,
// iat, sub, at_hash).
func (c *conf) exchange(t *testing.T, r *rp, res *confResult, nonce string) {
	t.Helper()
	ctx := context.Background()
	tok, err := r.cfg.Exchange(ctx, res.redirect.Get("code"))
	if err != nil {
		t.Fatalf("token request: %v", err)
	}
	res.tok = tok
	c.checkIDToken(t, r, res, nonce)
}

func (c *conf) checkIDToken(t *testing.T, r *rp, res *confResult, nonce string) {
	t.Helper()
	if !strings.EqualFold(res.tok.TokenType, "Bearer") || res.tok.AccessToken == "" || res.tok.Expiry.IsZero() {
		t.Errorf("token response: type %q, expiry %v", res.tok.TokenType, res.tok.Expiry)
	}
	res.rawID, _ = res.tok.Extra("id_token").(string)
	idt, err := r.verifier.Verify(context.Background(), res.rawID)
	if err != nil {
		t.Fatalf("ID token: %v", err)
	}
	res.idt = idt
	if idt.Nonce != nonce {
		t.Errorf("nonce = %q, want %q", idt.Nonce, nonce)
	}
	if idt.Subject != c.e.p.Subject(c.e.acct.ID) || idt.IssuedAt.IsZero() {
		t.Errorf("sub %q iat %v", idt.Subject, idt.IssuedAt)
	}
	if idt.AccessTokenHash != "" {
		if err := idt.VerifyAccessToken(res.tok.AccessToken); err != nil {
			t.Errorf("at_hash: %v", err)
		}
	}
	if h := jwsHeader(t, res.rawID); h["kid"] == nil || h["kid"] == "" {
		t.Errorf("ID token header %v has no kid", h)
	}
	res.claims = map[string]any{}
	idt.Claims(&res.claims)
}

func jwsHeader(t *testing.T, jws string) map[string]any {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(strings.Split(jws, ".")[0])
	if err != nil {
		t.Fatalf("JWS header: %v", err)
	}
	var h map[string]any
	json.Unmarshal(b, &h)
	return h
}

// authTime is the ID token's auth_time.
func authTime(t *testing.T, res confResult) int64 {
	t.Helper()
	v, ok := res.claims["auth_time"].(float64)
	if !ok {
		t.Fatalf("auth_time missing from the ID token: %v", res.claims)
	}
	return int64(v)
}

// userinfo calls the userinfo endpoint as the suite's three modules do.
func (c *conf) userinfo(t *testing.T, how, token string) (int, map[string]any) {
	t.Helper()
	var req *http.Request
	switch how {
	case "get":
		req, _ = http.NewRequest(http.MethodGet, c.e.issuer+pathUserinfo, nil)
		req.Header.Set("Authorization", "Bearer "+token)
	case "post-header":
		req, _ = http.NewRequest(http.MethodPost, c.e.issuer+pathUserinfo, nil)
		req.Header.Set("Authorization", "Bearer "+token)
	case "post-body":
		req, _ = http.NewRequest(http.MethodPost, c.e.issuer+pathUserinfo, strings.NewReader(url.Values{"access_token": {token}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	json.NewDecoder(resp.Body).Decode(&m)
	if resp.StatusCode == http.StatusOK && !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Errorf("userinfo Content-Type %q", resp.Header.Get("Content-Type"))
	}
	return resp.StatusCode, m
}

// scopeClaims are the claims of each scope Sesame knows, and of the
// standard scopes it does not serve.
var scopeClaims = map[string][]string{
	"email":   {"email", "email_verified"},
	"profile": {"name", "locale"},
	"sesame":  {"account_type", "office", "office_id"},
	"address": {"address"},
	"phone":   {"phone_number", "phone_number_verified"},
}

// checkScopes asks for scope and checks userinfo has exactly the claims of
// want (plus sub), none of the other scopes'.
func (c *conf) checkScopes(t *testing.T, scope string, want ...string) {
	t.Helper()
	res := c.run(t, "rs", scope, nil, time.Time{})
	code, ui := c.userinfo(t, "get", res.tok.AccessToken)
	if code != http.StatusOK || ui["sub"] != res.idt.Subject {
		t.Fatalf("userinfo: %d %v", code, ui)
	}
	for s, claims := range scopeClaims {
		for _, cl := range claims {
			_, has := ui[cl]
			if slices.Contains(want, s) && !has {
				t.Errorf("scope %q: claim %s missing from userinfo %v", s, cl, ui)
			}
			if !slices.Contains(want, s) && has {
				t.Errorf("claim %s of scope %q not granted, yet in userinfo %v", cl, s, ui)
			}
		}
	}
}

// tokenError posts a token request and returns the status and error code,
// checking the error response's form (RFC 6749 §5.2).
func (c *conf) tokenError(t *testing.T, clientID string, form url.Values) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, c.e.issuer+pathToken, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(clientID, secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Errorf("token error response is not JSON (%q): %v", resp.Header.Get("Content-Type"), err)
	}
	code, _ := m["error"].(string)
	if d, _ := m["error_description"].(string); strings.ContainsAny(d, "\r\n\t\"\\") {
		t.Errorf("error_description %q has characters RFC 6749 §5.2 excludes", d)
	}
	return resp.StatusCode, code
}

// errorPage expects the authorization endpoint to answer with an error page:
// no redirect at all.
func (c *conf) errorPage(t *testing.T, q url.Values) {
	t.Helper()
	resp, err := noFollow.Get(c.e.issuer + pathAuthorize + "?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" {
		t.Errorf("status %d, Location %q; want an error page and no redirect", resp.StatusCode, resp.Header.Get("Location"))
	}
}

// frontError expects an error redirect to the client with state and iss.
func (c *conf) frontError(t *testing.T, q url.Values, codes ...string) url.Values {
	t.Helper()
	return c.frontErrorTo(t, rpRedirect, q, codes...)
}

func (c *conf) frontErrorTo(t *testing.T, redirect string, q url.Values, codes ...string) url.Values {
	t.Helper()
	resp, err := noFollow.Get(c.e.issuer + pathAuthorize + "?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusFound || loc == nil || !strings.HasPrefix(loc.String(), redirect+"?") {
		t.Fatalf("status %d, Location %v; want an error redirect to the client", resp.StatusCode, loc)
	}
	r := loc.Query()
	if !slices.Contains(codes, r.Get("error")) || r.Get("code") != "" || r.Get("state") != q.Get("state") || r.Get("iss") != c.e.issuer {
		t.Errorf("error response %v; want error in %v, state and iss, no code", r, codes)
	}
	return r
}

// conformanceChecks are the modules' tests, by module name.
var conformanceChecks = map[string]func(t *testing.T, c *conf){
	"oidcc-server": func(t *testing.T, c *conf) {
		res := c.run(t, "rs", "openid", nil, time.Time{})
		if res.idt.Issuer != c.e.issuer || !slices.Equal(res.idt.Audience, []string{"rs"}) || !res.idt.Expiry.After(c.e.now()) {
			t.Errorf("ID token iss %s aud %v exp %v", res.idt.Issuer, res.idt.Audience, res.idt.Expiry)
		}
		// The token response must not be cached (RFC 6749 §5.1).
		req, _ := http.NewRequest(http.MethodPost, c.e.issuer+pathToken, strings.NewReader(url.Values{"grant_type": {"authorization_code"}, "code": {"x"}, "redirect_uri": {rpRedirect}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth("rs", secret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("token endpoint Cache-Control %q", resp.Header.Get("Cache-Control"))
		}
	},
	"oidcc-response-type-missing": func(t *testing.T, c *conf) {
		// The module accepts an error page or an error redirect. op
		// redirects only to https URIs when it cannot tell the response
		// type (the test clients' loopback http URI gets the page).
		q, _, _ := confParams("rs", "openid")
		q.Del("response_type")
		c.errorPage(t, q)
		q, _, _ = confParams("web", "openid")
		q.Set("redirect_uri", httpsRedirect)
		q.Del("response_type")
		c.frontErrorTo(t, httpsRedirect, q, "invalid_request", "unsupported_response_type")
	},
	"oidcc-idtoken-signature": func(t *testing.T, c *conf) {
		res := c.run(t, "rs", "openid", nil, time.Time{}) // rs names no algorithm
		if h := jwsHeader(t, res.rawID); h["alg"] != "RS256" || h["kid"] == nil {
			t.Errorf("ID token header %v, want RS256 with a kid", h)
		}
	},
	"oidcc-idtoken-unsigned": func(t *testing.T, c *conf) {
		doc := c.discovery(t)
		if algs, _ := doc["id_token_signing_alg_values_supported"].([]any); slices.Contains(algs, any("none")) || len(algs) == 0 {
			t.Errorf("id_token_signing_alg_values_supported = %v", algs)
		}
	},
	"oidcc-userinfo-get":         func(t *testing.T, c *conf) { c.userinfoModule(t, "get") },
	"oidcc-userinfo-post-header": func(t *testing.T, c *conf) { c.userinfoModule(t, "post-header") },
	"oidcc-userinfo-post-body":   func(t *testing.T, c *conf) { c.userinfoModule(t, "post-body") },
	"oidcc-ensure-request-without-nonce-succeeds-for-code-flow": func(t *testing.T, c *conf) {
		res := c.run(t, "rs", "openid", url.Values{"nonce": nil}, time.Time{})
		if _, ok := res.claims["nonce"]; ok {
			t.Errorf("nonce in the ID token of a request without one: %v", res.claims["nonce"])
		}
	},
	"oidcc-scope-profile": func(t *testing.T, c *conf) { c.checkScopes(t, "openid profile", "profile") },
	"oidcc-scope-email":   func(t *testing.T, c *conf) { c.checkScopes(t, "openid email", "email") },
	"oidcc-scope-address": func(t *testing.T, c *conf) {
		c.notSupportedScope(t, "address")
		c.checkScopes(t, "openid address")
	},
	"oidcc-scope-phone": func(t *testing.T, c *conf) {
		c.notSupportedScope(t, "phone")
		c.checkScopes(t, "openid phone")
	},
	"oidcc-scope-all": func(t *testing.T, c *conf) {
		c.checkScopes(t, "openid address email phone profile", "email", "profile")
	},
	"oidcc-alternate-happy-flow": func(t *testing.T, c *conf) {
		// Reversed scopes and parameters in another order than usual.
		state, nonce := randomToken(12), randomToken(12)
		raw := "nonce=" + nonce + "&redirect_uri=" + url.QueryEscape(rpRedirect) + "&state=" + state + "&scope=" + url.QueryEscape("email openid") +
			"&response_type=code&client_id=rs"
		resp, err := noFollow.Get(c.e.issuer + pathAuthorize + "?" + raw)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		loc, _ := url.Parse(resp.Header.Get("Location"))
		if loc == nil || loc.Path != loginPath {
			t.Fatalf("status %d, Location %v", resp.StatusCode, loc)
		}
		res := confResult{redirect: c.complete(t, loc.Query().Get("authz"), c.e.now())}
		c.checkCodeResponse(t, res.redirect, state)
		r := c.e.rp(t, "rs", "RS256")
		r.cfg.Endpoint.AuthStyle = oauth2.AuthStyleInHeader
		c.exchange(t, r, &res, nonce)
		if code, ui := c.userinfo(t, "get", res.tok.AccessToken); code != 200 || ui["email"] != c.e.acct.Identifier {
			t.Errorf("userinfo %d %v", code, ui)
		}
	},
	"oidcc-display-page":  func(t *testing.T, c *conf) { c.run(t, "rs", "openid", url.Values{"display": {"page"}}, time.Time{}) },
	"oidcc-display-popup": func(t *testing.T, c *conf) { c.run(t, "rs", "openid", url.Values{"display": {"popup"}}, time.Time{}) },
	"oidcc-prompt-login": func(t *testing.T, c *conf) {
		first := c.run(t, "rs", "openid", nil, time.Time{})
		c.e.offset.Add(int64(time.Second + 100*time.Millisecond))
		q, state, nonce := confParams("rs", "openid")
		q.Set("prompt", "login")
		id := c.start(t, q, false)
		r, err := c.e.p.Request(context.Background(), id)
		if err != nil || !slices.Contains(r.Prompt, "login") {
			t.Fatalf("Request = %+v, %v; want prompt login", r, err)
		}
		// The page must not reuse the session's authentication.
		old := time.Unix(authTime(t, first), 0)
		if _, err := c.e.p.Complete(context.Background(), id, c.e.acct.ID, c.e.sessHash, old, []string{"pwd", "otp"}); !errors.Is(err, ErrLoginRequired) {
			t.Fatalf("Complete with the earlier authentication: %v, want ErrLoginRequired", err)
		}
		second := confResult{redirect: c.complete(t, id, c.e.now())}
		c.checkCodeResponse(t, second.redirect, state)
		c.exchange(t, c.rpBasic(t), &second, nonce)
		if authTime(t, second) <= authTime(t, first) {
			t.Errorf("second auth_time %d not later than the first %d", authTime(t, second), authTime(t, first))
		}
	},
	"oidcc-prompt-none-not-logged-in": func(t *testing.T, c *conf) {
		q, _, _ := confParams("rs", "openid")
		q.Set("state", randomToken(96)) // 128 characters: the OP must not corrupt it
		q.Set("prompt", "none")
		id := c.start(t, q, false)
		if r, err := c.e.p.Request(context.Background(), id); err != nil || !slices.Equal(r.Prompt, []string{"none"}) {
			t.Fatalf("Request = %+v, %v", r, err)
		}
		u, err := c.e.p.Deny(context.Background(), id, "login_required", "")
		if err != nil {
			t.Fatal(err)
		}
		lu, _ := url.Parse(u)
		r := lu.Query()
		if !strings.HasPrefix(u, rpRedirect+"?") || r.Get("error") != "login_required" || r.Get("state") != q.Get("state") || r.Get("iss") != c.e.issuer || r.Get("code") != "" {
			t.Errorf("Deny redirect %s", u)
		}
		if _, err := c.e.p.Request(context.Background(), id); !errors.Is(err, ErrUnknownRequest) {
			t.Errorf("the denied request is still pending: %v", err)
		}
	},
	"oidcc-prompt-none-logged-in": func(t *testing.T, c *conf) {
		c.sameAuthTwice(t, nil, url.Values{"prompt": {"none"}})
	},
	"oidcc-max-age-1": func(t *testing.T, c *conf) {
		first := c.run(t, "rs", "openid", nil, time.Time{})
		c.e.offset.Add(int64(2 * time.Second))
		q, state, nonce := confParams("rs", "openid")
		q.Set("max_age", "1")
		id := c.start(t, q, false)
		r, err := c.e.p.Request(context.Background(), id)
		if err != nil || r.MaxAge == nil || *r.MaxAge != time.Second {
			t.Fatalf("Request = %+v, %v; want MaxAge 1s", r, err)
		}
		old := time.Unix(authTime(t, first), 0)
		if _, err := c.e.p.Complete(context.Background(), id, c.e.acct.ID, c.e.sessHash, old, []string{"pwd", "otp"}); !errors.Is(err, ErrLoginRequired) {
			t.Fatalf("Complete with a 2 s old authentication and max_age=1: %v, want ErrLoginRequired", err)
		}
		now := c.e.now()
		second := confResult{redirect: c.complete(t, id, now)}
		c.checkCodeResponse(t, second.redirect, state)
		c.exchange(t, c.rpBasic(t), &second, nonce)
		at := authTime(t, second)
		if at != now.Unix() || at <= authTime(t, first) {
			t.Errorf("auth_time %d, want the new login's %d (after the first's %d)", at, now.Unix(), authTime(t, first))
		}
		if d := c.e.now().Unix() - at; d < 0 || d > 5 {
			t.Errorf("auth_time %d s from now, want recent", d)
		}
	},
	"oidcc-max-age-10000": func(t *testing.T, c *conf) {
		first, second := c.sameAuthTwice(t, url.Values{"max_age": {"15000"}}, url.Values{"max_age": {"10000"}})
		authTime(t, first)
		authTime(t, second)
	},
	"oidcc-ensure-request-with-unknown-parameter-succeeds": func(t *testing.T, c *conf) {
		c.run(t, "rs", "openid", url.Values{"extra": {"foobar"}}, time.Time{})
	},
	"oidcc-id-token-hint": func(t *testing.T, c *conf) {
		first := c.run(t, "rs", "openid", nil, time.Time{})
		q, state, nonce := confParams("rs", "openid")
		q.Set("prompt", "none")
		q.Set("id_token_hint", first.rawID)
		id := c.start(t, q, false)
		second := confResult{redirect: c.complete(t, id, time.Unix(authTime(t, first), 0))}
		c.checkCodeResponse(t, second.redirect, state)
		c.exchange(t, c.rpBasic(t), &second, nonce)
		if second.idt.Subject != first.idt.Subject || authTime(t, second) != authTime(t, first) {
			t.Errorf("second ID token sub %s auth_time %d, first %s %d", second.idt.Subject, authTime(t, second), first.idt.Subject, authTime(t, first))
		}
	},
	"oidcc-login-hint": func(t *testing.T, c *conf) {
		c.pageSees(t, url.Values{"login_hint": {"an@peeters.be"}}, func(r Request) bool { return r.LoginHint == "an@peeters.be" })
	},
	"oidcc-ui-locales": func(t *testing.T, c *conf) {
		c.pageSees(t, url.Values{"ui_locales": {"nl-BE fr"}}, func(r Request) bool { return slices.Equal(r.UILocales, []string{"nl-BE", "fr"}) })
	},
	"oidcc-claims-locales": func(t *testing.T, c *conf) {
		c.run(t, "rs", "openid", url.Values{"claims_locales": {"se"}}, time.Time{})
	},
	"oidcc-ensure-request-with-acr-values-succeeds": func(t *testing.T, c *conf) {
		res := c.run(t, "rs", "openid", url.Values{"acr_values": {"1 2"}}, time.Time{})
		if res.claims["acr"] != ACR {
			t.Errorf("acr = %v, want %s", res.claims["acr"], ACR)
		}
		// Asking for Sesame's own class gets it too.
		if res := c.run(t, "rs", "openid", url.Values{"acr_values": {ACR}}, time.Time{}); res.claims["acr"] != ACR {
			t.Errorf("acr = %v", res.claims["acr"])
		}
	},
	"oidcc-codereuse": func(t *testing.T, c *conf) {
		res := c.run(t, "rs", "openid offline_access", nil, time.Time{})
		status, code := c.tokenError(t, "rs", url.Values{"grant_type": {"authorization_code"}, "code": {res.redirect.Get("code")}, "redirect_uri": {rpRedirect}})
		if status != http.StatusBadRequest || code != "invalid_grant" {
			t.Errorf("second redemption: %d %s, want 400 invalid_grant", status, code)
		}
		if code, _ := c.userinfo(t, "get", res.tok.AccessToken); code < 400 || code > 499 {
			t.Errorf("access token of a reused code: userinfo %d", code)
		}
		if status, code := c.tokenError(t, "rs", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {res.tok.RefreshToken}}); status != 400 || code != "invalid_grant" {
			t.Errorf("refresh token of a reused code: %d %s", status, code)
		}
	},
	"oidcc-codereuse-30seconds": func(t *testing.T, c *conf) {
		res := c.run(t, "rs", "openid", nil, time.Time{})
		c.e.offset.Add(int64(30 * time.Second))
		if code, _ := c.userinfo(t, "get", res.tok.AccessToken); code != http.StatusOK {
			t.Fatalf("access token 30 s later, before the reuse: userinfo %d", code)
		}
		status, code := c.tokenError(t, "rs", url.Values{"grant_type": {"authorization_code"}, "code": {res.redirect.Get("code")}, "redirect_uri": {rpRedirect}})
		if status != http.StatusBadRequest || code != "invalid_grant" {
			t.Errorf("reuse after 30 s: %d %s, want 400 invalid_grant", status, code)
		}
		if code, _ := c.userinfo(t, "get", res.tok.AccessToken); code < 400 || code > 499 {
			t.Errorf("access token after the code's reuse: userinfo %d, want 4xx", code)
		}
	},
	"oidcc-ensure-registered-redirect-uri": func(t *testing.T, c *conf) {
		q, _, _ := confParams("rs", "openid")
		q.Set("redirect_uri", rpRedirect+"/"+randomToken(8))
		c.errorPage(t, q)
	},
	"oidcc-ensure-post-request-succeeds": func(t *testing.T, c *conf) {
		q, state, nonce := confParams("rs", "openid")
		res := confResult{redirect: c.complete(t, c.start(t, q, true), c.e.now())}
		c.checkCodeResponse(t, res.redirect, state)
		c.exchange(t, c.rpBasic(t), &res, nonce)
	},
	"oidcc-server-client-secret-post": func(t *testing.T, c *conf) {
		q, state, nonce := confParams("rs", "openid")
		res := confResult{redirect: c.complete(t, c.start(t, q, false), c.e.now())}
		c.checkCodeResponse(t, res.redirect, state)
		r := c.e.rp(t, "rs", "RS256")
		r.cfg.Endpoint.AuthStyle = oauth2.AuthStyleInParams
		c.exchange(t, r, &res, nonce)
		if m := c.discovery(t); !slices.Contains(m["token_endpoint_auth_methods_supported"].([]any), any("client_secret_post")) {
			t.Errorf("discovery does not list client_secret_post: %v", m["token_endpoint_auth_methods_supported"])
		}
	},
	"oidcc-request-uri-unsigned-supported-correctly-or-rejected-as-unsupported": func(t *testing.T, c *conf) {
		if m := c.discovery(t); m["request_uri_parameter_supported"] != false {
			t.Errorf("request_uri_parameter_supported = %v, want false (its default is true)", m["request_uri_parameter_supported"])
		}
		// Refused at the client's registered redirect URI, never fetched
		// nor ignored.
		q, _, _ := confParams("rs", "openid")
		q.Set("request_uri", "https://127.0.0.1:1/request.jwt")
		c.frontError(t, q, "request_uri_not_supported")
		// Empty, it is as if omitted (RFC 6749 §3.1): the request goes on.
		q.Set("request_uri", "")
		c.start(t, q, false)
		q.Set("request_uri", "https://127.0.0.1:1/request.jwt")
		// Without a registered redirect URI: op's error page, no redirect.
		q.Set("redirect_uri", rpRedirect+"/"+randomToken(8))
		c.errorPage(t, q)
	},
	"oidcc-unsigned-request-object-supported-correctly-or-rejected-as-unsupported": func(t *testing.T, c *conf) {
		q, _, _ := confParams("rs", "openid")
		q.Set("request", unsignedRequestObject(q))
		c.frontError(t, q, "request_not_supported")
		if m := c.discovery(t); m["request_parameter_supported"] != false {
			t.Errorf("request_parameter_supported = %v", m["request_parameter_supported"])
		}
	},
	"oidcc-claims-essential": func(t *testing.T, c *conf) {
		if m := c.discovery(t); m["claims_parameter_supported"] != false {
			t.Errorf("claims_parameter_supported = %v", m["claims_parameter_supported"])
		}
		res := c.run(t, "rs", "openid", url.Values{"claims": {`{"userinfo":{"name":{"essential":true}}}`}}, time.Time{})
		code, ui := c.userinfo(t, "get", res.tok.AccessToken)
		if code != http.StatusOK {
			t.Fatalf("userinfo %d", code)
		}
		if _, ok := res.claims["name"]; ok {
			t.Error("name in the ID token (the module warns)")
		}
		// Without the profile scope name is not given: the module's warning.
		if _, ok := ui["name"]; ok {
			t.Error("name given without the profile scope")
		}
	},
	"oidcc-ensure-request-object-with-redirect-uri": func(t *testing.T, c *conf) {
		q, _, _ := confParams("rs", "openid")
		obj := unsignedRequestObject(q) // carries the registered redirect URI
		q.Set("redirect_uri", rpRedirect+"/"+randomToken(8))
		q.Set("request", obj)
		c.errorPage(t, q)
	},
	"oidcc-refresh-token": func(t *testing.T, c *conf) {
		if m := c.discovery(t); !slices.Contains(m["grant_types_supported"].([]any), any("refresh_token")) ||
			!slices.Contains(m["scopes_supported"].([]any), any("offline_access")) {
			t.Errorf("discovery: grant_types_supported %v scopes_supported %v", m["grant_types_supported"], m["scopes_supported"])
		}
		clients := map[string]confResult{}
		for _, client := range []string{"rs", "es"} {
			first := c.run(t, client, "openid offline_access", url.Values{"prompt": {"consent"}}, time.Time{})
			if first.tok.RefreshToken == "" {
				t.Fatalf("%s: no refresh token with offline_access", client)
			}
			clients[client] = first
		}
		first := clients["rs"]
		// The suite waits a second; op stamps iat with the wall clock.
		time.Sleep(1100 * time.Millisecond)
		r := c.rpBasic(t)
		// The suite sends the scope (RFC 6749 §6) with the refresh token.
		status, body := c.refresh(t, "rs", first.tok.RefreshToken, "openid offline_access")
		if status != http.StatusOK {
			t.Fatalf("refresh: %d %v", status, body)
		}
		if rt, _ := body["refresh_token"].(string); rt == "" || rt == first.tok.RefreshToken {
			t.Errorf("refresh token not rotated: %v", body["refresh_token"])
		}
		second := confResult{}
		second.tok = (&oauth2.Token{AccessToken: body["access_token"].(string), TokenType: body["token_type"].(string), Expiry: c.e.now().Add(time.Minute)}).
			WithExtra(body)
		c.checkIDToken(t, r, &second, "") // a refreshed ID token has no nonce
		for _, k := range []string{"iss", "sub", "auth_time", "azp"} {
			if second.claims[k] != first.claims[k] {
				t.Errorf("refreshed ID token %s = %v, first %v", k, second.claims[k], first.claims[k])
			}
		}
		if !slices.Equal(second.idt.Audience, first.idt.Audience) || !second.idt.IssuedAt.After(first.idt.IssuedAt) {
			t.Errorf("refreshed ID token aud %v iat %v; first %v %v", second.idt.Audience, second.idt.IssuedAt, first.idt.Audience, first.idt.IssuedAt)
		}
		if code, _ := c.userinfo(t, "get", second.tok.AccessToken); code != http.StatusOK {
			t.Errorf("refreshed access token at userinfo: %d", code)
		}
		// The second client's refresh token, presented by the first.
		if status, code := c.tokenError(t, "rs", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {clients["es"].tok.RefreshToken}}); status != 400 || code != "invalid_grant" {
			t.Errorf("another client's refresh token: %d %s, want 400 invalid_grant", status, code)
		}
	},
	"oidcc-ensure-request-with-valid-pkce-succeeds": func(t *testing.T, c *conf) {
		verifier := oauth2.GenerateVerifier()
		q, state, nonce := confParams("rs", "openid")
		q.Set("code_challenge", oauth2.S256ChallengeFromVerifier(verifier))
		q.Set("code_challenge_method", "S256")
		res := confResult{redirect: c.complete(t, c.start(t, q, false), c.e.now())}
		c.checkCodeResponse(t, res.redirect, state)
		r := c.rpBasic(t)
		tok, err := r.cfg.Exchange(context.Background(), res.redirect.Get("code"), oauth2.VerifierOption(verifier))
		if err != nil {
			t.Fatal(err)
		}
		res.tok = tok
		c.checkIDToken(t, r, &res, nonce)
	},
	"oidcc-discovery-endpoint-verification": func(t *testing.T, c *conf) {
		resp, err := http.Get(c.e.issuer + pathDiscovery)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
			t.Fatalf("discovery: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		var m map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
			t.Fatal(err)
		}
		if m["issuer"] != c.e.issuer {
			t.Errorf("issuer %v, want %s (the discovery URL's prefix)", m["issuer"], c.e.issuer)
		}
		for _, k := range []string{"authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri", "introspection_endpoint", "revocation_endpoint", "end_session_endpoint"} {
			s, _ := m[k].(string)
			if !strings.HasPrefix(s, c.e.issuer+"/") {
				t.Errorf("%s = %v: not an endpoint of the issuer (https in production)", k, m[k])
			}
		}
		has := func(k string, want ...string) {
			l, ok := m[k].([]any)
			if !ok || len(l) == 0 {
				t.Errorf("%s missing or empty: %v", k, m[k])
				return
			}
			for _, w := range want {
				if !slices.Contains(l, any(w)) {
					t.Errorf("%s = %v lacks %s", k, l, w)
				}
			}
		}
		has("response_types_supported", "code")
		has("subject_types_supported", "public")
		has("id_token_signing_alg_values_supported", "RS256", "ES256")
		has("scopes_supported", "openid")
		has("claims_supported", "sub", "iss", "auth_time", "acr", "email", "name")
		has("grant_types_supported", "authorization_code", "refresh_token")
		has("code_challenge_methods_supported", "S256")
		has("token_endpoint_auth_methods_supported", "client_secret_basic", "client_secret_post")
		if rt := m["response_types_supported"].([]any); len(rt) != 1 {
			t.Errorf("response_types_supported = %v, want only code", rt)
		}
		for _, k := range []string{"registration_endpoint", "request_object_signing_alg_values_supported"} {
			if _, ok := m[k]; ok {
				t.Errorf("%s advertised: %v", k, m[k])
			}
		}
		if m["authorization_response_iss_parameter_supported"] != true {
			t.Error("authorization_response_iss_parameter_supported is not true")
		}
		for _, k := range []string{"ui_locales_supported", "claims_locales_supported"} {
			if l, ok := m[k].([]any); ok {
				for _, v := range l {
					if s, _ := v.(string); s == "" || strings.ContainsAny(s, " _") {
						t.Errorf("%s has %q: not a BCP 47 tag", k, v)
					}
				}
			}
		}
		// JWKS: every key has a distinct kid, a use or alg, and the public part only.
		jr, err := http.Get(m["jwks_uri"].(string))
		if err != nil {
			t.Fatal(err)
		}
		defer jr.Body.Close()
		var jwks struct{ Keys []map[string]any }
		if err := json.NewDecoder(jr.Body).Decode(&jwks); err != nil || len(jwks.Keys) < 2 {
			t.Fatalf("JWKS: %v, %d keys", err, len(jwks.Keys))
		}
		kids := map[any]bool{}
		for _, k := range jwks.Keys {
			if k["kid"] == nil || kids[k["kid"]] || k["d"] != nil || k["p"] != nil {
				t.Errorf("JWK %v: kid missing or repeated, or private parts", k)
			}
			kids[k["kid"]] = true
		}
		if _, err := gooidc.NewProvider(context.Background(), c.e.issuer); err != nil {
			t.Errorf("go-oidc's discovery: %v", err)
		}
	},
	// Dynamic OP modules: the refusals exact matching gives.
	"oidcc-ensure-redirect-uri-in-authorization-request": func(t *testing.T, c *conf) {
		q, _, _ := confParams("rs", "openid")
		q.Del("redirect_uri")
		c.errorPage(t, q)
	},
	"oidcc-redirect-uri-query-mismatch": func(t *testing.T, c *conf) {
		q, _, _ := confParams("rs", "openid")
		q.Set("redirect_uri", rpRedirect+"?foo=bar")
		c.errorPage(t, q)
	},
	"oidcc-redirect-uri-query-added": func(t *testing.T, c *conf) {
		q, _, _ := confParams("rs", "openid")
		q.Set("redirect_uri", rpRedirect+"?"+randomToken(4)+"=1")
		c.errorPage(t, q)
	},
}

// rpBasic is rs with client_secret_basic.
func (c *conf) rpBasic(t *testing.T) *rp {
	r := c.e.rp(t, "rs", "RS256")
	r.cfg.Endpoint.AuthStyle = oauth2.AuthStyleInHeader
	return r
}

func (c *conf) userinfoModule(t *testing.T, how string) {
	res := c.run(t, "rs", "openid email", nil, time.Time{})
	code, ui := c.userinfo(t, how, res.tok.AccessToken)
	if code != http.StatusOK || ui["sub"] != res.idt.Subject || ui["email"] != c.e.acct.Identifier {
		t.Errorf("userinfo (%s): %d %v", how, code, ui)
	}
}

func (c *conf) notSupportedScope(t *testing.T, scope string) {
	if l, _ := c.discovery(t)["scopes_supported"].([]any); slices.Contains(l, any(scope)) {
		t.Errorf("scopes_supported lists %s", scope)
	}
}

// sameAuthTwice logs in, then authorizes again reusing the first
// authentication (the page sees the session): sub and auth_time must match.
func (c *conf) sameAuthTwice(t *testing.T, firstExtra, secondExtra url.Values) (confResult, confResult) {
	t.Helper()
	first := c.run(t, "rs", "openid", firstExtra, time.Time{})
	c.e.offset.Add(int64(time.Second))
	at := time.Unix(authTime(t, first), 0)
	second := c.run(t, "rs", "openid", secondExtra, at)
	if second.idt.Subject != first.idt.Subject || authTime(t, second) != authTime(t, first) {
		t.Errorf("second ID token sub %s auth_time %d; first %s %d", second.idt.Subject, authTime(t, second), first.idt.Subject, authTime(t, first))
	}
	return first, second
}

// pageSees checks the login page's Request, then completes the flow.
func (c *conf) pageSees(t *testing.T, extra url.Values, ok func(Request) bool) {
	t.Helper()
	q, state, nonce := confParams("rs", "openid")
	for k, v := range extra {
		q[k] = v
	}
	id := c.start(t, q, false)
	r, err := c.e.p.Request(context.Background(), id)
	if err != nil || !ok(r) {
		t.Fatalf("Request = %+v, %v", r, err)
	}
	res := confResult{redirect: c.complete(t, id, c.e.now())}
	c.checkCodeResponse(t, res.redirect, state)
	c.exchange(t, c.rpBasic(t), &res, nonce)
}

func (c *conf) discovery(t *testing.T) map[string]any {
	t.Helper()
	resp, err := http.Get(c.e.issuer + pathDiscovery)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	json.NewDecoder(resp.Body).Decode(&m)
	return m
}

// refresh posts a refresh_token grant with a scope, as the suite does.
func (c *conf) refresh(t *testing.T, clientID, rt, scope string) (int, map[string]any) {
	t.Helper()
	return c.e.post(t, pathToken, clientID, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "scope": {scope}})
}

// unsignedRequestObject is q as an unsigned request object (alg none), as
// the suite builds it.
func unsignedRequestObject(q url.Values) string {
	claims := map[string]any{}
	for k := range q {
		claims[k] = q.Get(k)
	}
	h, _ := json.Marshal(map[string]string{"alg": "none"})
	b, _ := json.Marshal(claims)
	return base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(b) + "."
}

// TestConformance runs, for every module of conformanceModules, its check
// as a subtest named after the module; the last subtest fails if a module
// marked as applying has no check or its check did not run.
func TestConformance(t *testing.T) {
	clients := append(testClients(""), config.OIDCClient{ID: "web", Name: "Web", SecretHash: SecretHash(secret), RedirectURIs: []string{httpsRedirect}})
	e := newTestEnv(t, nil, nil, clients)
	e.login(t)
	c := &conf{e: e}
	ran := map[string]bool{}
	seen := map[string]bool{}
	for _, m := range conformanceModules {
		if seen[m.module] {
			t.Errorf("module %s listed twice", m.module)
		}
		seen[m.module] = true
		check := conformanceChecks[m.module]
		if check == nil {
			continue
		}
		t.Run(m.module, func(t *testing.T) {
			ran[m.module] = true
			e.login(t) // a fresh Sesame session for each module
			check(t, c)
		})
	}
	for name := range conformanceChecks {
		if !seen[name] {
			t.Errorf("check %s is for no module of the table", name)
		}
	}
	t.Run("every-applying-module-ran", func(t *testing.T) {
		n := 0
		for _, m := range conformanceModules {
			if m.why == "" {
				t.Errorf("module %s: no reason given", m.module)
			}
			if !m.applies {
				continue
			}
			n++
			if !ran[m.module] {
				t.Errorf("module %s applies but no subtest ran for it", m.module)
			}
		}
		t.Logf("%d of %d modules apply and ran", n, len(conformanceModules))
	})
}
