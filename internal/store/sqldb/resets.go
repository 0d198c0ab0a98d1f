package sqldb

import (
	"context"
	"time"

	"sesame/internal/store"
)

// CreatePasswordReset stores a reset link, deleting the account's older ones
// in the same transaction.
func (s *DB) CreatePasswordReset(ctx context.Context, r store.PasswordReset) error {
	return s.inTx(ctx, func(t *DB) error {
		// Run for decoys too (NULL matches no row), so that both cost the same.
		if _, err := t.q.ExecContext(ctx, `DELETE FROM password_resets WHERE account_id = $1 AND token_hash <> $2`, nullID(r.AccountID), r.TokenHash); err != nil {
			return mapErr(err)
		}
		_, err := t.q.ExecContext(ctx, `INSERT INTO password_resets (token_hash, account_id, created, expires, tries_left)
			VALUES ($1, $2, $3, $4, $5)`, r.TokenHash, nullID(r.AccountID), ms(r.Created), ms(r.Expires), r.TriesLeft)
		return mapErr(err)
	})
}

const resetColumns = `account_id, created, expires, tries_left`

func scanReset(row interface{ Scan(...any) error }, tokenHash []byte) (store.PasswordReset, error) {
	r := store.PasswordReset{TokenHash: tokenHash}
	var account *int64
	var created, expires int64
	if err := row.Scan(&account, &created, &expires, &r.TriesLeft); err != nil {
		return store.PasswordReset{}, mapErr(err)
	}
	if account != nil {
		r.AccountID = *account
	}
	r.Created, r.Expires = fromMS(created), fromMS(expires)
	return r, nil
}

// GetPasswordReset returns a reset link by its token's hash.
func (s *DB) GetPasswordReset(ctx context.Context, tokenHash []byte) (store.PasswordReset, error) {
	return scanReset(s.q.QueryRowContext(ctx, `SELECT `+resetColumns+` FROM password_resets WHERE token_hash = $1`, tokenHash), tokenHash)
}

// UpdatePasswordReset changes a reset link's tries and expiry atomically.
func (s *DB) UpdatePasswordReset(ctx context.Context, tokenHash []byte, fn func(*store.PasswordReset) error) (store.PasswordReset, error) {
	var out store.PasswordReset
	err := s.inTx(ctx, func(t *DB) error {
		r, err := scanReset(t.q.QueryRowContext(ctx, `SELECT `+resetColumns+` FROM password_resets WHERE token_hash = $1`+t.dialect.forUpdate, tokenHash), tokenHash)
		if err != nil {
			return err
		}
		if err := fn(&r); err != nil {
			return err
		}
		_, err = t.q.ExecContext(ctx, `UPDATE password_resets SET tries_left = $1, expires = $2 WHERE token_hash = $3`,
			r.TriesLeft, ms(r.Expires), tokenHash)
		out = r
		return mapErr(err)
	})
	return out, err
}

// DeletePasswordReset uses up a link: ErrNotFound if it was already gone.
func (s *DB) DeletePasswordReset(ctx context.Context, tokenHash []byte) error {
	res, err := s.q.ExecContext(ctx, `DELETE FROM password_resets WHERE token_hash = $1`, tokenHash)
	return affected(res, err)
}

// DeleteAccountPasswordResets removes every link of the account.
func (s *DB) DeleteAccountPasswordResets(ctx context.Context, accountID int64) (int, error) {
	res, err := s.q.ExecContext(ctx, `DELETE FROM password_resets WHERE account_id = $1`, accountID)
	return count(res, err)
}

// DeletePasswordResetsBefore removes links that expired before t.
func (s *DB) DeletePasswordResetsBefore(ctx context.Context, t time.Time) (int, error) {
	res, err := s.q.ExecContext(ctx, `DELETE FROM password_resets WHERE expires < $1`, ms(t))
	return count(res, err)
}
