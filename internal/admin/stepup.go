package admin

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"sesame/internal/account"
	"sesame/internal/auth"
	"sesame/internal/store"
)

// A sensitive action (Action.Sensitive) needs a TOTP code verified in the
// administrator's session within FreshFor. Logging in verifies one; after
// that the console asks again, and ConfirmCode checks it.

// FreshFor is how long a verified code keeps sensitive actions open.
const FreshFor = 5 * time.Minute

// ErrWrongCode: the administrator's own code was wrong or already used. It
// counts as a failure on their account (and their address), as at login.
var ErrWrongCode = errors.New("admin: code incorrect")

// ActionCodeConfirm is the audit action of a step-up code.
const ActionCodeConfirm = "code_confirm"

// Fresh reports whether the session verified a TOTP code less than
// FreshFor ago.
func (s *Service) Fresh(ss store.Session) bool {
	return !ss.LastOTP.IsZero() && s.now().Sub(ss.LastOTP) < FreshFor
}

// ConfirmCode checks the actor's own current TOTP code, consumes its time
// step (a code is accepted once, login included) and marks the session
// (named by the hash of its token) as having verified a code now. Errors:
// ErrForbidden (not a logged-in administrator, or no Auth configured),
// ErrWrongCode, auth.ErrAddressThrottled.
func (s *Service) ConfirmCode(ctx context.Context, actor Actor, sessionHash []byte, code string) error {
	if actor.Account.ID == 0 || actor.level() == none || s.Auth == nil {
		return ErrForbidden
	}
	now := s.now()
	as := s.Auth
	key := auth.AddressKey(actor.Addr)
	if n, err := s.Store.AddressFailures(ctx, key, now, as.AddressLimit.Window); err != nil {
		return err
	} else if n >= as.AddressLimit.Failures {
		return auth.ErrAddressThrottled
	}
	a, err := s.Store.GetAccount(ctx, actor.Account.ID)
	if err != nil {
		return err
	}
	ok := false
	if !a.Locked(now) && !a.Disabled {
		err = s.Store.InTx(ctx, func(tx store.Store) error {
			au, err := tx.GetAuthenticator(ctx, a.ID)
			if errors.Is(err, store.ErrNotFound) {
				return nil // reset meanwhile: no code can be right
			} else if err != nil {
				return err
			}
			secret, err := as.Keys.Open(au.Secret, totpAD(a.ID))
			if err != nil {
				return fmt.Errorf("admin: open TOTP secret of account %d: %w", a.ID, err)
			}
			step, valid := as.TOTP.Verify(secret, code, now)
			if !valid {
				return nil
			}
			if err := tx.UseTOTPStep(ctx, a.ID, step); errors.Is(err, store.ErrReplayed) {
				return nil
			} else if err != nil {
				return err
			}
			if err := tx.TouchSession(ctx, sessionHash, now, now); err != nil {
				return err
			}
			if _, err := tx.UpdateAccount(ctx, a.ID, func(acc *account.Account) error { as.Throttle.Succeed(acc); return nil }); err != nil {
				return err
			}
			ok = true
			return tx.AppendAudit(ctx, store.AuditEvent{Time: now, ActorID: a.ID, Actor: a.Identifier, SubjectID: a.ID, Subject: a.Identifier,
				OfficeID: a.OfficeID, Action: ActionCodeConfirm, Outcome: auth.OutcomeSuccess, Addr: actor.Addr, Detail: "for a sensitive action"})
		})
		if err != nil {
			return err
		}
	}
	if ok {
		return nil
	}
	// A failure: counted on the account (unless it is locked already:
	// that would let anyone keep it locked) and the address, in one
	// transaction with its audit event.
	err = s.Store.InTx(ctx, func(tx store.Store) error {
		if !a.Locked(now) {
			up, err := tx.UpdateAccount(ctx, a.ID, func(acc *account.Account) error { as.Throttle.Fail(acc, now); return nil })
			if err != nil {
				return err
			}
			if up.Locked(now) {
				if err := tx.AppendAudit(ctx, store.AuditEvent{Time: now, SubjectID: up.ID, Subject: up.Identifier, OfficeID: up.OfficeID,
					Action: auth.ActionLockout, Outcome: auth.OutcomeSuccess, Addr: actor.Addr,
					Detail: fmt.Sprintf("%d consecutive failures, locked until %s", up.FailedAttempts, up.LockedUntil.Format(time.RFC3339))}); err != nil {
					return err
				}
			}
		}
		if _, err := tx.AddAddressFailure(ctx, key, now, as.AddressLimit.Window); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, store.AuditEvent{Time: now, ActorID: a.ID, Actor: a.Identifier, SubjectID: a.ID, Subject: a.Identifier,
			OfficeID: a.OfficeID, Action: ActionCodeConfirm, Outcome: auth.OutcomeFailure, Addr: actor.Addr, Detail: "wrong, reused or locked"})
	})
	if err != nil {
		return err
	}
	return ErrWrongCode
}

// totpAD is the additional data a TOTP secret is sealed with: package auth
// binds each sealed secret to its account this way. It must stay equal to
// auth's (a test enrols through auth and confirms a code here); auth does
// not export it yet.
func totpAD(id int64) []byte { return []byte("sesame/totp/" + strconv.FormatInt(id, 10)) }
