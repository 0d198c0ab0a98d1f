package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"sesame/internal/seal"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func validKey(t *testing.T) string {
	t.Helper()
	k, err := seal.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	return k.String()
}

func TestLoadFileThenEnvironment(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sesame.yaml")
	yaml := `addr: ":9000"
public_url: https://sesame.example.be
database: sqlite:/var/lib/sesame/sesame.db
default_lang: nl
totp:
  period: 60s
smtp:
  host: smtp.example.be
  port: 587
  from: no-reply@example.be
  password: file-secret
simulation:
  technical_rate: 0.02
`
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	key := validKey(t)
	c, err := Load(path, env(map[string]string{"SESAME_SECRET_KEY": key, "SESAME_ADDR": ":9100", "SESAME_SMTP_PORT": "2525"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != ":9100" || c.DefaultLang != "nl" || c.TOTP.Period != time.Minute || c.TOTP.Digits != 6 || c.SMTP.Port != 2525 || c.SecretKey != key {
		t.Errorf("loaded %+v", c)
	}
	if c.Sim.TechnicalRate != 0.02 || c.Sim.SmokerFactor == 0 {
		t.Errorf("simulation basis: the file's rate and the other defaults should both be kept: %+v", c.Sim)
	}
	if err := c.Validate(true); err != nil {
		t.Errorf("Validate: %v", err)
	}
	out := c.String()
	if strings.Contains(out, key) || strings.Contains(out, "file-secret") || !strings.Contains(out, "REDACTED") {
		t.Errorf("String shows a secret:\n%s", out)
	}
}

func TestLoadRefusesUnknownFields(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sesame.yaml")
	os.WriteFile(path, []byte("adress: typo\n"), 0o600)
	if _, err := Load(path, env(nil)); err == nil {
		t.Error("a misspelt setting was accepted")
	}
	if _, err := Load(path+".missing", env(nil)); err == nil {
		t.Error("a missing file was accepted")
	}
	if _, err := Load("", env(map[string]string{"SESAME_SMTP_PORT": "x"})); err == nil {
		t.Error("a non-numeric port was accepted")
	}
}

func TestValidate(t *testing.T) {
	key := validKey(t)
	good := func() Config {
		c := Default()
		c.Database, c.SecretKey = "sqlite:/tmp/x.db", key
		return c
	}
	tests := []struct {
		name   string
		change func(*Config)
		strict bool
		want   string // part of the error; "" for none
	}{
		{"defaults", func(*Config) {}, true, ""},
		{"no key", func(c *Config) { c.SecretKey = "" }, false, "secret_key"},
		{"short key", func(c *Config) { c.SecretKey = "c2hvcnQ=" }, false, "secret_key"},
		{"weak argon2 in production", func(c *Config) { c.Argon2.MemoryKiB = 1024 }, true, "argon2"},
		{"weak argon2 in the demo", func(c *Config) { c.Argon2.MemoryKiB = 1024 }, false, ""},
		{"http public URL", func(c *Config) { c.PublicURL = "http://sesame.example.be" }, true, "https"},
		{"bad database", func(c *Config) { c.Database = "mysql://x" }, false, "database"},
		{"language", func(c *Config) { c.DefaultLang = "de" }, false, "default_lang"},
		{"totp digits", func(c *Config) { c.TOTP.Digits = 4 }, false, "totp"},
		{"sessions", func(c *Config) { c.Sessions.Absolute = time.Minute }, false, "sessions"},
		{"hard limit over NIST", func(c *Config) { c.Lockout.HardLimit = 1000 }, false, "lockout"},
		{"smtp tls", func(c *Config) { c.SMTP.Host, c.SMTP.From, c.SMTP.TLS = "smtp.example.be", "a@example.be", "maybe" }, false, "smtp"},
		{"technical rate over the legal cap", func(c *Config) { c.Sim.TechnicalRate = 0.05 }, false, "simulation"},
	}
	for _, tt := range tests {
		c := good()
		tt.change(&c)
		err := c.Validate(tt.strict)
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s: %v", tt.name, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%s: error %v, want one about %q", tt.name, err, tt.want)
		}
	}
}

func TestFinagoraSSO(t *testing.T) {
	key := validKey(t)
	vars := map[string]string{
		"SESAME_SECRET_KEY": key, "SESAME_DATABASE": "sqlite:x.db", "SESAME_APP_URL": "https://finagora.example.be",
		"SESAME_FINAGORA_ISSUER": "https://sesame.example.be", "SESAME_FINAGORA_CLIENT_ID": "finagora",
		"SESAME_FINAGORA_CLIENT_SECRET": "client-secret-value",
	}
	c, err := Load("", env(vars))
	if err != nil {
		t.Fatal(err)
	}
	if f := c.Finagora; f.Issuer != "https://sesame.example.be" || f.ClientID != "finagora" || f.ClientSecret != "client-secret-value" {
		t.Errorf("finagora settings %+v", f)
	}
	if got := c.FinagoraCallbackURL(); got != "https://finagora.example.be/callback" {
		t.Errorf("callback URL %q", got)
	}
	if err := c.Validate(false); err != nil {
		t.Errorf("Validate: %v", err)
	}
	if out := c.String(); strings.Contains(out, "client-secret-value") || !strings.Contains(out, "client_secret: REDACTED") {
		t.Errorf("String shows the client secret:\n%s", out)
	}

	vars["SESAME_FINAGORA_REDIRECT_URL"] = "https://other.example.be/callback"
	var f Finagora
	f.SSOFromEnv(env(vars))
	if f.RedirectURL != "https://other.example.be/callback" || f.Issuer == "" {
		t.Errorf("SSOFromEnv: %+v", f)
	}

	c.Finagora.ClientSecret = ""
	if err := c.Validate(false); err == nil || !strings.Contains(err.Error(), "client_secret") {
		t.Errorf("an issuer without a client secret: %v", err)
	}
	c.Finagora = Finagora{}
	if err := c.Validate(false); err != nil {
		t.Errorf("no single sign-on: %v", err)
	}
}

// TestMetricsPprof: profiles are off by default, turned on by
// SESAME_METRICS_PPROF, and refused without a metrics listener to serve
// them on.
func TestMetricsPprof(t *testing.T) {
	if Default().MetricsPprof {
		t.Fatal("pprof is on by default")
	}
	env := map[string]string{"SESAME_METRICS_PPROF": "true"}
	c, err := Load("", func(k string) string { return env[k] })
	if err != nil || !c.MetricsPprof {
		t.Fatalf("SESAME_METRICS_PPROF=true: %v, %v", c.MetricsPprof, err)
	}
	c.SecretKey = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
	c.Database = "sqlite:/tmp/x.db"
	if err := c.Validate(false); err == nil || !strings.Contains(err.Error(), "metrics_pprof") {
		t.Errorf("pprof without metrics_addr: %v", err)
	}
	c.MetricsAddr = "127.0.0.1:9090"
	if err := c.Validate(false); err != nil {
		t.Errorf("pprof with metrics_addr: %v", err)
	}
}
