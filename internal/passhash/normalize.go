package passhash

import (
	"strings"
	"unicode"

	"golang.org/x/text/cases"
	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// NormalizeAnswer puts a security answer in the form it is hashed and
// compared in, so that what a person means is what counts, not how they typed
// it: "  Élodie  DUPONT " and "elodie dupont" are the same answer.
//
// Steps: compatibility decomposition (NFKD: "ﬁ" → "fi", fullwidth → ASCII),
// removal of nonspacing marks (accents: "é" → "e"; spacing marks that
// change a word in Indic scripts are kept), Unicode case folding then
// lower-casing ("ß" → "ss"), and white space trimmed and runs of it
// collapsed to one space. The result is in NFC.
func NormalizeAnswer(s string) string {
	// Transformers and Casers keep state, so build them per call.
	t := transform.Chain(norm.NFKD, runes.Remove(runes.In(unicode.Mn)))
	s, _, err := transform.String(t, s)
	if err != nil {
		// Only reachable for input the transformers cannot represent; fall
		// back to folding the original rather than failing an answer.
		s = norm.NFKD.String(s)
	}
	s = strings.ToLower(cases.Fold().String(s))
	return norm.NFC.String(strings.Join(strings.Fields(s), " "))
}

// NormalizeSecret puts a password in Unicode NFC, so that "é" typed as one
// code point or as "e" + combining accent (as some keyboards and operating
// systems send it) is the same password. It deliberately does nothing else:
// spaces, case and compatibility characters are part of a password.
// Hash and Verify apply it themselves.
func NormalizeSecret(s string) string {
	return norm.NFC.String(s)
}
