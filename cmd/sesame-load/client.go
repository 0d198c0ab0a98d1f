package main

import (
	"context"
	"errors"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"syscall"
	"time"
)

// loopbackURL parses the target and refuses anything but an http(s) URL on
// a loopback host: localhost, 127.0.0.1 or ::1, with no path, query or
// user info.
func loopbackURL(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("--target: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("--target %q: want an http:// or https:// URL", s)
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" || (u.Path != "" && u.Path != "/") || u.Opaque != "" {
		return nil, fmt.Errorf("--target %q: give only scheme, host and port", s)
	}
	switch u.Hostname() {
	case "localhost", "127.0.0.1", "::1":
	default:
		return nil, fmt.Errorf("--target %q: only a portal on this machine (localhost, 127.0.0.1, [::1]) may be loaded", s)
	}
	return &url.URL{Scheme: u.Scheme, Host: u.Host}, nil
}

// errNotLoopback: a connection was about to leave the machine.
var errNotLoopback = errors.New("refusing to connect to a non-loopback address")

// newClient returns the HTTP client every virtual user shares (each keeps
// its own cookies). It never follows redirects (the tool reads them), never
// uses a proxy, and its dialer refuses any address that is not loopback,
// in case "localhost" resolves somewhere else.
func newClient(conns int) *http.Client {
	dialer := &net.Dialer{
		Timeout: 5 * time.Second,
		Control: func(network, address string, _ syscall.RawConn) error {
			host, _, err := net.SplitHostPort(address)
			if err != nil {
				return err
			}
			if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
				return fmt.Errorf("%w: %s", errNotLoopback, address)
			}
			return nil
		},
	}
	return &http.Client{
		Transport: &http.Transport{
			Proxy:               nil,
			DialContext:         dialer.DialContext,
			MaxIdleConns:        conns,
			MaxIdleConnsPerHost: conns,
			IdleConnTimeout:     30 * time.Second,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Timeout:       30 * time.Second,
	}
}

// checkPortal asks the portal whether it is ready, so a wrong --target
// fails before any account is created.
func checkPortal(ctx context.Context, c *http.Client, target *url.URL) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target.String()+"/readyz", nil)
	if err != nil {
		return err
	}
	resp, err := c.Do(req)
	if err != nil {
		return fmt.Errorf("no portal answering at %s: %w", target, err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, maxBody))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("the portal at %s is not ready: /readyz answered %d", target, resp.StatusCode)
	}
	return nil
}

// maxBody bounds what is read of an answer; the largest page (the wizard's
// step 3, with its QR code) is a few tens of KiB.
const maxBody = 1 << 20

// browser is one virtual user's browser. It keeps its cookies by hand: the
// portal's cookies are __Host- and Secure, which net/http/cookiejar will not
// send over plain http, even to localhost.
type browser struct {
	client    *http.Client
	target    *url.URL
	cookies   map[string]string
	forwarded string // X-Forwarded-For to send; "" for none
}

func newBrowser(c *http.Client, target *url.URL) *browser {
	return &browser{client: c, target: target, cookies: map[string]string{}}
}

// benchmarkAddr is the n-th address of 198.18.0.0/15, the range RFC 2544
// sets aside for benchmarks: never a real client's.
func benchmarkAddr(n int) string {
	return fmt.Sprintf("198.%d.%d.%d", 18+n>>16&1, n>>8&0xff, n&0xff)
}

// forget clears the cookies: the next request comes from a new visitor.
func (b *browser) forget() { clear(b.cookies) }

// answer is what the tool needs of a response.
type answer struct {
	status     int
	location   string
	retryAfter string
	body       string
}

// do sends a request (a form POST when form is not nil, as a same-origin
// browser sends it) and keeps the cookies the answer sets.
func (b *browser) do(ctx context.Context, method, path string, form url.Values) (answer, error) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, b.target.String()+path, body)
	if err != nil {
		return answer{}, err
	}
	req.Header.Set("User-Agent", "sesame-load")
	req.Header.Set("Accept-Language", "en")
	if b.forwarded != "" {
		req.Header.Set("X-Forwarded-For", b.forwarded)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", b.target.String())
		req.Header.Set("Sec-Fetch-Site", "same-origin")
	}
	for name, value := range b.cookies {
		req.AddCookie(&http.Cookie{Name: name, Value: value})
	}
	resp, err := b.client.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	page, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return answer{}, err
	}
	for _, c := range resp.Cookies() {
		if c.MaxAge < 0 {
			delete(b.cookies, c.Name)
		} else {
			b.cookies[c.Name] = c.Value
		}
	}
	return answer{status: resp.StatusCode, location: resp.Header.Get("Location"),
		retryAfter: resp.Header.Get("Retry-After"), body: string(page)}, nil
}

// The values the tool reads off the portal's pages, as a browser's form or
// an authenticator app's camera would.
var (
	csrfField = regexp.MustCompile(`name="csrf" value="([A-Za-z0-9_-]{1,64})"`)
	otpauth   = regexp.MustCompile(`href="(otpauth://totp/[^"]+)"`)
)

// csrfToken returns the CSRF token of the page's form.
func csrfToken(page string) (string, bool) {
	m := csrfField.FindStringSubmatch(page)
	if m == nil {
		return "", false
	}
	return m[1], true
}

// otpauthURI returns the otpauth:// link of the wizard's step 3.
func otpauthURI(page string) (string, bool) {
	m := otpauth.FindStringSubmatch(page)
	if m == nil {
		return "", false
	}
	return html.UnescapeString(m[1]), true
}
