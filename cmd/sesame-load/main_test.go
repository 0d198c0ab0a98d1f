package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"sesame/internal/auth"
	"sesame/internal/authtest"
	"sesame/internal/config"
	"sesame/internal/i18n"
	"sesame/internal/oidc"
	"sesame/internal/passhash"
	"sesame/internal/sso"
	"sesame/internal/store"
	"sesame/internal/totp"
	"sesame/internal/web"
)

// newPortal serves the real portal on loopback, built by authtest like
// internal/web's flow tests, but over plain http like 'sesame demo' and on
// the wall clock: the load generator computes its codes from the real time.
func newPortal(t *testing.T, wrap ...func(http.Handler) http.Handler) (*httptest.Server, store.Store) {
	t.Helper()
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	env := authtest.New(t, nil, authtest.WithLog(log))
	var h http.Handler
	h, err := web.New(web.Options{Auth: env.Auth, Sessions: auth.DefaultSessionPolicy(), DefaultLang: i18n.FR, AppName: "Finagora", Log: log})
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range wrap {
		h = w(h)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv, env.DB
}

// TestLoad enrols accounts through the wizard and logs in until the count
// bound, against the real portal: every login must succeed and show in the
// store.
func TestLoad(t *testing.T) {
	srv, st := newPortal(t)
	target, err := loopbackURL(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	o := options{target: target, users: 40, concurrency: 4, duration: 3 * time.Second, maxLogins: 30,
		setupTimeout: 10 * time.Second, skew: 1, hashParams: passhash.TestParams(), log: t.Output(), scenario: "login"}
	if err := o.validate(); err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	c := newClient(o.concurrency)
	if err := checkPortal(ctx, c, target); err != nil {
		t.Fatal(err)
	}
	accounts, err := setup(ctx, st, c, o)
	if err != nil {
		t.Fatal(err)
	}
	r := load(ctx, c, o, accounts, nil)

	if diff := cmp.Diff(map[string]int{outcomeOK: 30}, r.outcomes); diff != "" {
		t.Errorf("outcomes (-want +got):\n%s", diff)
	}
	if r.attempted != 30 || r.succeeded != 30 || len(r.total) != 30 || len(r.post) != 30 {
		t.Fatalf("got %d attempted, %d succeeded, %d and %d latencies; want 30 of each", r.attempted, r.succeeded, len(r.total), len(r.post))
	}
	if r.total[0] <= 0 || r.post[0] > r.total[0] {
		t.Errorf("latencies: fastest login %v, its POST %v", r.total[0], r.post[0])
	}
	// The pool hands the accounts out in turn: 30 logins, 30 accounts.
	list, total, err := st.ListAccounts(ctx, store.AccountFilter{Query: "@load.sesame.test", Limit: 200})
	if err != nil {
		t.Fatal(err)
	}
	loggedIn := 0
	for _, a := range list {
		if !a.LastLogin.IsZero() {
			loggedIn++
		}
	}
	if total != 40 || loggedIn != 30 {
		t.Errorf("store: %d load accounts, %d logged in; want 40 and 30", total, loggedIn)
	}
	var out bytes.Buffer
	r.print(&out, o)
	if !strings.Contains(out.String(), "30 attempted, 30 succeeded") {
		t.Errorf("report:\n%s", out.String())
	}
}

func TestPoolTake(t *testing.T) {
	p := totp.Default()
	// 10:00:05 is early in its step; 10:00:25 is in the last third.
	early := time.Date(2026, 1, 1, 10, 0, 5, 0, time.UTC)
	late := early.Add(20 * time.Second)
	cur := p.Step(early)
	newPool := func(last int64) (*pool, *loadAccount) {
		a := &loadAccount{identifier: "a@example.be", secret: []byte("12345678901234567890"), totp: p, last: last}
		return &pool{accounts: []*loadAccount{a}}, a
	}
	tests := []struct {
		name      string
		last      int64
		now       time.Time
		wantSteps []int64 // the steps handed out, one account released after each
	}{
		{"the current code early in a step", cur - 5, early, []int64{cur}},
		{"the current code late in a step", cur - 5, late, []int64{cur}},
		{"the current code used", cur, early, nil},
		{"all used", cur + 1, early, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pl, a := newPool(tt.last)
			var got []int64
			for range 5 {
				b, code, ok := pl.take(tt.now)
				if !ok {
					break
				}
				if code != totp.HOTP(a.secret, uint64(a.last), p.Digits, p.Algorithm) {
					t.Fatalf("code %s is not step %d's", code, a.last)
				}
				got = append(got, b.last)
				pl.release(b, true)
			}
			if diff := cmp.Diff(tt.wantSteps, got); diff != "" {
				t.Errorf("steps (-want +got):\n%s", diff)
			}
		})
	}
	t.Run("a code the portal did not evaluate stays usable", func(t *testing.T) {
		pl, _ := newPool(cur - 5)
		a, code, _ := pl.take(early)
		pl.release(a, false) // answered 503: not evaluated
		b, again, ok := pl.take(early)
		if !ok || again != code || b.last != cur {
			t.Errorf("after a 503: take = %v, %q (step %d); want the same code %q again", ok, again, b.last, code)
		}
	})
	t.Run("busy account is not handed out twice", func(t *testing.T) {
		pl, _ := newPool(cur - 5)
		if _, _, ok := pl.take(early); !ok {
			t.Fatal("first take failed")
		}
		if _, _, ok := pl.take(early); ok {
			t.Error("second take of a busy account succeeded")
		}
	})
}

// TestPages logs each virtual user in once and then has it view the home
// page with its session until the count bound.
func TestPages(t *testing.T) {
	var logins atomic.Int64
	srv, st := newPortal(t, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPost && r.URL.Path == "/login" {
				logins.Add(1)
			}
			h.ServeHTTP(w, r)
		})
	})
	target, err := loopbackURL(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	o := options{target: target, users: 8, concurrency: 4, duration: 3 * time.Second, maxLogins: 40,
		setupTimeout: 10 * time.Second, skew: 1, hashParams: passhash.TestParams(), log: t.Output(), scenario: "pages", pid: os.Getpid()}
	if err := o.validate(); err != nil {
		t.Fatal(err)
	}
	c := newClient(o.concurrency)
	accounts, err := setup(t.Context(), st, c, o)
	if err != nil {
		t.Fatal(err)
	}
	loginsBefore := int64(-1)
	r := load(t.Context(), c, o, accounts, func() { loginsBefore = logins.Load() })
	if diff := cmp.Diff(map[string]int{outcomePage: 40}, r.outcomes); diff != "" {
		t.Errorf("outcomes (-want +got):\n%s", diff)
	}
	// Every virtual user logged in before the measured part, none during
	// it: the portal's CPU counted for the pages holds no login.
	if loginsBefore != int64(o.concurrency) || logins.Load() != loginsBefore {
		t.Errorf("%d logins before measuring, %d in all; want %d and no more", loginsBefore, logins.Load(), o.concurrency)
	}
	r.serverCPU, r.serverPeakKB = time.Second, 50<<10
	r.baseline = &tokenPhase{ok: 400, serverCPU: 2 * time.Second / 10} // 500 µs each: a page view (25 ms) costs 50 of them
	var out bytes.Buffer
	r.print(&out, o)
	for _, want := range []string{"40 succeeded", "40.0 successful page views per CPU-second", "peak RSS 50.0 MiB",
		"relative cost; 50.00 × a GET /healthz (2000 per CPU-second just before)"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
}

// TestTokenScenario runs every phase of the token scenario against the
// real portal and provider, as cmd/sesame serves them: each phase's
// requests must all succeed, and the report must say so.
func TestTokenScenario(t *testing.T) {
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	env := authtest.New(t, nil, authtest.WithLog(log))
	srv := httptest.NewUnstartedServer(nil)
	t.Cleanup(srv.Close)
	issuer := "http://" + srv.Listener.Addr().String()
	secret, hash := oidc.NewClientSecret()
	client := config.OIDCClient{ID: "load", Name: "Load", SecretHash: hash, RedirectURIs: []string{"http://127.0.0.1:9/callback"},
		IDTokenSignedResponseAlg: "ES256"}
	policy := auth.DefaultSessionPolicy()
	p, err := oidc.New(t.Context(), oidc.Options{Store: env.DB, Keys: env.Auth.Keys, Issuer: issuer, Clients: []config.OIDCClient{client},
		SessionIdle: policy.Idle, SessionAbsolute: policy.Absolute, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	pages, err := web.New(web.Options{Authorizations: sso.Authorizations(p), Auth: env.Auth, Sessions: policy, DefaultLang: i18n.FR, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = sso.Handler(pages, p)
	srv.Start()

	target, err := loopbackURL(issuer)
	if err != nil {
		t.Fatal(err)
	}
	o := options{target: target, users: 6, concurrency: 3, duration: 5 * time.Second, maxLogins: 12,
		setupTimeout: 10 * time.Second, skew: 1, hashParams: passhash.TestParams(), log: t.Output(), scenario: "token", pid: os.Getpid(),
		baseline: true, token: tokenOptions{clientID: "load", clientSecret: secret, redirectURI: "http://127.0.0.1:9/callback"}}
	if err := o.validate(); err != nil {
		t.Fatal(err)
	}
	c := newClient(o.concurrency)
	accounts, err := setup(t.Context(), env.DB, c, o)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := loadTokens(t.Context(), c, o, accounts, &out); err != nil {
		t.Fatal(err)
	}
	report := out.String()
	for _, want := range []string{"code flow (", "refresh (", "userinfo (", "introspection ("} {
		i := strings.Index(report, want)
		if i < 0 {
			t.Errorf("no %q phase in the report:\n%s", want, report)
			continue
		}
		if line, _, _ := strings.Cut(report[i:], "\n"); !strings.Contains(line, ": 12 in ") {
			t.Errorf("phase %q: want 12 requests, all answered: %s", want, line)
		}
	}
	if strings.Contains(report, "stopped") {
		t.Errorf("virtual users stopped:\n%s", report)
	}
	// --baseline: GET /healthz before each of the four phases, all
	// answered. (Twelve requests are too few for /proc's 10 ms CPU ticks
	// to give each a cost: TestRelative and TestPages check that line.)
	if n := strings.Count(report, "baseline (GET /healthz): 12 in "); n != 4 {
		t.Errorf("%d baseline phases of 12 requests, want 4:\n%s", n, report)
	}
	if t.Failed() {
		return
	}
	t.Log(report)
}

func TestBenchmarkAddr(t *testing.T) {
	for n, want := range map[int]string{0: "198.18.0.0", 1: "198.18.0.1", 300: "198.18.1.44", 70000: "198.19.17.112"} {
		if got := benchmarkAddr(n); got != want {
			t.Errorf("benchmarkAddr(%d) = %s, want %s", n, got, want)
		}
	}
}

func TestReadProc(t *testing.T) {
	s, err := readProc(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if s.cpu <= 0 || s.peakKB <= 0 {
		t.Errorf("readProc(self) = %+v, want some CPU time and memory", s)
	}
	if _, err := readProc(-1); err == nil {
		t.Error("readProc(-1) succeeded")
	}
}

func TestLoopbackURL(t *testing.T) {
	tests := []struct {
		in, want string // want "" means refused
	}{
		{"http://localhost:8080", "http://localhost:8080"},
		{"http://127.0.0.1:8080/", "http://127.0.0.1:8080"},
		{"http://[::1]:8080", "http://[::1]:8080"},
		{"https://localhost", "https://localhost"},
		{"http://example.com", ""},
		{"http://10.0.0.1:8080", ""},
		{"http://127.0.0.2:8080", ""},
		{"http://localhost.example.com", ""},
		{"http://user@localhost:8080", ""},
		{"http://localhost:8080/login", ""},
		{"http://localhost:8080?x=1", ""},
		{"ftp://localhost", ""},
		{"localhost:8080", ""},
		{"", ""},
	}
	for _, tt := range tests {
		u, err := loopbackURL(tt.in)
		got := ""
		if err == nil {
			got = u.String()
		}
		if got != tt.want {
			t.Errorf("loopbackURL(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

// TestClientRefusesNonLoopback: the dialer checks the address it connects
// to, whatever the URL said.
func TestClientRefusesNonLoopback(t *testing.T) {
	c := newClient(1)
	_, err := c.Get("http://192.0.2.1:9/")
	if err == nil || !strings.Contains(err.Error(), errNotLoopback.Error()) {
		t.Errorf("got %v, want %v", err, errNotLoopback)
	}
}

func TestRunRefuses(t *testing.T) {
	empty := t.TempDir()
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--target", "http://example.com", "--data", empty}, "only a portal on this machine"},
		{[]string{"--users", "0", "--data", empty}, "--users 0 out of range"},
		{[]string{"--concurrency", "5000", "--data", empty}, "--concurrency 5000 out of range"},
		{[]string{"--duration", "1h", "--data", empty}, "--duration 1h0m0s out of range"},
		{[]string{"--max-logins", "0", "--data", empty}, "--max-logins 0 out of range"},
		{[]string{"--skew", "3", "--data", empty}, "--skew 3 out of range"},
		{[]string{}, "--data or --database is required"},
		{[]string{"--data", empty, "--database", "sqlite:x"}, "not both"},
		{[]string{"--database", "mysql://x"}, "want sqlite:PATH or a postgres:// URL"},
		{[]string{"--database", "sqlite:" + empty + "/none.db"}, "no portal database"},
		{[]string{"--scenario", "crawl", "--data", empty}, "want login, pages or token"},
		{[]string{"--baseline", "--data", empty}, "--baseline needs --pid"},
		{[]string{"--data", empty}, "no portal database"},
		{[]string{"--data", empty, "extra"}, "unexpected argument"},
	}
	for _, tt := range tests {
		err := run(t.Context(), tt.args, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("run %q: got %v, want an error containing %q", tt.args, err, tt.want)
		}
	}
}

func TestRelative(t *testing.T) {
	base := &tokenPhase{ok: 100, serverCPU: 5 * time.Millisecond} // 50 µs each
	tests := []struct {
		each time.Duration
		base *tokenPhase
		want string
	}{
		{100 * time.Microsecond, base, "; 2.00 × a GET /healthz (20000 per CPU-second just before)"},
		{25 * time.Microsecond, base, "; 0.50 × a GET /healthz (20000 per CPU-second just before)"},
		{100 * time.Microsecond, nil, ""},
		{0, base, ""},
		{100 * time.Microsecond, &tokenPhase{ok: 0, serverCPU: time.Second}, ""},
		{100 * time.Microsecond, &tokenPhase{ok: 10}, ""},
	}
	for _, tt := range tests {
		if got := relative(tt.each, tt.base); got != tt.want {
			t.Errorf("relative(%v, %+v) = %q, want %q", tt.each, tt.base, got, tt.want)
		}
	}
}

func TestPercentile(t *testing.T) {
	ms := func(n ...int) []time.Duration {
		var d []time.Duration
		for _, x := range n {
			d = append(d, time.Duration(x)*time.Millisecond)
		}
		return d
	}
	tests := []struct {
		sorted []time.Duration
		q      float64
		want   time.Duration
	}{
		{nil, 50, 0},
		{ms(7), 99, 7 * time.Millisecond},
		{ms(1, 2, 3, 4), 50, 2 * time.Millisecond},
		{ms(1, 2, 3, 4), 90, 4 * time.Millisecond},
		{ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 90, 9 * time.Millisecond},
		{ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 100, 10 * time.Millisecond},
	}
	for _, tt := range tests {
		if got := percentile(tt.sorted, tt.q); got != tt.want {
			t.Errorf("percentile(%v, %v) = %v, want %v", tt.sorted, tt.q, got, tt.want)
		}
	}
}

// TestPKCE: the challenge is the S256 of the verifier (RFC 7636 appendix B's
// computation), and verifiers differ.
func TestPKCE(t *testing.T) {
	v1, c1 := pkce()
	v2, _ := pkce()
	sum := sha256.Sum256([]byte(v1))
	if c1 != base64.RawURLEncoding.EncodeToString(sum[:]) || v1 == v2 || len(v1) < 43 {
		t.Errorf("pkce: verifier %q challenge %q (other verifier %q)", v1, c1, v2)
	}
}

// TestSamePortal: the token scenario follows redirects on the portal only.
func TestSamePortal(t *testing.T) {
	u, _ := loopbackURL("http://127.0.0.1:38180")
	b := newBrowser(newClient(1), u)
	for loc, want := range map[string]string{
		"/login?authz=abc": "/login?authz=abc",
		"http://127.0.0.1:38180/authorize/callback?id=x": "/authorize/callback?id=x",
		"http://localhost:38180/authorize/callback?id=x": "/authorize/callback?id=x",
		"https://evil.example/steal?code=x":              "",
	} {
		got, err := samePortal(b, loc)
		if (want == "") != (err != nil) || got != want {
			t.Errorf("samePortal(%q) = %q, %v; want %q", loc, got, err, want)
		}
	}
	o := options{target: u, users: 1, concurrency: 1, duration: time.Second, maxLogins: 1, setupTimeout: time.Second, skew: 1, scenario: "token"}
	if err := o.validate(); err == nil || !strings.Contains(err.Error(), "--client-id") {
		t.Errorf("token scenario without a client: %v", err)
	}
}
