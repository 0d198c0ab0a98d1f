package sqldb

import (
	"context"
	"fmt"
	"strings"
	"time"

	"sesame/internal/i18n"
	"sesame/internal/mail"
	"sesame/internal/store"
)

// AppendAudit adds one event to the audit log.
func (s *DB) AppendAudit(ctx context.Context, e store.AuditEvent) error {
	_, err := s.q.ExecContext(ctx, `INSERT INTO audit (time, actor_id, actor, subject_id, subject, office_id, action, outcome, addr, detail)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		ms(e.Time), e.ActorID, e.Actor, e.SubjectID, e.Subject, e.OfficeID, e.Action, e.Outcome, e.Addr, e.Detail)
	return mapErr(err)
}

// ListAudit returns matching events, newest first.
func (s *DB) ListAudit(ctx context.Context, f store.AuditFilter) ([]store.AuditEvent, error) {
	var where []string
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	if f.SubjectID != 0 {
		where = append(where, "subject_id = "+arg(f.SubjectID))
	}
	if f.OfficeID != 0 {
		where = append(where, "office_id = "+arg(f.OfficeID))
	}
	if !f.From.IsZero() {
		where = append(where, "time >= "+arg(ms(f.From)))
	}
	if !f.To.IsZero() {
		where = append(where, "time < "+arg(ms(f.To)))
	}
	if f.BeforeID != 0 {
		where = append(where, "id < "+arg(f.BeforeID))
	}
	cond := ""
	if len(where) > 0 {
		cond = " WHERE " + strings.Join(where, " AND ")
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	limit = min(limit, 1000)
	rows, err := s.q.QueryContext(ctx, `SELECT id, time, actor_id, actor, subject_id, subject, office_id, action, outcome, addr, detail
		FROM audit`+cond+` ORDER BY id DESC LIMIT `+arg(limit), args...)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	var list []store.AuditEvent
	for rows.Next() {
		var e store.AuditEvent
		var t int64
		if err := rows.Scan(&e.ID, &t, &e.ActorID, &e.Actor, &e.SubjectID, &e.Subject, &e.OfficeID, &e.Action, &e.Outcome, &e.Addr, &e.Detail); err != nil {
			return nil, mapErr(err)
		}
		e.Time = fromMS(t)
		list = append(list, e)
	}
	return list, mapErr(rows.Err())
}

// EnqueueMail adds a message to the outbox, due at now.
func (s *DB) EnqueueMail(ctx context.Context, m mail.Message, now time.Time) (int64, error) {
	if err := m.Validate(); err != nil {
		return 0, err
	}
	var id int64
	err := s.q.QueryRowContext(ctx, `INSERT INTO mail_outbox (kind, to_name, to_email, lang, subject, text_body, html_body, created, next_attempt)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING id`,
		m.Kind, m.To.Name, m.To.Email, m.Lang, m.Subject, m.Text, m.HTML, ms(now)).Scan(&id)
	return id, mapErr(err)
}

// ClaimMail leases due messages. On PostgreSQL the SELECT skips rows that
// another instance is claiming; on SQLite the write transaction is exclusive.
func (s *DB) ClaimMail(ctx context.Context, now time.Time, lease time.Duration, n int) ([]mail.Queued, error) {
	var list []mail.Queued
	err := s.inTx(ctx, func(t *DB) error {
		rows, err := t.q.QueryContext(ctx, `SELECT id, attempts, kind, to_name, to_email, lang, subject, text_body, html_body
			FROM mail_outbox WHERE sent = 0 AND NOT failed AND next_attempt <= $1 AND leased_until <= $1
			ORDER BY next_attempt, id LIMIT $2`+t.dialect.skipLock, ms(now), n)
		if err != nil {
			return mapErr(err)
		}
		defer rows.Close()
		for rows.Next() {
			var q mail.Queued
			var lang string
			if err := rows.Scan(&q.ID, &q.Attempts, &q.Kind, &q.To.Name, &q.To.Email, &lang, &q.Subject, &q.Text, &q.HTML); err != nil {
				return mapErr(err)
			}
			q.Lang = i18n.Lang(lang)
			list = append(list, q)
		}
		if err := rows.Err(); err != nil {
			return mapErr(err)
		}
		rows.Close()
		for _, q := range list {
			if _, err := t.q.ExecContext(ctx, `UPDATE mail_outbox SET leased_until = $1 WHERE id = $2`, ms(now.Add(lease)), q.ID); err != nil {
				return mapErr(err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return list, nil
}

// MarkMailSent records a delivery; a row already sent stays as it was. The
// bodies are cleared: a delivered reset link must not stay in the database.
func (s *DB) MarkMailSent(ctx context.Context, id int64, now time.Time) error {
	res, err := s.q.ExecContext(ctx, `UPDATE mail_outbox SET sent = CASE WHEN sent = 0 THEN $1 ELSE sent END, leased_until = 0,
		text_body = '', html_body = '' WHERE id = $2`, ms(now), id)
	return affected(res, err)
}

// RetryMail records a failed attempt.
func (s *DB) RetryMail(ctx context.Context, id int64, next time.Time, lastErr string, giveUp bool) error {
	res, err := s.q.ExecContext(ctx, `UPDATE mail_outbox SET attempts = attempts + 1, next_attempt = $1, leased_until = 0,
		last_error = $2, failed = $3,
		text_body = CASE WHEN $3 THEN '' ELSE text_body END, html_body = CASE WHEN $3 THEN '' ELSE html_body END
		WHERE id = $4 AND sent = 0`, ms(next), lastErr, giveUp, id)
	if err := affected(res, err); err != nil {
		// A row already sent is left alone; only an unknown id is an error.
		var sent int64
		if serr := s.q.QueryRowContext(ctx, `SELECT sent FROM mail_outbox WHERE id = $1`, id).Scan(&sent); serr != nil {
			return mapErr(serr)
		}
	}
	return nil
}
