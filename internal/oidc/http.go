package oidc

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/rs/cors"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// corsOptions let browser applications call the token, userinfo and
// discovery endpoints, without credentials (none of them uses cookies).
var corsOptions = cors.Options{
	AllowedHeaders:  []string{"Accept", "Accept-Language", "Authorization", "Content-Type"},
	AllowedMethods:  []string{http.MethodGet, http.MethodHead, http.MethodPost},
	AllowOriginFunc: func(string) bool { return true },
}

// wrap puts our rules in front of op's router: bodies capped, only our
// routes, our discovery document, only the code and refresh_token grants,
// only the query response mode, and iss on every authorization response.
func (p *Provider) wrap(next http.Handler) http.Handler {
	routes := map[string]bool{}
	for _, r := range p.Routes() {
		routes[r] = true
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !routes[r.URL.Path] {
			http.NotFound(w, r)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxBody)
		state := &reqState{}
		r = r.WithContext(context.WithValue(r.Context(), stateKey{}, state))
		w.Header().Set("Cache-Control", "no-store")
		switch r.URL.Path {
		case pathAuthorize, pathCallback, pathEndSession:
			if r.URL.Path == pathAuthorize {
				state.address = p.addressKey(r)
			}
			w = &replacingWriter{ResponseWriter: w, st: state}
		case pathToken, pathRevoke:
			w = &replacingWriter{ResponseWriter: w, st: state, api: true}
		}
		switch r.URL.Path {
		case pathDiscovery:
			p.serveDiscovery(w, r)
			return
		case pathIntrospect:
			p.serveIntrospect(w, r)
			return
		case pathUserinfo:
			p.userinfoHandler.ServeHTTP(w, r)
			return
		case pathKeys:
			w.Header().Set("Cache-Control", "public, max-age="+strconv.Itoa(int(jwksMaxAge.Seconds())))
		case pathToken, pathRevoke:
			// RFC 6749 §3.2, RFC 7009 §2.1: a POST, its parameters in the
			// body. op reads the address's query too, where a code, a token
			// or a client's secret would be written into access logs and
			// proxies' records. (OPTIONS: a browser application's CORS
			// preflight, which op answers.)
			if r.Method != http.MethodPost && r.Method != http.MethodOptions {
				w.Header().Set("Allow", http.MethodPost)
				writeOAuthError(w, http.StatusMethodNotAllowed, oidc.ErrInvalidRequest().WithDescription("this endpoint takes a POST"))
				return
			}
			if r.Method == http.MethodPost && r.URL.RawQuery != "" {
				writeOAuthError(w, http.StatusBadRequest, oidc.ErrInvalidRequest().WithDescription("parameters go in the request body, never in the address"))
				return
			}
			if r.URL.Path == pathRevoke || r.Method == http.MethodOptions {
				break
			}
			if err := r.ParseForm(); err != nil {
				op.RequestError(w, r, oidc.ErrInvalidRequest().WithDescription("cannot parse the form"), nil)
				return
			}
			switch gt := r.PostForm.Get("grant_type"); gt {
			case string(oidc.GrantTypeCode), string(oidc.GrantTypeRefreshToken):
			default:
				op.RequestError(w, r, oidc.ErrUnsupportedGrantType().WithDescription("only authorization_code and refresh_token"), nil)
				return
			}
			// No client authenticates with a signed assertion; op would
			// answer one with server_error (500, at ERROR) for a refresh.
			if r.PostForm.Has("client_assertion") || r.PostForm.Has("client_assertion_type") {
				writeOAuthError(w, http.StatusUnauthorized, oidc.ErrInvalidClient().WithDescription("client assertions are not accepted: authenticate with the client secret"))
				return
			}
		case pathEndSession:
			// op answers a request it cannot parse or decode with 500, and
			// the portal would log it as its own failure: anyone can send
			// one (a stray "%" in the query is enough).
			if _, err := op.ParseEndSessionRequest(r, p.op.Decoder()); err != nil {
				http.Error(w, "invalid request", http.StatusBadRequest)
				return
			}
		case pathAuthorize, pathCallback:
			if err := r.ParseForm(); err != nil {
				http.Error(w, "invalid request", http.StatusBadRequest)
				return
			}
			// Authorization responses go in the query, where iss is added.
			r.Form.Del("response_mode")
			w = &issWriter{ResponseWriter: w, issuer: p.issuer}
			if r.URL.Path == pathAuthorize {
				// Without these there is nowhere to send an error: op refuses
				// such a request too, but logs it as its own failure
				// (server_error, at ERROR), which anyone can provoke.
				if r.Form.Get("client_id") == "" || r.Form.Get("redirect_uri") == "" {
					http.Error(w, "invalid request: client_id and redirect_uri are required", http.StatusBadRequest)
					return
				}
				if r.Form.Get("request_uri") != "" && p.refuseRequestURI(w, r) {
					return
				}
			} else if !requestID(r.Form.Get("id")) {
				// op logs a callback without an id as its own failure
				// (server_error, at ERROR); anyone can send one.
				http.Error(w, "invalid request: unknown authorization request", http.StatusBadRequest)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// refuseRequestURI answers an authorization request that names its
// request object by reference with request_uri_not_supported (OpenID
// Connect Core §6.3): op would ignore the parameter and go on with the
// plain ones, so an application that put its real request behind the
// reference would have it silently replaced. Like every error response it
// goes only to a redirect URI registered for the client; a request
// without one is left to op, which refuses it on its own page.
func (p *Provider) refuseRequestURI(w http.ResponseWriter, r *http.Request) bool {
	c := p.clients[r.Form.Get("client_id")]
	redirect := r.Form.Get("redirect_uri")
	if c == nil || op.ValidateAuthReqRedirectURI(c, redirect, oidc.ResponseTypeCode) != nil {
		return false
	}
	req := &oidc.AuthRequest{RedirectURI: redirect, ResponseType: oidc.ResponseTypeCode, State: r.Form.Get("state")}
	op.AuthRequestError(w, r, req, &oidc.Error{ErrorType: "request_uri_not_supported",
		Description: "request_uri is not supported: send the request's parameters themselves"}, p.op)
	return true
}

// replacingWriter replaces op's answer when the request went over its
// network's AuthorizeLimit (429, to the person: the application is sent
// nothing), or when the store was unavailable during it (503). op turns
// every storage failure on the browser routes into "invalid request" (400)
// or into server_error sent back to the application: the person would be
// told their link is wrong, or sent away, when trying the same address
// again in a moment is all it takes; the portal shows its translated pages
// for both statuses (package sso). An application calling the token or
// revocation endpoint (api) gets RFC 6749's server_error with Retry-After
// whatever op made of an outage: never invalid_grant for a code or refresh
// token that is still good, nor a revocation reported done.
type replacingWriter struct {
	http.ResponseWriter
	st      *reqState
	api     bool
	wrote   bool
	swallow bool // op's body is dropped: the answer was replaced
}

func (w *replacingWriter) WriteHeader(code int) {
	if w.wrote {
		return
	}
	w.wrote = true
	switch {
	case w.st.throttled > 0:
		w.replace(http.StatusTooManyRequests, int(w.st.throttled.Seconds()), "too many login requests from your network: try again later\n")
	case !w.st.outage || !(w.api || code >= 400 || isErrorRedirect(code, w.Header().Get("Location"))):
		w.ResponseWriter.WriteHeader(code)
	case w.api:
		w.replace(0, 1, "")
		writeOAuthError(w.ResponseWriter, http.StatusServiceUnavailable, oidc.ErrServerError().WithDescription("temporarily unavailable, try again"))
	default:
		w.replace(http.StatusServiceUnavailable, 5, "temporarily unavailable: try again in a few seconds\n")
	}
}

// replace drops op's answer for status (none: the caller writes it) with a
// plain-text body and Retry-After.
func (w *replacingWriter) replace(status, retryAfter int, body string) {
	w.swallow = true
	h := w.Header()
	h.Del("Location")
	h.Del("Content-Length")
	h.Set("Retry-After", strconv.Itoa(retryAfter))
	if status != 0 {
		h.Set("Content-Type", "text/plain; charset=utf-8")
		w.ResponseWriter.WriteHeader(status)
		w.ResponseWriter.Write([]byte(body))
	}
}

func (w *replacingWriter) Write(b []byte) (int, error) {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	if w.swallow {
		return len(b), nil
	}
	return w.ResponseWriter.Write(b)
}

// remoteIP is the connection's IP address.
func remoteIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// isErrorRedirect reports whether an answer is an error sent back to an
// application (RFC 6749 §4.1.2.1).
func isErrorRedirect(code int, loc string) bool {
	if code != http.StatusFound && code != http.StatusSeeOther {
		return false
	}
	u, err := url.Parse(loc)
	return err == nil && u.Query().Has("error")
}

// issWriter adds iss (RFC 9207) to every redirect that is an authorization
// response, success or error: every redirect of the authorize endpoints
// except the one to our login page.
type issWriter struct {
	http.ResponseWriter
	issuer string
}

func (w *issWriter) WriteHeader(code int) {
	if code == http.StatusFound || code == http.StatusSeeOther {
		if loc := w.Header().Get("Location"); loc != "" && !strings.HasPrefix(loc, loginPath+"?") {
			if u, err := url.Parse(loc); err == nil {
				q := u.Query()
				if q.Get("iss") == "" {
					q.Set("iss", w.issuer)
					u.RawQuery = q.Encode()
					w.Header().Set("Location", u.String())
				}
			}
		}
	}
	w.ResponseWriter.WriteHeader(code)
}

// serveDiscovery is op's document corrected to what this provider does.
func (p *Provider) serveDiscovery(w http.ResponseWriter, r *http.Request) {
	ctx := op.ContextWithIssuer(r.Context(), p.issuer)
	doc := op.CreateDiscoveryConfig(ctx, p.op, &storage{p})
	b, err := json.Marshal(doc)
	if err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	for _, k := range []string{"device_authorization_endpoint", "check_session_iframe", "request_object_signing_alg_values_supported",
		"token_endpoint_auth_signing_alg_values_supported", "introspection_endpoint_auth_signing_alg_values_supported",
		"revocation_endpoint_auth_signing_alg_values_supported"} {
		delete(m, k)
	}
	m["response_types_supported"] = []string{"code"}
	m["response_modes_supported"] = []string{"query"}
	m["grant_types_supported"] = []string{"authorization_code", "refresh_token"}
	m["code_challenge_methods_supported"] = []string{"S256"}
	m["token_endpoint_auth_methods_supported"] = []string{"client_secret_basic", "client_secret_post", "none"}
	m["introspection_endpoint_auth_methods_supported"] = []string{"client_secret_basic", "client_secret_post"}
	m["revocation_endpoint_auth_methods_supported"] = []string{"client_secret_basic", "client_secret_post", "none"}
	m["authorization_response_iss_parameter_supported"] = true
	m["prompt_values_supported"] = []string{"none", "login"}
	m["acr_values_supported"] = []string{ACR}
	m["request_parameter_supported"] = false
	m["claims_parameter_supported"] = false
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(m); err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	w.Write(buf.Bytes())
}
