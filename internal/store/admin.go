package store

import (
	"context"

	"sesame/internal/account"
)

// AccountSearch selects accounts for the administration console's search.
// It differs from AccountFilter in what the console needs: the office name
// and authenticator state of each row, a scope that leaves staff out, and a
// query that also matches the office's name.
type AccountSearch struct {
	// Query is a substring of the identifier, the name or the office's
	// name, compared case-insensitively; empty: all.
	Query    string
	OfficeID int64        // 0: any office
	Type     account.Type // "": any type
	// HideStaff leaves out Group accounts and support staff: an office
	// administrator's scope never includes them.
	HideStaff bool
	Offset    int
	Limit     int // at most 200; 0 means 50
}

// AccountSummary is one row of a search: the account, its office's name
// and whether an authenticator is linked.
type AccountSummary struct {
	account.Account
	OfficeName string
	Linked     bool
}

// AccountSearcher is the console's search. Backends index it so that it
// stays fast with 100,000 accounts (SQLite: an FTS5 trigram index;
// PostgreSQL: pg_trgm indexes when the extension is available).
type AccountSearcher interface {
	// SearchAccounts returns one page of the accounts matching f, ordered by
	// identifier then id, and the total number matching. It never fails on
	// odd query text (quotes, LIKE wildcards, FTS syntax): the query is
	// matched as a literal substring.
	SearchAccounts(ctx context.Context, f AccountSearch) ([]AccountSummary, int, error)
}
