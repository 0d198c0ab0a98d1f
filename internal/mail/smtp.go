package mail

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	netmail "net/mail"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// TLSMode says how the SMTP connection is protected.
type TLSMode string

// The TLS modes. There is deliberately no "opportunistic" mode: a reset link
// must not silently travel in clear because an attacker stripped STARTTLS.
const (
	TLSNone     TLSMode = "none"     // plain SMTP; only for a relay on a trusted network or the demo catcher
	TLSStartTLS TLSMode = "starttls" // STARTTLS is mandatory; the usual submission port 587
	TLSImplicit TLSMode = "tls"      // TLS from the first byte; the usual port 465
)

// SMTPConfig configures delivery to an SMTP server.
type SMTPConfig struct {
	Host     string
	Port     int // 0 picks 25, 587 or 465 from TLS
	TLS      TLSMode
	Username string // empty: no AUTH
	Password string
	From     Address
	HeloName string        // the name sent in EHLO; empty uses the From domain
	Timeout  time.Duration // per connection; 0 means 30 s
	// InsecureSkipVerify accepts any server certificate. Tests and demo only:
	// the configuration layer must refuse it outside demo mode.
	InsecureSkipVerify bool
}

// SMTP is a Sender that delivers each message over its own SMTP connection.
// Sesame sends few e-mails, so the simplicity beats a connection pool.
type SMTP struct {
	cfg    SMTPConfig
	domain string // From's domain, the right-hand side of Message-IDs
	now    func() time.Time
}

// NewSMTP checks cfg and returns a sender. It does not connect.
func NewSMTP(cfg SMTPConfig) (*SMTP, error) {
	if err := checkHeaderText("smtp host", cfg.Host, 253, false); err != nil || strings.ContainsAny(cfg.Host, " /@") {
		return nil, fmt.Errorf("%w: smtp host %q", ErrInvalid, cfg.Host)
	}
	if cfg.Port < 0 || cfg.Port > 65535 {
		return nil, fmt.Errorf("%w: smtp port %d", ErrInvalid, cfg.Port)
	}
	switch cfg.TLS {
	case TLSNone:
		if cfg.Port == 0 {
			cfg.Port = 25
		}
		// A password in clear is only acceptable to a relay on this machine.
		if cfg.Username != "" && !isLoopback(cfg.Host) {
			return nil, fmt.Errorf("%w: smtp authentication without TLS is only allowed to a loopback host", ErrInvalid)
		}
	case TLSStartTLS:
		if cfg.Port == 0 {
			cfg.Port = 587
		}
	case TLSImplicit:
		if cfg.Port == 0 {
			cfg.Port = 465
		}
	default:
		return nil, fmt.Errorf("%w: smtp tls mode %q (want none, starttls or tls)", ErrInvalid, cfg.TLS)
	}
	if err := cfg.From.Validate(); err != nil {
		return nil, fmt.Errorf("smtp from: %w", err)
	}
	if cfg.Username == "" && cfg.Password != "" {
		return nil, fmt.Errorf("%w: smtp password without a username", ErrInvalid)
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 30 * time.Second
	}
	if cfg.Timeout < 0 {
		return nil, fmt.Errorf("%w: negative smtp timeout", ErrInvalid)
	}
	domain := cfg.From.Email[strings.LastIndexByte(cfg.From.Email, '@')+1:]
	if cfg.HeloName == "" {
		cfg.HeloName = domain
	}
	if err := checkHeaderText("helo name", cfg.HeloName, 253, false); err != nil || strings.ContainsAny(cfg.HeloName, " <>") {
		return nil, fmt.Errorf("%w: smtp helo name %q", ErrInvalid, cfg.HeloName)
	}
	return &SMTP{cfg: cfg, domain: domain, now: time.Now}, nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Send delivers m with the Message-ID <messageID@from-domain>. The whole
// conversation is bounded by the configured timeout and by ctx: the worker
// sets ctx's deadline to the end of its lease.
func (s *SMTP) Send(ctx context.Context, m Message, messageID string) error {
	msg, err := s.compose(m, messageID, s.now())
	if err != nil {
		return fmt.Errorf("%w: %w", ErrPermanent, err)
	}
	timeout := s.cfg.Timeout
	if dl, ok := ctx.Deadline(); ok {
		left := time.Until(dl)
		if left <= 0 {
			return ctx.Err()
		}
		timeout = min(timeout, left)
	}
	tlsConfig := &tls.Config{
		ServerName:         s.cfg.Host,
		MinVersion:         tls.VersionTLS12,
		InsecureSkipVerify: s.cfg.InsecureSkipVerify, //nolint:gosec // refused outside demo by the configuration layer
	}
	// go-mail bounds each step with its timeout but watches ctx only while
	// dialling; closing the connection when ctx ends makes cancellation
	// (shutdown, lease end) interrupt a server that trickles its answers.
	// With a dialer of our own, go-mail no longer wraps implicit TLS itself,
	// so the dialer does it.
	dial := func(dialCtx context.Context, network, addr string) (net.Conn, error) {
		var d net.Dialer
		c, err := d.DialContext(dialCtx, network, addr)
		if err != nil {
			return nil, err
		}
		context.AfterFunc(ctx, func() { c.Close() })
		if s.cfg.TLS != TLSImplicit {
			return c, nil
		}
		tc := tls.Client(c, tlsConfig)
		if err := tc.HandshakeContext(dialCtx); err != nil {
			c.Close()
			return nil, err
		}
		return tc, nil
	}
	opts := []gomail.Option{
		gomail.WithPort(s.cfg.Port),
		gomail.WithTimeout(timeout),
		gomail.WithHELO(s.cfg.HeloName),
		gomail.WithTLSConfig(tlsConfig),
		gomail.WithDialContextFunc(dial),
	}
	switch s.cfg.TLS {
	case TLSNone:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	case TLSStartTLS:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	case TLSImplicit:
		// The connection is already TLS (see dial). "Opportunistic" makes
		// go-mail skip STARTTLS, which is not offered inside TLS, yet read
		// the TLS state so that authentication knows the channel is encrypted.
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSOpportunistic))
	}
	if s.cfg.Username != "" {
		auth := gomail.SMTPAuthAutoDiscover
		if s.cfg.TLS == TLSNone {
			// NewSMTP allowed this only towards a loopback relay.
			auth = gomail.SMTPAuthPlainNoEnc
		}
		opts = append(opts, gomail.WithSMTPAuth(auth), gomail.WithUsername(s.cfg.Username), gomail.WithPassword(s.cfg.Password))
	}
	client, err := gomail.NewClient(s.cfg.Host, opts...)
	if err != nil {
		return fmt.Errorf("smtp client: %w", err)
	}
	if err := client.DialAndSendWithContext(ctx, msg); err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return fmt.Errorf("smtp: %w (%w)", ctxErr, err)
		}
		var se *gomail.SendError
		// A definitive refusal of the recipient (5xx on RCPT TO) will not
		// change by retrying; every other failure (connection, TLS, auth,
		// 4xx) may be the server's or the configuration's and is retried.
		if errors.As(err, &se) && se.Reason == gomail.ErrSMTPRcptTo && !se.IsTemp() {
			return fmt.Errorf("%w: smtp: %w", ErrPermanent, err)
		}
		return fmt.Errorf("smtp: %w", err)
	}
	return nil
}

// compose builds the MIME message. It validates m first, so nothing that
// reaches a header can contain a line break. Addresses are set as parsed
// values and written by net/mail, which quotes or RFC 2047-encodes the
// display name; the subject is RFC 2047-encoded when not plain ASCII.
func (s *SMTP) compose(m Message, messageID string, now time.Time) (*gomail.Msg, error) {
	if err := m.Validate(); err != nil {
		return nil, err
	}
	if err := checkMessageID(messageID); err != nil {
		return nil, err
	}
	return s.build(m, messageID, now), nil
}

// build writes the headers and parts of an already validated message.
func (s *SMTP) build(m Message, messageID string, now time.Time) *gomail.Msg {
	msg := gomail.NewMsg(gomail.WithNoDefaultUserAgent(), gomail.WithCharset(gomail.CharsetUTF8), gomail.WithEncoding(gomail.EncodingQP))
	msg.FromMailAddress(&netmail.Address{Name: s.cfg.From.Name, Address: s.cfg.From.Email})
	msg.AddToMailAddress(&netmail.Address{Name: m.To.Name, Address: m.To.Email})
	msg.Subject(m.Subject)
	msg.SetMessageIDWithValue(messageID + "@" + s.domain)
	msg.SetDateWithValue(now)
	msg.SetGenHeader("Content-Language", string(m.Lang))
	// RFC 3834: tells auto-responders (out-of-office) not to answer.
	msg.SetGenHeader("Auto-Submitted", "auto-generated")
	msg.SetGenHeader("X-Auto-Response-Suppress", "All")
	msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	if m.HTML != "" {
		msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)
	}
	return msg
}

// checkMessageID allows the dot-atom characters we generate and nothing that
// could end the header or the angle brackets.
func checkMessageID(id string) error {
	if id == "" || len(id) > 100 {
		return fmt.Errorf("%w: message id must be 1 to 100 bytes", ErrInvalid)
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' || r == '_') {
			return fmt.Errorf("%w: message id %q has a character outside [A-Za-z0-9._-]", ErrInvalid, id)
		}
	}
	if strings.HasPrefix(id, ".") || strings.HasSuffix(id, ".") || strings.Contains(id, "..") {
		return fmt.Errorf("%w: message id %q is not a dot-atom", ErrInvalid, id)
	}
	return nil
}
