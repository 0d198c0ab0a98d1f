package auth

import (
	"context"
	"errors"
	"strconv"

	"sesame/internal/account"
	"sesame/internal/mail"
	"sesame/internal/recovery"
	"sesame/internal/store"
)

// Recovery codes (package recovery): a new set is made each time an
// authenticator is linked (ConfirmCode) or when the logged-in owner asks for
// one with a current code (NewRecoveryCodes); every unlinking of the
// authenticator deletes them.

// recoveryAD binds the sealed codes kept on a wizard's record to its account.
func recoveryAD(id int64) []byte { return []byte("sesame/recovery/" + strconv.FormatInt(id, 10)) }

func recoveryHashes(accountID int64, codes []string) [][]byte {
	hashes := make([][]byte, len(codes))
	for i, c := range codes {
		hashes[i] = recovery.Hash(accountID, c)
	}
	return hashes
}

// NewRecoveryCodes makes a new set of recovery codes for a logged-in
// account, whose current TOTP code (spending a reserved attempt, as StepUp)
// must be right; the old set dies in the same transaction, which also marks
// the session (named by the hash of its token) as having verified a code
// and writes the audit line. It returns the new codes, normalised. Errors:
// ErrCredentials (wrong or reused code, locked account),
// ErrAddressThrottled, ErrNoSession, ErrNotEnrolled (no authenticator: no
// codes to make).
func (s *Service) NewRecoveryCodes(ctx context.Context, accountID int64, sessionHash []byte, code, addr string) ([]string, error) {
	codes := recovery.Generate()
	at, ok, err := s.stepUp(ctx, accountID, sessionHash, code, addr, ActionRecoveryCodesNew, "the old set revoked",
		func(ctx context.Context, tx store.Store, a account.Account) error {
			return tx.ReplaceRecoveryCodes(ctx, a.ID, recoveryHashes(a.ID, codes), s.now())
		})
	if at == nil {
		return nil, err
	}
	if err := s.settle(at, ok, err, "wrong or reused code", "no authenticator linked"); err != nil {
		return nil, err
	}
	return codes, nil
}

// RecoverWithCode is the self-service reset without the old device:
// identifier, password, account type and one recovery code (in c.Code).
// The code is a factor like the others: it is checked only after the
// password, within the same reserved attempt, so a wrong one
// spends the account's and the address's budget like a wrong TOTP code.
// When both are right, in one transaction: the code is spent (one
// conditional UPDATE: of two simultaneous uses, one wins), the
// authenticator is unlinked and the other codes deleted, every session of
// the account ends, the owner is e-mailed (with the client address), the
// reset is audited, and the initialisation wizard is opened at step 2 —
// its token is returned. It never logs anyone in.
//
// Errors: ErrCredentials (wrong password or code, a code already spent,
// locked or disabled account: all alike), ErrAddressThrottled, and —
// once the password was right — ErrNotEnrolled when there is no
// authenticator to unlink (the attempt is given back, no code spent).
func (s *Service) RecoverWithCode(ctx context.Context, c Credentials) (string, account.Account, error) {
	a, at, err := s.verifyPassword(ctx, c, ActionTOTPReset)
	if err != nil {
		return "", account.Account{}, err
	}
	ctx, now, ok := at.ctx, s.now(), false
	code, wellFormed := recovery.Normalize(c.Code)
	var token string
	err = s.Store.InTx(ctx, func(tx store.Store) error {
		if _, err := tx.GetAuthenticator(ctx, a.ID); errors.Is(err, store.ErrNotFound) {
			return ErrNotEnrolled
		} else if err != nil {
			return err
		}
		if !wellFormed {
			return nil
		}
		stored, err := tx.UnusedRecoveryCodes(ctx, a.ID)
		if err != nil {
			return err
		}
		match := recovery.Match(stored, recovery.Hash(a.ID, code))
		if match == nil {
			return nil
		}
		if err := tx.UseRecoveryCode(ctx, a.ID, match, now); errors.Is(err, store.ErrNotFound) {
			return nil // spent meanwhile by a simultaneous request
		} else if err != nil {
			return err
		}
		ok = true
		if a, err = s.unlinkDevice(ctx, tx, at, a, "self-service, with a recovery code"); err != nil {
			return err
		}
		if err := s.notify(ctx, tx, a, mail.AuthenticatorRecovered{Name: a.Name, When: now, IP: mailIP(c.Addr)}); err != nil {
			return err
		}
		token, err = s.beginEnrolment(ctx, tx, a, c.Addr)
		return err
	})
	if err != nil && !errors.Is(err, ErrNotEnrolled) {
		ok = false // rolled back: nothing was spent
	}
	if err := s.settle(at, ok, err, "wrong or used recovery code", "no authenticator linked"); err != nil {
		return "", account.Account{}, err
	}
	s.mailSent()
	return token, a, nil
}
