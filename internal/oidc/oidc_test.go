package oidc

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"sesame/internal/account"
	"sesame/internal/config"
	"sesame/internal/i18n"
	"sesame/internal/seal"
	"sesame/internal/store"
	"sesame/internal/store/sqldb"
)

const (
	rpRedirect = "http://127.0.0.1:1/cb"
	secret     = "s3cret-s3cret-s3cret-s3cret-s3cret-s3cret-xx"
)

// testEnv is a provider on SQLite behind an httptest server, with a test
// "login" page that completes every request for one account and session.
type testEnv struct {
	t        *testing.T
	dir      string // the SQLite database's folder, when the env opened it
	st       store.Store
	ring     *seal.Keyring
	p        *Provider
	srv      *httptest.Server
	issuer   string
	offset   atomic.Int64 // added to the wall clock
	acct     account.Account
	office   account.Office
	sessHash []byte
	denyNext atomic.Bool
}

func (e *testEnv) now() time.Time { return time.Now().Add(time.Duration(e.offset.Load())) }

func testClients(bc string) []config.OIDCClient {
	return []config.OIDCClient{
		{ID: "rs", Name: "RS app", SecretHash: SecretHash(secret), RedirectURIs: []string{rpRedirect}, PostLogoutRedirectURIs: []string{"http://127.0.0.1:1/bye"},
			BackchannelLogoutURI: bc},
		{ID: "es", Name: "ES app", SecretHash: SecretHash(secret), RedirectURIs: []string{rpRedirect}, IDTokenSignedResponseAlg: "ES256"},
		{ID: "pub", Name: "Public", Public: true, RedirectURIs: []string{rpRedirect}},
		{ID: "clients-only", Name: "Clients only", SecretHash: SecretHash(secret), RedirectURIs: []string{rpRedirect}, AccountTypes: []string{"client"}},
	}
}

func newTestEnv(t testing.TB, st store.Store, ring *seal.Keyring, clients []config.OIDCClient) *testEnv {
	tt, _ := t.(*testing.T)
	e := &testEnv{t: tt, st: st, ring: ring}
	ctx := context.Background()
	if st == nil {
		e.dir = t.TempDir()
		db, err := sqldb.OpenSQLite(ctx, filepath.Join(e.dir, "s.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		e.st = db
	}
	if ring == nil {
		k, _ := seal.NewKey()
		e.ring, _ = seal.NewKeyring(k)
	}
	e.srv = httptest.NewUnstartedServer(nil)
	e.issuer = "http://" + e.srv.Listener.Addr().String()
	p, err := New(ctx, Options{Store: e.st, Keys: e.ring, Issuer: e.issuer, Clients: clients, SessionIdle: 30 * time.Minute,
		SessionAbsolute: 12 * time.Hour, Now: e.now})
	if err != nil {
		t.Fatal(err)
	}
	e.p = p
	mux := http.NewServeMux()
	for _, r := range p.Routes() {
		mux.Handle(r, p.Handler())
	}
	mux.HandleFunc("/login", func(w http.ResponseWriter, r *http.Request) {
		id := r.URL.Query().Get("authz")
		if e.denyNext.Load() {
			u, err := p.Deny(r.Context(), id, "login_required", "")
			if err != nil {
				http.Error(w, err.Error(), 400)
				return
			}
			http.Redirect(w, r, u, http.StatusFound)
			return
		}
		u, err := p.Complete(r.Context(), id, e.acct.ID, e.sessHash, e.now(), []string{"pwd", "otp"})
		if err != nil {
			http.Error(w, err.Error(), http.StatusForbidden)
			return
		}
		http.Redirect(w, r, u, http.StatusFound)
	})
	e.srv.Config.Handler = mux
	e.srv.Start()
	t.Cleanup(e.srv.Close)
	return e
}

// login creates the account (once) and a fresh Sesame session.
func (e *testEnv) login(t testing.TB) {
	ctx := context.Background()
	if e.acct.ID == 0 {
		e.office = account.Office{Name: "Cabinet Peeters", Created: e.now()}
		if err := e.st.CreateOffice(ctx, &e.office); err != nil {
			t.Fatal(err)
		}
		e.acct = account.Account{Type: account.Tiers, Identifier: "an@peeters.be", Name: "An Peeters", OfficeID: e.office.ID, Lang: i18n.NL,
			PasswordHash: "$argon2id$x", Created: e.now()}
		if err := e.st.CreateAccount(ctx, &e.acct); err != nil {
			t.Fatal(err)
		}
	}
	e.sessHash = make([]byte, 32)
	rand.Read(e.sessHash)
	now := e.now()
	if err := e.st.CreateSession(ctx, store.Session{IDHash: e.sessHash, AccountID: e.acct.ID, AMR: []string{"pwd", "otp"}, Created: now, LastSeen: now}); err != nil {
		t.Fatal(err)
	}
}

// browser follows redirects until the client's redirect URI, and returns
// that last URL (or the response that was not a redirect).
func browser() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(r *http.Request, _ []*http.Request) error {
		if r.URL.Host == "127.0.0.1:1" {
			return http.ErrUseLastResponse
		}
		return nil
	}}
}

// authorize runs the front channel and returns the redirect to the client
// (nil URL and the response if there was none).
func (e *testEnv) authorize(t testing.TB, authURL string) (*url.URL, *http.Response) {
	resp, err := browser().Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusFound {
		return nil, resp
	}
	u, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	return u, resp
}

type rp struct {
	cfg      oauth2.Config
	verifier *gooidc.IDTokenVerifier
	provider *gooidc.Provider
}

func (e *testEnv) rp(t testing.TB, clientID string, alg string, scopes ...string) *rp {
	ctx := context.Background()
	prov, err := gooidc.NewProvider(ctx, e.issuer)
	if err != nil {
		t.Fatal(err)
	}
	sec := secret
	if clientID == "pub" {
		sec = ""
	}
	if len(scopes) == 0 {
		scopes = []string{gooidc.ScopeOpenID, "email", "profile", "sesame", gooidc.ScopeOfflineAccess}
	}
	return &rp{
		cfg:      oauth2.Config{ClientID: clientID, ClientSecret: sec, Endpoint: prov.Endpoint(), RedirectURL: rpRedirect, Scopes: scopes},
		verifier: prov.Verifier(&gooidc.Config{ClientID: clientID, SupportedSigningAlgs: []string{alg}}),
		provider: prov,
	}
}

type flow struct {
	state, nonce, verifier string
	code                   string
	redirect               *url.URL
}

// code runs the front channel with PKCE, state and nonce and returns the code.
func (e *testEnv) code(t testing.TB, r *rp, extra ...oauth2.AuthCodeOption) flow {
	t.Helper()
	f := flow{state: randomToken(8), nonce: randomToken(8), verifier: oauth2.GenerateVerifier()}
	opts := append([]oauth2.AuthCodeOption{oauth2.S256ChallengeOption(f.verifier), gooidc.Nonce(f.nonce)}, extra...)
	u, resp := e.authorize(t, r.cfg.AuthCodeURL(f.state, opts...))
	if u == nil {
		t.Fatalf("authorize: status %d, no redirect", resp.StatusCode)
	}
	f.redirect = u
	q := u.Query()
	if q.Get("state") != f.state || q.Get("iss") != e.issuer {
		t.Errorf("authorization response %s: state or iss wrong", u)
	}
	f.code = q.Get("code")
	if f.code == "" {
		t.Fatalf("no code in %s", u)
	}
	return f
}

func (e *testEnv) exchange(r *rp, f flow) (*oauth2.Token, error) {
	return r.cfg.Exchange(context.Background(), f.code, oauth2.VerifierOption(f.verifier))
}

// tokens runs a whole code flow of clientID for the logged-in account and
// returns its relying party and tokens.
func (e *testEnv) tokens(t testing.TB, clientID, alg string) (*rp, *oauth2.Token) {
	t.Helper()
	r := e.rp(t, clientID, alg)
	tok, err := e.exchange(r, e.code(t, r))
	if err != nil {
		t.Fatal(err)
	}
	return r, tok
}

func TestHappyPath(t *testing.T) {
	for _, tc := range []struct{ client, alg string }{{"rs", "RS256"}, {"es", "ES256"}} {
		t.Run(tc.client, func(t *testing.T) {
			e := newTestEnv(t, nil, nil, testClients(""))
			e.login(t)
			ctx := context.Background()
			r := e.rp(t, tc.client, tc.alg)
			f := e.code(t, r)
			tok, err := e.exchange(r, f)
			if err != nil {
				t.Fatal(err)
			}
			raw, _ := tok.Extra("id_token").(string)
			idt, err := r.verifier.Verify(ctx, raw)
			if err != nil {
				t.Fatalf("verify ID token: %v", err)
			}
			if idt.Nonce != f.nonce {
				t.Errorf("nonce = %q", idt.Nonce)
			}
			var c map[string]any
			if err := idt.Claims(&c); err != nil {
				t.Fatal(err)
			}
			sub := e.p.Subject(e.acct.ID)
			want := map[string]any{"iss": e.issuer, "sub": sub, "email": "an@peeters.be", "email_verified": true, "account_type": "tiers",
				"office": "Cabinet Peeters", "name": "An Peeters", "locale": "nl", "acr": ACR, "sid": SID(e.sessHash)}
			for k, v := range want {
				if c[k] != v {
					t.Errorf("claim %s = %v, want %v", k, c[k], v)
				}
			}
			if strings.Contains(sub, "@") || sub == "" || strings.Contains(sub, "1") && len(sub) < 10 {
				t.Errorf("sub %q is not opaque", sub)
			}
			for _, k := range []string{"aud", "exp", "iat", "auth_time", "amr", "office_id"} {
				if c[k] == nil {
					t.Errorf("claim %s missing", k)
				}
			}
			if amr, _ := json.Marshal(c["amr"]); string(amr) != `["pwd","otp"]` {
				t.Errorf("amr = %s", amr)
			}
			// Userinfo.
			ui, err := r.provider.UserInfo(ctx, oauth2.StaticTokenSource(tok))
			if err != nil {
				t.Fatal(err)
			}
			var uc map[string]any
			ui.Claims(&uc)
			if ui.Subject != sub || ui.Email != "an@peeters.be" || uc["office"] != "Cabinet Peeters" || uc["account_type"] != "tiers" {
				t.Errorf("userinfo = %v", uc)
			}
			// Introspection.
			if got := e.introspect(t, tc.client, tok.AccessToken); got["active"] != true || got["sub"] != sub || got["client_id"] != tc.client {
				t.Errorf("introspection = %v", got)
			}
			// Refresh rotates.
			tok2, err := r.cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
			if err != nil {
				t.Fatal(err)
			}
			if tok2.RefreshToken == "" || tok2.RefreshToken == tok.RefreshToken || tok2.AccessToken == tok.AccessToken {
				t.Error("refresh did not rotate")
			}
			if raw2, _ := tok2.Extra("id_token").(string); raw2 != "" {
				if _, err := r.verifier.Verify(ctx, raw2); err != nil {
					t.Errorf("refreshed ID token: %v", err)
				}
			}
			// Revocation of the new access token.
			if code := e.revoke(t, tc.client, tok2.AccessToken); code != 200 {
				t.Errorf("revoke: %d", code)
			}
			if got := e.introspect(t, tc.client, tok2.AccessToken); got["active"] != false {
				t.Errorf("revoked token is active: %v", got)
			}
			if got := e.introspect(t, tc.client, tok.AccessToken); got["active"] != true {
				t.Errorf("other token inactive after revoking one: %v", got)
			}
		})
	}
}

func (e *testEnv) post(t testing.TB, path, clientID string, form url.Values) (int, map[string]any) {
	req, _ := http.NewRequest(http.MethodPost, e.issuer+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if clientID != "" {
		req.SetBasicAuth(clientID, secret)
	}
	code, _, m := send(t, req)
	return code, m
}

// send does req and reads its answer's JSON.
func send(t testing.TB, req *http.Request) (int, http.Header, map[string]any) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	json.NewDecoder(resp.Body).Decode(&m)
	return resp.StatusCode, resp.Header, m
}

func (e *testEnv) introspect(t testing.TB, clientID, token string) map[string]any {
	_, m := e.post(t, pathIntrospect, clientID, url.Values{"token": {token}})
	return m
}

func (e *testEnv) revoke(t testing.TB, clientID, token string) int {
	code, _ := e.post(t, pathRevoke, clientID, url.Values{"token": {token}})
	return code
}

var _ = errors.New

// TestRefreshKeepsTheSessionAlive: a refresh is activity on the Sesame
// session (recorded at most once a minute), so an application that
// refreshes keeps its person logged in past the idle timeout, and a
// session left idle longer than that ends the refresh.
func TestRefreshKeepsTheSessionAlive(t *testing.T) {
	e := newTestEnv(t, nil, nil, testClients(""))
	e.login(t)
	r := e.rp(t, "es", "ES256")
	tok, err := e.exchange(r, e.code(t, r))
	if err != nil {
		t.Fatal(err)
	}
	refresh := func() error {
		t2, err := r.cfg.TokenSource(context.Background(), &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
		if err == nil {
			tok = t2
		}
		return err
	}
	for range 3 { // 60 minutes in all, 20 at a time: past the 30-minute idle timeout
		e.offset.Add(int64(20 * time.Minute))
		if err := refresh(); err != nil {
			t.Fatalf("refresh after 20 idle minutes: %v", err)
		}
	}
	ss, err := e.st.GetSession(context.Background(), e.sessHash)
	if err != nil || e.now().Sub(ss.LastSeen) > time.Minute {
		t.Fatalf("the session after refreshes: last seen %v ago, %v", e.now().Sub(ss.LastSeen), err)
	}
	e.offset.Add(int64(31 * time.Minute))
	if err := refresh(); err == nil {
		t.Error("a refresh after 31 idle minutes succeeded")
	}
}

// noTouch is a store whose TouchSession fails as if the database went away
// between the refresh's rotation and the activity it records.
type noTouch struct{ store.Store }

func (noTouch) TouchSession(context.Context, []byte, time.Time, time.Time) error {
	return store.ErrUnavailable
}

// TestRefreshKeepsItsTokensWhenActivityIsNotRecorded: once the rotation
// is done, the new tokens are the application's. Failing the request then
// would lose them, and its retry with the old refresh token would look
// like a reuse and revoke the whole family.
func TestRefreshKeepsItsTokensWhenActivityIsNotRecorded(t *testing.T) {
	db, err := sqldb.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	e := newTestEnv(t, noTouch{db}, nil, testClients(""))
	e.login(t)
	r, tok := e.tokens(t, "es", "ES256")
	e.offset.Add(int64(2 * touchEvery))
	t2, err := r.cfg.TokenSource(context.Background(), &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	if got := e.introspect(t, "es", t2.AccessToken); got["active"] != true {
		t.Errorf("the new access token: %v", got)
	}
}
