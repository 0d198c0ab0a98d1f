package store

import (
	"context"
	"time"

	"sesame/internal/account"
	"sesame/internal/i18n"
)

// The OpenID Connect provider's state (package oidc). Codes and tokens are
// random 256-bit values given to clients; only their SHA-256 is stored, so
// a copy of the database redeems nothing. Every single-use step (redeeming a
// code, rotating a refresh token, claiming a back-channel logout) is one
// conditional statement, so several instances on one database act as one.

// SigningKey is one of the provider's JWT signing keys.
type SigningKey struct {
	ID         string // the JWK "kid"
	Alg        string // "RS256" or "ES256"
	Generation int    // 1 for the first key of Alg, then one more per rotation
	Private    []byte // PKCS #8, sealed with the keyring (additional data: ID)
	Created    time.Time
	Activates  time.Time // signs from then on; published in JWKS from Created
}

// OIDCAuthRequest is a pending (then completed, then redeemed) authorization
// request of the authorization code flow.
type OIDCAuthRequest struct {
	ID            string // random, in the login page's URL
	ClientID      string
	RedirectURI   string
	Scopes        []string
	State         string
	Nonce         string
	CodeChallenge string // S256 challenge; empty when the client sent none
	Prompt        []string
	MaxAge        int64 // seconds; -1 when absent
	LoginHint     string
	UILocales     []string
	ACRValues     []string
	Created       time.Time
	Expires       time.Time // the login must complete before then

	// Set by CompleteOIDCAuthRequest.
	AccountID   int64
	SessionHash []byte // store.Session.IDHash of the Sesame session
	AuthTime    time.Time
	AMR         []string

	// Set by SetOIDCAuthCode and RedeemOIDCAuthCode.
	CodeHash    []byte
	CodeExpires time.Time
	Redeemed    time.Time // zero until the code is exchanged
	GrantID     int64     // the grant the code was exchanged for
}

// OIDCGrant is what one code exchange gave a client: the family of its
// access and refresh tokens. Revoking it kills every one of them.
type OIDCGrant struct {
	ID          int64
	ClientID    string
	AccountID   int64
	SessionHash []byte // the Sesame session it came from
	SID         string // that session's "sid" claim
	Scopes      []string
	AuthTime    time.Time
	AMR         []string
	Created     time.Time
	Expires     time.Time // the Sesame session's absolute end: no token outlives it
	Revoked     time.Time // zero while valid
	LoggedOut   time.Time // back-channel logout done (or not needed); zero before
}

// Token kinds.
const (
	AccessToken  = "access"
	RefreshToken = "refresh"
)

// OIDCToken is an access or refresh token of a grant.
type OIDCToken struct {
	Hash    []byte // SHA-256 of the token
	GrantID int64
	Kind    string // AccessToken or RefreshToken
	Created time.Time
	Expires time.Time
	Used    time.Time // a refresh token: when it was rotated; zero before
	Revoked time.Time
}

// OIDCTokenInfo is a token with its grant and whether the grant's Sesame
// session still exists (one query).
type OIDCTokenInfo struct {
	Token         OIDCToken
	Grant         OIDCGrant
	SessionExists bool
}

// OIDCAccess is what an access token that may be used grants: all that
// userinfo and introspection answer from.
type OIDCAccess struct {
	ClientID  string
	AccountID int64
	Scopes    []string
	AMR       []string
	AuthTime  time.Time
	Issued    time.Time // the token's creation
	Expires   time.Time // the token's expiry
}

// OIDCClaims are what the provider's claims about an account come from:
// the account's own values and its office's name ("" without one). Nothing
// else of the account (its hashes, its question) is read for them.
type OIDCClaims struct {
	AccountID  int64
	Type       account.Type
	Identifier string
	Name       string
	Lang       i18n.Lang
	OfficeID   int64
	OfficeName string
}

// OIDC is the OpenID Connect provider's storage.
type OIDC interface {
	// AddSigningKey inserts k unless a key of the same Alg and Generation
	// exists, reporting whether it inserted; so of two instances starting
	// on an empty table (or rotating at once) one key results.
	AddSigningKey(ctx context.Context, k SigningKey) (bool, error)
	// ListSigningKeys returns every key, by algorithm then generation.
	ListSigningKeys(ctx context.Context) ([]SigningKey, error)
	// DeleteSigningKey removes a key; no error if it was gone.
	DeleteSigningKey(ctx context.Context, id string) error

	// AddOIDCSecret stores value (sealed) under name unless one is there;
	// GetOIDCSecret returns it, or ErrNotFound.
	AddOIDCSecret(ctx context.Context, name string, value []byte) error
	GetOIDCSecret(ctx context.Context, name string) ([]byte, error)

	// CreateOIDCAuthRequest inserts r; ErrAlreadyExists on an id clash.
	CreateOIDCAuthRequest(ctx context.Context, r OIDCAuthRequest) error
	// GetOIDCAuthRequest returns the request, or ErrNotFound.
	GetOIDCAuthRequest(ctx context.Context, id string) (OIDCAuthRequest, error)
	// CompleteOIDCAuthRequest records the authentication, atomically and
	// once: ErrNotFound if the request is absent, expired at now or
	// already completed.
	CompleteOIDCAuthRequest(ctx context.Context, id string, accountID int64, sessionHash []byte, authTime time.Time, amr []string, now time.Time) error
	// DeleteOIDCAuthRequest removes the request; no error if it was gone.
	DeleteOIDCAuthRequest(ctx context.Context, id string) error
	// SetOIDCAuthCode gives a completed request its code, once:
	// ErrNotFound if the request is absent, not completed or has a code.
	SetOIDCAuthCode(ctx context.Context, id string, codeHash []byte, expires time.Time) error
	// GetOIDCAuthRequestByCode returns the request holding that code
	// (redeemed or not, expired or not), or ErrNotFound.
	GetOIDCAuthRequestByCode(ctx context.Context, codeHash []byte) (OIDCAuthRequest, error)
	// RedeemOIDCAuthCode exchanges the code, atomically: it marks the code
	// redeemed, creates g (setting g.ID) and inserts tokens (their GrantID
	// set to g.ID). ErrNotFound if the code is unknown, expired at now or
	// already redeemed — so of concurrent redemptions exactly one succeeds.
	RedeemOIDCAuthCode(ctx context.Context, codeHash []byte, now time.Time, g *OIDCGrant, tokens []OIDCToken) error

	// LookupOIDCToken returns the token, its grant and whether the grant's
	// session still exists; ErrNotFound if the token is unknown.
	LookupOIDCToken(ctx context.Context, hash []byte) (OIDCTokenInfo, error)
	// ActiveOIDCAccessToken returns what the access token grants if it may
	// be used at now: an access token, not revoked, its grant not revoked,
	// now before its expiry, its grant's Sesame session existing and, if
	// idle > 0, seen within idle before now (not idle-expired, even if not
	// swept yet). Otherwise, or if it is unknown, ErrNotFound. The decision
	// is the one query's.
	ActiveOIDCAccessToken(ctx context.Context, hash []byte, now time.Time, idle time.Duration) (OIDCAccess, error)
	// ActiveOIDCAccessClaims is ActiveOIDCAccessToken with the claims of the
	// grant's account, in the same query: what userinfo answers from.
	ActiveOIDCAccessClaims(ctx context.Context, hash []byte, now time.Time, idle time.Duration) (OIDCAccess, OIDCClaims, error)
	// GetOIDCClaims returns the claims of an account, in one query;
	// ErrNotFound if there is no such account.
	GetOIDCClaims(ctx context.Context, accountID int64) (OIDCClaims, error)
	// RotateOIDCRefreshToken marks the refresh token used and inserts
	// tokens in its grant, atomically and once: ErrNotFound if it is
	// unknown, already used or revoked — so of concurrent uses one wins.
	RotateOIDCRefreshToken(ctx context.Context, hash []byte, now time.Time, tokens []OIDCToken) error
	// RevokeOIDCToken revokes one token; RevokeOIDCGrant the whole grant
	// (every token of it). Neither fails if already revoked; ErrNotFound if
	// absent.
	RevokeOIDCToken(ctx context.Context, hash []byte, now time.Time) error
	RevokeOIDCGrant(ctx context.Context, grantID int64, now time.Time) error
	// FindOIDCSession returns the Sesame session hash of grants carrying
	// sid, or ErrNotFound.
	FindOIDCSession(ctx context.Context, sid string) ([]byte, error)

	// ClaimOIDCLogouts claims up to n grants whose Sesame session no longer
	// exists and that are not logged out yet nor leased at now: it revokes
	// them and leases them until now+lease. Rows claimed by another
	// instance are skipped.
	ClaimOIDCLogouts(ctx context.Context, now time.Time, lease time.Duration, n int) ([]OIDCGrant, error)
	// RetryOIDCLogout leases the grant until at (the next attempt);
	// FinishOIDCLogout marks its logout done at now.
	RetryOIDCLogout(ctx context.Context, grantID int64, at time.Time) error
	FinishOIDCLogout(ctx context.Context, grantID int64, now time.Time) error

	// DeleteOIDCBefore removes authorization requests and tokens that
	// expired before t, and grants that expired before t and are logged
	// out; it returns how many rows.
	DeleteOIDCBefore(ctx context.Context, t time.Time) (int, error)
}
