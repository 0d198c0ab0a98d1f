package auth

import (
	"context"
	"errors"
	"fmt"
	"time"

	"sesame/internal/account"
	"sesame/internal/store"
)

// Attempt budgets. Every evaluation of a factor — password, TOTP code,
// security answer, the code on a password-reset link — first reserves one
// attempt from the client address's budget (one conditional upsert) and,
// when an account is known, one from the account's budget (under the
// account's row lock: the reservation counts as a failure and sets the lock
// that failure would earn, before anything is evaluated). So however many
// requests arrive at once, on however many instances, no more are evaluated
// than the budgets allow: the ones that find the budget spent are answered
// without spending a hash. The outcome then settles the reservation:
//
//   - a wrong factor leaves it standing (it was counted up front) and writes
//     the audit lines;
//   - a success clears the account's failures and gives the address its
//     attempt back, in the success's own transaction;
//   - an attempt that was never evaluated (the client went away while
//     waiting for a hashing turn), or one whose first factor was right and
//     that goes on to another reserved step, gives both back.
//
// A crash between reservation and settlement leaves a counted failure: the
// safe side.

// errNoBudget: the account is locked or disabled; nothing may be evaluated.
var errNoBudget = errors.New("auth: no attempt left on the account")

// arrivalKey carries the time a request arrived.
type arrivalKey struct{}

// WithArrival records in ctx when the request arrived: TOTP codes are checked
// against that time, not against the time a hashing turn came, so a code that
// was right when the person pressed the button is not refused because the
// portal was busy.
func WithArrival(ctx context.Context, t time.Time) context.Context {
	return context.WithValue(ctx, arrivalKey{}, t)
}

// arrival returns when the request in ctx arrived (now if not recorded).
func (s *Service) arrival(ctx context.Context) time.Time {
	if t, ok := ctx.Value(arrivalKey{}).(time.Time); ok && !t.IsZero() {
		return t.UTC()
	}
	return s.now()
}

// attempt is one reserved try: from the address's budget, and from an
// account's once reserveAccount succeeded.
type attempt struct {
	s       *Service
	ctx     context.Context // the request's, without its cancellation: settling must finish
	addr    string
	action  string
	subject string // the identifier as typed (normalised), for the audit log

	acct      account.Account // as the reservation left it; ID 0 when no account was reserved
	prevLock  time.Time       // the lock before the reservation
	setLock   bool            // the reservation set a new lock
	addrTaken bool
}

// reserveAddress reserves one attempt from addr's budget; ErrAddressThrottled
// (audited) when it is spent.
func (s *Service) reserveAddress(ctx context.Context, addr, action, subject string) (*attempt, error) {
	at := &attempt{s: s, ctx: context.WithoutCancel(ctx), addr: addr, action: action, subject: subject}
	ok, err := s.Store.ReserveAddressAttempt(ctx, AddressKey(addr), s.now(), s.AddressLimit.Window, s.AddressLimit.Failures)
	if err != nil {
		return nil, err
	}
	if !ok {
		s.audit(at.ctx, store.AuditEvent{Subject: subject, Action: action, Outcome: OutcomeFailure, Addr: addr, Detail: "address throttled"})
		return nil, ErrAddressThrottled
	}
	at.addrTaken = true
	return at, nil
}

// reserve takes one attempt from addr's budget and then from account a's,
// for a factor of a known account (the security answer, a step-up code):
// ErrAddressThrottled, or ErrCredentials (audited, after a pause) when the
// account has no attempt left.
func (s *Service) reserve(ctx context.Context, a account.Account, addr, action string) (*attempt, error) {
	at, err := s.reserveAddress(ctx, addr, action, a.Identifier)
	if err != nil {
		return nil, err
	}
	if err := at.reserveAccount(ctx, a.ID); errors.Is(err, errNoBudget) {
		return nil, at.refused(ctx, a)
	} else if err != nil {
		at.release()
		return nil, err
	}
	return at, nil
}

// reserveAccount reserves one attempt from the account's budget: under its
// row lock, unless it is locked or disabled (errNoBudget), the attempt is
// counted as a failure and the lock that failure earns is set.
func (at *attempt) reserveAccount(ctx context.Context, id int64) error {
	now := at.s.now()
	var prev time.Time
	a, err := at.s.Store.UpdateAccount(ctx, id, func(a *account.Account) error {
		if a.Disabled || a.Locked(now) {
			return errNoBudget
		}
		prev = a.LockedUntil
		at.s.Throttle.Fail(a, now)
		return nil
	})
	if err != nil {
		return err
	}
	at.acct, at.prevLock = a, prev
	at.setLock = !a.LockedUntil.Equal(prev)
	at.subject = a.Identifier
	return nil
}

// refused answers an attempt that found no budget on the account: audited,
// counted against the address only (so nobody can keep someone else locked
// out forever), after as long as a verification takes but without one.
func (at *attempt) refused(ctx context.Context, a account.Account) error {
	reason := "locked"
	if a.Disabled {
		reason = "disabled"
	}
	at.s.Hasher.Pause(ctx)
	at.s.audit(at.ctx, store.AuditEvent{SubjectID: a.ID, Subject: a.Identifier, OfficeID: a.OfficeID, Action: at.action,
		Outcome: OutcomeFailure, Addr: at.addr, Detail: reason})
	return ErrCredentials
}

// failed settles an evaluated attempt that failed: the reservation stands as
// the failure; the audit log gets the failure and, when this attempt's
// reservation set the lock, the lockout. It returns ErrCredentials.
func (at *attempt) failed(detail string) error {
	now := at.s.now()
	a := at.acct
	err := at.s.Store.InTx(at.ctx, func(tx store.Store) error {
		if at.setLock && a.Locked(now) {
			if err := tx.AppendAudit(at.ctx, store.AuditEvent{Time: now, SubjectID: a.ID, Subject: a.Identifier, OfficeID: a.OfficeID,
				Action: ActionLockout, Outcome: OutcomeSuccess, Addr: at.addr,
				Detail: fmt.Sprintf("%d consecutive failures, locked until %s", a.FailedAttempts, a.LockedUntil.Format(time.RFC3339))}); err != nil {
				return err
			}
		}
		return tx.AppendAudit(at.ctx, store.AuditEvent{Time: now, SubjectID: a.ID, Subject: at.subject, OfficeID: a.OfficeID,
			Action: at.action, Outcome: OutcomeFailure, Addr: at.addr, Detail: detail})
	})
	if err != nil {
		return err
	}
	return ErrCredentials
}

// succeeded settles a successful attempt inside the success's transaction:
// the account's failures are cleared (and its LastLogin set when login is
// true) and the address gets its attempt back. It returns the account as
// stored.
func (at *attempt) succeeded(tx store.Store, login bool) (account.Account, error) {
	now := at.s.now()
	a, err := tx.UpdateAccount(at.ctx, at.acct.ID, func(a *account.Account) error {
		at.s.Throttle.Succeed(a)
		if login {
			a.LastLogin = now
		}
		return nil
	})
	if err != nil {
		return account.Account{}, err
	}
	at.acct = a
	return a, at.releaseAddress(tx)
}

func (at *attempt) releaseAddress(tx store.Store) error {
	if !at.addrTaken {
		return nil
	}
	at.addrTaken = false
	return tx.ReleaseAddressAttempt(at.ctx, AddressKey(at.addr), at.s.now(), at.s.AddressLimit.Window)
}

// release gives the whole reservation back: the attempt was not evaluated,
// or its first factor was right and the flow goes on to a step that
// reserves again. The account's count goes down by one and the lock this
// reservation set, if still in place, is lifted; a store error is logged
// (the attempt then stays counted: the safe side).
func (at *attempt) release() {
	err := at.s.Store.InTx(at.ctx, func(tx store.Store) error {
		if at.acct.ID != 0 {
			_, err := tx.UpdateAccount(at.ctx, at.acct.ID, func(a *account.Account) error {
				a.FailedAttempts = max(0, a.FailedAttempts-1)
				if at.setLock && a.LockedUntil.Equal(at.acct.LockedUntil) {
					a.LockedUntil = at.prevLock
				}
				return nil
			})
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
		}
		return at.releaseAddress(tx)
	})
	if err != nil {
		at.s.Log.Warn("attempt not given back", "action", at.action, "err", err)
	}
	at.acct = account.Account{}
}
