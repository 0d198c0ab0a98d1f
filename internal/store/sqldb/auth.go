package sqldb

import (
	"context"
	"errors"
	"strings"
	"time"

	"sesame/internal/account"
	"sesame/internal/enrol"
	"sesame/internal/store"
)

// LinkAuthenticator stores the account's authenticator.
func (s *DB) LinkAuthenticator(ctx context.Context, a store.Authenticator) error {
	_, err := s.q.ExecContext(ctx, `INSERT INTO authenticators (account_id, secret, linked, last_step) VALUES ($1, $2, $3, $4)`,
		a.AccountID, a.Secret, ms(a.Linked), a.LastStep)
	return mapErr(err)
}

// GetAuthenticator returns the account's authenticator.
func (s *DB) GetAuthenticator(ctx context.Context, accountID int64) (store.Authenticator, error) {
	a := store.Authenticator{AccountID: accountID}
	var linked int64
	err := s.q.QueryRowContext(ctx, `SELECT secret, linked, last_step FROM authenticators WHERE account_id = $1`, accountID).
		Scan(&a.Secret, &linked, &a.LastStep)
	if err != nil {
		return store.Authenticator{}, mapErr(err)
	}
	a.Linked = fromMS(linked)
	return a, nil
}

// UnlinkAuthenticator removes the account's authenticator.
func (s *DB) UnlinkAuthenticator(ctx context.Context, accountID int64) error {
	res, err := s.q.ExecContext(ctx, `DELETE FROM authenticators WHERE account_id = $1`, accountID)
	return affected(res, err)
}

// UseTOTPStep records step as used if it is later than the last one: one
// conditional UPDATE, so two instances racing with the same code cannot both
// succeed.
func (s *DB) UseTOTPStep(ctx context.Context, accountID int64, step int64) error {
	res, err := s.q.ExecContext(ctx, `UPDATE authenticators SET last_step = $1 WHERE account_id = $2 AND last_step < $1`, step, accountID)
	if err = affected(res, err); !errors.Is(err, store.ErrNotFound) {
		return err
	}
	// Nothing updated: either there is no authenticator or the step was used.
	if _, gerr := s.GetAuthenticator(ctx, accountID); gerr != nil {
		return gerr
	}
	return store.ErrReplayed
}

// ReplaceRecoveryCodes stores a new set of recovery-code hashes.
func (s *DB) ReplaceRecoveryCodes(ctx context.Context, accountID int64, hashes [][]byte, now time.Time) error {
	return s.inTx(ctx, func(t *DB) error {
		if _, err := t.q.ExecContext(ctx, `DELETE FROM recovery_codes WHERE account_id = $1`, accountID); err != nil {
			return mapErr(err)
		}
		for _, h := range hashes {
			if _, err := t.q.ExecContext(ctx, `INSERT INTO recovery_codes (account_id, hash, created) VALUES ($1, $2, $3)`,
				accountID, h, ms(now)); err != nil {
				return mapErr(err)
			}
		}
		if len(hashes) == 0 {
			// Say ErrNotFound for a missing account even with nothing to insert.
			var one int
			return mapErr(t.q.QueryRowContext(ctx, `SELECT 1 FROM accounts WHERE id = $1`, accountID).Scan(&one))
		}
		return nil
	})
}

// UnusedRecoveryCodes returns the hashes of the account's unused codes.
func (s *DB) UnusedRecoveryCodes(ctx context.Context, accountID int64) ([][]byte, error) {
	rows, err := s.q.QueryContext(ctx, `SELECT hash FROM recovery_codes WHERE account_id = $1 AND used = 0`, accountID)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	out := [][]byte{}
	for rows.Next() {
		var h []byte
		if err := rows.Scan(&h); err != nil {
			return nil, mapErr(err)
		}
		out = append(out, h)
	}
	return out, mapErr(rows.Err())
}

// UseRecoveryCode spends a code with one conditional UPDATE: two instances
// racing with the same code cannot both change the row.
func (s *DB) UseRecoveryCode(ctx context.Context, accountID int64, hash []byte, now time.Time) error {
	res, err := s.q.ExecContext(ctx, `UPDATE recovery_codes SET used = $1 WHERE account_id = $2 AND hash = $3 AND used = 0`,
		ms(now), accountID, hash)
	return affected(res, err)
}

// DeleteRecoveryCodes removes the account's codes.
func (s *DB) DeleteRecoveryCodes(ctx context.Context, accountID int64) (int, error) {
	res, err := s.q.ExecContext(ctx, `DELETE FROM recovery_codes WHERE account_id = $1`, accountID)
	return count(res, err)
}

func affected(res interface{ RowsAffected() (int64, error) }, err error) error {
	if err != nil {
		return mapErr(err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return store.ErrNotFound
	}
	return nil
}

// CreateSession inserts a session.
func (s *DB) CreateSession(ctx context.Context, ss store.Session) error {
	_, err := s.q.ExecContext(ctx, `INSERT INTO sessions (id_hash, account_id, amr, created, last_seen, last_otp, addr, user_agent)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		ss.IDHash, ss.AccountID, strings.Join(ss.AMR, " "), ms(ss.Created), ms(ss.LastSeen), ms(ss.LastOTP), ss.Addr, ss.UserAgent)
	return mapErr(err)
}

// GetSession returns the session.
func (s *DB) GetSession(ctx context.Context, idHash []byte) (store.Session, error) {
	ss := store.Session{IDHash: idHash}
	var amr string
	var created, seen, otp int64
	err := s.q.QueryRowContext(ctx, `SELECT account_id, amr, created, last_seen, last_otp, addr, user_agent FROM sessions WHERE id_hash = $1`, idHash).
		Scan(&ss.AccountID, &amr, &created, &seen, &otp, &ss.Addr, &ss.UserAgent)
	if err != nil {
		return store.Session{}, mapErr(err)
	}
	ss.AMR = strings.Fields(amr)
	ss.Created, ss.LastSeen, ss.LastOTP = fromMS(created), fromMS(seen), fromMS(otp)
	return ss, nil
}

// sessionAccountQuery reads a session and its account in one statement:
// the accounts' columns qualified with the table's alias.
// The office's name, whether an authenticator is linked and how many
// recovery codes are left come along (two primary-key look-ups), so a page
// that shows them needs no second query.
var sessionAccountQuery = `SELECT s.account_id, s.amr, s.created, s.last_seen, s.last_otp, s.addr, s.user_agent, COALESCE(o.name, ''),
	EXISTS (SELECT 1 FROM authenticators t WHERE t.account_id = s.account_id),
	(SELECT COUNT(*) FROM recovery_codes c WHERE c.account_id = s.account_id AND c.used = 0), ` +
	"a." + strings.Join(strings.Split(strings.Join(strings.Fields(accountColumns), " "), ", "), ", a.") +
	` FROM sessions s JOIN accounts a ON a.id = s.account_id LEFT JOIN offices o ON o.id = a.office_id WHERE s.id_hash = $1`

// GetSessionAccount returns the session and its account, and the name of
// the account's office, in one query.
func (s *DB) GetSessionAccount(ctx context.Context, idHash []byte) (store.Session, account.Account, error) {
	ss := store.Session{IDHash: idHash}
	var amr string
	var created, seen, otp int64
	var r accountRow
	dest := append([]any{&ss.AccountID, &amr, &created, &seen, &otp, &ss.Addr, &ss.UserAgent, &ss.OfficeName, &ss.Linked, &ss.CodesLeft}, r.dest()...)
	if err := s.q.QueryRowContext(ctx, sessionAccountQuery, idHash).Scan(dest...); err != nil {
		return store.Session{}, account.Account{}, mapErr(err)
	}
	ss.AMR = strings.Fields(amr)
	ss.Created, ss.LastSeen, ss.LastOTP = fromMS(created), fromMS(seen), fromMS(otp)
	return ss, r.account(), nil
}

// TouchSession records activity (and a fresh TOTP verification).
func (s *DB) TouchSession(ctx context.Context, idHash []byte, seen, otp time.Time) error {
	res, err := s.q.ExecContext(ctx, `UPDATE sessions SET last_seen = $1, last_otp = CASE WHEN CAST($2 AS BIGINT) > 0 THEN CAST($2 AS BIGINT) ELSE last_otp END WHERE id_hash = $3`,
		ms(seen), ms(otp), idHash)
	return affected(res, err)
}

// DeleteSession ends a session.
func (s *DB) DeleteSession(ctx context.Context, idHash []byte) error {
	_, err := s.q.ExecContext(ctx, `DELETE FROM sessions WHERE id_hash = $1`, idHash)
	return mapErr(err)
}

// DeleteAccountSessions ends the account's sessions but keep.
func (s *DB) DeleteAccountSessions(ctx context.Context, accountID int64, keep []byte) (int, error) {
	if keep == nil {
		keep = []byte{}
	}
	res, err := s.q.ExecContext(ctx, `DELETE FROM sessions WHERE account_id = $1 AND id_hash <> $2`, accountID, keep)
	return count(res, err)
}

// DeleteSessionsBefore removes idle and too old sessions.
func (s *DB) DeleteSessionsBefore(ctx context.Context, idle, absolute time.Time) (int, error) {
	res, err := s.q.ExecContext(ctx, `DELETE FROM sessions WHERE last_seen < $1 OR created < $2`, ms(idle), ms(absolute))
	return count(res, err)
}

func count(res interface{ RowsAffected() (int64, error) }, err error) (int, error) {
	if err != nil {
		return 0, mapErr(err)
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// CreateEnrolment inserts a wizard record, replacing the account's other
// one in the same statement (the unique index on account_id).
func (s *DB) CreateEnrolment(ctx context.Context, e enrol.Enrolment) error {
	_, err := s.q.ExecContext(ctx, `INSERT INTO enrolments (id_hash, account_id, state, secret, tries_left, created, expires,
			question_key, question_text, answer_hash, codes)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
		ON CONFLICT (account_id) DO UPDATE SET id_hash = excluded.id_hash, state = excluded.state, secret = excluded.secret,
			tries_left = excluded.tries_left, created = excluded.created, expires = excluded.expires,
			question_key = excluded.question_key, question_text = excluded.question_text, answer_hash = excluded.answer_hash,
			codes = excluded.codes`,
		e.IDHash, e.AccountID, e.State, e.Secret, e.TriesLeft, ms(e.Created), ms(e.Expires), e.QuestionKey, e.QuestionText, e.AnswerHash, e.Codes)
	return mapErr(err)
}

const enrolmentColumns = `account_id, state, secret, tries_left, created, expires, question_key, question_text, answer_hash, codes`

func scanEnrolment(row interface{ Scan(...any) error }, idHash []byte) (enrol.Enrolment, error) {
	e := enrol.Enrolment{IDHash: idHash}
	var state string
	var created, expires int64
	if err := row.Scan(&e.AccountID, &state, &e.Secret, &e.TriesLeft, &created, &expires, &e.QuestionKey, &e.QuestionText, &e.AnswerHash, &e.Codes); err != nil {
		return enrol.Enrolment{}, mapErr(err)
	}
	e.State, e.Created, e.Expires = enrol.State(state), fromMS(created), fromMS(expires)
	return e, nil
}

// GetEnrolment returns a wizard record.
func (s *DB) GetEnrolment(ctx context.Context, idHash []byte) (enrol.Enrolment, error) {
	return scanEnrolment(s.q.QueryRowContext(ctx, `SELECT `+enrolmentColumns+` FROM enrolments WHERE id_hash = $1`, idHash), idHash)
}

// UpdateEnrolment changes a wizard record atomically.
func (s *DB) UpdateEnrolment(ctx context.Context, idHash []byte, fn func(*enrol.Enrolment) error) (enrol.Enrolment, error) {
	var out enrol.Enrolment
	err := s.inTx(ctx, func(t *DB) error {
		e, err := scanEnrolment(t.q.QueryRowContext(ctx, `SELECT `+enrolmentColumns+` FROM enrolments WHERE id_hash = $1`+t.dialect.forUpdate, idHash), idHash)
		if err != nil {
			return err
		}
		if err := fn(&e); err != nil {
			return err
		}
		_, err = t.q.ExecContext(ctx, `UPDATE enrolments SET state = $1, secret = $2, tries_left = $3, expires = $4,
			question_key = $5, question_text = $6, answer_hash = $7, codes = $8 WHERE id_hash = $9`,
			e.State, e.Secret, e.TriesLeft, ms(e.Expires), e.QuestionKey, e.QuestionText, e.AnswerHash, e.Codes, idHash)
		out = e
		return mapErr(err)
	})
	return out, err
}

// DeleteEnrolment removes a wizard record.
func (s *DB) DeleteEnrolment(ctx context.Context, idHash []byte) error {
	_, err := s.q.ExecContext(ctx, `DELETE FROM enrolments WHERE id_hash = $1`, idHash)
	return mapErr(err)
}

// DeleteEnrolmentsBefore removes expired wizard records.
func (s *DB) DeleteEnrolmentsBefore(ctx context.Context, t time.Time) (int, error) {
	res, err := s.q.ExecContext(ctx, `DELETE FROM enrolments WHERE expires < $1`, ms(t))
	return count(res, err)
}

// AddAddressFailure counts a failure in key's window with one upsert.
func (s *DB) AddAddressFailure(ctx context.Context, key string, now time.Time, window time.Duration) (int, error) {
	var n int
	start := ms(now.Add(-window))
	err := s.q.QueryRowContext(ctx, `INSERT INTO address_failures (key, window_start, count) VALUES ($1, $2, 1)
		ON CONFLICT (key) DO UPDATE SET
			count = CASE WHEN address_failures.window_start <= $3 THEN 1 ELSE address_failures.count + 1 END,
			window_start = CASE WHEN address_failures.window_start <= $3 THEN excluded.window_start ELSE address_failures.window_start END
		RETURNING count`, key, ms(now), start).Scan(&n)
	return n, mapErr(err)
}

// ReserveAddressAttempt counts an attempt only while the window's count is
// under limit: the upsert's WHERE decides and counts in one statement, so
// concurrent requests (on any instance) cannot all pass a stale check.
// RETURNING gives no row when the WHERE refused the update.
func (s *DB) ReserveAddressAttempt(ctx context.Context, key string, now time.Time, window time.Duration, limit int) (bool, error) {
	if limit < 1 {
		return false, nil
	}
	var n int
	err := s.q.QueryRowContext(ctx, `INSERT INTO address_failures (key, window_start, count) VALUES ($1, $2, 1)
		ON CONFLICT (key) DO UPDATE SET
			count = CASE WHEN address_failures.window_start <= $3 THEN 1 ELSE address_failures.count + 1 END,
			window_start = CASE WHEN address_failures.window_start <= $3 THEN excluded.window_start ELSE address_failures.window_start END
		WHERE address_failures.window_start <= $3 OR address_failures.count < $4
		RETURNING count`, key, ms(now), ms(now.Add(-window)), limit).Scan(&n)
	if err = mapErr(err); errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// ReleaseAddressAttempt gives one attempt back in key's live window.
func (s *DB) ReleaseAddressAttempt(ctx context.Context, key string, now time.Time, window time.Duration) error {
	_, err := s.q.ExecContext(ctx, `UPDATE address_failures SET count = count - 1 WHERE key = $1 AND window_start > $2 AND count > 0`,
		key, ms(now.Add(-window)))
	return mapErr(err)
}

// DeleteAddressFailuresBefore removes counters of windows started before t.
func (s *DB) DeleteAddressFailuresBefore(ctx context.Context, t time.Time) (int, error) {
	res, err := s.q.ExecContext(ctx, `DELETE FROM address_failures WHERE window_start < $1`, ms(t))
	return count(res, err)
}
