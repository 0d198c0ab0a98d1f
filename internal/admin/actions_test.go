package admin

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"sesame/internal/account"
	"sesame/internal/auth"
	"sesame/internal/i18n"
	"sesame/internal/mail"
	"sesame/internal/store"
)

// TestActionEffects checks, for each action, the change on the account,
// the audit event and the e-mail to the owner in the owner's language.
func TestActionEffects(t *testing.T) {
	tests := []struct {
		action  Action
		actor   string
		subject string
		check   func(f *fixture, a account.Account) string // "" when the change is right
		kind    string
		phrase  string // in the e-mail body (the owner's language)
	}{
		{ResetTOTP, "marie", "jan", func(f *fixture, a account.Account) string {
			if _, err := f.st.GetAuthenticator(context.Background(), a.ID); !errors.Is(err, store.ErrNotFound) {
				return "authenticator still linked"
			}
			if codes, err := f.st.UnusedRecoveryCodes(context.Background(), a.ID); err != nil || len(codes) != 0 {
				return fmt.Sprintf("%d recovery codes outlive the reset (%v)", len(codes), err)
			}
			return ""
		}, "authenticator_reset", "Uw authenticatie-app werd gereset door Marie Test (kantoorbeheerder) op 23/11/2026 om 10:30"},
		{ResetQuestion, "sofie", "an", func(f *fixture, a account.Account) string {
			if a.HasQuestion() || a.QuestionKey != "" || a.AnswerHash != "" {
				return "question still set"
			}
			return ""
		}, "question_reset", "Sofie Test (support)"},
		{Unlock, "marie", "an", func(f *fixture, a account.Account) string {
			if a.Locked(f.clock.Now()) || a.FailedAttempts != 0 {
				return "still locked"
			}
			return ""
		}, "account_unlocked", "débloqué"},
		{Disable, "paul", "piet", func(f *fixture, a account.Account) string {
			if !a.Disabled {
				return "not disabled"
			}
			return ""
		}, "account_disabled", "uitgeschakeld"},
		{Enable, "sofie", "eva", func(f *fixture, a account.Account) string {
			if a.Disabled {
				return "still disabled"
			}
			return ""
		}, "account_enabled", "enabled again by Sofie Test (support)"},
	}
	for _, tt := range tests {
		t.Run(string(tt.action), func(t *testing.T) {
			f := newFixture(t)
			ctx := context.Background()
			subject := f.acc[tt.subject]
			f.prepare(subject.ID, tt.action)
			// A session of the owner, to see which actions end it.
			hash := auth.HashToken("owner-session")
			if err := f.st.CreateSession(ctx, store.Session{IDHash: hash, AccountID: subject.ID, Created: t0, LastSeen: t0}); err != nil {
				t.Fatal(err)
			}
			before := len(f.audit())
			got, err := f.svc.Act(ctx, f.actor(tt.actor), tt.action, subject.ID)
			if err != nil {
				t.Fatal(err)
			}
			if msg := tt.check(f, f.get(tt.subject)); msg != "" {
				t.Error(msg)
			}
			if got.ID != subject.ID {
				t.Errorf("Act returned account %d", got.ID)
			}
			_, err = f.st.GetSession(ctx, hash)
			if ended, want := errors.Is(err, store.ErrNotFound), tt.action == ResetTOTP || tt.action == Unlock || tt.action == Disable; ended != want {
				t.Errorf("owner's session ended: %v, want %v", ended, want)
			}

			events := f.audit()[before:]
			if len(events) != 1 {
				t.Fatalf("audit events: %+v", events)
			}
			actor := f.acc[tt.actor]
			wantEvent := store.AuditEvent{ID: events[0].ID, Time: t0, ActorID: actor.ID, Actor: actor.Identifier, SubjectID: subject.ID,
				Subject: subject.Identifier, OfficeID: subject.OfficeID, Action: string(tt.action), Outcome: auth.OutcomeSuccess,
				Addr: "192.0.2.7", Detail: f.actor(tt.actor).detail()}
			if events[0] != wantEvent {
				t.Errorf("audit event\n got %+v\nwant %+v", events[0], wantEvent)
			}

			mails := f.outbox()
			if len(mails) != 1 {
				t.Fatalf("%d e-mails queued, want 1", len(mails))
			}
			m := mails[0]
			if m.Kind != tt.kind || m.To.Email != subject.Identifier || m.Lang != subject.Lang || !strings.Contains(m.Text, tt.phrase) {
				t.Errorf("e-mail %s to %s in %s, want %s to %s in %s containing %q:\n%s", m.Kind, m.To.Email, m.Lang,
					tt.kind, subject.Identifier, subject.Lang, tt.phrase, m.Text)
			}
		})
	}
}

// TestActionUnchanged: an action with nothing to do writes nothing and
// sends nothing.
func TestActionUnchanged(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	jan := f.acc["jan"]
	marie := f.actor("marie")
	if _, err := f.svc.ResetTOTP(ctx, marie, jan.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.ResetQuestion(ctx, marie, jan.ID); err != nil {
		t.Fatal(err)
	}
	f.outbox()
	before := len(f.audit())
	for _, a := range []Action{ResetTOTP, ResetQuestion, Unlock, Enable} {
		if _, err := f.svc.Act(ctx, marie, a, jan.ID); !errors.Is(err, ErrUnchanged) {
			t.Errorf("%s: %v, want ErrUnchanged", a, err)
		}
	}
	if n := len(f.audit()) - before; n != 0 {
		t.Errorf("%d audit events written", n)
	}
	if n := len(f.outbox()); n != 0 {
		t.Errorf("%d e-mails queued", n)
	}
	if _, err := f.svc.Act(ctx, marie, "delete", jan.ID); !errors.Is(err, ErrInvalid) {
		t.Errorf("unknown action: %v", err)
	}
}

// failing is a store whose transactions fail at the outbox or the audit
// log, after the action's change was made in the same transaction.
type failing struct {
	store.Store
	inTx      bool
	failMail  bool
	failAudit bool
}

var errBoom = errors.New("disk full")

func (s failing) InTx(ctx context.Context, fn func(tx store.Store) error) error {
	return s.Store.InTx(ctx, func(tx store.Store) error {
		return fn(failing{Store: tx, inTx: true, failMail: s.failMail, failAudit: s.failAudit})
	})
}

func (s failing) EnqueueMail(ctx context.Context, m mail.Message, now time.Time) (int64, error) {
	if s.failMail {
		return 0, errBoom
	}
	return s.Store.EnqueueMail(ctx, m, now)
}

func (s failing) AppendAudit(ctx context.Context, e store.AuditEvent) error {
	if s.failAudit && s.inTx {
		return errBoom
	}
	return s.Store.AppendAudit(ctx, e)
}

// TestActionAtomic: when the e-mail or the audit event cannot be written,
// the action is not done either — and the other of the two is not written.
func TestActionAtomic(t *testing.T) {
	for _, tt := range []struct {
		name string
		st   func(store.Store) store.Store
	}{
		{"outbox fails", func(s store.Store) store.Store { return failing{Store: s, failMail: true} }},
		{"audit fails", func(s store.Store) store.Store { return failing{Store: s, failAudit: true} }},
	} {
		for _, action := range Actions {
			t.Run(tt.name+"/"+string(action), func(t *testing.T) {
				f := newFixture(t)
				ctx := context.Background()
				jan := f.acc["jan"]
				f.prepare(jan.ID, action)
				before, beforeAudit := f.get("jan"), len(f.audit())
				svc := *f.svc
				svc.Store = tt.st(f.st)
				if _, err := svc.Act(ctx, f.actor("marie"), action, jan.ID); !errors.Is(err, errBoom) {
					t.Fatalf("Act: %v, want %v", err, errBoom)
				}
				if got := f.get("jan"); got != before {
					t.Errorf("account changed:\n got %+v\nwant %+v", got, before)
				}
				if _, err := f.st.GetAuthenticator(ctx, jan.ID); err != nil {
					t.Errorf("authenticator: %v", err)
				}
				if n := len(f.audit()) - beforeAudit; n != 0 {
					t.Errorf("%d audit events written", n)
				}
				if n := len(f.outbox()); n != 0 {
					t.Errorf("%d e-mails queued", n)
				}
			})
		}
	}
}

func TestCreateAccount(t *testing.T) {
	const strong = "correct horse battery staple"
	tests := []struct {
		name  string
		actor string
		n     func(f *fixture) NewAccount
		want  string // "ok" or the error's key or name
	}{
		{"office admin, own office", "marie", func(f *fixture) NewAccount {
			return NewAccount{Type: account.Tiers, Identifier: " Nieuw@Dupont.be ", Name: "Nieuw Lid", Lang: i18n.NL, Password: strong}
		}, "ok"},
		{"office admin, own office named", "marie", func(f *fixture) NewAccount {
			return NewAccount{Type: account.Tiers, Identifier: "x@dupont.be", Name: "X", OfficeID: f.dupont.ID, Lang: i18n.FR}
		}, "ok"},
		{"office admin, other office", "marie", func(f *fixture) NewAccount {
			return NewAccount{Type: account.Tiers, Identifier: "x@dupont.be", Name: "X", OfficeID: f.peeters.ID, Lang: i18n.FR}
		}, "admin.error.office"},
		{"office admin, an administrator", "marie", func(f *fixture) NewAccount {
			return NewAccount{Type: account.Tiers, Identifier: "x@dupont.be", Name: "X", Role: account.RoleOfficeAdmin, Lang: i18n.FR}
		}, "admin.error.role"},
		{"office admin, a client", "marie", func(f *fixture) NewAccount {
			return NewAccount{Type: account.Client, Identifier: "x@dupont.be", Name: "X", Lang: i18n.FR}
		}, "admin.error.type"},
		{"office admin, staff", "marie", func(f *fixture) NewAccount {
			return NewAccount{Type: account.Group, Identifier: "x@dupont.be", Name: "X", Role: account.RoleSupport, Lang: i18n.FR}
		}, "admin.error.type"},
		{"support, a support account", "sofie", func(f *fixture) NewAccount {
			return NewAccount{Type: account.Group, Identifier: "new@insurer.example", Name: "New Support", Role: account.RoleSupport, Lang: i18n.EN}
		}, "ok"},
		{"support, an office admin", "sofie", func(f *fixture) NewAccount {
			return NewAccount{Type: account.Tiers, Identifier: "boss@peeters.be", Name: "Boss", OfficeID: f.peeters.ID, Role: account.RoleOfficeAdmin, Lang: i18n.NL}
		}, "ok"},
		{"support, tiers without office", "sofie", func(f *fixture) NewAccount {
			return NewAccount{Type: account.Tiers, Identifier: "x@x.be", Name: "X", Lang: i18n.NL}
		}, "admin.error.office"},
		{"support, client in an office", "sofie", func(f *fixture) NewAccount {
			return NewAccount{Type: account.Client, Identifier: "x@x.be", Name: "X", OfficeID: f.dupont.ID, Lang: i18n.NL}
		}, "admin.error.office"},
		{"support, missing office", "sofie", func(f *fixture) NewAccount {
			return NewAccount{Type: account.Tiers, Identifier: "x@x.be", Name: "X", OfficeID: 4242, Lang: i18n.NL}
		}, "admin.error.office"},
		{"support role on a client", "sofie", func(f *fixture) NewAccount {
			return NewAccount{Type: account.Client, Identifier: "x@x.be", Name: "X", Role: account.RoleSupport, Lang: i18n.NL}
		}, "admin.error.role"},
		{"bad type", "sofie", func(f *fixture) NewAccount {
			return NewAccount{Type: "root", Identifier: "x@x.be", Name: "X", Lang: i18n.NL}
		}, "admin.error.type"},
		{"bad identifier", "sofie", func(f *fixture) NewAccount {
			return NewAccount{Type: account.Client, Identifier: "Jan <x@x.be>", Name: "X", Lang: i18n.NL}
		}, "admin.error.identifier"},
		{"identifier with a zero-width space", "sofie", func(f *fixture) NewAccount {
			return NewAccount{Type: account.Client, Identifier: "x\u200b@x.be", Name: "X", Lang: i18n.NL}
		}, "admin.error.identifier_invisible"},
		{"identifier with full-width letters", "sofie", func(f *fixture) NewAccount {
			return NewAccount{Type: account.Client, Identifier: "\uff58@x.be", Name: "X", Lang: i18n.NL}
		}, "admin.error.identifier_character"},
		{"identifier with a Cyrillic letter among Latin ones", "sofie", func(f *fixture) NewAccount {
			return NewAccount{Type: account.Client, Identifier: "p\u0430ypal@x.be", Name: "X", Lang: i18n.NL}
		}, "admin.error.identifier_mixed_script"},
		{"no name", "sofie", func(f *fixture) NewAccount {
			return NewAccount{Type: account.Client, Identifier: "x@x.be", Name: "  ", Lang: i18n.NL}
		}, "admin.error.name"},
		{"name with a line break", "sofie", func(f *fixture) NewAccount {
			return NewAccount{Type: account.Client, Identifier: "x@x.be", Name: "X\r\nBcc: y", Lang: i18n.NL}
		}, "admin.error.name"},
		{"name too long", "sofie", func(f *fixture) NewAccount {
			return NewAccount{Type: account.Client, Identifier: "x@x.be", Name: strings.Repeat("é", account.MaxName+1), Lang: i18n.NL}
		}, "admin.error.name"},
		{"bad language", "sofie", func(f *fixture) NewAccount {
			return NewAccount{Type: account.Client, Identifier: "x@x.be", Name: "X", Lang: "de"}
		}, "admin.error.lang"},
		{"weak password", "sofie", func(f *fixture) NewAccount {
			return NewAccount{Type: account.Client, Identifier: "x@x.be", Name: "X", Lang: i18n.NL, Password: "short"}
		}, "password.error.too_short"},
		{"existing account", "sofie", func(f *fixture) NewAccount {
			return NewAccount{Type: account.Tiers, Identifier: "jan@tiers.example", Name: "X", OfficeID: f.dupont.ID, Lang: i18n.NL}
		}, "account already exists"},
		{"same e-mail, other type", "sofie", func(f *fixture) NewAccount {
			return NewAccount{Type: account.Client, Identifier: "jan@tiers.example", Name: "X", Lang: i18n.NL}
		}, "ok"},
		{"plain user", "jan", func(f *fixture) NewAccount {
			return NewAccount{Type: account.Tiers, Identifier: "x@dupont.be", Name: "X", Lang: i18n.FR}
		}, "not an administrator"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			ctx := context.Background()
			n := tt.n(f)
			a, err := f.svc.CreateAccount(ctx, f.actor(tt.actor), n)
			got := errName(err)
			var inv *InvalidError
			if errors.As(err, &inv) {
				got = inv.Key
			}
			if got != tt.want {
				t.Fatalf("CreateAccount(%+v) = %q, want %q", n, got, tt.want)
			}
			if err != nil {
				return
			}
			stored, err := f.st.GetAccount(ctx, a.ID)
			if err != nil || stored != a {
				t.Errorf("stored %+v, %v\nreturned %+v", stored, err, a)
			}
			if a.HasQuestion() || !a.Created.Equal(t0) {
				t.Errorf("new account %+v", a)
			}
			if _, err := f.st.GetAuthenticator(ctx, a.ID); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("new account has an authenticator: %v", err)
			}
			if ok, _, _ := f.svc.Hasher.Verify(ctx, a.PasswordHash, n.Password); ok != (n.Password != "") {
				t.Errorf("initial password accepted: %v", ok)
			}
			events := f.audit()
			if e := events[len(events)-1]; e.Action != ActionCreate || e.SubjectID != a.ID || e.ActorID != f.acc[tt.actor].ID || e.OfficeID != a.OfficeID {
				t.Errorf("audit event %+v", e)
			}
		})
	}
}
