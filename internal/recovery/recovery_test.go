package recovery

import (
	"bytes"
	"strings"
	"testing"
)

func TestGenerate(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		codes := Generate()
		if len(codes) != Count {
			t.Fatalf("%d codes, want %d", len(codes), Count)
		}
		for _, c := range codes {
			if n, ok := Normalize(c); !ok || n != c {
				t.Fatalf("Normalize(%q) = %q, %v", c, n, ok)
			}
			if seen[c] {
				t.Fatalf("code %q generated twice", c)
			}
			seen[c] = true
		}
	}
	// 16 characters of a 32-letter alphabet: 80 bits, well over 50.
	if length*5 < 50 {
		t.Fatalf("%d bits per code", length*5)
	}
}

func TestNormalize(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"K7QM-3XV9-P2DH-8WJT", "K7QM3XV9P2DH8WJT", true},
		{" k7qm 3xv9 p2dh 8wjt ", "K7QM3XV9P2DH8WJT", true},
		{"oIlO-0000-0000-0000", "0110000000000000", true},
		{"K7QM-3XV9-P2DH-8WJ", "", false},     // too short
		{"K7QM-3XV9-P2DH-8WJTX", "", false},   // too long
		{"K7QM-3XV9-P2DH-8WJU", "", false},    // U is not in the alphabet
		{"K7QM-3XV9-P2DH-8WJ٣", "", false},    // a non-ASCII digit
		{strings.Repeat("-", 100), "", false}, // overlong input
		{"", "", false},
	}
	for _, tt := range tests {
		got, ok := Normalize(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("Normalize(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestHashAndMatch(t *testing.T) {
	if bytes.Equal(Hash(1, "K7QM3XV9P2DH8WJT"), Hash(2, "K7QM3XV9P2DH8WJT")) {
		t.Error("the same code hashes alike under two accounts")
	}
	stored := [][]byte{Hash(1, "A"), Hash(1, "B"), Hash(1, "C")}
	if got := Match(stored, Hash(1, "B")); !bytes.Equal(got, stored[1]) {
		t.Errorf("Match found %x", got)
	}
	if got := Match(stored, Hash(1, "D")); got != nil {
		t.Errorf("Match of an unknown code = %x", got)
	}
	if got := Grouped("K7QM3XV9P2DH8WJT"); got != "K7QM-3XV9-P2DH-8WJT" {
		t.Errorf("Grouped = %q", got)
	}
}
