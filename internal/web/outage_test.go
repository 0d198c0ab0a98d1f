package web

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"sesame/internal/account"
	"sesame/internal/auth"
	"sesame/internal/authtest"
	"sesame/internal/i18n"
	"sesame/internal/store/sqldb"
)

// TestDatabaseOutage stops the database under a running portal: every page
// that needs it answers 503 with Retry-After and a translated message, and
// the portal recovers by itself when the database is back. The PostgreSQL
// server is shared by the other tests, so the test "stops" it by cutting a
// TCP relay that is the portal's only way to it: the portal sees what it
// sees when the server goes down — connections reset, then refused.
func TestDatabaseOutage(t *testing.T) {
	t.Parallel()
	dsn := authtest.PostgresSchema(t)
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	relay := startRelay(t, u.Host)
	u.Host = relay.addr
	db, err := sqldb.OpenPostgres(context.Background(), u.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	clk := authtest.NewClock(authtest.Start)
	log := slog.New(slog.NewTextHandler(t.Output(), nil))
	base := authtest.NewOn(t, clk, db, authtest.WithLog(log))
	w, err := New(Options{Auth: base.Auth, Sessions: auth.DefaultSessionPolicy(), DefaultLang: i18n.FR, Log: log, Ready: db.Ping})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewTLSServer(w)
	t.Cleanup(srv.Close)
	e := &env{t: t, srv: srv, web: w, auth: base.Auth, store: db, clock: clk, base: base}
	const pw = "Un mot de passe assez long"
	a := base.CreateAccount(t, account.Account{Type: account.Client, Identifier: "outage@example.be", Lang: i18n.NL}, pw)
	b := e.browser("nl")
	login := url.Values{"identifier": {a.Identifier}, "password": {"wrong password!"}, "account_type": {"client"}, "totp": {"123456"},
		"new_password": {"Een heel nieuw wachtwoord"}, "new_password_confirm": {"Een heel nieuw wachtwoord"}}
	if st, _ := b.post("/login", login); st != http.StatusUnauthorized {
		t.Fatalf("login before the outage: %d", st)
	}
	// Someone logged in: each of their pages reads the session.
	const pw2 = "Nog een wachtwoord dat lang genoeg is"
	in := base.CreateAccount(t, account.Account{Type: account.Client, Identifier: "logged-in@example.be", Lang: i18n.NL}, pw2)
	b2 := e.browser("nl")
	secret := b2.enrol(account.Client, in.Identifier, pw2)
	if st, _ := b2.login(account.Client, in.Identifier, pw2, e.code(secret)); st != http.StatusOK || !b2.loggedIn() {
		t.Fatalf("logging in before the outage: %d", st)
	}

	relay.stop()
	if st, body := b2.get("/"); st != http.StatusServiceUnavailable || !strings.Contains(body, "Het portaal kan zijn databank op dit moment niet bereiken") {
		t.Errorf("a logged-in page during the outage: %d\n%s", st, body)
	}
	for _, p := range []string{"/login", "/totp/init", "/totp/reset", "/password"} {
		st, body := b.post(p, login)
		if st != http.StatusServiceUnavailable || b.last.Header.Get("Retry-After") == "" ||
			!strings.Contains(body, "Het portaal kan zijn databank op dit moment niet bereiken") {
			t.Errorf("POST %s during the outage: %d, Retry-After %q\n%s", p, st, b.last.Header.Get("Retry-After"), body)
		}
	}
	if st, _ := b.get("/readyz"); st != http.StatusServiceUnavailable {
		t.Errorf("/readyz during the outage: %d", st)
	}

	relay.start()
	deadline := time.Now().Add(15 * time.Second)
	for {
		st, _ := b.post("/login", login)
		if st == http.StatusUnauthorized {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the portal did not recover: still %d", st)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if st, _ := b.get("/readyz"); st != http.StatusOK {
		t.Errorf("/readyz after the outage: %d", st)
	}
	// Every pooled connection died with the relay; the page gets a live one.
	if !b2.loggedIn() {
		t.Errorf("the session does not survive the outage: %d\n%s", b2.last.StatusCode, b2.body)
	}
}

// relay forwards TCP connections from a loopback port to target, and can
// be stopped (every connection cut, new ones refused) and started again on
// the same port.
type relay struct {
	t      *testing.T
	addr   string
	target string
	mu     sync.Mutex
	ln     net.Listener
	conns  map[net.Conn]bool
}

func startRelay(t *testing.T, target string) *relay {
	r := &relay{t: t, target: target, conns: map[net.Conn]bool{}}
	r.listen("127.0.0.1:0")
	t.Cleanup(r.stop)
	return r
}

func (r *relay) listen(addr string) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		r.t.Fatal(err)
	}
	r.mu.Lock()
	r.ln, r.addr = ln, ln.Addr().String()
	r.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go r.pipe(c)
		}
	}()
}

func (r *relay) pipe(c net.Conn) {
	up, err := net.Dial("tcp", r.target)
	if err != nil {
		c.Close()
		return
	}
	r.mu.Lock()
	r.conns[c], r.conns[up] = true, true
	r.mu.Unlock()
	go func() { io.Copy(up, c); up.Close() }()
	io.Copy(c, up)
	c.Close()
}

func (r *relay) stop() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ln != nil {
		r.ln.Close()
		r.ln = nil
	}
	for c := range r.conns {
		c.Close()
		delete(r.conns, c)
	}
}

func (r *relay) start() { r.listen(r.addr) }
