package oidc

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/zitadel/oidc/v3/pkg/client/rs"
	"github.com/zitadel/oidc/v3/pkg/oidc"

	"sesame/internal/seal"
	"sesame/internal/store"
	"sesame/internal/store/sqldb"
)

// doJSON sends req and decodes its answer, which must be JSON.
func doJSON(t *testing.T, req *http.Request) (int, http.Header, map[string]any) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		t.Fatalf("%s: body is not JSON: %v", resp.Status, err)
	}
	return resp.StatusCode, resp.Header, m
}

// TestIntrospection is RFC 7662 as a resource server meets it: both client
// authentication methods the discovery document offers, RFC 6749 §5.2
// errors, and {"active":false} for every token the client may not see.
func TestIntrospection(t *testing.T) {
	e := newTestEnv(t, nil, nil, testClients(""))
	e.login(t)
	r, tok := e.tokens(t, "rs", "RS256")
	sub := e.p.Subject(e.acct.ID)

	type request struct {
		method string
		basic  [2]string // id, secret: sent in the Authorization header when id is set
		header string    // a raw Authorization header instead
		form   url.Values
		query  string
	}
	post := func(t *testing.T, rq request) (int, http.Header, map[string]any) {
		t.Helper()
		if rq.method == "" {
			rq.method = http.MethodPost
		}
		req, _ := http.NewRequest(rq.method, e.issuer+pathIntrospect+rq.query, strings.NewReader(rq.form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if rq.basic[0] != "" {
			req.SetBasicAuth(rq.basic[0], rq.basic[1])
		}
		if rq.header != "" {
			req.Header.Set("Authorization", rq.header)
		}
		return doJSON(t, req)
	}
	active := func(m map[string]any) bool {
		exp, _ := m["exp"].(float64)
		iat, _ := m["iat"].(float64)
		authTime, _ := m["auth_time"].(float64)
		return m["active"] == true && m["sub"] == sub && m["client_id"] == "rs" && m["iss"] == e.issuer &&
			m["token_type"] == "Bearer" && m["scope"] == "openid email profile sesame offline_access" &&
			exp-iat == defaultAccess.Seconds() && authTime > 0 && authTime <= iat &&
			fmt.Sprint(m["aud"]) == "[rs]" && fmt.Sprint(m["amr"]) == "[pwd otp]" && len(m) == 11
	}
	inactive := func(m map[string]any) bool { return len(m) == 1 && m["active"] == false }
	tokenForm := url.Values{"token": {tok.AccessToken}}

	tests := []struct {
		name      string
		rq        request
		status    int
		errorCode string // the body's "error", or "" for an introspection answer
		check     func(map[string]any) bool
	}{
		{"client_secret_basic", request{basic: [2]string{"rs", secret}, form: tokenForm}, 200, "", active},
		{"client_secret_post", request{form: url.Values{"token": {tok.AccessToken}, "client_id": {"rs"}, "client_secret": {secret}}}, 200, "", active},
		{"basic, parts form-encoded (RFC 6749 §2.3.1)", request{basic: [2]string{"r%73", url.QueryEscape(secret)}, form: tokenForm}, 200, "", active},
		{"another client's token", request{basic: [2]string{"es", secret}, form: tokenForm}, 200, "", inactive},
		{"unknown token", request{basic: [2]string{"rs", secret}, form: url.Values{"token": {"x" + tok.AccessToken}}}, 200, "", inactive},
		{"a refresh token", request{basic: [2]string{"rs", secret}, form: url.Values{"token": {tok.RefreshToken}}}, 200, "", inactive},
		{"no client authentication", request{form: tokenForm}, 401, "invalid_client", nil},
		{"client_id alone", request{form: url.Values{"token": {tok.AccessToken}, "client_id": {"rs"}}}, 401, "invalid_client", nil},
		{"wrong secret, basic", request{basic: [2]string{"rs", secret + "x"}, form: tokenForm}, 401, "invalid_client", nil},
		{"wrong secret, post", request{form: url.Values{"token": {tok.AccessToken}, "client_id": {"rs"}, "client_secret": {"x"}}}, 401, "invalid_client", nil},
		{"unknown client", request{basic: [2]string{"nobody", secret}, form: tokenForm}, 401, "invalid_client", nil},
		{"public client", request{form: url.Values{"token": {tok.AccessToken}, "client_id": {"pub"}, "client_secret": {""}}}, 401, "invalid_client", nil},
		{"two methods at once", request{basic: [2]string{"rs", secret}, form: url.Values{"token": {tok.AccessToken}, "client_secret": {secret}}}, 401, "invalid_client", nil},
		{"malformed basic encoding", request{basic: [2]string{"rs", "%zz"}, form: tokenForm}, 401, "invalid_client", nil},
		{"not basic", request{header: "Bearer " + tok.AccessToken, form: tokenForm}, 401, "invalid_client", nil},
		{"no token", request{basic: [2]string{"rs", secret}, form: url.Values{}}, 400, "invalid_request", nil},
		{"two tokens", request{basic: [2]string{"rs", secret}, form: url.Values{"token": {"x", tok.AccessToken}}}, 400, "invalid_request", nil},
		{"two secrets", request{form: url.Values{"token": {tok.AccessToken}, "client_id": {"rs"}, "client_secret": {"x", secret}}}, 400, "invalid_request", nil},
		{"token in the query only", request{basic: [2]string{"rs", secret}, form: url.Values{}, query: "?token=" + url.QueryEscape(tok.AccessToken)}, 400, "invalid_request", nil},
		{"client secret in the query only", request{form: tokenForm, query: "?client_id=rs&client_secret=" + url.QueryEscape(secret)}, 401, "invalid_client", nil},
		{"GET", request{method: http.MethodGet, basic: [2]string{"rs", secret}, query: "?token=" + url.QueryEscape(tok.AccessToken)}, 405, "invalid_request", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, h, m := post(t, tc.rq)
			if code != tc.status {
				t.Fatalf("status %d, want %d (%v)", code, tc.status, m)
			}
			jsonNoStore(t, h)
			if tc.errorCode != "" {
				if m["error"] != tc.errorCode || m["active"] != nil {
					t.Errorf("body %v, want error %s", m, tc.errorCode)
				}
				if code == 401 && (h.Get("WWW-Authenticate") != "") != (tc.rq.basic[0] != "" || tc.rq.header != "") {
					t.Errorf("WWW-Authenticate %q for a request with Authorization %v", h.Get("WWW-Authenticate"), tc.rq.basic[0] != "" || tc.rq.header != "")
				}
				return
			}
			if !tc.check(m) {
				t.Errorf("body %v", m)
			}
		})
	}

	t.Run("revoked, expired, session ended", func(t *testing.T) {
		basic := request{basic: [2]string{"rs", secret}, form: tokenForm}
		e.offset.Add(int64(defaultAccess + time.Second))
		if _, _, m := post(t, basic); !inactive(m) {
			t.Errorf("expired token: %v", m)
		}
		e.offset.Add(-int64(defaultAccess + time.Second))
		if _, _, m := post(t, basic); !active(m) {
			t.Fatalf("token after the clock came back: %v", m)
		}
		// The session idle for its timeout (30 minutes) is over, swept
		// or not: its tokens with it.
		idleFor(t, e, 30*time.Minute)
		if _, _, m := post(t, basic); !inactive(m) {
			t.Errorf("token of an idle-expired session: %v", m)
		}
		idleFor(t, e, 30*time.Minute-time.Second)
		if _, _, m := post(t, basic); !active(m) {
			t.Fatalf("token of a session seen within its idle timeout: %v", m)
		}
		if code := e.revoke(t, "rs", tok.AccessToken); code != 200 {
			t.Fatalf("revoke: %d", code)
		}
		if _, _, m := post(t, basic); !inactive(m) {
			t.Errorf("revoked token: %v", m)
		}
	})

	t.Run("a resource server library", func(t *testing.T) {
		tok, err := e.exchange(r, e.code(t, r))
		if err != nil {
			t.Fatal(err)
		}
		server, err := rs.NewResourceServerClientCredentials(context.Background(), e.issuer, "rs", secret)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := rs.Introspect[*oidc.IntrospectionResponse](context.Background(), server, tok.AccessToken)
		if err != nil {
			t.Fatal(err)
		}
		if !resp.Active || resp.Subject != sub || resp.ClientID != "rs" || resp.Expiration.AsTime().IsZero() {
			t.Errorf("introspection = %+v", resp)
		}
	})
}

// idleFor makes e's Sesame session last seen d ago.
func idleFor(t *testing.T, e *testEnv, d time.Duration) {
	t.Helper()
	if err := e.st.TouchSession(context.Background(), e.sessHash, e.now().Add(-d), time.Time{}); err != nil {
		t.Fatal(err)
	}
}

// TestUserinfoErrors is RFC 6750 as an application meets it at userinfo:
// the token from the header or a POST body, never the address, and a 401
// with a Bearer challenge for every token that may not be used.
func TestUserinfoErrors(t *testing.T) {
	e := newTestEnv(t, nil, nil, testClients(""))
	e.login(t)
	_, tok := e.tokens(t, "rs", "RS256")
	sub := e.p.Subject(e.acct.ID)
	type request struct {
		method, auth, query, origin string
		form                        url.Values
	}
	do := func(t *testing.T, rq request) (int, http.Header, map[string]any) {
		t.Helper()
		var body *strings.Reader
		if rq.form != nil {
			body = strings.NewReader(rq.form.Encode())
		} else {
			body = strings.NewReader("")
		}
		req, _ := http.NewRequest(rq.method, e.issuer+pathUserinfo+rq.query, body)
		if rq.form != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		if rq.auth != "" {
			req.Header.Set("Authorization", rq.auth)
		}
		if rq.origin != "" {
			req.Header.Set("Origin", rq.origin)
		}
		return doJSON(t, req)
	}
	bearer := "Bearer " + tok.AccessToken
	const noError = "-" // a challenge without an error code
	tests := []struct {
		name      string
		rq        request
		status    int
		challenge string // the WWW-Authenticate error, noError, or "" for a 200
	}{
		{"GET, header", request{method: "GET", auth: bearer}, 200, ""},
		{"the scheme in any case", request{method: "GET", auth: "bEaReR " + tok.AccessToken}, 200, ""},
		{"POST, header", request{method: "POST", auth: bearer}, 200, ""},
		{"POST, body", request{method: "POST", form: url.Values{"access_token": {tok.AccessToken}}}, 200, ""},
		{"no token", request{method: "GET"}, 401, noError},
		{"unknown token", request{method: "GET", auth: "Bearer x" + tok.AccessToken}, 401, "invalid_token"},
		{"a refresh token", request{method: "GET", auth: "Bearer " + tok.RefreshToken}, 401, "invalid_token"},
		{"header and body", request{method: "POST", auth: bearer, form: url.Values{"access_token": {tok.AccessToken}}}, 400, "invalid_request"},
		{"two tokens in the body", request{method: "POST", form: url.Values{"access_token": {tok.AccessToken, tok.AccessToken}}}, 400, "invalid_request"},
		{"token in the address", request{method: "GET", query: "?access_token=" + url.QueryEscape(tok.AccessToken)}, 400, "invalid_request"},
		{"Basic instead of Bearer", request{method: "GET", auth: "Basic cnM6eA=="}, 400, "invalid_request"},
		{"Bearer without a token", request{method: "GET", auth: "Bearer "}, 400, "invalid_request"},
		{"PUT", request{method: "PUT", auth: bearer}, 405, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, h, m := do(t, tc.rq)
			if code != tc.status {
				t.Fatalf("status %d, want %d (%v)", code, tc.status, m)
			}
			jsonNoStore(t, h)
			challenge := h.Get("WWW-Authenticate")
			switch {
			case code == 200:
				if m["sub"] != sub || m["email"] != e.acct.Identifier || challenge != "" {
					t.Errorf("claims %v, challenge %q", m, challenge)
				}
			case tc.challenge == noError:
				if challenge != "Bearer" {
					t.Errorf("WWW-Authenticate %q, want Bearer without an error", challenge)
				}
			case tc.challenge != "":
				if !strings.HasPrefix(challenge, `Bearer error="`+tc.challenge+`"`) || m["error"] != tc.challenge {
					t.Errorf("WWW-Authenticate %q, body %v, want error %s", challenge, m, tc.challenge)
				}
			}
			if code != 200 && m["sub"] != nil {
				t.Errorf("claims in an error: %v", m)
			}
		})
	}

	t.Run("CORS", func(t *testing.T) {
		if _, h, _ := do(t, request{method: "GET", auth: bearer, origin: "https://app.example"}); h.Get("Access-Control-Allow-Origin") != "https://app.example" {
			t.Errorf("no CORS answer: %v", h)
		}
		req, _ := http.NewRequest(http.MethodOptions, e.issuer+pathUserinfo, nil)
		req.Header.Set("Origin", "https://app.example")
		req.Header.Set("Access-Control-Request-Method", "GET")
		req.Header.Set("Access-Control-Request-Headers", "authorization")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode/100 != 2 || !strings.Contains(strings.ToLower(resp.Header.Get("Access-Control-Allow-Headers")), "authorization") {
			t.Errorf("preflight: %s %v", resp.Status, resp.Header)
		}
	})

	t.Run("expired, revoked", func(t *testing.T) {
		e.offset.Add(int64(defaultAccess + time.Second))
		if code, h, _ := do(t, request{method: "GET", auth: bearer}); code != 401 || !strings.Contains(h.Get("WWW-Authenticate"), "invalid_token") {
			t.Errorf("expired token: %d %v", code, h)
		}
		e.offset.Add(-int64(defaultAccess + time.Second))
		if code, _, _ := do(t, request{method: "GET", auth: bearer}); code != 200 {
			t.Fatalf("token after the clock came back: %d", code)
		}
		idleFor(t, e, 30*time.Minute)
		if code, h, _ := do(t, request{method: "GET", auth: bearer}); code != 401 || !strings.Contains(h.Get("WWW-Authenticate"), "invalid_token") {
			t.Errorf("token of an idle-expired session: %d %v", code, h)
		}
		idleFor(t, e, 30*time.Minute-time.Second)
		if code, _, _ := do(t, request{method: "GET", auth: bearer}); code != 200 {
			t.Fatalf("token of a session seen within its idle timeout: %d", code)
		}
		if code := e.revoke(t, "rs", tok.AccessToken); code != 200 {
			t.Fatalf("revoke: %d", code)
		}
		if code, h, _ := do(t, request{method: "GET", auth: bearer}); code != 401 || !strings.Contains(h.Get("WWW-Authenticate"), "invalid_token") {
			t.Errorf("revoked token: %d %v", code, h)
		}
	})
}

// TestResourceEndpointsStoreDown: when the store cannot answer, userinfo
// and introspection say so with 503 and Retry-After, rather than calling
// the token invalid (an application would log its person out) or valid.
func TestResourceEndpointsStoreDown(t *testing.T) {
	e := newTestEnv(t, nil, nil, testClients(""))
	e.login(t)
	_, tok := e.tokens(t, "rs", "RS256")
	e.st.Close()
	for _, req := range []*http.Request{
		func() *http.Request {
			req, _ := http.NewRequest(http.MethodGet, e.issuer+pathUserinfo, nil)
			req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
			return req
		}(),
		func() *http.Request {
			req, _ := http.NewRequest(http.MethodPost, e.issuer+pathIntrospect, strings.NewReader(url.Values{"token": {tok.AccessToken}}.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.SetBasicAuth("rs", secret)
			return req
		}(),
	} {
		code, h, m := doJSON(t, req)
		if code != http.StatusServiceUnavailable || h.Get("Retry-After") == "" || m["error"] != "server_error" {
			t.Errorf("%s with the store down: %d %v %v", req.URL.Path, code, h, m)
		}
	}
}

// revocationBurst: two instances on one database answer userinfo and
// introspection for one token from many goroutines at once; the client
// revokes the grant through the first instance mid-burst. No request
// begun after the revocation returned may find the token usable, on
// either instance, and nothing answers 5xx.
func revocationBurst(t *testing.T, stA, stB store.Store, ring *seal.Keyring) {
	a := newTestEnv(t, stA, ring, testClients(""))
	b, err := New(context.Background(), Options{Store: stB, Keys: ring, Issuer: a.issuer, Clients: testClients(""),
		SessionAbsolute: 12 * time.Hour, SessionIdle: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	bSrv := httptest.NewServer(b.Handler())
	defer bSrv.Close()
	a.login(t)
	_, tok := a.tokens(t, "rs", "RS256")
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	// usable asks one instance once, by userinfo or introspection.
	usable := func(base string, introspect bool) (bool, int) {
		var req *http.Request
		if introspect {
			req, _ = http.NewRequest(http.MethodPost, base+pathIntrospect, strings.NewReader(url.Values{"token": {tok.AccessToken}}.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.SetBasicAuth("rs", secret)
		} else {
			req, _ = http.NewRequest(http.MethodGet, base+pathUserinfo, nil)
			req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Error(err)
			return false, 0
		}
		defer resp.Body.Close()
		var m map[string]any
		json.NewDecoder(resp.Body).Decode(&m)
		if introspect {
			return resp.StatusCode == 200 && m["active"] == true, resp.StatusCode
		}
		return resp.StatusCode == 200, resp.StatusCode
	}

	var revoked atomic.Bool
	var before, after, stale atomic.Int64
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range 32 {
		base := a.issuer
		if i%2 == 1 {
			base = bSrv.URL
		}
		wg.Go(func() {
			<-start
			for n := 0; n < 400 && after.Load() < 600; n++ {
				wasRevoked := revoked.Load()
				ok, code := usable(base, i%4 >= 2)
				if code >= 500 {
					t.Errorf("%s: status %d", base, code)
				}
				switch {
				case !wasRevoked && ok:
					before.Add(1)
				case wasRevoked && ok:
					stale.Add(1)
				case wasRevoked:
					after.Add(1)
				}
			}
		})
	}
	close(start)
	for before.Load() < 100 {
		time.Sleep(time.Millisecond)
	}
	if code := a.revoke(t, "rs", tok.RefreshToken); code != 200 {
		t.Fatalf("revoke: %d", code)
	}
	revoked.Store(true)
	wg.Wait()
	t.Logf("usable before the revocation: %d; refused after: %d", before.Load(), after.Load())
	if stale.Load() != 0 || after.Load() == 0 {
		t.Errorf("%d requests begun after the revocation found the token usable (%d refused, %d usable before)", stale.Load(), after.Load(), before.Load())
	}
}

func TestRevocationBurstSQLite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.db")
	var stores [2]store.Store
	for i := range stores {
		db, err := sqldb.OpenSQLite(context.Background(), path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		stores[i] = db
	}
	k, _ := seal.NewKey()
	ring, _ := seal.NewKeyring(k)
	revocationBurst(t, stores[0], stores[1], ring)
}

func TestRevocationBurstPostgres(t *testing.T) {
	stores := pgStores(t, 2)
	k, _ := seal.NewKey()
	ring, _ := seal.NewKeyring(k)
	revocationBurst(t, stores[0], stores[1], ring)
}

// TestUserinfoSaysWhatTheIDTokenSays: with every scope, for an office's
// account, userinfo's claims are exactly the ID token's, protocol claims
// aside — the two are written by different code paths (a plain struct for
// userinfo, op's UserInfo for the token) from one claims value.
func TestUserinfoSaysWhatTheIDTokenSays(t *testing.T) {
	e := newTestEnv(t, nil, nil, testClients(""))
	e.login(t)
	r, tok := e.tokens(t, "rs", "RS256")
	raw, _ := tok.Extra("id_token").(string)
	idt, err := r.verifier.Verify(context.Background(), raw)
	if err != nil {
		t.Fatal(err)
	}
	var fromToken map[string]any
	if err := idt.Claims(&fromToken); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodGet, e.issuer+pathUserinfo, nil)
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	_, _, fromUserinfo := doJSON(t, req)
	for _, k := range []string{"iss", "aud", "exp", "iat", "auth_time", "nonce", "at_hash", "c_hash", "sid", "amr", "acr", "azp", "jti", "client_id"} {
		delete(fromToken, k)
	}
	want := map[string]any{"sub": e.p.Subject(e.acct.ID), "email": e.acct.Identifier, "email_verified": true, "name": e.acct.Name,
		"locale": string(e.acct.Lang), "account_type": string(e.acct.Type), "office": e.office.Name, "office_id": fmt.Sprint(e.office.ID)}
	if diff := cmp.Diff(want, fromUserinfo); diff != "" {
		t.Errorf("userinfo (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want, fromToken); diff != "" {
		t.Errorf("ID token's claims (-want +got):\n%s", diff)
	}
}

// TestSubject: sub is HMAC-SHA-256("sesame/sub/" + the account id) under
// the subject key, base64url — what every token issued so far carries —
// the same from pooled HMACs under many goroutines, different per account.
func TestSubject(t *testing.T) {
	e := newTestEnv(t, nil, nil, testClients(""))
	want := func(id int64) string {
		m := hmac.New(sha256.New, e.p.subjectKey)
		m.Write([]byte("sesame/sub/" + strconv.FormatInt(id, 10)))
		return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
	}
	ids := []int64{1, 2, 42, 1 << 40, math.MaxInt64}
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for range 50 {
				for _, id := range ids {
					if got := e.p.Subject(id); got != want(id) {
						t.Errorf("Subject(%d) = %s, want %s", id, got, want(id))
						return
					}
				}
			}
		})
	}
	wg.Wait()
	if e.p.Subject(1) == e.p.Subject(2) {
		t.Error("two accounts, one sub")
	}
}

// jsonNoStore checks that a resource endpoint's answer, whatever it is, is
// JSON that nothing may cache.
func jsonNoStore(t *testing.T, h http.Header) {
	t.Helper()
	if h.Get("Cache-Control") != "no-store" || !strings.HasPrefix(h.Get("Content-Type"), "application/json") {
		t.Errorf("headers %v", h)
	}
}

// TestBrowserRoutesStoreDown: when the store cannot answer, the routes a
// person's browser is sent to answer 503 with Retry-After — not op's
// "invalid request" (400), nor server_error sent back to the application,
// which would tell the person their link is wrong or send them away when
// trying again in a moment is all it takes. A refusal that owes nothing to
// the store is still a refusal.
func TestBrowserRoutesStoreDown(t *testing.T) {
	e := newTestEnv(t, nil, nil, testClients(""))
	e.login(t)
	_, tok := e.tokens(t, "rs", "RS256")
	idToken, _ := tok.Extra("id_token").(string)
	get := func(u string) *http.Response {
		t.Helper()
		resp, err := noFollow.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	// A request the login page has completed, whose browser comes back
	// to the callback once the store is down.
	request := e.authURL(map[string]string{"client_id": "rs", "code_challenge": challenge, "code_challenge_method": "S256"})
	loc, _ := url.Parse(get(request).Header.Get("Location"))
	pending := loc.Query().Get("authz")
	if _, err := e.p.Complete(context.Background(), pending, e.acct.ID, e.sessHash, e.now(), []string{"pwd", "otp"}); err != nil {
		t.Fatal(err)
	}
	e.st.Close()
	for name, u := range map[string]string{
		"authorize": request,
		"callback":  e.issuer + pathCallback + "?id=" + url.QueryEscape(pending),
		"end_session": e.issuer + pathEndSession + "?" + url.Values{"id_token_hint": {idToken}, "client_id": {"rs"},
			"post_logout_redirect_uri": {"http://127.0.0.1:1/bye"}}.Encode(),
	} {
		resp := get(u)
		if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" || resp.Header.Get("Location") != "" {
			t.Errorf("%s with the store down: %d, Retry-After %q, Location %q; want 503, Retry-After and no redirect",
				name, resp.StatusCode, resp.Header.Get("Retry-After"), resp.Header.Get("Location"))
		}
	}
	if resp := get(e.authURL(map[string]string{"client_id": "nobody", "code_challenge": challenge, "code_challenge_method": "S256"})); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("unknown client with the store down: %d, want 400", resp.StatusCode)
	}
}

// TestTokenEndpointsStoreDown: when the store cannot answer, the token and
// revocation endpoints say so with 503, server_error and Retry-After. A
// code or refresh token called invalid (invalid_grant) would make the
// application drop what is still good and send its person to log in again.
func TestTokenEndpointsStoreDown(t *testing.T) {
	e := newTestEnv(t, nil, nil, testClients(""))
	e.login(t)
	r, tok := e.tokens(t, "rs", "RS256")
	f := e.code(t, r)
	e.st.Close()
	for name, form := range map[string]url.Values{
		"code exchange": {"grant_type": {"authorization_code"}, "code": {f.code}, "redirect_uri": {rpRedirect}, "code_verifier": {f.verifier}},
		"refresh":       {"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}},
	} {
		req, _ := http.NewRequest(http.MethodPost, e.issuer+pathToken, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth("rs", secret)
		code, h, m := doJSON(t, req)
		if code != http.StatusServiceUnavailable || h.Get("Retry-After") == "" || m["error"] != "server_error" {
			t.Errorf("%s with the store down: %d %v %v", name, code, h, m)
		}
	}
	req, _ := http.NewRequest(http.MethodPost, e.issuer+pathRevoke, strings.NewReader(url.Values{"token": {tok.RefreshToken}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("rs", secret)
	if code, h, m := doJSON(t, req); code != http.StatusServiceUnavailable || h.Get("Retry-After") == "" || m["error"] != "server_error" {
		t.Errorf("revocation with the store down: %d %v %v", code, h, m)
	}
}
