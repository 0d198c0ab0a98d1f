package web

import (
	"strings"
	"testing"

	"sesame/internal/account"
	"sesame/internal/i18n"
)

func TestEnrolThenLogin(t *testing.T) {
	e := newEnv(t)
	e.createAccount(account.Tiers, "jan@example.be", "correct horse battery", i18n.NL)
	b := e.browser("nl-BE")
	secret := b.enrol(account.Tiers, "jan@example.be", "correct horse battery")
	st, body := b.login(account.Tiers, "jan@example.be", "correct horse battery", e.code(secret))
	if st != 200 || !strings.Contains(body, "Welkom, Test jan@example.be") || !strings.Contains(body, "Cabinet Peeters") {
		t.Fatalf("login: %d\n%s", st, body)
	}
}
