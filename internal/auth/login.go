package auth

import (
	"context"
	"errors"
	"strings"
	"time"

	"sesame/internal/account"
	"sesame/internal/mail"
	"sesame/internal/store"
)

// Login checks identifier, password and code (SPEC 2.1). It returns the
// account, or ErrCredentials for any wrong part (and for a locked or disabled
// account), ErrAddressThrottled, or — once the password was right —
// ErrNotEnrolled when the account has no authenticator yet.
func (s *Service) Login(ctx context.Context, c Credentials) (account.Account, error) {
	a, err := s.verifyPassword(ctx, c, ActionLogin)
	if err != nil {
		return account.Account{}, err
	}
	if _, err := s.Store.GetAuthenticator(ctx, a.ID); errors.Is(err, store.ErrNotFound) {
		s.audit(ctx, store.AuditEvent{SubjectID: a.ID, Subject: a.Identifier, OfficeID: a.OfficeID, Action: ActionLogin,
			Outcome: OutcomeDenied, Addr: c.Addr, Detail: "no authenticator linked: sent to initialisation"})
		return a, ErrNotEnrolled
	} else if err != nil {
		return account.Account{}, err
	}
	now := s.now()
	ok := false
	err = s.Store.InTx(ctx, func(tx store.Store) error {
		if ok, err = s.verifyCode(ctx, tx, a, c.Code); err != nil || !ok {
			return err
		}
		a, err = tx.UpdateAccount(ctx, a.ID, func(acc *account.Account) error {
			s.Throttle.Succeed(acc)
			acc.LastLogin = now
			return nil
		})
		if err != nil {
			return err
		}
		return tx.AppendAudit(ctx, store.AuditEvent{Time: now, ActorID: a.ID, Actor: a.Identifier, SubjectID: a.ID, Subject: a.Identifier,
			OfficeID: a.OfficeID, Action: ActionLogin, Outcome: OutcomeSuccess, Addr: c.Addr})
	})
	if err != nil {
		return account.Account{}, err
	}
	if !ok {
		return account.Account{}, s.fail(ctx, &a, c.Addr, ActionLogin, a.Identifier, "wrong or reused code")
	}
	return a, nil
}

// ResetTOTP is the self-service reset with the old device (SPEC 2.3):
// identifier, password and a current code unlink the authenticator, so the
// next login goes through the wizard. The code is consumed like any other.
// Errors as Login, and ErrNotEnrolled when there is nothing to reset.
func (s *Service) ResetTOTP(ctx context.Context, c Credentials) (account.Account, error) {
	a, err := s.verifyPassword(ctx, c, ActionTOTPReset)
	if err != nil {
		return account.Account{}, err
	}
	now := s.now()
	ok := false
	err = s.Store.InTx(ctx, func(tx store.Store) error {
		if ok, err = s.verifyCode(ctx, tx, a, c.Code); err != nil || !ok {
			return err
		}
		if err := tx.UnlinkAuthenticator(ctx, a.ID); err != nil {
			return err
		}
		a, err = tx.UpdateAccount(ctx, a.ID, func(acc *account.Account) error { s.Throttle.Succeed(acc); return nil })
		if err != nil {
			return err
		}
		// The device is being replaced: end the sessions it opened.
		if _, err := tx.DeleteAccountSessions(ctx, a.ID, nil); err != nil {
			return err
		}
		if err := tx.AppendAudit(ctx, store.AuditEvent{Time: now, ActorID: a.ID, Actor: a.Identifier, SubjectID: a.ID, Subject: a.Identifier,
			OfficeID: a.OfficeID, Action: ActionTOTPReset, Outcome: OutcomeSuccess, Addr: c.Addr, Detail: "self-service, with the old device"}); err != nil {
			return err
		}
		return s.notify(ctx, tx, a, mail.AuthenticatorReset{Name: a.Name, By: mail.Self, When: now})
	})
	if errors.Is(err, store.ErrNotFound) {
		s.audit(ctx, store.AuditEvent{SubjectID: a.ID, Subject: a.Identifier, OfficeID: a.OfficeID, Action: ActionTOTPReset,
			Outcome: OutcomeDenied, Addr: c.Addr, Detail: "no authenticator linked"})
		return a, ErrNotEnrolled
	}
	if err != nil {
		return account.Account{}, err
	}
	if !ok {
		return account.Account{}, s.fail(ctx, &a, c.Addr, ActionTOTPReset, a.Identifier, "wrong or reused code")
	}
	s.mailSent()
	return a, nil
}

// ErrNoSession: the session cookie names no live session.
var ErrNoSession = errors.New("auth: no session")

// SessionPolicy bounds a session's life.
type SessionPolicy struct {
	Idle     time.Duration // ended after this long without a request
	Absolute time.Duration // ended this long after login, whatever happens
}

// DefaultSessionPolicy: 30 minutes idle, 12 hours absolute (ASVS 3.3).
func DefaultSessionPolicy() SessionPolicy {
	return SessionPolicy{Idle: 30 * time.Minute, Absolute: 12 * time.Hour}
}

// touchEvery limits session writes: LastSeen is updated at most this often.
const touchEvery = time.Minute

// StartSession opens a session for a just-authenticated account, with a new
// random id (never one the browser brought), and returns the cookie's token.
func (s *Service) StartSession(ctx context.Context, a account.Account, amr []string, addr, userAgent string) (string, error) {
	token, hash := newToken()
	now := s.now()
	if len(userAgent) > 256 {
		userAgent = userAgent[:256]
	}
	err := s.Store.CreateSession(ctx, store.Session{IDHash: hash, AccountID: a.ID, AMR: amr, Created: now, LastSeen: now,
		LastOTP: now, Addr: addr, UserAgent: strings.ToValidUTF8(userAgent, "")})
	return token, err
}

// Session returns the live session named by token and its account, ending
// it if it is past either timeout or its account was disabled.
func (s *Service) Session(ctx context.Context, p SessionPolicy, token string) (store.Session, account.Account, error) {
	if token == "" || len(token) > 64 {
		return store.Session{}, account.Account{}, ErrNoSession
	}
	hash := HashToken(token)
	ss, err := s.Store.GetSession(ctx, hash)
	if errors.Is(err, store.ErrNotFound) {
		return store.Session{}, account.Account{}, ErrNoSession
	} else if err != nil {
		return store.Session{}, account.Account{}, err
	}
	now := s.now()
	if now.Sub(ss.LastSeen) >= p.Idle || now.Sub(ss.Created) >= p.Absolute {
		s.Store.DeleteSession(ctx, hash)
		return store.Session{}, account.Account{}, ErrNoSession
	}
	a, err := s.Store.GetAccount(ctx, ss.AccountID)
	if err != nil || a.Disabled {
		s.Store.DeleteSession(ctx, hash)
		return store.Session{}, account.Account{}, ErrNoSession
	}
	if now.Sub(ss.LastSeen) >= touchEvery {
		if err := s.Store.TouchSession(ctx, hash, now, time.Time{}); err != nil && !errors.Is(err, store.ErrNotFound) {
			return store.Session{}, account.Account{}, err
		}
		ss.LastSeen = now
	}
	return ss, a, nil
}

// EndSession logs out: the session is deleted on the server.
func (s *Service) EndSession(ctx context.Context, token, addr string) {
	if token == "" || len(token) > 64 {
		return
	}
	hash := HashToken(token)
	if ss, err := s.Store.GetSession(ctx, hash); err == nil {
		s.Store.DeleteSession(ctx, hash)
		s.audit(ctx, store.AuditEvent{ActorID: ss.AccountID, SubjectID: ss.AccountID, Action: ActionLogout, Outcome: OutcomeSuccess, Addr: addr})
	}
}

// StepUp checks a fresh TOTP code from an account that is already logged
// in, before a sensitive action: the code's step is consumed and the
// session (named by the hash of its token) records a verified code now, in
// one transaction with the audit line written under action. A wrong or
// reused code — or a locked or disabled account — counts as a failure as at
// login and returns ErrCredentials; ErrAddressThrottled as at login.
func (s *Service) StepUp(ctx context.Context, accountID int64, sessionHash []byte, code, addr, action string) error {
	if err := s.checkAddress(ctx, addr); err != nil {
		return err
	}
	a, err := s.Store.GetAccount(ctx, accountID)
	if err != nil {
		return err
	}
	now := s.now()
	if a.Disabled || a.Locked(now) {
		return s.fail(ctx, nil, addr, action, a.Identifier, "locked or disabled")
	}
	ok := false
	err = s.Store.InTx(ctx, func(tx store.Store) error {
		if ok, err = s.verifyCode(ctx, tx, a, code); err != nil || !ok {
			return err
		}
		if err := tx.TouchSession(ctx, sessionHash, now, now); err != nil {
			return err
		}
		if _, err := tx.UpdateAccount(ctx, a.ID, func(acc *account.Account) error { s.Throttle.Succeed(acc); return nil }); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, store.AuditEvent{Time: now, ActorID: a.ID, Actor: a.Identifier, SubjectID: a.ID, Subject: a.Identifier,
			OfficeID: a.OfficeID, Action: action, Outcome: OutcomeSuccess, Addr: addr, Detail: "for a sensitive action"})
	})
	if errors.Is(err, store.ErrNotFound) {
		ok, err = false, nil // the authenticator was reset meanwhile: no code can be right
	}
	if err != nil {
		return err
	}
	if !ok {
		return s.fail(ctx, &a, addr, action, a.Identifier, "wrong or reused code")
	}
	return nil
}
