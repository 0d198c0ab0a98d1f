package auth

import (
	"context"
	"errors"
	"strconv"

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

// RecoveryCodesLeft returns how many unused recovery codes the account has.
func (s *Service) RecoveryCodesLeft(ctx context.Context, accountID int64) (int, error) {
	list, err := s.Store.UnusedRecoveryCodes(ctx, accountID)
	return len(list), err
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
	a, err := s.Store.GetAccount(ctx, accountID)
	if err != nil {
		return nil, err
	}
	at, err := s.reserve(ctx, a, addr, ActionRecoveryCodesNew)
	if err != nil {
		return nil, err
	}
	ctx, now, ok := at.ctx, s.now(), false
	codes := recovery.Generate()
	err = s.Store.InTx(ctx, func(tx store.Store) error {
		if ok, err = s.verifyCode(ctx, tx, a, code); err != nil || !ok {
			return err
		}
		if err := tx.TouchSession(ctx, sessionHash, now, now); errors.Is(err, store.ErrNotFound) {
			return ErrNoSession
		} else if err != nil {
			return err
		}
		if err := tx.ReplaceRecoveryCodes(ctx, a.ID, recoveryHashes(a.ID, codes), now); err != nil {
			return err
		}
		if a, err = at.succeeded(tx, false); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, store.AuditEvent{Time: now, ActorID: a.ID, Actor: a.Identifier, SubjectID: a.ID, Subject: a.Identifier,
			OfficeID: a.OfficeID, Action: ActionRecoveryCodesNew, Outcome: OutcomeSuccess, Addr: addr, Detail: "the old set revoked"})
	})
	if errors.Is(err, ErrNoSession) {
		at.release()
		return nil, ErrNoSession
	}
	if err := s.settle(at, ok, err, "wrong or reused code", "no authenticator linked"); err != nil {
		return nil, err
	}
	return codes, nil
}
