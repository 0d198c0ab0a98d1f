package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"sesame/internal/account"
	"sesame/internal/auth"
	"sesame/internal/config"
	"sesame/internal/i18n"
	"sesame/internal/mail"
	"sesame/internal/oidc"
	"sesame/internal/passhash"
	"sesame/internal/sso"
	"sesame/internal/store"
	"sesame/internal/store/sqldb"
	"sesame/internal/web"
)

// configFlags are the flags every command that opens the database shares.
type configFlags struct {
	config, database, data string
}

// flagSet returns the flags of the command name, with the configuration
// flags registered into f; parse errors and usage go to standard error.
func (f *configFlags) flagSet(e env, name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.StringVar(&f.config, "config", "", "YAML configuration file (SESAME_CONFIG)")
	fs.StringVar(&f.database, "database", "", "sqlite:PATH or postgres:// URL (SESAME_DATABASE)")
	fs.StringVar(&f.data, "data", "", "demo data folder: holds sesame.db and secret.key (SESAME_DATA)")
	return fs
}

// load reads the configuration for a non-demo command.
func (f *configFlags) load(e env) (config.Config, error) {
	path := f.config
	if path == "" {
		path = e.getenv("SESAME_CONFIG")
	}
	c, err := config.Load(path, e.getenv)
	if err != nil {
		return c, err
	}
	if f.data == "" {
		f.data = e.getenv("SESAME_DATA")
	}
	if f.data != "" {
		if err := useDataDir(&c, f.data); err != nil {
			return c, err
		}
	}
	if f.database != "" {
		c.Database = f.database
	}
	return c, nil
}

// app is a running portal's parts, wired from a configuration.
type app struct {
	cfg    config.Config
	log    *slog.Logger
	store  store.Store
	auth   *auth.Service
	worker *mail.Worker
	oidc   *oidc.Provider // nil until site
}

func openStore(ctx context.Context, c config.Config) (store.Store, error) {
	if path, ok := strings.CutPrefix(c.Database, "sqlite:"); ok {
		return sqldb.OpenSQLite(ctx, path)
	}
	return sqldb.OpenPostgres(ctx, c.Database)
}

func newApp(ctx context.Context, c config.Config, log *slog.Logger) (*app, error) {
	st, err := openStore(ctx, c)
	if err != nil {
		return nil, err
	}
	keys, err := c.Keyring()
	if err != nil {
		st.Close()
		return nil, err
	}
	renderer, err := mail.NewRenderer()
	if err != nil {
		st.Close()
		return nil, err
	}
	a := &app{cfg: c, log: log, store: st}
	a.auth = &auth.Service{
		Store:  st,
		Hasher: passhash.NewWith(c.HashParams(), passhash.Options{Concurrent: c.Argon2.Concurrent, MaxWait: c.Argon2.MaxWait}),
		Keys:   keys,
		TOTP:   c.TOTPParams(),
		Throttle: account.Throttle{FreeFailures: c.Lockout.FreeFailures, BaseDelay: c.Lockout.BaseDelay,
			MaxDelay: c.Lockout.MaxDelay, HardLimit: c.Lockout.HardLimit},
		AddressLimit: account.AddressLimit{Failures: c.Lockout.AddressFailures, Window: c.Lockout.AddressWindow},
		Issuer:       c.AppName,
		Now:          time.Now,
		Log:          log,
		Mail:         renderer,
	}
	return a, nil
}

// startMail starts delivering the outbox through sender.
func (a *app) startMail(ctx context.Context, wg *sync.WaitGroup, sender mail.Sender) {
	a.worker = &mail.Worker{Queue: a.store, Sender: sender, Logger: a.log}
	a.auth.MailSent = a.worker.Notify
	wg.Go(func() { a.worker.Run(ctx) })
}

// site builds what the portal's listener serves: the pages and, on the same
// origin, the OpenID Connect provider, whose back-channel logout worker it
// starts. It returns the pages too, for their metrics.
func (a *app) site(ctx context.Context, wg *sync.WaitGroup) (*web.Server, http.Handler, error) {
	// The provider's library logs through slog's default logger only: make
	// it ours, so its lines have our format and level.
	slog.SetDefault(a.log)
	p, err := a.provider(ctx)
	if err != nil {
		return nil, nil, err
	}
	a.oidc = p
	wg.Go(func() { p.Run(ctx, 0) })
	portal, err := a.portal(sso.Authorizations(p))
	if err != nil {
		return nil, nil, err
	}
	return portal, sso.Handler(portal, p), nil
}

// portal builds the portal's pages.
func (a *app) portal(authz web.Authorizations) (*web.Server, error) {
	lang, _ := i18n.Parse(a.cfg.DefaultLang)
	return web.New(web.Options{
		Authorizations: authz,
		Auth:           a.auth,
		Sessions:       auth.SessionPolicy{Idle: a.cfg.Sessions.Idle, Absolute: a.cfg.Sessions.Absolute},
		DefaultLang:    lang,
		AppName:        a.cfg.AppName,
		AppURL:         a.cfg.AppURL,
		TrustProxy:     a.cfg.TrustProxy,
		Log:            a.log,
		Passwords:      web.PasswordOptions{PublicURL: a.cfg.PublicURL, InternalResetURL: a.cfg.InternalResetURL},
	})
}

// sweep deletes expired sessions, wizard records, reset links and
// address counters now and then.
func (a *app) sweep(ctx context.Context) {
	t := time.NewTicker(5 * time.Minute)
	defer t.Stop()
	for {
		now := time.Now()
		if _, err := a.store.DeleteSessionsBefore(ctx, now.Add(-a.cfg.Sessions.Idle), now.Add(-a.cfg.Sessions.Absolute)); err != nil && ctx.Err() == nil {
			a.log.Warn("sweeping sessions", "err", err)
		}
		if _, err := a.store.DeleteEnrolmentsBefore(ctx, now); err != nil && ctx.Err() == nil {
			a.log.Warn("sweeping enrolments", "err", err)
		}
		if _, err := (&auth.Passwords{Service: a.auth}).PurgePasswordResets(ctx); err != nil && ctx.Err() == nil {
			a.log.Warn("sweeping password-reset links", "err", err)
		}
		if a.oidc != nil {
			// Spent codes are kept ten minutes, so a code replayed soon after is
			// still recognised and its tokens revoked.
			if _, err := a.store.DeleteOIDCBefore(ctx, now.Add(-10*time.Minute)); err != nil && ctx.Err() == nil {
				a.log.Warn("sweeping OpenID Connect codes and tokens", "err", err)
			}
		}
		// The longest window in use is an hour (password-reset requests).
		if _, err := a.store.DeleteAddressFailuresBefore(ctx, now.Add(-24*time.Hour)); err != nil && ctx.Err() == nil {
			a.log.Warn("sweeping address counters", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// listener binds addr; port 0 picks a free port.
func listen(addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen %s: %w", addr, err)
	}
	return ln, nil
}

// serveHTTP serves h on ln until ctx ends, then shuts down gracefully.
func serveHTTP(ctx context.Context, wg *sync.WaitGroup, ln net.Listener, h http.Handler, log *slog.Logger) {
	serveHTTPWrite(ctx, wg, ln, h, log, 30*time.Second)
}

// serveHTTPWrite is serveHTTP with another write timeout: the metrics
// listener's is longer than a CPU profile's default 30 s, which
// net/http/pprof refuses to take on a server that would cut it off.
func serveHTTPWrite(ctx context.Context, wg *sync.WaitGroup, ln net.Listener, h http.Handler, log *slog.Logger, write time.Duration) {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      write,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	wg.Go(func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("server stopped", "addr", ln.Addr().String(), "err", err)
		}
	})
	wg.Go(func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	})
}
