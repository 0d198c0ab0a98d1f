package oidc

import (
	"context"
	"encoding/base64"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
	"golang.org/x/text/language"

	"sesame/internal/store"
)

// storage is op.Storage on our store.
type storage struct{ p *Provider }

var (
	_ op.Storage                        = (*storage)(nil)
	_ op.CanSetUserinfoFromRequest      = (*storage)(nil)
	_ op.CanTerminateSessionFromRequest = (*storage)(nil)
)

// authRequest is op.AuthRequest.
type authRequest struct {
	r        store.OIDCAuthRequest
	sub      string
	codeHash []byte // set when found by code
}

func (a *authRequest) GetID() string         { return a.r.ID }
func (a *authRequest) GetACR() string        { return ACR }
func (a *authRequest) GetAMR() []string      { return a.r.AMR }
func (a *authRequest) GetAudience() []string { return []string{a.r.ClientID} }
func (a *authRequest) GetAuthTime() time.Time {
	return a.r.AuthTime
}
func (a *authRequest) GetClientID() string { return a.r.ClientID }
func (a *authRequest) GetCodeChallenge() *oidc.CodeChallenge {
	if a.r.CodeChallenge == "" {
		return nil
	}
	return &oidc.CodeChallenge{Challenge: a.r.CodeChallenge, Method: oidc.CodeChallengeMethodS256}
}
func (a *authRequest) GetNonce() string                   { return a.r.Nonce }
func (a *authRequest) GetRedirectURI() string             { return a.r.RedirectURI }
func (a *authRequest) GetResponseType() oidc.ResponseType { return oidc.ResponseTypeCode }

// GetResponseMode is always query: it is where iss (RFC 9207) is added.
func (a *authRequest) GetResponseMode() oidc.ResponseMode { return oidc.ResponseModeQuery }
func (a *authRequest) GetScopes() []string                { return a.r.Scopes }
func (a *authRequest) GetState() string                   { return a.r.State }
func (a *authRequest) GetSubject() string                 { return a.sub }
func (a *authRequest) Done() bool                         { return a.r.AccountID != 0 }

// touchEvery bounds how often a refresh records activity on its session.
const touchEvery = time.Minute

// refreshRequest is op.RefreshTokenRequest.
type refreshRequest struct {
	info   store.OIDCTokenInfo
	sub    string
	scopes []string
}

func (r *refreshRequest) GetAMR() []string            { return r.info.Grant.AMR }
func (r *refreshRequest) GetAudience() []string       { return []string{r.info.Grant.ClientID} }
func (r *refreshRequest) GetAuthTime() time.Time      { return r.info.Grant.AuthTime }
func (r *refreshRequest) GetClientID() string         { return r.info.Grant.ClientID }
func (r *refreshRequest) GetScopes() []string         { return r.scopes }
func (r *refreshRequest) GetSubject() string          { return r.sub }
func (r *refreshRequest) SetCurrentScopes(s []string) { r.scopes = s }

// reqState carries, through one HTTP request, the client being served, so
// SigningKey (which op calls without it) signs with the client's algorithm;
// whether the store was unavailable, which op cannot tell from a refusal;
// and the request's network and whether it went over its budget (see
// replacingWriter).
type reqState struct {
	clientID  string
	outage    bool
	address   string        // the network the request comes from (Options.AddressKey)
	throttled time.Duration // over AuthorizeLimit: the window to wait
}

type stateKey struct{}

func (s *storage) noteClient(ctx context.Context, id string) {
	if st, ok := ctx.Value(stateKey{}).(*reqState); ok && st.clientID == "" {
		st.clientID = id
	}
}

// seen returns err, noting on the request when it is an outage of the store.
func (s *storage) seen(ctx context.Context, err error) error {
	if errors.Is(err, store.ErrUnavailable) {
		if st, ok := ctx.Value(stateKey{}).(*reqState); ok {
			st.outage = true
		}
	}
	return err
}

func invalidGrant(desc string) error { return oidc.ErrInvalidGrant().WithDescription("%s", desc) }

// CreateAuthRequest validates what op leaves to us and stores the request.
func (s *storage) CreateAuthRequest(ctx context.Context, req *oidc.AuthRequest, _ string) (op.AuthRequest, error) {
	p := s.p
	c := p.clients[req.ClientID]
	if c == nil {
		return nil, oidc.ErrInvalidRequestRedirectURI().WithDescription("unknown client")
	}
	if !slices.Contains(req.Scopes, oidc.ScopeOpenID) {
		return nil, oidc.ErrInvalidScope().WithDescription("the openid scope is required")
	}
	switch {
	case req.CodeChallenge == "" && req.CodeChallengeMethod != "":
		return nil, oidc.ErrInvalidRequest().WithDescription("code_challenge missing")
	case req.CodeChallenge != "" && req.CodeChallengeMethod != oidc.CodeChallengeMethodS256:
		return nil, oidc.ErrInvalidRequest().WithDescription("only the S256 code_challenge_method is supported")
	case req.CodeChallenge == "" && c.cfg.Public:
		return nil, oidc.ErrInvalidRequest().WithDescription("PKCE (S256) is required for public clients")
	case len(req.CodeChallenge) > 0 && (len(req.CodeChallenge) < 43 || len(req.CodeChallenge) > 128):
		return nil, oidc.ErrInvalidRequest().WithDescription("code_challenge has the wrong length")
	}
	var prompt []string
	for _, v := range req.Prompt {
		if (v == oidc.PromptNone || v == oidc.PromptLogin) && !slices.Contains(prompt, v) {
			prompt = append(prompt, v)
		}
	}
	maxAge := int64(-1)
	if req.MaxAge != nil {
		maxAge = int64(min(*req.MaxAge, uint(1<<31)))
	}
	var locales []string
	for _, t := range req.UILocales {
		locales = append(locales, t.String())
	}
	if len(req.State) > 1024 || len(req.Nonce) > 1024 || len(req.LoginHint) > 1024 || len(strings.Join(req.ACRValues, " ")) > 1024 {
		return nil, oidc.ErrInvalidRequest().WithDescription("state, nonce, login_hint or acr_values too long")
	}
	if !vschars(req.State) || !vschars(req.CodeChallenge) || !printable(req.Nonce) || !printable(req.LoginHint) || !printable(strings.Join(req.ACRValues, " ")) {
		// Stored as text, which PostgreSQL refuses when it is not UTF-8 or
		// holds a NUL, and login_hint is shown in the login page's form.
		return nil, oidc.ErrInvalidRequest().WithDescription("state, code_challenge, nonce, login_hint or acr_values holds characters not allowed")
	}
	if len(locales) > maxLocales {
		locales = locales[:maxLocales]
	}
	now := p.now().UTC()
	if st, ok := ctx.Value(stateKey{}).(*reqState); ok {
		// Reserved before the row is written, in one atomic statement:
		// simultaneous requests cannot go past the limit.
		ok, err := p.st.ReserveAddressAttempt(ctx, "authorize/addr/"+st.address, now, p.authzLimit.Window, p.authzLimit.Requests)
		if err != nil {
			return nil, s.seen(ctx, err)
		}
		if !ok {
			st.throttled = p.authzLimit.Window
			// Not server_error: op logs that at ERROR, and anyone can cause this.
			return nil, &oidc.Error{ErrorType: "temporarily_unavailable", Description: "too many authorization requests from this network"}
		}
	}
	r := store.OIDCAuthRequest{
		ID: randomToken(requestIDBytes), ClientID: c.cfg.ID, RedirectURI: req.RedirectURI, Scopes: c.allowedScopes(req.Scopes),
		State: req.State, Nonce: req.Nonce, CodeChallenge: req.CodeChallenge, Prompt: prompt, MaxAge: maxAge,
		LoginHint: req.LoginHint, UILocales: locales, ACRValues: req.ACRValues, Created: now, Expires: now.Add(requestLifetime),
	}
	if err := p.st.CreateOIDCAuthRequest(ctx, r); err != nil {
		return nil, s.seen(ctx, err)
	}
	return &authRequest{r: r}, nil
}

// AuthRequestByID serves op's callback: the request must be completed and
// not yet have a code.
func (s *storage) AuthRequestByID(ctx context.Context, id string) (op.AuthRequest, error) {
	// Typed errors: op logs a plain one as its own failure (server_error,
	// at ERROR), and anyone can send a browser here with any id.
	if !requestID(id) {
		return nil, oidc.ErrInvalidRequest().WithDescription("unknown authorization request")
	}
	r, err := s.p.st.GetOIDCAuthRequest(ctx, id)
	if err != nil {
		return nil, oidc.ErrInvalidRequest().WithDescription("unknown authorization request").WithParent(s.seen(ctx, err))
	}
	if r.CodeHash != nil || !s.p.now().Before(r.Expires) {
		return nil, oidc.ErrInvalidRequest().WithDescription("authorization request expired or already used")
	}
	return &authRequest{r: r, sub: s.p.Subject(r.AccountID)}, nil
}

// AuthRequestByCode finds a code's request. A code presented again after
// it was redeemed revokes what it gave (RFC 6749 §4.1.2).
func (s *storage) AuthRequestByCode(ctx context.Context, code string) (op.AuthRequest, error) {
	h := hashToken(code)
	r, err := s.p.st.GetOIDCAuthRequestByCode(ctx, h)
	if errors.Is(err, store.ErrNotFound) {
		return nil, invalidGrant("invalid code")
	} else if err != nil {
		return nil, s.seen(ctx, err)
	}
	now := s.p.now()
	if !r.Redeemed.IsZero() {
		if r.GrantID != 0 {
			if err := s.p.st.RevokeOIDCGrant(ctx, r.GrantID, now); err != nil {
				return nil, s.seen(ctx, err)
			}
			s.p.log.WarnContext(ctx, "oidc: authorization code reused; its tokens are revoked", "client", r.ClientID, "grant", r.GrantID)
		}
		return nil, invalidGrant("code already used")
	}
	if !now.Before(r.CodeExpires) {
		return nil, invalidGrant("code expired")
	}
	s.noteClient(ctx, r.ClientID)
	return &authRequest{r: r, sub: s.p.Subject(r.AccountID), codeHash: h}, nil
}

// SaveAuthCode stores the code's hash, once per request.
func (s *storage) SaveAuthCode(ctx context.Context, id, code string) error {
	return s.seen(ctx, s.p.st.SetOIDCAuthCode(ctx, id, hashToken(code), s.p.now().Add(codeLifetime)))
}

// DeleteAuthRequest is called by op after the code exchange: the request
// stays (redeemed) so that a reuse of its code is recognised, until the
// sweep removes it.
func (s *storage) DeleteAuthRequest(context.Context, string) error { return nil }

// liveSession returns the Sesame session if it exists and is within its
// idle and absolute lifetimes.
func (s *storage) liveSession(ctx context.Context, hash []byte) (store.Session, error) {
	sess, err := s.p.st.GetSession(ctx, hash)
	if errors.Is(err, store.ErrNotFound) {
		return sess, invalidGrant("the login session has ended")
	} else if err != nil {
		return sess, s.seen(ctx, err)
	}
	now := s.p.now()
	if !now.Before(sess.Created.Add(s.p.abs)) || (s.p.idle > 0 && !now.Before(sess.LastSeen.Add(s.p.idle))) {
		return sess, invalidGrant("the login session has ended")
	}
	return sess, nil
}

// newTokens makes an access token and, if refresh, a refresh token.
func (s *storage) newTokens(c *client, sessCreated time.Time, refresh bool) (access, rt string, toks []store.OIDCToken, accessExp time.Time) {
	now := s.p.now().UTC()
	end := sessCreated.Add(s.p.abs)
	access = randomToken(32)
	accessExp = minTime(now.Add(c.accessLife), end)
	toks = append(toks, store.OIDCToken{Hash: hashToken(access), Kind: store.AccessToken, Created: now, Expires: accessExp})
	if refresh {
		rt = randomToken(32)
		exp := end
		if c.refresh > 0 {
			exp = minTime(now.Add(c.refresh), end)
		}
		toks = append(toks, store.OIDCToken{Hash: hashToken(rt), Kind: store.RefreshToken, Created: now, Expires: exp})
	}
	return access, rt, toks, accessExp
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func (s *storage) CreateAccessToken(ctx context.Context, req op.TokenRequest) (string, time.Time, error) {
	id, _, exp, err := s.issue(ctx, req, "", false)
	return id, exp, err
}

func (s *storage) CreateAccessAndRefreshTokens(ctx context.Context, req op.TokenRequest, current string) (string, string, time.Time, error) {
	return s.issue(ctx, req, current, true)
}

// issue redeems a code or rotates a refresh token, atomically, and returns
// the new tokens. The access token's "id" for op is the token itself (see
// tokenCrypto).
func (s *storage) issue(ctx context.Context, req op.TokenRequest, current string, refresh bool) (string, string, time.Time, error) {
	p := s.p
	now := p.now().UTC()
	switch r := req.(type) {
	case *authRequest:
		c := p.clients[r.r.ClientID]
		sess, err := s.liveSession(ctx, r.r.SessionHash)
		if err != nil {
			return "", "", time.Time{}, err
		}
		access, rt, toks, exp := s.newTokens(c, sess.Created, refresh)
		g := store.OIDCGrant{ClientID: r.r.ClientID, AccountID: r.r.AccountID, SessionHash: r.r.SessionHash, SID: SID(r.r.SessionHash),
			Scopes: r.r.Scopes, AuthTime: r.r.AuthTime, AMR: r.r.AMR, Created: now, Expires: sess.Created.Add(p.abs)}
		if err := p.st.RedeemOIDCAuthCode(ctx, r.codeHash, now, &g, toks); errors.Is(err, store.ErrNotFound) {
			// Another redemption won the race: this is a reuse.
			if rr, err := p.st.GetOIDCAuthRequestByCode(ctx, r.codeHash); err == nil && rr.GrantID != 0 {
				_ = p.st.RevokeOIDCGrant(ctx, rr.GrantID, now)
			}
			return "", "", time.Time{}, invalidGrant("code already used")
		} else if err != nil {
			return "", "", time.Time{}, s.seen(ctx, err)
		}
		return access, rt, exp, nil
	case *refreshRequest:
		c := p.clients[r.info.Grant.ClientID]
		sess, err := s.liveSession(ctx, r.info.Grant.SessionHash)
		if err != nil {
			return "", "", time.Time{}, err
		}
		access, rt, toks, exp := s.newTokens(c, sess.Created, true)
		if err := p.st.RotateOIDCRefreshToken(ctx, hashToken(current), now, toks); errors.Is(err, store.ErrNotFound) {
			_ = p.st.RevokeOIDCGrant(ctx, r.info.Grant.ID, now)
			return "", "", time.Time{}, invalidGrant("refresh token already used")
		} else if err != nil {
			return "", "", time.Time{}, s.seen(ctx, err)
		}
		// Refreshing is activity on the Sesame session — recorded at most
		// once a minute, like the pages' (the idle timeout is counted in
		// tens of minutes), so a refresh costs one write transaction, not two.
		// The rotation is done: failing now would lose the new tokens, and
		// the application's retry with the old one would revoke the family.
		if now.Sub(sess.LastSeen) >= touchEvery {
			if err := p.st.TouchSession(ctx, sess.IDHash, now, time.Time{}); err != nil && !errors.Is(err, store.ErrNotFound) {
				p.log.WarnContext(ctx, "oidc: refresh not recorded as activity on the session", "err", err)
			}
		}
		return access, rt, exp, nil
	}
	return "", "", time.Time{}, oidc.ErrUnsupportedGrantType()
}

// TokenRequestByRefreshToken checks a refresh token; a reused one revokes
// its whole family.
func (s *storage) TokenRequestByRefreshToken(ctx context.Context, token string) (op.RefreshTokenRequest, error) {
	p := s.p
	info, err := p.st.LookupOIDCToken(ctx, hashToken(token))
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, s.seen(ctx, err)
	}
	if err != nil || info.Token.Kind != store.RefreshToken {
		return nil, invalidGrant("invalid refresh token")
	}
	now := p.now()
	if !info.Token.Used.IsZero() {
		if err := p.st.RevokeOIDCGrant(ctx, info.Grant.ID, now); err != nil {
			return nil, s.seen(ctx, err)
		}
		p.log.WarnContext(ctx, "oidc: refresh token reused; its family is revoked", "client", info.Grant.ClientID, "grant", info.Grant.ID)
		return nil, invalidGrant("invalid refresh token")
	}
	if !info.Token.Revoked.IsZero() || !info.Grant.Revoked.IsZero() || !now.Before(info.Token.Expires) || !info.SessionExists {
		return nil, invalidGrant("invalid refresh token")
	}
	s.noteClient(ctx, info.Grant.ClientID)
	return &refreshRequest{info: info, sub: p.Subject(info.Grant.AccountID), scopes: info.Grant.Scopes}, nil
}

// TerminateSession is replaced by TerminateSessionFromRequest.
func (s *storage) TerminateSession(context.Context, string, string) error { return nil }

// TerminateSessionFromRequest ends the Sesame session named by the
// id_token_hint's sid (RP-initiated logout); its clients are then told by
// the back-channel worker. Without a valid hint no session is ended: the
// provider cannot tell whose browser it is.
func (s *storage) TerminateSessionFromRequest(ctx context.Context, req *op.EndSessionRequest) (string, error) {
	if req.IDTokenHintClaims != nil && req.IDTokenHintClaims.SessionID != "" {
		hash, err := s.p.st.FindOIDCSession(ctx, req.IDTokenHintClaims.SessionID)
		if err == nil {
			if err := s.p.st.DeleteSession(ctx, hash); err != nil {
				return "", s.seen(ctx, err)
			}
		} else if !errors.Is(err, store.ErrNotFound) {
			return "", s.seen(ctx, err)
		}
	}
	return req.RedirectURI, nil
}

// RevokeToken revokes an access token, or a refresh token and its family
// (RFC 7009 §2.1). Unknown tokens are not an error.
func (s *storage) RevokeToken(ctx context.Context, token, _, clientID string) *oidc.Error {
	info, err := s.p.st.LookupOIDCToken(ctx, hashToken(token))
	if errors.Is(err, store.ErrNotFound) {
		return nil
	} else if err != nil {
		s.seen(ctx, err)
		return oidc.ErrServerError()
	}
	if info.Grant.ClientID != clientID {
		return oidc.ErrInvalidClient().WithDescription("token was not issued to this client")
	}
	now := s.p.now()
	if info.Token.Kind == store.RefreshToken {
		err = s.p.st.RevokeOIDCGrant(ctx, info.Grant.ID, now)
	} else {
		err = s.p.st.RevokeOIDCToken(ctx, info.Token.Hash, now)
	}
	if err != nil {
		s.seen(ctx, err)
		return oidc.ErrServerError()
	}
	return nil
}

// GetRefreshTokenInfo tells op whether token is one of our refresh tokens;
// its "id" is the token itself, passed back to RevokeToken.
func (s *storage) GetRefreshTokenInfo(ctx context.Context, clientID, token string) (string, string, error) {
	info, err := s.p.st.LookupOIDCToken(ctx, hashToken(token))
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return "", "", s.seen(ctx, err)
	}
	if err != nil || info.Token.Kind != store.RefreshToken {
		return "", "", op.ErrInvalidRefreshToken
	}
	return s.p.Subject(info.Grant.AccountID), token, nil
}

func (s *storage) SigningKey(ctx context.Context) (op.SigningKey, error) {
	alg := jose.RS256
	if st, ok := ctx.Value(stateKey{}).(*reqState); ok {
		if c := s.p.clients[st.clientID]; c != nil {
			alg = c.alg
		}
	}
	return s.p.signer(ctx, alg)
}

func (s *storage) SignatureAlgorithms(context.Context) ([]jose.SignatureAlgorithm, error) {
	return algorithms, nil
}

func (s *storage) KeySet(ctx context.Context) ([]op.Key, error) {
	keys, err := s.p.keys.published(ctx, s.p.now().UTC())
	if err != nil {
		return nil, err
	}
	out := make([]op.Key, len(keys))
	for i, k := range keys {
		out[i] = publicKey{k}
	}
	return out, nil
}

func (s *storage) GetClientByClientID(ctx context.Context, id string) (op.Client, error) {
	c := s.p.clients[id]
	if c == nil {
		return nil, oidc.ErrInvalidClient().WithDescription("unknown client")
	}
	s.noteClient(ctx, id)
	return c, nil
}

func (s *storage) AuthorizeClientIDSecret(ctx context.Context, id, secret string) error {
	c := s.p.clients[id]
	if !c.checkSecret(secret) {
		return oidc.ErrInvalidClient().WithDescription("client authentication failed")
	}
	return nil
}

// SetUserinfoFromScopes is deprecated in op; SetUserinfoFromRequest does the work.
func (s *storage) SetUserinfoFromScopes(context.Context, *oidc.UserInfo, string, string, []string) error {
	return nil
}

// SetUserinfoFromRequest fills the ID token's claims.
func (s *storage) SetUserinfoFromRequest(ctx context.Context, ui *oidc.UserInfo, req op.IDTokenRequest, scopes []string) error {
	var accountID int64
	var sid string
	switch r := req.(type) {
	case *authRequest:
		accountID, sid = r.r.AccountID, SID(r.r.SessionHash)
	case *refreshRequest:
		accountID, sid = r.info.Grant.AccountID, r.info.Grant.SID
	default:
		return errors.New("oidc: unexpected request type")
	}
	c, err := s.p.st.GetOIDCClaims(ctx, accountID)
	if err != nil {
		return err
	}
	s.p.claims(c, scopes).setUserInfo(ui)
	ui.AppendClaims("sid", sid)
	return nil
}

// claims are what an account's claims say under scopes: userinfo answers
// them as they are (a plain struct: op's UserInfo encodes through custom
// marshalers and a claims merge), and an ID token carries them through
// setUserInfo, so the two cannot differ.
type claims struct {
	Sub           string `json:"sub"`
	Email         string `json:"email,omitempty"`
	EmailVerified bool   `json:"email_verified,omitempty"`
	Name          string `json:"name,omitempty"`
	Locale        string `json:"locale,omitempty"`
	AccountType   string `json:"account_type,omitempty"`
	Office        string `json:"office,omitempty"`
	OfficeID      string `json:"office_id,omitempty"`
}

// claims gives the claims of scopes from the account's c.
func (p *Provider) claims(c store.OIDCClaims, scopes []string) claims {
	cl := claims{Sub: p.Subject(c.AccountID)}
	if slices.Contains(scopes, oidc.ScopeEmail) {
		cl.Email = c.Identifier
		// The identifier is the address the insurer or an office
		// administrator registered and where reset links are sent.
		cl.EmailVerified = true
	}
	if slices.Contains(scopes, oidc.ScopeProfile) {
		cl.Name = c.Name
		cl.Locale = c.Lang.Tag().String()
	}
	if slices.Contains(scopes, "sesame") {
		cl.AccountType = string(c.Type)
		if c.OfficeID != 0 {
			cl.Office = c.OfficeName
			cl.OfficeID = strconv.FormatInt(c.OfficeID, 10)
		}
	}
	return cl
}

// setUserInfo puts cl in op's UserInfo, for an ID token.
func (cl claims) setUserInfo(ui *oidc.UserInfo) {
	ui.Subject, ui.Email, ui.EmailVerified, ui.Name = cl.Sub, cl.Email, oidc.Bool(cl.EmailVerified), cl.Name
	if cl.Locale != "" {
		ui.Locale = oidc.NewLocale(language.Make(cl.Locale))
	}
	for k, v := range map[string]string{"account_type": cl.AccountType, "office": cl.Office, "office_id": cl.OfficeID} {
		if v != "" {
			ui.AppendClaims(k, v)
		}
	}
}

// SetUserinfoFromToken and SetIntrospectionFromToken complete op's
// Storage for its userinfo and introspection handlers, which wrap never
// reaches: the provider serves both endpoints itself (resource.go).
func (s *storage) SetUserinfoFromToken(context.Context, *oidc.UserInfo, string, string, string) error {
	return errUnreached
}

func (s *storage) SetIntrospectionFromToken(context.Context, *oidc.IntrospectionResponse, string, string, string) error {
	return errUnreached
}

var errUnreached = errors.New("oidc: userinfo and introspection are served by resource.go")

func (s *storage) GetPrivateClaimsFromScopes(context.Context, string, string, []string) (map[string]any, error) {
	return nil, nil
}

func (s *storage) GetKeyByIDAndClientID(context.Context, string, string) (*jose.JSONWebKey, error) {
	return nil, errors.New("oidc: JWT client authentication is not supported")
}

func (s *storage) ValidateJWTProfileScopes(context.Context, string, []string) ([]string, error) {
	return nil, errors.New("oidc: the JWT profile grant is not supported")
}

func (s *storage) Health(ctx context.Context) error { return s.p.st.Ping(ctx) }

// tokenCrypto replaces op's encryption of codes and access tokens with
// random values: op "encrypts" a request id into a code and "tokenID:sub"
// into an access token. Our codes are fresh random values (their hash is
// stored by SaveAuthCode) and our token ids are already the random tokens,
// so "decrypting" an access token gives back "token:" and the storage looks
// the token up by hash. Nothing is encrypted and nothing about a token can
// be read from it.
type tokenCrypto struct{}

func (tokenCrypto) Encrypt(s string) (string, error) {
	if id, _, ok := strings.Cut(s, ":"); ok {
		return id, nil
	}
	return randomToken(32), nil
}

// Decrypt never fails, so op never falls back to verifying the bearer token
// as a JWT (an ID token must not pass for an access token); a value with a
// colon splits into three parts, which op refuses.
func (tokenCrypto) Decrypt(s string) (string, error) { return s + ":", nil }

// requestIDBytes is the randomness of an authorization request's id.
const requestIDBytes = 24

// requestID reports whether id may name an authorization request: what
// randomToken(requestIDBytes) makes. Anything else, from an address or a
// form, is not looked up (PostgreSQL refuses text that is not UTF-8).
func requestID(id string) bool {
	if len(id) != base64.RawURLEncoding.EncodedLen(requestIDBytes) {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// maxLocales is how many of ui_locales are kept: the first ones are the
// person's preference, and the portal speaks three languages.
const maxLocales = 8

// vschars reports whether s is RFC 6749's VSCHARs (printable ASCII,
// %x20-7E): the grammar of state (Appendix A.5), and a superset of a PKCE
// code challenge's (RFC 7636 §4.2).
func vschars(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// printable reports whether s is UTF-8 without control characters.
func printable(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return false
		}
	}
	return true
}
