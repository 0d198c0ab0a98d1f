package oidc

import (
	"context"
	"errors"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"sesame/internal/store"
	"sesame/internal/store/storetest"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// authURL builds an authorization URL by hand, for requests go-oidc would
// not send.
func (e *testEnv) authURL(params map[string]string) string {
	q := url.Values{"response_type": {"code"}, "scope": {"openid email"}, "redirect_uri": {rpRedirect}, "state": {"st"}}
	for k, v := range params {
		if v == "" {
			q.Del(k)
		} else {
			q.Set(k, v)
		}
	}
	return e.issuer + pathAuthorize + "?" + q.Encode()
}

const challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM" // RFC 7636 appendix B

func TestNegative(t *testing.T) {
	e := newTestEnv(t, nil, nil, testClients(""))
	e.login(t)
	ctx := context.Background()
	rs := e.rp(t, "rs", "RS256")
	pub := e.rp(t, "pub", "RS256")

	// frontError expects an error redirect with state and iss.
	frontError := func(t *testing.T, u *url.URL, resp *http.Response, want string) {
		t.Helper()
		if u == nil {
			t.Fatalf("no redirect (status %d), want error %s", resp.StatusCode, want)
		}
		q := u.Query()
		if q.Get("error") != want || q.Get("state") != "st" || q.Get("iss") != e.issuer {
			t.Errorf("redirect %s, want error=%s with state and iss", u, want)
		}
	}
	// noRedirect expects a plain error page.
	noRedirect := func(t *testing.T, u *url.URL, resp *http.Response) {
		t.Helper()
		if u != nil || resp.StatusCode != http.StatusBadRequest {
			t.Errorf("got redirect %v (status %d), want a 400 page", u, resp.StatusCode)
		}
	}
	tests := []struct {
		name string
		run  func(t *testing.T)
	}{
		{"unknown client", func(t *testing.T) {
			u, resp := e.authorize(t, e.authURL(map[string]string{"client_id": "nobody"}))
			noRedirect(t, u, resp)
		}},
		{"redirect URI not registered", func(t *testing.T) {
			u, resp := e.authorize(t, e.authURL(map[string]string{"client_id": "rs", "redirect_uri": "http://127.0.0.1:1/evil"}))
			noRedirect(t, u, resp)
		}},
		{"public client without PKCE", func(t *testing.T) {
			u, resp := e.authorize(t, e.authURL(map[string]string{"client_id": "pub"}))
			frontError(t, u, resp, "invalid_request")
		}},
		{"plain PKCE", func(t *testing.T) {
			u, resp := e.authorize(t, e.authURL(map[string]string{"client_id": "pub", "code_challenge": challenge, "code_challenge_method": "plain"}))
			frontError(t, u, resp, "invalid_request")
		}},
		{"PKCE without method (plain by default)", func(t *testing.T) {
			u, resp := e.authorize(t, e.authURL(map[string]string{"client_id": "rs", "code_challenge": challenge}))
			frontError(t, u, resp, "invalid_request")
		}},
		{"implicit refused", func(t *testing.T) {
			// op refuses implicit on an http redirect URI before looking at
			// the response types: either way no token is issued.
			u, resp := e.authorize(t, e.authURL(map[string]string{"client_id": "rs", "response_type": "id_token token", "nonce": "n"}))
			if u != nil && u.Query().Get("error") == "" {
				t.Errorf("implicit request answered %s", u)
			} else if u == nil && resp.StatusCode != 400 {
				t.Errorf("implicit request: status %d", resp.StatusCode)
			}
		}},
		{"wrong verifier", func(t *testing.T) {
			f := e.code(t, pub)
			f.verifier = oauth2.GenerateVerifier()
			if _, err := e.exchange(pub, f); !isOAuthError(err, "invalid_grant") {
				t.Errorf("exchange with a wrong verifier: %v", err)
			}
		}},
		{"verifier missing", func(t *testing.T) {
			f := e.code(t, pub)
			if _, err := pub.cfg.Exchange(ctx, f.code); !isOAuthError(err, "invalid_request") {
				t.Errorf("exchange without verifier: %v", err)
			}
		}},
		{"code reused revokes its tokens", func(t *testing.T) {
			f := e.code(t, rs)
			tok, err := e.exchange(rs, f)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := e.exchange(rs, f); !isOAuthError(err, "invalid_grant") {
				t.Errorf("second exchange: %v", err)
			}
			if got := e.introspect(t, "rs", tok.AccessToken); got["active"] != false {
				t.Errorf("access token from a reused code still active: %v", got)
			}
			if _, err := rs.cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); !isOAuthError(err, "invalid_grant") {
				t.Errorf("refresh token from a reused code: %v", err)
			}
		}},
		{"code expired", func(t *testing.T) {
			f := e.code(t, rs)
			e.offset.Add(int64(61 * time.Second))
			defer e.offset.Add(-int64(61 * time.Second))
			if _, err := e.exchange(rs, f); !isOAuthError(err, "invalid_grant") {
				t.Errorf("expired code: %v", err)
			}
		}},
		{"code redeemed by another client", func(t *testing.T) {
			f := e.code(t, rs)
			es := e.rp(t, "es", "ES256")
			if _, err := e.exchange(es, f); !isOAuthError(err, "invalid_grant") {
				t.Errorf("other client: %v", err)
			}
		}},
		{"wrong client secret", func(t *testing.T) {
			f := e.code(t, rs)
			bad := *rs
			bad.cfg.ClientSecret = "wrong"
			if _, err := e.exchange(&bad, f); !isOAuthError(err, "invalid_client") {
				t.Errorf("wrong secret: %v", err)
			}
			if _, err := e.exchange(rs, f); err != nil {
				t.Errorf("the right secret after a wrong one: %v", err)
			}
		}},
		{"refresh token reused revokes the family", func(t *testing.T) {
			tok, err := e.exchange(rs, e.code(t, rs))
			if err != nil {
				t.Fatal(err)
			}
			tok2, err := rs.cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
			if err != nil {
				t.Fatal(err)
			}
			if _, err := rs.cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); !isOAuthError(err, "invalid_grant") {
				t.Errorf("reused refresh token: %v", err)
			}
			if _, err := rs.cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: tok2.RefreshToken}).Token(); !isOAuthError(err, "invalid_grant") {
				t.Errorf("successor of a reused refresh token: %v", err)
			}
			if got := e.introspect(t, "rs", tok2.AccessToken); got["active"] != false {
				t.Errorf("access token of a revoked family: %v", got)
			}
		}},
		{"refresh after the session was deleted", func(t *testing.T) {
			e.login(t)
			tok, err := e.exchange(rs, e.code(t, rs))
			if err != nil {
				t.Fatal(err)
			}
			if err := e.st.DeleteSession(ctx, e.sessHash); err != nil {
				t.Fatal(err)
			}
			if _, err := rs.cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); !isOAuthError(err, "invalid_grant") {
				t.Errorf("refresh without session: %v", err)
			}
			if got := e.introspect(t, "rs", tok.AccessToken); got["active"] != false {
				t.Errorf("access token without session: %v", got)
			}
			e.login(t)
		}},
		{"account type not allowed", func(t *testing.T) {
			u, resp := e.authorize(t, e.authURL(map[string]string{"client_id": "clients-only", "code_challenge": challenge, "code_challenge_method": "S256"}))
			if u != nil || resp.StatusCode != http.StatusForbidden {
				t.Errorf("login of a tiers account for a clients-only app: %v %d", u, resp.StatusCode)
			}
		}},
		{"prompt=none denied", func(t *testing.T) {
			e.denyNext.Store(true)
			defer e.denyNext.Store(false)
			u, resp := e.authorize(t, e.authURL(map[string]string{"client_id": "rs", "prompt": "none"}))
			frontError(t, u, resp, "login_required")
		}},
		{"unsupported grant", func(t *testing.T) {
			code, m := e.post(t, pathToken, "rs", url.Values{"grant_type": {"password"}, "username": {"a"}, "password": {"b"}})
			if code != 400 || m["error"] != "unsupported_grant_type" {
				t.Errorf("password grant: %d %v", code, m)
			}
		}},
		{"introspection needs client authentication", func(t *testing.T) {
			tok, err := e.exchange(rs, e.code(t, rs))
			if err != nil {
				t.Fatal(err)
			}
			if code, _ := e.post(t, pathIntrospect, "", url.Values{"token": {tok.AccessToken}}); code != http.StatusUnauthorized {
				t.Errorf("anonymous introspection: %d", code)
			}
			if got := e.introspect(t, "es", tok.AccessToken); got["active"] != false {
				t.Errorf("another client introspected the token: %v", got)
			}
		}},
		{"end session with hint ends the Sesame session", func(t *testing.T) {
			e.login(t)
			tok, err := e.exchange(rs, e.code(t, rs))
			if err != nil {
				t.Fatal(err)
			}
			q := url.Values{"id_token_hint": {tok.Extra("id_token").(string)}, "post_logout_redirect_uri": {"http://127.0.0.1:1/bye"}, "state": {"xyz"}}
			u, resp := e.authorize(t, e.issuer+pathEndSession+"?"+q.Encode())
			if u == nil || u.Path != "/bye" || u.Query().Get("state") != "xyz" {
				t.Fatalf("end session: %v %d", u, resp.StatusCode)
			}
			if _, err := e.st.GetSession(ctx, e.sessHash); err == nil {
				t.Error("the Sesame session survived the logout")
			}
			e.login(t)
		}},
		{"end session with a bad hint or URI", func(t *testing.T) {
			q := url.Values{"id_token_hint": {"not.a.token"}, "post_logout_redirect_uri": {"http://127.0.0.1:1/bye"}}
			if u, resp := e.authorize(t, e.issuer+pathEndSession+"?"+q.Encode()); u != nil || resp.StatusCode != 400 {
				t.Errorf("bad hint: %v %d", u, resp.StatusCode)
			}
			q = url.Values{"client_id": {"rs"}, "post_logout_redirect_uri": {"https://evil.example/"}}
			if u, resp := e.authorize(t, e.issuer+pathEndSession+"?"+q.Encode()); u != nil || resp.StatusCode != 400 {
				t.Errorf("unregistered post-logout URI: %v %d", u, resp.StatusCode)
			}
			if _, err := e.st.GetSession(ctx, e.sessHash); err != nil {
				t.Errorf("session ended without a hint: %v", err)
			}
		}},
		{"Request, Complete and Deny on unknown requests", func(t *testing.T) {
			if _, err := e.p.Request(ctx, "nope"); !errors.Is(err, ErrUnknownRequest) {
				t.Errorf("Request: %v", err)
			}
			if _, err := e.p.Complete(ctx, "nope", e.acct.ID, e.sessHash, e.now(), nil); !errors.Is(err, ErrUnknownRequest) {
				t.Errorf("Complete: %v", err)
			}
			if _, err := e.p.Deny(ctx, "nope", "access_denied", ""); !errors.Is(err, ErrUnknownRequest) {
				t.Errorf("Deny: %v", err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, tt.run)
	}
}

func isOAuthError(err error, code string) bool {
	var re *oauth2.RetrieveError
	return errors.As(err, &re) && re.ErrorCode == code
}

func TestRequestForLoginPage(t *testing.T) {
	e := newTestEnv(t, nil, nil, testClients(""))
	ctx := context.Background()
	var id string
	u := e.authURL(map[string]string{"client_id": "clients-only", "login_hint": "jan@example.be", "ui_locales": "nl fr", "prompt": "login", "max_age": "60"})
	resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Get(u)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if loc.Path != "/login" {
		t.Fatalf("redirected to %s, want /login", loc)
	}
	id = loc.Query().Get("authz")
	r, err := e.p.Request(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if r.ClientName != "Clients only" || r.LoginHint != "jan@example.be" || strings.Join(r.UILocales, " ") != "nl fr" ||
		strings.Join(r.Prompt, " ") != "login" || r.MaxAge == nil || *r.MaxAge != 0 || len(r.AccountTypes) != 1 {
		t.Errorf("Request = %+v", r)
	}
	_ = gooidc.ScopeOpenID
}

// TestAuthorizeLimit: anyone may open authorization requests, each a row
// kept half an hour, so each network gets a budget of them — held exactly
// under a burst — and past it a person is told to wait, at the portal,
// rather than the application being sent an error. Other networks keep
// theirs.
func TestAuthorizeLimit(t *testing.T) {
	e := newTestEnv(t, nil, nil, testClients(""))
	p, err := New(context.Background(), Options{Store: e.st, Keys: e.ring, Issuer: e.issuer, Clients: testClients(""),
		SessionAbsolute: time.Hour, AuthorizeLimit: AuthorizeLimit{Requests: 5, Window: time.Minute},
		AddressKey: func(r *http.Request) string { return r.Header.Get("X-Test-Network") }})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(p.Handler())
	t.Cleanup(srv.Close)
	u := strings.Replace(e.authURL(map[string]string{"client_id": "rs", "code_challenge": challenge, "code_challenge_method": "S256"}), e.issuer, srv.URL, 1)
	get := func(network string) *http.Response {
		req, _ := http.NewRequest(http.MethodGet, u, nil)
		req.Header.Set("X-Test-Network", network)
		resp, err := noFollow.Do(req)
		if err != nil {
			t.Error(err)
			return nil
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	var opened, refused atomic.Int32
	storetest.Burst(20, func(int) {
		resp := get("198.51.100.7")
		switch {
		case resp == nil:
		case resp.StatusCode == http.StatusFound && strings.HasPrefix(resp.Header.Get("Location"), loginPath+"?"):
			opened.Add(1)
		case resp.StatusCode == http.StatusTooManyRequests && resp.Header.Get("Retry-After") == "60" && resp.Header.Get("Location") == "":
			refused.Add(1)
		default:
			t.Errorf("%d, Location %q, Retry-After %q", resp.StatusCode, resp.Header.Get("Location"), resp.Header.Get("Retry-After"))
		}
	})
	if opened.Load() != 5 || refused.Load() != 15 {
		t.Errorf("of 20 simultaneous requests from one network, %d opened and %d refused; want 5 and 15", opened.Load(), refused.Load())
	}
	if resp := get("203.0.113.9"); resp == nil || resp.StatusCode != http.StatusFound {
		t.Errorf("another network: %v", resp)
	}
	// Refused requests before the budget is touched are not counted.
	for range 10 {
		bad := strings.Replace(u, "client_id=rs", "client_id=nobody", 1)
		req, _ := http.NewRequest(http.MethodGet, bad, nil)
		req.Header.Set("X-Test-Network", "192.0.2.1")
		if resp, err := noFollow.Do(req); err == nil {
			resp.Body.Close()
		}
	}
	if resp := get("192.0.2.1"); resp == nil || resp.StatusCode != http.StatusFound {
		t.Errorf("after refused requests: %v", resp)
	}
}

// TestParametersOnlyInTheBody: the token and revocation endpoints take a
// POST with its parameters in the body (RFC 6749 §3.2, RFC 7009 §2.1). A
// code, a token or a client's secret in the address, where access logs
// and proxies keep it, is refused and not acted upon.
func TestParametersOnlyInTheBody(t *testing.T) {
	e := newTestEnv(t, nil, nil, testClients(""))
	e.login(t)
	r := e.rp(t, "rs", "RS256")
	do := func(method, path string, query, body url.Values) (int, http.Header, map[string]any) {
		t.Helper()
		u := e.issuer + path
		if query != nil {
			u += "?" + query.Encode()
		}
		req, _ := http.NewRequest(method, u, strings.NewReader(body.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth("rs", secret)
		return send(t, req)
	}

	f := e.code(t, r)
	exchange := url.Values{"grant_type": {"authorization_code"}, "code": {f.code}, "redirect_uri": {rpRedirect}, "code_verifier": {f.verifier}}
	for _, method := range []string{http.MethodPost, http.MethodGet, http.MethodPut} {
		code, h, m := do(method, pathToken, exchange, nil)
		want := http.StatusMethodNotAllowed
		if method == http.MethodPost {
			want = http.StatusBadRequest
		} else if h.Get("Allow") != http.MethodPost {
			t.Errorf("%s with the code in the address: Allow %q", method, h.Get("Allow"))
		}
		if code != want || m["error"] != "invalid_request" {
			t.Errorf("%s with the code in the address: %d %v, want %d invalid_request", method, code, m, want)
		}
	}
	// The code was not spent (nor taken as replayed): the body's exchange works.
	tok, err := e.exchange(r, f)
	if err != nil {
		t.Fatalf("the exchange in the body after the refused ones: %v", err)
	}

	for _, tc := range []struct {
		method      string
		query, body url.Values
		want        int
	}{
		{http.MethodGet, url.Values{"token": {tok.AccessToken}}, nil, http.StatusMethodNotAllowed},
		{http.MethodPost, url.Values{"token": {tok.AccessToken}}, nil, http.StatusBadRequest},
		{http.MethodPost, url.Values{"token_type_hint": {"access_token"}}, url.Values{"token": {tok.AccessToken}}, http.StatusBadRequest},
	} {
		if code, _, m := do(tc.method, pathRevoke, tc.query, tc.body); code != tc.want || m["error"] != "invalid_request" {
			t.Errorf("%s /revoke?%s: %d %v, want %d invalid_request", tc.method, tc.query.Encode(), code, m, tc.want)
		}
		if got := e.introspect(t, "rs", tok.AccessToken); got["active"] != true {
			t.Fatalf("%s /revoke?%s revoked the token: %v", tc.method, tc.query.Encode(), got)
		}
	}
	if code := e.revoke(t, "rs", tok.AccessToken); code != http.StatusOK {
		t.Errorf("revocation in the body: %d", code)
	}

	// A browser application's CORS preflight is still answered.
	req, _ := http.NewRequest(http.MethodOptions, e.issuer+pathToken, nil)
	req.Header.Set("Origin", "https://spa.example")
	req.Header.Set("Access-Control-Request-Method", "POST")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 || resp.Header.Get("Access-Control-Allow-Methods") == "" {
		t.Errorf("preflight: %s %v", resp.Status, resp.Header)
	}
}

// TestAuthorizeOddCharacters: an authorization request whose state, nonce,
// login hint, ACR values or code challenge hold what a text column cannot
// store or a page should not show (bytes that are not UTF-8, a NUL, control
// characters; outside printable ASCII for state and the challenge) is
// refused with invalid_request, sent back to the application, on either
// database. PostgreSQL refused to store them, and the application was sent
// server_error, logged at ERROR.
func TestAuthorizeOddCharacters(t *testing.T) {
	for _, db := range []string{"sqlite", "postgres"} {
		t.Run(db, func(t *testing.T) {
			var st store.Store
			if db == "postgres" {
				st = pgStores(t, 1)[0]
			}
			e := newTestEnv(t, st, nil, testClients(""))
			e.login(t)
			for _, tc := range []struct {
				name   string
				params map[string]string
			}{
				{"state not UTF-8", map[string]string{"state": "\xff\xfe"}},
				{"state with a NUL", map[string]string{"state": "a\x00b"}},
				{"state not ASCII", map[string]string{"state": "étape"}},
				{"nonce not UTF-8", map[string]string{"nonce": "n\xff"}},
				{"nonce with a NUL", map[string]string{"nonce": "n\x00"}},
				{"login_hint not UTF-8", map[string]string{"login_hint": "an\xff@peeters.be"}},
				{"login_hint with a newline", map[string]string{"login_hint": "an@peeters.be\n<b>"}},
				{"acr_values not UTF-8", map[string]string{"acr_values": "urn:\xff"}},
				{"acr_values too long", map[string]string{"acr_values": strings.Repeat("urn:x ", 200)}},
				{"code_challenge not ASCII", map[string]string{"code_challenge": strings.Repeat("é", 22), "code_challenge_method": "S256"}},
			} {
				params := map[string]string{"client_id": "rs"}
				maps.Copy(params, tc.params)
				u, resp := e.authorize(t, e.authURL(params))
				if u == nil || u.Query().Get("error") != "invalid_request" || u.Query().Get("iss") != e.issuer {
					t.Errorf("%s: %v (status %d), want an invalid_request redirect", tc.name, u, resp.StatusCode)
				}
			}
			// What people and applications do send is accepted: an accented
			// login hint, a nonce in any script, many ui_locales.
			u, resp := e.authorize(t, e.authURL(map[string]string{"client_id": "rs", "login_hint": "anaïs.dupré@peeters.be",
				"nonce": "nonce—ß漢字", "ui_locales": strings.Repeat("nl-BE fr ", 40)}))
			if u == nil || u.Query().Get("code") == "" {
				t.Errorf("a request in proper UTF-8: %v (status %d), want a code", u, resp.StatusCode)
			}
			// An id from an address (the login page's ?authz=, the
			// callback's ?id=) that cannot be one is unknown, not a failure.
			for _, id := range []string{"\xff\xfe", "a\x00b", strings.Repeat("é", 16), strings.Repeat("x", 31), strings.Repeat("x", 33)} {
				if _, err := e.p.Request(context.Background(), id); !errors.Is(err, ErrUnknownRequest) {
					t.Errorf("Request(%q): %v, want ErrUnknownRequest", id, err)
				}
				if u, resp := e.authorize(t, e.issuer+pathCallback+"?id="+url.QueryEscape(id)); u != nil || resp.StatusCode != http.StatusBadRequest {
					t.Errorf("callback with id %q: %v (status %d), want 400", id, u, resp.StatusCode)
				}
			}
		})
	}
}
