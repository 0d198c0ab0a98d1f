package mail

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"sesame/internal/i18n"
)

// when is 13:05 UTC, 14:05 in Brussels (winter time).
var when = time.Date(2026, 11, 22, 13, 5, 0, 0, time.UTC)

func TestRenderEveryKindInEveryLanguage(t *testing.T) {
	r, err := NewRenderer()
	if err != nil {
		t.Fatal(err)
	}
	to := Address{Name: "Jan Peeters", Email: "jan.peeters@example.be"}
	const url = "https://sesame.example/password/reset?token=abc123&lang=x"
	dates := map[i18n.Lang]string{i18n.FR: "22/11/2026 à 14:05", i18n.NL: "22/11/2026 om 14:05", i18n.EN: "22 Nov 2026 at 14:05"}
	admin := map[i18n.Lang]string{i18n.FR: "administrateur de bureau", i18n.NL: "kantoorbeheerder", i18n.EN: "office administrator"}
	minutes := map[i18n.Lang]string{i18n.FR: "10 minutes", i18n.NL: "10 minuten", i18n.EN: "10 minutes"}

	for _, lang := range i18n.Supported {
		cases := []struct {
			data  any
			facts []string
		}{
			{PasswordReset{Name: "Jan", URL: url}, []string{"Jan", url, minutes[lang]}},
			{PasswordChanged{Name: "Jan", When: when, IP: "192.0.2.7"}, []string{"Jan", dates[lang], "192.0.2.7"}},
			{AuthenticatorLinked{Name: "Jan", App: "Finagora", When: when}, []string{"Jan", "Finagora", dates[lang]}},
			{AuthenticatorReset{Name: "Jan", By: "Marie Dubois", ByRole: RoleOfficeAdmin, When: when}, []string{"Jan", "Marie Dubois", admin[lang], dates[lang]}},
			{AuthenticatorRecovered{Name: "Jan", When: when, IP: "::ffff:192.0.2.9"}, []string{"Jan", dates[lang], "192.0.2.9"}},
			{HelpRequested{Name: "Marie", Requester: "jan@example.be", RequesterName: "Jan Peeters", Kind: "totp", Message: "perdu\r\nBcc: x", URL: url, IP: "192.0.2.9", When: when},
				[]string{"Marie", "Jan Peeters", "jan@example.be", dates[lang], "192.0.2.9", "perdu Bcc: x", url}},
			{QuestionReset{Name: "Jan", By: "Marie Dubois", ByRole: RoleSupport, When: when}, []string{"Jan", "Marie Dubois", "support", dates[lang]}},
			{AccountUnlocked{Name: "Jan", By: "Marie Dubois", ByRole: RoleOfficeAdmin, When: when}, []string{"Jan", "Marie Dubois", admin[lang], dates[lang]}},
			{AccountDisabled{Name: "Jan", By: "Marie Dubois", ByRole: RoleSupport, When: when}, []string{"Jan", "Marie Dubois", dates[lang]}},
			{AccountEnabled{Name: "Jan", By: "Marie Dubois", ByRole: RoleSupport, When: when}, []string{"Jan", "Marie Dubois", dates[lang]}},
		}
		seen := map[string]bool{}
		for _, c := range cases {
			kind := kindOf(t, c.data)
			seen[kind] = true
			t.Run(string(lang)+"/"+kind, func(t *testing.T) {
				m, err := r.Render(lang, to, c.data)
				if err != nil {
					t.Fatal(err)
				}
				if m.Kind != kind || m.Lang != lang || m.To != to {
					t.Errorf("got kind %q lang %q to %v, want %q %q %v", m.Kind, m.Lang, m.To, kind, lang, to)
				}
				for _, f := range c.facts {
					if !strings.Contains(m.Text, f) {
						t.Errorf("text lacks %q:\n%s", f, m.Text)
					}
				}
				checkRendered(t, m)
			})
		}
		for kind := range Kinds {
			if !seen[kind] {
				t.Errorf("%s: kind %q is not tested", lang, kind)
			}
		}
	}
}

// kindOf finds the kind name of data's type in Kinds.
func kindOf(t *testing.T, data any) string {
	t.Helper()
	for kind, sample := range Kinds {
		if reflect.TypeOf(sample) == reflect.TypeOf(data) {
			return kind
		}
	}
	t.Fatalf("%T is not in Kinds", data)
	return ""
}

// checkRendered catches what a template or catalog mistake leaves behind.
func checkRendered(t *testing.T, m Message) {
	t.Helper()
	for _, part := range []string{m.Subject, m.Text, m.HTML} {
		for _, bad := range []string{"<no value>", "{{", "%!", ".subject", ".intro", "role.", "duration."} {
			if strings.Contains(part, bad) {
				t.Errorf("rendered output contains %q:\n%s", bad, part)
			}
		}
	}
	if !strings.Contains(m.HTML, `lang="`+string(m.Lang)+`"`) {
		t.Errorf("HTML lacks lang=%q", m.Lang)
	}
	if err := m.Validate(); err != nil {
		t.Error(err)
	}
}

func TestRenderSelfServiceWording(t *testing.T) {
	r, err := NewRenderer()
	if err != nil {
		t.Fatal(err)
	}
	to := Address{Email: "jan@example.be"}
	want := map[i18n.Lang]string{
		i18n.FR: "Vous avez réinitialisé votre application d'authentification le 22/11/2026 à 14:05.",
		i18n.NL: "U hebt uw authenticatie-app gereset op 22/11/2026 om 14:05.",
		i18n.EN: "You reset your authenticator app on 22 Nov 2026 at 14:05.",
	}
	for lang, sentence := range want {
		m, err := r.Render(lang, to, AuthenticatorReset{By: Self, When: when})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(m.Text, sentence) {
			t.Errorf("%s: text lacks %q:\n%s", lang, sentence, m.Text)
		}
		checkRendered(t, m)
	}
}

func TestRenderSummerTimeInBrussels(t *testing.T) {
	r, err := NewRenderer()
	if err != nil {
		t.Fatal(err)
	}
	m, err := r.Render(i18n.EN, Address{Email: "jan@example.be"}, PasswordChanged{When: time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(m.Text, "1 Jul 2026 at 14:00") {
		t.Errorf("text lacks the Brussels summer time:\n%s", m.Text)
	}
}

func TestRenderHostileNames(t *testing.T) {
	r, err := NewRenderer()
	if err != nil {
		t.Fatal(err)
	}
	to := Address{Name: "Jan\r\nBcc: eve@evil.example", Email: "jan@example.be"}
	m, err := r.Render(i18n.EN, to, AuthenticatorReset{
		Name: "<script>alert(1)</script>", By: "Eve\r\nX-Evil: 1 =?utf-8?q?x?=", ByRole: RoleSupport, When: when,
	})
	if err != nil {
		t.Fatal(err)
	}
	if m.To.Name != "Jan Bcc: eve@evil.example" {
		t.Errorf("To.Name = %q, want the line break flattened", m.To.Name)
	}
	if strings.Contains(m.HTML, "<script>") || !strings.Contains(m.HTML, "&lt;script&gt;") {
		t.Errorf("HTML does not escape the name:\n%s", m.HTML)
	}
	if strings.Contains(m.Text, "Eve\r") || strings.Contains(m.Text, "Eve\n") || !strings.Contains(m.Text, "Eve X-Evil: 1 = ?utf-8?q?x?=") {
		t.Errorf("text does not flatten the actor's name:\n%s", m.Text)
	}
	checkRendered(t, m)
}

func TestRenderRejects(t *testing.T) {
	r, err := NewRenderer()
	if err != nil {
		t.Fatal(err)
	}
	to := Address{Email: "jan@example.be"}
	tests := []struct {
		name string
		lang i18n.Lang
		to   Address
		data any
	}{
		{"unknown type", i18n.EN, to, struct{}{}},
		{"pointer type", i18n.EN, to, &PasswordReset{URL: "https://x.example/"}},
		{"unsupported language", "de", to, PasswordReset{URL: "https://x.example/"}},
		{"bad recipient", i18n.EN, Address{Email: "jan"}, PasswordReset{URL: "https://x.example/"}},
		{"javascript link", i18n.EN, to, PasswordReset{URL: "javascript:alert(1)"}},
		{"relative link", i18n.EN, to, PasswordReset{URL: "/password/reset?token=x"}},
		{"link with credentials", i18n.EN, to, PasswordReset{URL: "https://u:p@x.example/"}},
		{"link with a line break", i18n.EN, to, PasswordReset{URL: "https://x.example/\r\nBcc: x"}},
		{"negative expiry", i18n.EN, to, PasswordReset{URL: "https://x.example/", Expires: -time.Minute}},
		{"missing date", i18n.EN, to, PasswordChanged{}},
		{"bad ip", i18n.EN, to, PasswordChanged{When: when, IP: "not-an-ip"}},
		{"unknown role", i18n.EN, to, AuthenticatorReset{By: "Eve", ByRole: "hacker", When: when}},
		{"self-disabled", i18n.EN, to, AccountDisabled{By: Self, When: when}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := r.Render(tt.lang, tt.to, tt.data); err == nil {
				t.Fatal("Render() succeeded, want an error")
			} else if tt.name != "unknown type" && tt.name != "pointer type" && !errors.Is(err, ErrInvalid) {
				t.Errorf("error %v does not wrap ErrInvalid", err)
			}
		})
	}
}
