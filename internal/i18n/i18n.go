// Package i18n holds Sesame's languages, how a request's language is chosen,
// and the translation catalogs that pages and e-mails are rendered from.
//
// A catalog is a folder of fr.json, nl.json and en.json with the same dotted,
// stable keys ("login.title", "error.locked"). Messages are Go text/template
// strings evaluated by go-i18n, so a message can name its data ({{.Name}}) and
// plural forms are chosen by each language's CLDR rules.
package i18n

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"slices"
	"sort"
	"strings"

	goi18n "github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
)

// Lang is one of the languages Sesame speaks, as its lower-case ISO 639-1 code.
type Lang string

// The supported languages. French is first: the guides Sesame comes from are French first.
const (
	FR Lang = "fr"
	NL Lang = "nl"
	EN Lang = "en"
)

// Supported lists every language, in the order the language switch shows them.
var Supported = []Lang{FR, NL, EN}

// CookieName is the cookie that remembers an explicit language choice.
const CookieName = "lang"

var matcher = language.NewMatcher([]language.Tag{language.French, language.Dutch, language.English})

// Parse returns the language named by s ("fr", "NL", ...), and whether it is supported.
func Parse(s string) (Lang, bool) {
	l := Lang(strings.ToLower(strings.TrimSpace(s)))
	return l, slices.Contains(Supported, l)
}

// Negotiate picks the language of a request: an explicit choice (a query
// parameter or the remembered cookie) wins, then the Accept-Language header,
// then fallback. It never fails: malformed headers are ignored.
func Negotiate(explicit, acceptLanguage string, fallback Lang) Lang {
	if l, ok := Parse(explicit); ok {
		return l
	}
	// Bound the work done on a hostile header.
	if acceptLanguage != "" && len(acceptLanguage) <= 512 {
		tags, _, err := language.ParseAcceptLanguage(acceptLanguage)
		if err == nil && len(tags) > 0 {
			_, idx, conf := matcher.Match(tags...)
			if conf != language.No {
				return Supported[idx]
			}
		}
	}
	return fallback
}

// Tag returns the BCP 47 tag of l, for the html lang attribute and for formatting.
func (l Lang) Tag() language.Tag {
	switch l {
	case FR:
		return language.French
	case NL:
		return language.Dutch
	default:
		return language.English
	}
}

// Catalog translates message keys into the supported languages.
type Catalog struct {
	localizers map[Lang]*goi18n.Localizer
	keys       map[Lang][]string
	// plain holds, per language, the messages that need no data (no
	// template action, no plural forms), translated once at Load: a page
	// asks for dozens of them, and go-i18n's Localize costs microseconds
	// each.
	plain map[Lang]map[string]string
}

// Load reads the catalog in fsys: for each language, the file <lang>.json and
// any <feature>.<lang>.json beside it (so each feature keeps its own file),
// merged. A key defined twice is an error, and every language must have
// exactly the same keys: a missing translation is a start-up error, never a
// blank on a page.
func Load(fsys fs.FS) (*Catalog, error) {
	bundle := goi18n.NewBundle(language.English)
	bundle.RegisterUnmarshalFunc("json", json.Unmarshal)
	c := &Catalog{localizers: map[Lang]*goi18n.Localizer{}, keys: map[Lang][]string{}, plain: map[Lang]map[string]string{}}
	for _, l := range Supported {
		files, err := fs.Glob(fsys, "*"+string(l)+".json")
		if err != nil {
			return nil, fmt.Errorf("i18n: %w", err)
		}
		seen := map[string]string{}
		plain := map[string]bool{} // keys whose message is a string without template actions
		for _, name := range files {
			if name != string(l)+".json" && !strings.HasSuffix(name, "."+string(l)+".json") {
				continue
			}
			data, err := fs.ReadFile(fsys, name)
			if err != nil {
				return nil, fmt.Errorf("i18n: %w", err)
			}
			var raw map[string]json.RawMessage
			if err := json.Unmarshal(data, &raw); err != nil {
				return nil, fmt.Errorf("i18n: %s: %w", name, err)
			}
			for k, v := range raw {
				if other, dup := seen[k]; dup {
					return nil, fmt.Errorf("i18n: key %q is in both %s and %s", k, other, name)
				}
				seen[k] = name
				var text string
				if json.Unmarshal(v, &text) == nil && !strings.Contains(text, "{{") {
					plain[k] = true
				}
			}
			if _, err := bundle.ParseMessageFileBytes(data, strings.TrimSuffix(name, "."+string(l)+".json")+"."+string(l)+".json"); err != nil {
				return nil, fmt.Errorf("i18n: %s: %w", name, err)
			}
		}
		if len(seen) == 0 {
			return nil, fmt.Errorf("i18n: no %s.json catalog", l)
		}
		keys := make([]string, 0, len(seen))
		for k := range seen {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		c.keys[l] = keys
		c.localizers[l] = goi18n.NewLocalizer(bundle, string(l))
		c.plain[l] = map[string]string{}
		for k := range plain {
			if msg, err := c.localizers[l].Localize(&goi18n.LocalizeConfig{MessageID: k}); err == nil {
				c.plain[l][k] = msg
			}
		}
	}
	for _, l := range Supported[1:] {
		if missing, extra := diff(c.keys[Supported[0]], c.keys[l]); len(missing)+len(extra) > 0 {
			return nil, fmt.Errorf("i18n: the %s catalog differs from %s: missing %v, extra %v", l, Supported[0], missing, extra)
		}
	}
	return c, nil
}

func diff(want, got []string) (missing, extra []string) {
	for _, k := range want {
		if _, ok := slices.BinarySearch(got, k); !ok {
			missing = append(missing, k)
		}
	}
	for _, k := range got {
		if _, ok := slices.BinarySearch(want, k); !ok {
			extra = append(extra, k)
		}
	}
	return missing, extra
}

// Keys returns the catalog's message keys, sorted.
func (c *Catalog) Keys() []string { return slices.Clone(c.keys[Supported[0]]) }

// Has reports whether key is in the catalog.
func (c *Catalog) Has(key string) bool {
	_, ok := slices.BinarySearch(c.keys[Supported[0]], key)
	return ok
}

// T translates key into l with optional template data. An unknown key is a
// programming error; it is returned as the key itself so that a page still
// renders and the catalog test finds it.
func (c *Catalog) T(l Lang, key string, data any) string {
	if data == nil {
		if msg, ok := c.plain[l][key]; ok {
			return msg
		}
	}
	loc, ok := c.localizers[l]
	if !ok {
		loc = c.localizers[EN]
	}
	s, err := loc.Localize(&goi18n.LocalizeConfig{MessageID: key, TemplateData: data})
	if err != nil {
		return key
	}
	return s
}

// N translates a plural message key for count n; the message data gets .Count.
func (c *Catalog) N(l Lang, key string, n int) string {
	loc, ok := c.localizers[l]
	if !ok {
		loc = c.localizers[EN]
	}
	s, err := loc.Localize(&goi18n.LocalizeConfig{MessageID: key, PluralCount: n, TemplateData: map[string]int{"Count": n}})
	if err != nil {
		return key
	}
	return s
}
