package sqldb

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"sesame/internal/store"
)

// TestSearchAccountsScales fills the database with 20,000 accounts (100,000
// when SESAME_TEST_SCALE is set; the insert alone then takes seconds) and
// checks that a search is answered from the trigram index, not by scanning
// the accounts table. The timings are logged, not asserted: a loaded CI
// machine must not fail the build, but the query plan is the property.
func TestSearchAccountsScales(t *testing.T) {
	n := 20000
	if os.Getenv("SESAME_TEST_SCALE") != "" {
		n = 100000
	}
	ctx := context.Background()
	s, err := OpenSQLite(ctx, filepath.Join(t.TempDir(), "sesame.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	start := time.Now()
	_, err = s.db.ExecContext(ctx, `
		WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 500)
		INSERT INTO offices (name, created) SELECT 'Office ' || i, 1 FROM n;
		WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $1)
		INSERT INTO accounts (type, identifier, name, office_id, password_hash, created)
		SELECT 'tiers', 'user' || i || '@firm' || (i % 500) || '.be', 'Person ' || i || ' Janssens', 1 + i % 500, 'x', 1 FROM n;`, n)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d accounts inserted in %v", n, time.Since(start))

	// The expected totals come from a plain scan with LIKE.
	tests := []struct {
		f         store.AccountSearch
		wantTotal int
	}{
		{store.AccountSearch{Query: "user1999@"}, countLike(t, s, "%user1999@%", 0)},
		{store.AccountSearch{Query: "zzz"}, 0},
		{store.AccountSearch{Query: "Office 42"}, countLike(t, s, "%office 42%", 0)}, // office names 42 and 420-429
		{store.AccountSearch{Query: "ssens", OfficeID: 7}, countLike(t, s, "%ssens%", 7)},
		{store.AccountSearch{Query: "99", HideStaff: true}, countLike(t, s, "%99%", 0)}, // two characters: the scan fallback
	}
	if tests[0].wantTotal != 1 || tests[2].wantTotal == 0 || tests[3].wantTotal == 0 {
		t.Fatalf("test data not as expected: %+v", tests)
	}
	for _, tt := range tests {
		start := time.Now()
		_, total, err := s.SearchAccounts(ctx, tt.f)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("SearchAccounts(%+v): %d in %v", tt.f, total, time.Since(start))
		if total != tt.wantTotal {
			t.Errorf("SearchAccounts(%+v) total = %d, want %d", tt.f, total, tt.wantTotal)
		}
	}

	// The plan of a trigram search must go through the FTS index and look
	// accounts up by rowid: no full scan of accounts.
	rows, err := s.db.QueryContext(ctx, `EXPLAIN QUERY PLAN SELECT count(*) FROM accounts a
		WHERE a.id IN (SELECT rowid FROM accounts_search WHERE accounts_search MATCH '"janssens"'
		UNION SELECT id FROM accounts WHERE office_id IN (SELECT id FROM offices WHERE lower(name) LIKE '%janssens%' ESCAPE '\'))`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	joined := strings.Join(plan, "\n")
	if !strings.Contains(joined, "VIRTUAL TABLE") || strings.Contains(joined, "SCAN a\n") || strings.HasSuffix(joined, "SCAN a") {
		t.Errorf("search plan does not use the trigram index:\n%s", joined)
	}
}

// countLike counts by scanning what SearchAccounts finds through indexes.
func countLike(t *testing.T, s *DB, pattern string, office int64) int {
	var n int
	if err := s.db.QueryRow(`SELECT count(*) FROM accounts a LEFT JOIN offices o ON o.id = a.office_id
		WHERE (a.identifier LIKE $1 OR a.name LIKE $1 OR o.name LIKE $1) AND ($2 = 0 OR a.office_id = $2)`, pattern, office).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
