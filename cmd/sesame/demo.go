package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"sync"
	"time"

	"sesame/internal/account"
	"sesame/internal/config"
	"sesame/internal/i18n"
	"sesame/internal/mail"
	"sesame/internal/store"
	"sesame/internal/web"
)

func init() {
	commands["demo"] = command{"run the portal, Finagora and a mail catcher on embedded SQLite, with demo accounts", cmdDemo}
}

// demoPassword is every demo account's password (12+ characters, as the
// password policy asks).
const demoPassword = "sesame-demo-2026"

// demoAccounts covers every account type and role; none has an
// authenticator yet, so the first login walks through the wizard.
var demoAccounts = []struct {
	typ          account.Type
	identifier   string
	name, office string
	role         account.Role
	lang         i18n.Lang
}{
	{account.Tiers, "courtier@cabinet-dupont.be", "Marie Dupont", "Cabinet Dupont & Fils", account.RoleUser, i18n.FR},
	{account.Tiers, "admin@cabinet-dupont.be", "Luc Dupont", "Cabinet Dupont & Fils", account.RoleOfficeAdmin, i18n.FR},
	{account.Tiers, "makelaar@peeters-verzekeringen.be", "Jan Peeters", "Peeters Verzekeringen", account.RoleUser, i18n.NL},
	{account.Tiers, "beheerder@peeters-verzekeringen.be", "An Peeters", "Peeters Verzekeringen", account.RoleOfficeAdmin, i18n.NL},
	{account.Client, "client@example.be", "Sophie Martin", "", account.RoleUser, i18n.FR},
	{account.Group, "support@sesame.example", "Support Sesame", "", account.RoleSupport, i18n.EN},
	{account.Group, "staff@sesame.example", "Staff Member", "", account.RoleUser, i18n.EN},
}

func cmdDemo(ctx context.Context, e env, args []string) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	addr := fs.String("addr", "localhost:8080", "portal listen address")
	finagoraAddr := fs.String("finagora-addr", "localhost:8081", "Finagora listen address")
	mailAddr := fs.String("mail-addr", "localhost:8025", "demo inbox (web page) listen address")
	metricsAddr := fs.String("metrics-addr", "", "serve Prometheus /metrics on this address (empty: not served)")
	pprofOn := fs.Bool("pprof", false, "also serve net/http/pprof under /debug/pprof/ on --metrics-addr")
	data := fs.String("data", "sesame-demo", "data folder: sesame.db and secret.key live here and survive restarts")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *pprofOn && *metricsAddr == "" {
		return errors.New("--pprof needs --metrics-addr: profiles are served on the metrics listener only")
	}
	log := slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	c := config.Default()
	if err := useDataDir(&c, *data); err != nil {
		return err
	}
	portalLn, err := listen(*addr)
	if err != nil {
		return err
	}
	finagoraLn, err := listen(*finagoraAddr)
	if err != nil {
		portalLn.Close()
		return err
	}
	finagoraLn.Close() // reopened by startFinagora; we only wanted its address
	c.PublicURL = "http://" + hostPort(portalLn.Addr(), *addr)
	c.AppURL = "http://" + hostPort(finagoraLn.Addr(), *finagoraAddr)
	c.SMTP = config.SMTP{Host: "127.0.0.1", TLS: "none", From: "no-reply@sesame.example", FromName: "Sesame"}
	// Finagora logs in through the portal: registered as its client, with a
	// secret kept in the data folder.
	if err := registerFinagora(&c, *data); err != nil {
		return err
	}
	if err := c.Validate(false); err != nil {
		return err
	}

	catcher, err := mail.StartCatcher("127.0.0.1:0", log)
	if err != nil {
		return err
	}
	defer catcher.Close()
	_, port, _ := net.SplitHostPort(catcher.Addr())
	fmt.Sscan(port, &c.SMTP.Port)

	a, err := newApp(ctx, c, log)
	if err != nil {
		return err
	}
	defer a.store.Close()
	defer setMemoryLimit(e.getenv, a.auth.Hasher.Stats().Concurrent, c.Argon2.MemoryKiB, log)()
	created, err := seedDemo(ctx, a)
	if err != nil {
		return err
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	sc, _ := c.SMTPConfig()
	sender, err := mail.NewSMTP(sc)
	if err != nil {
		return err
	}
	a.startMail(ctx, &wg, sender)
	portal, site, err := a.site(ctx, &wg)
	if err != nil {
		return err
	}
	// The demo logs only warnings, but every request as text: what a person
	// trying it sees the portal do.
	access := slog.New(slog.NewTextHandler(e.stderr, nil))
	serveHTTP(ctx, &wg, portalLn, web.AccessLog(site, access), log)
	metricsLine := ""
	if *metricsAddr != "" {
		mln, err := listen(*metricsAddr)
		if err != nil {
			return err
		}
		serveHTTPWrite(ctx, &wg, mln, metricsHandler(portal.Metrics(), *pprofOn), log, metricsWriteTimeout)
		metricsLine = fmt.Sprintf("  Metrics:           http://%s/metrics\n", hostPort(mln.Addr(), *metricsAddr))
		if *pprofOn {
			metricsLine += fmt.Sprintf("  Profiles:          http://%s/debug/pprof/\n", hostPort(mln.Addr(), *metricsAddr))
		}
	}
	if err := startFinagora(ctx, &wg, c, finagoraLn.Addr().String(), log, e); err != nil {
		return err
	}
	mailLn, err := listen(*mailAddr)
	if err != nil {
		return err
	}
	serveHTTP(ctx, &wg, mailLn, catcher.Handler(), log)
	wg.Go(func() { a.sweep(ctx) })

	fmt.Fprintf(e.stdout, `Sesame demo is running (Ctrl-C to stop).

  Portal (Sesame):   %s
  Finagora:          %s
  Demo inbox:        http://%s   (every e-mail the portal sends)
%s  Data folder:       %s   (sesame.db; secret.key, the key that seals TOTP secrets and signing keys;
                     finagora.secret, Finagora's client secret at the portal; kept between runs)

Demo accounts (password for all: %s)%s:
`, c.PublicURL, c.AppURL, hostPort(mailLn.Addr(), *mailAddr), metricsLine, absPath(*data), demoPassword, created)
	for _, d := range demoAccounts {
		role := ""
		if d.role != account.RoleUser {
			role = " — " + string(d.role)
		}
		office := ""
		if d.office != "" {
			office = ", " + d.office
		}
		fmt.Fprintf(e.stdout, "  %-7s %-36s %s%s%s\n", d.typ, d.identifier, d.name, office, role)
	}
	fmt.Fprintf(e.stdout, `
No account has an authenticator yet: log in (or open "TOTP initialisation") and the
portal links your app (Google Authenticator, FreeOTP, ...) with a QR code.
`)
	<-ctx.Done()
	return nil
}

// seedDemo creates the demo offices and accounts that do not exist yet.
func seedDemo(ctx context.Context, a *app) (string, error) {
	now := time.Now()
	n := 0
	hash, err := a.auth.Hasher.Hash(ctx, demoPassword)
	if err != nil {
		return "", err
	}
	offices := map[string]int64{}
	for _, d := range demoAccounts {
		if d.office == "" || offices[d.office] != 0 {
			continue
		}
		o, err := a.store.FindOffice(ctx, d.office)
		if errors.Is(err, store.ErrNotFound) {
			o = account.Office{Name: d.office, Created: now}
			err = a.store.CreateOffice(ctx, &o)
		}
		if err != nil {
			return "", err
		}
		offices[d.office] = o.ID
	}
	for _, d := range demoAccounts {
		// The same rule as every other way of creating an account, so the
		// demo never shows an identifier the console would refuse.
		id, err := account.CheckNewIdentifier(d.identifier)
		if err != nil {
			return "", fmt.Errorf("demo account %q: %w", d.identifier, err)
		}
		acc := account.Account{Type: d.typ, Identifier: id, Name: d.name, OfficeID: offices[d.office], Role: d.role,
			Lang: d.lang, PasswordHash: hash, Created: now}
		switch err := a.store.CreateAccount(ctx, &acc); {
		case err == nil:
			n++
		case errors.Is(err, store.ErrAlreadyExists):
		default:
			return "", err
		}
	}
	if n == 0 {
		return " — kept from the last run", nil
	}
	return fmt.Sprintf(" — %d created", n), nil
}

// hostPort shows a listener's address with the host name the person typed
// (localhost stays localhost: browsers treat it as a secure context, so the
// Secure session cookies work over plain http there).
func hostPort(a net.Addr, asked string) string {
	host, _, err := net.SplitHostPort(asked)
	_, port, _ := net.SplitHostPort(a.String())
	if err != nil || host == "" || host == "0.0.0.0" || host == "::" {
		host = "localhost"
	}
	return net.JoinHostPort(host, port)
}

func absPath(p string) string {
	if abs, err := filepath.Abs(p); err == nil {
		return abs
	}
	return p
}
