package web

import (
	"io/fs"
	"strings"
	"testing"

	"sesame/internal/i18n"
)

func TestChrome(t *testing.T) {
	locales, _ := fs.Sub(localeFS, "locales")
	cat, err := i18n.Load(locales)
	if err != nil {
		t.Fatal(err)
	}
	for _, lang := range i18n.Supported {
		c := newChrome(cat, lang)
		langs := string(c.langs)
		if want := `<strong aria-current="true">` + string(lang) + `</strong>`; !strings.Contains(langs, want) {
			t.Errorf("%s: language switch %q does not mark its own language", lang, langs)
		}
		for _, other := range i18n.Supported {
			if link := `<a href="?lang=` + string(other) + `"`; strings.Contains(langs, link) == (other == lang) {
				t.Errorf("%s: language switch %q: link to %s present = %v", lang, langs, other, other != lang)
			}
		}
		for _, tc := range []struct {
			path    string
			admin   bool
			current string // the entry marked, "" for none
			entries int
		}{
			{"/", false, `href="/"`, 6},
			{"/password", false, `href="/password"`, 6},
			{"/password/internal", true, `href="/password/internal"`, 8},
			{"/admin/requests", true, `href="/admin/requests"`, 8},
			{"/admin/requests", false, "", 6}, // not shown, so not marked
			{"/password/reset/abc", false, "", 6},
			{"/login", true, "", 8},
		} {
			menu := string(c.menu(tc.path, tc.admin))
			if n := strings.Count(menu, "<li>"); n != tc.entries {
				t.Errorf("%s %s admin=%v: %d entries, want %d", lang, tc.path, tc.admin, n, tc.entries)
			}
			if strings.Contains(menu, "/admin/") != tc.admin {
				t.Errorf("%s %s admin=%v: console entries shown = %v", lang, tc.path, tc.admin, !tc.admin)
			}
			marked := strings.Count(menu, `aria-current="page"`)
			switch {
			case tc.current == "" && marked != 0:
				t.Errorf("%s %s: an entry is marked current:\n%s", lang, tc.path, menu)
			case tc.current != "" && (marked != 1 || !strings.Contains(menu, tc.current+` aria-current="page"`)):
				t.Errorf("%s %s: want only %s marked:\n%s", lang, tc.path, tc.current, menu)
			}
			if want := cat.T(lang, "nav.home", nil); !strings.Contains(menu, ">"+want+"<") {
				t.Errorf("%s: menu without its translated home entry %q:\n%s", lang, want, menu)
			}
		}
	}
}

// TestLangSwitchKeepsQuery: the login page of an application's pending
// log-in keeps authz in the language links, escaped; nothing else of the
// query is written back, and the lang parameter itself is replaced.
func TestLangSwitchKeepsQuery(t *testing.T) {
	locales, _ := fs.Sub(localeFS, "locales")
	cat, err := i18n.Load(locales)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		query string
		want  []string // links present
	}{
		{"", []string{`href="?lang=nl"`, `href="?lang=en"`}},
		{"lang=fr", []string{`href="?lang=nl"`, `href="?lang=en"`}},
		{"authz=abc&lang=fr", []string{`href="?authz=abc&amp;lang=nl"`, `href="?authz=abc&amp;lang=en"`}},
		{"identifier=jan%40example.be&authz=abc&notice=x", []string{`href="?authz=abc&amp;lang=nl"`}},
		{`authz="><script>`, []string{`href="?authz=%22%3E%3Cscript%3E&amp;lang=nl"`}},
		{"authz=" + strings.Repeat("x", maxAuthzID+1), []string{`href="?lang=nl"`}}, // too long to be one
	} {
		b := Base{Lang: i18n.FR, cat: cat, chrome: newChrome(cat, i18n.FR), query: tc.query}
		got := string(b.LangSwitch())
		for _, want := range tc.want {
			if !strings.Contains(got, want) {
				t.Errorf("query %q: switch %s lacks %s", tc.query, got, want)
			}
		}
		if strings.Contains(got, "<script") || strings.Contains(got, "lang=fr") || strings.Contains(got, "identifier") || strings.Contains(got, "notice") {
			t.Errorf("query %q: switch %s", tc.query, got)
		}
	}
}
