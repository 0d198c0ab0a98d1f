package auth_test

import (
	"context"
	"errors"
	"testing"

	"sesame/internal/account"
	"sesame/internal/auth"
	"sesame/internal/i18n"
)

// LoginAny logs in to a relying application that accepts Tiers and Group
// accounts without asking the type; it asks only when the same identifier
// and password open accounts of both types.
func TestLoginAny(t *testing.T) {
	t.Parallel()
	types := []account.Type{account.Tiers, account.Group}
	f := newFixture(t)
	mk := func(typ account.Type, id, password string) ([]byte, account.Account) {
		a := f.env.CreateAccount(t, account.Account{Type: typ, Identifier: id, Name: "N", Lang: i18n.FR}, password)
		token, err := f.svc.StartEnrolment(context.Background(), auth.Credentials{Type: typ, Identifier: id, Password: password, Addr: addr})
		if err != nil {
			t.Fatal(err)
		}
		if err := f.svc.ChooseQuestion(context.Background(), token, "first_pet", "", "Minou", addr); err != nil {
			t.Fatal(err)
		}
		e, _ := f.svc.Enrolment(context.Background(), token)
		if _, err := f.svc.ConfirmCode(context.Background(), token, f.code(e.Secret), addr); err != nil {
			t.Fatal(err)
		}
		return e.Secret, a
	}
	broker, brokerAcc := mk(account.Tiers, "broker@example.be", pass)
	staff, staffAcc := mk(account.Group, "staff@example.be", pass)
	twoT, twoTAcc := mk(account.Tiers, "two@example.be", pass)
	_, twoGAcc := mk(account.Group, "two@example.be", "another passphrase")
	sameT, _ := mk(account.Tiers, "same@example.be", pass)
	mk(account.Group, "same@example.be", pass)
	mk(account.Client, "client@example.be", pass)
	f.clock.Add(30e9)

	tests := []struct {
		name    string
		id, pw  string
		secret  []byte
		wantID  int64
		wantErr error
	}{
		{"a broker", "broker@example.be", pass, broker, brokerAcc.ID, nil},
		{"staff", "staff@example.be", pass, staff, staffAcc.ID, nil},
		{"two accounts, the password picks the Tiers one", "two@example.be", pass, twoT, twoTAcc.ID, nil},
		{"same password on both", "same@example.be", pass, sameT, 0, auth.ErrSeveralAccounts},
		{"a type the application does not accept", "client@example.be", pass, nil, 0, auth.ErrCredentials},
		{"unknown", "nobody@example.be", pass, nil, 0, auth.ErrCredentials},
		{"wrong password", "broker@example.be", "not the passphrase", broker, 0, auth.ErrCredentials},
	}
	for _, tt := range tests {
		code := "123456"
		if tt.secret != nil {
			code = f.code(tt.secret)
		}
		a, err := f.svc.LoginAny(context.Background(), f.creds(tt.id, tt.pw, code), types)
		if !errors.Is(err, tt.wantErr) || a.ID != tt.wantID && tt.wantErr == nil {
			t.Errorf("%s: account %d, %v; want %d, %v", tt.name, a.ID, err, tt.wantID, tt.wantErr)
		}
		f.clock.Add(30e9)
	}
	// The right password of the Tiers account is a wrong one for the Group
	// account of the same identifier, yet it counts against neither.
	for _, id := range []int64{twoTAcc.ID, twoGAcc.ID} {
		if got, _ := f.db.GetAccount(context.Background(), id); got.FailedAttempts != 0 {
			t.Errorf("account %d: %d failures after a good login", id, got.FailedAttempts)
		}
	}
	// A wrong password counts against the account it was tried on.
	if got, _ := f.db.GetAccount(context.Background(), brokerAcc.ID); got.FailedAttempts != 1 {
		t.Errorf("broker: %d failures after one wrong password, want 1", got.FailedAttempts)
	}
}
