package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strings"
	"sync"
	"testing"
	"time"

	"sesame/internal/account"
	"sesame/internal/store"
	"sesame/internal/store/sqldb"
)

// syncBuffer is a buffer the command writes to while the test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func noEnv(string) string { return "" }

// TestDemo starts 'sesame demo' in-process on free ports and a temp data
// folder, checks the portal and Finagora answer, then starts it again on
// the same folder: the accounts and the key are kept.
func TestDemo(t *testing.T) {
	data := filepath.Join(t.TempDir(), "demo")
	args := []string{"demo", "--data", data, "--addr", "localhost:0", "--finagora-addr", "localhost:0", "--mail-addr", "localhost:0",
		"--metrics-addr", "localhost:0"}
	for round, want := range []string{"7 created", "kept from the last run"} {
		ctx, cancel := context.WithCancel(context.Background())
		var out, errOut syncBuffer
		done := make(chan error, 1)
		go func() { done <- run(ctx, args, noEnv, strings.NewReader(""), &out, &errOut) }()
		portal := waitFor(t, &out, `Portal \(Sesame\):\s+(\S+)`)
		finagora := waitFor(t, &out, `Finagora:\s+(\S+)`)
		metrics := waitFor(t, &out, `Metrics:\s+(\S+)/metrics`)
		if status := getStatus(t, metrics+"/debug/pprof/"); status != http.StatusNotFound {
			t.Errorf("demo without --pprof: /debug/pprof/ answered %d, want 404", status)
		}
		if !strings.Contains(out.String(), want) || !strings.Contains(out.String(), "support@sesame.example") {
			t.Errorf("round %d: output lacks %q or the accounts:\n%s", round, want, out.String())
		}
		// The demo's access log is text.
		getStatus(t, portal+"/healthz")
		waitFor(t, &errOut, `(msg=request method=GET route="GET /healthz" status=200)`)
		for _, u := range []string{portal + "/login", portal + "/readyz", finagora + "/", metrics + "/metrics"} {
			resp, err := http.Get(u)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Errorf("GET %s: %d", u, resp.StatusCode)
			}
		}
		// Finagora is registered with the portal's provider: its log-in
		// leads to the portal's login page, which names it.
		resp, err := http.Get(finagora + "/login")
		if err != nil {
			t.Fatal(err)
		}
		page, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Request.URL.String(), portal+"/login?authz=") ||
			!strings.Contains(string(page), "Se connecter à Finagora") {
			t.Errorf("Finagora's log-in ended at %s with %d:\n%s", resp.Request.URL, resp.StatusCode, page)
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatalf("demo: %v\n%s", err, errOut.String())
		}
	}
}

// TestFinagoraWithIssuer: Finagora starts while its issuer is down (the
// portal may start later) and says so at log-in time.
func TestFinagoraWithIssuer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	issuer := "http://" + ln.Addr().String()
	ln.Close()
	vars := map[string]string{
		"SESAME_FINAGORA_ISSUER": issuer, "SESAME_FINAGORA_CLIENT_ID": "finagora",
		"SESAME_FINAGORA_CLIENT_SECRET": "a-client-secret", "SESAME_APP_URL": "http://localhost:8081",
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errOut syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"finagora", "--addr", "127.0.0.1:0"}, func(k string) string { return vars[k] }, strings.NewReader(""), &out, &errOut)
	}()
	addr := waitFor(t, &errOut, `"finagora listening","addr":"([^"]+)"`)
	resp, err := http.Get("http://" + addr + "/login")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("log-in with the issuer down: %d, want 503", resp.StatusCode)
	}
	if strings.Contains(errOut.String(), "a-client-secret") {
		t.Errorf("the client secret is in the log:\n%s", errOut.String())
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("finagora: %v\n%s", err, errOut.String())
	}
}

func waitFor(t *testing.T, b *syncBuffer, pattern string) string {
	t.Helper()
	re := regexp.MustCompile(pattern)
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if m := re.FindStringSubmatch(b.String()); m != nil {
			return m[1]
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no %q in the output:\n%s", pattern, b.String())
	return ""
}

func TestAccountCreate(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	ctx := context.Background()
	tests := []struct {
		args    []string
		stdin   string
		wantErr string
	}{
		{[]string{"--type", "tiers", "--identifier", "New@Example.be", "--office", "Cabinet X", "--operator", "ops"}, "a long enough password\n", ""},
		{[]string{"--type", "tiers", "--identifier", "new@example.be", "--office", "Cabinet X", "--operator", "ops"}, "a long enough password\n", "already exists"},
		{[]string{"--type", "tiers", "--identifier", "short@example.be", "--office", "Cabinet X", "--operator", "ops"}, "short\n", "too_short"},
		{[]string{"--type", "tiers", "--identifier", "nooffice@example.be", "--operator", "ops"}, "a long enough password\n", "--office"},
		{[]string{"--type", "admin", "--identifier", "x@example.be", "--operator", "ops"}, "a long enough password\n", "--type"},
		{[]string{"--type", "client", "--identifier", "x@example.be", "--role", "support", "--operator", "ops"}, "a long enough password\n", "--role"},
		{[]string{"--type", "client", "--identifier", "x@example.be"}, "a long enough password\n", "--operator"},
		{[]string{"--type", "client", "--identifier", "x@example.be", "--operator", "ops"}, "", "standard input"},
	}
	for _, tt := range tests {
		var out, errOut bytes.Buffer
		args := append([]string{"account", "create", "--data", data}, tt.args...)
		err := run(ctx, args, noEnv, strings.NewReader(tt.stdin), &out, &errOut)
		switch {
		case tt.wantErr == "" && err != nil:
			t.Errorf("%v: %v", tt.args, err)
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
			t.Errorf("%v: error %v, want one containing %q", tt.args, err, tt.wantErr)
		case tt.wantErr == "" && !strings.Contains(out.String(), "created tiers account new@example.be"):
			t.Errorf("%v: output %q", tt.args, out.String())
		}
	}
}

// TestAccountCreateIdentifiers: account create refuses look-alike
// identifiers with a sentence and creates nothing, and accepts an address
// written wholly in another script.
func TestAccountCreateIdentifiers(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	ctx := context.Background()
	create := func(identifier string) (string, error) {
		var out, errOut bytes.Buffer
		err := run(ctx, []string{"account", "create", "--data", data, "--type", "client", "--identifier", identifier, "--operator", "ops"},
			noEnv, strings.NewReader("a long enough password\n"), &out, &errOut)
		return out.String(), err
	}
	if out, err := create("\u0418\u0432\u0430\u043d@\u043f\u0440\u0438\u043c\u0435\u0440.\u0440\u0444"); err != nil || !strings.Contains(out, "created client account иван@пример.рф") {
		t.Fatalf("all-Cyrillic address: %q, %v", out, err)
	}
	refused := []struct{ identifier, wantErr string }{
		{"not an address", "--identifier must be an e-mail address"},
		{"pay\u200bpal@example.be", "--identifier contains an invisible character"},
		{"jan\u202eeb.elpmaxe@example.be", "--identifier contains an invisible character"},
		{"\uff50aypal@example.be", "--identifier contains a character that is not allowed"},
		{"p\u0430ypal@example.be", "--identifier mixes letters from different alphabets"},
		{"pay\u03bfpal@example.be", "--identifier mixes letters from different alphabets"},
	}
	for _, tt := range refused {
		if _, err := create(tt.identifier); err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("%+q: error %v, want one containing %q", tt.identifier, err, tt.wantErr)
		}
	}
	st, err := sqldb.OpenSQLite(ctx, filepath.Join(data, "sesame.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, tt := range refused[1:] { // the first is no address at all
		id, err := account.NormalizeIdentifier(tt.identifier)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.FindAccount(ctx, account.Client, id); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%+q: an account was created (%v)", tt.identifier, err)
		}
	}
}

func TestUnknownCommand(t *testing.T) {
	var out, errOut bytes.Buffer
	if err := run(context.Background(), []string{"nope"}, noEnv, strings.NewReader(""), &out, &errOut); err == nil {
		t.Error("an unknown command succeeded")
	}
	if !strings.Contains(errOut.String(), "demo") {
		t.Errorf("usage does not list the commands:\n%s", errOut.String())
	}
}

// TestMemoryLimit: the limit grows with the hashes that may run at once,
// and an operator's GOMEMLIMIT or GOGC=off is left alone.
func TestMemoryLimit(t *testing.T) {
	env := func(kv ...string) func(string) string {
		return func(k string) string {
			for i := 0; i+1 < len(kv); i += 2 {
				if kv[i] == k {
					return kv[i+1]
				}
			}
			return ""
		}
	}
	const mib = 1 << 20
	for _, tc := range []struct {
		name       string
		getenv     func(string) string
		concurrent int
		memKiB     uint32
		want       int64
		ok         bool
	}{
		{"default, 2 cores", noEnv, 2, 19456, memoryBase + 57*mib, true},
		{"default, 8 cores", noEnv, 8, 19456, memoryBase + 228*mib, true},
		{"64 MiB hashes, one at a time", noEnv, 1, 64 << 10, memoryBase + 96*mib, true},
		{"GOGC=50 alone still gets a limit", env("GOGC", "50"), 2, 19456, memoryBase + 57*mib, true},
		{"operator's GOMEMLIMIT", env("GOMEMLIMIT", "1GiB"), 2, 19456, 0, false},
		{"operator's GOGC=off", env("GOGC", "off"), 2, 19456, 0, false},
	} {
		got, ok := memoryLimit(tc.getenv, tc.concurrent, tc.memKiB)
		if got != tc.want || ok != tc.ok {
			t.Errorf("%s: memoryLimit = %d MiB, %v; want %d MiB, %v", tc.name, got/mib, ok, tc.want/mib, tc.ok)
		}
	}
	// Applied, then put back: GOGC too, unless the operator set it.
	for _, tc := range []struct {
		getenv func(string) string
		gc     int
	}{{noEnv, gcPercent}, {env("GOGC", "50"), 100}} {
		before := debug.SetGCPercent(100)
		restore := setMemoryLimit(tc.getenv, 2, 19456, slog.New(slog.DiscardHandler))
		if l := debug.SetMemoryLimit(-1); l != memoryBase+57*mib {
			t.Errorf("limit applied: %d MiB", l/mib)
		}
		if gc := debug.SetGCPercent(-1); gc != tc.gc {
			t.Errorf("GOGC applied: %d, want %d", gc, tc.gc)
		}
		debug.SetGCPercent(tc.gc)
		restore()
		if gc := debug.SetGCPercent(before); gc != 100 {
			t.Errorf("GOGC not put back: %d", gc)
		}
	}
}

func getStatus(t *testing.T, u string) int {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// TestServePprof: net/http/pprof is off by default, and when asked for it
// is served on the metrics listener only, never on the portal's.
func TestServePprof(t *testing.T) {
	dir := t.TempDir()
	for _, on := range []bool{false, true} {
		vars := map[string]string{
			"SESAME_SECRET_KEY": "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
			"SESAME_DATABASE":   "sqlite:" + filepath.Join(dir, "sesame.db"), "SESAME_ADDR": "127.0.0.1:0",
			"SESAME_METRICS_ADDR": "127.0.0.1:0",
		}
		if on {
			vars["SESAME_METRICS_PPROF"] = "true"
		}
		ctx, cancel := context.WithCancel(context.Background())
		var out, errOut syncBuffer
		done := make(chan error, 1)
		go func() {
			done <- run(ctx, []string{"serve"}, func(k string) string { return vars[k] }, strings.NewReader(""), &out, &errOut)
		}()
		portal := "http://" + waitFor(t, &errOut, `"portal listening","addr":"([^"]+)"`)
		metrics := "http://" + waitFor(t, &errOut, `"metrics listening","addr":"([^"]+)"`)
		want := http.StatusNotFound
		if on {
			want = http.StatusOK
		}
		if got := getStatus(t, metrics+"/debug/pprof/"); got != want {
			t.Errorf("pprof %v: metrics listener's /debug/pprof/ answered %d, want %d", on, got, want)
		}
		if on && getStatus(t, metrics+"/debug/pprof/heap") != http.StatusOK {
			t.Errorf("pprof on: no heap profile")
		}
		for _, path := range []string{"/debug/pprof/", "/debug/pprof/heap", "/debug/pprof/cmdline"} {
			if got := getStatus(t, portal+path); got != http.StatusNotFound {
				t.Errorf("pprof %v: the portal's %s answered %d, want 404", on, path, got)
			}
		}
		if getStatus(t, metrics+"/metrics") != http.StatusOK {
			t.Errorf("pprof %v: no /metrics", on)
		}
		// serve's access log is JSON, with the route pattern.
		getStatus(t, portal+"/healthz?token=SECRET")
		waitFor(t, &errOut, `("msg":"request","method":"GET","route":"GET /healthz","status":200)`)
		if strings.Contains(errOut.String(), "SECRET") {
			t.Errorf("the query string is in the log:\n%s", errOut.String())
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatalf("serve: %v\n%s", err, errOut.String())
		}
	}
}
