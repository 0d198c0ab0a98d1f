package sqldb

import (
	"context"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// openAtOnce opens n stores on one fresh database at the same moment (a
// barrier releases them together), as processes started at once do: every
// one must open, and each migration must be applied exactly once.
func openAtOnce(t *testing.T, dialect string, n int, open func() (*DB, error)) {
	t.Helper()
	start := make(chan struct{})
	dbs := make([]*DB, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			dbs[i], errs[i] = open()
		})
	}
	close(start)
	wg.Wait()
	var first *DB
	for i, err := range errs {
		if err != nil {
			t.Errorf("open %d of %d: %v", i+1, n, err)
			continue
		}
		defer dbs[i].Close()
		if first == nil {
			first = dbs[i]
		}
	}
	if first == nil {
		t.FailNow()
	}
	rows, err := first.db.QueryContext(context.Background(),
		"SELECT version_id, COUNT(*) FROM goose_db_version WHERE is_applied GROUP BY version_id ORDER BY version_id")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	got := map[int64]int{}
	for rows.Next() {
		var v int64
		var c int
		if err := rows.Scan(&v, &c); err != nil {
			t.Fatal(err)
		}
		got[v] = c
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(wantVersions(t, dialect), got); diff != "" {
		t.Errorf("applied migrations (version: times), -want +got:\n%s", diff)
	}
}

// wantVersions is every migration of the dialect applied once, and goose's
// version 0 that marks its table.
func wantVersions(t *testing.T, dialect string) map[int64]int {
	t.Helper()
	names, err := fs.Glob(migrations, "migrations/"+dialect+"/*.sql")
	if err != nil || len(names) == 0 {
		t.Fatalf("no %s migrations: %v", dialect, err)
	}
	want := map[int64]int{0: 1}
	for _, name := range names {
		num, _, _ := strings.Cut(filepath.Base(name), "_")
		v, err := strconv.ParseInt(num, 10, 64)
		if err != nil {
			t.Fatalf("migration %s: %v", name, err)
		}
		want[v] = 1
	}
	return want
}

func TestSQLiteMigratesOnceWhenOpenedAtOnce(t *testing.T) {
	for round := range 5 { // the race was not there every time
		path := filepath.Join(t.TempDir(), fmt.Sprintf("sesame-%d.db", round))
		openAtOnce(t, "sqlite", 8, func() (*DB, error) { return OpenSQLite(context.Background(), path) })
	}
}

func TestPostgresMigratesOnceWhenOpenedAtOnce(t *testing.T) {
	dsn := postgresDSN(t)
	ctx := context.Background()
	admin, err := OpenPostgres(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	name := fmt.Sprintf("sesame_mig_%d_%d", os.Getpid(), pgSchema.Add(1))
	if _, err := admin.db.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if _, err := admin.db.ExecContext(ctx, "DROP DATABASE "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("drop %s: %v", name, err)
		}
	}()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	openAtOnce(t, "postgres", 8, func() (*DB, error) { return OpenPostgres(ctx, u.String()) })
}
