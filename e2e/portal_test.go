package e2e

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"sesame/internal/account"
	"sesame/internal/auth"
	"sesame/internal/authtest"
	"sesame/internal/i18n"
	"sesame/internal/totp"
	"sesame/internal/web"
)

// portal is the real portal handler on a SQLite store in a temp folder,
// served over plain http and addressed as localhost, with a clock the test
// moves by hand.
type portal struct {
	t       *testing.T
	url     string // http://localhost:PORT
	env     *authtest.Env
	clock   *authtest.Clock
	office  account.Office
	session auth.SessionPolicy
}

// The demo's office and a person in it.
const (
	officeName = "Cabinet Dupont & Fils"
	identifier = "courtier@cabinet-dupont.be"
	personName = "Marie Dupont"
	password   = "sesame-e2e-2026"
)

func startPortal(t *testing.T) *portal {
	t.Helper()
	clk := authtest.NewClock(authtest.Start)
	log := slog.New(slog.NewTextHandler(t.Output(), nil))
	env := authtest.New(t, clk, authtest.WithLog(log))
	policy := auth.DefaultSessionPolicy()
	w, err := web.New(web.Options{Auth: env.Auth, Sessions: policy, DefaultLang: i18n.FR, AppName: "Finagora", Log: log})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(w)
	t.Cleanup(srv.Close)
	office := env.CreateOffice(t, officeName)
	return &portal{t: t, url: localhost(t, srv), env: env, clock: clk, office: office, session: policy}
}

// localhost is srv's address with the host name localhost: Chromium
// treats it as a secure context, so Secure cookies work over http.
func localhost(t *testing.T, srv *httptest.Server) string {
	t.Helper()
	u, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	u.Host = "localhost:" + u.Port()
	return u.String()
}

// createAccount adds the Tiers account of personName, with a password and
// no authenticator yet.
func (p *portal) createAccount() account.Account {
	p.t.Helper()
	return p.env.CreateAccount(p.t, account.Account{Type: account.Tiers, Identifier: identifier, Name: personName, OfficeID: p.office.ID,
		Lang: i18n.FR}, password)
}

// code is what an authenticator app would show now on the portal's clock.
func (p *portal) code(secret []byte) string { return totp.Default().Code(secret, p.clock.Now()) }

// loggedIn reports whether the session token is a live session of the account.
func (p *portal) loggedIn(token string, a account.Account) bool {
	p.t.Helper()
	if token == "" {
		return false
	}
	_, got, err := p.env.Auth.Session(context.Background(), p.session, token)
	return err == nil && got.ID == a.ID
}

// foreignSite serves one page at its root from 127.0.0.1 — another site
// than localhost for the browser.
func foreignSite(t *testing.T, html string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(html))
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/"
}

// catalog loads the translations of the component in dir (relative to
// this package), so the tests check the pages against the same text the
// pages are built from.
func catalog(t *testing.T, dir string) *i18n.Catalog {
	t.Helper()
	c, err := i18n.Load(os.DirFS(dir))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// savePNG writes a screenshot into the test's temp folder and checks it is
// a PNG image of at least the given size with more than one colour in it.
func savePNG(t *testing.T, name string, b []byte, minW, minH int) {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s is not a PNG: %v", name, err)
	}
	if r := img.Bounds(); r.Dx() < minW || r.Dy() < minH {
		t.Errorf("%s is %dx%d, want at least %dx%d", name, r.Dx(), r.Dy(), minW, minH)
	}
	if n := colours(img, 64); n < 8 {
		t.Errorf("%s has %d colours: a blank page?", name, n)
	}
}

// colours counts the distinct colours of img, stopping at limit.
func colours(img image.Image, limit int) int {
	seen := map[[4]uint32]bool{}
	r := img.Bounds()
	for y := r.Min.Y; y < r.Max.Y; y += 3 {
		for x := r.Min.X; x < r.Max.X; x += 3 {
			cr, cg, cb, ca := img.At(x, y).RGBA()
			seen[[4]uint32{cr, cg, cb, ca}] = true
			if len(seen) >= limit {
				return len(seen)
			}
		}
	}
	return len(seen)
}

// decodePNG decodes a screenshot held in memory.
func decodePNG(t *testing.T, b []byte) image.Image {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("not a PNG: %v", err)
	}
	return img
}
