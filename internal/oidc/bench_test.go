package oidc

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

// BenchmarkToken measures the token endpoint over HTTP on SQLite: the code
// exchange (redeem, grant, two tokens, a signed ID token) and the refresh
// grant (rotation, session touch, a signed ID token), per algorithm. The
// front channel that makes each code is outside the timer.
func BenchmarkToken(b *testing.B) {
	for _, tc := range []struct{ client, alg string }{{"rs", "RS256"}, {"es", "ES256"}} {
		e := newTestEnv(b, nil, nil, testClients(""))
		e.login(b)
		r := e.rp(b, tc.client, tc.alg)
		post := func(form url.Values) {
			req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, e.issuer+pathToken, strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.SetBasicAuth(tc.client, secret)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				b.Fatalf("status %d", resp.StatusCode)
			}
		}
		b.Run("code/"+tc.alg, func(b *testing.B) {
			var cpu time.Duration
			for b.Loop() {
				b.StopTimer()
				f := e.code(b, r)
				start := processCPU()
				b.StartTimer()
				post(url.Values{"grant_type": {"authorization_code"}, "code": {f.code}, "redirect_uri": {rpRedirect}, "code_verifier": {f.verifier}})
				cpu += processCPU() - start
			}
			reportCPU(b, cpu)
		})
		b.Run("refresh/"+tc.alg, func(b *testing.B) {
			tok, err := e.exchange(r, e.code(b, r))
			if err != nil {
				b.Fatal(err)
			}
			rt := tok.RefreshToken
			start := processCPU()
			for b.Loop() {
				t2, err := r.cfg.TokenSource(context.Background(), &oauth2.Token{RefreshToken: rt}).Token()
				if err != nil {
					b.Fatal(err)
				}
				rt = t2.RefreshToken
			}
			reportCPU(b, processCPU()-start)
		})
	}
}

// processCPU is the CPU time this process has used (user and system, every
// thread): the server and the client of the benchmark together, so the
// per-core figure it gives is a lower bound for the server alone.
func processCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU reports the CPU time per operation and the operations per
// CPU-second — per core — which a noisy shared machine does not skew the
// way wall time is skewed.
func reportCPU(b *testing.B, cpu time.Duration) {
	if cpu <= 0 {
		return
	}
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/op")
	b.ReportMetric(float64(b.N)/cpu.Seconds(), "ops/cpu-s")
}

// BenchmarkClientSecret is the cost of checking a client secret on every
// token request: a SHA-256 and a constant-time compare (an argon2id hash
// would cost about 90 ms here).
func BenchmarkClientSecret(b *testing.B) {
	c := newClient(testClients("")[0], "")
	for b.Loop() {
		if !c.checkSecret(secret) {
			b.Fatal("secret refused")
		}
	}
}

// BenchmarkLiveSessions logs in b.N Sesame sessions, each with a code
// exchanged for an access, ID and refresh token, and reports what they
// hold: bytes of database per session (SQLite file and WAL) and bytes of Go
// heap per session — the provider keeps no per-session state in memory, so
// that one stays near zero however many are alive. Run it with
// -benchtime=10000x for the figure in BENCHMARKS.md.
func BenchmarkLiveSessions(b *testing.B) {
	e := newTestEnv(b, nil, nil, testClients(""))
	r := e.rp(b, "es", "ES256")
	dbSize := func() int64 {
		var n int64
		for _, suffix := range []string{"", "-wal"} {
			if fi, err := os.Stat(filepath.Join(e.dir, "s.db"+suffix)); err == nil {
				n += fi.Size()
			}
		}
		return n
	}
	heap := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	e.login(b)
	disk0, heap0 := dbSize(), heap()
	for b.Loop() {
		e.login(b)
		tok, err := e.exchange(r, e.code(b, r))
		if err != nil || tok.RefreshToken == "" {
			b.Fatalf("exchange: %v (refresh token %q)", err, tok.RefreshToken)
		}
	}
	b.ReportMetric(float64(dbSize()-disk0)/float64(b.N), "db-bytes/session")
	b.ReportMetric(float64(int64(heap())-int64(heap0))/float64(b.N), "heap-bytes/session")
}

// BenchmarkUserinfoIntrospect measures the two endpoints a relying party
// calls with an access token, over HTTP on SQLite: GET /userinfo with the
// token as bearer, and POST /oauth/introspect by the client with its
// secret. cpu-µs/op is the process's, client included.
func BenchmarkUserinfoIntrospect(b *testing.B) {
	e := newTestEnv(b, nil, nil, testClients(""))
	e.login(b)
	r := e.rp(b, "es", "ES256")
	tok, err := e.exchange(r, e.code(b, r))
	if err != nil {
		b.Fatal(err)
	}
	do := func(b *testing.B, req *http.Request) {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			b.Fatalf("%s: status %d", req.URL.Path, resp.StatusCode)
		}
	}
	b.Run("userinfo", func(b *testing.B) {
		start := processCPU()
		for b.Loop() {
			req, _ := http.NewRequest(http.MethodGet, e.issuer+pathUserinfo, nil)
			req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
			do(b, req)
		}
		reportCPU(b, processCPU()-start)
	})
	form := url.Values{"token": {tok.AccessToken}}.Encode()
	b.Run("introspect", func(b *testing.B) {
		start := processCPU()
		for b.Loop() {
			req, _ := http.NewRequest(http.MethodPost, e.issuer+pathIntrospect, strings.NewReader(form))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.SetBasicAuth("es", secret)
			do(b, req)
		}
		reportCPU(b, processCPU()-start)
	})
}
