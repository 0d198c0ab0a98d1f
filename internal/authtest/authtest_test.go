package authtest

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"sesame/internal/account"
	"sesame/internal/i18n"
	"sesame/internal/passhash"
)

// TestEnv: the service reads the test's clock, and CreateAccount stores an
// account whose password verifies, in the office made for it.
func TestEnv(t *testing.T) {
	ctx := context.Background()
	clk := NewClock(Start)
	e := New(t, clk)
	if got := e.Auth.Now(); !got.Equal(Start) {
		t.Errorf("Now() = %v, want %v", got, Start)
	}
	clk.Add(90 * time.Second)
	if got, want := e.Auth.Now(), Start.Add(90*time.Second); !got.Equal(want) {
		t.Errorf("after Add: Now() = %v, want %v", got, want)
	}
	if got, want := e.Auth.Hasher.Params(), passhash.TestParams(); got != want {
		t.Errorf("hash parameters %+v, want the test ones %+v", got, want)
	}
	o := e.CreateOffice(t, "Cabinet Peeters")
	a := e.CreateAccount(t, account.Account{Type: account.Tiers, Identifier: "jan@example.be", Name: "Jan", OfficeID: o.ID, Lang: i18n.NL}, "correct horse battery")
	got, err := e.DB.GetAccount(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.OfficeID != o.ID || !got.Created.Equal(clk.Now()) {
		t.Errorf("stored account: office %d, created %v; want office %d, created %v", got.OfficeID, got.Created, o.ID, clk.Now())
	}
	for _, tt := range []struct {
		password string
		want     bool
	}{{"correct horse battery", true}, {"correct horse battery!", false}} {
		if ok, _, err := e.Auth.Hasher.Verify(ctx, got.PasswordHash, tt.password); ok != tt.want || err != nil {
			t.Errorf("Verify(%q) = %v, %v; want %v", tt.password, ok, err, tt.want)
		}
	}
}

// TestWallClockAndOptions: without a Clock the service tells the real
// time; options change the service New returns.
func TestWallClockAndOptions(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	e := New(t, nil, WithParams(passhash.DefaultParams()), WithLog(log))
	if d := time.Since(e.Auth.Now()); d < 0 || d > time.Minute {
		t.Errorf("Now() is %v away from the wall clock", d)
	}
	if got, want := e.Auth.Hasher.Params(), passhash.DefaultParams(); got != want {
		t.Errorf("hash parameters %+v, want %+v", got, want)
	}
	if e.Auth.Log != log {
		t.Error("WithLog did not set the service's log")
	}
}
