// Package seal encrypts small secrets at rest (TOTP seeds) with AES-256-GCM,
// under a keyring that allows the key to be rotated.
//
// A sealed value is
//
//	version (1 byte, 1) | key id (4 bytes) | nonce (12 bytes, random) | ciphertext | GCM tag (16 bytes)
//
// The key id lets Open pick the right key after rotation: new values are sealed
// under the primary key while older keys still open what they sealed, until a
// re-encryption pass has rewritten every row. The id is the first 4 bytes of
// HMAC-SHA-256(key, "sesame/seal key id"), a pseudo-random function of the key
// that says nothing about it.
//
// The additional data the caller passes (the account id) is authenticated with
// the header, so a sealed value copied into another account's row, or a header
// edited to point at another key, does not open.
//
// Random 96-bit nonces are safe for up to about 2^32 values per key (NIST SP
// 800-38D); Sesame seals one value per TOTP link, far below that.
package seal

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// ErrOpen is the only error Open returns: wrong key, unknown key id, tampered
// or truncated data and wrong additional data all look the same to the
// caller, as they should (none of them is the caller's to distinguish).
var ErrOpen = errors.New("seal: cannot open sealed value")

const (
	version   = 1
	idLen     = 4
	nonceLen  = 12
	tagLen    = 16
	headerLen = 1 + idLen
	overhead  = headerLen + nonceLen + tagLen
)

// MaxPlaintext bounds what Seal accepts and so what Open will read: secrets at
// rest are tens of bytes, and a bound keeps a corrupt row from costing much.
const MaxPlaintext = 64 << 10

// Key is an AES-256 key.
type Key [32]byte

// NewKey returns a random key from crypto/rand.
func NewKey() (Key, error) {
	var k Key
	if _, err := rand.Read(k[:]); err != nil {
		return Key{}, fmt.Errorf("seal: generating key: %w", err)
	}
	return k, nil
}

// ParseKey reads a key written as base64 (standard or URL alphabet, padded or
// not) or as 64 hexadecimal characters; surrounding white space is ignored.
// The result must be exactly 32 bytes. Errors never repeat the input, which
// may be a real key with a typo.
func ParseKey(s string) (Key, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return Key{}, errors.New("seal: key is empty")
	}
	if len(s) > 128 {
		return Key{}, errors.New("seal: key is too long (want 32 bytes as base64 or 64 hex characters)")
	}
	var raw []byte
	if len(s) == 2*len(Key{}) {
		// 64 base64 characters would decode to 48 bytes, so 64 characters
		// that are all hex can only be hex.
		b, err := hex.DecodeString(s)
		if err != nil {
			return Key{}, errors.New("seal: 64-character key is not hexadecimal")
		}
		raw = b
	} else {
		encs := []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding}
		for _, enc := range encs {
			if b, err := enc.Strict().DecodeString(s); err == nil {
				raw = b
				break
			}
		}
		if raw == nil {
			return Key{}, errors.New("seal: key is neither base64 nor 64 hexadecimal characters")
		}
	}
	if len(raw) != len(Key{}) {
		return Key{}, fmt.Errorf("seal: key is %d bytes, want 32", len(raw))
	}
	return Key(raw), nil
}

// String returns the key in standard base64, the form ParseKey reads and the
// demo writes to its key file. It is the key itself: never log a Key.
func (k Key) String() string {
	return base64.StdEncoding.EncodeToString(k[:])
}

// id returns the key's 4-byte identifier.
func (k Key) id() [idLen]byte {
	m := hmac.New(sha256.New, k[:])
	m.Write([]byte("sesame/seal key id"))
	return [idLen]byte(m.Sum(nil))
}

// Keyring seals under its primary key and opens under any of its keys.
// It is safe for concurrent use.
type Keyring struct {
	primary [idLen]byte
	aeads   map[[idLen]byte]cipher.AEAD
}

// NewKeyring returns a keyring that seals with primary and opens values sealed
// under primary or any of older. It refuses a repeated key, and the (about one
// in four billion) case of two keys whose ids collide: generate another key.
func NewKeyring(primary Key, older ...Key) (*Keyring, error) {
	r := &Keyring{primary: primary.id(), aeads: make(map[[idLen]byte]cipher.AEAD, 1+len(older))}
	for i, k := range append([]Key{primary}, older...) {
		if k == (Key{}) {
			return nil, fmt.Errorf("seal: key %d is all zeros", i)
		}
		id := k.id()
		if _, dup := r.aeads[id]; dup {
			return nil, fmt.Errorf("seal: key %d repeats an earlier key (or its id collides: generate a new key)", i)
		}
		block, err := aes.NewCipher(k[:])
		if err != nil {
			return nil, fmt.Errorf("seal: %w", err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("seal: %w", err)
		}
		r.aeads[id] = aead
	}
	return r, nil
}

// Seal encrypts plaintext under the primary key, authenticating ad with it.
// It fails only if plaintext is longer than MaxPlaintext or the system's
// random source fails.
func (r *Keyring) Seal(plaintext, ad []byte) ([]byte, error) {
	if r == nil || r.aeads == nil {
		return nil, errors.New("seal: no keyring")
	}
	if len(plaintext) > MaxPlaintext {
		return nil, fmt.Errorf("seal: plaintext of %d bytes exceeds %d", len(plaintext), MaxPlaintext)
	}
	out := make([]byte, headerLen+nonceLen, overhead+len(plaintext))
	out[0] = version
	copy(out[1:headerLen], r.primary[:])
	nonce := out[headerLen:]
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("seal: nonce: %w", err)
	}
	return r.aeads[r.primary].Seal(out, nonce, plaintext, additional(out[:headerLen], ad)), nil
}

// Open decrypts a value made by Seal with the same ad, under whichever key of
// the ring sealed it. Any failure is ErrOpen.
func (r *Keyring) Open(sealed, ad []byte) ([]byte, error) {
	if r == nil || r.aeads == nil ||
		len(sealed) < overhead || len(sealed) > overhead+MaxPlaintext || sealed[0] != version {
		return nil, ErrOpen
	}
	aead, ok := r.aeads[[idLen]byte(sealed[1:headerLen])]
	if !ok {
		return nil, ErrOpen
	}
	nonce := sealed[headerLen : headerLen+nonceLen]
	plain, err := aead.Open(nil, nonce, sealed[headerLen+nonceLen:], additional(sealed[:headerLen], ad))
	if err != nil {
		return nil, ErrOpen
	}
	return plain, nil
}

// NeedsReseal reports whether sealed was made under a key other than the
// primary one, so a rotation pass knows which rows to open and seal again.
// It does not authenticate sealed; Open does.
func (r *Keyring) NeedsReseal(sealed []byte) bool {
	if r == nil || len(sealed) < headerLen {
		return false
	}
	return !bytes.Equal(sealed[1:headerLen], r.primary[:])
}

// additional returns the GCM additional data: the fixed-length header then the
// caller's ad. Because the header has a fixed length the concatenation is
// unambiguous.
func additional(header, ad []byte) []byte {
	b := make([]byte, 0, len(header)+len(ad))
	b = append(b, header...)
	return append(b, ad...)
}
