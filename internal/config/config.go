// Package config is Sesame's configuration: a YAML file, then SESAME_*
// environment variables over it, then command-line flags over both. It is
// validated once at start-up; outside demo mode weak settings refuse to
// start, and String prints it with every secret redacted.
package config

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"sesame/internal/i18n"
	"sesame/internal/mail"
	"sesame/internal/passhash"
	"sesame/internal/seal"
	"sesame/internal/simulation"
	"sesame/internal/totp"
)

// Config is everything an instance needs to run.
type Config struct {
	// Addr is the portal's listen address.
	Addr string `yaml:"addr"`
	// PublicURL is the portal's address as browsers see it (https in
	// production); links in e-mails start with it.
	PublicURL string `yaml:"public_url"`
	// Database is "sqlite:PATH" or a postgres:// URL.
	Database string `yaml:"database"`
	// SecretKey seals TOTP secrets (AES-256-GCM): 32 bytes, base64 or hex.
	// OldKeys still open secrets sealed before a rotation.
	SecretKey string   `yaml:"secret_key"`
	OldKeys   []string `yaml:"old_keys"`

	DefaultLang string `yaml:"default_lang"`
	// AppName is the relying application named on pages, in e-mails and in
	// authenticator apps (the otpauth issuer).
	AppName string `yaml:"app_name"`
	AppURL  string `yaml:"app_url"`
	// TrustProxy takes the client address from X-Forwarded-For and https
	// from X-Forwarded-Proto, on the portal and on Finagora.
	TrustProxy bool `yaml:"trust_proxy"`
	// MetricsAddr serves /metrics on its own listener; empty: not served.
	MetricsAddr string `yaml:"metrics_addr"`
	// MetricsPprof also serves net/http/pprof's profiles under /debug/pprof/
	// on the metrics listener (never on the portal's), for profiling a
	// running instance on demand. Off by default: a profile shows what the
	// process is doing, and a CPU profile costs CPU while it runs.
	MetricsPprof bool `yaml:"metrics_pprof"`
	// InternalResetURL is where Group (staff) accounts reset their password.
	InternalResetURL string `yaml:"internal_reset_url"`

	TOTP     TOTP             `yaml:"totp"`
	Argon2   Argon2           `yaml:"argon2"`
	Sessions Sessions         `yaml:"sessions"`
	SMTP     SMTP             `yaml:"smtp"`
	Finagora Finagora         `yaml:"finagora"`
	Sim      simulation.Basis `yaml:"simulation"`
	Lockout  Lockout          `yaml:"lockout"`
	OIDC     OIDC             `yaml:"oidc"`
}

// TOTP settings (RFC 6238).
type TOTP struct {
	Digits int           `yaml:"digits"`
	Period time.Duration `yaml:"period"`
	Skew   int           `yaml:"skew"`
}

// Argon2 settings for passwords and security answers.
type Argon2 struct {
	MemoryKiB  uint32 `yaml:"memory_kib"`
	Time       uint32 `yaml:"time"`
	Threads    uint8  `yaml:"threads"`
	Concurrent int    `yaml:"concurrent"` // hashes computed at once; 0: the number of CPUs
	// MaxWait bounds how long a login waits for a hashing turn: one whose
	// turn would come later is answered at once with 503 and Retry-After
	// (nothing checked, no attempt spent) instead of queueing until the
	// client gives up.
	MaxWait time.Duration `yaml:"max_wait"`
}

// Sessions bound a login's life.
type Sessions struct {
	Idle     time.Duration `yaml:"idle"`
	Absolute time.Duration `yaml:"absolute"`
}

// Lockout tunes throttling (see account.Throttle).
type Lockout struct {
	FreeFailures    int           `yaml:"free_failures"`
	BaseDelay       time.Duration `yaml:"base_delay"`
	MaxDelay        time.Duration `yaml:"max_delay"`
	HardLimit       int           `yaml:"hard_limit"`
	AddressFailures int           `yaml:"address_failures"`
	AddressWindow   time.Duration `yaml:"address_window"`
}

// SMTP is the mail server for notifications and reset links; an empty Host
// keeps mail in the outbox until one is configured.
type SMTP struct {
	Host     string `yaml:"host"`
	Port     int    `yaml:"port"`
	TLS      string `yaml:"tls"` // none, starttls, tls
	Username string `yaml:"username"`
	Password string `yaml:"password"`
	From     string `yaml:"from"`
	FromName string `yaml:"from_name"`
}

// Finagora is the demo relying application, and how it logs people in
// through the portal over OpenID Connect. An empty Issuer leaves log-in
// off: Finagora's log-in page then says it is not configured.
type Finagora struct {
	Addr string `yaml:"addr"` // empty: not started by serve
	// Issuer is the provider's issuer URL (the portal's public_url once it
	// is a provider); its discovery document is fetched on first log-in.
	Issuer string `yaml:"issuer"`
	// ClientID and ClientSecret are Finagora's registration at the provider.
	ClientID     string `yaml:"client_id"`
	ClientSecret string `yaml:"client_secret"`
	// RedirectURL is Finagora's callback as registered; empty means
	// app_url + "/callback".
	RedirectURL string `yaml:"redirect_url"`
}

// FinagoraCallbackURL is Finagora's redirect URI: redirect_url, or app_url's /callback.
func (c Config) FinagoraCallbackURL() string {
	if c.Finagora.RedirectURL != "" || c.AppURL == "" {
		return c.Finagora.RedirectURL
	}
	return strings.TrimSuffix(c.AppURL, "/") + "/callback"
}

// SSOFromEnv sets Finagora's single sign-on settings from the
// SESAME_FINAGORA_ISSUER, _CLIENT_ID, _CLIENT_SECRET and _REDIRECT_URL
// variables that are set. Load applies them with the rest; the demo, which
// reads no other variable, applies only these.
func (f *Finagora) SSOFromEnv(getenv func(string) string) {
	for k, p := range map[string]*string{
		"SESAME_FINAGORA_ISSUER": &f.Issuer, "SESAME_FINAGORA_CLIENT_ID": &f.ClientID,
		"SESAME_FINAGORA_CLIENT_SECRET": &f.ClientSecret, "SESAME_FINAGORA_REDIRECT_URL": &f.RedirectURL,
	} {
		if v := getenv(k); v != "" {
			*p = v
		}
	}
}

// Default returns the documented defaults.
func Default() Config {
	p := passhash.DefaultParams()
	return Config{
		Addr:        "localhost:8080",
		PublicURL:   "http://localhost:8080",
		DefaultLang: "fr",
		AppName:     "Finagora",
		TOTP:        TOTP{Digits: 6, Period: 30 * time.Second, Skew: 1},
		Argon2:      Argon2{MemoryKiB: p.Memory, Time: p.Time, Threads: p.Threads, MaxWait: 3 * time.Second},
		Sessions:    Sessions{Idle: 30 * time.Minute, Absolute: 12 * time.Hour},
		SMTP:        SMTP{TLS: "starttls", FromName: "Sesame"},
		Sim:         simulation.DefaultBasis(),
		Lockout: Lockout{FreeFailures: 4, BaseDelay: time.Minute, MaxDelay: 15 * time.Minute, HardLimit: 100,
			AddressFailures: 50, AddressWindow: 15 * time.Minute},
	}
}

// Load reads the YAML file at path (if path is not empty) over the defaults,
// then the environment over it.
func Load(path string, getenv func(string) string) (Config, error) {
	c := Default()
	if path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return c, fmt.Errorf("config: %w", err)
		}
		dec := yaml.NewDecoder(strings.NewReader(string(data)))
		dec.KnownFields(true)
		if err := dec.Decode(&c); err != nil {
			return c, fmt.Errorf("config: %s: %w", path, err)
		}
	}
	return c, c.applyEnv(getenv)
}

func (c *Config) applyEnv(getenv func(string) string) error {
	str := map[string]*string{
		"SESAME_ADDR": &c.Addr, "SESAME_PUBLIC_URL": &c.PublicURL, "SESAME_DATABASE": &c.Database,
		"SESAME_SECRET_KEY": &c.SecretKey, "SESAME_DEFAULT_LANG": &c.DefaultLang, "SESAME_APP_NAME": &c.AppName,
		"SESAME_APP_URL": &c.AppURL, "SESAME_METRICS_ADDR": &c.MetricsAddr, "SESAME_INTERNAL_RESET_URL": &c.InternalResetURL,
		"SESAME_SMTP_HOST": &c.SMTP.Host, "SESAME_SMTP_TLS": &c.SMTP.TLS, "SESAME_SMTP_USERNAME": &c.SMTP.Username,
		"SESAME_SMTP_PASSWORD": &c.SMTP.Password, "SESAME_SMTP_FROM": &c.SMTP.From, "SESAME_FINAGORA_ADDR": &c.Finagora.Addr,
	}
	for k, p := range str {
		if v := getenv(k); v != "" {
			*p = v
		}
	}
	c.Finagora.SSOFromEnv(getenv)
	if v := getenv("SESAME_SMTP_PORT"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return fmt.Errorf("config: SESAME_SMTP_PORT: %w", err)
		}
		c.SMTP.Port = n
	}
	if v := getenv("SESAME_ARGON2_MAX_WAIT"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			return fmt.Errorf("config: SESAME_ARGON2_MAX_WAIT: %w", err)
		}
		c.Argon2.MaxWait = d
	}
	if v := getenv("SESAME_METRICS_PPROF"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("config: SESAME_METRICS_PPROF: %w", err)
		}
		c.MetricsPprof = b
	}
	if v := getenv("SESAME_TRUST_PROXY"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("config: SESAME_TRUST_PROXY: %w", err)
		}
		c.TrustProxy = b
	}
	return nil
}

// Validate checks the configuration; strict (everything but the demo)
// also refuses weak settings.
func (c Config) Validate(strict bool) error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if c.Addr == "" {
		bad("addr is required")
	}
	u, err := url.Parse(c.PublicURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		bad("public_url must be an http(s) URL")
	} else if strict && u.Scheme != "https" && u.Hostname() != "localhost" && u.Hostname() != "127.0.0.1" {
		bad("public_url must be https outside localhost: session cookies are Secure")
	}
	if !strings.HasPrefix(c.Database, "sqlite:") && !strings.HasPrefix(c.Database, "postgres://") && !strings.HasPrefix(c.Database, "postgresql://") {
		bad("database must be sqlite:PATH or a postgres:// URL")
	}
	if _, err := c.Keyring(); err != nil {
		bad("secret_key: %v", err)
	}
	if _, ok := i18n.Parse(c.DefaultLang); !ok {
		bad("default_lang must be fr, nl or en")
	}
	if err := c.TOTPParams().Validate(); err != nil {
		bad("totp: %v", err)
	}
	if err := c.HashParams().Validate(strict); err != nil {
		bad("argon2: %v", err)
	}
	if c.Argon2.MaxWait <= 0 || c.Argon2.MaxWait > maxHashWait {
		bad("argon2: max_wait must be above 0 and at most %v (a login must be answered before the server's write timeout)", maxHashWait)
	}
	if c.Sessions.Idle <= 0 || c.Sessions.Absolute < c.Sessions.Idle {
		bad("sessions: idle must be positive and absolute at least idle")
	}
	if l := c.Lockout; l.FreeFailures < 1 || l.BaseDelay <= 0 || l.MaxDelay < l.BaseDelay || l.HardLimit <= l.FreeFailures || l.HardLimit > 100 ||
		l.AddressFailures < 1 || l.AddressWindow <= 0 {
		bad("lockout: free_failures ≥ 1, 0 < base_delay ≤ max_delay, free_failures < hard_limit ≤ 100, address limits positive")
	}
	if c.SMTP.Host != "" {
		if _, err := c.SMTPConfig(); err != nil {
			bad("smtp: %v", err)
		}
	}
	if err := c.Sim.Validate(); err != nil {
		bad("simulation: %v", err)
	}
	if c.MetricsPprof && c.MetricsAddr == "" {
		bad("metrics_pprof needs metrics_addr: profiles are served on the metrics listener only")
	}
	errs = append(errs, c.Finagora.validate(c.FinagoraCallbackURL())...)
	if err := c.OIDC.Validate(); err != nil {
		bad("oidc: %v", err)
	}
	return errors.Join(errs...)
}

// maxHashWait keeps a login's wait for a hashing turn well under the
// portal's 30 s write timeout.
const maxHashWait = 20 * time.Second

// validate checks Finagora's single sign-on settings, when there is an
// issuer; the finagora package checks them again, in more detail.
func (f Finagora) validate(callback string) []error {
	if f.Issuer == "" {
		return nil
	}
	var errs []error
	if !httpURL(f.Issuer) {
		errs = append(errs, errors.New("finagora: issuer must be an http(s) URL"))
	}
	if f.ClientID == "" || f.ClientSecret == "" {
		errs = append(errs, errors.New("finagora: an issuer needs client_id and client_secret"))
	}
	if !httpURL(callback) {
		errs = append(errs, errors.New("finagora: redirect_url (or app_url) must be an http(s) URL"))
	}
	return errs
}

func httpURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// Keyring returns the keys that seal TOTP secrets.
func (c Config) Keyring() (*seal.Keyring, error) {
	if c.SecretKey == "" {
		return nil, errors.New("no key configured (generate one with 'sesame keygen')")
	}
	primary, err := seal.ParseKey(c.SecretKey)
	if err != nil {
		return nil, err
	}
	var older []seal.Key
	for _, s := range c.OldKeys {
		k, err := seal.ParseKey(s)
		if err != nil {
			return nil, fmt.Errorf("old_keys: %w", err)
		}
		older = append(older, k)
	}
	return seal.NewKeyring(primary, older...)
}

// TOTPParams returns the RFC 6238 parameters.
func (c Config) TOTPParams() totp.Params {
	p := totp.Default()
	p.Digits, p.Period, p.Skew = c.TOTP.Digits, c.TOTP.Period, c.TOTP.Skew
	return p
}

// HashParams returns the argon2id parameters.
func (c Config) HashParams() passhash.Params {
	p := passhash.DefaultParams()
	p.Memory, p.Time, p.Threads = c.Argon2.MemoryKiB, c.Argon2.Time, c.Argon2.Threads
	return p
}

// SMTPConfig returns the mail server settings.
func (c Config) SMTPConfig() (mail.SMTPConfig, error) {
	from := mail.Address{Name: c.SMTP.FromName, Email: c.SMTP.From}
	if err := from.Validate(); err != nil {
		return mail.SMTPConfig{}, fmt.Errorf("from: %w", err)
	}
	mode := mail.TLSMode(c.SMTP.TLS)
	switch mode {
	case "none", "starttls", "tls":
	default:
		return mail.SMTPConfig{}, fmt.Errorf("tls must be none, starttls or tls")
	}
	return mail.SMTPConfig{Host: c.SMTP.Host, Port: c.SMTP.Port, TLS: mode, Username: c.SMTP.Username, Password: c.SMTP.Password, From: from}, nil
}

// String prints the configuration as YAML with secrets redacted, for the
// start-up log.
func (c Config) String() string {
	r := c
	redact := func(s *string) {
		if *s != "" {
			*s = "REDACTED"
		}
	}
	redact(&r.SecretKey)
	redact(&r.SMTP.Password)
	redact(&r.Finagora.ClientSecret)
	r.OldKeys = make([]string, len(c.OldKeys))
	for i := range r.OldKeys {
		r.OldKeys[i] = "REDACTED"
	}
	if u, err := url.Parse(r.Database); err == nil && u.User != nil {
		if _, has := u.User.Password(); has {
			u.User = url.UserPassword(u.User.Username(), "REDACTED")
			r.Database = u.String()
		}
	}
	b, _ := yaml.Marshal(r)
	return string(b)
}
