package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"sesame/internal/account"
	"sesame/internal/store"
)

func testHelpRequests(t *testing.T, s store.Store) {
	ctx := context.Background()
	o1 := account.Office{Name: "Cabinet Un", Created: t0}
	o2 := account.Office{Name: "Cabinet Deux", Created: t0}
	if err := s.CreateOffice(ctx, &o1); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateOffice(ctx, &o2); err != nil {
		t.Fatal(err)
	}
	jan := newAccount(t, s, account.Tiers, "jan@example.be", o1.ID)
	piet := newAccount(t, s, account.Tiers, "piet@example.be", o2.ID)
	staff := newAccount(t, s, account.Group, "staff@example.be", 0)
	if err := s.LinkAuthenticator(ctx, store.Authenticator{AccountID: piet.ID, Secret: []byte("s"), Linked: t0}); err != nil {
		t.Fatal(err)
	}
	msg := "=HYPERLINK(\"x\")\n<b>perdu</b>"
	r1 := store.HelpRequest{AccountID: jan.ID, Kind: store.HelpTOTP, Message: msg, Addr: "192.0.2.1", Created: t0}
	for _, r := range []*store.HelpRequest{&r1,
		{AccountID: piet.ID, Kind: store.HelpQuestion, Created: t0.Add(time.Minute)},
		{AccountID: staff.ID, Kind: store.HelpTOTP, Created: t0.Add(2 * time.Minute)},
		{AccountID: jan.ID, Kind: store.HelpQuestion, Created: t0.Add(3 * time.Minute)},
	} {
		if err := s.CreateHelpRequest(ctx, r); err != nil || r.ID == 0 {
			t.Fatalf("CreateHelpRequest: %v, id %d", err, r.ID)
		}
	}
	if err := s.CreateHelpRequest(ctx, &store.HelpRequest{AccountID: 999999, Kind: store.HelpTOTP, Created: t0}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a request for a missing account: %v, want ErrNotFound", err)
	}
	got, err := s.GetHelpRequest(ctx, r1.ID)
	if err != nil || got.Message != msg || got.Kind != store.HelpTOTP || !got.Created.Equal(t0) || !got.Closed.IsZero() || got.Addr != "192.0.2.1" {
		t.Errorf("GetHelpRequest = %+v, %v", got, err)
	}
	if _, err := s.GetHelpRequest(ctx, 999999); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetHelpRequest(missing): %v", err)
	}

	list, total, err := s.ListHelpRequests(ctx, store.HelpRequestFilter{})
	if err != nil || total != 4 || len(list) != 4 || list[0].AccountID != jan.ID || list[0].Kind != store.HelpQuestion {
		t.Fatalf("ListHelpRequests = %d rows, total %d, %v", len(list), total, err)
	}
	if list[2].Account.Identifier != "piet@example.be" || list[2].OfficeName != "Cabinet Deux" || !list[2].Linked || list[3].Linked {
		t.Errorf("rows carry the wrong account state: %+v / %+v", list[2], list[3])
	}
	// An office's scope: its own accounts, no staff.
	list, total, _ = s.ListHelpRequests(ctx, store.HelpRequestFilter{OfficeID: o1.ID, HideStaff: true})
	if total != 2 || len(list) != 2 || list[0].AccountID != jan.ID || list[1].AccountID != jan.ID {
		t.Errorf("office scope: %d rows, total %d", len(list), total)
	}
	if _, total, _ := s.ListHelpRequests(ctx, store.HelpRequestFilter{HideStaff: true}); total != 3 {
		t.Errorf("without staff: total %d, want 3", total)
	}
	if list, _, _ := s.ListHelpRequests(ctx, store.HelpRequestFilter{Limit: 1, Offset: 1}); len(list) != 1 || list[0].AccountID != staff.ID {
		t.Errorf("paging: %+v", list)
	}

	// Closing: only the account's open ones of the kind.
	if n, err := s.CloseHelpRequests(ctx, jan.ID, store.HelpTOTP, t0.Add(time.Hour), "marie@example.be", "totp_reset"); err != nil || n != 1 {
		t.Errorf("CloseHelpRequests = %d, %v; want 1", n, err)
	}
	if n, _ := s.CloseHelpRequests(ctx, jan.ID, store.HelpTOTP, t0.Add(2*time.Hour), "x", "totp_reset"); n != 0 {
		t.Errorf("closing again closed %d", n)
	}
	got, _ = s.GetHelpRequest(ctx, r1.ID)
	if !got.Closed.Equal(t0.Add(time.Hour)) || got.ClosedBy != "marie@example.be" || got.ClosedAction != "totp_reset" {
		t.Errorf("closed request = %+v", got)
	}
	if _, total, _ := s.ListHelpRequests(ctx, store.HelpRequestFilter{Open: true}); total != 3 {
		t.Errorf("open: total %d, want 3", total)
	}
	if _, total, _ := s.ListHelpRequests(ctx, store.HelpRequestFilter{AccountID: jan.ID, Open: true}); total != 1 {
		t.Errorf("jan's open: total %d, want 1", total)
	}
}

func testListAdministrators(t *testing.T, s store.Store) {
	ctx := context.Background()
	o := account.Office{Name: "Cabinet Admins", Created: t0}
	if err := s.CreateOffice(ctx, &o); err != nil {
		t.Fatal(err)
	}
	mk := func(typ account.Type, id string, office int64, role account.Role, disabled bool) {
		a := account.Account{Type: typ, Identifier: id, OfficeID: office, Role: role, Disabled: disabled, PasswordHash: "x", Created: t0}
		if err := s.CreateAccount(ctx, &a); err != nil {
			t.Fatal(err)
		}
	}
	mk(account.Tiers, "b-admin@example.be", o.ID, account.RoleOfficeAdmin, false)
	mk(account.Tiers, "a-admin@example.be", o.ID, account.RoleOfficeAdmin, false)
	mk(account.Tiers, "gone-admin@example.be", o.ID, account.RoleOfficeAdmin, true)
	mk(account.Tiers, "user@example.be", o.ID, account.RoleUser, false)
	mk(account.Group, "support@example.be", 0, account.RoleSupport, false)
	mk(account.Group, "staff@example.be", 0, account.RoleUser, false)
	ids := func(list []account.Account) (out []string) {
		for _, a := range list {
			out = append(out, a.Identifier)
		}
		return out
	}
	list, err := s.ListAdministrators(ctx, o.ID)
	if got := ids(list); err != nil || len(got) != 2 || got[0] != "a-admin@example.be" || got[1] != "b-admin@example.be" {
		t.Errorf("office administrators = %v, %v", got, err)
	}
	list, err = s.ListAdministrators(ctx, 0)
	if got := ids(list); err != nil || len(got) != 1 || got[0] != "support@example.be" {
		t.Errorf("support staff = %v, %v", got, err)
	}
	if list, err := s.ListAdministrators(ctx, 999999); err != nil || len(list) != 0 {
		t.Errorf("an office that does not exist: %v, %v", list, err)
	}
}
