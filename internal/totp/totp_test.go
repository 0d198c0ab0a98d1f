package totp

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

var rfcSeed = []byte("12345678901234567890")

// TestHOTPRFC4226 checks the ten values of RFC 4226 Appendix D.
func TestHOTPRFC4226(t *testing.T) {
	want := []string{"755224", "287082", "359152", "969429", "338314",
		"254676", "287922", "162583", "399871", "520489"}
	for counter, w := range want {
		if got := HOTP(rfcSeed, uint64(counter), 6, SHA1); got != w {
			t.Errorf("HOTP(counter %d) = %q, want %q", counter, got, w)
		}
	}
}

// TestTOTPRFC6238 checks every row of RFC 6238 Appendix B, each algorithm with
// its own seed (the RFC's reference code repeats the ASCII seed to the hash size).
func TestTOTPRFC6238(t *testing.T) {
	seeds := map[Algorithm][]byte{
		SHA1:   []byte("12345678901234567890"),
		SHA256: []byte("12345678901234567890123456789012"),
		SHA512: []byte("1234567890123456789012345678901234567890123456789012345678901234"),
	}
	tests := []struct {
		unix int64
		alg  Algorithm
		want string
	}{
		{59, SHA1, "94287082"}, {59, SHA256, "46119246"}, {59, SHA512, "90693936"},
		{1111111109, SHA1, "07081804"}, {1111111109, SHA256, "68084774"}, {1111111109, SHA512, "25091201"},
		{1111111111, SHA1, "14050471"}, {1111111111, SHA256, "67062674"}, {1111111111, SHA512, "99943326"},
		{1234567890, SHA1, "89005924"}, {1234567890, SHA256, "91819424"}, {1234567890, SHA512, "93441116"},
		{2000000000, SHA1, "69279037"}, {2000000000, SHA256, "90698825"}, {2000000000, SHA512, "38618901"},
		{20000000000, SHA1, "65353130"}, {20000000000, SHA256, "77737706"}, {20000000000, SHA512, "47863826"},
	}
	for _, tt := range tests {
		p := Params{Algorithm: tt.alg, Digits: 8, Period: 30 * time.Second, Skew: 1}
		now := time.Unix(tt.unix, 0)
		if got := p.Code(seeds[tt.alg], now); got != tt.want {
			t.Errorf("%s at %d: Code = %q, want %q", tt.alg, tt.unix, got, tt.want)
		}
		step, ok := p.Verify(seeds[tt.alg], tt.want, now)
		if !ok || step != tt.unix/30 {
			t.Errorf("%s at %d: Verify = (%d, %v), want (%d, true)", tt.alg, tt.unix, step, ok, tt.unix/30)
		}
	}
}

func TestStep(t *testing.T) {
	p := Default()
	tests := []struct {
		unix int64
		want int64
	}{
		{0, 0}, {29, 0}, {30, 1}, {59, 1}, {1111111109, 37037036},
		{-1, -1}, {-30, -1}, {-31, -2}, // floor, not truncation
	}
	for _, tt := range tests {
		if got := p.Step(time.Unix(tt.unix, 0)); got != tt.want {
			t.Errorf("Step(%d) = %d, want %d", tt.unix, got, tt.want)
		}
	}
	if got := (Params{}).Step(time.Unix(100, 0)); got != 0 {
		t.Errorf("Step with zero period = %d, want 0", got)
	}
}

func TestVerifyWindow(t *testing.T) {
	p := Default()
	now := time.Unix(1_700_000_000, 0)
	cur := p.Step(now)
	tests := []struct {
		offset int64
		ok     bool
	}{
		{-3, false}, {-2, false}, {-1, true}, {0, true}, {1, true}, {2, false}, {3, false},
	}
	for _, tt := range tests {
		code := HOTP(rfcSeed, uint64(cur+tt.offset), 6, SHA1)
		step, ok := p.Verify(rfcSeed, code, now)
		if ok != tt.ok {
			t.Errorf("offset %+d: ok = %v, want %v", tt.offset, ok, tt.ok)
		}
		if ok && step != cur+tt.offset {
			t.Errorf("offset %+d: step = %d, want %d", tt.offset, step, cur+tt.offset)
		}
	}

	// Skew 0 accepts only the current step; skew 2 reaches two steps out.
	p0 := p
	p0.Skew = 0
	if _, ok := p0.Verify(rfcSeed, HOTP(rfcSeed, uint64(cur-1), 6, SHA1), now); ok {
		t.Error("skew 0 accepted the previous step")
	}
	p2 := p
	p2.Skew = 2
	if step, ok := p2.Verify(rfcSeed, HOTP(rfcSeed, uint64(cur+2), 6, SHA1), now); !ok || step != cur+2 {
		t.Errorf("skew 2, step +2: got (%d, %v), want (%d, true)", step, ok, cur+2)
	}
}

// TestVerifyHighestStep uses a real collision inside one window and checks
// that the highest matching step wins, so recording it blocks the lower one too.
func TestVerifyHighestStep(t *testing.T) {
	// Under the RFC seed, steps 153567 and 153569 share a code (found by search).
	const low, high, code = 153567, 153569, "468457"
	for _, s := range []uint64{low, high} {
		if got := HOTP(rfcSeed, s, 6, SHA1); got != code {
			t.Fatalf("test data: HOTP(step %d) = %q, want %q", s, got, code)
		}
	}
	p := Default()
	now := time.Unix((low+1)*30, 0) // window low .. high
	if step, ok := p.Verify(rfcSeed, code, now); !ok || step != high {
		t.Fatalf("Verify = (%d, %v), want (%d, true)", step, ok, high)
	}
}

func TestVerifyRefusesMalformed(t *testing.T) {
	p := Default()
	now := time.Unix(1_700_000_000, 0)
	good := p.Code(rfcSeed, now)
	if _, ok := p.Verify(rfcSeed, good, now); !ok {
		t.Fatalf("the good code %q was refused", good)
	}
	// Unicode digits that strconv or unicode.IsDigit would treat as numbers,
	// built from the good code so only the encoding differs.
	arabic := mapDigits(good, '٠')
	fullwidth := mapDigits(good, '０')
	bad := []string{
		"",
		good[:5],   // 5 digits
		good + "0", // 7 digits
		" " + good, // leading space
		good[:3] + " " + good[3:5],
		good + " ",
		"+" + good[1:],
		"-" + good[1:],
		arabic,
		fullwidth,
		"٠١٢٣٤٥",
		"0x1234",
		good[:5] + "\x00",
		"abcdef",
	}
	for _, code := range bad {
		if _, ok := p.Verify(rfcSeed, code, now); ok {
			t.Errorf("Verify(%q) = ok, want refused", code)
		}
		if WellFormed(code, 6) {
			t.Errorf("WellFormed(%q, 6) = true, want false", code)
		}
	}
	// A wrong but well-formed code.
	wrong := []byte(good)
	wrong[0] = '0' + (wrong[0]-'0'+1)%10
	if _, ok := p.Verify(rfcSeed, string(wrong), now); ok {
		t.Errorf("Verify(%q) accepted a wrong code", wrong)
	}
	// A different secret.
	if _, ok := p.Verify([]byte("another secret......"), good, now); ok {
		t.Error("Verify accepted the code under another secret")
	}
	// Invalid params never verify anything.
	inv := p
	inv.Algorithm = "MD5"
	if _, ok := inv.Verify(rfcSeed, good, now); ok {
		t.Error("Verify with an unknown algorithm accepted a code")
	}
}

// mapDigits rewrites the ASCII digits of s into the script whose zero is zero.
func mapDigits(s string, zero rune) string {
	var b strings.Builder
	for _, c := range s {
		b.WriteRune(zero + c - '0')
	}
	return b.String()
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Params)
		ok     bool
	}{
		{"default", func(*Params) {}, true},
		{"sha256 8 digits 60s skew 2", func(p *Params) { p.Algorithm, p.Digits, p.Period, p.Skew = SHA256, 8, time.Minute, 2 }, true},
		{"sha512", func(p *Params) { p.Algorithm = SHA512 }, true},
		{"lower-case algorithm", func(p *Params) { p.Algorithm = "sha1" }, false},
		{"empty algorithm", func(p *Params) { p.Algorithm = "" }, false},
		{"5 digits", func(p *Params) { p.Digits = 5 }, false},
		{"9 digits", func(p *Params) { p.Digits = 9 }, false},
		{"14s", func(p *Params) { p.Period = 14 * time.Second }, false},
		{"15s", func(p *Params) { p.Period = 15 * time.Second }, true},
		{"120s", func(p *Params) { p.Period = 120 * time.Second }, true},
		{"121s", func(p *Params) { p.Period = 121 * time.Second }, false},
		{"30.5s", func(p *Params) { p.Period = 30*time.Second + 500*time.Millisecond }, false},
		{"skew -1", func(p *Params) { p.Skew = -1 }, false},
		{"skew 3", func(p *Params) { p.Skew = 3 }, false},
	}
	for _, tt := range tests {
		p := Default()
		tt.change(&p)
		if err := p.Validate(); (err == nil) != tt.ok {
			t.Errorf("%s: Validate() = %v, want ok %v", tt.name, err, tt.ok)
		}
	}
}

func TestHOTPInvalid(t *testing.T) {
	for _, tt := range []struct {
		digits int
		alg    Algorithm
	}{{0, SHA1}, {10, SHA1}, {-1, SHA1}, {6, "MD5"}} {
		if got := HOTP(rfcSeed, 1, tt.digits, tt.alg); got != "" {
			t.Errorf("HOTP(digits %d, %q) = %q, want empty", tt.digits, tt.alg, got)
		}
	}
}

func TestGenerateSecret(t *testing.T) {
	a, err := GenerateSecret()
	if err != nil {
		t.Fatal(err)
	}
	b, err := GenerateSecret()
	if err != nil {
		t.Fatal(err)
	}
	if len(a) != 20 || len(b) != 20 {
		t.Fatalf("lengths %d, %d, want 20", len(a), len(b))
	}
	if bytes.Equal(a, b) {
		t.Error("two secrets are equal")
	}
}

func TestSecretEncoding(t *testing.T) {
	secret := []byte("Hello!\xde\xad\xbe\xef")
	if got, want := EncodeSecret(secret), "JBSWY3DPEHPK3PXP"; got != want {
		t.Errorf("EncodeSecret = %q, want %q", got, want)
	}
	if got, want := Grouped(secret), "JBSW Y3DP EHPK 3PXP"; got != want {
		t.Errorf("Grouped = %q, want %q", got, want)
	}
	if got, want := Grouped(rfcSeed), "GEZD GNBV GY3T QOJQ GEZD GNBV GY3T QOJQ"; got != want {
		t.Errorf("Grouped(rfc seed) = %q, want %q", got, want)
	}
	if got, want := Grouped([]byte("abc")), "MFRG G"; got != want {
		t.Errorf("Grouped(abc) = %q, want %q", got, want)
	}

	good := []string{
		"JBSWY3DPEHPK3PXP",
		"jbswy3dpehpk3pxp",
		"JBSW Y3DP EHPK 3PXP",
		"jbsw-y3dp-ehpk-3pxp",
		"  JBSW\tY3DP EHPK 3PXP ",
	}
	for _, s := range good {
		got, err := DecodeSecret(s)
		if err != nil || !bytes.Equal(got, secret) {
			t.Errorf("DecodeSecret(%q) = %x, %v; want %x", s, got, err, secret)
		}
	}
	// Optional padding: "MFRGG===" is "abc".
	for _, s := range []string{"MFRGG", "MFRGG===", "mfrg g==="} {
		got, err := DecodeSecret(s)
		if err != nil || string(got) != "abc" {
			t.Errorf("DecodeSecret(%q) = %q, %v; want abc", s, got, err)
		}
	}

	bad := []string{
		"",
		"   ",
		"====",
		"JBSWY3DP1",        // 1 is not base32
		"JBSWY3DPEHPK3PX8", // 8 is not base32
		"MFR=GG",           // padding in the middle
		"M",                // impossible length
		"ſBSWY3DPEHPK3PXP", // long s would upper-case to S with Unicode rules
		"JBSWY3DPEHPK3PXP\x00",
		"ＪBSWY3DPEHPK3PXP", // fullwidth J
		strings.Repeat("A", 200),
	}
	for _, s := range bad {
		if got, err := DecodeSecret(s); err == nil {
			t.Errorf("DecodeSecret(%q) = %x, want an error", s, got)
		}
	}
	// The longest secret accepted round-trips, one byte more does not.
	max := bytes.Repeat([]byte{0xa5}, MaxSecretLen)
	if got, err := DecodeSecret(Grouped(max)); err != nil || !bytes.Equal(got, max) {
		t.Errorf("DecodeSecret(max) = %x, %v", got, err)
	}
	if _, err := DecodeSecret(EncodeSecret(append(max, 1))); err == nil {
		t.Error("DecodeSecret accepted a secret longer than MaxSecretLen")
	}
}

func FuzzDecodeSecret(f *testing.F) {
	for _, s := range []string{"JBSWY3DPEHPK3PXP", "jbsw-y3dp ehpk 3pxp", "MFRGG===", "", "=", "ſ", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		secret, err := DecodeSecret(s)
		if err != nil {
			return
		}
		if len(secret) == 0 || len(secret) > MaxSecretLen {
			t.Fatalf("DecodeSecret(%q) returned %d bytes", s, len(secret))
		}
		// Whatever was accepted must survive both display forms.
		for _, enc := range []string{EncodeSecret(secret), Grouped(secret)} {
			again, err := DecodeSecret(enc)
			if err != nil || !bytes.Equal(again, secret) {
				t.Fatalf("round trip of %q via %q: %x, %v", s, enc, again, err)
			}
		}
	})
}

func FuzzVerify(f *testing.F) {
	f.Add(rfcSeed, "287082", int64(59), 6, 1)
	f.Add([]byte{}, "٠١٢٣٤٥", int64(-1), 8, 2)
	f.Add([]byte("k"), "", int64(1<<62), 0, -5)
	f.Fuzz(func(t *testing.T, secret []byte, code string, unix int64, digits, skew int) {
		p := Params{Algorithm: SHA1, Digits: digits, Period: 30 * time.Second, Skew: skew}
		now := time.Unix(unix, 0)
		step, ok := p.Verify(secret, code, now)
		if !ok {
			return
		}
		if !WellFormed(code, digits) {
			t.Fatalf("accepted malformed code %q", code)
		}
		if d := step - p.Step(now); d < -int64(skew) || d > int64(skew) {
			t.Fatalf("matched step %d outside the window around %d", step, p.Step(now))
		}
		if got := HOTP(secret, uint64(step), digits, SHA1); got != code {
			t.Fatalf("step %d has code %q, not %q", step, got, code)
		}
	})
}

func BenchmarkVerify(b *testing.B) {
	p := Default()
	now := time.Unix(1_700_000_000, 0)
	code := "000000" // usually wrong, so every candidate step is computed
	for b.Loop() {
		p.Verify(rfcSeed, code, now)
	}
}
