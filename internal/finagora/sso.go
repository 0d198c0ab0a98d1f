package finagora

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// Finagora logs people in through the Sesame portal the way any third-party
// application would, with the protocol only: OpenID Connect discovery, the
// authorization code flow with PKCE (S256) and a nonce, RP-initiated logout
// and back-channel logout. Nothing here knows the portal's internals.

// Paths the portal must know: CallbackPath is the redirect URI's path, and
// BackchannelLogoutPath the back-channel logout URI's.
const (
	CallbackPath          = "/callback"
	BackchannelLogoutPath = "/backchannel-logout"
)

// scopes asks for the ID token's profile claims and Sesame's own
// (account_type, office).
var scopes = []string{oidc.ScopeOpenID, "email", "profile", "sesame"}

// providerTimeout bounds one discovery; the token request has its own.
const providerTimeout = 10 * time.Second

// errUnreachable is a provider that cannot be discovered (yet).
var errUnreachable = errors.New("finagora: the login service is unreachable")

// relyingParty is Finagora as a client of the portal. Discovery is lazy and
// retried: the portal may start after Finagora (in the demo both start in
// the same process), so New never waits for it, and every log-in that finds
// it undiscovered tries again.
type relyingParty struct {
	issuer                 string
	clientID, clientSecret string
	redirectURL            string
	postLogoutURL          string
	client                 *http.Client
	now                    func() time.Time

	mu       sync.Mutex
	found    *provider
	inflight chan struct{} // closed when the discovery under way ends
	err      error         // the last discovery's error
}

// provider is what discovery found, ready to use.
type provider struct {
	oauth    oauth2.Config
	verifier *oidc.IDTokenVerifier
	// endSession is the RP-initiated logout endpoint; empty when the
	// provider has none (logout then ends Finagora's session only).
	endSession string
	// issParameter: the provider promises the iss parameter on every
	// authorization response (RFC 9207), so a response without it is refused.
	issParameter bool
}

// provider returns the discovered provider, discovering it first if need
// be. Requests that arrive during a discovery wait for it instead of
// starting their own; one that fails is retried by the next request.
// The error wraps errUnreachable.
func (rp *relyingParty) provider(ctx context.Context) (*provider, error) {
	rp.mu.Lock()
	if rp.found != nil {
		defer rp.mu.Unlock()
		return rp.found, nil
	}
	if rp.inflight == nil {
		done := make(chan struct{})
		rp.inflight = done
		// Not tied to this request: if it gives up, the others waiting
		// still get an answer.
		go rp.discover(done)
	}
	done := rp.inflight
	rp.mu.Unlock()

	select {
	case <-done:
	case <-ctx.Done():
		return nil, fmt.Errorf("%w: %v", errUnreachable, ctx.Err())
	}
	rp.mu.Lock()
	defer rp.mu.Unlock()
	if rp.found != nil {
		return rp.found, nil
	}
	return nil, rp.err
}

func (rp *relyingParty) discover(done chan struct{}) {
	ctx, cancel := context.WithTimeout(context.Background(), providerTimeout)
	defer cancel()
	p, err := rp.fetch(ctx)
	rp.mu.Lock()
	rp.found, rp.err, rp.inflight = p, err, nil
	rp.mu.Unlock()
	close(done)
}

func (rp *relyingParty) fetch(ctx context.Context) (*provider, error) {
	// The client given here also fetches the keys (JWKS) later on.
	op, err := oidc.NewProvider(oidc.ClientContext(ctx, rp.client), rp.issuer)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errUnreachable, err)
	}
	var meta struct {
		EndSession   string `json:"end_session_endpoint"`
		IssParameter bool   `json:"authorization_response_iss_parameter_supported"`
	}
	if err := op.Claims(&meta); err != nil {
		return nil, fmt.Errorf("%w: %v", errUnreachable, err)
	}
	endpoint := op.Endpoint()
	// The client secret goes in the token request's Basic authorization
	// only: never in a URL or a form that could be logged.
	endpoint.AuthStyle = oauth2.AuthStyleInHeader
	return &provider{
		oauth: oauth2.Config{
			ClientID: rp.clientID, ClientSecret: rp.clientSecret, Endpoint: endpoint,
			RedirectURL: rp.redirectURL, Scopes: scopes,
		},
		// One verifier serves ID tokens and logout tokens: both are signed
		// by the provider's keys for this client. The portal signs with RS256
		// or ES256; nothing else is accepted, whatever discovery says.
		verifier: op.Verifier(&oidc.Config{
			ClientID: rp.clientID, SupportedSigningAlgs: []string{oidc.RS256, oidc.ES256}, Now: rp.now,
		}),
		endSession:   meta.EndSession,
		issParameter: meta.IssParameter,
	}, nil
}

// withClient gives the oauth2 package our HTTP client for the token request.
func (rp *relyingParty) withClient(ctx context.Context) context.Context {
	return context.WithValue(ctx, oauth2.HTTPClient, rp.client)
}
