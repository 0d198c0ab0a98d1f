package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"sesame/internal/account"
	"sesame/internal/store"
	"sesame/internal/store/sqldb"
)

// TestAccountAdminCommands drives the command-line half of helped recovery
// against a data folder, and checks the store afterwards: the change, the
// audit log (actor: the operator) and the owner's e-mail in the outbox.
func TestAccountAdminCommands(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	ctx := context.Background()
	sesame := func(stdin string, args ...string) (string, error) {
		t.Helper()
		var out, errOut bytes.Buffer
		args = append(args[:2:2], append([]string{"--data", data}, args[2:]...)...)
		err := run(ctx, args, noEnv, strings.NewReader(stdin), &out, &errOut)
		return out.String(), err
	}
	if _, err := sesame("a long enough password\n", "account", "create", "--type", "tiers", "--identifier", "jan@cabinet-x.be",
		"--name", "Jan", "--office", "Cabinet X", "--lang", "nl", "--operator", "setup"); err != nil {
		t.Fatal(err)
	}
	if _, err := sesame("another long password\n", "account", "create", "--type", "tiers", "--identifier", "an@cabinet-x.be",
		"--name", "An", "--office", "Cabinet X", "--operator", "setup"); err != nil {
		t.Fatal(err)
	}
	st, err := sqldb.OpenSQLite(ctx, filepath.Join(data, "sesame.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	jan, err := st.FindAccount(ctx, account.Tiers, "jan@cabinet-x.be")
	if err != nil {
		t.Fatal(err)
	}
	if err := st.LinkAuthenticator(ctx, store.Authenticator{AccountID: jan.ID, Secret: []byte("sealed"), Linked: time.Now()}); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		stdin   string
		args    []string
		wantOut string
		wantErr string
	}{
		{"", []string{"account", "reset-totp", "--operator", "ops-anna", "--type", "tiers", "--identifier", "Jan@Cabinet-X.be"}, "Jan@Cabinet-X.be\tdone", ""},
		{"", []string{"account", "reset-totp", "--operator", "ops-anna", "--type", "tiers", "--identifier", "jan@cabinet-x.be"}, "unchanged", ""},
		{"", []string{"account", "reset-totp", "--operator", "ops-anna", "--type", "client", "--identifier", "jan@cabinet-x.be"}, "not found", "1 of 1"},
		{"", []string{"account", "reset-question", "--operator", "ops-anna", "--type", "tiers", "--identifier", "jan@cabinet-x.be"}, "unchanged", ""},
		{"", []string{"account", "disable", "--operator", "ops-anna", "--type", "tiers", "--identifier", "an@cabinet-x.be"}, "done", ""},
		{"", []string{"account", "enable", "--operator", "ops-anna", "--type", "tiers", "--identifier", "an@cabinet-x.be"}, "done", ""},
		{"# a batch\njan@cabinet-x.be\n\nan@cabinet-x.be\nnobody@cabinet-x.be\nnot an address\n",
			[]string{"account", "disable", "--operator", "ops-anna", "--type", "tiers", "--identifier", "-"},
			"jan@cabinet-x.be\tdone\nan@cabinet-x.be\tdone\nnobody@cabinet-x.be\tnot found\nnot an address\tinvalid identifier\n", "2 of 4"},
		{"", []string{"account", "unlock", "--type", "tiers", "--identifier", "jan@cabinet-x.be"}, "", "--operator"},
		{"", []string{"account", "unlock", "--operator", "ops\nforged", "--type", "tiers", "--identifier", "jan@cabinet-x.be"}, "", "--operator"},
		{"", []string{"account", "unlock", "--operator", "ops", "--type", "root", "--identifier", "jan@cabinet-x.be"}, "", "--type"},
		{"", []string{"account", "unlock", "--operator", "ops", "--type", "tiers"}, "", "--identifier"},
		{"", []string{"account", "unlock", "--operator", "ops", "--type", "tiers", "--identifier", "-"}, "", "no identifier"},
		{"", []string{"account", "list", "--operator", "ops", "--query", "cabinet x"}, "page 1 of 1, 2 accounts", ""},
		{"", []string{"account", "list", "--operator", "ops", "--office", "Cabinet X", "--type", "tiers"}, "jan@cabinet-x.be", ""},
		{"", []string{"account", "list", "--operator", "ops", "--office", "Nope"}, "", "no office"},
		{"", []string{"account", "list", "--operator", "ops", "--query", "a\x00b"}, "", "admin.error.query"},
		{"", []string{"account", "audit", "--operator", "ops", "--type", "tiers", "--identifier", "jan@cabinet-x.be"}, ",ops-anna,", ""},
		{"", []string{"account", "audit", "--operator", "ops", "--from", "2026-13-01"}, "", "--from"},
		{"", []string{"account", "audit", "--operator", "ops", "--from", "2030-01-02", "--to", "2030-01-01"}, "", "admin.error.dates"},
	}
	for _, tt := range tests {
		out, err := sesame(tt.stdin, tt.args...)
		switch {
		case tt.wantErr == "" && err != nil:
			t.Errorf("%q: %v\n%s", tt.args, err, out)
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
			t.Errorf("%q: error %v, want one containing %q", tt.args, err, tt.wantErr)
		}
		if !strings.Contains(out, tt.wantOut) {
			t.Errorf("%q: output %q lacks %q", tt.args, out, tt.wantOut)
		}
	}

	if _, err := st.GetAuthenticator(ctx, jan.ID); err == nil {
		t.Error("jan's authenticator is still linked")
	}
	if got, _ := st.GetAccount(ctx, jan.ID); !got.Disabled {
		t.Error("jan is not disabled")
	}
	events, err := st.ListAudit(ctx, store.AuditFilter{SubjectID: jan.ID})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range events {
		if e.Actor == "ops-anna" && e.Outcome == "success" {
			actions = append(actions, e.Action)
		}
	}
	if strings.Join(actions, ",") != "account_disable,totp_reset" {
		t.Errorf("ops-anna's actions on jan, newest first: %v", actions)
	}
	mails, err := st.ClaimMail(ctx, time.Now().Add(time.Minute), time.Minute, 100)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, m := range mails {
		if m.To.Email == "jan@cabinet-x.be" {
			kinds = append(kinds, string(m.Lang)+":"+m.Kind)
		}
	}
	if strings.Join(kinds, ",") != "nl:authenticator_reset,nl:account_disabled" {
		t.Errorf("jan's e-mails: %v", kinds)
	}
}
