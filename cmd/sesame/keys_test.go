package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"sesame/internal/oidc"
	"sesame/internal/store/sqldb"
)

func TestKeysRotateAndClientSecret(t *testing.T) {
	ctx := context.Background()
	data := filepath.Join(t.TempDir(), "data")
	for i, want := range []string{"published 2 new signing keys", "published 2 new signing keys"} {
		var out, errOut bytes.Buffer
		if err := run(ctx, []string{"keys", "rotate", "--data", data, "--delay", "1m"}, noEnv, strings.NewReader(""), &out, &errOut); err != nil {
			t.Fatalf("round %d: %v\n%s", i, err, errOut.String())
		}
		if !strings.Contains(out.String(), want) {
			t.Errorf("output %q", out.String())
		}
	}
	st, err := sqldb.OpenSQLite(ctx, filepath.Join(data, "sesame.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	// Two rotations on an empty table: the first keys, then two successors
	// each, all still published (none has signed yet).
	if keys, _ := st.ListSigningKeys(ctx); len(keys) != 6 {
		t.Errorf("%d keys, want 6", len(keys))
	}

	var out bytes.Buffer
	if err := run(ctx, []string{"client", "secret"}, noEnv, strings.NewReader(""), &out, &out); err != nil {
		t.Fatal(err)
	}
	var secret, hash string
	for _, l := range strings.Split(out.String(), "\n") {
		if v, ok := strings.CutPrefix(l, "client_secret: "); ok {
			secret = v
		}
		if v, ok := strings.CutPrefix(l, "secret_hash: "); ok {
			hash = v
		}
	}
	if len(secret) != 43 || hash != oidc.SecretHash(secret) {
		t.Errorf("client secret output %q", out.String())
	}
}
