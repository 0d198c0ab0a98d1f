// Package admin is helped recovery (SPEC 3): what office administrators and
// support staff do to other people's accounts — search them, look at their
// state, reset a lost authenticator or a forgotten security question, unlock,
// disable and enable them, create them — and the audit log they read.
//
// Scope is enforced here, on every read and every action, whatever the
// caller (console or command line):
//
//	actor                                   may see and act on
//	support staff (Group, role support)     every account
//	the command line (an operator name)     every account, as support
//	office administrator (Tiers, role       Tiers and Client accounts of their own
//	  office_admin, in an office)             office, never staff (Group, support)
//	anyone else                             nothing (ErrForbidden)
//
// An account outside the actor's scope is reported exactly like a missing
// one (ErrNotFound), so a guessed id never confirms that an account exists.
// Nobody acts on their own account here (ErrSelf): the self-service pages
// are for that.
//
// Each action is one transaction: the change, its audit event and the
// notification e-mail in the owner's language (queued in the outbox) are
// written together or not at all. Refused attempts are audited too, with
// outcome "denied".
package admin

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"

	"sesame/internal/account"
	"sesame/internal/auth"
	"sesame/internal/i18n"
	"sesame/internal/mail"
	"sesame/internal/passhash"
	"sesame/internal/store"
)

// Outcomes of the service's methods.
var (
	// ErrForbidden: the actor administers nothing (a plain user, a
	// disabled account, a command line without an operator name).
	ErrForbidden = errors.New("admin: not an administrator")
	// ErrNotFound: no such account, or one outside the actor's scope — the
	// two must look the same.
	ErrNotFound = errors.New("admin: account not found")
	// ErrSelf: an administrator tried to act on their own account.
	ErrSelf = errors.New("admin: not on your own account")
	// ErrUnchanged: the action has nothing to do (no authenticator to
	// reset, account not locked, already disabled...). Nothing is written.
	ErrUnchanged = errors.New("admin: nothing to change")
	// ErrExists: CreateAccount found the (type, identifier) taken.
	ErrExists = errors.New("admin: account already exists")
	// ErrInvalid: the input breaks a rule; see InvalidError's Key.
	ErrInvalid = errors.New("admin: invalid input")
)

// InvalidError is ErrInvalid with the translation key of the rule broken.
type InvalidError struct{ Key string }

func (e *InvalidError) Error() string { return "admin: invalid input: " + e.Key }
func (e *InvalidError) Unwrap() error { return ErrInvalid }

// Audit actions written by this package, beside those of package auth
// (a helped TOTP reset is auth.ActionTOTPReset with another actor).
const (
	ActionQuestionReset = "question_reset"
	ActionUnlock        = "account_unlock"
	ActionDisable       = "account_disable"
	ActionEnable        = "account_enable"
	ActionCreate        = "account_create"
	ActionView          = "account_view" // only refused views are written
	ActionAudit         = "audit_view"   // only refused reads are written
)

// Action is something an administrator does to an account.
type Action string

// The actions. Their values are the audit log's action names.
const (
	ResetTOTP     Action = auth.ActionTOTPReset
	ResetQuestion Action = ActionQuestionReset
	Unlock        Action = ActionUnlock
	Disable       Action = ActionDisable
	Enable        Action = ActionEnable
)

// SendPasswordReset e-mails the owner a password-reset link, as the public
// "password reset" form does (SPEC 2.5; Client and Tiers accounts only).
const SendPasswordReset Action = "password_reset_send"

// Actions lists them in the order the console shows them.
var Actions = []Action{ResetTOTP, ResetQuestion, Unlock, SendPasswordReset, Disable, Enable}

// ParseAction returns the action named s.
func ParseAction(s string) (Action, bool) {
	for _, a := range Actions {
		if string(a) == s {
			return a, true
		}
	}
	return "", false
}

// Sensitive reports whether the action needs a fresh TOTP code from the
// administrator (the console asks again if the last one is old).
func (a Action) Sensitive() bool { return a == ResetTOTP || a == ResetQuestion || a == Disable }

// Actor is who asks: a logged-in administrator, or an operator on the
// command line.
type Actor struct {
	Account  account.Account // the logged-in administrator; zero for the command line
	Operator string          // the command line's operator name, when Account is zero
	Addr     string          // client address, for the audit log
}

// MaxOperator bounds an operator name.
const MaxOperator = 64

// level is what an actor may do.
type level int

const (
	none   level = iota
	office       // an office administrator: their office's non-staff accounts
	all          // support staff and the command line: every account
)

func (a Actor) level() level {
	if a.Account.ID == 0 {
		if validOperator(a.Operator) {
			return all
		}
		return none
	}
	return roleLevel(a.Account)
}

func roleLevel(a account.Account) level {
	switch {
	case a.Disabled:
		return none
	case a.Role == account.RoleSupport && a.Type == account.Group:
		return all
	case a.Role == account.RoleOfficeAdmin && a.Type == account.Tiers && a.OfficeID != 0:
		return office
	}
	return none
}

// IsAdmin reports whether a may use the administration console: an office
// administrator of an office, or support staff.
func IsAdmin(a account.Account) bool { return roleLevel(a) != none }

// IsSupport reports whether a is support staff (who see every account and office).
func IsSupport(a account.Account) bool { return roleLevel(a) == all }

func validOperator(s string) bool {
	s = strings.TrimSpace(s)
	return s != "" && len(s) <= MaxOperator && utf8.ValidString(s) && !strings.ContainsFunc(s, isControl)
}

func isControl(r rune) bool {
	return r < 0x20 || (r >= 0x7f && r < 0xa0) || r == '\u2028' || r == '\u2029'
}

// inScope reports whether the actor may see and act on subject.
func (a Actor) inScope(subject account.Account) bool {
	switch a.level() {
	case all:
		return true
	case office:
		return subject.OfficeID == a.Account.OfficeID && subject.Type != account.Group && subject.Role != account.RoleSupport
	}
	return false
}

// name is who the actor is in the audit log; display is how the owner's
// e-mail names them.
func (a Actor) name() string {
	if a.Account.ID == 0 {
		return strings.TrimSpace(a.Operator)
	}
	return a.Account.Identifier
}

func (a Actor) display() string {
	if a.Account.ID == 0 {
		return strings.TrimSpace(a.Operator)
	}
	if a.Account.Name != "" {
		return a.Account.Name
	}
	return a.Account.Identifier
}

// role is the actor's role as the e-mails name it, and detail what the
// audit log says about how they acted.
func (a Actor) role() string {
	if a.level() == office {
		return mail.RoleOfficeAdmin
	}
	return mail.RoleSupport
}

func (a Actor) detail() string {
	switch {
	case a.Account.ID == 0:
		return "helped, by support on the command line"
	case a.level() == office:
		return "helped, by office administrator"
	}
	return "helped, by support"
}

// Service carries out administration. Its fields are set once.
type Service struct {
	Store    store.Store
	Hasher   *passhash.Hasher // for CreateAccount's initial password
	Mail     *mail.Renderer   // nil: no notification e-mails
	MailSent func()           // nudges the delivery worker after a commit; may be nil
	Now      func() time.Time
	Log      *slog.Logger

	// Auth verifies an administrator's own code for sensitive actions
	// (ConfirmCode); nil: ConfirmCode refuses.
	Auth *auth.Service
	// Passwords and ResetLink send password-reset e-mails (the
	// SendPasswordReset action); either nil: the action is unavailable.
	Passwords *auth.Passwords
	ResetLink func(token string) string
	// ConsoleURL is the portal's public base URL, for links to the console
	// in e-mails to administrators; empty: no link.
	ConsoleURL string
}

func (s *Service) now() time.Time { return s.Now().UTC() }

// deny writes a refused attempt to the audit log, outside any transaction
// (there is nothing to roll back with it). It names the subject only by the
// id the actor sent: the log must not tell an office administrator who owns
// an account they may not see.
func (s *Service) deny(ctx context.Context, actor Actor, action string, subjectID int64, why string) {
	e := store.AuditEvent{Time: s.now(), ActorID: actor.Account.ID, Actor: boundText(actor.name(), MaxOperator+account.MaxIdentifier),
		SubjectID: subjectID, OfficeID: actor.Account.OfficeID, Action: action, Outcome: auth.OutcomeDenied, Addr: actor.Addr, Detail: why}
	if err := s.Store.AppendAudit(ctx, e); err != nil {
		s.Log.Error("audit write failed", "action", action, "err", err)
	}
}

// check refuses an actor who administers nothing.
func (s *Service) check(ctx context.Context, actor Actor, action string, subjectID int64) error {
	if actor.level() == none {
		s.deny(ctx, actor, action, subjectID, "not an administrator")
		return ErrForbidden
	}
	return nil
}

// notify renders data for a in its language and queues it in tx.
func (s *Service) notify(ctx context.Context, tx store.Store, a account.Account, data any) error {
	if s.Mail == nil {
		return nil
	}
	lang, ok := i18n.Parse(string(a.Lang))
	if !ok {
		lang = i18n.FR
	}
	m, err := s.Mail.Render(lang, mail.Address{Name: a.Name, Email: a.Identifier}, data)
	if err != nil {
		return fmt.Errorf("admin: render %T: %w", data, err)
	}
	_, err = tx.EnqueueMail(ctx, m, s.now())
	return err
}

func (s *Service) mailSent() {
	if s.MailSent != nil && s.Mail != nil {
		s.MailSent()
	}
}

// boundText cuts s to at most n bytes on a rune boundary, for the audit log.
func boundText(s string, n int) string {
	s = strings.ToValidUTF8(s, "")
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
