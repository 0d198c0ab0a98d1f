package sqldb

import (
	"context"
	"fmt"
	"strings"
	"time"

	"sesame/internal/account"
	"sesame/internal/store"
)

const helpColumns = `r.id, r.account_id, r.kind, r.message, r.addr, r.created, r.closed, r.closed_by, r.closed_action`

// helpScan scans a request's columns.
func helpScan(row interface{ Scan(...any) error }, r *store.HelpRequest) error {
	var created, closed int64
	if err := row.Scan(&r.ID, &r.AccountID, &r.Kind, &r.Message, &r.Addr, &created, &closed, &r.ClosedBy, &r.ClosedAction); err != nil {
		return mapErr(err)
	}
	r.Created, r.Closed = fromMS(created), fromMS(closed)
	return nil
}

// CreateHelpRequest inserts a request.
func (s *DB) CreateHelpRequest(ctx context.Context, r *store.HelpRequest) error {
	err := s.q.QueryRowContext(ctx, `INSERT INTO help_requests (account_id, kind, message, addr, created, closed, closed_by, closed_action)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
		r.AccountID, r.Kind, r.Message, r.Addr, ms(r.Created), ms(r.Closed), r.ClosedBy, r.ClosedAction).Scan(&r.ID)
	return mapErr(err)
}

// GetHelpRequest returns a request.
func (s *DB) GetHelpRequest(ctx context.Context, id int64) (store.HelpRequest, error) {
	var r store.HelpRequest
	err := helpScan(s.q.QueryRowContext(ctx, `SELECT `+helpColumns+` FROM help_requests r WHERE r.id = $1`, id), &r)
	return r, err
}

// ListHelpRequests returns one page of requests with their accounts.
func (s *DB) ListHelpRequests(ctx context.Context, f store.HelpRequestFilter) ([]store.HelpRequestSummary, int, error) {
	var where []string
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	if f.OfficeID != 0 {
		where = append(where, "a.office_id = "+arg(f.OfficeID))
	}
	if f.HideStaff {
		where = append(where, "a.type <> 'group' AND a.role <> 'support'")
	}
	if f.Open {
		where = append(where, "r.closed = 0")
	}
	if f.AccountID != 0 {
		where = append(where, "r.account_id = "+arg(f.AccountID))
	}
	cond := ""
	if len(where) > 0 {
		cond = " WHERE " + strings.Join(where, " AND ")
	}
	from := ` FROM help_requests r JOIN accounts a ON a.id = r.account_id`
	var total int
	if err := s.q.QueryRowContext(ctx, `SELECT count(*)`+from+cond, args...).Scan(&total); err != nil {
		return nil, 0, mapErr(err)
	}
	limit, offset := accountPage(f.Limit, f.Offset)
	rows, err := s.q.QueryContext(ctx, `SELECT `+helpColumns+`, `+adminAccountColumns+`, coalesce(o.name, ''), au.account_id IS NOT NULL`+from+`
		LEFT JOIN offices o ON o.id = a.office_id
		LEFT JOIN authenticators au ON au.account_id = a.id`+cond+
		` ORDER BY r.id DESC LIMIT `+arg(limit)+` OFFSET `+arg(offset), args...)
	if err != nil {
		return nil, 0, mapErr(err)
	}
	defer rows.Close()
	var list []store.HelpRequestSummary
	for rows.Next() {
		var sum store.HelpRequestSummary
		var created, closed int64
		var ar accountRow
		dest := []any{&sum.ID, &sum.AccountID, &sum.Kind, &sum.Message, &sum.Addr, &created, &closed, &sum.ClosedBy, &sum.ClosedAction}
		dest = append(append(dest, ar.dest()...), &sum.OfficeName, &sum.Linked)
		if err := rows.Scan(dest...); err != nil {
			return nil, 0, mapErr(err)
		}
		sum.Created, sum.Closed, sum.Account = fromMS(created), fromMS(closed), ar.account()
		list = append(list, sum)
	}
	return list, total, mapErr(rows.Err())
}

// CloseHelpRequests closes the account's open requests of a kind.
func (s *DB) CloseHelpRequests(ctx context.Context, accountID int64, kind string, now time.Time, by, action string) (int, error) {
	res, err := s.q.ExecContext(ctx, `UPDATE help_requests SET closed = $1, closed_by = $2, closed_action = $3
		WHERE account_id = $4 AND kind = $5 AND closed = 0`, ms(now), by, action, accountID, kind)
	return count(res, err)
}

// ListAdministrators returns who an office's requests go to.
func (s *DB) ListAdministrators(ctx context.Context, officeID int64) ([]account.Account, error) {
	q := `SELECT ` + accountColumns + ` FROM accounts WHERE role = 'support' AND type = 'group' AND NOT disabled ORDER BY identifier LIMIT 50`
	args := []any{}
	if officeID != 0 {
		q = `SELECT ` + accountColumns + ` FROM accounts WHERE office_id = $1 AND role = 'office_admin' AND type = 'tiers' AND NOT disabled ORDER BY identifier LIMIT 50`
		args = append(args, officeID)
	}
	rows, err := s.q.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	var list []account.Account
	for rows.Next() {
		a, err := scanAccount(rows)
		if err != nil {
			return nil, err
		}
		list = append(list, a)
	}
	return list, mapErr(rows.Err())
}
