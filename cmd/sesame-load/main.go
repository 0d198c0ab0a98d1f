// Command sesame-load measures a running Sesame portal from the outside: it
// logs many accounts in at once over HTTP and reports throughput, latency
// percentiles and the answers it got.
//
//	go run ./cmd/sesame demo --data /tmp/x
//	go run ./cmd/sesame-load --data /tmp/x --users 600 --concurrency 16 --duration 30s
//
// Set-up (not measured): it adds --users Client accounts straight into the
// portal's SQLite database (DIR/sesame.db of the demo's --data folder) with
// one password, then links an authenticator to each through the portal's
// own initialisation wizard over HTTP, reading the secret off the wizard's
// page as a person's app would read the QR code. It needs no internals of
// the portal beyond the database's store, and no sealing key.
//
// Load: --concurrency virtual users, each a browser with its own cookies,
// repeat a full login — GET /login for the CSRF cookie and token, POST
// /login with identifier, password and a TOTP code — for --duration or
// --max-logins logins, whichever comes first, and then stop by themselves.
// A code is accepted once, so logins rotate through the accounts: each
// account can log in once per 30-second step (a few more times at first,
// with the codes of the steps either side that the portal also accepts).
// If the virtual users outrun the accounts, they wait, and the report says
// so: then give more --users.
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
		setupTimeout: *setupTimeout, skew: *skew, hashParams: config.Default().HashParams(), log: stderr}
	if err := o.validate(); err != nil {
		return err
	}
	if *data == "" {
		return errors.New("--data is required: the folder given to 'sesame demo --data'")
	}
	dbPath := filepath.Join(*data, "sesame.db")
	// Opening creates a missing database: refuse instead, so a mistyped
	// folder does not become an empty database nobody serves.
	if _, err := os.Stat(dbPath); err != nil {
		return fmt.Errorf("no portal database at %s (start 'sesame demo --data %s' first): %w", dbPath, *data, err)
	}
	st, err := sqldb.OpenSQLite(ctx, dbPath)
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
	load(ctx, client, o, accounts).print(stdout, o)
	return ctx.Err() // interrupted: the report covers the run until then
}
