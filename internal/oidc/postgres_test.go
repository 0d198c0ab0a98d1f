package oidc

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"sesame/internal/seal"
	"sesame/internal/store"
	"sesame/internal/store/sqldb"
)

// pgStores opens n stores (n instances) on one fresh schema of the server
// named by SESAME_TEST_POSTGRES; in CI the variable is required.
func pgStores(t *testing.T, n int) []store.Store {
	dsn := os.Getenv("SESAME_TEST_POSTGRES")
	if dsn == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("SESAME_TEST_POSTGRES is not set in CI")
		}
		t.Skip("SESAME_TEST_POSTGRES not set")
	}
	ctx := context.Background()
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	schema := fmt.Sprintf("sesame_oidc_%d_%d", os.Getpid(), time.Now().UnixNano())
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.ExecContext(ctx, "DROP SCHEMA "+schema+" CASCADE"); admin.Close() })
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	stores := make([]store.Store, n)
	for i := range stores {
		st, err := sqldb.OpenPostgres(ctx, dsn+sep+"search_path="+schema)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		stores[i] = st
	}
	return stores
}

// Two instances on one PostgreSQL database: started at once on an empty key
// table they agree on one key per algorithm, and of the two redeeming the
// same code at once exactly one gives tokens.
func TestTwoInstancesOnPostgres(t *testing.T) {
	stores := pgStores(t, 2)
	ctx := context.Background()
	k, _ := seal.NewKey()
	ring, _ := seal.NewKeyring(k)
	var wg sync.WaitGroup
	for _, st := range stores {
		wg.Go(func() {
			if err := EnsureKeys(ctx, st, ring, time.Now()); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if keys, _ := stores[0].ListSigningKeys(ctx); len(keys) != 2 {
		t.Fatalf("%d keys after two concurrent starts, want 2", len(keys))
	}

	a := newTestEnv(t, stores[0], ring, testClients(""))
	b, err := New(ctx, Options{Store: stores[1], Keys: ring, Issuer: a.issuer, Clients: testClients(""), SessionAbsolute: 12 * time.Hour, SessionIdle: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	bSrv := httptest.NewServer(b.Handler())
	defer bSrv.Close()
	a.login(t)
	for round := range 5 {
		f := a.code(t, a.rp(t, "rs", "RS256"))
		form := url.Values{"grant_type": {"authorization_code"}, "code": {f.code}, "redirect_uri": {rpRedirect}, "code_verifier": {f.verifier}}
		var ok sync.WaitGroup
		codes := make([]int, 2)
		start := make(chan struct{})
		for i, base := range []string{a.issuer, bSrv.URL} {
			ok.Go(func() {
				<-start
				req, _ := http.NewRequest(http.MethodPost, base+pathToken, strings.NewReader(form.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.SetBasicAuth("rs", secret)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				resp.Body.Close()
				codes[i] = resp.StatusCode
			})
		}
		close(start)
		ok.Wait()
		if n := count200(codes); n != 1 {
			t.Errorf("round %d: statuses %v, want exactly one 200", round, codes)
		}
	}
}

func count200(l []int) int {
	n := 0
	for _, c := range l {
		if c == 200 {
			n++
		}
	}
	return n
}
