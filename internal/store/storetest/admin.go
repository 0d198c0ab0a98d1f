package storetest

import (
	"context"
	"testing"

	"sesame/internal/account"
	"sesame/internal/store"
)

func testSearchAccounts(t *testing.T, s store.Store) {
	ctx := context.Background()
	dupont := account.Office{Name: "Cabinet Dupont", Created: t0}
	peeters := account.Office{Name: "Kantoor Peeters", Created: t0}
	for _, o := range []*account.Office{&dupont, &peeters} {
		if err := s.CreateOffice(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	mk := func(typ account.Type, id, name string, office int64, role account.Role) account.Account {
		t.Helper()
		a := account.Account{Type: typ, Identifier: id, Name: name, OfficeID: office, Role: role, Lang: "fr", PasswordHash: "x", Created: t0}
		if err := s.CreateAccount(ctx, &a); err != nil {
			t.Fatal(err)
		}
		return a
	}
	jan := mk(account.Tiers, "jan@dupont.be", "Jan Janssëns", dupont.ID, account.RoleUser)
	mk(account.Tiers, "marie@dupont.be", "Marie Lambert", dupont.ID, account.RoleOfficeAdmin)
	mk(account.Tiers, "piet@peeters.be", "Piet Peeters", peeters.ID, account.RoleUser)
	mk(account.Client, "jan@dupont.be", "Jan Janssens (client)", 0, account.RoleUser)
	mk(account.Group, "sofie@insurer.be", "Sofie Support", 0, account.RoleSupport)
	mk(account.Group, "odd_100%\"x@insurer.be", "Quote \" and % sign", 0, account.RoleUser)
	if err := s.LinkAuthenticator(ctx, store.Authenticator{AccountID: jan.ID, Secret: []byte("sealed"), Linked: t0}); err != nil {
		t.Fatal(err)
	}

	ids := func(list []store.AccountSummary) []string {
		var out []string
		for _, a := range list {
			out = append(out, string(a.Type)+":"+a.Identifier)
		}
		return out
	}
	tests := []struct {
		name  string
		f     store.AccountSearch
		want  []string
		total int
	}{
		{"all", store.AccountSearch{}, []string{"tiers:jan@dupont.be", "client:jan@dupont.be", "tiers:marie@dupont.be", "group:odd_100%\"x@insurer.be", "tiers:piet@peeters.be", "group:sofie@insurer.be"}, 6},
		{"by name, any case", store.AccountSearch{Query: "LAMBERT"}, []string{"tiers:marie@dupont.be"}, 1},
		{"by identifier", store.AccountSearch{Query: "piet@"}, []string{"tiers:piet@peeters.be"}, 1},
		{"by office name", store.AccountSearch{Query: "kantoor"}, []string{"tiers:piet@peeters.be"}, 1},
		{"short query", store.AccountSearch{Query: "pi"}, []string{"tiers:piet@peeters.be"}, 1},
		{"by type", store.AccountSearch{Query: "jan@", Type: account.Client}, []string{"client:jan@dupont.be"}, 1},
		{"in one office", store.AccountSearch{Query: "dupont", OfficeID: dupont.ID}, []string{"tiers:jan@dupont.be", "tiers:marie@dupont.be"}, 2},
		{"office admin scope", store.AccountSearch{OfficeID: dupont.ID, HideStaff: true}, []string{"tiers:jan@dupont.be", "tiers:marie@dupont.be"}, 2},
		{"staff hidden", store.AccountSearch{Query: "insurer", HideStaff: true}, nil, 0},
		{"literal quote", store.AccountSearch{Query: `"x@`}, []string{"group:odd_100%\"x@insurer.be"}, 1},
		{"literal percent", store.AccountSearch{Query: "100%"}, []string{"group:odd_100%\"x@insurer.be"}, 1},
		{"literal underscore", store.AccountSearch{Query: "_1"}, []string{"group:odd_100%\"x@insurer.be"}, 1},
		{"FTS syntax is text", store.AccountSearch{Query: "jan OR piet"}, nil, 0},
		{"FTS syntax is text 2", store.AccountSearch{Query: "NEAR(jan piet)*"}, nil, 0},
		{"page", store.AccountSearch{Limit: 2, Offset: 2}, []string{"tiers:marie@dupont.be", "group:odd_100%\"x@insurer.be"}, 6},
		{"past the end", store.AccountSearch{Limit: 2, Offset: 10}, nil, 6},
	}
	for _, tt := range tests {
		list, total, err := s.SearchAccounts(ctx, tt.f)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if got := ids(list); total != tt.total || !equal(got, tt.want) {
			t.Errorf("%s: SearchAccounts(%+v) = %q, total %d; want %q, total %d", tt.name, tt.f, got, total, tt.want, tt.total)
		}
	}

	// The row carries the office's name and the authenticator state.
	list, _, err := s.SearchAccounts(ctx, store.AccountSearch{Query: "jan@", Type: account.Tiers})
	if err != nil || len(list) != 1 {
		t.Fatalf("search jan: %v, %d rows", err, len(list))
	}
	if got := list[0]; got.Account != jan || got.OfficeName != "Cabinet Dupont" || !got.Linked {
		t.Errorf("summary = %+v, office %q, linked %v; want account %+v in Cabinet Dupont, linked", got.Account, got.OfficeName, got.Linked, jan)
	}

	// A renamed account is found by its new name only: the index follows updates.
	if _, err := s.UpdateAccount(ctx, jan.ID, func(a *account.Account) error { a.Name = "Jan Vermeulen"; return nil }); err != nil {
		t.Fatal(err)
	}
	for q, want := range map[string]int{"vermeulen": 1, "janssëns": 0} {
		if _, total, err := s.SearchAccounts(ctx, store.AccountSearch{Query: q, Type: account.Tiers}); err != nil || total != want {
			t.Errorf("after rename, search %q: total %d, %v; want %d", q, total, err, want)
		}
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
