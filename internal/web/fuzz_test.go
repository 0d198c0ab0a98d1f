package web

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"sesame/internal/account"
	"sesame/internal/auth"
	"sesame/internal/authtest"
	"sesame/internal/i18n"
	"sesame/internal/passhash"
)

// fuzzPortal is the portal in process (no TLS server: the fuzzer calls the
// handler directly) on a SQLite store, with one account and a generous
// throttle, so inputs keep reaching the flows instead of the lock.
type fuzzPortal struct {
	web   *Server
	auth  *auth.Service
	acct  account.Account
	calls atomic.Int64
}

const (
	fuzzCSRF     = "fuzzfuzzfuzzfuzzfuzzfu" // 22 characters, like a real token
	fuzzPassword = "correct horse battery"
	fuzzAnswer   = "Doudou"
)

func newFuzzPortal(tb testing.TB) *fuzzPortal {
	tb.Helper()
	env := authtest.New(tb, authtest.NewClock(authtest.Start), func(s *auth.Service) {
		s.Throttle = account.Throttle{FreeFailures: math.MaxInt32, BaseDelay: time.Second, MaxDelay: time.Second, HardLimit: math.MaxInt32}
		s.AddressLimit = account.AddressLimit{Failures: math.MaxInt32, Window: time.Minute}
	})
	svc := env.Auth
	w, err := New(Options{Auth: svc, Sessions: auth.DefaultSessionPolicy(), DefaultLang: i18n.FR, AppName: "Finagora", Log: svc.Log})
	if err != nil {
		tb.Fatal(err)
	}
	answer, _ := svc.Hasher.Hash(context.Background(), passhash.NormalizeAnswer(fuzzAnswer))
	a := env.CreateAccount(tb, account.Account{Type: account.Tiers, Identifier: "jan@example.be", Name: "Jan", Lang: i18n.NL,
		QuestionKey: "first_plush", AnswerHash: answer}, fuzzPassword)
	return &fuzzPortal{web: w, auth: svc, acct: a}
}

// flow returns a fresh wizard token in the state named by n (0: none).
func (p *fuzzPortal) flow(t *testing.T, n uint8) string {
	ctx := context.Background()
	switch n % 3 {
	case 1, 2:
		token, err := p.auth.BeginEnrolment(ctx, p.acct, "192.0.2.1")
		if err != nil {
			t.Fatal(err)
		}
		if n%3 == 2 {
			if err := p.auth.AnswerQuestion(ctx, token, fuzzAnswer, "192.0.2.1"); err != nil {
				t.Fatal(err)
			}
		}
		return token
	}
	return ""
}

var fuzzPaths = []string{"/login", "/totp/init", "/totp/init/question", "/totp/init/code", "/totp/reset"}

// FuzzLoginForm posts arbitrary bodies and content types to the login-like
// forms: whatever arrives, the answer is never a 5xx (a panic is recovered
// into a 500, so it fails too).
func FuzzLoginForm(f *testing.F) {
	const form = "application/x-www-form-urlencoded"
	f.Add(uint8(0), form, []byte("identifier=jan%40example.be&password=correct+horse+battery&account_type=tiers&totp=123456"), true, uint8(0))
	f.Add(uint8(1), form, []byte("identifier=jan@example.be&password=x&account_type=client"), true, uint8(0))
	f.Add(uint8(2), form, []byte("answer=doudou&question=own&question_text=%C3%A9"), true, uint8(1))
	f.Add(uint8(3), form, []byte("totp=000000"), true, uint8(2))
	f.Add(uint8(3), form+"; charset=utf-8", []byte("totp=%00%ff&totp=1"), true, uint8(2))
	f.Add(uint8(4), form, []byte("identifier=%zz&&&=&password"), false, uint8(0))
	f.Add(uint8(0), "multipart/form-data; boundary=x", []byte("--x\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nb\r\n--x--"), true, uint8(0))
	f.Add(uint8(2), "", []byte{}, false, uint8(1))

	p := newFuzzPortal(f)
	f.Fuzz(func(t *testing.T, path uint8, contentType string, body []byte, withToken bool, flow uint8) {
		if withToken {
			body = append([]byte("csrf="+fuzzCSRF+"&"), body...)
		}
		r := httptest.NewRequest(http.MethodPost, fuzzPaths[int(path)%len(fuzzPaths)], strings.NewReader(string(body)))
		r.Header.Set("Content-Type", contentType)
		// A new address each time: the address limit is not what is fuzzed.
		n := p.calls.Add(1)
		r.RemoteAddr = fmt.Sprintf("10.%d.%d.%d:1234", n>>16&0xff, n>>8&0xff, n&0xff)
		r.AddCookie(&http.Cookie{Name: csrfCookie, Value: fuzzCSRF})
		if token := p.flow(t, flow); token != "" {
			r.AddCookie(&http.Cookie{Name: flowCookie, Value: token})
		}
		w := httptest.NewRecorder()
		p.web.ServeHTTP(w, r)
		if w.Code >= 500 || w.Code < 200 {
			t.Fatalf("POST %s (%q, %d bytes): status %d\n%s", r.URL.Path, contentType, len(body), w.Code, w.Body)
		}
		if w.Code >= 400 && !strings.Contains(w.Body.String(), `<p class="error" role="alert"`) && !strings.Contains(w.Body.String(), `class="field-error"`) {
			t.Fatalf("POST %s: %d without an error message\n%s", r.URL.Path, w.Code, w.Body)
		}
	})
}
