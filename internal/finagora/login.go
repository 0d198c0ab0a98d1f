package finagora

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"sesame/internal/i18n"
)

// Cookies. The __Host- prefix makes browsers insist on Secure, Path=/ and no
// Domain, so no other host can set them. Browsers accept Secure cookies from
// http://localhost, which is how the demo runs.
const (
	sessionCookie = "__Host-finagora"
	pendingCookie = "__Host-finagora-login" // binds a pending log-in to the browser that started it
	logoutCookie  = "__Host-finagora-logout"
	logoutLife    = 10 * time.Minute
	defaultNext   = "/espace"
	tokenTimeout  = 10 * time.Second
	maxNextLength = 512
)

// prompts are the values of prompt a page may ask the portal for.
var prompts = map[string]bool{"none": true, "login": true, "consent": true, "select_account": true}

func setCookie(w http.ResponseWriter, name, value string, life time.Duration) {
	http.SetCookie(w, &http.Cookie{
		Name: name, Value: value, Path: "/", MaxAge: int(life / time.Second),
		Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode,
	})
}

func clearCookie(w http.ResponseWriter, name string) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: "", Path: "/", MaxAge: -1, Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode})
}

// equal compares secrets in constant time.
func equal(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

// current is the request's session, found by withSession.
type current struct {
	id string
	session
}

type sessionKey struct{}

// withSession finds the session the request's cookie names, if any.
func (s *server) withSession(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c, err := r.Cookie(sessionCookie); err == nil {
			// Pages for a logged-in person are theirs alone.
			w.Header().Set("Cache-Control", "no-store")
			if sess, ok := s.store.session(c.Value, s.now()); ok {
				r = r.WithContext(context.WithValue(r.Context(), sessionKey{}, &current{id: c.Value, session: sess}))
			}
		}
		next.ServeHTTP(w, r)
	})
}

// currentSession returns the request's session, or nil when anonymous.
func currentSession(r *http.Request) *current {
	c, _ := r.Context().Value(sessionKey{}).(*current)
	return c
}

// localPath returns next when it is a path on this site, else the logged-in
// area: a log-in must not send anyone to another site afterwards.
func localPath(next string) string {
	if next == "" || len(next) > maxNextLength || next[0] != '/' || strings.HasPrefix(next, "//") ||
		strings.ContainsFunc(next, func(r rune) bool { return r < 0x20 || r == 0x7f || r == '\\' }) {
		return defaultNext
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return defaultNext
	}
	switch u.Path {
	case "/login", CallbackPath, "/logout", BackchannelLogoutPath:
		return defaultNext
	}
	return next
}

// handleLogin sends the browser to the portal's authorization endpoint
// (the header's "log in" button, and where protected pages send anonymous
// visitors). ?next= is the local page to come back to; ?prompt= and
// ?max_age= are passed on when a page asks for a fresh log-in. Without a
// configured portal it shows a page saying log-in is not available.
func (s *server) handleLogin(w http.ResponseWriter, r *http.Request) {
	l := s.language(w, r)
	if s.rp == nil {
		s.render(w, r, http.StatusOK, "login", loginPage{s.base(r, l, "/login", "login.title")})
		return
	}
	q := r.URL.Query()
	next := localPath(q.Get("next"))
	prompt, maxAge := q.Get("prompt"), q.Get("max_age")
	if prompt != "" && !prompts[prompt] {
		s.errorPage(w, r, l, http.StatusBadRequest, "bad_request")
		return
	}
	if maxAge != "" {
		if n, err := strconv.Atoi(maxAge); err != nil || n < 0 {
			s.errorPage(w, r, l, http.StatusBadRequest, "bad_request")
			return
		}
	}
	if currentSession(r) != nil && prompt == "" && maxAge == "" {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	p, err := s.rp.provider(r.Context())
	if err != nil {
		s.log.Warn("finagora: login service unreachable", "err", err)
		s.unavailable(w, r, l, r.URL.RequestURI())
		return
	}
	pl := pendingLogin{State: newID(), Nonce: newID(), Verifier: oauth2.GenerateVerifier(), Next: next}
	setCookie(w, pendingCookie, s.store.createPending(pl, s.now()), pendingLifetime)
	opts := []oauth2.AuthCodeOption{
		oidc.Nonce(pl.Nonce), oauth2.S256ChallengeOption(pl.Verifier),
		oauth2.SetAuthURLParam("ui_locales", string(l)),
	}
	if prompt != "" {
		opts = append(opts, oauth2.SetAuthURLParam("prompt", prompt))
	}
	if maxAge != "" {
		opts = append(opts, oauth2.SetAuthURLParam("max_age", maxAge))
	}
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, p.oauth.AuthCodeURL(pl.State, opts...), http.StatusFound)
}

// unavailable says the portal cannot be reached (503), with a button to
// try retry again.
func (s *server) unavailable(w http.ResponseWriter, r *http.Request, l i18n.Lang, retry string) {
	w.Header().Set("Retry-After", "10")
	s.errorPageRetry(w, r, l, http.StatusServiceUnavailable, "unavailable", retry)
}

// idClaims are the ID token's claims Finagora keeps, beyond sub.
type idClaims struct {
	SID         string `json:"sid"`
	Name        string `json:"name"`
	Email       string `json:"email"`
	AccountType string `json:"account_type"`
	Office      string `json:"office"`
}

// handleCallback is where the portal sends the browser back. It checks the
// response belongs to the log-in this browser started (state, bound by the
// pending-log-in cookie; used once), that it comes from the portal (iss,
// RFC 9207), exchanges the code with the PKCE verifier, verifies the ID
// token (signature, iss, aud, exp, nonce) and starts a Finagora session.
// Every failure shows a translated page and starts no session.
func (s *server) handleCallback(w http.ResponseWriter, r *http.Request) {
	l := s.language(w, r)
	w.Header().Set("Cache-Control", "no-store")
	if s.rp == nil {
		s.handleNotFound(w, r)
		return
	}
	fail := func(status int, kind, retry, reason string, err error) {
		s.log.Warn("finagora: login refused", "reason", reason, "err", err)
		s.errorPageRetry(w, r, l, status, kind, retry)
	}
	q := r.URL.Query()
	c, err := r.Cookie(pendingCookie)
	if err != nil {
		fail(http.StatusBadRequest, "login_expired", "/login", "no pending login cookie", nil)
		return
	}
	clearCookie(w, pendingCookie)
	pl, ok := s.store.takePending(c.Value, s.now())
	if !ok {
		fail(http.StatusBadRequest, "login_expired", "/login", "no pending login (expired or used)", nil)
		return
	}
	retry := "/login?next=" + url.QueryEscape(pl.Next)
	if !equal(q.Get("state"), pl.State) {
		fail(http.StatusBadRequest, "login_expired", retry, "state mismatch", nil)
		return
	}
	p, err := s.rp.provider(r.Context())
	if err != nil {
		s.log.Warn("finagora: login service unreachable", "err", err)
		s.unavailable(w, r, l, retry)
		return
	}
	if iss, has := q["iss"]; (has && (len(iss) != 1 || iss[0] != s.rp.issuer)) || (!has && p.issParameter) {
		fail(http.StatusBadRequest, "login_failed", retry, "iss parameter mismatch", nil)
		return
	}
	if code := q.Get("error"); code != "" {
		kind := "login_failed"
		switch code {
		case "login_required", "interaction_required", "consent_required", "account_selection_required":
			kind = "login_required"
		case "access_denied":
			kind = "access_denied"
		}
		// error and error_description come from the URL: logged as data,
		// shown to nobody.
		fail(http.StatusBadRequest, kind, retry, "authorization error", errors.New(oneLine(code)))
		return
	}
	code := q.Get("code")
	if code == "" {
		fail(http.StatusBadRequest, "login_failed", retry, "no code", nil)
		return
	}

	ctx, cancel := context.WithTimeout(s.rp.withClient(r.Context()), tokenTimeout)
	defer cancel()
	tok, err := p.oauth.Exchange(ctx, code, oauth2.VerifierOption(pl.Verifier))
	if err != nil {
		var re *oauth2.RetrieveError
		if !errors.As(err, &re) {
			s.log.Warn("finagora: token endpoint unreachable", "err", err)
			s.unavailable(w, r, l, retry)
			return
		}
		fail(http.StatusBadRequest, "login_failed", retry, "token request refused", errors.New(oneLine(re.ErrorCode)))
		return
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		fail(http.StatusBadRequest, "login_failed", retry, "no id_token in the token response", nil)
		return
	}
	idt, err := p.verifier.Verify(ctx, raw)
	if err != nil {
		fail(http.StatusBadRequest, "login_failed", retry, "id_token refused", err)
		return
	}
	if !equal(idt.Nonce, pl.Nonce) {
		fail(http.StatusBadRequest, "login_failed", retry, "nonce mismatch", nil)
		return
	}
	if idt.AccessTokenHash != "" {
		if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
			fail(http.StatusBadRequest, "login_failed", retry, "at_hash mismatch", err)
			return
		}
	}
	var claims idClaims
	if err := idt.Claims(&claims); err != nil || idt.Subject == "" {
		fail(http.StatusBadRequest, "login_failed", retry, "id_token claims", err)
		return
	}

	// A new session, with a new id, whatever the browser had before.
	if old := currentSession(r); old != nil {
		s.store.deleteSession(old.id)
	}
	id := s.store.createSession(session{
		Sub: idt.Subject, SID: claims.SID, Name: claims.Name, Email: claims.Email,
		AccountType: claims.AccountType, Office: claims.Office, IDToken: raw, CSRF: newID(),
	}, s.now())
	setCookie(w, sessionCookie, id, sessionAbsolute)
	http.Redirect(w, r, pl.Next, http.StatusSeeOther)
}

// oneLine bounds a value from a request before it is logged.
func oneLine(v string) string {
	v = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, v)
	if len(v) > 64 {
		v = v[:64]
	}
	return v
}

// handleLogout ends Finagora's session, then sends the browser to the
// portal to end the portal's session too (RP-initiated logout), which
// sends it back to the home page. The form carries the session's CSRF
// token, on top of the cross-origin protection every POST has.
func (s *server) handleLogout(w http.ResponseWriter, r *http.Request) {
	l := s.language(w, r)
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	if err := r.ParseForm(); err != nil {
		s.errorPage(w, r, l, http.StatusBadRequest, "bad_request")
		return
	}
	cur := currentSession(r)
	if cur == nil { // already logged out (expired, or another tab)
		clearCookie(w, sessionCookie)
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	if !equal(r.PostForm.Get("csrf"), cur.CSRF) {
		s.errorPage(w, r, l, http.StatusForbidden, "forbidden")
		return
	}
	s.store.deleteSession(cur.id)
	clearCookie(w, sessionCookie)
	w.Header().Set("Cache-Control", "no-store")

	p, err := s.rp.provider(r.Context())
	if err != nil || p.endSession == "" {
		// Finagora's session is over; the portal's will end on its own.
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	u, err := url.Parse(p.endSession)
	if err != nil {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	state := newID()
	setCookie(w, logoutCookie, state, logoutLife)
	v := u.Query()
	v.Set("id_token_hint", cur.IDToken)
	v.Set("client_id", s.rp.clientID)
	v.Set("post_logout_redirect_uri", s.rp.postLogoutURL)
	v.Set("state", state)
	v.Set("ui_locales", string(l))
	u.RawQuery = v.Encode()
	http.Redirect(w, r, u.String(), http.StatusSeeOther)
}

// loggedOut reports whether the request is the portal sending the browser
// back after logout (the state Finagora sent, matched by its cookie).
func (s *server) loggedOut(w http.ResponseWriter, r *http.Request) bool {
	state := r.URL.Query().Get("state")
	c, err := r.Cookie(logoutCookie)
	if state == "" || err != nil {
		return false
	}
	clearCookie(w, logoutCookie)
	return equal(state, c.Value)
}

// handleBackchannelLogout receives the portal's logout tokens (OpenID
// Connect Back-Channel Logout 1.0): the portal's server posts one when a
// portal session ends, and Finagora ends its sessions of that portal
// session (sid), or of that person (sub) when the token has no sid.
//
// The token must be signed by the portal's keys for this client, carry the
// back-channel logout event, iat, exp, jti, and sid or sub, and no nonce
// (go-oidc's VerifyLogout checks all but iat and the event's shape); a jti
// is accepted once while the token lives. Answers: 200, or 400
// {"error":"invalid_request"}; never cached.
func (s *server) handleBackchannelLogout(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	fail := func(reason string, err error) {
		s.log.Warn("finagora: back-channel logout refused", "reason", reason, "err", err)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(`{"error":"invalid_request"}` + "\n"))
	}
	if s.rp == nil {
		fail("single sign-on is not configured", nil)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	if err := r.ParseForm(); err != nil {
		fail("unreadable form", err)
		return
	}
	raw := r.PostForm.Get("logout_token")
	if raw == "" {
		fail("no logout_token", nil)
		return
	}
	p, err := s.rp.provider(r.Context())
	if err != nil {
		fail("login service unreachable", err)
		return
	}
	t, err := p.verifier.VerifyLogout(r.Context(), raw)
	if err != nil {
		fail("logout token refused", err)
		return
	}
	var extra struct {
		IssuedAt json.RawMessage            `json:"iat"`
		Events   map[string]json.RawMessage `json:"events"`
	}
	if err := t.Claims(&extra); err != nil {
		fail("logout token claims", err)
		return
	}
	now := s.now()
	if len(extra.IssuedAt) == 0 || t.IssuedAt.IsZero() || t.IssuedAt.After(now.Add(5*time.Minute)) {
		fail("logout token without a valid iat", nil)
		return
	}
	if ev := extra.Events["http://schemas.openid.net/event/backchannel-logout"]; len(ev) == 0 || ev[0] != '{' {
		fail("logout token event is not a JSON object", nil)
		return
	}
	if !s.store.firstUse(t.TokenID, t.Expiry, now) {
		fail("logout token replayed", nil)
		return
	}
	n := s.store.endPortalSessions(t.SessionID, t.Subject)
	s.log.Info("finagora: back-channel logout", "sessions_ended", n)
	w.WriteHeader(http.StatusOK)
}
