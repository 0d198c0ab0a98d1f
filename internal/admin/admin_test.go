package admin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"sesame/internal/account"
	"sesame/internal/auth"
	"sesame/internal/authtest"
	"sesame/internal/i18n"
	"sesame/internal/mail"
	"sesame/internal/store"
)

var t0 = time.Date(2026, 11, 23, 9, 30, 0, 0, time.UTC)

// fixture is a real SQLite store with two offices and their people:
//
//	Cabinet Dupont: marie (office admin), jan (user), an (user, fr)
//	Kantoor Peeters: paul (office admin), piet (user)
//	no office: sofie (support, Group), eva (Group, no role), clara (Client)
type fixture struct {
	t               *testing.T
	st              store.Store
	svc             *Service
	auth            *auth.Service // the self-service side, on the same store and clock
	clock           *authtest.Clock
	dupont, peeters account.Office
	acc             map[string]account.Account
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func newFixture(t *testing.T) *fixture {
	t.Helper()
	c := authtest.NewClock(t0)
	env := authtest.New(t, c, authtest.WithLog(quiet))
	st, as := env.DB, env.Auth
	f := &fixture{t: t, st: st, clock: c, acc: map[string]account.Account{}, auth: as,
		svc: &Service{Store: st, Hasher: as.Hasher, Mail: as.Mail, Now: c.Now, Log: quiet, Auth: as, Passwords: &auth.Passwords{Service: as},
			ResetLink: func(token string) string { return "https://sesame.example/password/reset/" + token }}}
	f.dupont = env.CreateOffice(t, "Cabinet Dupont")
	f.peeters = env.CreateOffice(t, "Kantoor Peeters")
	f.add("marie", account.Tiers, f.dupont.ID, account.RoleOfficeAdmin, i18n.FR)
	f.add("jan", account.Tiers, f.dupont.ID, account.RoleUser, i18n.NL)
	f.add("an", account.Tiers, f.dupont.ID, account.RoleUser, i18n.FR)
	f.add("paul", account.Tiers, f.peeters.ID, account.RoleOfficeAdmin, i18n.NL)
	f.add("piet", account.Tiers, f.peeters.ID, account.RoleUser, i18n.NL)
	f.add("sofie", account.Group, 0, account.RoleSupport, i18n.EN)
	f.add("eva", account.Group, 0, account.RoleUser, i18n.EN)
	f.add("clara", account.Client, 0, account.RoleUser, i18n.FR)
	return f
}

// add creates an account named name@<type>.example with a linked
// authenticator and a security question, so every action has work to do.
func (f *fixture) add(name string, typ account.Type, office int64, role account.Role, lang i18n.Lang) account.Account {
	f.t.Helper()
	ctx := context.Background()
	a := account.Account{Type: typ, Identifier: name + "@" + string(typ) + ".example", Name: strings.ToUpper(name[:1]) + name[1:] + " Test",
		OfficeID: office, Role: role, Lang: lang, PasswordHash: "$argon2id$unused", QuestionKey: "first_pet", AnswerHash: "$argon2id$unused", Created: t0}
	if err := f.st.CreateAccount(ctx, &a); err != nil {
		f.t.Fatal(err)
	}
	if err := f.st.LinkAuthenticator(ctx, store.Authenticator{AccountID: a.ID, Secret: []byte("sealed"), Linked: t0}); err != nil {
		f.t.Fatal(err)
	}
	if err := f.st.ReplaceRecoveryCodes(ctx, a.ID, [][]byte{[]byte(name + "-1"), []byte(name + "-2")}, t0); err != nil {
		f.t.Fatal(err)
	}
	f.acc[name] = a
	return a
}

// actor returns the console actor for the named account, as the session
// would load it now.
func (f *fixture) actor(name string) Actor {
	f.t.Helper()
	a, err := f.st.GetAccount(context.Background(), f.acc[name].ID)
	if err != nil {
		f.t.Fatal(err)
	}
	return Actor{Account: a, Addr: "192.0.2.7"}
}

func (f *fixture) get(name string) account.Account {
	f.t.Helper()
	a, err := f.st.GetAccount(context.Background(), f.acc[name].ID)
	if err != nil {
		f.t.Fatal(err)
	}
	return a
}

// prepare puts the account in the state where action has something to do.
func (f *fixture) prepare(id int64, action Action) {
	f.t.Helper()
	_, err := f.st.UpdateAccount(context.Background(), id, func(a *account.Account) error {
		switch action {
		case Unlock:
			a.FailedAttempts, a.LockedUntil = 7, f.clock.Now().Add(time.Hour)
		case Enable:
			a.Disabled = true
		}
		return nil
	})
	if err != nil {
		f.t.Fatal(err)
	}
}

// outbox returns the messages queued and not yet claimed.
func (f *fixture) outbox() []mail.Queued {
	f.t.Helper()
	list, err := f.st.ClaimMail(context.Background(), f.clock.Now().Add(time.Hour), time.Minute, 100)
	if err != nil {
		f.t.Fatal(err)
	}
	return list
}

// audit returns every audit event, oldest first.
func (f *fixture) audit() []store.AuditEvent {
	f.t.Helper()
	list, err := f.st.ListAudit(context.Background(), store.AuditFilter{Limit: 1000})
	if err != nil {
		f.t.Fatal(err)
	}
	for i, j := 0, len(list)-1; i < j; i, j = i+1, j-1 {
		list[i], list[j] = list[j], list[i]
	}
	return list
}

func errName(err error) string {
	for _, e := range []error{ErrForbidden, ErrNotFound, ErrSelf, ErrUnchanged, ErrExists, ErrInvalid} {
		if errors.Is(err, e) {
			return strings.TrimPrefix(e.Error(), "admin: ")
		}
	}
	if err != nil {
		return "error: " + err.Error()
	}
	return "ok"
}

// TestAuthorizationMatrix runs every operation of the service for every
// kind of actor against accounts in and out of their scope.
func TestAuthorizationMatrix(t *testing.T) {
	const (
		ok        = "ok"
		forbidden = "not an administrator"
		notFound  = "account not found"
		self      = "not on your own account"
	)
	// The subject of each row; "self" is the actor's own account.
	type row struct {
		actor   string // a fixture account, "cli", "anonymous" or "disabled admin"
		subject string
		read    string // Get and Audit of the subject
		act     string // each action
	}
	rows := []row{
		{"anonymous", "jan", forbidden, forbidden},
		{"jan", "an", forbidden, forbidden},    // a plain user, same office
		{"jan", "self", forbidden, forbidden},  // a plain user on their own account
		{"eva", "jan", forbidden, forbidden},   // staff without the support role
		{"clara", "jan", forbidden, forbidden}, // a client
		{"disabled admin", "jan", forbidden, forbidden},
		{"marie", "jan", ok, ok},                 // office admin, same office
		{"marie", "self", ok, self},              // office admin, own account: visible, not actionable
		{"marie", "paul", notFound, notFound},    // another office's admin
		{"marie", "piet", notFound, notFound},    // another office's user
		{"marie", "sofie", notFound, notFound},   // support staff
		{"marie", "eva", notFound, notFound},     // staff
		{"marie", "clara", notFound, notFound},   // a client of no office
		{"marie", "missing", notFound, notFound}, // no such id: the same answer
		{"paul", "jan", notFound, notFound},      // office admin of another office
		{"sofie", "jan", ok, ok},                 // support
		{"sofie", "paul", ok, ok},                // support on an office admin
		{"sofie", "eva", ok, ok},                 // support on staff
		{"sofie", "self", ok, self},              // support, own account
		{"sofie", "missing", notFound, notFound},
		{"cli", "jan", ok, ok},
		{"cli", "sofie", ok, ok},
		{"cli", "missing", notFound, notFound},
		{"cli without operator", "jan", forbidden, forbidden},
	}
	for _, r := range rows {
		// One store per row: the operations run in turn on one subject,
		// each after prepare gave it something to do.
		t.Run(r.actor+"/"+r.subject, func(t *testing.T) {
			f := newFixture(t)
			var actor Actor
			switch r.actor {
			case "anonymous":
			case "cli":
				actor = Actor{Operator: "ops-anna", Addr: "cli"}
			case "cli without operator":
				actor = Actor{Operator: "  ", Addr: "cli"}
			case "disabled admin":
				a := f.add("gone", account.Tiers, f.dupont.ID, account.RoleOfficeAdmin, i18n.FR)
				a.Disabled = true
				actor = Actor{Account: a}
			default:
				actor = f.actor(r.actor)
			}
			var id int64
			switch r.subject {
			case "self":
				id = actor.Account.ID
			case "missing":
				id = 999999
			default:
				id = f.acc[r.subject].ID
			}
			for _, op := range append([]Action{"get", "audit"}, Actions...) {
				want := r.act
				var err error
				switch op {
				case "get":
					want = r.read
					var v View
					v, err = f.svc.Get(context.Background(), actor, id)
					if err == nil && v.Account.ID != id {
						t.Errorf("Get returned account %d, want %d", v.Account.ID, id)
					}
					if err == nil && v.Self != (r.subject == "self") {
						t.Errorf("View.Self = %v", v.Self)
					}
				case "audit":
					want = r.read
					_, err = f.svc.Audit(context.Background(), actor, AuditFilter{AccountID: id})
				default:
					if id != 999999 {
						f.prepare(id, op)
					}
					if op == SendPasswordReset && want == ok && f.get(r.subject).Type == account.Group {
						want = "invalid input" // staff passwords are the directory's
					}
					before := len(f.audit())
					_, err = f.svc.Act(context.Background(), actor, op, id)
					var events []store.AuditEvent
					for _, e := range f.audit()[before:] {
						if e.Action != auth.ActionPasswordResetRequest { // the reset flow's own event
							events = append(events, e)
						}
					}
					if want == "invalid input" {
						if len(events) != 0 {
							t.Errorf("%s: audit events %+v", op, events)
						}
						if got := errName(err); got != want {
							t.Errorf("%s: got %q, want %q", op, got, want)
						}
						continue
					}
					// Every attempt is audited: the success with the change,
					// a refusal as "denied" — naming only the id sent.
					if len(events) != 1 {
						t.Fatalf("%d audit events, want 1: %+v", len(events), events)
					}
					e := events[0]
					wantOutcome := auth.OutcomeSuccess
					if want != ok {
						wantOutcome = auth.OutcomeDenied
					}
					if e.Outcome != wantOutcome || e.Action != string(op) || e.SubjectID != id {
						t.Errorf("audit event = %+v, want %s of %s on %d", e, wantOutcome, op, id)
					}
					if want != ok && e.Subject != "" {
						t.Errorf("a refused attempt's audit event names the subject %q", e.Subject)
					}
					if mails := f.outbox(); (want == ok) != (len(mails) == 1) {
						t.Errorf("%d e-mails queued", len(mails))
					}
				}
				if got := errName(err); got != want {
					t.Errorf("%s: got %q, want %q", op, got, want)
				}
			}
		})
	}
}

// TestSearchScope: an office administrator's search never returns another
// office's accounts or staff, whatever they ask; support's returns all.
func TestSearchScope(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	ids := func(r Results) string {
		var out []string
		for _, a := range r.Accounts {
			out = append(out, strings.Split(a.Identifier, "@")[0])
		}
		return strings.Join(out, ",")
	}
	tests := []struct {
		actor     string
		q         Query
		want      string
		wantTotal int
	}{
		{"marie", Query{}, "an,jan,marie", 3},
		{"marie", Query{OfficeID: f.peeters.ID}, "an,jan,marie", 3}, // another office asked: still their own
		{"marie", Query{Text: "example"}, "an,jan,marie", 3},
		{"marie", Query{Text: "piet"}, "", 0},
		{"marie", Query{Text: "kantoor"}, "", 0},
		{"marie", Query{Text: "sofie"}, "", 0},
		{"marie", Query{Type: account.Group}, "", 0},
		{"paul", Query{}, "paul,piet", 2},
		{"sofie", Query{}, "an,clara,eva,jan,marie,paul,piet,sofie", 8},
		{"sofie", Query{Text: "kantoor"}, "paul,piet", 2},
		{"sofie", Query{OfficeID: f.dupont.ID}, "an,jan,marie", 3},
		{"sofie", Query{Type: account.Group}, "eva,sofie", 2},
		{"sofie", Query{Text: "JAN TEST"}, "jan", 1},
		{"sofie", Query{Page: 2}, "", 8},
	}
	for _, tt := range tests {
		r, err := f.svc.Search(ctx, f.actor(tt.actor), tt.q)
		if err != nil {
			t.Errorf("%s: Search(%+v): %v", tt.actor, tt.q, err)
			continue
		}
		if got := ids(r); got != tt.want || r.Total != tt.wantTotal {
			t.Errorf("%s: Search(%+v) = %q (total %d), want %q (total %d)", tt.actor, tt.q, got, r.Total, tt.want, tt.wantTotal)
		}
	}
	if _, err := f.svc.Search(ctx, f.actor("jan"), Query{}); !errors.Is(err, ErrForbidden) {
		t.Errorf("a plain user's search: %v, want ErrForbidden", err)
	}
}

func TestSearchPaging(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	for i := range 2*PageSize + 3 {
		f.add(fmt.Sprintf("user%02d", i), account.Tiers, f.dupont.ID, account.RoleUser, i18n.FR)
	}
	// marie sees an, jan, marie and the 53 users: 56, three pages.
	tests := []struct {
		page      int
		wantFirst string
		wantLen   int
	}{
		{1, "an@tiers.example", PageSize},
		{2, "user22@tiers.example", PageSize},
		{3, "user47@tiers.example", 6},
		{4, "", 0},
	}
	for _, tt := range tests {
		r, err := f.svc.Search(ctx, f.actor("marie"), Query{Page: tt.page})
		if err != nil {
			t.Fatal(err)
		}
		first := ""
		if len(r.Accounts) > 0 {
			first = r.Accounts[0].Identifier
		}
		if first != tt.wantFirst || len(r.Accounts) != tt.wantLen || r.Total != 56 || r.Pages != 3 || r.Page != tt.page {
			t.Errorf("page %d: first %q, %d rows, total %d, pages %d; want %q, %d rows, total 56, 3 pages",
				tt.page, first, len(r.Accounts), r.Total, r.Pages, tt.wantFirst, tt.wantLen)
		}
	}
}

func TestSearchBadInput(t *testing.T) {
	f := newFixture(t)
	for _, q := range []Query{
		{Text: strings.Repeat("a", 255)},
		{Text: "jan\x00"},
		{Text: "jan\r\nx"},
		{Text: "\xff\xfe"},
		{Page: -1},
		{Page: MaxPage + 1},
		{Type: "admin"},
		{OfficeID: -3},
	} {
		if _, err := f.svc.Search(context.Background(), f.actor("sofie"), q); !errors.Is(err, ErrInvalid) {
			t.Errorf("Search(%#v): %v, want ErrInvalid", q, err)
		}
	}
	// Injection strings are text to search for, not syntax.
	for _, text := range []string{`' OR 1=1 --`, `"jan" OR *`, `%`, `_`, `<script>`, `NEAR(a b)`} {
		r, err := f.svc.Search(context.Background(), f.actor("sofie"), Query{Text: text})
		if err != nil || r.Total != 0 {
			t.Errorf("Search(%q) = %d results, %v; want none", text, r.Total, err)
		}
	}
}
