// Package recovery is the recovery codes shown when an authenticator is
// linked (SPEC 3): ten single-use codes, each of which — with the
// identifier, the password and, afterwards, the security question — lets a
// person who lost the device unlink it and go straight on to the wizard.
//
// A code is 16 characters of Crockford's base32 (80 random bits from
// crypto/rand), shown in groups of four: "K7QM-3XV9-P2DH-8WJT". Typing is
// forgiving: case, spaces and dashes do not matter, and O, I and L are read
// as 0, 1 and 1. Only a hash is stored: SHA-256 over the account id and the
// code, which is enough for an 80-bit random secret (nothing to guess from a
// dictionary, 2^80 tries to invert offline), and cheap enough that checking
// one costs no extra hashing turn (see SECURITY.md).
package recovery

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"strconv"
	"strings"
)

// Count is how many codes a set holds.
const Count = 10

// alphabet is Crockford's base32: no I, L, O or U to misread.
const alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// length is the characters of a code: 16 × 5 bits = 80 bits.
const length = 16

// Generate returns a new set of Count codes, normalised (no dashes).
func Generate() []string {
	codes := make([]string, Count)
	b := make([]byte, length)
	for i := range codes {
		rand.Read(b) // never fails (crypto/rand)
		out := make([]byte, length)
		for j, v := range b {
			out[j] = alphabet[v&31] // 256 is a multiple of 32: no bias
		}
		codes[i] = string(out)
	}
	return codes
}

// Normalize returns the code typed as s in its stored form, and false when
// s cannot be a code (wrong length or characters), so it need not be
// looked up at all.
func Normalize(s string) (string, bool) {
	if len(s) > 64 {
		return "", false
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == ' ' || r == '-' || r == '\t':
			continue
		case r >= 'a' && r <= 'z':
			r -= 'a' - 'A'
		}
		switch r {
		case 'O':
			r = '0'
		case 'I', 'L':
			r = '1'
		}
		if r > 127 || !strings.ContainsRune(alphabet, r) {
			return "", false
		}
		b.WriteRune(r)
	}
	if b.Len() != length {
		return "", false
	}
	return b.String(), true
}

// Grouped shows a normalised code in groups of four, for reading.
func Grouped(code string) string {
	var parts []string
	for i := 0; i < len(code); i += 4 {
		parts = append(parts, code[i:min(i+4, len(code))])
	}
	return strings.Join(parts, "-")
}

// Hash is the stored form of a normalised code of the account: bound to the
// account, so the same code under another account hashes differently.
func Hash(accountID int64, code string) []byte {
	h := sha256.Sum256([]byte("sesame/recovery/" + strconv.FormatInt(accountID, 10) + "/" + code))
	return h[:]
}

// Match returns the hash among stored that equals want, comparing each in
// constant time and always going through all of them; nil when none does.
func Match(stored [][]byte, want []byte) []byte {
	var found []byte
	for _, h := range stored {
		if subtle.ConstantTimeCompare(h, want) == 1 {
			found = h
		}
	}
	return found
}

// Text is the content of the "download as a text file" link.
func Text(title, note string, codes []string) string {
	var b strings.Builder
	b.WriteString(title + "\r\n\r\n")
	for _, c := range codes {
		b.WriteString(Grouped(c) + "\r\n")
	}
	b.WriteString("\r\n" + note + "\r\n")
	return b.String()
}
