package sqldb

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"sesame/internal/store"
	"sesame/internal/store/storetest"
)

func TestSQLite(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		s, err := OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "sesame.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}

func TestSQLiteReopenKeepsData(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "sesame.db")
	s, err := OpenSQLite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.AppendAudit(ctx, store.AuditEvent{Action: "x", Outcome: "success"}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = OpenSQLite(ctx, path) // migrations run again: a no-op
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if list, _ := s.ListAudit(ctx, store.AuditFilter{}); len(list) != 1 {
		t.Errorf("after reopening: %d events, want 1", len(list))
	}
}

var pgSchema atomic.Int64

// postgresDSN is the server named by SESAME_TEST_POSTGRES; without it the
// test is skipped, except in CI, where it fails.
func postgresDSN(t *testing.T) string {
	t.Helper()
	dsn := os.Getenv("SESAME_TEST_POSTGRES")
	if dsn == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("SESAME_TEST_POSTGRES is not set in CI")
		}
		t.Skip("SESAME_TEST_POSTGRES not set")
	}
	return dsn
}

// TestPostgres runs the suite on the server named by SESAME_TEST_POSTGRES
// (a postgres:// URL), each test in a fresh schema. In CI the variable is
// required (postgresDSN): a skipped PostgreSQL suite would be a silent pass.
func TestPostgres(t *testing.T) {
	dsn := postgresDSN(t)
	ctx := context.Background()
	admin, err := OpenPostgres(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	storetest.Run(t, func(t *testing.T) store.Store {
		schema := fmt.Sprintf("sesame_test_%d_%d", os.Getpid(), pgSchema.Add(1))
		if _, err := admin.db.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { admin.db.ExecContext(ctx, "DROP SCHEMA "+schema+" CASCADE") })
		sep := "?"
		if strings.Contains(dsn, "?") {
			sep = "&"
		}
		s, err := OpenPostgres(ctx, dsn+sep+"search_path="+schema)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}
