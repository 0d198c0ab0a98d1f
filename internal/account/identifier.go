package account

import (
	"errors"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/secure/precis"
)

// Identifiers that NormalizeIdentifier accepts but that look like another
// address are refused when an account is created (CheckNewIdentifier).
var (
	// ErrIdentifierInvisible: an invisible character, a space or a
	// text-direction control (zero-width space, soft hyphen, U+202E…).
	ErrIdentifierInvisible = errors.New("account: identifier has an invisible character, a space or a text-direction control")
	// ErrIdentifierCharacter: a character PRECIS does not allow in an
	// identifier, such as a full-width letter, a symbol or an emoji.
	ErrIdentifierCharacter = errors.New("account: identifier has a character identifiers may not have")
	// ErrIdentifierMixedScript: letters from scripts that are not used
	// together, such as a Cyrillic "а" in a Latin address.
	ErrIdentifierMixedScript = errors.New("account: identifier mixes scripts")
)

// CheckNewIdentifier returns the canonical form (NormalizeIdentifier) of
// the identifier of an account about to be created, or an error if it is
// no e-mail address (ErrInvalidIdentifier) or could pass for another one:
// ErrIdentifierInvisible, ErrIdentifierCharacter, ErrIdentifierMixedScript.
//
// Only creation is this strict: login and look-ups keep NormalizeIdentifier,
// so an account created before this check still logs in.
func CheckNewIdentifier(s string) (string, error) {
	id, err := NormalizeIdentifier(s)
	if err != nil {
		return "", err
	}
	if strings.ContainsFunc(id, invisible) {
		return "", ErrIdentifierInvisible
	}
	// RFC 8265's UsernameCaseMapped profile: the IdentifierClass (letters,
	// digits and printable ASCII, so '@', '+' and '.' pass) and the Bidi
	// Rule. It maps full-width letters to ASCII and lower-cases; an
	// identifier it would change is one a person could not type back the
	// same way, so it is refused rather than silently mapped.
	if p, err := precis.UsernameCaseMapped.String(id); err != nil || p != id {
		return "", ErrIdentifierCharacter
	}
	if !singleScript(id) {
		return "", ErrIdentifierMixedScript
	}
	return id, nil
}

// invisible reports whether r shows nothing, or nothing of its own: format
// characters (zero-width space and joiners, soft hyphen, bidi controls),
// spaces, variation selectors and other default-ignorable code points.
func invisible(r rune) bool {
	return unicode.In(r, unicode.Cc, unicode.Cf, unicode.Zs, unicode.Variation_Selector, unicode.Other_Default_Ignorable_Code_Point)
}

// tr39Sets are the sets of scripts that Unicode TR 39's "highly
// restrictive" level lets one identifier mix: Latin with the scripts
// written together in Japanese, Chinese and Korean.
var tr39Sets = [][]string{
	{"Latin", "Han", "Hiragana", "Katakana"},
	{"Latin", "Han", "Bopomofo"},
	{"Latin", "Han", "Hangul"},
}

// singleScript reports whether s's letters are from one script, Common
// and Inherited (digits, punctuation, combining marks) not counted, or
// from one of the combinations in tr39Sets. It uses the Script property
// (the standard library has no Script_Extensions), which is stricter only
// for a few marks shared by scripts.
func singleScript(s string) bool {
	scripts := map[string]bool{}
	for _, r := range s {
		if name := scriptOf(r); name != "" {
			scripts[name] = true
		}
	}
	if len(scripts) <= 1 {
		return true
	}
	for _, set := range tr39Sets {
		within := 0
		for _, name := range set {
			if scripts[name] {
				within++
			}
		}
		if within == len(scripts) {
			return true
		}
	}
	return false
}

// scriptOf is the name of r's script in unicode.Scripts, "" for Common,
// Inherited and unassigned code points (PRECIS refuses the last).
func scriptOf(r rune) string {
	if r < utf8.RuneSelf {
		if unicode.IsLetter(r) {
			return "Latin"
		}
		return ""
	}
	for name, table := range unicode.Scripts {
		if unicode.Is(table, r) {
			if name == "Common" || name == "Inherited" {
				return ""
			}
			return name
		}
	}
	return ""
}
