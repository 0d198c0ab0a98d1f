// Package storetest is the conformance suite of store.Store: every backend
// runs the same tests (SQLite always; PostgreSQL when SESAME_TEST_POSTGRES
// names a server), so they cannot drift apart.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"sesame/internal/account"
	"sesame/internal/enrol"
	"sesame/internal/i18n"
	"sesame/internal/mail"
	"sesame/internal/store"
)

// Run runs the suite; open must return a new, empty store for each call.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"Accounts", testAccounts},
		{"UpdateAccountAtomic", testUpdateAccountAtomic},
		{"ReserveAccountAttemptRace", testReserveAccountAttemptRace},
		{"ListAccounts", testListAccounts},
		{"SearchAccounts", testSearchAccounts},
		{"Authenticators", testAuthenticators},
		{"UseTOTPStepRace", testUseTOTPStepRace},
		{"RecoveryCodes", testRecoveryCodes},
		{"RecoveryCodeRace", testRecoveryCodeRace},
		{"HelpRequests", testHelpRequests},
		{"ListAdministrators", testListAdministrators},
		{"Sessions", testSessions},
		{"Enrolments", testEnrolments},
		{"AddressFailures", testAddressFailures},
		{"AddressReservations", testAddressReservations},
		{"AddressReservationRace", testAddressReservationRace},
		{"OneWizardPerAccount", testOneWizardPerAccount},
		{"Audit", testAudit},
		{"Outbox", testOutbox},
		{"Transactions", testTransactions},
		{"PasswordResets", testPasswordResets},
		{"PasswordResetUseRace", testPasswordResetUseRace},
		{"OIDCKeys", testOIDCKeys},
		{"OIDCAuthRequests", testOIDCAuthRequests},
		{"OIDCActiveAccess", testOIDCActiveAccess},
		{"OIDCRedeemRace", testOIDCRedeemRace},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, open(t)) })
	}
}

var t0 = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

func newAccount(t *testing.T, s store.Store, typ account.Type, id string, office int64) account.Account {
	t.Helper()
	a := account.Account{Type: typ, Identifier: id, Name: "Name " + id, OfficeID: office, Lang: i18n.NL,
		PasswordHash: "$argon2id$x", Created: t0}
	if err := s.CreateAccount(context.Background(), &a); err != nil {
		t.Fatalf("CreateAccount(%s): %v", id, err)
	}
	return a
}

func testAccounts(t *testing.T, s store.Store) {
	ctx := context.Background()
	office := account.Office{Name: "Cabinet Dupont", Created: t0}
	if err := s.CreateOffice(ctx, &office); err != nil || office.ID == 0 {
		t.Fatalf("CreateOffice: %v, id %d", err, office.ID)
	}
	if err := s.CreateOffice(ctx, &account.Office{Name: "Cabinet Dupont", Created: t0}); !errors.Is(err, store.ErrAlreadyExists) {
		t.Errorf("duplicate office: %v, want ErrAlreadyExists", err)
	}
	if got, err := s.FindOffice(ctx, "Cabinet Dupont"); err != nil || got != office {
		t.Errorf("FindOffice = %+v, %v; want %+v", got, err, office)
	}

	a := newAccount(t, s, account.Tiers, "jan@example.be", office.ID)
	if a.ID == 0 {
		t.Fatal("CreateAccount set no id")
	}
	got, err := s.GetAccount(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got != a {
		t.Errorf("GetAccount = %+v\nwant %+v", got, a)
	}
	if got, err := s.FindAccount(ctx, account.Tiers, "jan@example.be"); err != nil || got.ID != a.ID {
		t.Errorf("FindAccount = %d, %v", got.ID, err)
	}
	if _, err := s.FindAccount(ctx, account.Client, "jan@example.be"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("FindAccount under another type: %v, want ErrNotFound", err)
	}
	// The same e-mail under another type is another account.
	newAccount(t, s, account.Client, "jan@example.be", 0)
	dup := account.Account{Type: account.Tiers, Identifier: "jan@example.be", PasswordHash: "x", Created: t0}
	if err := s.CreateAccount(ctx, &dup); !errors.Is(err, store.ErrAlreadyExists) {
		t.Errorf("duplicate account: %v, want ErrAlreadyExists", err)
	}
	orphan := account.Account{Type: account.Tiers, Identifier: "orphan@example.be", OfficeID: 999999, PasswordHash: "x", Created: t0}
	if err := s.CreateAccount(ctx, &orphan); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("account in a missing office: %v, want ErrNotFound", err)
	}
	if _, err := s.GetAccount(ctx, 999999); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetAccount(missing): %v", err)
	}

	locked := t0.Add(time.Hour)
	up, err := s.UpdateAccount(ctx, a.ID, func(a *account.Account) error {
		a.FailedAttempts, a.LockedUntil, a.LastLogin = 6, locked, t0.Add(time.Minute)
		a.QuestionKey, a.AnswerHash, a.Role, a.Disabled = "first_pet", "$argon2id$y", account.RoleOfficeAdmin, true
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := s.GetAccount(ctx, a.ID); got != up || !got.LockedUntil.Equal(locked) || !got.Disabled || got.Role != account.RoleOfficeAdmin {
		t.Errorf("after update: %+v", got)
	}
	if _, err := s.UpdateAccount(ctx, a.ID, func(a *account.Account) error { a.Type = account.Group; return nil }); err == nil {
		t.Error("UpdateAccount let the type change")
	}
	sentinel := errors.New("stop")
	if _, err := s.UpdateAccount(ctx, a.ID, func(a *account.Account) error { a.Name = "changed"; return sentinel }); !errors.Is(err, sentinel) {
		t.Errorf("fn error: %v", err)
	}
	if got, _ := s.GetAccount(ctx, a.ID); got.Name == "changed" {
		t.Error("a failed update was written")
	}
	if _, err := s.UpdateAccount(ctx, 999999, func(*account.Account) error { return nil }); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("UpdateAccount(missing): %v", err)
	}
}

func testUpdateAccountAtomic(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := newAccount(t, s, account.Client, "race@example.be", 0)
	const n = 20
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			if _, err := s.UpdateAccount(ctx, a.ID, func(a *account.Account) error { a.FailedAttempts++; return nil }); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if got, _ := s.GetAccount(ctx, a.ID); got.FailedAttempts != n {
		t.Errorf("after %d concurrent increments: %d", n, got.FailedAttempts)
	}
}

func testListAccounts(t *testing.T, s store.Store) {
	ctx := context.Background()
	o1 := account.Office{Name: "A", Created: t0}
	o2 := account.Office{Name: "B", Created: t0}
	s.CreateOffice(ctx, &o1)
	s.CreateOffice(ctx, &o2)
	for i := range 12 {
		office := o1.ID
		if i%3 == 0 {
			office = o2.ID
		}
		newAccount(t, s, account.Tiers, fmt.Sprintf("user%02d@example.be", i), office)
	}
	newAccount(t, s, account.Client, "under_score@example.be", 0)
	tests := []struct {
		f         store.AccountFilter
		wantTotal int
		wantFirst string
		wantLen   int
	}{
		{store.AccountFilter{}, 13, "under_score@example.be", 13},
		{store.AccountFilter{OfficeID: o2.ID}, 4, "user00@example.be", 4},
		{store.AccountFilter{Query: "USER1"}, 2, "user10@example.be", 2},
		{store.AccountFilter{Query: "name user03"}, 1, "user03@example.be", 1},
		{store.AccountFilter{Query: "_"}, 1, "under_score@example.be", 1}, // LIKE wildcards are escaped
		{store.AccountFilter{Query: "%"}, 0, "", 0},
		{store.AccountFilter{Type: account.Client}, 1, "under_score@example.be", 1},
		{store.AccountFilter{Limit: 5, Offset: 10}, 13, "user09@example.be", 3},
	}
	for _, tt := range tests {
		list, total, err := s.ListAccounts(ctx, tt.f)
		if err != nil {
			t.Fatal(err)
		}
		first := ""
		if len(list) > 0 {
			first = list[0].Identifier
		}
		if total != tt.wantTotal || len(list) != tt.wantLen || first != tt.wantFirst {
			t.Errorf("ListAccounts(%+v) = %d rows (first %q), total %d; want %d (first %q), total %d",
				tt.f, len(list), first, total, tt.wantLen, tt.wantFirst, tt.wantTotal)
		}
	}
}

func testAuthenticators(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := newAccount(t, s, account.Tiers, "totp@example.be", 0)
	if _, err := s.GetAuthenticator(ctx, a.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetAuthenticator before link: %v", err)
	}
	if err := s.UseTOTPStep(ctx, a.ID, 5); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("UseTOTPStep without authenticator: %v", err)
	}
	au := store.Authenticator{AccountID: a.ID, Secret: []byte("sealed"), Linked: t0, LastStep: 100}
	if err := s.LinkAuthenticator(ctx, au); err != nil {
		t.Fatal(err)
	}
	if err := s.LinkAuthenticator(ctx, au); !errors.Is(err, store.ErrAlreadyExists) {
		t.Errorf("second link: %v, want ErrAlreadyExists", err)
	}
	if err := s.LinkAuthenticator(ctx, store.Authenticator{AccountID: 999999, Secret: []byte("x"), Linked: t0}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("link to a missing account: %v, want ErrNotFound", err)
	}
	steps := []struct {
		step int64
		want error
	}{{100, store.ErrReplayed}, {99, store.ErrReplayed}, {101, nil}, {101, store.ErrReplayed}, {103, nil}, {102, store.ErrReplayed}}
	for _, st := range steps {
		if err := s.UseTOTPStep(ctx, a.ID, st.step); !errors.Is(err, st.want) {
			t.Errorf("UseTOTPStep(%d) = %v, want %v", st.step, err, st.want)
		}
	}
	got, err := s.GetAuthenticator(ctx, a.ID)
	if err != nil || string(got.Secret) != "sealed" || got.LastStep != 103 || !got.Linked.Equal(t0) {
		t.Errorf("GetAuthenticator = %+v, %v", got, err)
	}
	if err := s.UnlinkAuthenticator(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.UnlinkAuthenticator(ctx, a.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("second unlink: %v", err)
	}
}

func testUseTOTPStepRace(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := newAccount(t, s, account.Tiers, "replay@example.be", 0)
	if err := s.LinkAuthenticator(ctx, store.Authenticator{AccountID: a.ID, Secret: []byte("s"), Linked: t0}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok := 0
	for range 16 {
		wg.Go(func() {
			err := s.UseTOTPStep(ctx, a.ID, 500)
			if err != nil && !errors.Is(err, store.ErrReplayed) {
				t.Error(err)
			}
			mu.Lock()
			defer mu.Unlock()
			if err == nil {
				ok++
			}
		})
	}
	wg.Wait()
	if ok != 1 {
		t.Errorf("the same step was accepted %d times, want once", ok)
	}
}

func testSessions(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := newAccount(t, s, account.Client, "sess@example.be", 0)
	mk := func(id string, created time.Time) store.Session {
		ss := store.Session{IDHash: []byte(id), AccountID: a.ID, AMR: []string{"pwd", "otp"}, Created: created, LastSeen: created, LastOTP: created, Addr: "192.0.2.1", UserAgent: "test"}
		if err := s.CreateSession(ctx, ss); err != nil {
			t.Fatal(err)
		}
		return ss
	}
	s1 := mk("one", t0)
	mk("two", t0.Add(-13*time.Hour))
	mk("three", t0)
	if err := s.CreateSession(ctx, s1); !errors.Is(err, store.ErrAlreadyExists) {
		t.Errorf("duplicate session: %v", err)
	}
	got, err := s.GetSession(ctx, []byte("one"))
	if err != nil || got.AccountID != a.ID || len(got.AMR) != 2 || !got.LastOTP.Equal(t0) {
		t.Errorf("GetSession = %+v, %v", got, err)
	}
	gs, ga, err := s.GetSessionAccount(ctx, []byte("one"))
	if wantA, _ := s.GetAccount(ctx, a.ID); err != nil || !cmp.Equal(gs, got) || !cmp.Equal(ga, wantA) {
		t.Errorf("GetSessionAccount = %+v, %+v, %v; want %+v and %+v", gs, ga, err, got, wantA)
	}
	// A Tiers account's session comes with its office's name.
	o := account.Office{Name: "Cabinet Sessions", Created: t0}
	if err := s.CreateOffice(ctx, &o); err != nil {
		t.Fatal(err)
	}
	ta := newAccount(t, s, account.Tiers, "sess-tiers@example.be", o.ID)
	if err := s.CreateSession(ctx, store.Session{IDHash: []byte("tiers"), AccountID: ta.ID, Created: t0, LastSeen: t0, LastOTP: t0}); err != nil {
		t.Fatal(err)
	}
	if gs, ga, err := s.GetSessionAccount(ctx, []byte("tiers")); err != nil || gs.OfficeName != "Cabinet Sessions" || ga.OfficeID != o.ID {
		t.Errorf("GetSessionAccount of a Tiers account: office %q, account's office %d, %v; want %q, %d", gs.OfficeName, ga.OfficeID, err, o.Name, o.ID)
	}
	if err := s.DeleteSession(ctx, []byte("tiers")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.GetSessionAccount(ctx, []byte("missing")); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetSessionAccount of a missing session: %v", err)
	}
	if err := s.TouchSession(ctx, []byte("one"), t0.Add(time.Minute), time.Time{}); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.GetSession(ctx, []byte("one")); !got.LastSeen.Equal(t0.Add(time.Minute)) || !got.LastOTP.Equal(t0) {
		t.Errorf("after touch: %+v", got)
	}
	if err := s.TouchSession(ctx, []byte("missing"), t0, t0); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("touch missing: %v", err)
	}
	if n, err := s.DeleteSessionsBefore(ctx, t0.Add(-30*time.Minute), t0.Add(-12*time.Hour)); err != nil || n != 1 {
		t.Errorf("DeleteSessionsBefore = %d, %v; want 1", n, err)
	}
	if n, err := s.DeleteAccountSessions(ctx, a.ID, []byte("one")); err != nil || n != 1 {
		t.Errorf("DeleteAccountSessions = %d, %v; want 1", n, err)
	}
	if _, err := s.GetSession(ctx, []byte("one")); err != nil {
		t.Errorf("kept session gone: %v", err)
	}
	if err := s.DeleteSession(ctx, []byte("one")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetSession(ctx, []byte("one")); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("deleted session: %v", err)
	}
}

func testEnrolments(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := newAccount(t, s, account.Tiers, "wizard@example.be", 0)
	e := enrol.New([]byte("flow"), a.ID, t0)
	if err := s.CreateEnrolment(ctx, e); err != nil {
		t.Fatal(err)
	}
	got, err := s.UpdateEnrolment(ctx, []byte("flow"), func(e *enrol.Enrolment) error { return e.Answered([]byte("sealed")) })
	if err != nil || got.State != enrol.Code || got.TriesLeft != enrol.MaxCodeTries {
		t.Fatalf("UpdateEnrolment = %+v, %v", got, err)
	}
	if _, err := s.UpdateEnrolment(ctx, []byte("flow"), func(e *enrol.Enrolment) error { return e.Answered(nil) }); !errors.Is(err, enrol.ErrWrongState) {
		t.Errorf("out-of-order step: %v", err)
	}
	got, err = s.GetEnrolment(ctx, []byte("flow"))
	if err != nil || string(got.Secret) != "sealed" || !got.Expires.Equal(t0.Add(enrol.Lifetime)) {
		t.Errorf("GetEnrolment = %+v, %v", got, err)
	}
	// The question chosen at step 2 and, once linked, the sealed codes
	// are kept on the record.
	got, err = s.UpdateEnrolment(ctx, []byte("flow"), func(e *enrol.Enrolment) error {
		e.QuestionKey, e.QuestionText, e.AnswerHash = "own", "Ma question ?", "$argon2id$q"
		return nil
	})
	if err != nil || !got.ChoseQuestion() {
		t.Fatalf("UpdateEnrolment(question) = %+v, %v", got, err)
	}
	if got, _ := s.GetEnrolment(ctx, []byte("flow")); got.QuestionKey != "own" || got.QuestionText != "Ma question ?" || got.AnswerHash != "$argon2id$q" {
		t.Errorf("chosen question not kept: %+v", got)
	}
	got, err = s.UpdateEnrolment(ctx, []byte("flow"), func(e *enrol.Enrolment) error { return e.Linked([]byte("sealed codes")) })
	if err != nil || got.State != enrol.Done || got.Secret != nil || got.ChoseQuestion() {
		t.Fatalf("UpdateEnrolment(linked) = %+v, %v", got, err)
	}
	if got, _ := s.GetEnrolment(ctx, []byte("flow")); got.State != enrol.Done || string(got.Codes) != "sealed codes" || len(got.Secret) != 0 || got.AnswerHash != "" {
		t.Errorf("linked enrolment = %+v", got)
	}
	if n, err := s.DeleteEnrolmentsBefore(ctx, t0.Add(enrol.Lifetime+time.Second)); err != nil || n != 1 {
		t.Errorf("DeleteEnrolmentsBefore = %d, %v", n, err)
	}
	if _, err := s.GetEnrolment(ctx, []byte("flow")); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("expired enrolment: %v", err)
	}
	if _, err := s.UpdateEnrolment(ctx, []byte("flow"), func(*enrol.Enrolment) error { return nil }); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("update missing: %v", err)
	}
}

func testOneWizardPerAccount(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := newAccount(t, s, account.Tiers, "wizards@example.be", 0)
	b := newAccount(t, s, account.Client, "other@example.be", 0)
	if err := s.CreateEnrolment(ctx, enrol.New([]byte("other"), b.ID, t0)); err != nil {
		t.Fatal(err)
	}
	// Many wizards opened at once: exactly one survives, the others' tokens are dead.
	const n = 20
	Burst(n, func(i int) {
		if err := s.CreateEnrolment(ctx, enrol.New(fmt.Appendf(nil, "flow-%02d", i), a.ID, t0)); err != nil {
			t.Error(err)
		}
	})
	alive := 0
	for i := range n {
		if _, err := s.GetEnrolment(ctx, fmt.Appendf(nil, "flow-%02d", i)); err == nil {
			alive++
		} else if !errors.Is(err, store.ErrNotFound) {
			t.Fatal(err)
		}
	}
	if alive != 1 {
		t.Errorf("%d wizards open for one account, want 1", alive)
	}
	if _, err := s.GetEnrolment(ctx, []byte("other")); err != nil {
		t.Errorf("another account's wizard was replaced: %v", err)
	}
}

// testReserveAccountAttemptRace: the account's attempt budget is reserved
// under UpdateAccount's row lock, so of N simultaneous reservations against
// a budget of 5 exactly 5 pass — the property auth's lockout stands on.
func testReserveAccountAttemptRace(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := newAccount(t, s, account.Tiers, "budget@example.be", 0)
	errSpent := errors.New("budget spent")
	var ok atomic.Int32
	Burst(30, func(int) {
		_, err := s.UpdateAccount(ctx, a.ID, func(a *account.Account) error {
			if a.FailedAttempts >= 5 {
				return errSpent
			}
			a.FailedAttempts++
			return nil
		})
		switch {
		case err == nil:
			ok.Add(1)
		case !errors.Is(err, errSpent):
			t.Error(err)
		}
	})
	if got, _ := s.GetAccount(ctx, a.ID); ok.Load() != 5 || got.FailedAttempts != 5 {
		t.Errorf("%d reservations passed, count %d; want 5 and 5", ok.Load(), got.FailedAttempts)
	}
}

func testAddressFailures(t *testing.T, s store.Store) {
	ctx := context.Background()
	w := 15 * time.Minute
	for i := 1; i <= 3; i++ {
		if n, err := s.AddAddressFailure(ctx, "192.0.2.1", t0.Add(time.Duration(i)*time.Minute), w); err != nil || n != i {
			t.Errorf("failure %d: count %d, %v", i, n, err)
		}
	}
	// The window started at the first failure (t0+1m); it is over 15 minutes later.
	if n, _ := s.AddAddressFailure(ctx, "192.0.2.1", t0.Add(17*time.Minute), w); n != 1 {
		t.Errorf("first failure of a new window: %d, want 1", n)
	}
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			if _, err := s.AddAddressFailure(ctx, "2001:db8::/64", t0, w); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n, _ := s.AddAddressFailure(ctx, "2001:db8::/64", t0, w); n != 11 {
		t.Errorf("after 10 concurrent failures and one more: %d, want 11", n)
	}
	if n, err := s.DeleteAddressFailuresBefore(ctx, t0.Add(10*time.Minute)); err != nil || n != 1 {
		t.Errorf("DeleteAddressFailuresBefore = %d, %v; want 1 (the IPv6 window started at t0)", n, err)
	}
	if n, _ := s.AddAddressFailure(ctx, "192.0.2.1", t0.Add(18*time.Minute), w); n != 2 {
		t.Errorf("a live window was swept: count %d, want 2", n)
	}
}

func testAddressReservations(t *testing.T, s store.Store) {
	ctx := context.Background()
	w := 15 * time.Minute
	reserve := func(key string, at time.Time) bool {
		t.Helper()
		ok, err := s.ReserveAddressAttempt(ctx, key, at, w, 3)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	for i := 1; i <= 3; i++ {
		if !reserve("192.0.2.1", t0) {
			t.Fatalf("reservation %d of 3 refused", i)
		}
	}
	if reserve("192.0.2.1", t0.Add(time.Minute)) {
		t.Error("a 4th reservation passed a budget of 3")
	}
	if !reserve("192.0.2.2", t0) {
		t.Error("another key shares the budget")
	}
	if err := s.ReleaseAddressAttempt(ctx, "192.0.2.1", t0.Add(time.Minute), w); err != nil {
		t.Fatal(err)
	}
	if !reserve("192.0.2.1", t0.Add(time.Minute)) {
		t.Error("a released attempt was not given back")
	}
	if reserve("192.0.2.1", t0.Add(time.Minute)) {
		t.Error("one release gave back more than one attempt")
	}
	// The window started at t0: it is over 15 minutes later, with a full budget.
	if !reserve("192.0.2.1", t0.Add(w)) {
		t.Error("a new window did not restart the budget")
	}
	// Releasing never goes below zero, nor into an expired window.
	for range 3 {
		if err := s.ReleaseAddressAttempt(ctx, "192.0.2.9", t0, w); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.ReleaseAddressAttempt(ctx, "192.0.2.2", t0.Add(time.Hour), w); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		reserve("192.0.2.9", t0)
	}
	if reserve("192.0.2.9", t0) {
		t.Error("releases before any reservation raised the budget")
	}
}

// testAddressReservationRace: N simultaneous reservations against a budget
// of limit (released together by a barrier) → exactly limit succeed.
func testAddressReservationRace(t *testing.T, s store.Store) {
	ctx := context.Background()
	const n, limit = 40, 7
	var ok atomic.Int32
	Burst(n, func(int) {
		got, err := s.ReserveAddressAttempt(ctx, "198.51.100.7", t0, 15*time.Minute, limit)
		if err != nil {
			t.Error(err)
		}
		if got {
			ok.Add(1)
		}
	})
	if ok.Load() != limit {
		t.Errorf("%d of %d simultaneous reservations passed, want exactly %d", ok.Load(), n, limit)
	}
}

// Burst runs fn(0…n-1) in n goroutines held at a barrier and released
// together, and waits for them all: the shape of every race test.
func Burst(n int, fn func(i int)) {
	var ready, done sync.WaitGroup
	start := make(chan struct{})
	ready.Add(n)
	for i := range n {
		done.Go(func() {
			ready.Done()
			<-start
			fn(i)
		})
	}
	ready.Wait()
	close(start)
	done.Wait()
}

func testAudit(t *testing.T, s store.Store) {
	ctx := context.Background()
	for i := range 5 {
		e := store.AuditEvent{Time: t0.Add(time.Duration(i) * time.Hour), ActorID: 1, Actor: "admin@example.be", SubjectID: int64(10 + i%2),
			Subject: "x@example.be", OfficeID: int64(i % 2), Action: "login", Outcome: "success", Addr: "192.0.2.1", Detail: fmt.Sprint(i)}
		if err := s.AppendAudit(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	all, err := s.ListAudit(ctx, store.AuditFilter{})
	if err != nil || len(all) != 5 || all[0].Detail != "4" || !all[0].Time.Equal(t0.Add(4*time.Hour)) {
		t.Fatalf("ListAudit = %d events (first %+v), %v", len(all), all[0], err)
	}
	tests := []struct {
		f    store.AuditFilter
		want string
	}{
		{store.AuditFilter{SubjectID: 11}, "31"},
		{store.AuditFilter{OfficeID: 1}, "31"},
		{store.AuditFilter{From: t0.Add(time.Hour), To: t0.Add(3 * time.Hour)}, "21"},
		{store.AuditFilter{BeforeID: all[1].ID, Limit: 2}, "21"},
	}
	for _, tt := range tests {
		list, err := s.ListAudit(ctx, tt.f)
		if err != nil {
			t.Fatal(err)
		}
		got := ""
		for _, e := range list {
			got += e.Detail
		}
		if got != tt.want {
			t.Errorf("ListAudit(%+v) = %q, want %q", tt.f, got, tt.want)
		}
	}
}

func testOutbox(t *testing.T, s store.Store) {
	ctx := context.Background()
	msg := func(subject string) mail.Message {
		return mail.Message{Kind: "password_reset", To: mail.Address{Name: "Jan", Email: "jan@example.be"}, Lang: i18n.NL, Subject: subject, Text: "body", HTML: "<p>body</p>"}
	}
	id1, err := s.EnqueueMail(ctx, msg("one"), t0)
	if err != nil {
		t.Fatal(err)
	}
	id2, _ := s.EnqueueMail(ctx, msg("two"), t0.Add(time.Second))
	if _, err := s.EnqueueMail(ctx, mail.Message{Kind: "x", To: mail.Address{Email: "not an address"}, Lang: i18n.FR, Subject: "s", Text: "t"}, t0); err == nil {
		t.Error("EnqueueMail accepted an invalid message")
	}
	claimed, err := s.ClaimMail(ctx, t0, time.Minute, 10)
	if err != nil || len(claimed) != 1 || claimed[0].ID != id1 || claimed[0].Subject != "one" || claimed[0].Lang != i18n.NL || claimed[0].To.Name != "Jan" || claimed[0].HTML != "<p>body</p>" {
		t.Fatalf("ClaimMail at t0 = %+v, %v", claimed, err)
	}
	// Leased: a second worker does not get it; the second message is due now.
	claimed, _ = s.ClaimMail(ctx, t0.Add(2*time.Second), time.Minute, 10)
	if len(claimed) != 1 || claimed[0].ID != id2 {
		t.Fatalf("second claim = %+v, want only %d", claimed, id2)
	}
	if err := s.RetryMail(ctx, id1, t0.Add(5*time.Minute), "connection refused", false); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkMailSent(ctx, id2, t0.Add(3*time.Second)); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkMailSent(ctx, id2, t0.Add(4*time.Second)); err != nil {
		t.Errorf("marking a sent row again: %v", err)
	}
	if err := s.RetryMail(ctx, id2, t0, "late failure", true); err != nil {
		t.Errorf("RetryMail on a sent row: %v", err)
	}
	if claimed, _ := s.ClaimMail(ctx, t0.Add(4*time.Minute), time.Minute, 10); len(claimed) != 0 {
		t.Errorf("claimed before the retry time: %+v", claimed)
	}
	claimed, _ = s.ClaimMail(ctx, t0.Add(5*time.Minute), time.Minute, 10)
	if len(claimed) != 1 || claimed[0].ID != id1 || claimed[0].Attempts != 1 {
		t.Fatalf("claim after retry = %+v", claimed)
	}
	if err := s.RetryMail(ctx, id1, t0.Add(10*time.Minute), "gave up", true); err != nil {
		t.Fatal(err)
	}
	if claimed, _ := s.ClaimMail(ctx, t0.Add(time.Hour), time.Minute, 10); len(claimed) != 0 {
		t.Errorf("claimed a sent or given-up row: %+v", claimed)
	}
	if err := s.MarkMailSent(ctx, 999999, t0); err == nil {
		t.Error("MarkMailSent of an unknown id succeeded")
	}
	if err := s.RetryMail(ctx, 999999, t0, "", false); err == nil {
		t.Error("RetryMail of an unknown id succeeded")
	}
}

func testTransactions(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := newAccount(t, s, account.Tiers, "tx@example.be", 0)
	boom := errors.New("boom")
	err := s.InTx(ctx, func(tx store.Store) error {
		if err := tx.LinkAuthenticator(ctx, store.Authenticator{AccountID: a.ID, Secret: []byte("s"), Linked: t0}); err != nil {
			return err
		}
		if err := tx.AppendAudit(ctx, store.AuditEvent{Time: t0, SubjectID: a.ID, Action: "totp_linked", Outcome: "success"}); err != nil {
			return err
		}
		if _, err := tx.UpdateAccount(ctx, a.ID, func(a *account.Account) error { a.Name = "in tx"; return nil }); err != nil {
			return err
		}
		if _, err := tx.EnqueueMail(ctx, mail.Message{Kind: "authenticator_linked", To: mail.Address{Email: "tx@example.be"}, Lang: i18n.FR, Subject: "s", Text: "t"}, t0); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("InTx = %v, want boom", err)
	}
	if _, err := s.GetAuthenticator(ctx, a.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("rolled-back link is there: %v", err)
	}
	if list, _ := s.ListAudit(ctx, store.AuditFilter{SubjectID: a.ID}); len(list) != 0 {
		t.Errorf("rolled-back audit is there: %+v", list)
	}
	if got, _ := s.GetAccount(ctx, a.ID); got.Name == "in tx" {
		t.Error("rolled-back update is there")
	}
	if claimed, _ := s.ClaimMail(ctx, t0, time.Minute, 10); len(claimed) != 0 {
		t.Errorf("rolled-back mail is there: %+v", claimed)
	}
	err = s.InTx(ctx, func(tx store.Store) error {
		return tx.InTx(ctx, func(tx store.Store) error {
			return tx.AppendAudit(ctx, store.AuditEvent{Time: t0, SubjectID: a.ID, Action: "nested", Outcome: "success"})
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	if list, _ := s.ListAudit(ctx, store.AuditFilter{SubjectID: a.ID}); len(list) != 1 {
		t.Errorf("nested transaction wrote %d events, want 1", len(list))
	}
}
