package auth

import (
	"context"
	"errors"
	"strings"
	"time"

	"sesame/internal/account"
	"sesame/internal/mail"
	"sesame/internal/passhash"
	"sesame/internal/store"
)

// Login checks identifier, password and code (SPEC 2.1). It returns the
// account, or ErrCredentials for any wrong part (and for a locked or disabled
// account), ErrAddressThrottled, ErrBusy (nothing evaluated, no attempt
// spent) when the portal is too busy to hash in time, or — once the password was right —
// ErrNotEnrolled when the account has no authenticator (also when it was
// unlinked while the code was being checked).
func (s *Service) Login(ctx context.Context, c Credentials) (account.Account, error) {
	a, at, err := s.verifyPassword(ctx, c, ActionLogin)
	if err != nil {
		return account.Account{}, err
	}
	return s.checkLoginCode(at, a, c.Code)
}

// checkLoginCode is a login's second factor, once the password of a was
// right: the code checked and consumed, the attempt settled, the success
// audited, in one transaction.
func (s *Service) checkLoginCode(at *attempt, a account.Account, code string) (account.Account, error) {
	ok := false
	err := s.Store.InTx(at.ctx, func(tx store.Store) error {
		var err error
		if ok, err = s.verifyCode(at.ctx, tx, a, code); err != nil || !ok {
			return err
		}
		if a, err = at.succeeded(tx, true); err != nil {
			return err
		}
		return tx.AppendAudit(at.ctx, store.AuditEvent{Time: s.now(), ActorID: a.ID, Actor: a.Identifier, SubjectID: a.ID, Subject: a.Identifier,
			OfficeID: a.OfficeID, Action: ActionLogin, Outcome: OutcomeSuccess, Addr: at.addr})
	})
	return a, s.settle(at, ok, err, "wrong or reused code", "no authenticator linked: sent to initialisation")
}

// settle ends an attempt whose password was right and whose code was then
// checked in a transaction that returned (ok, err): nil on success; the
// failure recorded (ErrCredentials) for a wrong code; the reservation given
// back and ErrNotEnrolled (audited with notEnrolled) when there is no
// authenticator to check a code against; err otherwise.
func (s *Service) settle(at *attempt, ok bool, err error, wrong, notEnrolled string) error {
	switch {
	case errors.Is(err, ErrNotEnrolled):
		at.release()
		s.audit(at.ctx, store.AuditEvent{SubjectID: at.acct.ID, Subject: at.subject, OfficeID: at.acct.OfficeID, Action: at.action,
			Outcome: OutcomeDenied, Addr: at.addr, Detail: notEnrolled})
		return ErrNotEnrolled
	case err != nil:
		return err
	case !ok:
		return at.failed(wrong)
	}
	return nil
}

// ResetTOTP is the self-service reset with the old device (SPEC 2.3):
// identifier, password and a current code unlink the authenticator, so the
// next login goes through the wizard. The code is consumed like any other.
// Errors as Login, and ErrNotEnrolled when there is nothing to reset.
func (s *Service) ResetTOTP(ctx context.Context, c Credentials) (account.Account, error) {
	a, at, err := s.verifyPassword(ctx, c, ActionTOTPReset)
	if err != nil {
		return account.Account{}, err
	}
	ctx, now, ok := at.ctx, s.now(), false
	err = s.Store.InTx(ctx, func(tx store.Store) error {
		if ok, err = s.verifyCode(ctx, tx, a, c.Code); err != nil || !ok {
			return err
		}
		if a, err = s.unlinkDevice(ctx, tx, at, a, "self-service, with the old device"); err != nil {
			return err
		}
		return s.notify(ctx, tx, a, mail.AuthenticatorReset{Name: a.Name, By: mail.Self, When: now})
	})
	if err := s.settle(at, ok, err, "wrong or reused code", "no authenticator linked"); err != nil {
		return a, err
	}
	s.mailSent()
	return a, nil
}

// unlinkDevice is what a self-service reset does in tx once its factors
// passed: the authenticator unlinked, its recovery codes deleted (the next
// authenticator comes with a new set), the attempt settled as a success,
// every session ended (the device is being replaced) and the reset audited
// with detail. It returns the account as stored.
func (s *Service) unlinkDevice(ctx context.Context, tx store.Store, at *attempt, a account.Account, detail string) (account.Account, error) {
	if err := tx.UnlinkAuthenticator(ctx, a.ID); err != nil {
		return a, err
	}
	if _, err := tx.DeleteRecoveryCodes(ctx, a.ID); err != nil {
		return a, err
	}
	a, err := at.succeeded(tx, false)
	if err != nil {
		return a, err
	}
	if _, err := tx.DeleteAccountSessions(ctx, a.ID, nil); err != nil {
		return a, err
	}
	return a, tx.AppendAudit(ctx, store.AuditEvent{Time: s.now(), ActorID: a.ID, Actor: a.Identifier, SubjectID: a.ID, Subject: a.Identifier,
		OfficeID: a.OfficeID, Action: ActionTOTPReset, Outcome: OutcomeSuccess, Addr: at.addr, Detail: detail})
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
	// One query for both: every logged-in request comes through here.
	ss, a, err := s.Store.GetSessionAccount(ctx, hash)
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
	if a.Disabled {
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
// one transaction with the audit line written under action. The code spends
// a reserved attempt as at login: a wrong or reused code — or a locked or
// disabled account — returns ErrCredentials; ErrAddressThrottled as at
// login.
func (s *Service) StepUp(ctx context.Context, accountID int64, sessionHash []byte, code, addr, action string) error {
	at, ok, err := s.stepUp(ctx, accountID, sessionHash, code, addr, action, "for a sensitive action", nil)
	if at == nil {
		return err
	}
	if errors.Is(err, ErrNotEnrolled) {
		ok, err = false, nil // the authenticator was reset meanwhile: no code can be right
	}
	return s.settle(at, ok, err, "wrong or reused code", "")
}

// stepUp is a fresh code from a logged-in account, as StepUp describes,
// with also run in the same transaction once the code is right. It returns
// a nil attempt with the final error when nothing is left to settle (no
// budget, the session gone); otherwise the attempt and the transaction's
// outcome, for the caller to settle.
func (s *Service) stepUp(ctx context.Context, accountID int64, sessionHash []byte, code, addr, action, detail string,
	also func(ctx context.Context, tx store.Store, a account.Account) error) (*attempt, bool, error) {
	a, err := s.Store.GetAccount(ctx, accountID)
	if err != nil {
		return nil, false, err
	}
	at, err := s.reserve(ctx, a, addr, action)
	if err != nil {
		return nil, false, err
	}
	ctx, now, ok := at.ctx, s.now(), false
	err = s.Store.InTx(ctx, func(tx store.Store) error {
		if ok, err = s.verifyCode(ctx, tx, a, code); err != nil || !ok {
			return err
		}
		if err := tx.TouchSession(ctx, sessionHash, now, now); errors.Is(err, store.ErrNotFound) {
			return ErrNoSession // logged out meanwhile (or by an administrator)
		} else if err != nil {
			return err
		}
		if also != nil {
			if err := also(ctx, tx, a); err != nil {
				return err
			}
		}
		if a, err = at.succeeded(tx, false); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, store.AuditEvent{Time: now, ActorID: a.ID, Actor: a.Identifier, SubjectID: a.ID, Subject: a.Identifier,
			OfficeID: a.OfficeID, Action: action, Outcome: OutcomeSuccess, Addr: addr, Detail: detail})
	})
	if errors.Is(err, ErrNoSession) {
		at.release()
		return nil, false, ErrNoSession
	}
	return at, ok, err
}

// ErrSeveralAccounts: the identifier and password are right for accounts of
// several of the types asked (one person, one password, two account types);
// the person must say which. Nobody without the password gets this far.
var ErrSeveralAccounts = errors.New("auth: the credentials match several accounts")

// LoginAny is Login for a relying application that accepts several account
// types, without asking the type: the password is verified against the
// account of each type (a dummy verification where there is none, so the
// work is the same whichever exist), every existing one reserving an
// attempt first. No match records a failure on each; exactly one goes on to
// its code as Login does, the others' attempts given back; several return
// ErrSeveralAccounts (all given back) and the caller asks the type; ErrBusy
// (all given back) as for Login.
func (s *Service) LoginAny(ctx context.Context, c Credentials, types []account.Type) (account.Account, error) {
	if len(types) == 1 {
		c.Type = types[0]
		return s.Login(ctx, c)
	}
	ctx, done, err := s.admit(ctx)
	if err != nil {
		return account.Account{}, err
	}
	defer done()
	first, err := s.reserveAddress(ctx, c.Addr, ActionLogin, boundSubject(c.Identifier))
	if err != nil {
		return account.Account{}, err
	}
	id, idErr := account.NormalizeIdentifier(c.Identifier)
	type candidate struct {
		a  account.Account
		at *attempt
		ok bool
	}
	var cands []*candidate
	releaseAll := func() {
		for _, k := range cands {
			k.at.release()
		}
		first.release()
	}
	for _, t := range types {
		var a account.Account
		err := idErr
		if err == nil {
			a, err = s.Store.FindAccount(ctx, t, id)
		}
		if idErr != nil || errors.Is(err, store.ErrNotFound) {
			if err := s.Hasher.Dummy(ctx); errors.Is(err, passhash.ErrBusy) {
				releaseAll()
				return account.Account{}, ErrBusy
			}
			continue
		} else if err != nil {
			releaseAll()
			return account.Account{}, err
		}
		at := &attempt{s: s, ctx: first.ctx, addr: c.Addr, action: ActionLogin, subject: a.Identifier}
		if err := at.reserveAccount(ctx, a.ID); errors.Is(err, errNoBudget) {
			s.audit(first.ctx, store.AuditEvent{SubjectID: a.ID, Subject: a.Identifier, OfficeID: a.OfficeID, Action: ActionLogin,
				Outcome: OutcomeFailure, Addr: c.Addr, Detail: "locked or disabled"})
			s.Hasher.Pause(ctx)
			continue
		} else if err != nil {
			releaseAll()
			return account.Account{}, err
		}
		k := &candidate{a: a, at: at}
		cands = append(cands, k)
		ok, _, err := s.Hasher.Verify(ctx, a.PasswordHash, passhash.NormalizeSecret(c.Password))
		if ctx.Err() != nil {
			releaseAll()
			return account.Account{}, ctx.Err()
		}
		if errors.Is(err, passhash.ErrBusy) {
			releaseAll()
			return account.Account{}, ErrBusy
		}
		k.ok = err == nil && ok
	}
	var match *candidate
	matches := 0
	for _, k := range cands {
		if k.ok {
			match = k
			matches++
		}
	}
	switch {
	case matches == 0:
		for _, k := range cands {
			k.at.failed("wrong password")
		}
		detail := "wrong password"
		if len(cands) == 0 {
			detail = "unknown account, or locked"
		}
		return account.Account{}, first.failed(detail)
	case matches > 1:
		releaseAll()
		return account.Account{}, ErrSeveralAccounts
	}
	for _, k := range cands {
		if k != match {
			k.at.release()
		}
	}
	// The match's attempt takes over the address reservation.
	match.at.addrTaken, first.addrTaken = true, false
	return s.checkLoginCode(match.at, match.a, c.Code)
}
