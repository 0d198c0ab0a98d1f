package finagora

import (
	"math"
	"testing"
	"time"

	"sesame/internal/i18n"
)

func TestParseNumber(t *testing.T) {
	tests := []struct {
		in       string
		grouping bool
		want     float64
		ok       bool
	}{
		{"3,5", false, 3.5, true},
		{"3.5", false, 3.5, true},
		{" 3,50 % ", false, 3.5, true},
		{"3,500", false, 3.5, true},
		{"0", false, 0, true},
		{"-1", false, -1, true},
		{"−0,5", false, -0.5, true},
		{"+2", false, 2, true},
		{",5", false, 0.5, true},
		{"1.000", false, 1, true},
		{"1.000,5", false, 0, false},
		{"3,5,1", false, 0, false},
		{"3 5", false, 0, false},
		{"200000", true, 200000, true},
		{"200 000", true, 200000, true},
		{"200\u00a0000", true, 200000, true},
		{"200\u202f000,50 €", true, 200000.5, true},
		{"€ 200.000,50", true, 200000.5, true},
		{"200,000.50", true, 200000.5, true},
		{"200.000", true, 200000, true},
		{"1,500", true, 1500, true},
		{"1.000.000", true, 1e6, true},
		{"1'000'000", true, 1e6, true},
		{"1 154,28 €", true, 1154.28, true},
		{"€ 1.154,28", true, 1154.28, true},
		{"1154,283", true, 1154.283, true},
		{"1 234,567", true, 1234.567, true},
		{"12,5", true, 12.5, true},
		{"1.00.000", true, 0, false},
		{"10..000", true, 0, false},
		{".000", true, 0, true},
		{"1.000.00", true, 0, false},
		{"1,000,000.5,0", true, 0, false},
		{"1.2.3,4", true, 0, false},
		{"", true, 0, false},
		{"€", true, 0, false},
		{".", true, 0, false},
		{"-", false, 0, false},
		{"abc", true, 0, false},
		{"1e5", true, 0, false},
		{"0x10", true, 0, false},
		{"NaN", false, 0, false},
		{"Inf", false, 0, false},
		{"١٢", false, 0, false},
		{"99999999999999999999999999999999999999", true, 1e38, true},
		{"1" + string(make([]byte, 50)), true, 0, false},
		{"\xff", true, 0, false},
	}
	for _, tt := range tests {
		got, ok := parseNumber(tt.in, tt.grouping)
		if ok != tt.ok || ok && math.Abs(got-tt.want) > 1e-9*math.Max(1, math.Abs(tt.want)) {
			t.Errorf("parseNumber(%q, %v) = %v, %v; want %v, %v", tt.in, tt.grouping, got, ok, tt.want, tt.ok)
		}
	}
}

func TestParseWhole(t *testing.T) {
	tests := []struct {
		in   string
		want int
		ok   bool
	}{
		{"240", 240, true}, {" 12 ", 12, true}, {"-3", -3, true}, {"1.000", 1000, true},
		{"12,5", 0, false}, {"2e3", 0, false}, {"99999999999", 0, false}, {"", 0, false},
	}
	for _, tt := range tests {
		if got, ok := parseWhole(tt.in); got != tt.want || ok != tt.ok {
			t.Errorf("parseWhole(%q) = %d, %v; want %d, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestParseDate(t *testing.T) {
	d := func(y int, m time.Month, day int) time.Time { return time.Date(y, m, day, 0, 0, 0, 0, time.UTC) }
	tests := []struct {
		in   string
		want time.Time
		ok   bool
	}{
		{"1990-04-24", d(1990, 4, 24), true},
		{"24/04/1990", d(1990, 4, 24), true},
		{"4/2/1990", d(1990, 2, 4), true},
		{"24-04-1990", d(1990, 4, 24), true},
		{"24.04.1990", d(1990, 4, 24), true},
		{" 24 / 04 / 1990 ", d(1990, 4, 24), true},
		{"29/02/2000", d(2000, 2, 29), true},
		{"29/02/1900", time.Time{}, false},
		{"31/04/1990", time.Time{}, false},
		{"00/01/1990", time.Time{}, false},
		{"01/13/1990", time.Time{}, false},
		{"04/24/1990", time.Time{}, false},
		{"24/04/90", time.Time{}, false},
		{"1990-4-24", d(1990, 4, 24), true},
		{"1990/04/24", time.Time{}, false},
		{"24/04/0990", time.Time{}, false},
		{"24/04/+990", time.Time{}, false},
		{"24041990", time.Time{}, false},
		{"", time.Time{}, false},
		{"aa/bb/cccc", time.Time{}, false},
		{"24/04/1990/1", time.Time{}, false},
	}
	for _, tt := range tests {
		got, ok := parseDate(tt.in)
		if ok != tt.ok || !got.Equal(tt.want) {
			t.Errorf("parseDate(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestFormat(t *testing.T) {
	tests := []struct {
		got, want string
	}{
		{formatMoney(i18n.FR, 1154.283001), "1 154,28 €"},
		{formatMoney(i18n.NL, 1154.283001), "€ 1.154,28"},
		{formatMoney(i18n.EN, 1154.283001), "€1,154.28"},
		{formatMoney(i18n.FR, 200000), "200 000,00 €"},
		{formatMoney(i18n.NL, 1234567.891), "€ 1.234.567,89"},
		{formatMoney(i18n.FR, 0.004), "0,00 €"},
		{formatMoney(i18n.FR, -0.004), "0,00 €"},
		{formatMoney(i18n.FR, -12.5), "-12,50 €"},
		{formatMoney(i18n.FR, 999.995), "1 000,00 €"},
		{formatEuros(i18n.FR, 5e6), "5 000 000 €"},
		{formatEuros(i18n.NL, 5e6), "€ 5.000.000"},
		{formatPercent(i18n.FR, 1.1), "1,1 %"},
		{formatPercent(i18n.NL, 20), "20%"},
		{formatPercent(i18n.EN, 3.75), "3.75%"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}

// FuzzParseNumber checks that no input panics or yields a non-finite
// number, and that every amount the page shows parses back to itself.
func FuzzParseNumber(f *testing.F) {
	for _, s := range []string{"3,5", "3.5", "200 000", "€ 1.154,28", "1 154,28 €", "1,500", "-0", "1e5", "NaN", "１２", "1.2.3", "\u00a0", "9999999999999999999999999999999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, grouping := range []bool{false, true} {
			v, ok := parseNumber(s, grouping)
			if ok && (math.IsNaN(v) || math.IsInf(v, 0)) {
				t.Fatalf("parseNumber(%q, %v) = %v", s, grouping, v)
			}
			if !ok || !grouping || math.Abs(v) > 1e12 {
				continue
			}
			for _, l := range i18n.Supported {
				shown := formatMoney(l, v)
				back, ok := parseNumber(shown, true)
				// Shown to the cent: back within half a cent of v.
				if !ok || math.Abs(back-v) > 0.005+1e-9*math.Abs(v) {
					t.Fatalf("%s: %q shows as %q, which parses to %v, %v; want %v to the cent", l, s, shown, back, ok, v)
				}
			}
		}
		if n, ok := parseWhole(s); ok && (n > 1e6 || n < -1e6) {
			t.Fatalf("parseWhole(%q) = %d, out of bounds", s, n)
		}
	})
}

// FuzzParseDate checks that no input panics and that every accepted date is
// a real calendar date that the day-first form gives back.
func FuzzParseDate(f *testing.F) {
	for _, s := range []string{"1990-04-24", "24/04/1990", "31/02/2000", "4.2.1990", "0000-00-00", "99/99/9999", "2024-02-30", "-1/-1/-1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, ok := parseDate(s)
		if !ok {
			return
		}
		if d.Year() < 1000 || d.Year() > 9999 || d.Hour() != 0 || d.Location() != time.UTC {
			t.Fatalf("parseDate(%q) = %v", s, d)
		}
		for _, layout := range []string{"02/01/2006", "2006-01-02"} {
			if back, ok := parseDate(d.Format(layout)); !ok || !back.Equal(d) {
				t.Fatalf("parseDate(%q) = %v, but %q gives %v, %v", s, d, d.Format(layout), back, ok)
			}
		}
	})
}
