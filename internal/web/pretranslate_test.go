package web

import (
	"bytes"
	"html/template"
	"io/fs"
	"strings"
	"testing"

	"sesame/internal/account"
	"sesame/internal/i18n"
)

// TestPretranslateSameOutput: the home page, pre-translated, is what the
// page with every T called at run time gives, in every language, logged in
// and not.
func TestPretranslateSameOutput(t *testing.T) {
	locales, _ := fs.Sub(localeFS, "locales")
	cat, err := i18n.Load(locales)
	if err != nil {
		t.Fatal(err)
	}
	acc := &account.Account{Type: account.Tiers, Identifier: "jan@example.be", Name: "Jan <Peeters> & \"Zonen\" + 'co'"}
	for _, lang := range i18n.Supported {
		for _, a := range []*account.Account{nil, acc} {
			b := Base{Lang: lang, Title: "T", CSRF: "csrf", Path: "/", AppName: "Fin'agora", AppURL: "https://app.example", Account: a, Office: "O & O", cat: cat}
			render := func(pre bool) string {
				tpl, err := template.New("home").Funcs(funcs).ParseFS(pageFS, "pages/layout.html", "pages/fields.html", "pages/home.html")
				if err != nil {
					t.Fatal(err)
				}
				if pre {
					pretranslate(tpl, cat, lang)
				}
				var buf bytes.Buffer
				// The home page's own data: the recovery codes left, for a
				// logged-in account with an authenticator.
				page := homePage{Base: b, Linked: a != nil, CodesLeft: 7, FieldError: map[string]string{}}
				if err := tpl.ExecuteTemplate(&buf, "layout", page); err != nil {
					t.Fatal(err)
				}
				return strings.ReplaceAll(buf.String(), "&#43;", "+")
			}
			if got, want := render(true), render(false); got != want {
				t.Errorf("%s, logged in %v: pre-translated page differs:\n%s\n---- want ----\n%s", lang, a != nil, got, want)
			}
		}
	}
}
