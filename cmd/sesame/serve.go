package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/pprof"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"sesame/internal/config"
	"sesame/internal/finagora"
	"sesame/internal/i18n"
	"sesame/internal/mail"
	"sesame/internal/seal"
	"sesame/internal/web"
)

func init() {
	commands["serve"] = command{"run the portal from a configuration file and SESAME_* variables", cmdServe}
	commands["keygen"] = command{"print a new secret key for sealing TOTP secrets", cmdKeygen}
}

func cmdServe(ctx context.Context, e env, args []string) error {
	var cf configFlags
	fs := cf.flagSet(e, "serve")
	addr := fs.String("addr", "", "listen address (SESAME_ADDR)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	c, err := cf.load(e)
	if err != nil {
		return err
	}
	if *addr != "" {
		c.Addr = *addr
	}
	if err := c.Validate(true); err != nil {
		return fmt.Errorf("configuration refused:\n%w", err)
	}
	log := slog.New(slog.NewJSONHandler(e.stderr, nil))
	log.Info("starting", "config", c.String())
	a, err := newApp(ctx, c, log)
	if err != nil {
		return err
	}
	defer a.store.Close()
	defer setMemoryLimit(e.getenv, a.auth.Hasher.Stats().Concurrent, c.Argon2.MemoryKiB, log)()
	var wg sync.WaitGroup
	defer wg.Wait()
	if c.SMTP.Host != "" {
		sc, _ := c.SMTPConfig()
		sender, err := mail.NewSMTP(sc)
		if err != nil {
			return err
		}
		a.startMail(ctx, &wg, sender)
	} else {
		log.Warn("no SMTP server configured: e-mails wait in the outbox until one is")
	}
	portal, site, err := a.site(ctx, &wg)
	if err != nil {
		return err
	}
	ln, err := listen(c.Addr)
	if err != nil {
		return err
	}
	// One JSON line per request, with the route pattern, never the query
	// string or the form (see web.AccessLog).
	serveHTTP(ctx, &wg, ln, web.AccessLog(site, log), log)
	log.Info("portal listening", "addr", ln.Addr().String(), "public_url", c.PublicURL)
	if c.MetricsAddr != "" {
		mln, err := listen(c.MetricsAddr)
		if err != nil {
			return err
		}
		serveHTTPWrite(ctx, &wg, mln, metricsHandler(portal.Metrics(), c.MetricsPprof), log, metricsWriteTimeout)
		log.Info("metrics listening", "addr", mln.Addr().String(), "pprof", c.MetricsPprof)
	}
	if c.Finagora.Addr != "" {
		if err := startFinagora(ctx, &wg, c, c.Finagora.Addr, log, e); err != nil {
			return err
		}
	}
	wg.Go(func() { a.sweep(ctx) })
	<-ctx.Done()
	log.Info("shutting down")
	return nil
}

// metricsWriteTimeout leaves room for a CPU profile or an execution trace
// of up to a minute.
const metricsWriteTimeout = 2 * time.Minute

// metricsHandler is what the metrics listener serves: /metrics and, when
// asked, net/http/pprof's profiles under /debug/pprof/. The portal's
// listener never serves them: the handlers are registered on this mux
// only, not on http.DefaultServeMux (the pprof package's init would; this
// program never serves that mux).
func metricsHandler(metrics http.Handler, pprofOn bool) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", metrics)
	if pprofOn {
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	}
	return mux
}

func startFinagora(ctx context.Context, wg *sync.WaitGroup, c config.Config, addr string, log *slog.Logger, e env) error {
	lang, _ := i18n.Parse(c.DefaultLang)
	// Finagora logs in through the issuer as any relying party would; the
	// provider must have it registered with the same id, secret and
	// callback (finagora.CallbackPath), and its back-channel logout URI at
	// finagora.BackchannelLogoutPath. Without an issuer, log-in stays off.
	h, err := finagora.New(finagora.Options{Basis: c.Sim, DefaultLang: lang, PortalURL: c.PublicURL, Logger: log,
		Issuer: c.Finagora.Issuer, ClientID: c.Finagora.ClientID, ClientSecret: c.Finagora.ClientSecret,
		RedirectURL: c.FinagoraCallbackURL(), TrustProxy: c.TrustProxy})
	if err != nil {
		return err
	}
	ln, err := listen(addr)
	if err != nil {
		return err
	}
	serveHTTP(ctx, wg, ln, h, log)
	log.Info("finagora listening", "addr", ln.Addr().String())
	return nil
}

func cmdKeygen(ctx context.Context, e env, args []string) error {
	k, err := seal.NewKey()
	if err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, k.String())
	return nil
}

// useDataDir points the configuration at a data folder: the SQLite file
// and, unless a key is configured, a key file created on first use (0600).
func useDataDir(c *config.Config, dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	c.Database = "sqlite:" + filepath.Join(dir, "sesame.db")
	if c.SecretKey != "" {
		return nil
	}
	path := filepath.Join(dir, "secret.key")
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		k, err := seal.NewKey()
		if err != nil {
			return err
		}
		data = []byte(k.String() + "\n")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			return err
		}
	} else if err != nil {
		return err
	}
	c.SecretKey = strings.TrimSpace(string(data))
	return nil
}
