// Command sesame-load measures a running Sesame portal from the outside: it
// logs many accounts in at once over HTTP and reports throughput, latency
// percentiles, the answers it got and, given the portal's process id, the
// portal's CPU time and peak memory.
//
//	go run ./cmd/sesame demo --data /tmp/x
//	go run ./cmd/sesame-load --data /tmp/x --users 600 --concurrency 16 --duration 30s
//	sesame-load --database sqlite:/srv/sesame.db --pid $(pgrep -n sesame) --scenario pages
//
// Set-up (not measured): it adds --users Client accounts straight into the
// portal's database (--database, sqlite:PATH or a postgres:// URL, as
// 'sesame serve' has it; or DIR/sesame.db of the demo's --data folder) with
// one password, then links an authenticator to each through the portal's
// own initialisation wizard over HTTP, reading the secret off the wizard's
// page as a person's app would read the QR code. It needs no internals of
// the portal beyond the database's store, and no sealing key.
//
// Load (--scenario login): --concurrency virtual users, each a browser with
// its own cookies, repeat a full login — GET /login for the CSRF cookie and
// token, POST /login with identifier, password and the code the account's
// app shows now — for --duration or --max-logins logins, whichever comes
// first, and then stop by themselves. A code is accepted once, so logins
// rotate through the accounts: each account logs in once per 30-second
// step, as a person would. If the virtual users outrun the accounts, they
// wait, and the report says so: then give more --users. A login the portal
// refuses as busy (503) does not spend its code, and its virtual user comes
// back after the Retry-After the portal gave.
//
// --scenario pages: each virtual user logs in once (not measured), then
// views the home page with its session until the end.
//
// --scenario token: the provider's token endpoint, as a registered client
// (--client-id, --client-secret, --redirect-uri): each virtual user logs in
// once through /authorize and the login form (not measured), then repeats
// code flows with its session, then refreshes its tokens, then asks for
// userinfo, then has its access token introspected; each phase for
// --duration, reported per portal CPU-second with --pid (see token.go).
//
// --forwarded-for: every request of a virtual user carries X-Forwarded-For
// with an address of its own, from the range RFC 2544 reserves for
// benchmarks; a portal configured with trust_proxy then sees hundreds of
// people instead of one address, whose budget (attempts in flight count
// against it) would refuse most logins of a large run with 429. The token
// scenario's code flows each take a new address, as the authorization
// requests of one address are bounded too (oidc.authorize_limit).
//
// --pid: the portal's CPU time (utime + stime of /proc/PID/stat) during the
// load, reported per successful login or page view, and its peak resident
// memory (VmHWM of /proc/PID/status, reset after the set-up when the tool
// may). --baseline adds, before each measured phase, GET /healthz for as
// long, and gives the phase's CPU per request as a multiple of it.
//
// It only talks to loopback addresses (localhost, 127.0.0.1, ::1): it is a
// tool for a portal on the same machine, never for someone else's server.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"sesame/internal/config"
	"sesame/internal/store/sqldb"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "sesame-load:", err)
		}
		os.Exit(2)
	}
}

// Bounds on the flags: a load run is short and on one machine.
const (
	maxUsers       = 100_000
	maxConcurrency = 1024
	maxDuration    = 10 * time.Minute
	maxLogins      = 1_000_000
	maxSetup       = 30 * time.Minute
)

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("sesame-load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	target := fs.String("target", "http://localhost:8080", "the portal's URL; loopback only (localhost, 127.0.0.1, [::1])")
	data := fs.String("data", "", "the portal's data folder ('sesame demo --data DIR'): accounts are added to DIR/sesame.db")
	database := fs.String("database", "", "the portal's database instead of --data: sqlite:PATH or a postgres:// URL (as 'sesame serve' has it)")
	pid := fs.Int("pid", 0, "the portal's process id: report its CPU time (/proc/PID/stat) and peak resident memory (/proc/PID/status) during the load")
	forwarded := fs.Bool("forwarded-for", false, "each virtual user sends X-Forwarded-For with its own address from 198.18.0.0/15 (RFC 2544's benchmarking range): for a portal with trust_proxy, whose per-address limit would otherwise refuse more than 50 logins in flight from loopback")
	baseline := fs.Bool("baseline", false, "with --pid: before each measured phase, GET /healthz for as long, and give the phase's CPU per request as a multiple of it (comparable between runs on a busy machine)")
	scenario := fs.String("scenario", "login", "what each virtual user repeats: login (a whole login), pages (log in once, then GET / with the session), token (log in once through /authorize, then code flows with the session, refreshes, userinfo, introspection)")
	var tok tokenOptions
	fs.StringVar(&tok.clientID, "client-id", "", "--scenario token: the client's id, as registered in the portal's oidc.clients")
	fs.StringVar(&tok.clientSecret, "client-secret", "", "--scenario token: its secret ('sesame client secret')")
	fs.StringVar(&tok.redirectURI, "redirect-uri", "", "--scenario token: one of its redirect_uris (never fetched: the code is read off the redirect)")
	users := fs.Int("users", 200, fmt.Sprintf("accounts to create and log in with, 1 to %d", maxUsers))
	concurrency := fs.Int("concurrency", 16, fmt.Sprintf("virtual users logging in at once, 1 to %d", maxConcurrency))
	duration := fs.Duration("duration", 30*time.Second, "how long to log in for, at most "+maxDuration.String())
	logins := fs.Int("max-logins", 100_000, fmt.Sprintf("stop after this many logins, at most %d", maxLogins))
	setupTimeout := fs.Duration("setup-timeout", 5*time.Minute, "bound on creating and enrolling the accounts, at most "+maxSetup.String())
	skew := fs.Int("skew", 1, "TOTP steps either side of the current one the portal accepts (its totp.skew), 0 to 2")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	u, err := loopbackURL(*target)
	if err != nil {
		return err
	}
	o := options{target: u, users: *users, concurrency: *concurrency, duration: *duration, maxLogins: *logins,
		setupTimeout: *setupTimeout, skew: *skew, hashParams: config.Default().HashParams(), log: stderr, scenario: *scenario, pid: *pid, forwardedFor: *forwarded, baseline: *baseline, token: tok}
	if err := o.validate(); err != nil {
		return err
	}
	st, err := openDatabase(ctx, *data, *database)
	if err != nil {
		return err
	}
	defer st.Close()

	client := newClient(o.concurrency)
	if err := checkPortal(ctx, client, u); err != nil {
		return err
	}
	accounts, err := setup(ctx, st, client, o)
	if err != nil {
		return err
	}
	if o.scenario == "token" {
		if err := loadTokens(ctx, client, o, accounts, stdout); err != nil {
			return err
		}
		return ctx.Err()
	}
	var base *tokenPhase
	var before procSample
	var procErr error
	measure := func() {
		if o.baseline {
			b := healthzPhase(ctx, client, o)
			b.print(stdout, o)
			base = &b
		}
		if o.pid == 0 {
			return
		}
		if err := resetPeak(o.pid); err != nil {
			fmt.Fprintf(stderr, "sesame-load: the peak memory reported includes the set-up: %v\n", err)
		}
		before, procErr = readProc(o.pid)
	}
	r := load(ctx, client, o, accounts, measure)
	if procErr != nil {
		return fmt.Errorf("--pid %d: %w", o.pid, procErr)
	}
	if o.pid != 0 {
		after, err := readProc(o.pid)
		if err != nil {
			return fmt.Errorf("--pid %d: %w", o.pid, err)
		}
		r.serverCPU, r.serverPeakKB = after.cpu-before.cpu, after.peakKB
	}
	r.baseline = base
	r.print(stdout, o)
	return ctx.Err() // interrupted: the report covers the run until then
}

// openDatabase opens the portal's database: --database as 'sesame serve'
// names it, or the demo's --data folder. A SQLite file must exist already:
// opening would create it, and a mistyped path would become an empty
// database nobody serves.
func openDatabase(ctx context.Context, data, database string) (*sqldb.DB, error) {
	switch {
	case data != "" && database != "":
		return nil, errors.New("give --data or --database, not both")
	case data != "":
		database = "sqlite:" + filepath.Join(data, "sesame.db")
	case database == "":
		return nil, errors.New("--data or --database is required: the portal's data folder ('sesame demo --data') or database ('sesame serve')")
	}
	if path, ok := strings.CutPrefix(database, "sqlite:"); ok {
		if _, err := os.Stat(path); err != nil {
			return nil, fmt.Errorf("no portal database at %s (start the portal first): %w", path, err)
		}
		return sqldb.OpenSQLite(ctx, path)
	}
	if !strings.HasPrefix(database, "postgres://") && !strings.HasPrefix(database, "postgresql://") {
		return nil, fmt.Errorf("--database %q: want sqlite:PATH or a postgres:// URL", database)
	}
	return sqldb.OpenPostgres(ctx, database)
}
