package web

import (
	"html/template"
	"net/url"
	"strings"

	"sesame/internal/i18n"
)

// The layout's language switch and menu are the same on every page but for
// the language, the entry of the page shown and the console's two entries,
// so they are written out once per language and case when the server starts
// and a page picks its copy. Written as template actions they were some
// thirty reflected look-ups and comparisons per page, a third of its
// rendering.

// menuEntry is one entry of every page's menu.
type menuEntry struct {
	path, key string
	admin     bool // shown to those who may use the console only
}

var menuEntries = []menuEntry{
	{"/", "nav.home", false},
	{"/password", "nav.password", false},
	{"/totp/init", "nav.totp_init", false},
	{"/totp/reset", "nav.totp_reset", false},
	{"/password/reset", "nav.password_reset", false},
	{"/password/internal", "nav.password_internal", false},
	{"/admin/accounts", "nav.admin", true},
	{"/admin/requests", "nav.requests", true},
}

// chrome is one language's pre-written layout parts.
type chrome struct {
	langs template.HTML
	// menus[admin][i] is the menu with entry i marked as the current
	// page; menus[admin][len(menuEntries)] marks none.
	menus [2][]template.HTML
}

func newChrome(cat *i18n.Catalog, lang i18n.Lang) *chrome {
	c := &chrome{langs: langLinks(lang, url.Values{})}
	var b strings.Builder
	for admin := range 2 {
		for current := range len(menuEntries) + 1 {
			b.Reset()
			for i, e := range menuEntries {
				if e.admin && admin == 0 {
					continue
				}
				b.WriteString(`<li><a href="` + e.path + `"`)
				if i == current {
					b.WriteString(` aria-current="page"`)
				}
				b.WriteString(">" + template.HTMLEscapeString(cat.T(lang, e.key, nil)) + "</a></li>\n")
			}
			c.menus[admin] = append(c.menus[admin], template.HTML(b.String()))
		}
	}
	return c
}

// menu returns the menu for the page at path.
func (c *chrome) menu(path string, admin bool) template.HTML {
	current := len(menuEntries)
	for i, e := range menuEntries {
		if e.path == path {
			current = i
			break
		}
	}
	a := 0
	if admin {
		a = 1
	}
	return c.menus[a][current]
}

func (b Base) chromeOrNew() *chrome {
	if b.chrome != nil {
		return b.chrome
	}
	return newChrome(b.cat, b.Lang)
}

// LangSwitch is the language switch's entries. The login page of an
// application's sign-in (?authz=…) keeps the pending authorization in the
// links, so switching language does not lose the application; nothing else
// of the address is written back into the page.
func (b Base) LangSwitch() template.HTML {
	q, _ := url.ParseQuery(b.query)
	authz := q.Get("authz")
	if authz == "" || len(authz) > maxAuthzID {
		return b.chromeOrNew().langs
	}
	return langLinks(b.Lang, url.Values{"authz": {authz}})
}

// langLinks is the language switch of a page in lang, each link with the
// parameters q and its lang. The links are query-only, so they keep the page's
// path, whatever it is, without writing it into the page.
func langLinks(lang i18n.Lang, q url.Values) template.HTML {
	var b strings.Builder
	for i, l := range i18n.Supported {
		if i > 0 {
			b.WriteString(" | ")
		}
		if l == lang {
			b.WriteString(`<strong aria-current="true">` + string(l) + `</strong>`)
			continue
		}
		q.Set("lang", string(l))
		b.WriteString(`<a href="?` + template.HTMLEscapeString(q.Encode()) + `" hreflang="` + string(l) + `" lang="` + string(l) + `">` + string(l) + `</a>`)
	}
	return template.HTML(b.String())
}

// Menu is the menu's entries, the current page's marked.
func (b Base) Menu() template.HTML { return b.chromeOrNew().menu(b.Path, b.IsAdmin()) }
