package web

import (
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"strings"
	"testing"

	"sesame/internal/account"
	"sesame/internal/i18n"
	"sesame/internal/store/storetest"
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

// TestPagesAtOnceShowTheirOwnAccount: many logged-in people's home pages
// rendered at the same moment (page buffers are pooled, the layout's parts
// shared) each show their own account, in their own language, with their
// own menu.
func TestPagesAtOnceShowTheirOwnAccount(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	const pw = "Un mot de passe assez long"
	langs := []string{"fr", "nl", "en"}
	type person struct {
		b          *browser
		identifier string
		lang       string
		admin      bool
	}
	var people []person
	for i := range 6 {
		id := fmt.Sprintf("p%d@example.be", i)
		typ := account.Client
		if i%2 == 1 {
			typ = account.Tiers
		}
		a := e.createAccount(typ, id, pw, i18n.FR)
		if i == 5 {
			if _, err := e.store.UpdateAccount(t.Context(), a.ID, func(a *account.Account) error {
				a.Role = account.RoleOfficeAdmin
				return nil
			}); err != nil {
				t.Fatal(err)
			}
		}
		b := e.browser(langs[i%3])
		secret := b.enrol(typ, id, pw)
		if st, _ := b.login(typ, id, pw, e.code(secret)); st != http.StatusSeeOther && st != http.StatusOK {
			t.Fatalf("login of %s: %d", id, st)
		}
		people = append(people, person{b, id, langs[i%3], i == 5})
	}
	storetest.Burst(60, func(i int) {
		p := people[i%len(people)]
		req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/", nil)
		req.Header.Set("Accept-Language", p.lang)
		resp, err := p.b.c.Do(req)
		if err != nil {
			t.Error(err)
			return
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		body := string(raw)
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, `<html lang="`+p.lang+`">`) || !strings.Contains(body, p.identifier) {
			t.Errorf("%s: %d, not their page in %s:\n%s", p.identifier, resp.StatusCode, p.lang, body)
			return
		}
		for _, other := range people {
			if other.identifier != p.identifier && strings.Contains(body, other.identifier) {
				t.Errorf("%s's page shows %s", p.identifier, other.identifier)
			}
		}
		if strings.Contains(body, `href="/admin/accounts"`) != p.admin {
			t.Errorf("%s's page: console in the menu = %v", p.identifier, !p.admin)
		}
	})
}
