package oidc

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/zitadel/oidc/v3/pkg/oidc"

	"sesame/internal/store"
)

// The endpoints an application or a resource server calls with an access
// token, userinfo (OIDC Core §5.3) and introspection (RFC 7662), are
// served here rather than by op, whose versions do not answer as the RFCs
// say: op's userinfo refuses a revoked or expired token with 403 and an
// empty JSON object instead of RFC 6750 §3's 401 and WWW-Authenticate
// challenge, and its introspection authenticates the resource server by
// HTTP Basic only, though the discovery document offers client_secret_post
// too, answering a failure with a text body instead of RFC 6749 §5.2's
// JSON. Each is one query (the token, its grant, its session and, for
// userinfo, the account's claims) and a plain struct for the answer.
//
// A token is read from the Authorization header or a POST body, never from
// the address: a token in a URL ends up in logs and browser histories.

// serveUserinfo answers GET or POST /userinfo with a bearer token.
func (p *Provider) serveUserinfo(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, POST")
		writeOAuthError(w, http.StatusMethodNotAllowed, oidc.ErrInvalidRequest().WithDescription("userinfo takes a GET or a POST"))
		return
	}
	token, problem := bearerToken(r)
	if problem != "" {
		bearerError(w, http.StatusBadRequest, "invalid_request", problem)
		return
	}
	if token == "" {
		// RFC 6750 §3.1: no error code when no credentials were sent.
		w.Header().Set("WWW-Authenticate", "Bearer")
		writeOAuthError(w, http.StatusUnauthorized, oidc.ErrInvalidRequest().WithDescription("an access token is required"))
		return
	}
	access, c, err := p.st.ActiveOIDCAccessClaims(r.Context(), hashToken(token), p.now(), p.idle)
	switch {
	case errors.Is(err, store.ErrNotFound):
		bearerError(w, http.StatusUnauthorized, "invalid_token", "the access token is unknown, expired or revoked")
		return
	case err != nil:
		p.unavailable(w, r, "userinfo", err)
		return
	}
	writeJSON(w, http.StatusOK, p.claims(c, access.Scopes))
}

// bearerToken reads the access token of RFC 6750 §2.1 (the Authorization
// header) or §2.2 (a form-encoded POST body): "" when there is none,
// problem when the request is malformed.
func bearerToken(r *http.Request) (token, problem string) {
	if r.URL.RawQuery != "" {
		if _, ok := r.URL.Query()["access_token"]; ok {
			return "", "the access token goes in the Authorization header or a POST body, not the address"
		}
	}
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, tok, _ := strings.Cut(h, " ")
		if !strings.EqualFold(scheme, "Bearer") || tok == "" || strings.ContainsAny(tok, " \t") {
			return "", "the Authorization header is not a bearer token"
		}
		token = tok
	}
	if r.Method == http.MethodPost { // the body is read only when form-encoded
		if err := r.ParseForm(); err != nil {
			return "", "cannot parse the form"
		}
		if v, ok := r.PostForm["access_token"]; ok {
			if token != "" || len(v) != 1 {
				return "", "one access token, in one place"
			}
			token = v[0]
		}
	}
	return token, ""
}

// bearerError is RFC 6750 §3's error response: the challenge in
// WWW-Authenticate, and the same error as JSON in the body.
func bearerError(w http.ResponseWriter, status int, code, description string) {
	w.Header().Set("WWW-Authenticate", `Bearer error="`+code+`", error_description="`+description+`"`)
	writeJSON(w, status, map[string]string{"error": code, "error_description": description})
}

// serveIntrospect answers POST /oauth/introspect. A client sees only the
// tokens it was issued; any other token, unknown, expired, revoked, a
// refresh token, or one whose session ended is {"active":false}.
func (p *Provider) serveIntrospect(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeOAuthError(w, http.StatusMethodNotAllowed, oidc.ErrInvalidRequest().WithDescription("introspection takes a POST"))
		return
	}
	if err := r.ParseForm(); err != nil {
		writeOAuthError(w, http.StatusBadRequest, oidc.ErrInvalidRequest().WithDescription("cannot parse the form"))
		return
	}
	for _, k := range []string{"token", "client_id", "client_secret"} {
		if len(r.PostForm[k]) > 1 { // RFC 6749 §3.2: never twice
			writeOAuthError(w, http.StatusBadRequest, oidc.ErrInvalidRequest().WithDescription("%s is given twice", k))
			return
		}
	}
	clientID, basic, ok := p.authenticateClient(r)
	if !ok {
		if basic {
			w.Header().Set("WWW-Authenticate", `Basic realm="sesame"`)
		}
		writeOAuthError(w, http.StatusUnauthorized, oidc.ErrInvalidClient().WithDescription("client authentication failed"))
		return
	}
	token := r.PostForm.Get("token")
	if token == "" {
		writeOAuthError(w, http.StatusBadRequest, oidc.ErrInvalidRequest().WithDescription("token is required"))
		return
	}
	var resp introspectionResponse
	access, err := p.st.ActiveOIDCAccessToken(r.Context(), hashToken(token), p.now(), p.idle)
	switch {
	case err != nil && !errors.Is(err, store.ErrNotFound):
		p.unavailable(w, r, "introspection", err)
		return
	case err == nil && access.ClientID == clientID:
		p.introspection(&resp, access)
	}
	writeJSON(w, http.StatusOK, &resp)
}

// introspectionResponse is RFC 7662 §2.2's answer, with the members
// oidc.IntrospectionResponse would give ours. A plain struct: op's type
// encodes through custom marshalers and a claims merge (a JSON encoding,
// decoding and re-encoding), 8 % of an introspection's CPU.
type introspectionResponse struct {
	Active    bool     `json:"active"`
	Scope     string   `json:"scope,omitempty"`
	ClientID  string   `json:"client_id,omitempty"`
	TokenType string   `json:"token_type,omitempty"`
	Exp       int64    `json:"exp,omitempty"`
	Iat       int64    `json:"iat,omitempty"`
	AuthTime  int64    `json:"auth_time,omitempty"`
	Sub       string   `json:"sub,omitempty"`
	Aud       []string `json:"aud,omitempty"`
	AMR       []string `json:"amr,omitempty"`
	Iss       string   `json:"iss,omitempty"`
}

// introspection fills an active token's answer.
func (p *Provider) introspection(resp *introspectionResponse, a store.OIDCAccess) {
	*resp = introspectionResponse{Active: true, Scope: strings.Join(a.Scopes, " "), ClientID: a.ClientID, TokenType: oidc.BearerToken,
		Exp: a.Expires.Unix(), Iat: a.Issued.Unix(), AuthTime: a.AuthTime.Unix(), Sub: p.Subject(a.AccountID),
		Aud: []string{a.ClientID}, AMR: a.AMR, Iss: p.issuer}
}

// authenticateClient checks a confidential client's id and secret, given
// either in the Authorization header (client_secret_basic, each part
// form-encoded as RFC 6749 §2.3.1 says) or in the body
// (client_secret_post), never both. basic reports whether the header was
// used, for the WWW-Authenticate challenge.
func (p *Provider) authenticateClient(r *http.Request) (clientID string, basic, ok bool) {
	if r.Header.Get("Authorization") != "" {
		id, secret, ok := r.BasicAuth()
		if !ok {
			return "", true, false
		}
		if _, inBody := r.PostForm["client_secret"]; inBody {
			return "", true, false
		}
		var err1, err2 error
		id, err1 = url.QueryUnescape(id)
		secret, err2 = url.QueryUnescape(secret)
		if err1 != nil || err2 != nil {
			return "", true, false
		}
		return id, true, p.clients[id].checkSecret(secret)
	}
	id := r.PostForm.Get("client_id")
	// checkSecret is false, in the same time, for an unknown or public client.
	return id, false, p.clients[id].checkSecret(r.PostForm.Get("client_secret"))
}

// unavailable answers when the store cannot: 503, so that the caller tries
// again rather than taking the token for revoked.
func (p *Provider) unavailable(w http.ResponseWriter, r *http.Request, what string, err error) {
	if !errors.Is(err, context.Canceled) {
		p.log.ErrorContext(r.Context(), "oidc: "+what+": the store failed", "err", err)
	}
	w.Header().Set("Retry-After", "1")
	writeOAuthError(w, http.StatusServiceUnavailable, oidc.ErrServerError().WithDescription("temporarily unavailable, try again"))
}

// writeOAuthError writes an error response of RFC 6749 §5.2.
func writeOAuthError(w http.ResponseWriter, status int, e *oidc.Error) {
	writeJSON(w, status, e)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(b)
}
