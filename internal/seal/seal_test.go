package seal

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
)

func mustKey(t testing.TB) Key {
	t.Helper()
	k, err := NewKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func mustRing(t testing.TB, primary Key, older ...Key) *Keyring {
	t.Helper()
	r, err := NewKeyring(primary, older...)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestRoundTrip(t *testing.T) {
	r := mustRing(t, mustKey(t))
	for _, plain := range [][]byte{nil, {0}, []byte("12345678901234567890"), bytes.Repeat([]byte{7}, MaxPlaintext)} {
		ad := []byte("account-42")
		sealed, err := r.Seal(plain, ad)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := len(sealed), len(plain)+overhead; got != want {
			t.Errorf("sealed length = %d, want %d", got, want)
		}
		if len(plain) >= 8 && bytes.Contains(sealed, plain[:8]) {
			t.Error("sealed value contains the plaintext")
		}
		got, err := r.Open(sealed, ad)
		if err != nil || !bytes.Equal(got, plain) {
			t.Errorf("Open = %x, %v; want %x", got, err, plain)
		}
	}
	// Two seals of the same value differ (random nonce).
	a, _ := r.Seal([]byte("same"), nil)
	b, _ := r.Seal([]byte("same"), nil)
	if bytes.Equal(a, b) {
		t.Error("two seals of the same plaintext are equal")
	}
	if _, err := r.Seal(make([]byte, MaxPlaintext+1), nil); err == nil {
		t.Error("Seal accepted more than MaxPlaintext")
	}
}

func TestTamperingFails(t *testing.T) {
	r := mustRing(t, mustKey(t))
	ad := []byte("account-42")
	sealed, err := r.Seal([]byte("JBSWY3DPEHPK3PXP"), ad)
	if err != nil {
		t.Fatal(err)
	}
	for i := range sealed {
		for _, flip := range []byte{0x01, 0x80, 0xff} {
			bad := bytes.Clone(sealed)
			bad[i] ^= flip
			if got, err := r.Open(bad, ad); !errors.Is(err, ErrOpen) {
				t.Fatalf("byte %d ^ %#x: Open = %q, %v; want ErrOpen", i, flip, got, err)
			}
		}
	}
	if _, err := r.Open(append(bytes.Clone(sealed), 0), ad); !errors.Is(err, ErrOpen) {
		t.Errorf("Open with a trailing byte: %v, want ErrOpen", err)
	}
}

func TestWrongAdditionalData(t *testing.T) {
	r := mustRing(t, mustKey(t))
	sealed, err := r.Seal([]byte("secret"), []byte("account-42"))
	if err != nil {
		t.Fatal(err)
	}
	for _, ad := range [][]byte{nil, []byte("account-43"), []byte("account-4"), []byte("account-420"), []byte("ACCOUNT-42")} {
		if _, err := r.Open(sealed, ad); !errors.Is(err, ErrOpen) {
			t.Errorf("Open with ad %q: %v, want ErrOpen", ad, err)
		}
	}
}

func TestRotation(t *testing.T) {
	oldKey, newKey := mustKey(t), mustKey(t)
	before := mustRing(t, oldKey)
	sealedOld, err := before.Seal([]byte("old secret"), []byte("a1"))
	if err != nil {
		t.Fatal(err)
	}

	after := mustRing(t, newKey, oldKey)
	got, err := after.Open(sealedOld, []byte("a1"))
	if err != nil || string(got) != "old secret" {
		t.Fatalf("rotated ring: Open(old) = %q, %v", got, err)
	}
	if !after.NeedsReseal(sealedOld) {
		t.Error("NeedsReseal(old) = false after rotation")
	}
	sealedNew, err := after.Seal(got, []byte("a1"))
	if err != nil {
		t.Fatal(err)
	}
	if after.NeedsReseal(sealedNew) {
		t.Error("NeedsReseal(new) = true")
	}
	// New values use the new key only: the old ring cannot open them.
	if _, err := before.Open(sealedNew, []byte("a1")); !errors.Is(err, ErrOpen) {
		t.Errorf("old ring opened a value sealed under the new key: %v", err)
	}
	// Once the old key is dropped, old values no longer open.
	if _, err := mustRing(t, newKey).Open(sealedOld, []byte("a1")); !errors.Is(err, ErrOpen) {
		t.Errorf("ring without the old key opened an old value: %v", err)
	}
}

func TestNewKeyringRefuses(t *testing.T) {
	k := mustKey(t)
	if _, err := NewKeyring(k, k); err == nil {
		t.Error("NewKeyring accepted a repeated key")
	}
	if _, err := NewKeyring(Key{}); err == nil {
		t.Error("NewKeyring accepted an all-zero key")
	}
	if _, err := NewKeyring(k, Key{}); err == nil {
		t.Error("NewKeyring accepted an all-zero older key")
	}
	var nilRing *Keyring
	if _, err := nilRing.Seal([]byte("x"), nil); err == nil {
		t.Error("nil keyring sealed")
	}
	if _, err := nilRing.Open(make([]byte, 64), nil); !errors.Is(err, ErrOpen) {
		t.Error("nil keyring opened")
	}
}

func TestTruncated(t *testing.T) {
	r := mustRing(t, mustKey(t))
	sealed, err := r.Seal([]byte("secret"), nil)
	if err != nil {
		t.Fatal(err)
	}
	for n := range len(sealed) {
		if _, err := r.Open(sealed[:n], nil); !errors.Is(err, ErrOpen) {
			t.Errorf("Open(first %d bytes) = %v, want ErrOpen", n, err)
		}
		if _, err := r.Open(sealed[n:], nil); n > 0 && !errors.Is(err, ErrOpen) {
			t.Errorf("Open(without first %d bytes) = %v, want ErrOpen", n, err)
		}
	}
}

func TestParseKey(t *testing.T) {
	var want Key
	for i := range want {
		want[i] = byte(i * 7) // includes bytes that give '+' '/' in std base64
	}
	std := base64.StdEncoding.EncodeToString(want[:])
	if !strings.ContainsAny(std, "+/") {
		t.Fatalf("test key %q should exercise the std/URL difference", std)
	}
	good := []string{
		std,
		base64.RawStdEncoding.EncodeToString(want[:]),
		base64.URLEncoding.EncodeToString(want[:]),
		base64.RawURLEncoding.EncodeToString(want[:]),
		hex.EncodeToString(want[:]),
		strings.ToUpper(hex.EncodeToString(want[:])),
		"  " + std + "\n",
		want.String(),
	}
	for _, s := range good {
		got, err := ParseKey(s)
		if err != nil || got != want {
			t.Errorf("ParseKey(%q) = %x, %v; want %x", s, got, err, want)
		}
	}

	bad := []struct{ name, in string }{
		{"empty", ""},
		{"blank", "   "},
		{"31 bytes base64", base64.StdEncoding.EncodeToString(want[:31])},
		{"33 bytes base64", base64.StdEncoding.EncodeToString(append(want[:], 0))},
		{"62 hex", hex.EncodeToString(want[:31])},
		{"66 hex", hex.EncodeToString(append(want[:], 0))},
		{"64 non-hex", strings.Repeat("g", 64)},
		{"mixed alphabets", strings.Replace(strings.Replace(std, "+", "-", 1), "/", "/", 1) + "_"},
		{"inner space", std[:10] + " " + std[10:]},
		{"bad padding", strings.TrimRight(std, "=") + "==="},
		{"too long", strings.Repeat("A", 500)},
		{"garbage", "not a key at all!"},
	}
	for _, tt := range bad {
		got, err := ParseKey(tt.in)
		if err == nil {
			t.Errorf("%s: ParseKey = %x, want an error", tt.name, got)
			continue
		}
		if len(tt.in) > 8 && strings.Contains(err.Error(), strings.TrimSpace(tt.in)) {
			t.Errorf("%s: error %q repeats the key", tt.name, err)
		}
	}
}

func TestKeyString(t *testing.T) {
	k := mustKey(t)
	back, err := ParseKey(k.String())
	if err != nil || back != k {
		t.Errorf("ParseKey(k.String()) = %x, %v; want %x", back, err, k)
	}
}

func FuzzOpen(f *testing.F) {
	k, _ := ParseKey("0001020304050607080910111213141516171819202122232425262728293031")
	r := mustRing(f, k)
	good, _ := r.Seal([]byte("secret"), []byte("ad"))
	f.Add(good, []byte("ad"))
	f.Add([]byte{}, []byte{})
	f.Add([]byte{1}, []byte("ad"))
	f.Add(good[:overhead], []byte("ad"))
	f.Fuzz(func(t *testing.T, sealed, ad []byte) {
		plain, err := r.Open(sealed, ad)
		if err != nil {
			if !errors.Is(err, ErrOpen) {
				t.Fatalf("Open error %v is not ErrOpen", err)
			}
			return
		}
		// Only genuine seals open: the fuzzer cannot forge a GCM tag, so an
		// accepted input must be a seal of the seed (each fuzzing process
		// seals its own, with its own nonce, so compare the meaning, not bytes).
		if string(ad) != "ad" || string(plain) != "secret" {
			t.Fatalf("Open accepted a forged value %x (ad %q) as %q", sealed, ad, plain)
		}
	})
}
