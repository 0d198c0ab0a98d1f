// Package oidc makes Sesame an OpenID Connect provider (SPEC 5) on
// github.com/zitadel/oidc/v3's op package: discovery, JWKS, the
// authorization code flow with PKCE, token (code and refresh_token grants
// only), userinfo, introspection and revocation, RP-initiated logout and
// back-channel logout. Userinfo and introspection are served by this
// package itself (resource.go), where op's answers differ from the RFCs.
//
// This package is the adapter between op and our store: every piece of
// state (signing keys, authorization requests, codes, grants, tokens) is in
// the database, so several instances act as one. Codes and tokens are
// random 256-bit values; the database keeps their SHA-256. Access tokens are
// opaque (looked up by hash, so revocation and the end of the Sesame
// session take effect at once). ID tokens are signed with the client's
// algorithm (RS256 by default, or ES256).
//
// The login itself is the portal's: op sends the browser to
// /login?authz=ID; the page reads the request (Request), authenticates the
// person and calls Complete (or Deny), then sends the browser to the URL
// returned, which issues the code.
//
// A grant remembers the Sesame session it came from: when that session no
// longer exists (logout, expiry, an administrator's reset, a disabled
// account) its tokens stop working, and Run tells clients that registered a
// back-channel logout URI.
package oidc

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/rs/cors"
	"github.com/zitadel/oidc/v3/pkg/op"

	"sesame/internal/account"
	"sesame/internal/config"
	"sesame/internal/seal"
	"sesame/internal/store"
)

// ACR is the authentication context class of every Sesame login: password
// and a TOTP code.
const ACR = "urn:sesame:acr:pwd+otp"

// Lifetimes.
const (
	requestLifetime   = 30 * time.Minute // to log in
	codeLifetime      = 60 * time.Second
	defaultAccess     = 5 * time.Minute
	defaultID         = 5 * time.Minute
	logoutTokenLife   = 2 * time.Minute
	defaultRotation   = 15 * time.Minute
	jwksMaxAge        = 5 * time.Minute
	redeemedKeptFor   = 10 * time.Minute // a redeemed code is remembered to detect its reuse
	maxBody           = 64 << 10
	backchannelGiveUp = time.Hour
)

// AuthorizeLimit bounds the authorization requests one network address may
// open: each is a row kept requestLifetime, and anyone may send them.
type AuthorizeLimit struct {
	Requests int
	Window   time.Duration
}

// DefaultAuthorizeLimit is 1,000 requests in 15 minutes per address: a
// whole office behind one address, logging in to several applications
// whose sessions come back for new tokens, stays below it; one host
// flooding the endpoint stops there (about 2,000 live requests, 1 MB).
func DefaultAuthorizeLimit() AuthorizeLimit {
	return AuthorizeLimit{Requests: 1000, Window: 15 * time.Minute}
}

// Errors of Request, Complete and Deny.
var (
	// ErrUnknownRequest: the authorization request is unknown, expired or
	// already completed.
	ErrUnknownRequest = errors.New("oidc: unknown, expired or completed authorization request")
	// ErrAccountType: the client does not accept this type of account.
	ErrAccountType = errors.New("oidc: the application does not accept this type of account")
	// ErrLoginRequired: the authentication is older than the request allows
	// (max_age, or prompt=login and it happened before the request).
	ErrLoginRequired = errors.New("oidc: a fresh login is required")
)

// Request is a pending authorization request, as the login page needs it.
type Request struct {
	ID           string
	ClientID     string
	ClientName   string
	AccountTypes []account.Type // types the client accepts
	LoginHint    string
	UILocales    []string
	Prompt       []string       // "none", "login"
	MaxAge       *time.Duration // nil when absent
	// RedirectURI is where the browser goes once the request is complete:
	// one of the client's registered redirect URIs.
	RedirectURI string
}

// Options configure a Provider.
type Options struct {
	Store  store.Store
	Keys   *seal.Keyring
	Issuer string // the portal's public URL, e.g. https://login.example.be
	// Clients are the relying applications (validated by config).
	Clients []config.OIDCClient
	// SessionIdle and SessionAbsolute are the Sesame sessions' lifetimes
	// (auth.SessionPolicy): no token outlives its session.
	SessionIdle, SessionAbsolute time.Duration
	// KeyRotationDelay: how long a rotated key is published before it
	// signs (0: 15 minutes).
	KeyRotationDelay time.Duration
	Now              func() time.Time // nil: time.Now
	Log              *slog.Logger     // nil: discard
	HTTPClient       *http.Client     // for back-channel logout; nil: a client with a 5 s timeout
	// AddressKey names the network a request comes from, for
	// AuthorizeLimit (the portal's: behind a trusted proxy, and an IPv6
	// /64 as one); nil: the connection's IP address.
	AddressKey     func(*http.Request) string
	AuthorizeLimit AuthorizeLimit // zero: DefaultAuthorizeLimit
}

// Provider is the OpenID Connect provider.
type Provider struct {
	st         store.Store
	ring       *seal.Keyring
	issuer     string
	clients    map[string]*client
	idle, abs  time.Duration
	now        func() time.Time
	log        *slog.Logger
	httpClient *http.Client
	addressKey func(*http.Request) string
	authzLimit AuthorizeLimit
	keys       *keyCache
	subjectKey []byte
	subjects   sync.Pool // of HMAC-SHA-256 keyed with subjectKey (Subject)
	op         *op.Provider
	handler    http.Handler
	// userinfoHandler is serveUserinfo behind the CORS rules op gives its
	// endpoints: browser applications call userinfo.
	userinfoHandler http.Handler
}

// New builds the provider; it creates the signing keys and the subject key
// on first start.
func New(ctx context.Context, o Options) (*Provider, error) {
	if o.Store == nil || o.Keys == nil {
		return nil, errors.New("oidc: Store and Keys are required")
	}
	iu, err := url.Parse(o.Issuer)
	if err != nil || (iu.Scheme != "https" && iu.Scheme != "http") || iu.Host == "" || iu.RawQuery != "" || iu.Fragment != "" {
		return nil, errors.New("oidc: the issuer must be an absolute http(s) URL")
	}
	p := &Provider{
		st: o.Store, ring: o.Keys, issuer: trimSlash(o.Issuer), idle: o.SessionIdle, abs: o.SessionAbsolute,
		now: o.Now, log: o.Log, httpClient: o.HTTPClient, clients: map[string]*client{},
		addressKey: o.AddressKey, authzLimit: o.AuthorizeLimit,
	}
	if p.addressKey == nil {
		p.addressKey = remoteIP
	}
	def := DefaultAuthorizeLimit()
	if p.authzLimit.Requests <= 0 {
		p.authzLimit.Requests = def.Requests
	}
	if p.authzLimit.Window <= 0 {
		p.authzLimit.Window = def.Window
	}
	if p.now == nil {
		p.now = time.Now
	}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	if p.httpClient == nil {
		p.httpClient = &http.Client{Timeout: 5 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	if p.abs <= 0 {
		return nil, errors.New("oidc: SessionAbsolute is required")
	}
	retain := logoutTokenLife
	for _, c := range o.Clients {
		cl := newClient(c, p.issuer)
		p.clients[c.ID] = cl
		retain = max(retain, cl.idLife)
	}
	p.keys = &keyCache{st: o.Store, ring: o.Keys, retain: retain + keyCacheTTL + time.Minute}
	now := p.now().UTC()
	if err := EnsureKeys(ctx, o.Store, o.Keys, now); err != nil {
		return nil, err
	}
	p.subjects.New = func() any { return hmac.New(sha256.New, p.subjectKey) }
	if p.subjectKey, err = p.loadSubjectKey(ctx); err != nil {
		return nil, err
	}
	cfg := &op.Config{
		CodeMethodS256:             true,
		AuthMethodPost:             true,
		GrantTypeRefreshToken:      true,
		SupportedScopes:            config.OIDCScopes,
		SupportedClaims:            []string{"sub", "aud", "exp", "iat", "iss", "auth_time", "nonce", "acr", "amr", "sid", "azp", "at_hash", "c_hash", "email", "email_verified", "name", "locale", "account_type", "office", "office_id"},
		DefaultLogoutRedirectURI:   p.issuer + "/",
		BackChannelLogoutSupported: true, BackChannelLogoutSessionSupported: true,
	}
	opts := []op.Option{op.WithCrypto(tokenCrypto{}), op.WithCORSOptions(&corsOptions)}
	if iu.Scheme == "http" {
		opts = append(opts, op.WithAllowInsecure())
	}
	p.op, err = op.NewProvider(cfg, &storage{p}, op.StaticIssuer(p.issuer), opts...)
	if err != nil {
		return nil, fmt.Errorf("oidc: %w", err)
	}
	p.userinfoHandler = cors.New(corsOptions).Handler(http.HandlerFunc(p.serveUserinfo))
	p.handler = p.wrap(p.op)
	return p, nil
}

func trimSlash(s string) string {
	for len(s) > 0 && s[len(s)-1] == '/' {
		s = s[:len(s)-1]
	}
	return s
}

// loadSubjectKey returns the HMAC key of subject identifiers, created once
// for the whole database. It is a stored random key, not derived from the
// sealing key, so rotating the sealing key does not change anyone's sub.
func (p *Provider) loadSubjectKey(ctx context.Context) ([]byte, error) {
	const name = "subject"
	ad := []byte("sesame/oidc secret/" + name)
	sealed, err := p.st.GetOIDCSecret(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		v, err := p.ring.Seal(randomBytes(32), ad)
		if err != nil {
			return nil, err
		}
		if err := p.st.AddOIDCSecret(ctx, name, v); err != nil {
			return nil, err
		}
		sealed, err = p.st.GetOIDCSecret(ctx, name)
		if err != nil {
			return nil, err
		}
	} else if err != nil {
		return nil, err
	}
	return p.ring.Open(sealed, ad)
}

// Subject returns the account's "sub": an HMAC of its id under the
// subject key — stable (renaming changes nothing), opaque (neither the id
// nor the e-mail can be read from it), the same for every client.
// Userinfo and introspection compute one per request; the pooled HMACs
// spare keying a new one each time.
func (p *Provider) Subject(accountID int64) string {
	m := p.subjects.Get().(hash.Hash)
	defer p.subjects.Put(m)
	m.Reset()
	var msg [40]byte
	m.Write(strconv.AppendInt(append(msg[:0], "sesame/sub/"...), accountID, 10))
	var sum [sha256.Size]byte
	return base64.RawURLEncoding.EncodeToString(m.Sum(sum[:0]))
}

// SID returns the "sid" claim of the Sesame session whose hash is
// sessionHash.
func SID(sessionHash []byte) string {
	h := sha256.Sum256(append([]byte("sesame/sid"), sessionHash...))
	return base64.RawURLEncoding.EncodeToString(h[:])[:22]
}

func hashToken(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

// Handler serves every endpoint of Routes.
func (p *Provider) Handler() http.Handler { return p.handler }

// Endpoint paths (relative to the issuer).
const (
	pathDiscovery  = "/.well-known/openid-configuration"
	pathAuthorize  = "/authorize"
	pathCallback   = "/authorize/callback"
	pathToken      = "/oauth/token"
	pathIntrospect = "/oauth/introspect"
	pathUserinfo   = "/userinfo"
	pathRevoke     = "/revoke"
	pathEndSession = "/end_session"
	pathKeys       = "/keys"
	loginPath      = "/login"
)

// Routes returns the paths the portal must route to Handler.
func (p *Provider) Routes() []string {
	return []string{pathDiscovery, pathKeys, pathAuthorize, pathCallback, pathToken, pathUserinfo, pathIntrospect, pathRevoke, pathEndSession}
}

// A BrowserRoute is one of Routes that a person's browser is sent to
// (the others are called by applications), so what it answers a person
// reads. Logout: it ends sessions (end_session) rather than logging in
// (the authorization endpoint and its callback).
type BrowserRoute struct {
	Path   string
	Logout bool
}

// BrowserRoutes lists the routes a person's browser is sent to.
func (p *Provider) BrowserRoutes() []BrowserRoute {
	return []BrowserRoute{{Path: pathAuthorize}, {Path: pathCallback}, {Path: pathEndSession, Logout: true}}
}

// Request returns the pending authorization request id.
func (p *Provider) Request(ctx context.Context, id string) (Request, error) {
	r, c, err := p.pending(ctx, id)
	if err != nil {
		return Request{}, err
	}
	out := Request{ID: r.ID, ClientID: c.cfg.ID, ClientName: c.cfg.Name, AccountTypes: slices.Clone(c.types), LoginHint: r.LoginHint,
		UILocales: r.UILocales, Prompt: r.Prompt, RedirectURI: r.RedirectURI}
	if r.MaxAge >= 0 {
		d := time.Duration(r.MaxAge) * time.Second
		out.MaxAge = &d
	}
	return out, nil
}

func (p *Provider) pending(ctx context.Context, id string) (store.OIDCAuthRequest, *client, error) {
	if !requestID(id) {
		return store.OIDCAuthRequest{}, nil, ErrUnknownRequest
	}
	r, err := p.st.GetOIDCAuthRequest(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return r, nil, ErrUnknownRequest
	}
	if err != nil {
		return r, nil, err
	}
	c := p.clients[r.ClientID]
	if c == nil || r.AccountID != 0 || !p.now().Before(r.Expires) {
		return r, nil, ErrUnknownRequest
	}
	return r, c, nil
}

// Complete records that the account authenticated (at authTime, with amr,
// in the Sesame session whose store.Session.IDHash is sessionHash) and
// returns the URL the browser must go to next (op's callback, which issues
// the code). ErrAccountType if the client does not accept the account's
// type; ErrLoginRequired if the authentication is older than the request
// allows; ErrUnknownRequest if the request is unknown, expired or already
// completed. Completing is atomic: of two concurrent calls one wins.
func (p *Provider) Complete(ctx context.Context, id string, accountID int64, sessionHash []byte, authTime time.Time, amr []string) (string, error) {
	r, c, err := p.pending(ctx, id)
	if err != nil {
		return "", err
	}
	a, err := p.st.GetAccount(ctx, accountID)
	if err != nil {
		return "", err
	}
	if !slices.Contains(c.types, a.Type) {
		return "", ErrAccountType
	}
	now := p.now()
	// One second of slack: authTime and the request's creation come from
	// two clocks' millisecond readings.
	if r.MaxAge >= 0 && authTime.Add(time.Duration(r.MaxAge)*time.Second+time.Second).Before(now) {
		return "", ErrLoginRequired
	}
	if slices.Contains(r.Prompt, "login") && authTime.Add(time.Second).Before(r.Created) {
		return "", ErrLoginRequired
	}
	if err := p.st.CompleteOIDCAuthRequest(ctx, id, accountID, sessionHash, authTime, amr, now); errors.Is(err, store.ErrNotFound) {
		return "", ErrUnknownRequest
	} else if err != nil {
		return "", err
	}
	return p.issuer + pathCallback + "?id=" + url.QueryEscape(id), nil
}

// Deny ends the request with an OAuth error code ("login_required",
// "access_denied", ...) and returns the redirect URL carrying it, with
// state and iss. ErrUnknownRequest as Request.
func (p *Provider) Deny(ctx context.Context, id, code, description string) (string, error) {
	r, _, err := p.pending(ctx, id)
	if err != nil {
		return "", err
	}
	if err := p.st.DeleteOIDCAuthRequest(ctx, id); err != nil {
		return "", err
	}
	u, err := url.Parse(r.RedirectURI)
	if err != nil {
		return "", err
	}
	q := u.Query()
	q.Set("error", code)
	if description != "" {
		q.Set("error_description", description)
	}
	if r.State != "" {
		q.Set("state", r.State)
	}
	q.Set("iss", p.issuer)
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// signer returns the signing key for a client's algorithm.
func (p *Provider) signer(ctx context.Context, alg jose.SignatureAlgorithm) (*signingKey, error) {
	return p.keys.signer(ctx, alg, p.now().UTC())
}
