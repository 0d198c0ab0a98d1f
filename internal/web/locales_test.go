package web

import (
	"io/fs"
	"testing"

	"sesame/internal/i18n"
)

// sameInEnglish lists the messages that read the same in French or Dutch
// as in English, each because it is that language's word too (or the
// guides' word, as "Login" on their buttons). Any other message equal to
// its English one was left untranslated.
var sameInEnglish = map[i18n.Lang]map[string]bool{
	i18n.FR: {
		"enrol.login": true, "enrol.next": true, "field.totp_placeholder": true, "login.init_link": true,
		"nav.menu": true, "type.client": true, "type.group": true, "type.tiers": true,
		"admin.requests.col.action": true, "admin.account.actions": true, "admin.audit.col.action": true,
		"admin.role.support": true, "admin.search.pages": true, "admin.search.title": true, "nav.admin": true,
	},
	i18n.NL: {
		"enrol.login": true, "field.totp_placeholder": true, "field.totp_short": true, "home.title": true,
		"nav.home": true, "nav.menu": true, "type.client": true, "type.group": true, "type.tiers": true,
		"audit.action.login": true, "admin.account.title": true,
		"admin.audit.col.detail": true, "admin.audit.col.subject": true, "admin.role.support": true,
	},
}

func TestNothingLeftInEnglish(t *testing.T) {
	locales, _ := fs.Sub(localeFS, "locales")
	cat, err := i18n.Load(locales)
	if err != nil {
		t.Fatal(err)
	}
	// Every name the messages use, so conditional parts show too.
	data := map[string]any{"Count": 2, "N": 2, "Max": 3, "Pages": 2, "Page": 1, "NoPassword": true}
	for _, name := range []string{"Action", "App", "By", "Code", "ID", "Identifier", "Kind", "Name", "Office", "Role", "Type", "Until", "Valid", "When", "Why"} {
		data[name] = "x"
	}
	for _, lang := range []i18n.Lang{i18n.FR, i18n.NL} {
		for _, key := range cat.Keys() {
			en, got := cat.T(i18n.EN, key, data), cat.T(lang, key, data)
			if got == en && !sameInEnglish[lang][key] {
				t.Errorf("%s %s is the English %q: translate it, or list it in sameInEnglish if it is %s's word too", lang, key, en, lang)
			}
			if got != en && sameInEnglish[lang][key] {
				t.Errorf("%s %s is listed in sameInEnglish but reads %q (English %q)", lang, key, got, en)
			}
		}
	}
}
