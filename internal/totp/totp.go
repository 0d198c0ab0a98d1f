// Package totp computes and verifies one-time codes: HOTP (RFC 4226) and
// TOTP (RFC 6238), as shown by authenticator apps.
//
// Sesame verifies codes itself rather than through a library because the
// caller needs the time step a code matched: each account remembers the last
// step it accepted and refuses any step at or below it, so a code (even one
// still inside the ±Skew window) is accepted at most once. Verify therefore
// returns the step, and when a code matches several steps of the window (a
// collision, about 1 in 10^6 per pair) it returns the highest, so recording it
// also blocks every lower step.
//
// The package also turns a secret into what a user needs to link an app: the
// base32 text (grouped for typing), the otpauth:// Key URI and a QR code.
package totp

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/base32"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"strconv"
	"strings"
	"time"
)

// Algorithm names the HMAC hash, spelled as in the Key URI "algorithm" parameter.
type Algorithm string

// The algorithms of RFC 6238. SHA1 is the default and the only one every
// authenticator app supports.
const (
	SHA1   Algorithm = "SHA1"
	SHA256 Algorithm = "SHA256"
	SHA512 Algorithm = "SHA512"
)

// newHash returns the hash constructor for a, or nil for an unknown algorithm.
func (a Algorithm) newHash() func() hash.Hash {
	switch a {
	case SHA1:
		return sha1.New
	case SHA256:
		return sha256.New
	case SHA512:
		return sha512.New
	}
	return nil
}

// SecretLen is the length of the secrets GenerateSecret makes: 160 bits, the
// length RFC 4226 recommends and the size of an HMAC-SHA1 block output.
const SecretLen = 20

// MaxSecretLen bounds a decoded secret; 64 bytes is the longest seed RFC 6238
// uses (for SHA-512), and anything longer is a mistake or an attack.
const MaxSecretLen = 64

// Params are the TOTP settings shared by the server and the authenticator app.
type Params struct {
	Algorithm Algorithm
	Digits    int           // length of a code, 6 to 8
	Period    time.Duration // length of a time step, whole seconds from 15 s to 120 s
	Skew      int           // steps accepted either side of the current one, 0 to 2
}

// Default returns the settings every authenticator app understands:
// SHA-1, 6 digits, 30-second steps, and one step of clock drift either way.
func Default() Params {
	return Params{Algorithm: SHA1, Digits: 6, Period: 30 * time.Second, Skew: 1}
}

// Validate reports whether p is within the bounds Sesame accepts.
func (p Params) Validate() error {
	if p.Algorithm.newHash() == nil {
		return fmt.Errorf("totp: unknown algorithm %q (want SHA1, SHA256 or SHA512)", p.Algorithm)
	}
	if p.Digits < 6 || p.Digits > 8 {
		return fmt.Errorf("totp: digits %d out of range 6..8", p.Digits)
	}
	if p.Period < 15*time.Second || p.Period > 120*time.Second || p.Period%time.Second != 0 {
		return fmt.Errorf("totp: period %v must be whole seconds from 15s to 2m0s", p.Period)
	}
	if p.Skew < 0 || p.Skew > 2 {
		return fmt.Errorf("totp: skew %d out of range 0..2", p.Skew)
	}
	return nil
}

// GenerateSecret returns SecretLen random bytes from crypto/rand.
func GenerateSecret() ([]byte, error) {
	b := make([]byte, SecretLen)
	if _, err := rand.Read(b); err != nil {
		return nil, fmt.Errorf("totp: generating secret: %w", err)
	}
	return b, nil
}

// pow10 holds 10^n for the code lengths HOTP can produce (its 31-bit value has
// at most 10 decimal digits).
var pow10 = [...]uint32{1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000, 1000000000}

// HOTP returns the RFC 4226 code for counter: HMAC(secret, counter), dynamic
// truncation, then the last digits decimal digits, zero-padded.
// It returns "" when digits is not 1..9 or alg is unknown, so that no bad
// setting can ever produce a code that matches.
func HOTP(secret []byte, counter uint64, digits int, alg Algorithm) string {
	newHash := alg.newHash()
	if newHash == nil || digits < 1 || digits >= len(pow10) {
		return ""
	}
	mac := hmac.New(newHash, secret)
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], counter)
	mac.Write(msg[:])
	sum := mac.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	v := binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fffffff
	code := strconv.FormatUint(uint64(v%pow10[digits]), 10)
	return strings.Repeat("0", digits-len(code)) + code
}

// Step returns the RFC 6238 time step of t: floor(unix seconds / period).
// It returns 0 when p.Period is under one second (an invalid Params; Validate
// refuses it), rather than dividing by zero.
func (p Params) Step(t time.Time) int64 {
	period := int64(p.Period / time.Second)
	if period <= 0 {
		return 0
	}
	u := t.Unix()
	s := u / period
	if u%period < 0 { // floor, not truncation, for times before 1970
		s--
	}
	return s
}

// Code returns the code for the step containing t, or "" if p is invalid.
func (p Params) Code(secret []byte, t time.Time) string {
	if p.Validate() != nil {
		return ""
	}
	s := p.Step(t)
	if s < 0 {
		return ""
	}
	return HOTP(secret, uint64(s), p.Digits, p.Algorithm)
}

// Verify reports the time step whose code equals code, trying the steps
// Step(t)-Skew .. Step(t)+Skew. It returns ok false when p is invalid, when
// code is not exactly p.Digits ASCII digits, or when no step matches.
//
// Every candidate step is computed and compared, in constant time, whether
// or not an earlier one matched, so the time taken does not say which step
// (if any) matched. When several match, the highest step is returned.
// The caller must still refuse a step at or below the last one it accepted.
func (p Params) Verify(secret []byte, code string, t time.Time) (step int64, ok bool) {
	if p.Validate() != nil || !WellFormed(code, p.Digits) {
		return 0, false
	}
	now := p.Step(t)
	var found int
	for s := now - int64(p.Skew); s <= now+int64(p.Skew); s++ {
		if s < 0 { // before the epoch: no code exists
			continue
		}
		want := HOTP(secret, uint64(s), p.Digits, p.Algorithm)
		eq := subtle.ConstantTimeCompare([]byte(want), []byte(code))
		// Keep the last (highest) matching step without branching on the secret comparison.
		mask := -int64(eq) // all ones when eq == 1, zero otherwise
		step = s&mask | step&^mask
		found |= eq
	}
	if found == 0 {
		return 0, false
	}
	return step, true
}

// WellFormed reports whether code is exactly digits ASCII '0'-'9' bytes: no
// spaces, sign, or digits from other scripts (strconv and unicode.IsDigit
// would accept some of those, which is why this exists).
func WellFormed(code string, digits int) bool {
	if digits <= 0 || len(code) != digits {
		return false
	}
	for i := 0; i < len(code); i++ {
		if code[i] < '0' || code[i] > '9' {
			return false
		}
	}
	return true
}

// b32 is the alphabet authenticator apps use: RFC 4648 base32, no padding.
var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// EncodeSecret returns secret as upper-case base32 without padding.
func EncodeSecret(secret []byte) string {
	return b32.EncodeToString(secret)
}

// maxEncodedLen bounds DecodeSecret's input before any work: MaxSecretLen
// bytes of base32, with room for a separator after each character and padding.
var maxEncodedLen = 2*b32.EncodedLen(MaxSecretLen) + 8

// DecodeSecret parses a base32 secret as a person might type or paste it:
// spaces and dashes are ignored, letters may be in either case, and trailing
// '=' padding is optional. Only ASCII is accepted (no Unicode case mapping, which
// would turn 'ſ' into 'S'). The secret must be 1..MaxSecretLen bytes long.
func DecodeSecret(s string) ([]byte, error) {
	if len(s) > maxEncodedLen {
		return nil, errors.New("totp: secret too long")
	}
	buf := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '-' || c == '\t':
			continue
		case c >= 'a' && c <= 'z':
			c -= 'a' - 'A'
		case c >= 'A' && c <= 'Z', c >= '2' && c <= '7', c == '=':
		default:
			return nil, errors.New("totp: secret is not base32 (A-Z, 2-7)")
		}
		buf = append(buf, c)
	}
	trimmed := strings.TrimRight(string(buf), "=")
	if strings.Contains(trimmed, "=") {
		return nil, errors.New("totp: secret has padding in the middle")
	}
	if len(trimmed) == 0 {
		return nil, errors.New("totp: secret is empty")
	}
	secret, err := b32.DecodeString(trimmed)
	if err != nil {
		return nil, errors.New("totp: secret has an impossible base32 length")
	}
	switch {
	case len(secret) == 0: // a lone character decodes to no byte at all
		return nil, errors.New("totp: secret has an impossible base32 length")
	case len(secret) > MaxSecretLen:
		return nil, errors.New("totp: secret too long")
	}
	return secret, nil
}

// Grouped returns the base32 secret in groups of four characters separated by
// spaces ("JBSW Y3DP EHPK 3PXP"), easier to read out and type; DecodeSecret
// accepts it back.
func Grouped(secret []byte) string {
	enc := EncodeSecret(secret)
	var b strings.Builder
	for i := 0; i < len(enc); i += 4 {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(enc[i:min(i+4, len(enc))])
	}
	return b.String()
}
