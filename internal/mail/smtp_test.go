package mail

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/mail"
	"net/textproto"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

var quietLogger = slog.New(slog.NewTextHandler(io.Discard, nil))

func startCatcher(t *testing.T, cfg CatcherConfig) *Catcher {
	t.Helper()
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	if cfg.Logger == nil {
		cfg.Logger = quietLogger
	}
	c, err := NewCatcher(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// selfSigned makes a throw-away certificate for 127.0.0.1.
func selfSigned(t *testing.T) *tls.Config {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "catcher test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}, MinVersion: tls.VersionTLS12}
}

func smtpTo(t *testing.T, addr string, mode TLSMode, user, pass string) *SMTP {
	t.Helper()
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := strconv.Atoi(port)
	s, err := NewSMTP(SMTPConfig{
		Host: host, Port: p, TLS: mode, Username: user, Password: pass,
		From:               Address{Name: "Sesame", Email: "no-reply@sesame.example"},
		Timeout:            5 * time.Second,
		InsecureSkipVerify: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSMTPDeliversReadableMessage(t *testing.T) {
	r, err := NewRenderer()
	if err != nil {
		t.Fatal(err)
	}
	m, err := r.Render("fr", Address{Name: "Jérôme Dupont-Lefèvre", Email: "jerome@example.be"},
		PasswordReset{Name: "Jérôme", URL: "https://sesame.example/password/reset?token=tok123&lang=fr"})
	if err != nil {
		t.Fatal(err)
	}
	c := startCatcher(t, CatcherConfig{})
	s := smtpTo(t, c.Addr(), TLSNone, "", "")
	const id = "sesame.42.0011223344556677"
	// The same outbox row sent twice (a retry after a lost 250) must carry
	// the same Message-ID.
	for range 2 {
		if err := s.Send(context.Background(), m, id); err != nil {
			t.Fatal(err)
		}
	}
	got := c.Messages()
	if len(got) != 2 {
		t.Fatalf("caught %d messages, want 2", len(got))
	}
	g := got[0]
	checks := []struct{ what, got, want string }{
		{"envelope from", g.EnvelopeFrom, "no-reply@sesame.example"},
		{"envelope to", strings.Join(g.EnvelopeTo, ","), "jerome@example.be"},
		{"from", g.From, "Sesame <no-reply@sesame.example>"},
		{"to", g.To, "Jérôme Dupont-Lefèvre <jerome@example.be>"},
		{"subject", g.Subject, "Réinitialisation de votre mot de passe Sesame"},
		{"message id", g.MessageID, "<" + id + "@sesame.example>"},
		{"retry message id", got[1].MessageID, "<" + id + "@sesame.example>"},
		{"content language", g.Header.Get("Content-Language"), "fr"},
		{"auto-submitted", g.Header.Get("Auto-Submitted"), "auto-generated"},
		{"content type", g.ContentType, "multipart/alternative"},
		{"parse error", g.ParseErr, ""},
		{"text", g.Text, m.Text},
		{"html", g.HTML, m.HTML},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.what, c.got, c.want)
		}
	}
	// Non-ASCII must travel RFC 2047-encoded, never as raw 8-bit header bytes.
	if raw := g.Header.Get("Subject"); !strings.HasPrefix(strings.ToLower(raw), "=?utf-8?") {
		t.Errorf("raw Subject %q is not RFC 2047-encoded", raw)
	}
	if d := time.Since(g.Date); g.Date.IsZero() || d < -time.Minute || d > time.Minute {
		t.Errorf("Date = %v, want about now", g.Date)
	}
	if !strings.Contains(g.Text, "https://sesame.example/password/reset?token=tok123&lang=fr") {
		t.Errorf("text part lacks the reset link:\n%s", g.Text)
	}
}

func TestSMTPTransports(t *testing.T) {
	msg := validMessage()
	tests := []struct {
		name     string
		catcher  func(t *testing.T) CatcherConfig
		mode     TLSMode
		user     string
		pass     string
		wantSent bool
	}{
		{"plain", func(*testing.T) CatcherConfig { return CatcherConfig{} }, TLSNone, "", "", true},
		{"plain with auth to loopback", func(*testing.T) CatcherConfig {
			return CatcherConfig{Username: "sesame", Password: "s3cret"}
		}, TLSNone, "sesame", "s3cret", true},
		{"starttls", func(t *testing.T) CatcherConfig { return CatcherConfig{TLS: selfSigned(t)} }, TLSStartTLS, "", "", true},
		{"starttls with auth", func(t *testing.T) CatcherConfig {
			return CatcherConfig{TLS: selfSigned(t), Username: "sesame", Password: "s3cret"}
		}, TLSStartTLS, "sesame", "s3cret", true},
		{"starttls with wrong password", func(t *testing.T) CatcherConfig {
			return CatcherConfig{TLS: selfSigned(t), Username: "sesame", Password: "s3cret"}
		}, TLSStartTLS, "sesame", "wrong", false},
		{"no auth where the server requires it", func(t *testing.T) CatcherConfig {
			return CatcherConfig{TLS: selfSigned(t), Username: "sesame", Password: "s3cret"}
		}, TLSStartTLS, "", "", false},
		// A server (or an attacker in the path) that offers no STARTTLS must
		// not get the message in clear.
		{"starttls required but not offered", func(*testing.T) CatcherConfig { return CatcherConfig{} }, TLSStartTLS, "", "", false},
		{"implicit tls", func(t *testing.T) CatcherConfig { return CatcherConfig{TLS: selfSigned(t), Implicit: true} }, TLSImplicit, "", "", true},
		{"implicit tls with auth", func(t *testing.T) CatcherConfig {
			return CatcherConfig{TLS: selfSigned(t), Implicit: true, Username: "sesame", Password: "s3cret"}
		}, TLSImplicit, "sesame", "s3cret", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := startCatcher(t, tt.catcher(t))
			s := smtpTo(t, c.Addr(), tt.mode, tt.user, tt.pass)
			err := s.Send(context.Background(), msg, "sesame.1.aa")
			if tt.wantSent != (err == nil) {
				t.Fatalf("Send() = %v, want sent=%v", err, tt.wantSent)
			}
			if n := len(c.Messages()); (n == 1) != tt.wantSent {
				t.Fatalf("catcher holds %d messages, want sent=%v", n, tt.wantSent)
			}
			if err != nil && strings.Contains(err.Error(), tt.pass) && tt.pass != "" {
				t.Errorf("error %q reveals the password", err)
			}
		})
	}
}

func TestSMTPRefusesUnverifiedCertificate(t *testing.T) {
	c := startCatcher(t, CatcherConfig{TLS: selfSigned(t)})
	host, port, _ := net.SplitHostPort(c.Addr())
	p, _ := strconv.Atoi(port)
	s, err := NewSMTP(SMTPConfig{Host: host, Port: p, TLS: TLSStartTLS, From: Address{Email: "no-reply@sesame.example"}, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Send(context.Background(), validMessage(), "sesame.1.aa"); err == nil {
		t.Fatal("Send accepted a self-signed certificate without InsecureSkipVerify")
	}
	if n := len(c.Messages()); n != 0 {
		t.Fatalf("catcher holds %d messages, want 0", n)
	}
}

func TestSMTPInvalidMessageIsPermanent(t *testing.T) {
	s := smtpTo(t, "127.0.0.1:1", TLSNone, "", "")
	m := validMessage()
	m.Subject = "x\r\nBcc: eve@evil.example"
	err := s.Send(context.Background(), m, "sesame.1.aa")
	if !errors.Is(err, ErrPermanent) || !errors.Is(err, ErrInvalid) {
		t.Fatalf("Send() = %v, want ErrPermanent and ErrInvalid", err)
	}
	if err := s.Send(context.Background(), validMessage(), "id>\r\nBcc: x"); !errors.Is(err, ErrInvalid) {
		t.Fatalf("Send() with a hostile message id = %v, want ErrInvalid", err)
	}
}

func TestNewSMTPConfig(t *testing.T) {
	from := Address{Name: "Sesame", Email: "no-reply@sesame.example"}
	tests := []struct {
		name string
		cfg  SMTPConfig
		ok   bool
	}{
		{"plain", SMTPConfig{Host: "mail.example", TLS: TLSNone, From: from}, true},
		{"starttls with auth", SMTPConfig{Host: "mail.example", TLS: TLSStartTLS, Username: "u", Password: "p", From: from}, true},
		{"implicit", SMTPConfig{Host: "mail.example", TLS: TLSImplicit, From: from}, true},
		{"ipv6 literal", SMTPConfig{Host: "::1", TLS: TLSNone, From: from}, true},
		{"auth in clear to a remote host", SMTPConfig{Host: "mail.example", TLS: TLSNone, Username: "u", Password: "p", From: from}, false},
		{"empty tls mode", SMTPConfig{Host: "mail.example", From: from}, false},
		{"opportunistic is not a mode", SMTPConfig{Host: "mail.example", TLS: "opportunistic", From: from}, false},
		{"no host", SMTPConfig{TLS: TLSNone, From: from}, false},
		{"host with CRLF", SMTPConfig{Host: "mail.example\r\nRCPT", TLS: TLSNone, From: from}, false},
		{"bad port", SMTPConfig{Host: "mail.example", Port: 70000, TLS: TLSNone, From: from}, false},
		{"bad from", SMTPConfig{Host: "mail.example", TLS: TLSNone, From: Address{Email: "nope"}}, false},
		{"password without user", SMTPConfig{Host: "mail.example", TLS: TLSStartTLS, Password: "p", From: from}, false},
		{"hostile helo", SMTPConfig{Host: "mail.example", TLS: TLSNone, From: from, HeloName: "a\r\nMAIL FROM:<x>"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewSMTP(tt.cfg)
			if (err == nil) != tt.ok {
				t.Fatalf("NewSMTP() = %v, want ok=%v", err, tt.ok)
			}
		})
	}
}

// allowedHeaders is every header compose may write. Anything else in the
// output would be an injected header.
var allowedHeaders = map[string]bool{
	"Auto-Submitted": true, "Content-Language": true, "Date": true, "Mime-Version": true,
	"Message-Id": true, "Subject": true, "X-Auto-Response-Suppress": true, "From": true,
	"To": true, "Content-Type": true, "Content-Transfer-Encoding": true,
}

// checkHeaders parses what compose wrote and fails on any header line that
// compose did not mean to write, or on a To that is not exactly the one given.
func checkHeaders(t *testing.T, raw []byte, to Address, subject string, strictTo bool) {
	t.Helper()
	head, _, ok := bytes.Cut(raw, []byte("\r\n\r\n"))
	if !ok {
		t.Fatalf("no end of headers in\n%s", raw)
	}
	for _, line := range strings.Split(string(head), "\r\n") {
		if line == "" || strings.ContainsAny(line, "\r\n\x00") {
			t.Fatalf("bad header line %q", line)
		}
		if line[0] == ' ' || line[0] == '\t' {
			continue // folded continuation
		}
		name, _, ok := strings.Cut(line, ":")
		if !ok || !allowedHeaders[textproto.CanonicalMIMEHeaderKey(name)] {
			t.Fatalf("unexpected header line %q", line)
		}
	}
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("output does not parse: %v", err)
	}
	for k, v := range msg.Header {
		if !allowedHeaders[k] || len(v) != 1 {
			t.Fatalf("header %s = %q", k, v)
		}
	}
	list, err := msg.Header.AddressList("To")
	if !strictTo {
		return
	}
	if err != nil || len(list) != 1 || list[0].Address != to.Email {
		t.Fatalf("To = %v (%v), want exactly %q", list, err, to.Email)
	}
	if subject != "" {
		if got, err := wordDecoder.DecodeHeader(msg.Header.Get("Subject")); err != nil || got != subject {
			t.Fatalf("Subject decodes to %q (%v), want %q", got, err, subject)
		}
	}
}

func FuzzComposeHeaders(f *testing.F) {
	seeds := [][3]string{
		{"Jan Peeters", "jan@example.be", "Réinitialisation"},
		{"Jan\r\nBcc: eve@evil.example", "jan@example.be", "Hi"},
		{"Jan", "jan@example.be\r\nBcc: eve@evil.example", "Hi"},
		{"Jan", "jan@example.be", "Hi\r\nBcc: eve@evil.example"},
		{"Jan\nBcc: eve@evil.example", "jan@example.be", "Hi\nX-Evil: 1"},
		{"Jan\rBcc: eve@evil.example", "jan@example.be", "\x00"},
		{"\"Boss\" <ceo@evil.example>", "jan@example.be", "=?utf-8?q?=0D=0ABcc:_x?="},
		{strings.Repeat("é", 300), strings.Repeat("a", 64) + "@" + strings.Repeat("b", 180) + ".be", strings.Repeat("ü", 150)},
		{"Zoë 😀 \u2028Bcc: x", "zoë@exämple.be", "日本語 subject"},
		{"\xff\xfe", "jan@example.be", "\xc3"},
		{"", "a@b", "s"},
	}
	for _, s := range seeds {
		f.Add(s[0], s[1], s[2])
	}
	s, err := NewSMTP(SMTPConfig{Host: "127.0.0.1", TLS: TLSNone, From: Address{Name: "Sesame", Email: "no-reply@sesame.example"}})
	if err != nil {
		f.Fatal(err)
	}
	now := time.Date(2026, 11, 22, 13, 5, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, name, email, subject string) {
		m := validMessage()
		m.To = Address{Name: name, Email: email}
		m.Subject = subject
		msg, err := s.compose(m, "sesame.1.ab", now)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("compose error %v does not wrap ErrInvalid", err)
			}
		} else {
			var buf bytes.Buffer
			if _, err := msg.WriteTo(&buf); err != nil {
				t.Fatal(err)
			}
			checkHeaders(t, buf.Bytes(), m.To, subject, true)
		}
		// Defence in depth: even a name and subject that Validate would
		// refuse are encoded, not written raw, by the header writer. (An
		// invalid UTF-8 name may garble To, but must not add a header.)
		m.To.Email = "jan@example.be"
		var buf bytes.Buffer
		if _, err := s.build(m, "sesame.1.ab", now).WriteTo(&buf); err != nil {
			t.Fatal(err)
		}
		checkHeaders(t, buf.Bytes(), m.To, "", utf8.ValidString(name))
	})
}
