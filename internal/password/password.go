// Package password is Sesame's password policy (SPEC 2.4; NIST SP 800-63B
// 5.1.1.2, OWASP ASVS 2.1): what a new password must be, and nothing more.
//
// A password has 12 to 128 characters, any characters at all (spaces,
// accents, emoji: a passphrase is welcome), counted as Unicode code points
// after NFC normalisation, which is also the form it is hashed in
// (passhash.NormalizeSecret). It must not be a common or breached password,
// compared without regard to case, and must not contain the account's
// identifier. There are deliberately no composition rules ("one digit, one
// symbol") and no forced periodic change: both push people towards
// predictable passwords.
//
// Every rule broken is an *Error whose Key is a stable translation key, so
// the person is told why in their own language.
package password

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Length bounds, in characters (Unicode code points after NFC).
const (
	MinLength = 12
	MaxLength = 128
)

// maxInputBytes bounds what is normalised at all: 128 characters of at most
// 4 bytes each, with room for decomposed input that NFC will compose.
const maxInputBytes = 8 * MaxLength

// Error is a rule a new password breaks. Key is the rule's translation key.
type Error struct{ Key string }

func (e *Error) Error() string { return "password: " + e.Key }

// The rules. Compare with errors.Is.
var (
	ErrTooShort           = &Error{Key: "password.error.too_short"}
	ErrTooLong            = &Error{Key: "password.error.too_long"}
	ErrInvalidText        = &Error{Key: "password.error.invalid_text"} // invalid UTF-8 or control characters
	ErrCommon             = &Error{Key: "password.error.common"}
	ErrContainsIdentifier = &Error{Key: "password.error.contains_identifier"}
)

// Check returns nil if pw may be an account's new password, or the first
// rule it breaks, in this order: ErrInvalidText, ErrTooLong, ErrTooShort,
// ErrContainsIdentifier, ErrCommon. identifier is the account's normalised
// identifier (account.NormalizeIdentifier); empty skips that rule.
func Check(pw, identifier string) error {
	if len(pw) > maxInputBytes {
		return ErrTooLong
	}
	// Control characters (NUL, line breaks, escape...) cannot be typed the
	// same way on every device, and mostly come from a paste gone wrong.
	if !utf8.ValidString(pw) || strings.ContainsFunc(pw, unicode.IsControl) {
		return ErrInvalidText
	}
	pw = norm.NFC.String(pw)
	switch n := utf8.RuneCountInString(pw); {
	case n > MaxLength:
		return ErrTooLong
	case n < MinLength:
		return ErrTooShort
	}
	folded := strings.ToLower(pw)
	if containsIdentifier(folded, identifier) {
		return ErrContainsIdentifier
	}
	if IsCommon(pw) {
		return ErrCommon
	}
	return nil
}

// minLocalPart is the shortest local part (before the @) that counts as the
// identifier on its own: "jan.peeters" in a password gives it away, but
// refusing every password containing "jo" or "an" would refuse good ones.
const minLocalPart = 4

// containsIdentifier reports whether folded (a lower-cased password)
// contains the identifier or its local part.
func containsIdentifier(folded, identifier string) bool {
	id := strings.ToLower(norm.NFC.String(identifier))
	if id == "" {
		return false
	}
	if strings.Contains(folded, id) {
		return true
	}
	if at := strings.LastIndexByte(id, '@'); at >= 0 {
		local := id[:at]
		return utf8.RuneCountInString(local) >= minLocalPart && strings.Contains(folded, local)
	}
	return false
}
