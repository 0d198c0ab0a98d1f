package web

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"sesame/internal/store"
)

// Flow tests of "ask my administrator" (SPEC 3).

func askForm(identifier, typ, kind, message string) url.Values {
	return url.Values{"identifier": {identifier}, "account_type": {typ}, "kind": {kind}, "message": {message}}
}

// TestHelpAnswersTheSameWhateverTheAccount: the answer to an existing
// account, an unknown one, another type, and a throttled one is the same
// page, byte for byte, in each language.
func TestHelpAnswersTheSameWhateverTheAccount(t *testing.T) {
	t.Parallel()
	for _, l := range langs {
		t.Run(string(l.lang), func(t *testing.T) {
			e := newAdminEnv(t)
			b := e.browser(l.accept)
			b.get("/totp/reset")
			if !strings.Contains(b.body, `action="/help"`) || !strings.Contains(b.body, `name="kind" value="totp"`) {
				t.Fatalf("the reset page has no request form:\n%s", b.body)
			}
			var bodies []string
			for _, f := range []url.Values{
				askForm("jan@example.be", "tiers", "totp", "Mon téléphone est tombé à l'eau"),
				askForm("nobody@example.be", "tiers", "totp", "Mon téléphone est tombé à l'eau"),
				askForm("jan@example.be", "client", "totp", ""),
				askForm("jan@example.be", "tiers", "totp", ""),
				askForm("jan@example.be", "tiers", "totp", ""), // the identifier's 4th: over its limit
			} {
				st, body := b.post("/help", f)
				if st != 200 {
					t.Fatalf("%v: %d\n%s", f, st, body)
				}
				bodies = append(bodies, body)
			}
			for i, body := range bodies[1:] {
				if body != bodies[0] {
					t.Errorf("answer %d differs from the first:\n%s\n---\n%s", i+1, body, bodies[0])
				}
			}
			if !strings.Contains(unescape(bodies[0]), e.msg(l.lang, "help.sent")) || strings.Contains(bodies[0], "jan@example.be") {
				t.Errorf("the answer is not the neutral sentence, or names the account:\n%s", bodies[0])
			}
			// Exactly the existing, unthrottled requests (1st and 4th) were recorded and e-mailed to marie.
			list, total, _ := e.store.ListHelpRequests(context.Background(), store.HelpRequestFilter{})
			if total != 2 || list[0].Account.Identifier != "jan@example.be" {
				t.Errorf("%d requests recorded, want 2", total)
			}
			n := 0
			for _, m := range e.mails() {
				if m.Kind == "help_requested" {
					if m.To.Email != "marie@example.be" {
						t.Errorf("a request e-mailed to %s", m.To.Email)
					}
					n++
				}
			}
			if n != 2 {
				t.Errorf("%d e-mails to administrators, want 2", n)
			}
			// Form errors tell nothing about the account, and keep what was typed.
			if st, _ := b.post("/help", askForm("", "tiers", "totp", "")); st != 422 {
				t.Errorf("no identifier: %d", st)
			}
			if st, body := b.post("/help", askForm("jan@example.be", "tiers", "totp", strings.Repeat("é", 301))); st != 422 || !strings.Contains(body, `id="message-error"`) {
				t.Errorf("a message too long: %d", st)
			}
			if st, _ := b.post("/help", askForm("jan@example.be", "tiers", "totp", strings.Repeat("a", 2000))); st != 400 {
				t.Errorf("a field past the form limit: %d", st)
			}
		})
	}
}

func unescape(s string) string {
	return strings.NewReplacer("&#39;", "'", "&amp;", "&", "&quot;", `"`).Replace(s)
}

// TestHelpFromTheWizardQuestion: the question step offers the form, filled
// in with the wizard's account, asking for a question reset.
func TestHelpFromTheWizardQuestion(t *testing.T) {
	t.Parallel()
	for _, l := range langs {
		t.Run(string(l.lang), func(t *testing.T) {
			e := newAdminEnv(t)
			ctx := context.Background()
			jan := e.acc["jan"]
			if err := e.store.UnlinkAuthenticator(ctx, jan.ID); err != nil {
				t.Fatal(err)
			}
			b := e.browser(l.accept)
			b.get("/totp/init")
			b.post("/totp/init", url.Values{"identifier": {jan.Identifier}, "password": {adminPassword}, "account_type": {"tiers"}})
			if b.step() != 2 || !strings.Contains(b.body, `name="kind" value="question"`) || !strings.Contains(b.body, `id="help-identifier" name="identifier" type="email" autocomplete="username" required maxlength="254" value="jan@example.be"`) {
				t.Fatalf("step 2 has no request form for the account:\n%s", b.body)
			}
			if st, _ := b.post("/help", askForm(jan.Identifier, "tiers", "question", "")); st != 200 {
				t.Fatalf("the request: %d", st)
			}
			list, _, _ := e.store.ListHelpRequests(ctx, store.HelpRequestFilter{})
			if len(list) != 1 || list[0].Kind != store.HelpQuestion {
				t.Fatalf("requests: %+v", list)
			}
		})
	}
}

// TestHelpRequestsInTheConsole: the office administrator sees their
// office's requests only, with the account's state and the message
// escaped; one click leads to the fitting action's confirmation; acting
// closes the request.
func TestHelpRequestsInTheConsole(t *testing.T) {
	t.Parallel()
	e := newAdminEnv(t)
	ctx := context.Background()
	anon := e.browser("fr")
	anon.get("/totp/reset")
	anon.post("/help", askForm("jan@example.be", "tiers", "totp", "<script>alert(1)</script>\n=cmd|' /C calc'!A0"))
	other := e.browser("nl")
	other.get("/totp/reset")
	other.post("/help", askForm("piet@example.be", "tiers", "question", "piet"))
	all, _, _ := e.store.ListHelpRequests(ctx, store.HelpRequestFilter{})
	if len(all) != 2 {
		t.Fatalf("%d requests", len(all))
	}
	janReq, pietReq := all[1], all[0]

	marie := e.as("marie")
	st, body := marie.get("/admin/requests")
	if st != 200 || !strings.Contains(body, "jan@example.be") || strings.Contains(body, "piet@example.be") {
		t.Fatalf("marie's requests: %d\n%s", st, body)
	}
	if strings.Contains(body, "<script>alert") || !strings.Contains(body, "&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Errorf("the message is not escaped:\n%s", body)
	}
	if !strings.Contains(body, fmt.Sprintf(`href="/admin/requests/%d"`, janReq.ID)) {
		t.Fatalf("no link to act on the request:\n%s", body)
	}
	// Out of scope, or missing: 404, as for accounts.
	for _, p := range []string{fmt.Sprintf("/admin/requests/%d", pietReq.ID), "/admin/requests/999999", "/admin/requests/x"} {
		if st, _ := marie.get(p); st != 404 {
			t.Errorf("marie GET %s: %d, want 404", p, st)
		}
	}
	if st, _ := e.as("jan").get("/admin/requests"); st != 403 {
		t.Errorf("a plain user: %d", st)
	}
	// The CSV defuses the message.
	if _, csvBody := marie.get("/admin/requests.csv"); !strings.Contains(csvBody, `'=cmd|`) && !strings.Contains(csvBody, "\"<script>") {
		t.Errorf("the CSV does not defuse the message:\n%s", csvBody)
	}
	// One click: the confirmation of the TOTP reset, with a fresh code
	// (her login's is older than admin.FreshFor by now).
	e.clock.Add(6 * time.Minute)
	marie.get(fmt.Sprintf("/admin/requests/%d", janReq.ID))
	want := fmt.Sprintf("/admin/accounts/%d/totp_reset", janReq.AccountID)
	if marie.last.Request.URL.Path != want || !strings.Contains(marie.body, `name="totp"`) {
		t.Fatalf("the click led to %s, want %s", marie.last.Request.URL.Path, want)
	}
	if st, _ := marie.post(want, url.Values{"totp": {e.code(e.secrets["marie"])}}); st != 200 {
		t.Fatalf("the reset: %d\n%s", st, marie.body)
	}
	got, _ := e.store.GetHelpRequest(ctx, janReq.ID)
	if got.Closed.IsZero() || got.ClosedBy != "marie@example.be" || got.ClosedAction != "totp_reset" {
		t.Errorf("the request after the reset: %+v", got)
	}
	if _, body := marie.get("/admin/requests"); strings.Contains(body, "jan@example.be") {
		t.Error("the answered request is still listed as open")
	}
	if _, body := marie.get("/admin/requests?all=1"); !strings.Contains(body, "jan@example.be") {
		t.Error("the answered request is not listed with all")
	}
	// Paul, of the other office, sees piet's request and its question reset.
	paul := e.as("paul")
	if _, body := paul.get("/admin/requests"); !strings.Contains(body, "piet@example.be") || strings.Contains(body, "jan@example.be") {
		t.Errorf("paul's requests:\n%s", body)
	}
	e.prepare("piet")
	paul.get(fmt.Sprintf("/admin/requests/%d", pietReq.ID))
	if want := fmt.Sprintf("/admin/accounts/%d/question_reset", pietReq.AccountID); paul.last.Request.URL.Path != want {
		t.Errorf("paul's click led to %s, want %s", paul.last.Request.URL.Path, want)
	}

}
