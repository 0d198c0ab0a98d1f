package finagora

import (
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// maxInputLen bounds every value the parsers look at; nothing a person types
// into these fields is longer.
const maxInputLen = 40

// parseNumber reads a number as a person types it in French, Dutch or
// English: "3,5" and "3.5" are both 3.5, "200 000", "200.000,50" and
// "200,000.50" are amounts with thousands separators, and a trailing "€" or
// "%" is allowed. With grouping false (rates), a single "." or "," is always
// the decimal mark; with grouping true (amounts), "200.000" is two hundred
// thousand, because nobody insures a loan of 200 euros and 3 decimals. It
// refuses exponents, hexadecimal, NaN and infinities; the result is finite.
func parseNumber(s string, grouping bool) (float64, bool) {
	if len(s) > maxInputLen || !utf8.ValidString(s) {
		return 0, false
	}
	s = strings.TrimSpace(s)
	s = strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(s, "€"), "€"))
	s = strings.TrimSpace(strings.TrimSuffix(s, "%"))
	neg := false
	switch {
	case strings.HasPrefix(s, "-"):
		neg, s = true, s[1:]
	case strings.HasPrefix(s, "−"): // U+2212 MINUS SIGN, as some keyboards and pastes give it
		neg, s = true, s[len("−"):]
	case strings.HasPrefix(s, "+"):
		s = s[1:]
	}
	s = strings.TrimSpace(s)

	// Find the decimal mark: the last "." or ",", unless it is a thousands separator.
	spaced := strings.ContainsAny(s, " \u00a0\u202f'’")
	dots, commas := strings.Count(s, "."), strings.Count(s, ",")
	mark := -1
	switch {
	case dots > 0 && commas > 0:
		mark = max(strings.LastIndex(s, "."), strings.LastIndex(s, ","))
		if strings.Count(s, s[mark:mark+1]) > 1 {
			return 0, false // "1.2.3,4" or "1,2.3.4"
		}
	case dots+commas == 1:
		mark = strings.IndexAny(s, ".,")
		if grouping && !spaced && len(s)-mark-1 == 3 && mark >= 1 && mark <= 3 && allDigits(s[:mark]) && allDigits(s[mark+1:]) {
			mark = -1 // "200.000", "1,500": a thousands separator
		}
	case dots+commas > 1 && !grouping:
		return 0, false
	}
	intPart, frac := s, ""
	if mark >= 0 {
		intPart, frac = s[:mark], s[mark+1:]
	}
	digits, ok := ungroup(intPart)
	if !ok || !allDigits(frac) || digits == "" && frac == "" || !grouping && digits != intPart {
		return 0, false
	}
	if digits == "" {
		digits = "0"
	}
	if frac != "" {
		digits += "." + frac
	}
	v, err := strconv.ParseFloat(digits, 64)
	if err != nil || math.IsInf(v, 0) || math.IsNaN(v) {
		return 0, false
	}
	if neg {
		v = -v
	}
	return v, true
}

// ungroup removes thousands separators from an integer part, checking that
// they separate groups of three digits: "1.000.000" and "1 000" pass,
// "1.00" and "10..000" do not.
func ungroup(s string) (string, bool) {
	if s == "" {
		return "", true
	}
	var groups []string
	start := 0
	for i, r := range s {
		if strings.ContainsRune(groupSeparators, r) {
			groups = append(groups, s[start:i])
			start = i + utf8.RuneLen(r)
		}
	}
	groups = append(groups, s[start:])
	for i, g := range groups {
		if g == "" || !allDigits(g) {
			return "", false
		}
		if len(groups) > 1 && (i == 0 && len(g) > 3 || i > 0 && len(g) != 3) {
			return "", false
		}
	}
	return strings.Join(groups, ""), true
}

// groupSeparators are what people put between thousands: dots (Dutch),
// commas (English), spaces of every width (French) and apostrophes (Swiss).
const groupSeparators = ". ,\u00a0\u202f'’"

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// parseWhole reads a whole number of months ("240", "1.000" is a thousand).
// The bound keeps the conversion to int safe; limits are checked later.
func parseWhole(s string) (int, bool) {
	v, ok := parseNumber(s, true)
	if !ok || v != math.Trunc(v) || math.Abs(v) > 1e6 {
		return 0, false
	}
	return int(v), true
}

// parseDate reads a date of birth as the browser's date input sends it
// (2006-01-02) or as a Belgian types it, day first: 2/1/2006, 02/01/2006,
// 02-01-2006, 02.01.2006. Two-digit years are refused as ambiguous.
func parseDate(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if len(s) > 20 {
		return time.Time{}, false
	}
	var y, m, d string
	if parts := strings.Split(s, "-"); len(parts) == 3 && len(parts[0]) == 4 {
		y, m, d = parts[0], parts[1], parts[2]
	} else {
		parts := strings.FieldsFunc(s, func(r rune) bool { return r == '/' || r == '-' || r == '.' || r == ' ' })
		if len(parts) != 3 {
			return time.Time{}, false
		}
		d, m, y = parts[0], parts[1], parts[2]
	}
	if len(y) != 4 || len(m) < 1 || len(m) > 2 || len(d) < 1 || len(d) > 2 || !allDigits(y+m+d) {
		return time.Time{}, false
	}
	yi, _ := strconv.Atoi(y)
	mi, _ := strconv.Atoi(m)
	di, _ := strconv.Atoi(d)
	if yi < 1000 {
		return time.Time{}, false
	}
	t := time.Date(yi, time.Month(mi), di, 0, 0, 0, 0, time.UTC)
	if t.Year() != yi || int(t.Month()) != mi || t.Day() != di {
		return time.Time{}, false // 31/02 and 00/13 do not roll over into other dates
	}
	return t, true
}

// parseYesNo reads the smoker radio ("yes"/"no") and the JSON booleans.
func parseYesNo(s string) (bool, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "yes", "true", "1", "oui", "ja":
		return true, true
	case "no", "false", "0", "non", "nee":
		return false, true
	}
	return false, false
}
