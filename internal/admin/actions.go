package admin

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"sesame/internal/account"
	"sesame/internal/auth"
	"sesame/internal/i18n"
	"sesame/internal/mail"
	"sesame/internal/passhash"
	"sesame/internal/password"
	"sesame/internal/store"
)

// Act does action to the account id, in one transaction with its audit
// event and the owner's notification e-mail, and returns the account as it
// is afterwards. Errors: ErrForbidden, ErrNotFound (missing or out of
// scope), ErrSelf, ErrUnchanged (nothing to do; nothing written), or a
// storage error (nothing written).
//
//	ResetTOTP      unlinks the authenticator and ends the owner's sessions: the
//	               next login goes through the initialisation wizard
//	ResetQuestion  clears the security question: the wizard's step 2 asks for a new one
//	Unlock         clears the failure count and the lock
//	SendPasswordReset  e-mails a single-use password-reset link (not for Group
//	               accounts, whose passwords are the directory's; subject to the
//	               public form's limits, over which nothing is sent)
//	Disable        refuses every login and ends the owner's sessions
//	Enable         allows logins again
func (s *Service) Act(ctx context.Context, actor Actor, action Action, id int64) (account.Account, error) {
	if _, ok := ParseAction(string(action)); !ok {
		return account.Account{}, &InvalidError{Key: "admin.error.action"}
	}
	if err := s.check(ctx, actor, string(action), id); err != nil {
		return account.Account{}, err
	}
	if actor.Account.ID != 0 && actor.Account.ID == id {
		s.deny(ctx, actor, string(action), id, "own account")
		return account.Account{}, ErrSelf
	}
	if action == SendPasswordReset && !s.CanSendPasswordReset() {
		return account.Account{}, &InvalidError{Key: "admin.error.unavailable"}
	}
	now := s.now()
	var out account.Account
	err := s.Store.InTx(ctx, func(tx store.Store) error {
		a, err := tx.GetAccount(ctx, id)
		if errors.Is(err, store.ErrNotFound) || (err == nil && !actor.inScope(a)) {
			return ErrNotFound
		} else if err != nil {
			return err
		}
		mod := func(fn func(*account.Account) error) error {
			a, err = tx.UpdateAccount(ctx, id, fn)
			return err
		}
		by, role := actor.display(), actor.role()
		var note any
		switch action {
		case ResetTOTP:
			if err := tx.UnlinkAuthenticator(ctx, id); errors.Is(err, store.ErrNotFound) {
				return ErrUnchanged
			} else if err != nil {
				return err
			}
			// The lost device's sessions must not outlive it, nor its
			// recovery codes (the next enrolment makes a new set).
			if _, err := tx.DeleteAccountSessions(ctx, id, nil); err != nil {
				return err
			}
			if _, err := tx.DeleteRecoveryCodes(ctx, id); err != nil {
				return err
			}
			note = mail.AuthenticatorReset{Name: a.Name, By: by, ByRole: role, When: now}
		case ResetQuestion:
			err = mod(func(a *account.Account) error {
				if a.QuestionKey == "" && a.AnswerHash == "" {
					return ErrUnchanged
				}
				a.ClearQuestion()
				return nil
			})
			note = mail.QuestionReset{Name: a.Name, By: by, ByRole: role, When: now}
		case Unlock:
			err = mod(func(a *account.Account) error {
				if !a.Locked(now) && a.FailedAttempts == 0 {
					return ErrUnchanged
				}
				a.FailedAttempts, a.LockedUntil = 0, time.Time{}
				return nil
			})
			if err == nil {
				// A lock means someone was guessing: whatever sessions the
				// account holds end with it (and the applications they
				// logged in to are told), so the person starts afresh.
				_, err = tx.DeleteAccountSessions(ctx, id, nil)
			}
			note = mail.AccountUnlocked{Name: a.Name, By: by, ByRole: role, When: now}
		case SendPasswordReset:
			switch {
			case a.Type == account.Group:
				return &InvalidError{Key: "admin.error.internal_password"}
			case a.Disabled:
				return &InvalidError{Key: "admin.error.disabled"}
			}
			// The public form's flow, run inside this transaction (InTx on
			// tx joins it), so its reset row, e-mail and audit event commit
			// with the administrator's event or not at all. The e-mail it
			// sends is the notification.
			inTx := *s.Passwords.Service
			inTx.Store, inTx.MailSent = tx, nil
			p := auth.Passwords{Service: &inTx, ResetLifetime: s.Passwords.ResetLifetime, ResetLimit: s.Passwords.ResetLimit}
			err = p.RequestPasswordReset(ctx, a.Type, a.Identifier, actor.Addr, s.ResetLink)
		case Disable:
			err = mod(func(a *account.Account) error {
				if a.Disabled {
					return ErrUnchanged
				}
				a.Disabled = true
				return nil
			})
			if err == nil {
				_, err = tx.DeleteAccountSessions(ctx, id, nil)
			}
			note = mail.AccountDisabled{Name: a.Name, By: by, ByRole: role, When: now}
		case Enable:
			err = mod(func(a *account.Account) error {
				if !a.Disabled {
					return ErrUnchanged
				}
				a.Disabled = false
				return nil
			})
			note = mail.AccountEnabled{Name: a.Name, By: by, ByRole: role, When: now}
		}
		if err != nil {
			return err
		}
		if err := tx.AppendAudit(ctx, store.AuditEvent{Time: now, ActorID: actor.Account.ID, Actor: actor.name(),
			SubjectID: a.ID, Subject: a.Identifier, OfficeID: a.OfficeID, Action: string(action), Outcome: auth.OutcomeSuccess,
			Addr: actor.Addr, Detail: actor.detail()}); err != nil {
			return err
		}
		// The action answers the account's open help requests of its kind.
		if kind := helpKind(action); kind != "" {
			n, err := tx.CloseHelpRequests(ctx, a.ID, kind, now, actor.name(), string(action))
			if err != nil {
				return err
			}
			if n > 0 {
				if err := tx.AppendAudit(ctx, store.AuditEvent{Time: now, ActorID: actor.Account.ID, Actor: actor.name(),
					SubjectID: a.ID, Subject: a.Identifier, OfficeID: a.OfficeID, Action: ActionHelpClose, Outcome: auth.OutcomeSuccess,
					Addr: actor.Addr, Detail: fmt.Sprintf("%d %s request(s) answered by %s", n, kind, action)}); err != nil {
					return err
				}
			}
		}
		out = a
		if note == nil {
			return nil
		}
		return s.notify(ctx, tx, a, note)
	})
	if errors.Is(err, ErrNotFound) {
		s.deny(ctx, actor, string(action), id, "no such account in scope")
	}
	if err != nil {
		return account.Account{}, err
	}
	s.mailSent()
	return out, nil
}

// helpKind is the kind of help request action answers ("" for none).
func helpKind(action Action) string {
	switch action {
	case ResetTOTP:
		return store.HelpTOTP
	case ResetQuestion:
		return store.HelpQuestion
	}
	return ""
}

// CanSendPasswordReset reports whether the service is set up to send
// password-reset e-mails.
func (s *Service) CanSendPasswordReset() bool {
	return s.Passwords != nil && s.Passwords.Service != nil && s.ResetLink != nil
}

// ResetTOTP is Act(ResetTOTP).
func (s *Service) ResetTOTP(ctx context.Context, actor Actor, id int64) (account.Account, error) {
	return s.Act(ctx, actor, ResetTOTP, id)
}

// ResetQuestion is Act(ResetQuestion).
func (s *Service) ResetQuestion(ctx context.Context, actor Actor, id int64) (account.Account, error) {
	return s.Act(ctx, actor, ResetQuestion, id)
}

// Unlock is Act(Unlock).
func (s *Service) Unlock(ctx context.Context, actor Actor, id int64) (account.Account, error) {
	return s.Act(ctx, actor, Unlock, id)
}

// Disable is Act(Disable).
func (s *Service) Disable(ctx context.Context, actor Actor, id int64) (account.Account, error) {
	return s.Act(ctx, actor, Disable, id)
}

// Enable is Act(Enable).
func (s *Service) Enable(ctx context.Context, actor Actor, id int64) (account.Account, error) {
	return s.Act(ctx, actor, Enable, id)
}

// NewAccount is what CreateAccount needs.
type NewAccount struct {
	Type       account.Type
	Identifier string // an e-mail address, as typed; normalised here
	Name       string
	OfficeID   int64 // required for Tiers, 0 otherwise; an office administrator's own office
	Role       account.Role
	Lang       i18n.Lang
	// Password is the initial password, given to the person out of band;
	// it must pass the password policy. Empty: an unknown random password,
	// so the person must set theirs through the password-reset e-mail.
	Password string
}

// CreateAccount creates an account without an authenticator or security
// question: its first login goes through the initialisation wizard.
// Support staff create any account; an office administrator only plain
// Tiers accounts of their own office. Errors: ErrForbidden, ErrInvalid
// (*InvalidError), ErrExists.
func (s *Service) CreateAccount(ctx context.Context, actor Actor, n NewAccount) (account.Account, error) {
	if err := s.check(ctx, actor, ActionCreate, 0); err != nil {
		return account.Account{}, err
	}
	a, err := s.newAccount(ctx, actor, n)
	if err != nil {
		return account.Account{}, err
	}
	now := s.now()
	a.Created = now
	err = s.Store.InTx(ctx, func(tx store.Store) error {
		if a.OfficeID != 0 {
			if _, err := tx.GetOffice(ctx, a.OfficeID); errors.Is(err, store.ErrNotFound) {
				return &InvalidError{Key: "admin.error.office"}
			} else if err != nil {
				return err
			}
		}
		if err := tx.CreateAccount(ctx, &a); errors.Is(err, store.ErrAlreadyExists) {
			return ErrExists
		} else if err != nil {
			return err
		}
		detail := "type " + string(a.Type)
		if a.Role != account.RoleUser {
			detail += ", role " + string(a.Role)
		}
		if n.Password == "" {
			detail += ", no initial password"
		}
		return tx.AppendAudit(ctx, store.AuditEvent{Time: now, ActorID: actor.Account.ID, Actor: actor.name(),
			SubjectID: a.ID, Subject: a.Identifier, OfficeID: a.OfficeID, Action: ActionCreate, Outcome: auth.OutcomeSuccess,
			Addr: actor.Addr, Detail: detail})
	})
	if err != nil {
		return account.Account{}, err
	}
	return a, nil
}

// identifierKey is the message for an identifier CheckNewIdentifier refused.
func identifierKey(err error) string {
	switch {
	case errors.Is(err, account.ErrIdentifierInvisible):
		return "admin.error.identifier_invisible"
	case errors.Is(err, account.ErrIdentifierCharacter):
		return "admin.error.identifier_character"
	case errors.Is(err, account.ErrIdentifierMixedScript):
		return "admin.error.identifier_mixed_script"
	}
	return "admin.error.identifier"
}

// newAccount validates n for actor and returns the account to insert.
func (s *Service) newAccount(ctx context.Context, actor Actor, n NewAccount) (account.Account, error) {
	typ, ok := account.ParseType(string(n.Type))
	if !ok {
		return account.Account{}, &InvalidError{Key: "admin.error.type"}
	}
	id, err := account.CheckNewIdentifier(n.Identifier)
	if err != nil {
		return account.Account{}, &InvalidError{Key: identifierKey(err)}
	}
	name := strings.TrimSpace(n.Name)
	if name == "" || !utf8.ValidString(name) || utf8.RuneCountInString(name) > account.MaxName || strings.ContainsFunc(name, isControl) {
		return account.Account{}, &InvalidError{Key: "admin.error.name"}
	}
	lang, ok := i18n.Parse(string(n.Lang))
	if !ok {
		return account.Account{}, &InvalidError{Key: "admin.error.lang"}
	}
	role, ok := account.ParseRole(string(n.Role))
	if !ok || (role == account.RoleOfficeAdmin && typ != account.Tiers) || (role == account.RoleSupport && typ != account.Group) {
		return account.Account{}, &InvalidError{Key: "admin.error.role"}
	}
	officeID := n.OfficeID
	if actor.level() == office {
		// An office administrator manages their own office's users; making
		// administrators, staff or clients is support's job.
		if officeID == 0 {
			officeID = actor.Account.OfficeID
		}
		if typ != account.Tiers {
			return account.Account{}, &InvalidError{Key: "admin.error.type"}
		}
		if officeID != actor.Account.OfficeID {
			return account.Account{}, &InvalidError{Key: "admin.error.office"}
		}
		if role != account.RoleUser {
			return account.Account{}, &InvalidError{Key: "admin.error.role"}
		}
	}
	if (typ == account.Tiers) != (officeID != 0) {
		return account.Account{}, &InvalidError{Key: "admin.error.office"}
	}
	pw := n.Password
	if pw != "" {
		if err := password.Check(pw, id); err != nil {
			var perr *password.Error
			if errors.As(err, &perr) {
				return account.Account{}, &InvalidError{Key: perr.Key}
			}
			return account.Account{}, err
		}
	} else {
		// Nobody knows this password: the person sets theirs by the
		// password-reset e-mail.
		b := make([]byte, 32)
		rand.Read(b)
		pw = base64.RawURLEncoding.EncodeToString(b)
	}
	hash, err := s.Hasher.Hash(ctx, passhash.NormalizeSecret(pw))
	if err != nil {
		return account.Account{}, err
	}
	return account.Account{Type: typ, Identifier: id, Name: name, OfficeID: officeID, Role: role, Lang: lang, PasswordHash: hash}, nil
}
