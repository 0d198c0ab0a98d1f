package sqldb

// Benchmarks of the store on SQLite with a table of realistic size: 100,000
// accounts. They measure the database part of a login (FindAccount,
// UseTOTPStep) and the administration console's account list
// (ListAccounts). Figures, and the commands that repeat them, are in
// BENCHMARKS.md; nothing here asserts a timing.
//
// Each benchmark builds its own database once (b.Loop runs the function body
// before the loop a single time), so the fixture's cost is not measured.

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"sesame/internal/account"
	"sesame/internal/store"
)

// benchAccounts is the table size the benchmarks run against.
const benchAccounts = 100_000

// benchOffices is how many offices the Tiers accounts are spread over.
const benchOffices = 1_000

// benchIdentifier is account i's identifier; they sort in creation order.
func benchIdentifier(i int) string { return fmt.Sprintf("person%06d@bench.example", i) }

// benchStore opens a SQLite database in a temporary folder holding n
// accounts of every type (a third each, in the order of account.Types;
// Tiers accounts spread over benchOffices offices) and returns it with the
// offices.
func benchStore(b *testing.B, n int) (*DB, []account.Office) {
	b.Helper()
	ctx := context.Background()
	s, err := OpenSQLite(ctx, filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	offices := make([]account.Office, benchOffices)
	err = s.InTx(ctx, func(tx store.Store) error {
		for i := range offices {
			offices[i] = account.Office{Name: fmt.Sprintf("Office %04d", i), Created: now}
			if err := tx.CreateOffice(ctx, &offices[i]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	// One INSERT ... SELECT rather than 100,000 CreateAccount calls (about
	// 30 s even in one transaction): how the fixture is written is not what
	// is measured. The rows read back through the store below, so they are
	// rows the store understands.
	_, err = s.db.ExecContext(ctx, `WITH RECURSIVE seq(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM seq WHERE i + 1 < $1)
		INSERT INTO accounts (type, identifier, name, office_id, lang, password_hash, created)
		SELECT CASE i % 3 WHEN 0 THEN 'client' WHEN 1 THEN 'group' ELSE 'tiers' END,
			printf('person%06d@bench.example', i), 'Person ' || i,
			CASE WHEN i % 3 = 2 THEN (SELECT id FROM offices WHERE name = printf('Office %04d', i % $2)) END,
			'fr', $3, $4
		FROM seq`, n, benchOffices, benchHash, ms(now))
	if err != nil {
		b.Fatal(err)
	}
	last := n - 1
	a, err := s.FindAccount(ctx, account.Types[last%3], benchIdentifier(last))
	if err != nil || a.Name != fmt.Sprintf("Person %d", last) || (a.Type == account.Tiers) != (a.OfficeID != 0) {
		b.Fatalf("fixture account %d: %+v, %v", last, a, err)
	}
	return s, offices
}

// benchHash is a well-formed argon2id PHC string; nothing verifies it here.
const benchHash = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g"

// benchAccount returns the id of fixture account i.
func benchAccount(b *testing.B, s *DB, i int) int64 {
	b.Helper()
	a, err := s.FindAccount(context.Background(), account.Types[i%3], benchIdentifier(i))
	if err != nil {
		b.Fatal(err)
	}
	return a.ID
}

// BenchmarkUseTOTPStep is the write every successful login makes: the
// conditional UPDATE that consumes a code's time step.
func BenchmarkUseTOTPStep(b *testing.B) {
	s, _ := benchStore(b, benchAccounts)
	ctx := context.Background()
	linked := make([]int64, 64)
	for i := range linked {
		id := benchAccount(b, s, i*1511)
		linked[i] = id
		if err := s.LinkAuthenticator(ctx, store.Authenticator{AccountID: id, Secret: make([]byte, 48), Linked: time.Now(), LastStep: 1}); err != nil {
			b.Fatal(err)
		}
	}
	// Each run of a function below (b.N grows, -count repeats) goes on
	// from the steps of the last: they come from one counter declared here,
	// above every account's LastStep, so every step is new.
	var step atomic.Int64
	step.Store(1_000_000)
	b.Run("accepted", func(b *testing.B) {
		for b.Loop() {
			if err := s.UseTOTPStep(ctx, linked[0], step.Add(1)); err != nil {
				b.Fatal(err)
			}
		}
	})
	// A replayed code: the UPDATE matches nothing and a read tells
	// "replayed" from "no authenticator".
	b.Run("replayed", func(b *testing.B) {
		for b.Loop() {
			if err := s.UseTOTPStep(ctx, linked[1], 1); err != store.ErrReplayed {
				b.Fatalf("got %v, want ErrReplayed", err)
			}
		}
	})
	// Several goroutines, each on its own account: SQLite takes one writer
	// at a time, so this shows what the write lock costs under contention.
	b.Run("accepted-parallel", func(b *testing.B) {
		var next atomic.Int64
		b.RunParallel(func(pb *testing.PB) {
			id := linked[2+int(next.Add(1))%(len(linked)-2)]
			for pb.Next() {
				if err := s.UseTOTPStep(ctx, id, step.Add(1)); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}

// BenchmarkFindAccount is the read that starts every login: an account by
// type and identifier, through the UNIQUE (type, identifier) index.
func BenchmarkFindAccount(b *testing.B) {
	s, _ := benchStore(b, benchAccounts)
	ctx := context.Background()
	b.Run("hit", func(b *testing.B) {
		i := 0
		for b.Loop() {
			i = (i + 7919) % benchAccounts // a prime stride: scattered over the table
			if _, err := s.FindAccount(ctx, account.Types[i%3], benchIdentifier(i)); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("miss", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.FindAccount(ctx, account.Client, "nobody@bench.example"); err != store.ErrNotFound {
				b.Fatalf("got %v, want ErrNotFound", err)
			}
		}
	})
	b.Run("hit-parallel", func(b *testing.B) {
		var next atomic.Int64
		b.RunParallel(func(pb *testing.PB) {
			i := int(next.Add(1)) * 104_729
			for pb.Next() {
				i = (i + 7919) % benchAccounts
				if _, err := s.FindAccount(ctx, account.Types[i%3], benchIdentifier(i)); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}

// BenchmarkListAccounts is the administration console's account list: one
// page of 50 and the total count, unfiltered, deep in the list, by office,
// and searched by a substring (which no index serves: a full scan).
func BenchmarkListAccounts(b *testing.B) {
	s, offices := benchStore(b, benchAccounts)
	ctx := context.Background()
	cases := []struct {
		name      string
		filter    store.AccountFilter
		wantTotal int
	}{
		{"first-page", store.AccountFilter{Limit: 50}, benchAccounts},
		{"offset-50000", store.AccountFilter{Limit: 50, Offset: 50_000}, benchAccounts},
		{"office", store.AccountFilter{Limit: 50, OfficeID: offices[7].ID}, countTiersIn(7)},
		{"type", store.AccountFilter{Limit: 50, Type: account.Group}, benchAccounts / 3},
		{"search", store.AccountFilter{Limit: 50, Query: "person004242"}, 1},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				list, total, err := s.ListAccounts(ctx, c.filter)
				if err != nil {
					b.Fatal(err)
				}
				if total != c.wantTotal || len(list) != min(c.wantTotal-c.filter.Offset, c.filter.Limit) {
					b.Fatalf("got %d of %d accounts, want %d", len(list), total, c.wantTotal)
				}
			}
		})
	}
}

// countTiersIn is how many fixture accounts belong to office number o.
func countTiersIn(o int) int {
	n := 0
	for i := range benchAccounts {
		if account.Types[i%3] == account.Tiers && i%benchOffices == o {
			n++
		}
	}
	return n
}

// BenchmarkSessionAccount is the read every logged-in page makes: a
// session with its account, office and recovery-code count, from 4
// goroutines, on SQLite and (when SESAME_TEST_POSTGRES names a server) on
// PostgreSQL in a schema of its own. cpu-µs/op is the process's CPU per
// read from getrusage (on PostgreSQL the client's side only; over
// loopback TCP that includes the kernel's delivery to the server).
func BenchmarkSessionAccount(b *testing.B) {
	ctx := context.Background()
	open := map[string]func(b *testing.B) *DB{
		"sqlite": func(b *testing.B) *DB {
			s, err := OpenSQLite(ctx, filepath.Join(b.TempDir(), "bench.db"))
			if err != nil {
				b.Fatal(err)
			}
			return s
		},
		"postgres": func(b *testing.B) *DB {
			dsn := os.Getenv("SESAME_TEST_POSTGRES")
			if dsn == "" {
				b.Skip("SESAME_TEST_POSTGRES not set")
			}
			admin, err := OpenPostgres(ctx, dsn)
			if err != nil {
				b.Fatal(err)
			}
			schema := fmt.Sprintf("sesame_bench_%d_%d", os.Getpid(), pgSchema.Add(1))
			if _, err := admin.db.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { admin.db.ExecContext(ctx, "DROP SCHEMA "+schema+" CASCADE"); admin.Close() })
			u, err := url.Parse(dsn)
			if err != nil {
				b.Fatal(err)
			}
			q := u.Query()
			q.Set("search_path", schema)
			u.RawQuery = q.Encode()
			s, err := OpenPostgres(ctx, u.String())
			if err != nil {
				b.Fatal(err)
			}
			return s
		},
	}
	for _, name := range []string{"sqlite", "postgres"} {
		b.Run(name, func(b *testing.B) {
			s := open[name](b)
			b.Cleanup(func() { s.Close() })
			now := time.Now()
			a := account.Account{Type: account.Client, Identifier: "bench@example.be", Name: "Bench", Lang: "fr", PasswordHash: benchHash, Created: now}
			if err := s.CreateAccount(ctx, &a); err != nil {
				b.Fatal(err)
			}
			id := make([]byte, 32)
			if err := s.CreateSession(ctx, store.Session{IDHash: id, AccountID: a.ID, AMR: []string{"pwd", "otp"}, Created: now, LastSeen: now, LastOTP: now}); err != nil {
				b.Fatal(err)
			}
			start := processCPU()
			b.SetParallelism(2) // 4 goroutines on 2 cores
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, got, err := s.GetSessionAccount(ctx, id); err != nil || got.ID != a.ID {
						b.Errorf("GetSessionAccount: %v, %v", got.ID, err)
						return
					}
				}
			})
			b.StopTimer()
			b.ReportMetric(float64((processCPU()-start).Microseconds())/float64(b.N), "cpu-µs/op")
		})
	}
}

// processCPU is the CPU time this process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
