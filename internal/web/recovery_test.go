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

// Flow tests of recovery codes (issue 11, point 1) in each language.

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
