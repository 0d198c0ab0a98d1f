package web

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"html"
	"image"
	_ "image/png"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"

	"sesame/internal/account"
	"sesame/internal/auth"
	"sesame/internal/authtest"
	"sesame/internal/enrol"
	"sesame/internal/i18n"
	"sesame/internal/store"
	"sesame/internal/totp"
)

// Flow tests of the portal (SPEC 2.1–2.3, 4) against the real handler and
// a SQLite store: the wizard, login and its throttling, sessions, CSRF,
// languages, headers, and bad input.

const (
	janID   = "jan@example.be"
	janPass = "correct horse battery"
)

// langs are the three portal languages with an Accept-Language that picks each.
var langs = []struct {
	lang   i18n.Lang
	accept string
}{{i18n.FR, "fr-BE"}, {i18n.NL, "nl-BE"}, {i18n.EN, "en-GB"}}

// msg is the page text of a catalog key, as the test expects to read it.
func (e *env) msg(l i18n.Lang, key string, kv ...any) string {
	b := Base{Lang: l, cat: e.web.cat}
	return b.T(key, kv...)
}

// text is the page with entities decoded, for comparing with messages.
func (b *browser) text() string { return html.UnescapeString(b.body) }

var errorRe = regexp.MustCompile(`(?s)<p class="error" role="alert"[^>]*>(.*?)</p>`)

// errorMessage is the page's error notice ("" when there is none).
func (b *browser) errorMessage() string {
	m := errorRe.FindStringSubmatch(b.body)
	if m == nil {
		return ""
	}
	return html.UnescapeString(m[1])
}

// step reports which wizard step the page shows (0: none).
func (b *browser) step() int {
	switch {
	case strings.Contains(b.body, `action="/totp/init/code"`):
		return 3
	case strings.Contains(b.body, `action="/totp/init/question"`):
		return 2
	case strings.Contains(b.body, `action="/totp/init"`):
		return 1
	case strings.Contains(b.body, `class="card success"`) && strings.Contains(b.body, `class="steps"`):
		return 4
	}
	return 0
}

// cookie returns the value of the browser's cookie name ("" when absent).
func (b *browser) cookie(name string) string {
	u, _ := url.Parse(b.e.srv.URL)
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

// setCookie plants a cookie in the browser's jar.
func (b *browser) setCookie(name, value string) {
	u, _ := url.Parse(b.e.srv.URL)
	b.c.Jar.SetCookies(u, []*http.Cookie{{Name: name, Value: value, Path: "/", Secure: true}})
}

// send makes a request with a raw body and extra header name/value pairs;
// by default it looks like a same-origin form post.
func (b *browser) send(method, path, contentType, body string, hdr ...string) (int, string) {
	b.e.t.Helper()
	req, _ := http.NewRequest(method, b.e.srv.URL+path, strings.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("Origin", b.e.srv.URL)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	return b.do(req)
}

// loggedIn reports whether the home page shows the browser as logged in.
func (b *browser) loggedIn() bool {
	b.e.t.Helper()
	b.get("/")
	return strings.Contains(b.body, `action="/logout"`)
}

// toStep3 takes a fresh wizard through steps 1 and 2 (choosing a question
// when the account has none) and returns the secret shown at step 3.
func (b *browser) toStep3(identifier, password string) []byte {
	b.e.t.Helper()
	b.get("/totp/init")
	b.post("/totp/init", url.Values{"identifier": {identifier}, "password": {password}, "account_type": {"tiers"}})
	if b.step() != 2 {
		b.e.t.Fatalf("step 1 did not lead to step 2: %d\n%s", b.last.StatusCode, b.body)
	}
	form := url.Values{"answer": {"Doudou"}}
	if strings.Contains(b.body, `name="question"`) {
		form.Set("question", "first_plush")
	}
	b.post("/totp/init/question", form)
	if b.step() != 3 {
		b.e.t.Fatalf("step 2 did not lead to step 3: %d\n%s", b.last.StatusCode, b.body)
	}
	return b.secretOnPage()
}

// wrongCode returns a well-formed code that the secret does not give at now
// or either neighbouring step.
func (e *env) wrongCode(secret []byte) string {
	p := totp.Default()
	now := e.clock.Now()
	near := map[string]bool{p.Code(secret, now.Add(-p.Period)): true, p.Code(secret, now): true, p.Code(secret, now.Add(p.Period)): true}
	for _, c := range []string{"000000", "111111", "222222", "333333"} {
		if !near[c] {
			return c
		}
	}
	panic("unreachable: four codes among three")
}

// hasAuthenticator reports whether the account has a linked authenticator.
func (e *env) hasAuthenticator(a account.Account) bool {
	e.t.Helper()
	_, err := e.store.GetAuthenticator(context.Background(), a.ID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		e.t.Fatal(err)
	}
	return err == nil
}

// audit lists the account's audit actions, oldest first, as "action/outcome".
func (e *env) audit(a account.Account) []string {
	e.t.Helper()
	evs, err := e.store.ListAudit(context.Background(), store.AuditFilter{SubjectID: a.ID})
	if err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for i := len(evs) - 1; i >= 0; i-- {
		out = append(out, evs[i].Action+"/"+evs[i].Outcome)
	}
	return out
}

func (e *env) allAudit() []store.AuditEvent {
	e.t.Helper()
	evs, err := e.store.ListAudit(context.Background(), store.AuditFilter{})
	if err != nil {
		e.t.Fatal(err)
	}
	return evs
}

func containsStr(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestWizardFirstActivation(t *testing.T) {
	t.Parallel()
	for _, l := range langs {
		t.Run(string(l.lang), func(t *testing.T) {
			e := newEnv(t)
			a := e.createAccount(account.Tiers, janID, janPass, l.lang)
			b := e.browser(l.accept)

			b.get("/totp/init")
			if b.step() != 1 || !strings.Contains(b.text(), e.msg(l.lang, "enrol.heading")) {
				t.Fatalf("GET /totp/init: step %d\n%s", b.step(), b.body)
			}
			st, _ := b.post("/totp/init", url.Values{"identifier": {"  JAN@example.be "}, "password": {janPass}, "account_type": {"tiers"}})
			if st != 200 || b.step() != 2 || !strings.Contains(b.text(), e.msg(l.lang, "enrol.question_choose")) {
				t.Fatalf("step 1: %d, step %d\n%s", st, b.step(), b.body)
			}
			// The list of questions is translated.
			if !strings.Contains(b.text(), e.msg(l.lang, "question.first_pet")) {
				t.Errorf("step 2 does not offer the translated questions")
			}
			st, _ = b.post("/totp/init/question", url.Values{"question": {"own"}, "question_text": {"Nom de mon vélo ?"}, "answer": {"Rossinant"}})
			if st != 200 || b.step() != 3 {
				t.Fatalf("step 2: %d, step %d\n%s", st, b.step(), b.body)
			}
			if e.hasAuthenticator(a) {
				t.Fatal("an authenticator is linked before the code was confirmed")
			}
			secret := b.secretOnPage()
			st, _ = b.post("/totp/init/code", url.Values{"totp": {e.code(secret)}})
			if st != 200 || b.step() != 4 || !strings.Contains(b.text(), e.msg(l.lang, "enrol.done", "App", "Finagora")) {
				t.Fatalf("step 3: %d, step %d\n%s", st, b.step(), b.body)
			}
			if !e.hasAuthenticator(a) {
				t.Fatal("no authenticator linked after step 3")
			}
			got, _ := e.store.GetAccount(context.Background(), a.ID)
			if got.QuestionKey != account.QuestionOwn || got.QuestionText != "Nom de mon vélo ?" || got.AnswerHash == "" || strings.Contains(got.AnswerHash, "ossinant") {
				t.Errorf("question stored as %q %q %q", got.QuestionKey, got.QuestionText, got.AnswerHash)
			}
			if b.cookie(flowCookie) != "" {
				t.Error("the wizard's cookie outlives the wizard")
			}
			want := []string{"enrolment_start/success", "question_set/success", "totp_linked/success"}
			if got := e.audit(a); strings.Join(got, " ") != strings.Join(want, " ") {
				t.Errorf("audit = %v, want %v", got, want)
			}
			// The new authenticator logs in, once its step has passed.
			e.clock.Add(30 * time.Second)
			if st, _ := b.login(account.Tiers, janID, janPass, e.code(secret)); st != 200 || !b.loggedIn() {
				t.Fatalf("login after activation: %d\n%s", st, b.body)
			}
		})
	}
}

// After a self-service reset the account keeps its question: the next
// login leads to the wizard, which asks it.
func TestResetThenLoginAnswersExistingQuestion(t *testing.T) {
	t.Parallel()
	for _, l := range langs {
		t.Run(string(l.lang), func(t *testing.T) {
			e := newEnv(t)
			a := e.createAccount(account.Tiers, janID, janPass, l.lang)
			b := e.browser(l.accept)
			old := b.enrol(account.Tiers, janID, janPass)

			b.get("/totp/reset")
			st, _ := b.post("/totp/reset", url.Values{"identifier": {janID}, "password": {janPass}, "account_type": {"tiers"}, "totp": {e.code(old)}})
			if st != 200 || !strings.Contains(b.text(), e.msg(l.lang, "reset.success")) {
				t.Fatalf("reset: %d\n%s", st, b.body)
			}
			if e.hasAuthenticator(a) {
				t.Fatal("authenticator still linked after the reset")
			}

			// The old app still shows codes; typing one sends the person to step 2.
			e.clock.Add(30 * time.Second)
			st, _ = b.login(account.Tiers, janID, janPass, e.code(old))
			if st != 200 || b.last.Request.URL.Path != "/totp/init" || b.step() != 2 {
				t.Fatalf("login after reset: %d at %s, step %d\n%s", st, b.last.Request.URL, b.step(), b.body)
			}
			if !strings.Contains(b.text(), e.msg(l.lang, "enrol.not_enrolled")) || !strings.Contains(b.text(), e.msg(l.lang, "question.first_plush")) {
				t.Errorf("step 2 shows neither the notice nor the account's question\n%s", b.body)
			}
			if strings.Contains(b.body, `name="question"`) {
				t.Error("step 2 offers to choose a question to an account that has one")
			}
			// Answers are compared after trimming, case folding and removing accents.
			st, _ = b.post("/totp/init/question", url.Values{"answer": {"  DOUDOU "}})
			if st != 200 || b.step() != 3 {
				t.Fatalf("answer: %d, step %d\n%s", st, b.step(), b.body)
			}
			secret := b.secretOnPage()
			if bytes.Equal(secret, old) {
				t.Fatal("re-enrolment reuses the old secret")
			}
			if st, _ := b.post("/totp/init/code", url.Values{"totp": {e.code(secret)}}); st != 200 || b.step() != 4 {
				t.Fatalf("step 3: %d\n%s", st, b.body)
			}
			e.clock.Add(30 * time.Second)
			if st, _ := b.login(account.Tiers, janID, janPass, e.code(old)); st != http.StatusUnauthorized {
				t.Errorf("the old device still logs in: %d", st)
			}
			if st, _ := b.login(account.Tiers, janID, janPass, e.code(secret)); st != 200 || !b.loggedIn() {
				t.Errorf("the new device does not log in: %d", st)
			}
		})
	}
}

// resetAndReturn enrols jan, resets the authenticator and leaves b at step 2
// of a new wizard (where the existing question is asked).
func resetAndReturn(t *testing.T, e *env, b *browser) {
	t.Helper()
	old := b.enrol(account.Tiers, janID, janPass)
	b.post("/totp/reset", url.Values{"identifier": {janID}, "password": {janPass}, "account_type": {"tiers"}, "totp": {e.code(old)}})
	b.get("/totp/init")
	if st, _ := b.post("/totp/init", url.Values{"identifier": {janID}, "password": {janPass}, "account_type": {"tiers"}}); st != 200 || b.step() != 2 {
		t.Fatalf("step 1 after reset: %d\n%s", st, b.body)
	}
}

func TestWizardWrongAnswerLocks(t *testing.T) {
	t.Parallel()
	for _, l := range langs {
		t.Run(string(l.lang), func(t *testing.T) {
			e := newEnv(t)
			a := e.createAccount(account.Tiers, janID, janPass, l.lang)
			b := e.browser(l.accept)
			resetAndReturn(t, e, b)

			st, _ := b.post("/totp/init/question", url.Values{"answer": {"Teddy"}})
			if st != http.StatusUnauthorized || b.step() != 2 || b.errorMessage() != e.msg(l.lang, "error.answer_wrong") {
				t.Fatalf("wrong answer: %d, step %d, %q\n%s", st, b.step(), b.errorMessage(), b.body)
			}
			// Wrong answers count like any failure: enough of them lock the account.
			for i := 2; i <= e.auth.Throttle.FreeFailures+1; i++ {
				b.post("/totp/init/question", url.Values{"answer": {"Teddy"}})
			}
			got, _ := e.store.GetAccount(context.Background(), a.ID)
			if !got.Locked(e.clock.Now()) {
				t.Fatalf("not locked after %d wrong answers (%d failures)", e.auth.Throttle.FreeFailures+1, got.FailedAttempts)
			}
			if !containsStr(e.audit(a), "lockout/success") {
				t.Errorf("no lockout in the audit log: %v", e.audit(a))
			}
			// Locked: even the right answer (in a new wizard, the old one is
			// gone) is not reachable, and step 1 fails like a wrong password.
			st, _ = b.post("/totp/init", url.Values{"identifier": {janID}, "password": {janPass}, "account_type": {"tiers"}})
			if st != http.StatusUnauthorized || b.errorMessage() != e.msg(l.lang, "error.credentials") {
				t.Fatalf("step 1 while locked: %d %q", st, b.errorMessage())
			}
			e.clock.Add(got.LockedUntil.Sub(e.clock.Now()))
			b.post("/totp/init", url.Values{"identifier": {janID}, "password": {janPass}, "account_type": {"tiers"}})
			if st, _ := b.post("/totp/init/question", url.Values{"answer": {"doudou"}}); st != 200 || b.step() != 3 {
				t.Fatalf("right answer after the lock: %d, step %d\n%s", st, b.step(), b.body)
			}
		})
	}
}

func TestWizardThreeWrongCodesStartAgain(t *testing.T) {
	t.Parallel()
	for _, l := range langs {
		t.Run(string(l.lang), func(t *testing.T) {
			e := newEnv(t)
			a := e.createAccount(account.Tiers, janID, janPass, l.lang)
			b := e.browser(l.accept)
			first := b.toStep3(janID, janPass)
			token := b.cookie(flowCookie)

			for left := enrol.MaxCodeTries - 1; left >= 1; left-- {
				st, _ := b.post("/totp/init/code", url.Values{"totp": {e.wrongCode(first)}})
				want := e.web.cat.N(l.lang, "enrol.tries_left", left)
				if st != http.StatusUnprocessableEntity || b.step() != 3 || b.errorMessage() != want {
					t.Fatalf("wrong code, %d left: %d, step %d, %q, want %q", left, st, b.step(), b.errorMessage(), want)
				}
				if !bytes.Equal(b.secretOnPage(), first) {
					t.Fatal("a wrong code changed the secret")
				}
			}
			st, _ := b.post("/totp/init/code", url.Values{"totp": {e.wrongCode(first)}})
			if st != http.StatusConflict || b.step() != 1 || b.errorMessage() != e.msg(l.lang, "enrol.cancelled") {
				t.Fatalf("third wrong code: %d, step %d, %q\n%s", st, b.step(), b.errorMessage(), b.body)
			}
			// Step 1 keeps the identifier and the account type.
			if !strings.Contains(b.body, `value="`+janID+`"`) || !strings.Contains(b.body, `value="tiers" required checked`) {
				t.Errorf("step 1 after the third wrong code lost the identifier or the type:\n%s", b.body)
			}
			if _, err := e.store.GetEnrolment(context.Background(), auth.HashToken(token)); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("the cancelled enrolment and its secret are still stored: %v", err)
			}
			if e.hasAuthenticator(a) || b.cookie(flowCookie) != "" {
				t.Fatal("cancelled enrolment left an authenticator or a cookie")
			}
			// The cancelled wizard's token is dead even if replayed.
			b.setCookie(flowCookie, token)
			if st, _ := b.post("/totp/init/code", url.Values{"totp": {e.code(first)}}); st != http.StatusConflict || e.hasAuthenticator(a) {
				t.Fatalf("replayed cancelled wizard: %d, linked %v", st, e.hasAuthenticator(a))
			}

			// Start again at step 1: the question chosen in the cancelled
			// run was not kept (it is saved with the authenticator only), so
			// it is chosen again; a new secret is generated.
			if got, _ := e.store.GetAccount(context.Background(), a.ID); got.HasQuestion() {
				t.Error("the cancelled run's question was kept")
			}
			b.get("/totp/init")
			b.post("/totp/init", url.Values{"identifier": {janID}, "password": {janPass}, "account_type": {"tiers"}})
			if b.step() != 2 || !strings.Contains(b.body, `name="question"`) {
				t.Fatalf("restart: step %d\n%s", b.step(), b.body)
			}
			b.post("/totp/init/question", url.Values{"question": {"first_plush"}, "answer": {"doudou"}})
			second := b.secretOnPage()
			if bytes.Equal(first, second) {
				t.Fatal("the restarted enrolment reuses the discarded secret")
			}
			if st, _ := b.post("/totp/init/code", url.Values{"totp": {e.code(first)}}); st != http.StatusUnprocessableEntity {
				t.Errorf("the discarded secret's code was accepted: %d", st)
			}
			if st, _ := b.post("/totp/init/code", url.Values{"totp": {e.code(second)}}); st != 200 || b.step() != 4 || !e.hasAuthenticator(a) {
				t.Fatalf("second run: %d, step %d", st, b.step())
			}
		})
	}
}

func TestWizardCancel(t *testing.T) {
	t.Parallel()
	for _, atStep := range []int{2, 3} {
		t.Run(map[int]string{2: "step2", 3: "step3"}[atStep], func(t *testing.T) {
			e := newEnv(t)
			a := e.createAccount(account.Tiers, janID, janPass, i18n.NL)
			b := e.browser("nl")
			b.get("/totp/init")
			b.post("/totp/init", url.Values{"identifier": {janID}, "password": {janPass}, "account_type": {"tiers"}})
			var secret []byte
			if atStep == 3 {
				b.post("/totp/init/question", url.Values{"question": {"first_pet"}, "answer": {"Minou"}})
				secret = b.secretOnPage()
			}
			if b.step() != atStep {
				t.Fatalf("at step %d, want %d", b.step(), atStep)
			}
			token := b.cookie(flowCookie)
			st, _ := b.post("/totp/init/cancel", nil)
			if st != 200 || b.step() != 1 || b.cookie(flowCookie) != "" {
				t.Fatalf("cancel: %d, step %d\n%s", st, b.step(), b.body)
			}
			if _, err := e.store.GetEnrolment(context.Background(), auth.HashToken(token)); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("enrolment still stored after cancel: %v", err)
			}
			if !containsStr(e.audit(a), "enrolment_cancel/success") {
				t.Errorf("audit = %v, want an enrolment_cancel", e.audit(a))
			}
			if atStep == 3 {
				b.setCookie(flowCookie, token)
				b.post("/totp/init/code", url.Values{"totp": {e.code(secret)}})
			}
			if e.hasAuthenticator(a) {
				t.Fatal("cancelled wizard linked an authenticator")
			}
		})
	}
}

func TestWizardRefusesLinkedAccount(t *testing.T) {
	t.Parallel()
	for _, l := range langs {
		t.Run(string(l.lang), func(t *testing.T) {
			e := newEnv(t)
			a := e.createAccount(account.Tiers, janID, janPass, l.lang)
			b := e.browser(l.accept)
			b.enrol(account.Tiers, janID, janPass)
			st, _ := b.post("/totp/init", url.Values{"identifier": {janID}, "password": {janPass}, "account_type": {"tiers"}})
			if st != http.StatusConflict || b.step() != 1 || b.errorMessage() != e.msg(l.lang, "enrol.already_linked") {
				t.Fatalf("step 1 of a linked account: %d, step %d, %q", st, b.step(), b.errorMessage())
			}
			if b.cookie(flowCookie) != "" {
				t.Error("a wizard was started for a linked account")
			}
			// A wrong password must not reveal that the account is linked.
			st, _ = b.post("/totp/init", url.Values{"identifier": {janID}, "password": {"wrong password!"}, "account_type": {"tiers"}})
			if st != http.StatusUnauthorized || b.errorMessage() != e.msg(l.lang, "error.credentials") {
				t.Errorf("wrong password on a linked account: %d %q", st, b.errorMessage())
			}
			if !containsStr(e.audit(a), "enrolment_start/denied") {
				t.Errorf("audit = %v", e.audit(a))
			}
		})
	}
}

// Codes: ±1 step is accepted, two steps ago is not, and each code works once.
func TestLoginCodeWindowAndReplay(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.createAccount(account.Tiers, janID, janPass, i18n.FR)
	secret := e.browser("fr").enrol(account.Tiers, janID, janPass)
	period := totp.Default().Period
	codeAt := func(offset time.Duration) string { return totp.Default().Code(secret, e.clock.Now().Add(offset)) }

	tests := []struct {
		name   string
		offset time.Duration // of the code from the server's clock
		replay bool          // log in a second time with the same code
		want   int
	}{
		{"current", 0, false, 200},
		{"one step behind", -period, false, 200},
		{"one step ahead", period, false, 200},
		{"two steps behind", -2 * period, false, http.StatusUnauthorized},
		{"two steps ahead", 2 * period, false, http.StatusUnauthorized},
		{"replayed within its step", 0, true, http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.clock.Add(5 * time.Minute) // past every step used before
			code := codeAt(tt.offset)
			b := e.browser("fr")
			st, _ := b.login(account.Tiers, janID, janPass, code)
			if tt.replay {
				if st != 200 {
					t.Fatalf("first use: %d", st)
				}
				e.clock.Add(10 * time.Second) // same step
				st, _ = e.browser("fr").login(account.Tiers, janID, janPass, code)
			}
			if st != tt.want {
				t.Fatalf("status %d, want %d", st, tt.want)
			}
			if st != 200 && b.errorMessage() != e.msg(i18n.FR, "error.credentials") && !tt.replay {
				t.Errorf("message %q", b.errorMessage())
			}
		})
	}
}

// The page never tells which part was wrong, nor whether the account exists.
func TestLoginGenericFailure(t *testing.T) {
	t.Parallel()
	literal := map[i18n.Lang]string{
		i18n.FR: "Identifiant, mot de passe ou code incorrect",
		i18n.NL: "Login, wachtwoord of code onjuist",
		i18n.EN: "Identifier, password or code incorrect",
	}
	for _, l := range langs {
		t.Run(string(l.lang), func(t *testing.T) {
			e := newEnv(t)
			e.createAccount(account.Tiers, janID, janPass, i18n.FR)
			e.createAccount(account.Client, "marie@example.be", janPass, i18n.FR) // linked to nothing
			secret := e.browser("fr").enrol(account.Tiers, janID, janPass)
			e.clock.Add(time.Minute)
			good := e.code(secret)
			tests := []struct {
				name                   string
				typ                    account.Type
				identifier, pass, code string
			}{
				{"wrong password", account.Tiers, janID, "wrong password!", good},
				{"wrong code", account.Tiers, janID, janPass, e.wrongCode(secret)},
				{"unknown identifier", account.Tiers, "nobody@example.be", janPass, good},
				{"right identifier, other type", account.Group, janID, janPass, good},
				{"not an e-mail address", account.Tiers, "jan", janPass, good},
				{"no authenticator, wrong password", account.Client, "marie@example.be", "wrong password!", good},
			}
			var first string
			for _, tt := range tests {
				b := e.browser(l.accept)
				st, _ := b.login(tt.typ, tt.identifier, tt.pass, tt.code)
				got := b.errorMessage()
				if st != http.StatusUnauthorized || !strings.HasPrefix(got, literal[l.lang]) {
					t.Errorf("%s: %d %q, want 401 and %q", tt.name, st, got, literal[l.lang])
				}
				if first == "" {
					first = got
				} else if got != first {
					t.Errorf("%s: message %q differs from %q", tt.name, got, first)
				}
				if strings.Contains(b.body, tt.pass) || b.cookie(sessionCookie) != "" {
					t.Errorf("%s: the page echoes the password or a session was opened", tt.name)
				}
			}
		})
	}
}

// Failures lock the account; a locked account with every factor right gets
// exactly what a wrong password gets, until the lock ends.
func TestLockout(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.createAccount(account.Tiers, janID, janPass, i18n.NL)
	secret := e.browser("nl").enrol(account.Tiers, janID, janPass)
	b := e.browser("nl")

	wrongPassSt, _ := b.login(account.Tiers, janID, "wrong password!", e.code(secret))
	wrongPassMsg := b.errorMessage()
	if !strings.HasPrefix(wrongPassMsg, "Login, wachtwoord of code onjuist") {
		t.Fatalf("wrong password: %d %q", wrongPassSt, wrongPassMsg)
	}
	e.clock.Add(time.Minute)
	b.login(account.Tiers, janID, janPass, e.code(secret)) // success clears the count
	if !b.loggedIn() {
		t.Fatal("right login refused")
	}

	// account.DefaultThrottle: FreeFailures failures are free, the next one locks.
	for i := 0; i <= e.auth.Throttle.FreeFailures; i++ {
		if st, _ := b.login(account.Tiers, janID, janPass, e.wrongCode(secret)); st != http.StatusUnauthorized {
			t.Fatalf("wrong code %d: %d", i+1, st)
		}
	}
	e.clock.Add(30 * time.Second)
	st, _ := b.login(account.Tiers, janID, janPass, e.code(secret))
	if st != wrongPassSt || b.errorMessage() != wrongPassMsg {
		t.Fatalf("locked account with the right code: %d %q; a wrong password gets %d %q", st, b.errorMessage(), wrongPassSt, wrongPassMsg)
	}
	if !containsStr(e.audit(a), "lockout/success") {
		t.Errorf("no lockout in the audit log: %v", e.audit(a))
	}
	locked, _ := e.store.GetAccount(context.Background(), a.ID)
	e.clock.Add(locked.LockedUntil.Sub(e.clock.Now()))
	if st, _ := b.login(account.Tiers, janID, janPass, e.code(secret)); st != 200 || !b.loggedIn() {
		t.Fatalf("after the lock delay: %d %q", st, b.errorMessage())
	}
}

// Too many failures from one address refuse every login from it, whatever
// the account, until the window passes; the page and Retry-After say how
// long that is, as configured.
func TestAddressLimit(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		window     time.Duration
		lang       i18n.Lang
		minutes    int
		retryAfter string
	}{
		{15 * time.Minute, i18n.EN, 15, "900"}, // the default
		{time.Hour, i18n.NL, 60, "3600"},
		{90 * time.Second, i18n.FR, 2, "90"},
		{time.Minute, i18n.EN, 1, "60"}, // the singular
	} {
		t.Run(c.window.String(), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			e.auth.AddressLimit.Window = c.window
			e.createAccount(account.Tiers, janID, janPass, c.lang)
			secret := e.browser(string(c.lang)).enrol(account.Tiers, janID, janPass)
			b := e.browser(string(c.lang))
			for i := range e.auth.AddressLimit.Failures {
				// Different unknown accounts, so no account lock is involved.
				if st, _ := b.login(account.Tiers, "nobody"+string(rune('a'+i%26))+"@example.be", janPass, "123456"); st != http.StatusUnauthorized {
					t.Fatalf("failure %d: %d", i, st)
				}
			}
			st, _ := b.login(account.Tiers, janID, janPass, e.code(secret))
			want := e.web.cat.N(c.lang, "error.address_throttled", c.minutes)
			if st != http.StatusTooManyRequests || b.errorMessage() != want || b.last.Header.Get("Retry-After") != c.retryAfter {
				t.Fatalf("over the address limit: %d %q, Retry-After %q; want %q, %s", st, b.errorMessage(), b.last.Header.Get("Retry-After"), want, c.retryAfter)
			}
			if !strings.Contains(want, strconv.Itoa(c.minutes)+" minut") {
				t.Fatalf("the message does not say %d minutes: %q", c.minutes, want)
			}
			e.clock.Add(c.window)
			if st, _ := b.login(account.Tiers, janID, janPass, e.code(secret)); st != 200 || !b.loggedIn() {
				t.Fatalf("after the window: %d %q", st, b.errorMessage())
			}
		})
	}
}

// A POST to a later step's URL acts on the server's record only: it links
// nothing without a wizard, nor before the question was answered.
func TestWizardStepSkipping(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.createAccount(account.Tiers, janID, janPass, i18n.FR)
	ctx := context.Background()

	t.Run("no wizard", func(t *testing.T) {
		b := e.browser("fr")
		for _, path := range []string{"/totp/init/code", "/totp/init/question"} {
			// An empty code too (found by FuzzLoginForm: it gave a 422 with no message).
			for _, code := range []string{"123456", ""} {
				st, _ := b.post(path, url.Values{"totp": {code}, "answer": {"x"}, "question": {"first_pet"}})
				if st != http.StatusConflict || b.step() != 1 || b.errorMessage() != e.msg(i18n.FR, "error.flow_expired") {
					t.Errorf("POST %s without a wizard, code %q: %d, step %d, %q", path, code, st, b.step(), b.errorMessage())
				}
			}
		}
	})
	t.Run("question state", func(t *testing.T) {
		b := e.browser("fr")
		b.get("/totp/init")
		b.post("/totp/init", url.Values{"identifier": {janID}, "password": {janPass}, "account_type": {"tiers"}})
		token := b.cookie(flowCookie)
		for _, code := range []string{"123456", "000000", ""} {
			st, _ := b.post("/totp/init/code", url.Values{"totp": {code}})
			if st != http.StatusConflict || b.step() != 2 || b.errorMessage() != e.msg(i18n.FR, "error.wrong_step") {
				t.Errorf("code at step 2: %d, step %d, %q", st, b.step(), b.errorMessage())
			}
		}
		en, err := e.store.GetEnrolment(ctx, auth.HashToken(token))
		if err != nil || en.State != enrol.Question || len(en.Secret) != 0 {
			t.Errorf("enrolment after step-skipping: %+v, %v", en, err)
		}
		got, _ := e.store.GetAccount(ctx, a.ID)
		if got.HasQuestion() || got.FailedAttempts != 0 {
			t.Errorf("account changed: question %v, failures %d", got.HasQuestion(), got.FailedAttempts)
		}
	})
	t.Run("code state", func(t *testing.T) {
		b := e.browser("fr")
		b.get("/totp/init")
		b.post("/totp/init", url.Values{"identifier": {janID}, "password": {janPass}, "account_type": {"tiers"}})
		b.post("/totp/init/question", url.Values{"question": {"first_pet"}, "answer": {"Minou"}})
		secret := b.secretOnPage()
		// Answering again from step 3 must not replace the question or the secret.
		st, _ := b.post("/totp/init/question", url.Values{"question": {"first_car"}, "answer": {"Volvo"}})
		if st != http.StatusConflict || b.step() != 3 || !bytes.Equal(b.secretOnPage(), secret) {
			t.Errorf("question at step 3: %d, step %d", st, b.step())
		}
		// The chosen question waits on the record until the code links.
		en, _ := e.store.GetEnrolment(ctx, auth.HashToken(b.cookie(flowCookie)))
		if en.QuestionKey != "first_pet" {
			t.Errorf("question is %q, want first_pet", en.QuestionKey)
		}
		if got, _ := e.store.GetAccount(ctx, a.ID); got.HasQuestion() {
			t.Error("the question was saved before the authenticator was linked")
		}
	})
	if e.hasAuthenticator(a) {
		t.Fatal("step-skipping linked an authenticator")
	}
}

func TestCSRF(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.createAccount(account.Tiers, janID, janPass, i18n.FR)
	secret := e.browser("fr").enrol(account.Tiers, janID, janPass)
	e.clock.Add(time.Minute)
	before := len(e.allAudit())

	for _, l := range langs {
		b := e.browser(l.accept)
		token := b.csrf()
		form := func(csrf string) string {
			v := url.Values{"identifier": {janID}, "password": {janPass}, "account_type": {"tiers"}, "totp": {e.code(secret)}}
			if csrf != "" {
				v.Set("csrf", csrf)
			}
			return v.Encode()
		}
		const ct = "application/x-www-form-urlencoded"
		tests := []struct {
			name    string
			body    string
			hdr     []string
			wantKey string
		}{
			{"no csrf field", form(""), nil, "error.csrf"},
			{"wrong token", form("AAAAAAAAAAAAAAAAAAAAAA"), nil, "error.csrf"},
			{"token of another browser", form(e.browser("fr").csrf()), nil, "error.csrf"},
			{"cross-site fetch", form(token), []string{"Sec-Fetch-Site", "cross-site"}, "error.forbidden"},
			{"foreign origin", form(token), []string{"Sec-Fetch-Site", "", "Origin", "https://evil.example"}, "error.forbidden"},
		}
		for _, tt := range tests {
			for _, path := range []string{"/login", "/totp/init", "/totp/reset", "/logout"} {
				st, _ := b.send("POST", path, ct, tt.body, tt.hdr...)
				if st != http.StatusForbidden || !strings.Contains(b.text(), e.msg(l.lang, tt.wantKey)) {
					t.Errorf("%s, %s, POST %s: %d\n%s", l.lang, tt.name, path, st, b.body)
				}
				if b.cookie(sessionCookie) != "" || b.cookie(flowCookie) != "" {
					t.Fatalf("%s, POST %s: a session or wizard was started", tt.name, path)
				}
			}
		}
	}
	if n := len(e.allAudit()); n != before {
		t.Errorf("refused requests wrote %d audit lines", n-before)
	}
}

func TestLogoutEndsSessionOnServer(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.createAccount(account.Tiers, janID, janPass, i18n.FR)
	b := e.browser("fr")
	secret := b.enrol(account.Tiers, janID, janPass)
	b.login(account.Tiers, janID, janPass, e.code(secret))
	token := b.cookie(sessionCookie)
	if token == "" || !b.loggedIn() {
		t.Fatal("not logged in")
	}
	if st, _ := b.post("/logout", nil); st != 200 || b.loggedIn() || b.cookie(sessionCookie) != "" {
		t.Fatalf("logout: %d, still logged in", st)
	}
	if _, err := e.store.GetSession(context.Background(), auth.HashToken(token)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("session still stored: %v", err)
	}
	// A copy of the old cookie no longer works.
	thief := e.browser("fr")
	thief.setCookie(sessionCookie, token)
	if thief.loggedIn() {
		t.Fatal("the old session cookie still logs in")
	}
}

func TestSessionTimeouts(t *testing.T) {
	t.Parallel()
	policy := auth.DefaultSessionPolicy()
	tests := []struct {
		name  string
		steps []time.Duration // clock moves, each followed by a page view
		want  []bool          // logged in after each
	}{
		{"idle just under", []time.Duration{policy.Idle - time.Second}, []bool{true}},
		{"idle reached", []time.Duration{policy.Idle}, []bool{false}},
		{"activity keeps it", []time.Duration{20 * time.Minute, 20 * time.Minute, 20 * time.Minute}, []bool{true, true, true}},
		{"activity then idle", []time.Duration{20 * time.Minute, policy.Idle + time.Minute}, []bool{true, false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			e.createAccount(account.Tiers, janID, janPass, i18n.FR)
			b := e.browser("fr")
			secret := b.enrol(account.Tiers, janID, janPass)
			b.login(account.Tiers, janID, janPass, e.code(secret))
			for i, d := range tt.steps {
				e.clock.Add(d)
				if got := b.loggedIn(); got != tt.want[i] {
					t.Fatalf("after move %d (%v): logged in %v, want %v", i, d, got, tt.want[i])
				}
			}
		})
	}
	t.Run("absolute", func(t *testing.T) {
		e := newEnv(t)
		e.createAccount(account.Tiers, janID, janPass, i18n.FR)
		b := e.browser("fr")
		secret := b.enrol(account.Tiers, janID, janPass)
		b.login(account.Tiers, janID, janPass, e.code(secret))
		start := e.clock.Now()
		step := policy.Idle - time.Minute
		for e.clock.Now().Add(step).Sub(start) < policy.Absolute {
			e.clock.Add(step)
			if !b.loggedIn() {
				t.Fatalf("logged out after %v of activity", e.clock.Now().Sub(start))
			}
		}
		e.clock.Add(start.Add(policy.Absolute).Sub(e.clock.Now()))
		if b.loggedIn() {
			t.Fatalf("still logged in %v after login", e.clock.Now().Sub(start))
		}
	})
}

// A session id the browser brings is never adopted: login makes a new one.
func TestSessionFixation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.createAccount(account.Tiers, janID, janPass, i18n.FR)
	b := e.browser("fr")
	secret := b.enrol(account.Tiers, janID, janPass)
	const planted = "AAAAAAAAAAAAAAAAAAAAAA"
	b.setCookie(sessionCookie, planted)
	b.login(account.Tiers, janID, janPass, e.code(secret))
	got := b.cookie(sessionCookie)
	if got == "" || got == planted || !b.loggedIn() {
		t.Fatalf("session cookie after login: %q", got)
	}
	if _, err := e.store.GetSession(context.Background(), auth.HashToken(planted)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the planted id became a session: %v", err)
	}
	attacker := e.browser("fr")
	attacker.setCookie(sessionCookie, planted)
	if attacker.loggedIn() {
		t.Fatal("the planted cookie is logged in")
	}
}

func TestLanguage(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tests := []struct {
		accept string
		want   i18n.Lang
	}{
		{"", i18n.FR}, // the configured default
		{"nl-BE,nl;q=0.9,en;q=0.5", i18n.NL},
		{"en-GB", i18n.EN},
		{"de-DE", i18n.FR},
		{"fr-BE;q=0.2, en;q=0.8", i18n.EN},
		{"x;;;=,,", i18n.FR},
	}
	for _, tt := range tests {
		b := e.browser(tt.accept)
		b.get("/login")
		if !strings.Contains(b.body, `<html lang="`+string(tt.want)+`">`) || !strings.Contains(b.text(), e.msg(tt.want, "field.password")) {
			t.Errorf("Accept-Language %q: page not in %s", tt.accept, tt.want)
		}
	}

	// The switch wins over Accept-Language and is remembered.
	b := e.browser("en")
	b.get("/login?lang=nl")
	if !strings.Contains(b.body, `<html lang="nl">`) || b.cookie(i18n.CookieName) != "nl" {
		t.Fatalf("?lang=nl: cookie %q\n%s", b.cookie(i18n.CookieName), b.body)
	}
	for _, path := range []string{"/", "/totp/init", "/totp/reset", "/nowhere"} {
		b.get(path)
		if !strings.Contains(b.body, `<html lang="nl">`) {
			t.Errorf("GET %s after choosing NL: not in Dutch", path)
		}
	}
	b.get("/?lang=xx") // an unknown choice changes nothing
	if !strings.Contains(b.body, `<html lang="nl">`) || b.cookie(i18n.CookieName) != "nl" {
		t.Error("?lang=xx changed the language")
	}
}

func TestSecurityHeaders(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := e.browser("fr")
	pages := []struct{ method, path string }{
		{"GET", "/"}, {"GET", "/login"}, {"GET", "/totp/init"}, {"GET", "/totp/reset"}, {"GET", "/nowhere"}, {"POST", "/login"},
	}
	for _, p := range pages {
		if p.method == "GET" {
			b.get(p.path)
		} else {
			b.post(p.path, url.Values{"identifier": {"x@example.be"}, "password": {"x"}, "account_type": {"tiers"}, "totp": {"123456"}})
		}
		h := b.last.Header
		for name, want := range map[string]string{
			"Content-Security-Policy": "frame-ancestors 'none'",
			"X-Frame-Options":         "DENY",
			"Cache-Control":           "no-store",
			"X-Content-Type-Options":  "nosniff",
			"Referrer-Policy":         "no-referrer",
		} {
			if !strings.Contains(h.Get(name), want) {
				t.Errorf("%s %s: %s = %q, want %q", p.method, p.path, name, h.Get(name), want)
			}
		}
		if csp := h.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || strings.Contains(csp, "unsafe-inline") {
			t.Errorf("%s %s: weak CSP %q", p.method, p.path, csp)
		}
		for _, c := range b.last.Cookies() {
			if !c.Secure || !c.HttpOnly || c.SameSite == http.SameSiteNoneMode {
				t.Errorf("%s %s: cookie %s is not Secure, HttpOnly and SameSite", p.method, p.path, c.Name)
			}
		}
	}
}

// HSTS goes only on responses the browser gets over https: a forged
// X-Forwarded-Proto on plain http must not bring it, a trusted proxy's must.
func TestHSTS(t *testing.T) {
	t.Parallel()
	base := authtest.New(t, authtest.NewClock(authtest.Start))
	portal := func(trustProxy bool) *Server {
		w, err := New(Options{Auth: base.Auth, Sessions: auth.DefaultSessionPolicy(), Log: base.Auth.Log, TrustProxy: trustProxy})
		if err != nil {
			t.Fatal(err)
		}
		return w
	}
	tests := []struct {
		name       string
		tls        bool
		trustProxy bool
		proto      string // X-Forwarded-Proto
		want       bool
	}{
		{"plain http", false, false, "", false},
		{"plain http, forged X-Forwarded-Proto", false, false, "https", false},
		{"trusted proxy, https", false, true, "https", true},
		{"trusted proxy, http", false, true, "http", false},
		{"trusted proxy, no header", false, true, "", false},
		{"TLS", true, false, "", true},
		{"TLS, X-Forwarded-Proto http", true, true, "http", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			newServer := httptest.NewServer
			if tt.tls {
				newServer = httptest.NewTLSServer
			}
			srv := newServer(portal(tt.trustProxy))
			defer srv.Close()
			req, _ := http.NewRequest(http.MethodGet, srv.URL+"/login", nil)
			if tt.proto != "" {
				req.Header.Set("X-Forwarded-Proto", tt.proto)
			}
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if got := resp.Header.Get("Strict-Transport-Security") != ""; got != tt.want {
				t.Errorf("HSTS sent: %v, want %v (%q)", got, tt.want, resp.Header.Get("Strict-Transport-Security"))
			}
		})
	}
}

var otpauthLinkRe = regexp.MustCompile(`<a href="(otpauth:[^"]*)"`)

// Step 3 shows the secret three ways, all the same secret.
func TestOtpauthLinkAndQR(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.createAccount(account.Tiers, "jan+test@example.be", janPass, i18n.FR)
	b := e.browser("fr")
	secret := b.toStep3("jan+test@example.be", janPass)

	links := otpauthLinkRe.FindAllStringSubmatch(b.body, -1)
	if len(links) != 1 || strings.Count(b.body, "otpauth:") != 1 {
		t.Fatalf("want exactly one otpauth link, found %d\n%s", len(links), b.body)
	}
	uri := html.UnescapeString(links[0][1])
	u, err := url.Parse(uri)
	if err != nil || u.Scheme != "otpauth" || u.Host != "totp" {
		t.Fatalf("link %q: %v", uri, err)
	}
	if got, want := u.Path, "/Finagora:jan+test@example.be"; got != want {
		t.Errorf("label %q, want %q", got, want)
	}
	q := u.Query()
	if s, err := totp.DecodeSecret(q.Get("secret")); err != nil || !bytes.Equal(s, secret) {
		t.Errorf("link secret %q is not the secret shown", q.Get("secret"))
	}
	if len(secret)*8 < 160 {
		t.Errorf("secret has %d bits, want at least 160", len(secret)*8)
	}
	for k, want := range map[string]string{"issuer": "Finagora", "algorithm": "SHA1", "digits": "6", "period": "30"} {
		if q.Get(k) != want {
			t.Errorf("link %s = %q, want %q", k, q.Get(k), want)
		}
	}

	m := regexp.MustCompile(`<img src="data:image/png;base64,([^"]+)"`).FindStringSubmatch(b.body)
	if m == nil {
		t.Fatalf("no QR image on step 3\n%s", b.body)
	}
	png, err := base64.StdEncoding.DecodeString(html.UnescapeString(m[1]))
	if err != nil {
		t.Fatal(err)
	}
	img, _, err := image.Decode(bytes.NewReader(png))
	if err != nil {
		t.Fatal(err)
	}
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		t.Fatal(err)
	}
	res, err := qrcode.NewQRCodeReader().Decode(bmp, nil)
	if err != nil {
		t.Fatalf("decode QR: %v", err)
	}
	if res.GetText() != uri {
		t.Errorf("QR holds %q, the link %q", res.GetText(), uri)
	}
	// The secret is in no form field: it lives on the server.
	if strings.Contains(b.body, `type="hidden" name="secret"`) || strings.Count(b.body, `type="hidden"`) != 1 {
		t.Errorf("step 3 has hidden fields beyond the CSRF token")
	}
}

var (
	inputTagRe = regexp.MustCompile(`<(input|select|textarea)\b[^>]*>`)
	attrRe     = regexp.MustCompile(`\b([a-z-]+)="([^"]*)"`)
)

func attrs(tag string) map[string]string {
	m := map[string]string{}
	for _, a := range attrRe.FindAllStringSubmatch(tag, -1) {
		m[a[1]] = a[2]
	}
	return m
}

// The form contract: every field is labelled, and the code field tells
// phones and password managers what it is.
func TestFormContract(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.createAccount(account.Tiers, janID, janPass, i18n.FR)
	b := e.browser("fr")
	pages := map[string]string{}
	for _, p := range []string{"/login", "/totp/reset", "/totp/init"} {
		b.get(p)
		pages[p] = b.body
	}
	b.post("/totp/init", url.Values{"identifier": {janID}, "password": {janPass}, "account_type": {"tiers"}})
	pages["step 2"] = b.body
	b.post("/totp/init/question", url.Values{"question": {"first_pet"}, "answer": {"Minou"}})
	pages["step 3"] = b.body

	wantAttrs := map[string]map[string]string{
		"totp":       {"autocomplete": "one-time-code", "inputmode": "numeric", "maxlength": "6"},
		"identifier": {"autocomplete": "username", "type": "email"},
		"password":   {"autocomplete": "current-password", "type": "password"},
		"answer":     {"type": "password"},
	}
	for name, body := range pages {
		for _, loc := range inputTagRe.FindAllStringIndex(body, -1) {
			tag := body[loc[0]:loc[1]]
			a := attrs(tag)
			if a["type"] == "hidden" {
				continue
			}
			labelled := a["id"] != "" && strings.Contains(body, `<label for="`+a["id"]+`"`)
			if !labelled { // or wrapped in its label
				open, closed := strings.LastIndex(body[:loc[0]], "<label"), strings.LastIndex(body[:loc[0]], "</label>")
				labelled = open > closed
			}
			if !labelled {
				t.Errorf("%s: field without a label: %s", name, tag)
			}
			for k, v := range wantAttrs[a["name"]] {
				if a[k] != v {
					t.Errorf("%s: field %s has %s=%q, want %q", name, a["name"], k, a[k], v)
				}
			}
		}
	}
	if !strings.Contains(pages["/login"], `name="totp"`) || !strings.Contains(pages["step 3"], `name="totp"`) {
		t.Error("login or step 3 has no code field")
	}
}

// Bad input gets a clear, translated 4xx page; nothing is written.
func TestBadInput(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.createAccount(account.Tiers, janID, janPass, i18n.FR)
	const form = "application/x-www-form-urlencoded"
	long := strings.Repeat("a", 300) + "@example.be"
	tests := []struct {
		name       string
		method     string
		path       string
		ct         string
		body       string // the CSRF field is added unless the body starts with '!'
		wantStatus int
		wantKey    string
	}{
		{"overlong identifier", "POST", "/login", form, "identifier=" + long + "&password=x&account_type=tiers&totp=123456", 422, "error.too_long"},
		{"field over the field limit", "POST", "/login", form, "identifier=" + strings.Repeat("a", 2000) + "&password=x&account_type=tiers&totp=123456", 400, "error.bad_request"},
		{"invalid UTF-8", "POST", "/login", form, "identifier=%FF%FE@example.be&password=x&account_type=tiers&totp=123456", 400, "error.bad_request"},
		{"NUL in password", "POST", "/login", form, "identifier=" + janID + "&password=a%00b&account_type=tiers&totp=123456", 400, "error.bad_request"},
		{"NUL in answer", "POST", "/totp/init/question", form, "answer=a%00b&question=first_pet", 400, "error.bad_request"},
		{"missing password", "POST", "/login", form, "identifier=" + janID + "&account_type=tiers&totp=123456", 422, "error.required"},
		{"missing everything", "POST", "/totp/init", form, "", 422, "error.required"},
		{"code not 6 digits", "POST", "/login", form, "identifier=" + janID + "&password=x&account_type=tiers&totp=12345a", 422, "error.code_format"},
		{"unknown account type", "POST", "/login", form, "identifier=" + janID + "&password=x&account_type=admin&totp=123456", 400, "error.bad_request"},
		{"account type with a quote", "POST", "/totp/init", form, "identifier=" + janID + "&password=x&account_type=tiers'--", 400, "error.bad_request"},
		{"identifier twice", "POST", "/login", form, "identifier=" + janID + "&identifier=other@example.be&password=" + url.QueryEscape(janPass) + "&account_type=tiers&totp=123456", 400, "error.bad_request"},
		{"code twice", "POST", "/totp/reset", form, "identifier=" + janID + "&password=x&account_type=tiers&totp=123456&totp=654321", 400, "error.bad_request"},
		{"bad percent-encoding", "POST", "/login", form, "identifier=%zz", 400, "error.bad_request"},
		{"oversized body", "POST", "/login", form, "identifier=" + janID + "&pad=" + strings.Repeat("x", 20<<10), 413, "error.bad_request"},
		{"not a form", "POST", "/login", "application/json", `!{"identifier":"jan@example.be"}`, 415, "error.bad_request"},
		{"multipart", "POST", "/totp/init", "multipart/form-data; boundary=x", "!--x--", 415, "error.bad_request"},
		{"no content type", "POST", "/totp/init/code", "", "!totp=123456", 415, "error.bad_request"},
		{"PUT /login", "PUT", "/login", form, "identifier=x", 405, "error.bad_request"},
		{"DELETE /totp/init", "DELETE", "/totp/init", "", "!", 405, "error.bad_request"},
		{"GET /totp/init/code", "GET", "/totp/init/code", "", "!", 405, "error.bad_request"},
		{"GET /logout", "GET", "/logout", "", "!", 405, "error.bad_request"},
		{"POST /", "POST", "/", form, "", 405, "error.bad_request"},
		{"unknown page", "GET", "/admin.php", "", "!", 404, "error.not_found"},
	}
	for _, l := range langs {
		b := e.browser(l.accept)
		token := b.csrf()
		for _, tt := range tests {
			body := tt.body
			if strings.HasPrefix(body, "!") {
				body = body[1:]
			} else {
				body = "csrf=" + token + "&" + body
			}
			st, _ := b.send(tt.method, tt.path, tt.ct, body)
			if st != tt.wantStatus {
				t.Errorf("%s, %s: status %d, want %d", l.lang, tt.name, st, tt.wantStatus)
			}
			if !strings.Contains(b.text(), e.msg(l.lang, tt.wantKey)) || !strings.Contains(b.body, `<html lang="`+string(l.lang)+`">`) {
				t.Errorf("%s, %s: page lacks %q\n%s", l.lang, tt.name, e.msg(l.lang, tt.wantKey), b.body)
			}
			if st == http.StatusMethodNotAllowed && b.last.Header.Get("Allow") == "" {
				t.Errorf("%s: 405 without Allow", tt.name)
			}
		}
	}
	// Forged, overlong and garbage session cookies are simply not sessions.
	for _, c := range []string{"forged-session-id", strings.Repeat("A", 22), strings.Repeat("x", 500), "%00%ff"} {
		b := e.browser("fr")
		b.setCookie(sessionCookie, c)
		b.setCookie(flowCookie, c)
		if st, _ := b.get("/"); st != 200 || strings.Contains(b.body, `action="/logout"`) {
			t.Errorf("cookie %.20q: home %d, logged in %v", c, st, strings.Contains(b.body, `action="/logout"`))
		}
		if st, _ := b.get("/totp/init"); st != 200 || b.step() != 1 {
			t.Errorf("flow cookie %.20q: %d, step %d", c, st, b.step())
		}
		if st, _ := b.post("/totp/init/code", url.Values{"totp": {"123456"}}); st != http.StatusConflict {
			t.Errorf("flow cookie %.20q: POST code %d", c, st)
		}
		if st, _ := b.post("/logout", nil); st != 200 {
			t.Errorf("cookie %.20q: logout %d", c, st)
		}
	}

	if evs := e.allAudit(); len(evs) != 0 {
		t.Errorf("bad input reached the service: %d audit lines, first %+v", len(evs), evs[0])
	}
	got, _ := e.store.GetAccount(context.Background(), a.ID)
	if got.FailedAttempts != 0 || got.HasQuestion() || e.hasAuthenticator(a) {
		t.Errorf("bad input changed the account: %+v", got)
	}
}
