package sqldb

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"sesame/internal/account"
	"sesame/internal/i18n"
	"sesame/internal/store"
)

const accountColumns = `id, type, identifier, name, office_id, role, lang, password_hash,
	question_key, question_text, answer_hash, disabled, failed_attempts, locked_until, last_login, created`

func scanAccount(row interface{ Scan(...any) error }) (account.Account, error) {
	var r accountRow
	if err := row.Scan(r.dest()...); err != nil {
		return account.Account{}, mapErr(err)
	}
	return r.account(), nil
}

// accountRow is what a row of accountColumns is scanned into.
type accountRow struct {
	a                               account.Account
	office                          sql.NullInt64
	typ, role, lang                 string
	lockedUntil, lastLogin, created int64
}

// dest lists the scan destinations of accountColumns, in order.
func (r *accountRow) dest() []any {
	return []any{&r.a.ID, &r.typ, &r.a.Identifier, &r.a.Name, &r.office, &r.role, &r.lang, &r.a.PasswordHash,
		&r.a.QuestionKey, &r.a.QuestionText, &r.a.AnswerHash, &r.a.Disabled, &r.a.FailedAttempts, &r.lockedUntil, &r.lastLogin, &r.created}
}

func (r *accountRow) account() account.Account {
	a := r.a
	a.Type, a.Role, a.Lang = account.Type(r.typ), account.Role(r.role), i18n.Lang(r.lang)
	a.OfficeID = r.office.Int64
	a.LockedUntil, a.LastLogin, a.Created = fromMS(r.lockedUntil), fromMS(r.lastLogin), fromMS(r.created)
	return a
}

// CreateAccount inserts a.
func (s *DB) CreateAccount(ctx context.Context, a *account.Account) error {
	if a.Created.IsZero() {
		return fmt.Errorf("sqldb: CreateAccount: Created must be set by the caller's clock")
	}
	err := s.q.QueryRowContext(ctx, `INSERT INTO accounts (type, identifier, name, office_id, role, lang, password_hash,
		question_key, question_text, answer_hash, disabled, failed_attempts, locked_until, last_login, created)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) RETURNING id`,
		a.Type, a.Identifier, a.Name, nullID(a.OfficeID), a.Role, a.Lang, a.PasswordHash,
		a.QuestionKey, a.QuestionText, a.AnswerHash, a.Disabled, a.FailedAttempts, ms(a.LockedUntil), ms(a.LastLogin), ms(a.Created),
	).Scan(&a.ID)
	return mapErr(err)
}

// GetAccount returns the account with that id.
func (s *DB) GetAccount(ctx context.Context, id int64) (account.Account, error) {
	return scanAccount(s.q.QueryRowContext(ctx, `SELECT `+accountColumns+` FROM accounts WHERE id = $1`, id))
}

// FindAccount returns the account (t, identifier).
func (s *DB) FindAccount(ctx context.Context, t account.Type, identifier string) (account.Account, error) {
	return scanAccount(s.q.QueryRowContext(ctx, `SELECT `+accountColumns+` FROM accounts WHERE type = $1 AND identifier = $2`, t, identifier))
}

// UpdateAccount reads, changes and writes the account in one transaction.
func (s *DB) UpdateAccount(ctx context.Context, id int64, fn func(*account.Account) error) (account.Account, error) {
	var out account.Account
	err := s.inTx(ctx, func(t *DB) error {
		a, err := scanAccount(t.q.QueryRowContext(ctx, `SELECT `+accountColumns+` FROM accounts WHERE id = $1`+t.dialect.forUpdate, id))
		if err != nil {
			return err
		}
		old := a
		if err := fn(&a); err != nil {
			return err
		}
		if a.ID != old.ID || a.Type != old.Type || !a.Created.Equal(old.Created) {
			return fmt.Errorf("sqldb: UpdateAccount may not change id, type or created")
		}
		_, err = t.q.ExecContext(ctx, `UPDATE accounts SET identifier = $1, name = $2, office_id = $3, role = $4, lang = $5,
			password_hash = $6, question_key = $7, question_text = $8, answer_hash = $9, disabled = $10,
			failed_attempts = $11, locked_until = $12, last_login = $13 WHERE id = $14`,
			a.Identifier, a.Name, nullID(a.OfficeID), a.Role, a.Lang, a.PasswordHash, a.QuestionKey, a.QuestionText,
			a.AnswerHash, a.Disabled, a.FailedAttempts, ms(a.LockedUntil), ms(a.LastLogin), a.ID)
		if err != nil {
			return mapErr(err)
		}
		out = a
		return nil
	})
	return out, err
}

// accountPage bounds a page of accounts as store.AccountFilter and
// store.AccountSearch promise: 0 rows asked means 50, at most 200, and no
// negative offset.
func accountPage(limit, offset int) (int, int) {
	if limit <= 0 {
		limit = 50
	}
	return min(limit, 200), max(offset, 0)
}

// ListAccounts returns one page of matching accounts and the total count.
func (s *DB) ListAccounts(ctx context.Context, f store.AccountFilter) ([]account.Account, int, error) {
	var where []string
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	if f.Query != "" {
		p := arg(likePattern(f.Query))
		where = append(where, fmt.Sprintf(`(identifier LIKE %s ESCAPE '\' OR lower(name) LIKE %s ESCAPE '\')`, p, p))
	}
	if f.OfficeID != 0 {
		where = append(where, "office_id = "+arg(f.OfficeID))
	}
	if f.Type != "" {
		where = append(where, "type = "+arg(f.Type))
	}
	cond := ""
	if len(where) > 0 {
		cond = " WHERE " + strings.Join(where, " AND ")
	}
	var total int
	if err := s.q.QueryRowContext(ctx, `SELECT count(*) FROM accounts`+cond, args...).Scan(&total); err != nil {
		return nil, 0, mapErr(err)
	}
	limit, offset := accountPage(f.Limit, f.Offset)
	rows, err := s.q.QueryContext(ctx, `SELECT `+accountColumns+` FROM accounts`+cond+
		` ORDER BY identifier, id LIMIT `+arg(limit)+` OFFSET `+arg(offset), args...)
	if err != nil {
		return nil, 0, mapErr(err)
	}
	defer rows.Close()
	var list []account.Account
	for rows.Next() {
		a, err := scanAccount(rows)
		if err != nil {
			return nil, 0, err
		}
		list = append(list, a)
	}
	return list, total, mapErr(rows.Err())
}

// CreateOffice inserts o.
func (s *DB) CreateOffice(ctx context.Context, o *account.Office) error {
	return mapErr(s.q.QueryRowContext(ctx, `INSERT INTO offices (name, created) VALUES ($1, $2) RETURNING id`,
		o.Name, ms(o.Created)).Scan(&o.ID))
}

func scanOffice(row interface{ Scan(...any) error }) (account.Office, error) {
	var o account.Office
	var created int64
	if err := row.Scan(&o.ID, &o.Name, &created); err != nil {
		return account.Office{}, mapErr(err)
	}
	o.Created = fromMS(created)
	return o, nil
}

// GetOffice returns the office with that id.
func (s *DB) GetOffice(ctx context.Context, id int64) (account.Office, error) {
	return scanOffice(s.q.QueryRowContext(ctx, `SELECT id, name, created FROM offices WHERE id = $1`, id))
}

// FindOffice returns the office with that name.
func (s *DB) FindOffice(ctx context.Context, name string) (account.Office, error) {
	return scanOffice(s.q.QueryRowContext(ctx, `SELECT id, name, created FROM offices WHERE name = $1`, name))
}

// ListOffices returns every office by name.
func (s *DB) ListOffices(ctx context.Context) ([]account.Office, error) {
	rows, err := s.q.QueryContext(ctx, `SELECT id, name, created FROM offices ORDER BY name, id`)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	var list []account.Office
	for rows.Next() {
		o, err := scanOffice(rows)
		if err != nil {
			return nil, err
		}
		list = append(list, o)
	}
	return list, mapErr(rows.Err())
}
