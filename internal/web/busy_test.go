package web

import (
	"context"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"sesame/internal/account"
	"sesame/internal/auth"
	"sesame/internal/i18n"
	"sesame/internal/passhash"
)

// TestBusyPortalSheds fills the hashing queue and checks that every
// login-like form is answered at once with 503, Retry-After and the
// translated "busy" message — with no hash computed and no attempt spent —
// and that the metrics show the queue and the refusals.
func TestBusyPortalSheds(t *testing.T) {
	t.Parallel()
	// A clock that moves one second each time it is read: the hasher then
	// measures every computation at exactly one second.
	var mu sync.Mutex
	t0 := time.Unix(1e9, 0)
	tick := func() time.Time { mu.Lock(); defer mu.Unlock(); t0 = t0.Add(time.Second); return t0 }
	h := passhash.NewWith(passhash.TestParams(), passhash.Options{Concurrent: 1, MaxWait: 3 * time.Second, Now: tick})
	e := newEnv(t, func(s *auth.Service) { s.Hasher = h })
	const pw = "Un mot de passe assez long"
	a := e.createAccount(account.Client, "busy@example.be", pw, i18n.FR)
	// Four flows ahead on one turn of one second: the next would wait 4 s.
	for range 4 {
		_, done, err := h.Admit(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		defer done()
	}
	computed := h.Stats().Computed

	msgs := map[string]string{
		"fr": "Le portail est très sollicité en ce moment",
		"nl": "Het portaal is op dit moment erg druk",
		"en": "The portal is very busy right now",
	}
	form := url.Values{"identifier": {a.Identifier}, "password": {pw}, "account_type": {"client"}, "totp": {"123456"},
		"new_password": {"Een heel nieuw wachtwoord"}, "new_password_confirm": {"Een heel nieuw wachtwoord"}}
	for lang, msg := range msgs {
		b := e.browser(lang)
		for _, path := range []string{"/login", "/totp/init", "/totp/reset", "/password"} {
			b.get(path)
			start := time.Now()
			st, body := b.post(path, maps.Clone(form)) // post adds this browser's CSRF token
			if st != http.StatusServiceUnavailable || b.last.Header.Get("Retry-After") == "" || !strings.Contains(body, msg) {
				t.Errorf("%s POST %s: %d, Retry-After %q\n%s", lang, path, st, b.last.Header.Get("Retry-After"), errorOn(body))
			}
			if took := time.Since(start); took > 2*time.Second {
				t.Logf("%s POST %s took %v (the machine is slow, or it waited)", lang, path, took)
			}
		}
	}
	if got := h.Stats().Computed; got != computed {
		t.Errorf("%d hashes computed for refused requests", got-computed)
	}
	if got, _ := e.store.GetAccount(context.Background(), a.ID); got.FailedAttempts != 0 {
		t.Errorf("%d failed attempts counted, want 0", got.FailedAttempts)
	}

	rec := httptest.NewRecorder()
	e.web.Metrics().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	metrics, _ := io.ReadAll(rec.Body)
	for _, want := range []string{"sesame_hash_shed_total 12", "sesame_hash_queue 4", "sesame_hash_expected_wait_seconds 4",
		"sesame_hash_max_wait_seconds 3", `sesame_http_requests_total{route="POST /login",status="503"} 3`} {
		if !strings.Contains(string(metrics), want+"\n") {
			t.Errorf("metrics lack %q:\n%s", want, grep(string(metrics), "sesame_http_requests_total"))
		}
	}
}

// errorOn returns the alerts of a page, or the page when it has none.
func errorOn(body string) string {
	var alerts []string
	for _, part := range strings.Split(body, `role="alert">`)[1:] {
		alerts = append(alerts, part[:strings.Index(part, "<")])
	}
	if len(alerts) == 0 {
		return body
	}
	return strings.Join(alerts, " | ")
}

func grep(s, substr string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, substr) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
