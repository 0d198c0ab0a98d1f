package mail

import (
	"bytes"
	"context"
	"crypto/subtle"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	netmail "net/mail"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Catcher limits: it is a demo and test tool, never a mail store.
const (
	catcherKeep       = 200     // messages kept; older ones are dropped
	catcherMaxMessage = 1 << 20 // bytes per message
	catcherMaxRcpts   = 10
	catcherMaxParts   = 20
)

// Caught is one message received by the Catcher, decoded for reading.
type Caught struct {
	ID           int // 1, 2, 3... in arrival order
	Received     time.Time
	EnvelopeFrom string   // MAIL FROM
	EnvelopeTo   []string // RCPT TO
	From         string   // From header, decoded
	To           string   // To header, decoded
	Subject      string   // decoded from RFC 2047
	Date         time.Time
	MessageID    string
	Header       netmail.Header // raw headers, as received
	Text         string         // the text/plain part, decoded
	HTML         string         // the text/html part, decoded (never rendered by Handler)
	ContentType  string         // top-level media type, e.g. multipart/alternative
	Raw          []byte
	ParseErr     string // why the MIME could not be fully decoded, if so
}

// CatcherConfig configures a Catcher beyond StartCatcher's plain defaults.
type CatcherConfig struct {
	Addr   string // host:port; port 0 picks a free port
	Logger *slog.Logger
	// TLS, when set, offers STARTTLS (or, with Implicit, speaks TLS from the
	// first byte).
	TLS      *tls.Config
	Implicit bool
	// Username and Password, when set, require AUTH PLAIN before MAIL FROM.
	Username, Password string
}

// Catcher is an in-process SMTP server that keeps the last messages in
// memory and shows them on a read-only web page.
type Catcher struct {
	srv    *smtp.Server
	ln     net.Listener
	cfg    CatcherConfig
	logger *slog.Logger
	done   chan struct{}

	mu      sync.Mutex
	msgs    []Caught
	total   int
	arrived chan struct{} // closed and replaced on each arrival, to wake WaitFor
}

// StartCatcher listens on addr (e.g. "127.0.0.1:0") with plain SMTP and no auth.
func StartCatcher(addr string, logger *slog.Logger) (*Catcher, error) {
	return NewCatcher(CatcherConfig{Addr: addr, Logger: logger})
}

// NewCatcher starts a Catcher with cfg.
func NewCatcher(cfg CatcherConfig) (*Catcher, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if (cfg.Username == "") != (cfg.Password == "") {
		return nil, errors.New("mail: catcher needs both a username and a password, or neither")
	}
	if cfg.Implicit && cfg.TLS == nil {
		return nil, errors.New("mail: catcher with implicit TLS needs a TLS config")
	}
	var (
		ln  net.Listener
		err error
	)
	if cfg.Implicit {
		ln, err = tls.Listen("tcp", cfg.Addr, cfg.TLS)
	} else {
		ln, err = net.Listen("tcp", cfg.Addr)
	}
	if err != nil {
		return nil, fmt.Errorf("mail: catcher: %w", err)
	}
	c := &Catcher{ln: ln, cfg: cfg, logger: cfg.Logger, done: make(chan struct{}), arrived: make(chan struct{})}
	s := smtp.NewServer(c)
	s.Domain = "catcher.localhost"
	s.MaxMessageBytes = catcherMaxMessage
	s.MaxRecipients = catcherMaxRcpts
	s.ReadTimeout = 30 * time.Second
	s.WriteTimeout = 30 * time.Second
	s.EnableSMTPUTF8 = true
	if !cfg.Implicit {
		s.TLSConfig = cfg.TLS
	}
	// Plain-text AUTH is allowed only when the catcher has no TLS at all,
	// which only tests do; with TLS, go-smtp insists on it first.
	s.AllowInsecureAuth = cfg.TLS == nil
	c.srv = s
	go func() {
		defer close(c.done)
		if err := s.Serve(ln); err != nil && !errors.Is(err, smtp.ErrServerClosed) && !errors.Is(err, net.ErrClosed) {
			c.logger.Error("mail catcher stopped", "err", err)
		}
	}()
	return c, nil
}

// Addr is the address the catcher listens on, e.g. "127.0.0.1:41234".
func (c *Catcher) Addr() string { return c.ln.Addr().String() }

// Close stops the server and waits for it. Closing twice is harmless.
func (c *Catcher) Close() error {
	err := c.srv.Close()
	// The server only knows the listener once Serve has started; closing
	// it ourselves stops a Serve that had not got that far yet.
	if lnErr := c.ln.Close(); lnErr != nil && !errors.Is(lnErr, net.ErrClosed) {
		err = errors.Join(err, lnErr)
	}
	<-c.done
	if errors.Is(err, smtp.ErrServerClosed) {
		return nil
	}
	return err
}

// Messages returns the kept messages, oldest first.
func (c *Catcher) Messages() []Caught {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Caught(nil), c.msgs...)
}

// Message returns the kept message with id.
func (c *Catcher) Message(id int) (Caught, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, m := range c.msgs {
		if m.ID == id {
			return m, true
		}
	}
	return Caught{}, false
}

// WaitFor blocks until at least n messages have arrived since the start, or ctx ends.
func (c *Catcher) WaitFor(ctx context.Context, n int) error {
	for {
		c.mu.Lock()
		total, arrived := c.total, c.arrived
		c.mu.Unlock()
		if total >= n {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("mail: waiting for %d messages, got %d: %w", n, total, ctx.Err())
		case <-arrived:
		}
	}
}

func (c *Catcher) add(m Caught) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.total++
	m.ID = c.total
	c.msgs = append(c.msgs, m)
	if len(c.msgs) > catcherKeep {
		c.msgs = append([]Caught(nil), c.msgs[len(c.msgs)-catcherKeep:]...)
	}
	close(c.arrived)
	c.arrived = make(chan struct{})
	// Subject and recipient only: this is the demo's log, but a reset link
	// must not end up in it.
	c.logger.Info("mail catcher received a message", "id", m.ID, "to", RedactEmail(strings.Join(m.EnvelopeTo, ",")), "subject_bytes", len(m.Subject))
}

// NewSession implements smtp.Backend.
func (c *Catcher) NewSession(*smtp.Conn) (smtp.Session, error) {
	return &catcherSession{c: c}, nil
}

type catcherSession struct {
	c      *Catcher
	authed bool
	from   string
	to     []string
}

func (s *catcherSession) AuthMechanisms() []string {
	if s.c.cfg.Username == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (s *catcherSession) Auth(mech string) (sasl.Server, error) {
	if s.c.cfg.Username == "" || mech != sasl.Plain {
		return nil, smtp.ErrAuthUnknownMechanism
	}
	return sasl.NewPlainServer(func(identity, username, password string) error {
		userOK := subtle.ConstantTimeCompare([]byte(username), []byte(s.c.cfg.Username))
		passOK := subtle.ConstantTimeCompare([]byte(password), []byte(s.c.cfg.Password))
		if userOK&passOK != 1 || (identity != "" && identity != username) {
			return smtp.ErrAuthFailed
		}
		s.authed = true
		return nil
	}), nil
}

func (s *catcherSession) Mail(from string, _ *smtp.MailOptions) error {
	if s.c.cfg.Username != "" && !s.authed {
		return smtp.ErrAuthRequired
	}
	s.from = from
	return nil
}

func (s *catcherSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.to = append(s.to, to)
	return nil
}

func (s *catcherSession) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	m := parseCaught(raw)
	m.Received = time.Now()
	m.EnvelopeFrom, m.EnvelopeTo = s.from, append([]string(nil), s.to...)
	s.c.add(m)
	return nil
}

func (s *catcherSession) Reset()        { s.from, s.to = "", nil }
func (s *catcherSession) Logout() error { return nil }

var wordDecoder = mime.WordDecoder{}

// parseCaught decodes a message as well as it can; what it cannot decode is
// reported in ParseErr and the raw text stays available.
func parseCaught(raw []byte) Caught {
	m := Caught{Raw: raw}
	msg, err := netmail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		m.ParseErr = err.Error()
		m.Text = string(raw)
		return m
	}
	m.Header = msg.Header
	m.From = decodeAddrHeader(msg.Header, "From")
	m.To = decodeAddrHeader(msg.Header, "To")
	if s, err := wordDecoder.DecodeHeader(msg.Header.Get("Subject")); err == nil {
		m.Subject = s
	} else {
		m.Subject = msg.Header.Get("Subject")
	}
	if d, err := msg.Header.Date(); err == nil {
		m.Date = d
	}
	m.MessageID = msg.Header.Get("Message-Id")
	parts := 0
	if err := m.walk(msg.Header.Get("Content-Type"), msg.Header.Get("Content-Transfer-Encoding"), msg.Body, 0, &parts); err != nil {
		m.ParseErr = err.Error()
	}
	return m
}

func decodeAddrHeader(h netmail.Header, key string) string {
	list, err := h.AddressList(key)
	if err != nil {
		return h.Get(key)
	}
	out := make([]string, len(list))
	for i, a := range list {
		if a.Name != "" {
			out[i] = a.Name + " <" + a.Address + ">"
		} else {
			out[i] = a.Address
		}
	}
	return strings.Join(out, ", ")
}

// walk fills Text and HTML from the first text/plain and text/html parts,
// descending into multipart containers a few levels deep.
func (m *Caught) walk(contentType, cte string, body io.Reader, depth int, parts *int) error {
	media, params, err := mime.ParseMediaType(contentType)
	if contentType == "" || err != nil {
		media, params = "text/plain", map[string]string{}
	}
	if depth == 0 {
		m.ContentType = media
	}
	if strings.HasPrefix(media, "multipart/") {
		if depth >= 3 {
			return errors.New("multipart nested too deep")
		}
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextRawPart()
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return err
			}
			*parts++
			if *parts > catcherMaxParts {
				return errors.New("too many parts")
			}
			if err := m.walk(p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"), p, depth+1, parts); err != nil {
				return err
			}
		}
	}
	var r io.Reader = body
	switch strings.ToLower(strings.TrimSpace(cte)) {
	case "quoted-printable":
		r = quotedprintable.NewReader(body)
	case "base64":
		r = base64.NewDecoder(base64.StdEncoding, &newlineStripper{r: body})
	}
	data, err := io.ReadAll(io.LimitReader(r, catcherMaxMessage))
	if err != nil {
		return fmt.Errorf("%s part: %w", media, err)
	}
	// Lines travel as CRLF; show them as the sender wrote them.
	text := strings.ReplaceAll(string(data), "\r\n", "\n")
	switch {
	case media == "text/plain" && m.Text == "":
		m.Text = text
	case media == "text/html" && m.HTML == "":
		m.HTML = text
	}
	return nil
}

// newlineStripper drops CR and LF so base64 lines decode as one stream.
type newlineStripper struct{ r io.Reader }

func (n *newlineStripper) Read(p []byte) (int, error) {
	for {
		k, err := n.r.Read(p)
		j := 0
		for _, b := range p[:k] {
			if b != '\r' && b != '\n' {
				p[j] = b
				j++
			}
		}
		if j > 0 || err != nil {
			return j, err
		}
	}
}
