package admin

import (
	"context"
	"errors"
	"time"

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
	err := s.Auth.StepUp(ctx, actor.Account.ID, sessionHash, code, actor.Addr, ActionCodeConfirm)
	if errors.Is(err, auth.ErrCredentials) {
		return ErrWrongCode
	}
	return err
}
