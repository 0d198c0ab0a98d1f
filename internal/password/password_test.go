package password

import (
	"errors"
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	const id = "jan.peeters@example.be"
	tests := []struct {
		name, pw, identifier string
		want                 error
	}{
		{"good passphrase", "correct horse battery staple", id, nil},
		{"exactly 12", "zq8#Lk2!vB0p", id, nil},
		{"exactly 128", strings.Repeat("aB3$", 32), id, nil},
		{"11 characters", "zq8#Lk2!vB0", id, ErrTooShort},
		{"empty", "", id, ErrTooShort},
		{"129 characters", strings.Repeat("aB3$", 32) + "x", id, ErrTooLong},
		{"huge input", strings.Repeat("x", 10000), id, ErrTooLong},
		// Characters, not bytes: 12 accented letters are 24 bytes, 11 emoji 44.
		{"12 accented letters", "éàèùâêîôûëïü", id, nil},
		{"11 emoji", strings.Repeat("🐴", 11), id, ErrTooShort},
		{"128 emoji", strings.Repeat("🐴", 128), id, nil},
		// "e" + combining acute is one character after NFC: 11, too short.
		{"decomposed counts composed", strings.Repeat("e\u0301", 11), id, ErrTooShort},
		{"spaces are characters", "            ", "", nil},
		{"invalid UTF-8", "validprefix\xff\xfe", id, ErrInvalidText},
		{"NUL", "abcdefghijkl\x00", id, ErrInvalidText},
		{"line break", "abcdefgh\nijkl", id, ErrInvalidText},
		{"common", "qwertyuiopasdfghjkl", id, ErrCommon},
		{"common, other case", "1QAZ2WSX3EDC", id, ErrCommon},
		{"common, top of the list", "123qweasdzxc", id, ErrCommon},
		{"contains identifier", "my " + id + " pass", id, ErrContainsIdentifier},
		{"contains identifier, other case", "xx" + strings.ToUpper(id), id, ErrContainsIdentifier},
		{"contains local part", "Jan.Peeters-2026-winter", id, ErrContainsIdentifier},
		{"short local part does not count", "jo is a fine name indeed", "jo@example.be", nil},
		{"no identifier given", "jan.peeters-2026-winter", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Check(tt.pw, tt.identifier); !errors.Is(got, tt.want) {
				t.Errorf("Check(%q, %q) = %v, want %v", tt.pw, tt.identifier, got, tt.want)
			}
		})
	}
}

func TestErrorKeys(t *testing.T) {
	seen := map[string]bool{}
	for _, e := range []*Error{ErrTooShort, ErrTooLong, ErrInvalidText, ErrCommon, ErrContainsIdentifier} {
		if !strings.HasPrefix(e.Key, "password.error.") || seen[e.Key] {
			t.Errorf("key %q: want a unique password.error.* key", e.Key)
		}
		seen[e.Key] = true
	}
}

func TestCommonList(t *testing.T) {
	// The list keeps only what the length rules let through; a lower
	// MinLength would need the list rebuilt with shorter entries.
	set, err := loadCommon(commonGz)
	if err != nil {
		t.Fatal(err)
	}
	if len(set) < 40000 {
		t.Errorf("common list has %d entries, want the ~44,000 of the top million that are 12 to 128 characters", len(set))
	}
	for p := range set {
		if n := len([]rune(p)); n < MinLength || n > MaxLength || p != strings.ToLower(p) {
			t.Fatalf("entry %q: want %d..%d characters, lower case", p, MinLength, MaxLength)
		}
	}
	for _, p := range []string{"qazwsxedcrfv", "123456qwerty", "qwertyqwerty", "leavemealone", "QwErTyUiOp123"} {
		if !IsCommon(p) {
			t.Errorf("IsCommon(%q) = false", p)
		}
	}
	for _, p := range []string{"correct horse battery staple", "Vlinder-in-de-Ardennen-42"} {
		if IsCommon(p) {
			t.Errorf("IsCommon(%q) = true", p)
		}
	}
	if _, err := loadCommon([]byte("not gzip")); err == nil {
		t.Error("loadCommon accepted a corrupt file")
	}
}

// BenchmarkLoadCommon measures the start-up cost of the list (~20 ms).
func BenchmarkLoadCommon(b *testing.B) {
	for b.Loop() {
		if _, err := loadCommon(commonGz); err != nil {
			b.Fatal(err)
		}
	}
}

func FuzzCheck(f *testing.F) {
	for _, s := range []string{"correct horse battery staple", "e\u0301", "\xff", "123qweasdzxc"} {
		f.Add(s, "jan@example.be")
	}
	f.Fuzz(func(t *testing.T, pw, id string) {
		err := Check(pw, id)
		var pe *Error
		if err != nil && !errors.As(err, &pe) {
			t.Fatalf("Check returned %T %v, want *Error", err, err)
		}
	})
}
