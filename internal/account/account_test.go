package account

import (
	"testing"
	"time"
)

func TestNormalizeIdentifier(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"jean.dupont@example.be", "jean.dupont@example.be", true},
		{"  Jean.Dupont@Example.BE \t", "jean.dupont@example.be", true},
		{"e\u0301lodie@example.be", "\u00e9lodie@example.be", true}, // NFD → NFC
		{"\u00c9lodie@example.be", "\u00e9lodie@example.be", true},
		{"", "", false},
		{"no-at-sign", "", false},
		{"Jean <jean@example.be>", "", false},
		{"jean@", "", false},
		{"@example.be", "", false},
		{"jean\x00@example.be", "", false},
		{"jean@exa mple.be", "", false},
		{"\xff@example.be", "", false},
	}
	for _, tt := range tests {
		got, err := NormalizeIdentifier(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("NormalizeIdentifier(%q) = %q, %v; want %q, ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
	long := make([]byte, 250)
	for i := range long {
		long[i] = 'a'
	}
	if _, err := NormalizeIdentifier(string(long) + "@example.be"); err == nil {
		t.Error("accepted an identifier over 254 bytes")
	}
}

func TestThrottle(t *testing.T) {
	th := DefaultThrottle()
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	var a Account
	wantDelay := map[int]time.Duration{1: 0, 4: 0, 5: time.Minute, 6: 2 * time.Minute, 7: 4 * time.Minute, 8: 8 * time.Minute, 9: 15 * time.Minute, 50: 15 * time.Minute}
	for i := 1; i <= 99; i++ {
		a.LockedUntil = time.Time{}
		th.Fail(&a, now)
		if want, ok := wantDelay[i]; ok {
			got := time.Duration(0)
			if !a.LockedUntil.IsZero() {
				got = a.LockedUntil.Sub(now)
			}
			if got != want {
				t.Errorf("after %d failures locked for %v, want %v", i, got, want)
			}
		}
	}
	th.Fail(&a, now)
	if !a.LockedUntil.Equal(Forever) || !a.Locked(now.Add(1000*time.Hour)) {
		t.Errorf("after 100 failures locked until %v, want forever", a.LockedUntil)
	}
	th.Succeed(&a)
	if a.FailedAttempts != 0 || a.Locked(now) {
		t.Errorf("after success: %d failures, locked %v", a.FailedAttempts, a.Locked(now))
	}
}

func TestParse(t *testing.T) {
	for _, s := range []string{"client", "group", "tiers"} {
		if _, ok := ParseType(s); !ok {
			t.Errorf("ParseType(%q) failed", s)
		}
	}
	for _, s := range []string{"", "Tiers", "admin", "tiers "} {
		if _, ok := ParseType(s); ok {
			t.Errorf("ParseType(%q) succeeded", s)
		}
	}
}
