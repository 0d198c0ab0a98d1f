package web

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"html"
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
	"sesame/internal/store"
	"sesame/internal/store/storetest"
)

// Each case here once answered 500; each must now end in a page a person
// understands.

// TestPasswordChangeRacingTOTPReset: the authenticator is unlinked while a
// password change checks the code.
func TestPasswordChangeRacingTOTPReset(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	const pw = "Un mot de passe assez long"
	a := e.createAccount(account.Client, "race@example.be", pw, i18n.FR)
	for round := range 3 {
		secret := e.browser("fr").enrol(account.Client, a.Identifier, pw)
		code := e.code(secret)
		var mu sync.Mutex
		statuses := map[string][]int{}
		storetest.Burst(6, func(i int) {
			b := e.browser("fr")
			var st int
			if i%2 == 0 {
				b.get("/totp/reset")
				st, _ = b.post("/totp/reset", url.Values{"identifier": {a.Identifier}, "password": {pw}, "account_type": {"client"}, "totp": {code}})
			} else {
				b.get("/password")
				st, _ = b.post("/password", url.Values{"identifier": {a.Identifier}, "password": {pw}, "account_type": {"client"}, "totp": {code},
					"new_password": {pw}, "new_password_confirm": {pw}})
			}
			mu.Lock()
			statuses[[]string{"reset", "password"}[i%2]] = append(statuses[[]string{"reset", "password"}[i%2]], st)
			mu.Unlock()
		})
		for flow, sts := range statuses {
			for _, st := range sts {
				if st >= 500 {
					t.Errorf("round %d: %s answered %d", round, flow, st)
				}
			}
		}
		// Put the account back for the next round.
		e.store.UnlinkAuthenticator(context.Background(), a.ID)
		e.store.UpdateAccount(context.Background(), a.ID, func(a *account.Account) error {
			a.FailedAttempts, a.LockedUntil = 0, time.Time{}
			return nil
		})
		e.clock.Add(30 * time.Second)
	}
}

// TestQuestionAfterLockDeletedTheWizard: the account was locked (by
// failures elsewhere) while its wizard waited at the question.
func TestQuestionAfterLockDeletedTheWizard(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	const pw = "Un mot de passe assez long"
	a := e.createAccount(account.Tiers, "locked@example.be", pw, i18n.FR)
	b := e.browser("fr")
	b.get("/totp/init")
	if st, _ := b.post("/totp/init", url.Values{"identifier": {a.Identifier}, "password": {pw}, "account_type": {"tiers"}}); st != 200 {
		t.Fatalf("step 1: %d", st)
	}
	e.store.UpdateAccount(context.Background(), a.ID, func(a *account.Account) error {
		a.FailedAttempts, a.LockedUntil = 5, e.clock.Now().Add(time.Minute)
		return nil
	})
	st, body := b.post("/totp/init/question", url.Values{"question": {"first_plush"}, "answer": {"Doudou"}})
	if st != http.StatusConflict || !strings.Contains(body, "L&#39;initialisation a expiré") {
		t.Errorf("question after the lock: %d\n%s", st, body)
	}
}

// TestLockedAccountAtTheQuestion: the wizard is alive but the account got
// locked: the answer is refused like a wrong one, not with a 500.
func TestLockedAccountAtTheQuestion(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	const pw = "Un mot de passe assez long"
	a := e.createAccount(account.Tiers, "question@example.be", pw, i18n.NL)
	e.browser("nl").enrol(account.Tiers, a.Identifier, pw) // sets the question "Doudou"
	e.store.UnlinkAuthenticator(context.Background(), a.ID)
	b := e.browser("nl")
	b.get("/totp/init")
	if st, _ := b.post("/totp/init", url.Values{"identifier": {a.Identifier}, "password": {pw}, "account_type": {"tiers"}}); st != 200 {
		t.Fatalf("step 1: %d", st)
	}
	for i := range 5 {
		st, body := b.post("/totp/init/question", url.Values{"answer": {"wrong"}})
		if st != http.StatusUnauthorized || !strings.Contains(body, "Fout antwoord") {
			t.Fatalf("wrong answer %d: %d\n%s", i+1, st, body)
		}
	}
	// The fifth locked the account, which ends its wizard.
	if st, body := b.post("/totp/init/question", url.Values{"answer": {"Doudou"}}); st != http.StatusConflict || !strings.Contains(body, "De initialisatie is verlopen") {
		t.Errorf("an answer once locked: %d\n%s", st, body)
	}
}

// TestClientGoneMidLogin: a browser that gives up while its login waits
// leaves no ERROR line, no 500 written, and no half-written attempt: every
// failure counted on the account has its audit line.
func TestClientGoneMidLogin(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	var mu sync.Mutex
	log := slog.New(slog.NewTextHandler(lockedWriter{&mu, &logs}, &slog.HandlerOptions{Level: slog.LevelInfo}))
	clk := authtest.NewClock(authtest.Start)
	base := authtest.New(t, clk, authtest.WithLog(log))
	w, err := New(Options{Auth: base.Auth, Sessions: auth.DefaultSessionPolicy(), DefaultLang: i18n.FR, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	const pw = "Un mot de passe assez long"
	a := base.CreateAccount(t, account.Account{Type: account.Client, Identifier: "gone@example.be", Lang: i18n.FR}, pw)
	csrf := "0123456789abcdefghijkl"
	form := url.Values{"identifier": {a.Identifier}, "password": {"not the password"}, "account_type": {"client"}, "totp": {"123456"}, "csrf": {csrf}}
	storetest.Burst(40, func(i int) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Duration(i%8)*100*time.Microsecond)
		defer cancel()
		req := httptest.NewRequestWithContext(ctx, "POST", "https://portal.example/login", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		req.AddCookie(&http.Cookie{Name: csrfCookie, Value: csrf})
		rec := httptest.NewRecorder()
		w.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Errorf("request %d: %d", i, rec.Code)
		}
	})
	mu.Lock()
	defer mu.Unlock()
	if strings.Contains(logs.String(), "level=ERROR") {
		t.Errorf("a client going away logged an error:\n%s", logs.String())
	}
	got, _ := base.DB.GetAccount(context.Background(), a.ID)
	events, _ := base.DB.ListAudit(context.Background(), store.AuditFilter{SubjectID: a.ID, Limit: 1000})
	recorded := 0
	for _, ev := range events {
		if ev.Detail == "wrong password" {
			recorded++
		}
	}
	if got.FailedAttempts != recorded {
		t.Errorf("%d failures counted on the account, %d in the audit log", got.FailedAttempts, recorded)
	}
}

// TestBodyTooSlow: a form whose body does not arrive within the server's
// read timeout is answered 408 with the translated page, not an empty 200.
func TestBodyTooSlow(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	srv := httptest.NewUnstartedServer(e.web)
	srv.Config.ReadTimeout = 300 * time.Millisecond
	srv.Start()
	t.Cleanup(srv.Close)
	for _, path := range []string{"/login", "/password/reset"} {
		c, err := net.Dial("tcp", srv.Listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		// Headers, then the first of a chunked body's chunks, then nothing.
		fmt.Fprintf(c, "POST %s HTTP/1.1\r\nHost: portal.example\r\nAccept-Language: nl\r\nSec-Fetch-Site: same-origin\r\n"+
			"Content-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nident", path)
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if want := e.msg(i18n.NL, "error.bad_request"); resp.StatusCode != http.StatusRequestTimeout || !strings.Contains(html.UnescapeString(string(body)), want) {
			t.Errorf("%s: %d, want 408 with %q:\n%s", path, resp.StatusCode, want, body)
		}
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// TestCodeCheckedAtArrival: a code right when the request arrived is
// accepted though the hashing queue made it wait past the code's window.
func TestCodeCheckedAtArrival(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	const pw = "Un mot de passe assez long"
	a := e.createAccount(account.Client, "arrival@example.be", pw, i18n.FR)
	secret := e.browser("fr").enrol(account.Client, a.Identifier, pw)
	arrived := e.clock.Now()
	code := e.code(secret)
	e.clock.Add(3 * time.Minute) // the request waited: the code is long stale now
	ctx := auth.WithArrival(context.Background(), arrived)
	if _, err := e.auth.Login(ctx, auth.Credentials{Type: account.Client, Identifier: a.Identifier, Password: pw, Code: code, Addr: "192.0.2.1"}); err != nil {
		t.Errorf("a code right at arrival: %v", err)
	}
}
