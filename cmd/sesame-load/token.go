package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"sesame/internal/account"
)

// The token scenario (--scenario token) drives the provider's token
// endpoint as a relying application registered in the portal's
// configuration would (--client-id, --client-secret, --redirect-uri):
//
//  1. set-up, not measured: each virtual user logs in through the real
//     front channel — GET /authorize (with PKCE), the portal's
//     /login?authz= form, the redirect back with a code — and exchanges
//     that code for tokens;
//  2. "code": for --duration, each virtual user repeats the front channel
//     with its session (single sign-on: no password, no hash) and
//     exchanges every code it gets: GET /authorize, GET
//     /authorize/callback, POST /oauth/token;
//  3. "refresh": for --duration, each virtual user refreshes its tokens
//     in a loop, each answer's refresh token the next request's (rotation);
//  4. "userinfo": for --duration, each virtual user asks GET /userinfo
//     with its access token, as an application reading the person's
//     claims;
//  5. "introspection": for --duration, each virtual user posts its access
//     token to /oauth/introspect with the client's secret, as a resource
//     server checking a token.
//
// Before phases 4 and 5 every virtual user refreshes once, not measured,
// so its access token is fresh: keep --duration under the access token's
// lifetime (five minutes). With --pid each phase gets the portal's CPU
// time, so the report says requests per CPU-second. The redirect URI is
// never fetched: the code is read off the Location header.

// tokenOptions are the registered client the scenario acts as.
type tokenOptions struct {
	clientID, clientSecret, redirectURI string
}

// tokenPhase is what one measured phase counted.
type tokenPhase struct {
	name      string
	elapsed   time.Duration
	ok        int
	failures  map[string]int
	request   string          // what latency measures
	latency   []time.Duration // that request alone, sorted
	serverCPU time.Duration
	peakKB    int64
	baseline  *tokenPhase // GET /healthz just before (--baseline); nil without
}

// tokenUser is one virtual user: its browser (with the portal's session
// cookie after the set-up) and its current tokens.
type tokenUser struct {
	b      *browser
	tokens tokens
	id     int // the virtual user's number
	flows  int // code flows done
}

// tokens are a token answer's access and refresh tokens.
type tokens struct {
	access, refresh string
}

// pkce is a code verifier and its S256 challenge (RFC 7636).
func pkce() (verifier, challenge string) {
	b := make([]byte, 32)
	rand.Read(b)
	verifier = base64.RawURLEncoding.EncodeToString(b)
	sum := sha256.Sum256([]byte(verifier))
	return verifier, base64.RawURLEncoding.EncodeToString(sum[:])
}

// frontChannel asks for a code: GET /authorize, then, when the portal
// shows its login form, a login with a, code (a nil a: the session must be
// enough), then the redirects until the one to the redirect URI. It
// returns the code and the verifier to exchange it with.
func frontChannel(ctx context.Context, b *browser, t tokenOptions, a *loadAccount, code string) (string, string, error) {
	verifier, challenge := pkce()
	state := randomString()
	q := url.Values{"response_type": {"code"}, "client_id": {t.clientID}, "redirect_uri": {t.redirectURI},
		"scope": {"openid offline_access"}, "state": {state}, "nonce": {randomString()},
		"code_challenge": {challenge}, "code_challenge_method": {"S256"}}
	next := "/authorize?" + q.Encode()
	for hop := 0; hop < 6; hop++ {
		ans, err := b.do(ctx, http.MethodGet, next, nil)
		if err != nil {
			return "", "", fmt.Errorf("GET %s: %s", pathOf(next), errorKind(err))
		}
		if ans.status == http.StatusOK && strings.HasPrefix(next, "/login") {
			// The login form of the authorization.
			if a == nil {
				return "", "", errors.New("login form shown with a session")
			}
			csrf, ok := csrfToken(ans.body)
			if !ok {
				return "", "", errors.New("no CSRF token on the login form")
			}
			authz, _ := url.ParseQuery(strings.TrimPrefix(next, "/login?"))
			ans, err = b.do(ctx, http.MethodPost, "/login", url.Values{"csrf": {csrf}, "authz": {authz.Get("authz")},
				"identifier": {a.identifier}, "password": {a.password}, "account_type": {string(account.Client)}, "totp": {code}})
			if err != nil {
				return "", "", fmt.Errorf("POST /login: %s", errorKind(err))
			}
		}
		if ans.status != http.StatusFound && ans.status != http.StatusSeeOther {
			return "", "", fmt.Errorf("%s %d", pathOf(next), ans.status)
		}
		if strings.HasPrefix(ans.location, t.redirectURI) {
			u, err := url.Parse(ans.location)
			if err != nil {
				return "", "", err
			}
			if u.Query().Get("state") != state || u.Query().Get("code") == "" {
				return "", "", fmt.Errorf("redirect without code or with a wrong state: %s", u.Query().Get("error"))
			}
			return u.Query().Get("code"), verifier, nil
		}
		next, err = samePortal(b, ans.location)
		if err != nil {
			return "", "", err
		}
	}
	return "", "", errors.New("too many redirects")
}

// samePortal turns a Location on the portal into a path and query; any
// other location is refused (the tool only talks to the portal).
func samePortal(b *browser, location string) (string, error) {
	u, err := url.Parse(location)
	if err != nil {
		return "", err
	}
	if u.Host != "" && u.Host != b.target.Host && !strings.HasPrefix(u.Host, "localhost:") {
		return "", fmt.Errorf("redirect off the portal: %.60s", location)
	}
	return u.RequestURI(), nil
}

func pathOf(s string) string { p, _, _ := strings.Cut(s, "?"); return p }

func randomString() string {
	b := make([]byte, 12)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// tokenRequest posts a token request with the client's secret and returns
// the answer's tokens.
func tokenRequest(ctx context.Context, c *http.Client, target *url.URL, t tokenOptions, form url.Values) (tokens, error) {
	var body struct {
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
		IDToken      string `json:"id_token"`
		Error        string `json:"error"`
	}
	if err := clientPost(ctx, c, target, t, "/oauth/token", form, &body); err != nil {
		return tokens{}, fmt.Errorf("%w %s", err, body.Error)
	}
	if body.AccessToken == "" || body.RefreshToken == "" || body.IDToken == "" {
		return tokens{}, errors.New("POST /oauth/token: no access, refresh or ID token (does the client allow offline_access?)")
	}
	return tokens{access: body.AccessToken, refresh: body.RefreshToken}, nil
}

// clientPost posts form to path with the client's secret (HTTP Basic, RFC
// 6749 §2.3.1) and decodes the JSON answer into body; an answer other than
// 200 is an error.
func clientPost(ctx context.Context, c *http.Client, target *url.URL, t tokenOptions, path string, form url.Values, body any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target.String()+path, strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(t.clientID), url.QueryEscape(t.clientSecret))
	return doJSON(c, req, body)
}

// doJSON sends req and decodes its JSON answer into body.
func doJSON(c *http.Client, req *http.Request, body any) error {
	what := req.Method + " " + req.URL.Path
	resp, err := c.Do(req)
	if err != nil {
		return fmt.Errorf("%s: %s", what, errorKind(err))
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxBody)).Decode(body); err != nil || resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s %d", what, resp.StatusCode)
	}
	return nil
}

// userinfo asks for the claims of access's owner (OpenID Connect Core
// §5.3): the answer must name a subject.
func userinfo(ctx context.Context, c *http.Client, target *url.URL, access string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target.String()+"/userinfo", nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+access)
	var body struct {
		Sub string `json:"sub"`
	}
	if err := doJSON(c, req, &body); err != nil {
		return err
	}
	if body.Sub == "" {
		return errors.New("GET /userinfo: no sub")
	}
	return nil
}

// introspect asks whether access is active (RFC 7662) as the client: it
// must be.
func introspect(ctx context.Context, c *http.Client, target *url.URL, t tokenOptions, access string) error {
	var body struct {
		Active bool `json:"active"`
	}
	if err := clientPost(ctx, c, target, t, "/oauth/introspect", url.Values{"token": {access}}, &body); err != nil {
		return err
	}
	if !body.Active {
		return errors.New("POST /oauth/introspect: the token is not active")
	}
	return nil
}

// loadTokens runs the token scenario and prints its report.
func loadTokens(ctx context.Context, c *http.Client, o options, accounts []*loadAccount, w io.Writer) error {
	t := o.token
	users := make([]*tokenUser, o.concurrency)
	p := &pool{accounts: accounts}
	// 1. Set-up: a session and tokens for every virtual user.
	setupCtx, cancel := context.WithTimeout(ctx, o.setupTimeout)
	defer cancel()
	var wg sync.WaitGroup
	errs := make([]error, o.concurrency)
	for i := range users {
		wg.Go(func() {
			b := newBrowser(c, o.target)
			if o.forwardedFor {
				b.forwarded = benchmarkAddr(i)
			}
			for setupCtx.Err() == nil {
				a, code, ok := p.take(time.Now())
				if !ok {
					sleep(setupCtx, 50*time.Millisecond)
					continue
				}
				b.forget()
				authCode, verifier, err := frontChannel(setupCtx, b, t, a, code)
				p.release(a, err == nil || !strings.Contains(err.Error(), " 503"))
				if err != nil {
					errs[i] = err
					sleep(setupCtx, time.Second)
					continue
				}
				tok, err := tokenRequest(setupCtx, c, o.target, t, url.Values{"grant_type": {"authorization_code"}, "code": {authCode},
					"redirect_uri": {t.redirectURI}, "code_verifier": {verifier}})
				if err != nil {
					errs[i] = err
					return
				}
				users[i] = &tokenUser{b: b, tokens: tok, id: i}
				return
			}
		})
	}
	wg.Wait()
	for i, u := range users {
		if u == nil {
			return fmt.Errorf("virtual user %d got no tokens: %v", i, errs[i])
		}
	}
	fmt.Fprintf(w, "target %s: scenario token, client %s, %d virtual users, each phase for %v (or %d requests)\n",
		o.target, t.clientID, o.concurrency, o.duration, o.maxLogins)
	// 2. Code flows with the session, 3. refreshes, 4. userinfo, 5. introspection.
	code := measured(ctx, c, o, w, "code flow (GET /authorize, GET /authorize/callback, POST /oauth/token)", "POST /oauth/token", users,
		func(ctx context.Context, u *tokenUser) (time.Duration, error) {
			if o.forwardedFor {
				// Each flow from an address of its own, as from many people:
				// the portal bounds the authorization requests one address
				// may open (oidc.authorize_limit).
				u.flows++
				u.b.forwarded = benchmarkAddr((u.id + u.flows*o.concurrency) % (1 << 17))
			}
			authCode, verifier, err := frontChannel(ctx, u.b, t, nil, "")
			if err != nil {
				return 0, err
			}
			start := time.Now()
			_, err = tokenRequest(ctx, c, o.target, t, url.Values{"grant_type": {"authorization_code"}, "code": {authCode},
				"redirect_uri": {t.redirectURI}, "code_verifier": {verifier}})
			return time.Since(start), err
		})
	code.print(w, o)
	refresh := func(ctx context.Context, u *tokenUser) (time.Duration, error) {
		start := time.Now()
		tok, err := tokenRequest(ctx, c, o.target, t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {u.tokens.refresh}})
		if err == nil {
			u.tokens = tok
		}
		return time.Since(start), err
	}
	measured(ctx, c, o, w, "refresh (POST /oauth/token, grant_type=refresh_token)", "POST /oauth/token", users, refresh).print(w, o)
	if err := refreshAll(ctx, users, refresh); err != nil {
		return err
	}
	measured(ctx, c, o, w, "userinfo (GET /userinfo with the access token)", "GET /userinfo", users,
		func(ctx context.Context, u *tokenUser) (time.Duration, error) {
			start := time.Now()
			err := userinfo(ctx, c, o.target, u.tokens.access)
			return time.Since(start), err
		}).print(w, o)
	if err := refreshAll(ctx, users, refresh); err != nil {
		return err
	}
	measured(ctx, c, o, w, "introspection (POST /oauth/introspect, the client's secret)", "POST /oauth/introspect", users,
		func(ctx context.Context, u *tokenUser) (time.Duration, error) {
			start := time.Now()
			err := introspect(ctx, c, o.target, t, u.tokens.access)
			return time.Since(start), err
		}).print(w, o)
	return nil
}

// measured runs a phase of runTokenPhase, preceded with --baseline by
// GET /healthz for as long (printed).
func measured(ctx context.Context, c *http.Client, o options, w io.Writer, name, request string, users []*tokenUser, one func(context.Context, *tokenUser) (time.Duration, error)) tokenPhase {
	var base *tokenPhase
	if o.baseline {
		b := healthzPhase(ctx, c, o)
		b.print(w, o)
		base = &b
	}
	ph := runTokenPhase(ctx, o, name, request, users, one)
	ph.baseline = base
	return ph
}

// refreshAll gives every virtual user fresh tokens between two phases (not
// measured).
func refreshAll(ctx context.Context, users []*tokenUser, refresh func(context.Context, *tokenUser) (time.Duration, error)) error {
	for i, u := range users {
		if _, err := refresh(ctx, u); err != nil {
			return fmt.Errorf("virtual user %d: %w", i, err)
		}
	}
	return nil
}

// runTokenPhase has every virtual user repeat one until o.duration has
// passed or o.maxLogins requests have started, with the portal's CPU
// measured around it when --pid is given. A virtual user stops at its
// first failure (its tokens may be revoked).
func runTokenPhase(ctx context.Context, o options, name, request string, users []*tokenUser, one func(context.Context, *tokenUser) (time.Duration, error)) tokenPhase {
	ph := tokenPhase{name: name, request: request, failures: map[string]int{}}
	var before procSample
	if o.pid != 0 {
		resetPeak(o.pid)
		before, _ = readProc(o.pid)
	}
	var started atomic.Int64
	var mu sync.Mutex
	start := time.Now()
	stop := start.Add(o.duration)
	var wg sync.WaitGroup
	for _, u := range users {
		wg.Go(func() {
			var lat []time.Duration
			var failure string
			for ctx.Err() == nil && time.Now().Before(stop) && started.Add(1) <= int64(o.maxLogins) {
				d, err := one(ctx, u)
				if err != nil {
					if ctx.Err() == nil {
						failure = err.Error()
					}
					break
				}
				lat = append(lat, d)
			}
			mu.Lock()
			ph.ok += len(lat)
			ph.latency = append(ph.latency, lat...)
			if failure != "" {
				ph.failures[failure]++
			}
			mu.Unlock()
		})
	}
	wg.Wait()
	ph.elapsed = time.Since(start)
	if o.pid != 0 {
		if after, err := readProc(o.pid); err == nil {
			ph.serverCPU, ph.peakKB = after.cpu-before.cpu, after.peakKB
		}
	}
	slices.Sort(ph.latency)
	return ph
}

func (ph tokenPhase) print(w io.Writer, o options) {
	secs := ph.elapsed.Seconds()
	fmt.Fprintf(w, "%s: %d in %.1fs, %.1f/s\n", ph.name, ph.ok, secs, float64(ph.ok)/secs)
	if ph.serverCPU > 0 {
		fmt.Fprintf(w, "  portal (pid %d): %.2f s of CPU (%.0f %% of one core), %.0f per CPU-second, %.3f ms of CPU each; peak RSS %.1f MiB\n",
			o.pid, ph.serverCPU.Seconds(), 100*ph.serverCPU.Seconds()/secs, float64(ph.ok)/ph.serverCPU.Seconds(),
			1000*ph.serverCPU.Seconds()/float64(max(ph.ok, 1)), float64(ph.peakKB)/1024)
		if r := relative(cpuEach(ph.serverCPU, ph.ok), ph.baseline); r != "" {
			fmt.Fprintf(w, "  relative cost%s\n", r)
		}
	}
	d := ph.latency
	fmt.Fprintf(w, "  %-22s p50 %8v  p90 %8v  p99 %8v  max %8v\n", ph.request,
		percentile(d, 50).Round(time.Microsecond*10), percentile(d, 90).Round(time.Microsecond*10),
		percentile(d, 99).Round(time.Microsecond*10), percentile(d, 100).Round(time.Microsecond*10))
	for f, n := range ph.failures {
		fmt.Fprintf(w, "  %d virtual users stopped: %s\n", n, f)
	}
}
