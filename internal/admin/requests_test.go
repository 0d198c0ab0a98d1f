package admin

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"strings"
	"testing"

	"sesame/internal/account"
	"sesame/internal/store"
)

func (f *fixture) ask(name string, typ account.Type, kind, msg string) error {
	f.t.Helper()
	return f.svc.RequestHelp(context.Background(), DefaultHelpLimit(), HelpRequest{Type: typ,
		Identifier: name + "@" + string(typ) + ".example", Kind: kind, Message: msg, Addr: "198.51.100.4"})
}

func TestRequestHelpGoesToTheRightAdministrators(t *testing.T) {
	f := newFixture(t)
	f.svc.ConsoleURL = "https://sesame.example/"
	tests := []struct {
		who  string
		typ  account.Type
		want []string // e-mail recipients
	}{
		{"jan", account.Tiers, []string{"marie@tiers.example"}},    // the office's administrator
		{"piet", account.Tiers, []string{"paul@tiers.example"}},    // another office's
		{"marie", account.Tiers, []string{"sofie@group.example"}},  // the office's only administrator: support
		{"clara", account.Client, []string{"sofie@group.example"}}, // clients: support
		{"eva", account.Group, []string{"sofie@group.example"}},    // staff: support
	}
	for _, tt := range tests {
		if err := f.ask(tt.who, tt.typ, store.HelpTOTP, "J'ai perdu mon téléphone"); err != nil {
			t.Fatalf("%s: %v", tt.who, err)
		}
		var got []string
		for _, m := range f.outbox() {
			if m.Kind != "help_requested" {
				t.Errorf("%s: a %s e-mail", tt.who, m.Kind)
			}
			got = append(got, m.To.Email)
			if !strings.Contains(m.Text, tt.who+"@") || !strings.Contains(m.Text, "https://sesame.example/admin/requests/") {
				t.Errorf("%s: the e-mail lacks the requester or the link:\n%s", tt.who, m.Text)
			}
		}
		if strings.Join(got, ",") != strings.Join(tt.want, ",") {
			t.Errorf("%s: e-mailed %v, want %v", tt.who, got, tt.want)
		}
	}
	list, total, _ := f.st.ListHelpRequests(context.Background(), store.HelpRequestFilter{})
	if total != len(tests) || list[0].Message != "J'ai perdu mon téléphone" || list[0].Addr != "198.51.100.4" {
		t.Errorf("%d requests stored: %+v", total, list)
	}
}

func TestRequestHelpSameWorkWhateverTheAccount(t *testing.T) {
	f := newFixture(t)
	// Unknown, disabled, throttled: nil, no request, no e-mail, a denied audit line.
	if err := f.ask("nobody", account.Tiers, store.HelpTOTP, ""); err != nil {
		t.Fatal(err)
	}
	f.prepare(f.acc["an"].ID, Enable) // disables an
	if err := f.ask("an", account.Tiers, store.HelpTOTP, ""); err != nil {
		t.Fatal(err)
	}
	if _, total, _ := f.st.ListHelpRequests(context.Background(), store.HelpRequestFilter{}); total != 0 {
		t.Errorf("%d requests stored for unknown or disabled accounts", total)
	}
	if n := len(f.outbox()); n != 0 {
		t.Errorf("%d e-mails", n)
	}
	denied := 0
	for _, e := range f.audit() {
		if e.Action == ActionHelpRequest && e.Outcome == "denied" {
			denied++
		}
	}
	if denied != 2 {
		t.Errorf("%d denied requests audited, want 2", denied)
	}
	// Input that is wrong whatever the account.
	for _, r := range []HelpRequest{
		{Type: account.Tiers, Identifier: "not an address", Kind: store.HelpTOTP},
		{Type: "admin", Identifier: "jan@tiers.example", Kind: store.HelpTOTP},
		{Type: account.Tiers, Identifier: "jan@tiers.example", Kind: "password"},
		{Type: account.Tiers, Identifier: "jan@tiers.example", Kind: store.HelpTOTP, Message: strings.Repeat("é", MaxHelpMessage+1)},
	} {
		var inv *InvalidError
		if err := f.svc.RequestHelp(context.Background(), DefaultHelpLimit(), r); !errors.As(err, &inv) {
			t.Errorf("%+v: %v, want InvalidError", r.Kind, err)
		}
	}
}

func TestRequestHelpThrottled(t *testing.T) {
	f := newFixture(t)
	for range 5 {
		if err := f.ask("jan", account.Tiers, store.HelpTOTP, ""); err != nil {
			t.Fatal(err)
		}
	}
	if _, total, _ := f.st.ListHelpRequests(context.Background(), store.HelpRequestFilter{}); total != DefaultHelpLimit().PerIdentifier {
		t.Errorf("%d requests stored for one identifier, want %d", total, DefaultHelpLimit().PerIdentifier)
	}
	// Another identifier from the same address: the address's budget (5) is spent.
	if err := f.ask("piet", account.Tiers, store.HelpTOTP, ""); err != nil {
		t.Fatal(err)
	}
	if _, total, _ := f.st.ListHelpRequests(context.Background(), store.HelpRequestFilter{AccountID: f.acc["piet"].ID}); total != 0 {
		t.Errorf("a request past the address's limit was stored")
	}
	f.clock.Add(DefaultHelpLimit().Window)
	if err := f.ask("piet", account.Tiers, store.HelpTOTP, ""); err != nil {
		t.Fatal(err)
	}
	if _, total, _ := f.st.ListHelpRequests(context.Background(), store.HelpRequestFilter{AccountID: f.acc["piet"].ID}); total != 1 {
		t.Errorf("after the window: %d requests", total)
	}
}

func TestRequestsScopeAndClosing(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.ask("jan", account.Tiers, store.HelpTOTP, "")
	f.ask("jan", account.Tiers, store.HelpQuestion, "")
	f.ask("piet", account.Tiers, store.HelpTOTP, "")
	f.ask("eva", account.Group, store.HelpTOTP, "")
	ids := func(actor string) (out []string) {
		res, err := f.svc.Requests(ctx, f.actor(actor), RequestQuery{})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range res.Requests {
			out = append(out, strings.Split(r.Account.Identifier, "@")[0]+"/"+r.Kind)
		}
		return out
	}
	if got := strings.Join(ids("marie"), " "); got != "jan/question jan/totp" {
		t.Errorf("marie sees %s", got)
	}
	if got := strings.Join(ids("paul"), " "); got != "piet/totp" {
		t.Errorf("paul sees %s", got)
	}
	if got := ids("sofie"); len(got) != 4 {
		t.Errorf("support sees %v", got)
	}
	if _, err := f.svc.Requests(ctx, f.actor("jan"), RequestQuery{}); !errors.Is(err, ErrForbidden) {
		t.Errorf("a plain user: %v", err)
	}
	all, _, _ := f.st.ListHelpRequests(ctx, store.HelpRequestFilter{})
	var pietReq, evaReq store.HelpRequestSummary
	for _, r := range all {
		switch r.AccountID {
		case f.acc["piet"].ID:
			pietReq = r
		case f.acc["eva"].ID:
			evaReq = r
		}
	}
	// Out of scope is not found, as for accounts.
	if _, err := f.svc.Request(ctx, f.actor("marie"), pietReq.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("marie opens piet's request: %v", err)
	}
	if _, err := f.svc.Request(ctx, f.actor("marie"), evaReq.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("marie opens staff's request: %v", err)
	}
	if _, err := f.svc.Request(ctx, f.actor("marie"), 999999); !errors.Is(err, ErrNotFound) {
		t.Errorf("a missing request: %v", err)
	}
	if r, err := f.svc.Request(ctx, f.actor("paul"), pietReq.ID); err != nil || r.AccountID != f.acc["piet"].ID {
		t.Errorf("paul opens piet's request: %v", err)
	}
	// Acting closes the requests of the fitting kind, audited with who.
	if _, err := f.svc.Act(ctx, f.actor("marie"), ResetTOTP, f.acc["jan"].ID); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(ids("marie"), " "); got != "jan/question" {
		t.Errorf("after the TOTP reset marie sees %s", got)
	}
	res, _ := f.svc.Requests(ctx, f.actor("marie"), RequestQuery{All: true})
	for _, r := range res.Requests {
		if r.Kind == store.HelpTOTP && (r.Closed.IsZero() || r.ClosedBy != "marie@tiers.example" || r.ClosedAction != string(ResetTOTP)) {
			t.Errorf("the answered request: %+v", r.HelpRequest)
		}
	}
	closed := false
	for _, e := range f.audit() {
		if e.Action == ActionHelpClose && e.Actor == "marie@tiers.example" && e.SubjectID == f.acc["jan"].ID {
			closed = true
		}
	}
	if !closed {
		t.Error("the closing is not in the audit log")
	}
	if _, err := f.svc.Act(ctx, f.actor("marie"), ResetQuestion, f.acc["jan"].ID); err != nil {
		t.Fatal(err)
	}
	if got := ids("marie"); len(got) != 0 {
		t.Errorf("after both resets marie sees %v", got)
	}
}

func TestRequestMessageCleanedAndDefused(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	msg := "=HYPERLINK(\"https://evil.example\",\"x\")\r\n<script>alert(1)</script>\u202etxt.exe\x07"
	if err := f.ask("jan", account.Tiers, store.HelpTOTP, msg); err != nil {
		t.Fatal(err)
	}
	list, _, _ := f.st.ListHelpRequests(ctx, store.HelpRequestFilter{})
	if want := "=HYPERLINK(\"https://evil.example\",\"x\")\n<script>alert(1)</script>txt.exe"; list[0].Message != want {
		t.Errorf("stored message %q, want %q", list[0].Message, want)
	}
	mails := f.outbox()
	if len(mails) != 1 || strings.Contains(mails[0].HTML, "<script>") || !strings.Contains(mails[0].HTML, "&lt;script&gt;") {
		t.Errorf("the e-mail's HTML does not escape the message:\n%s", mails[0].HTML)
	}
	var buf bytes.Buffer
	if err := f.svc.ExportRequestsCSV(ctx, f.actor("marie"), RequestQuery{}, &buf); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil || len(rows) != 2 {
		t.Fatalf("CSV: %d rows, %v", len(rows), err)
	}
	if cell := rows[1][7]; !strings.HasPrefix(cell, "'=HYPERLINK") {
		t.Errorf("the message cell is not defused: %q", cell)
	}
}
