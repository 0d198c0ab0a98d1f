package web

import (
	"context"
	"encoding/base64"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"sesame/internal/account"
	"sesame/internal/auth"
)

// Flow tests of recovery codes (SPEC 3) in each language.

var codeRe = regexp.MustCompile(`<li><code>([0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4})</code></li>`)

// codesOnPage reads the recovery codes a page shows.
func (b *browser) codesOnPage() []string {
	var out []string
	for _, m := range codeRe.FindAllStringSubmatch(b.body, -1) {
		out = append(out, m[1])
	}
	return out
}

var fileRe = regexp.MustCompile(`<a class="download" href="data:text/plain;charset=utf-8;base64,([A-Za-z0-9+/=]+)" download="sesame-recovery-codes.txt">`)

func TestRecoveryCodesShownOnceAtLinking(t *testing.T) {
	t.Parallel()
	for _, l := range langs {
		t.Run(string(l.lang), func(t *testing.T) {
			e := newEnv(t)
			a := e.createAccount(account.Tiers, janID, janPass, l.lang)
			b := e.browser(l.accept)
			b.enrol(account.Tiers, janID, janPass)
			codes := b.codesOnPage()
			if len(codes) != 10 {
				t.Fatalf("%d recovery codes on the success page, want 10:\n%s", len(codes), b.body)
			}
			if !strings.Contains(b.text(), e.msg(l.lang, "codes.keep")) || !strings.Contains(b.text(), e.msg(l.lang, "codes.download")) {
				t.Errorf("the success page lacks the sentence on keeping the codes, or the download link")
			}
			// The text file holds the same codes, without a script or a second request.
			m := fileRe.FindStringSubmatch(b.body)
			if m == nil {
				t.Fatalf("no download link:\n%s", b.body)
			}
			file, err := base64.StdEncoding.DecodeString(m[1])
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range codes {
				if !strings.Contains(string(file), c) {
					t.Errorf("the text file lacks %s:\n%s", c, file)
				}
			}
			if b.cookie(flowCookie) != "" {
				t.Error("the wizard's cookie outlives the success page")
			}
			// Shown once: the page again, or the wizard, shows no code.
			b.get("/totp/init/done")
			if got := b.codesOnPage(); len(got) != 0 || !strings.Contains(b.text(), e.msg(l.lang, "codes.shown")) {
				t.Errorf("the success page again shows %d codes", len(got))
			}
			// Only hashes are stored.
			hashes, err := e.store.UnusedRecoveryCodes(context.Background(), a.ID)
			if err != nil || len(hashes) != 10 {
				t.Fatalf("%d stored codes, %v", len(hashes), err)
			}
			for _, h := range hashes {
				for _, c := range codes {
					if strings.Contains(string(h), strings.ReplaceAll(c, "-", "")) {
						t.Fatal("a code is stored in clear")
					}
				}
			}
		})
	}
}

func TestRecoveryCodesNewSetFromHome(t *testing.T) {
	t.Parallel()
	for _, l := range langs {
		t.Run(string(l.lang), func(t *testing.T) {
			e := newEnv(t)
			a := e.createAccount(account.Tiers, janID, janPass, l.lang)
			b := e.browser(l.accept)
			secret := b.enrol(account.Tiers, janID, janPass)
			old := b.codesOnPage()
			if st, _ := b.login(account.Tiers, janID, janPass, e.code(secret)); st != 200 || !b.loggedIn() {
				t.Fatalf("login: %d", st)
			}
			e.clock.Add(30 * time.Second)
			if !strings.Contains(b.text(), e.msg(l.lang, "codes.left", "Count", 10)) {
				t.Errorf("the home page does not say 10 codes are left:\n%s", b.body)
			}
			// A wrong code makes nothing, and counts as a failure.
			if st, _ := b.post("/recovery-codes", url.Values{"totp": {e.wrongCode(secret)}}); st != 422 || len(b.codesOnPage()) != 0 {
				t.Fatalf("a wrong code: %d\n%s", st, b.body)
			}
			if got, _ := e.store.GetAccount(context.Background(), a.ID); got.FailedAttempts != 1 {
				t.Errorf("a wrong code left %d failures, want 1", got.FailedAttempts)
			}
			st, _ := b.post("/recovery-codes", url.Values{"totp": {e.code(secret)}})
			fresh := b.codesOnPage()
			if st != 200 || len(fresh) != 10 || !strings.Contains(b.text(), e.msg(l.lang, "codes.made")) {
				t.Fatalf("a new set: %d, %d codes\n%s", st, len(fresh), b.body)
			}
			if fresh[0] == old[0] {
				t.Error("the new set is the old one")
			}
			if !containsStr(e.audit(a), auth.ActionRecoveryCodesNew+"/success") {
				t.Errorf("no audit line: %v", e.audit(a))
			}
			// The same code again is a replay.
			if st, _ := b.post("/recovery-codes", url.Values{"totp": {e.code(secret)}}); st != 422 {
				t.Errorf("a replayed code: %d", st)
			}
			// Not logged in: to the login page.
			anon := e.browser(l.accept)
			anon.get("/")
			if st, _ := anon.post("/recovery-codes", url.Values{"totp": {"123456"}}); st != 200 || !strings.Contains(anon.last.Request.URL.Path, "/login") {
				t.Errorf("anonymous: %d at %s", st, anon.last.Request.URL)
			}
		})
	}
}

// TestLostPhoneWithRecoveryCode is point 2: the reset page's "I no longer
// have my old device" → identifier, password, type and a recovery code →
// straight on to the wizard's question, as the same account → a new
// device linked → logged in.
func TestLostPhoneWithRecoveryCode(t *testing.T) {
	t.Parallel()
	for _, l := range langs {
		t.Run(string(l.lang), func(t *testing.T) {
			e := newEnv(t)
			a := e.createAccount(account.Tiers, janID, janPass, l.lang)
			b := e.browser(l.accept)
			b.enrol(account.Tiers, janID, janPass)
			codes := b.codesOnPage()
			if st, _ := b.login(account.Tiers, janID, janPass, "000000"); st != 401 {
				t.Fatalf("login with a wrong code: %d", st)
			}

			// The phone is lost. Another browser, the reset page's link.
			p := e.browser(l.accept)
			p.get("/totp/reset")
			if !strings.Contains(p.body, `href="/totp/reset/lost"`) || !strings.Contains(p.text(), e.msg(l.lang, "reset.lost_link")) {
				t.Fatalf("no link to the lost-device form:\n%s", p.body)
			}
			if st, _ := p.get("/totp/reset/lost"); st != 200 || !strings.Contains(p.body, `name="recovery_code"`) {
				t.Fatalf("the lost-device form: %d", st)
			}
			form := func(code string) url.Values {
				return url.Values{"identifier": {janID}, "password": {janPass}, "account_type": {"tiers"}, "recovery_code": {code}}
			}
			// A wrong code: the generic failure, refilled, counted.
			if st, _ := p.post("/totp/reset/lost", form("AAAA-BBBB-CCCC-DDDD")); st != 401 || p.errorMessage() != e.msg(l.lang, "error.credentials") {
				t.Fatalf("a wrong code: %d %q", st, p.errorMessage())
			}
			if !strings.Contains(p.body, `value="`+janID+`"`) {
				t.Error("the identifier is not kept after a wrong code")
			}
			if st, _ := p.post("/totp/reset/lost", form("")); st != 422 {
				t.Errorf("no code: %d", st)
			}
			if !e.hasAuthenticator(a) {
				t.Fatal("a wrong code unlinked the authenticator")
			}
			// The right one: straight on to step 2, for this account.
			st, _ := p.post("/totp/reset/lost", form(strings.ToLower(codes[2])))
			if st != 200 || p.step() != 2 || p.last.Request.URL.Path != "/totp/init" {
				t.Fatalf("after the recovery code: %d, step %d at %s\n%s", st, p.step(), p.last.Request.URL, p.body)
			}
			if !strings.Contains(p.text(), e.msg(l.lang, "enrol.recovered")) || !strings.Contains(p.body, "<dd>"+janID+"</dd>") {
				t.Errorf("step 2 does not say what happened, or for whom:\n%s", p.body)
			}
			if e.hasAuthenticator(a) {
				t.Fatal("the authenticator is still linked")
			}
			// The first browser's session ended with the device.
			if b.loggedIn() {
				t.Error("a session outlived the recovery")
			}
			// The code is spent.
			q := e.browser(l.accept)
			q.get("/totp/reset/lost")
			if st, _ := q.post("/totp/reset/lost", form(codes[2])); st == 200 {
				t.Error("the spent code worked again")
			}
			// The wizard goes on: the account's own question, a new device, new codes, a login.
			p.post("/totp/init/question", url.Values{"answer": {"Doudou"}})
			if p.step() != 3 {
				t.Fatalf("after the answer: step %d\n%s", p.step(), p.body)
			}
			secret := p.secretOnPage()
			p.post("/totp/init/code", url.Values{"totp": {e.code(secret)}})
			if p.step() != 4 || len(p.codesOnPage()) != 10 {
				t.Fatalf("after the code: step %d, %d codes", p.step(), len(p.codesOnPage()))
			}
			e.clock.Add(30 * time.Second)
			if st, _ := p.login(account.Tiers, janID, janPass, e.code(secret)); st != 200 || !p.loggedIn() {
				t.Fatalf("login with the new device: %d", st)
			}
			// The owner was told, with the address.
			found := false
			for _, m := range e.mails() {
				if m.Kind == "authenticator_recovered" && strings.Contains(m.Text, "127.0.0.1") {
					found = true
				}
			}
			if !found {
				t.Error("no e-mail about the recovery, with the address")
			}
		})
	}
}
