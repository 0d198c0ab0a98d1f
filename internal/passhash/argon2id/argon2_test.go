package argon2id

import (
	"bytes"
	"fmt"
	"testing"

	"golang.org/x/crypto/argon2"
)

// TestIDKeyMatchesXCrypto: the same keys as x/crypto's IDKey, for several
// shapes of parameters, computed one after another so that every
// computation but the first reuses a buffer an earlier one left dirty
// (larger, smaller, same size).
func TestIDKeyMatchesXCrypto(t *testing.T) {
	params := []struct {
		time, memory uint32
		threads      uint8
	}{
		{1, 64, 1}, {2, 64, 1}, {3, 256, 4}, {1, 32, 2}, {2, 1024, 1}, {2, 19 * 1024, 1}, {1, 8, 1}, {4, 512, 2}, {2, 19 * 1024, 1},
	}
	for round := 0; round < 2; round++ {
		for i, p := range params {
			pw := []byte(fmt.Sprintf("password %d/%d", round, i))
			salt := []byte("saltsaltsaltsalt")
			want := argon2.IDKey(pw, salt, p.time, p.memory, p.threads, 32)
			got := IDKey(pw, salt, p.time, p.memory, p.threads, 32)
			if !bytes.Equal(got, want) {
				t.Fatalf("round %d, t=%d m=%d p=%d: %x, want %x", round, p.time, p.memory, p.threads, got, want)
			}
		}
	}
}

// TestIDKeyRFC9106: the test vector of RFC 9106 section 5.3 (Argon2id,
// with secret and associated data, through the unexported deriveKey).
func TestIDKeyRFC9106(t *testing.T) {
	pw := bytes.Repeat([]byte{1}, 32)
	salt := bytes.Repeat([]byte{2}, 16)
	secret := bytes.Repeat([]byte{3}, 8)
	data := bytes.Repeat([]byte{4}, 12)
	want := "0d640df58d78766c08c037a34a8b53c9d01ef0452d75b65eb52520e96b01e659"
	for i := 0; i < 2; i++ { // the second time on a reused buffer
		if got := fmt.Sprintf("%x", deriveKey(argon2id, pw, salt, secret, data, 3, 32, 4, 32)); got != want {
			t.Fatalf("run %d: %s, want %s", i, got, want)
		}
	}
}

func BenchmarkIDKeyDefault(b *testing.B) {
	pw, salt := []byte("correct horse battery staple"), []byte("saltsaltsaltsalt")
	b.Run("pooled", func(b *testing.B) {
		for b.Loop() {
			IDKey(pw, salt, 2, 19*1024, 1, 32)
		}
	})
	b.Run("x-crypto", func(b *testing.B) {
		for b.Loop() {
			argon2.IDKey(pw, salt, 2, 19*1024, 1, 32)
		}
	})
}
