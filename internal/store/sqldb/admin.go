package sqldb

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"

	"sesame/internal/store"
)

// adminAccountColumns is accountColumns qualified with the accounts table's
// alias, since the search joins offices (which has id, name and created too).
var adminAccountColumns = func() string {
	cols := strings.Split(accountColumns, ",")
	for i, c := range cols {
		cols[i] = "a." + strings.TrimSpace(c)
	}
	return strings.Join(cols, ", ")
}()

// withExtra scans a row's account columns and then extra columns after them.
type withExtra struct {
	row   interface{ Scan(...any) error }
	extra []any
}

func (w withExtra) Scan(dest ...any) error { return w.row.Scan(append(dest, w.extra...)...) }

// minTrigram is the shortest query the trigram index can answer; shorter
// ones fall back to a scan (they match so much that the scan stops early
// at the page's end anyway, except for the count).
const minTrigram = 3

// SearchAccounts returns one page of matching accounts and the total count.
func (s *DB) SearchAccounts(ctx context.Context, f store.AccountSearch) ([]store.AccountSummary, int, error) {
	var where []string
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	if q := strings.TrimSpace(f.Query); q != "" {
		like := arg(likePattern(q))
		officesOnly := `office_id IN (SELECT id FROM offices WHERE lower(name) LIKE ` + like + ` ESCAPE '\')`
		switch {
		case s.dialect.name == "sqlite" && utf8.RuneCountInString(q) >= minTrigram && f.OfficeID == 0:
			// Within one office (an office administrator's search) the
			// office index narrows the rows to a few hundred first, which
			// beats a broad trigram match ("ssens" matching half the base).
			// A double-quoted FTS5 string is matched literally: only the
			// quote itself needs escaping (by doubling).
			// The union (rather than an OR) lets SQLite look the matches up
			// by rowid instead of testing every account.
			phrase := arg(`"` + strings.ReplaceAll(q, `"`, `""`) + `"`)
			where = append(where, `a.id IN (SELECT rowid FROM accounts_search WHERE accounts_search MATCH `+phrase+
				` UNION SELECT id FROM accounts WHERE `+officesOnly+`)`)
		default:
			// Identifiers are stored in lower case; names are not.
			where = append(where, `(a.identifier LIKE `+like+` ESCAPE '\' OR lower(a.name) LIKE `+like+` ESCAPE '\' OR a.`+officesOnly+`)`)
		}
	}
	if f.OfficeID != 0 {
		where = append(where, "a.office_id = "+arg(f.OfficeID))
	}
	if f.Type != "" {
		where = append(where, "a.type = "+arg(f.Type))
	}
	if f.HideStaff {
		where = append(where, "a.type <> 'group' AND a.role <> 'support'")
	}
	cond := ""
	if len(where) > 0 {
		cond = " WHERE " + strings.Join(where, " AND ")
	}
	var total int
	if err := s.q.QueryRowContext(ctx, `SELECT count(*) FROM accounts a`+cond, args...).Scan(&total); err != nil {
		return nil, 0, mapErr(err)
	}
	limit, offset := accountPage(f.Limit, f.Offset)
	rows, err := s.q.QueryContext(ctx, `SELECT `+adminAccountColumns+`, coalesce(o.name, ''), au.account_id IS NOT NULL
		FROM accounts a
		LEFT JOIN offices o ON o.id = a.office_id
		LEFT JOIN authenticators au ON au.account_id = a.id`+cond+
		` ORDER BY a.identifier, a.id LIMIT `+arg(limit)+` OFFSET `+arg(offset), args...)
	if err != nil {
		return nil, 0, mapErr(err)
	}
	defer rows.Close()
	var list []store.AccountSummary
	for rows.Next() {
		var sum store.AccountSummary
		sum.Account, err = scanAccount(withExtra{rows, []any{&sum.OfficeName, &sum.Linked}})
		if err != nil {
			return nil, 0, err
		}
		list = append(list, sum)
	}
	return list, total, mapErr(rows.Err())
}
