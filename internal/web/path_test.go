package web

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"sesame/internal/account"
)

// The path that leads on after a reset or a cancelled wizard, in each language.

func TestResetLeadsOnToTheWizardFilledIn(t *testing.T) {
	t.Parallel()
	for _, l := range langs {
		t.Run(string(l.lang), func(t *testing.T) {
			e := newEnv(t)
			e.createAccount(account.Tiers, janID, janPass, l.lang)
			b := e.browser(l.accept)
			secret := b.enrol(account.Tiers, janID, janPass)
			b.get("/totp/reset")
			st, body := b.post("/totp/reset", url.Values{"identifier": {janID}, "password": {janPass}, "account_type": {"tiers"}, "totp": {e.code(secret)}})
			if st != 200 || !strings.Contains(b.text(), e.msg(l.lang, "reset.success")) {
				t.Fatalf("reset: %d\n%s", st, body)
			}
			// The main button is the initialisation, filled in; Back is secondary.
			want := `<a class="button" href="/totp/init?account_type=tiers&amp;identifier=jan%40example.be">` + e.msg(l.lang, "nav.totp_init") + `</a>`
			if !strings.Contains(body, want) {
				t.Fatalf("no main button %s:\n%s", want, body)
			}
			if !strings.Contains(b.text(), `<a class="button secondary" href="/">`+e.msg(l.lang, "reset.back")) {
				t.Errorf("Back is not the secondary button:\n%s", body)
			}
			b.get("/totp/init?account_type=tiers&identifier=jan%40example.be")
			if b.step() != 1 || !strings.Contains(b.body, `value="`+janID+`"`) || !strings.Contains(b.body, `value="tiers" required checked`) {
				t.Errorf("step 1 is not filled in:\n%s", b.body)
			}
			// Only what is well-formed is taken.
			b.get("/totp/init?account_type=admin&identifier=" + url.QueryEscape(strings.Repeat("x", 300)))
			if strings.Contains(b.body, "xxxxxxxx") || strings.Contains(b.body, "checked") {
				t.Error("step 1 took a malformed identifier or type")
			}
		})
	}
}

func TestWizardCancelSaysSoAndKeepsNothing(t *testing.T) {
	t.Parallel()
	for _, l := range langs {
		t.Run(string(l.lang), func(t *testing.T) {
			e := newEnv(t)
			a := e.createAccount(account.Tiers, janID, janPass, l.lang)
			b := e.browser(l.accept)
			b.toStep3(janID, janPass) // chooses a question at step 2
			st, _ := b.post("/totp/init/cancel", nil)
			if st != 200 || b.step() != 1 {
				t.Fatalf("cancel: %d, step %d", st, b.step())
			}
			if !strings.Contains(b.text(), e.msg(l.lang, "enrol.cancelled_by_you")) {
				t.Errorf("the page does not say the initialisation was cancelled:\n%s", b.body)
			}
			if !strings.Contains(b.body, `value="`+janID+`"`) || !strings.Contains(b.body, `value="tiers" required checked`) {
				t.Errorf("step 1 after Cancel is not filled in")
			}
			if got, _ := e.store.GetAccount(context.Background(), a.ID); got.HasQuestion() {
				t.Error("the question chosen in the cancelled initialisation was kept")
			}
		})
	}
}

func TestQuestionSavedWithTheAuthenticator(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.createAccount(account.Tiers, janID, janPass, "fr")
	b := e.browser("fr")
	b.toStep3(janID, janPass)
	if got, _ := e.store.GetAccount(context.Background(), a.ID); got.HasQuestion() {
		t.Fatal("the question was saved before linking")
	}
	// An expired initialisation keeps nothing either.
	e.clock.Add(16 * 60 * 1e9)
	b.get("/totp/init")
	if b.step() != 1 {
		t.Fatalf("after expiry: step %d", b.step())
	}
	if got, _ := e.store.GetAccount(context.Background(), a.ID); got.HasQuestion() {
		t.Fatal("the expired initialisation's question was kept")
	}
	secret := b.toStep3(janID, janPass)
	b.post("/totp/init/code", url.Values{"totp": {e.code(secret)}})
	got, _ := e.store.GetAccount(context.Background(), a.ID)
	if b.step() != 4 || got.QuestionKey != "first_plush" || !got.HasQuestion() {
		t.Errorf("after linking: step %d, question %q", b.step(), got.QuestionKey)
	}
	if !containsStr(e.audit(a), "question_set/success") {
		t.Errorf("audit = %v", e.audit(a))
	}
}

func TestHomeHasOneLogout(t *testing.T) {
	t.Parallel()
	for _, l := range langs {
		t.Run(string(l.lang), func(t *testing.T) {
			e := newEnv(t)
			e.createAccount(account.Tiers, janID, janPass, l.lang)
			b := e.browser(l.accept)
			secret := b.enrol(account.Tiers, janID, janPass)
			b.login(account.Tiers, janID, janPass, e.code(secret))
			_, body := b.get("/")
			if n := strings.Count(body, `action="/logout"`); n != 1 {
				t.Errorf("%d log-out controls on the home page, want 1", n)
			}
		})
	}
}

// TestAuditPageTranslated: the console's audit page names actions and
// details in the reader's language; the codes stay in the CSV.
func TestAuditPageTranslated(t *testing.T) {
	t.Parallel()
	e := newAdminEnv(t)
	sofie := e.as("sofie")
	e.as("marie") // a login of marie's to read about
	for _, l := range langs {
		sofie.lang = l.accept
		_, body := sofie.get("/admin/audit?lang=" + string(l.lang))
		for _, want := range []string{e.msg(l.lang, "audit.action.totp_linked"), e.msg(l.lang, "audit.action.login"), e.msg(l.lang, "audit.action.question_set")} {
			if !strings.Contains(unescape(body), ">"+want+"</td>") {
				t.Errorf("%s: the audit page lacks %q", l.lang, want)
			}
		}
		if strings.Contains(body, "<code>totp_linked</code>") || strings.Contains(body, ">totp_linked<") {
			t.Errorf("%s: a raw action code is shown", l.lang)
		}
		if strings.Count(body, `action="/logout"`) != 1 || !strings.Contains(body, "sofie@example.be</p>") && !strings.Contains(body, "<br>sofie@example.be") {
			t.Errorf("%s: the audit page's menu does not show who is logged in, with a log-out", l.lang)
		}
		if !strings.Contains(body, `class="table-wrap"`) {
			t.Errorf("%s: the table is not wrapped to fit the window", l.lang)
		}
	}
	// Filtered on marie, the menu still shows sofie as the one logged in.
	_, body := sofie.get(fmt.Sprintf("/admin/audit?account=%d", e.acc["marie"].ID))
	if !strings.Contains(body, "<br>sofie@example.be</p>") || strings.Contains(body, "<br>marie@example.be</p>") {
		t.Errorf("the filtered audit page shows the wrong person logged in:\n%s", body)
	}
	_, csvBody := sofie.get("/admin/audit.csv")
	if !strings.Contains(csvBody, ",totp_linked,") {
		t.Error("the CSV lost the action codes")
	}
}

func TestAuditDetails(t *testing.T) {
	e := newEnv(t)
	fr := Base{Lang: "fr", cat: e.web.cat}
	tests := map[string]string{
		"wrong password":                  "mot de passe incorrect",
		"no e-mail sent: unknown account": "aucun e-mail envoyé : compte inconnu",
		"5 consecutive failures, locked until 2026-11-22T10:01:00Z": "5 échecs consécutifs, bloqué jusqu'au 22/11/2026 11:01",
		"request 7 (totp) e-mailed to 2 administrator(s)":           "demande n° 7 (Réinitialiser le TOTP) envoyée à 2 administrateur(s)",
		"1 question request(s) answered by question_reset":          "1 demande(s) « Réinitialiser la question de sécurité » traitée(s) par : Réinitialisation de la question de sécurité",
		"type tiers, role office_admin, no initial password":        "type Tiers, rôle Administrateur de bureau, sans mot de passe initial",
		"type client":                      "type Client",
		"reset link e-mailed, valid 10m0s": "lien de réinitialisation envoyé, valable 10 min",
		"something nobody translated yet":  "something nobody translated yet",
	}
	for in, want := range tests {
		if got := fr.auditDetail(in); got != want {
			t.Errorf("auditDetail(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestEveryAuditActionTranslated reads the action names from the packages
// that write them, so a new one without a translation fails here.
func TestEveryAuditActionTranslated(t *testing.T) {
	e := newEnv(t)
	re := regexp.MustCompile(`Action[A-Za-z]* += "([a-z_]+)"|deny\(ctx, actor, "([a-z_]+)"|check\(ctx, actor, "([a-z_]+)"`)
	n := 0
	for _, dir := range []string{"../auth/*.go", "../admin/*.go"} {
		files, _ := filepath.Glob(dir)
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			b, _ := os.ReadFile(f)
			for _, m := range re.FindAllStringSubmatch(string(b), -1) {
				code := m[1] + m[2] + m[3]
				n++
				if !e.web.cat.Has("audit.action." + code) {
					t.Errorf("audit action %q has no translation", code)
				}
			}
		}
	}
	if n < 20 {
		t.Fatalf("only %d actions found: the test lost its sources", n)
	}
}
