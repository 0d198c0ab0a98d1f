package finagora

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// fakeIssuer is a small OpenID Connect provider for Finagora's tests: the
// protocol as the portal will speak it (discovery, JWKS, an authorization
// endpoint that logs the person in at once, a token endpoint that checks
// the client secret and the PKCE verifier, an end-session endpoint), and
// knobs to make it misbehave.
type fakeIssuer struct {
	t                *testing.T
	srv              *httptest.Server
	url              string
	clientID, secret string
	now              func() time.Time
	es, rsa          signingKey // published in the JWKS

	mu       sync.Mutex
	down     bool // discovery answers 503
	user     fakeUser
	signWith signingKey                  // the key the next ID tokens are signed with
	tamper   func(claims map[string]any) // changes the next ID tokens' claims
	grants   map[string]grant
	authz    []url.Values // every authorization request
	tokens   []url.Values // every token request (form)
	ends     []url.Values // every end-session request
	idTokens []string     // every ID token issued
	sids     int
}

type fakeUser struct {
	Sub, Name, Email, AccountType, Office string
}

type grant struct {
	challenge, nonce, redirect, sid string
}

type signingKey struct {
	priv crypto.Signer
	kid  string
	alg  jose.SignatureAlgorithm
}

func newECKey(t *testing.T, kid string) signingKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return signingKey{priv: k, kid: kid, alg: jose.ES256}
}

// rsaKey is made once: a 2048-bit key takes a while.
var rsaKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

func (k signingKey) sign(t *testing.T, claims map[string]any, typ string) string {
	t.Helper()
	payload, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: k.alg, Key: jose.JSONWebKey{Key: k.priv, KeyID: k.kid}},
		(&jose.SignerOptions{}).WithType(jose.ContentType(typ)))
	if err != nil {
		t.Fatal(err)
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// Users of the tests.
var (
	marie = fakeUser{Sub: "acc-1", Name: "Marie Dupont", Email: "courtier@cabinet-dupont.be", AccountType: "tiers", Office: "Cabinet Dupont & Fils"}
	jan   = fakeUser{Sub: "acc-3", Name: "Jan Peeters", Email: "makelaar@peeters-verzekeringen.be", AccountType: "tiers", Office: "Peeters Verzekeringen"}
	staff = fakeUser{Sub: "acc-7", Name: "Staff Member", Email: "staff@sesame.example", AccountType: "group"}
)

func startIssuer(t *testing.T, now func() time.Time) *fakeIssuer {
	t.Helper()
	f := &fakeIssuer{t: t, clientID: "finagora", secret: "s3cret-finagora-client", now: now,
		es: newECKey(t, "es-1"), rsa: signingKey{priv: rsaKey(), kid: "rsa-1", alg: jose.RS256},
		user: marie, grants: map[string]grant{}}
	f.signWith = f.es
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f.url = "http://" + ln.Addr().String()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", f.discovery)
	mux.HandleFunc("GET /jwks", f.jwks)
	mux.HandleFunc("GET /authorize", f.authorize)
	mux.HandleFunc("POST /token", f.token)
	mux.HandleFunc("GET /end-session", f.endSession)
	f.srv = &httptest.Server{Listener: ln, Config: &http.Server{Handler: mux}}
	f.srv.Start()
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeIssuer) set(change func(f *fakeIssuer)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	change(f)
}

func (f *fakeIssuer) discovery(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	down := f.down
	f.mu.Unlock()
	if down {
		http.Error(w, "starting", http.StatusServiceUnavailable)
		return
	}
	writeJSON(w, map[string]any{
		"issuer":                                         f.url,
		"authorization_endpoint":                         f.url + "/authorize",
		"token_endpoint":                                 f.url + "/token",
		"jwks_uri":                                       f.url + "/jwks",
		"end_session_endpoint":                           f.url + "/end-session",
		"response_types_supported":                       []string{"code"},
		"subject_types_supported":                        []string{"public"},
		"id_token_signing_alg_values_supported":          []string{"RS256", "ES256"},
		"code_challenge_methods_supported":               []string{"S256"},
		"scopes_supported":                               []string{"openid", "email", "profile", "sesame"},
		"authorization_response_iss_parameter_supported": true,
		"backchannel_logout_supported":                   true,
		"backchannel_logout_session_supported":           true,
	})
}

func (f *fakeIssuer) jwks(w http.ResponseWriter, r *http.Request) {
	var set jose.JSONWebKeySet
	for _, k := range []signingKey{f.es, f.rsa} {
		set.Keys = append(set.Keys, jose.JSONWebKey{Key: k.priv.Public(), KeyID: k.kid, Algorithm: string(k.alg), Use: "sig"})
	}
	writeJSON(w, set)
}

// authorize logs the configured user in at once and sends the browser back
// with a code (and iss, RFC 9207).
func (f *fakeIssuer) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f.mu.Lock()
	defer f.mu.Unlock()
	f.authz = append(f.authz, q)
	if q.Get("client_id") != f.clientID || q.Get("response_type") != "code" || q.Get("code_challenge_method") != "S256" {
		http.Error(w, "bad authorization request", http.StatusBadRequest)
		return
	}
	f.sids++
	code := rand.Text()
	f.grants[code] = grant{challenge: q.Get("code_challenge"), nonce: q.Get("nonce"), redirect: q.Get("redirect_uri"),
		sid: fmt.Sprintf("sid-%d", f.sids)}
	back, _ := url.Parse(q.Get("redirect_uri"))
	v := url.Values{"code": {code}, "state": {q.Get("state")}, "iss": {f.url}}
	back.RawQuery = v.Encode()
	http.Redirect(w, r, back.String(), http.StatusFound)
}

func (f *fakeIssuer) token(w http.ResponseWriter, r *http.Request) {
	id, secret, ok := r.BasicAuth()
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tokens = append(f.tokens, r.PostForm)
	if !ok || id != f.clientID || secret != f.secret || r.PostForm.Has("client_secret") {
		w.WriteHeader(http.StatusUnauthorized)
		writeJSON(w, map[string]string{"error": "invalid_client"})
		return
	}
	code := r.PostForm.Get("code")
	g, found := f.grants[code]
	delete(f.grants, code)
	sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
	if !found || r.PostForm.Get("grant_type") != "authorization_code" || r.PostForm.Get("redirect_uri") != g.redirect ||
		base64.RawURLEncoding.EncodeToString(sum[:]) != g.challenge {
		w.WriteHeader(http.StatusBadRequest)
		writeJSON(w, map[string]string{"error": "invalid_grant"})
		return
	}
	now := f.now()
	claims := map[string]any{
		"iss": f.url, "sub": f.user.Sub, "aud": f.clientID, "iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(),
		"auth_time": now.Unix(), "nonce": g.nonce, "sid": g.sid, "email": f.user.Email, "name": f.user.Name,
		"account_type": f.user.AccountType, "office": f.user.Office, "office_id": 12, "locale": "fr",
		"amr": []string{"pwd", "otp"}, "acr": "sesame:pwd+totp",
	}
	if f.tamper != nil {
		f.tamper(claims)
	}
	idToken := f.signWith.sign(f.t, claims, "JWT")
	f.idTokens = append(f.idTokens, idToken)
	writeJSON(w, map[string]any{"access_token": rand.Text(), "token_type": "Bearer", "expires_in": 300, "id_token": idToken})
}

func (f *fakeIssuer) endSession(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f.mu.Lock()
	f.ends = append(f.ends, q)
	f.mu.Unlock()
	back, err := url.Parse(q.Get("post_logout_redirect_uri"))
	if err != nil || back.Host == "" {
		http.Error(w, "bad post_logout_redirect_uri", http.StatusBadRequest)
		return
	}
	back.RawQuery = url.Values{"state": {q.Get("state")}}.Encode()
	http.Redirect(w, r, back.String(), http.StatusFound)
}

// logoutToken is a valid back-channel logout token for sid and sub (either
// may be empty), changed by change.
func (f *fakeIssuer) logoutToken(sid, sub string, change func(map[string]any)) string {
	now := f.now()
	claims := map[string]any{
		"iss": f.url, "aud": f.clientID, "iat": now.Unix(), "exp": now.Add(2 * time.Minute).Unix(), "jti": rand.Text(),
		"events": map[string]any{"http://schemas.openid.net/event/backchannel-logout": map[string]any{}},
	}
	if sid != "" {
		claims["sid"] = sid
	}
	if sub != "" {
		claims["sub"] = sub
	}
	if change != nil {
		change(claims)
	}
	return f.es.sign(f.t, claims, "logout+jwt")
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(v)
}
