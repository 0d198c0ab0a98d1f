package account

import (
	"errors"
	"testing"
)

func TestCheckNewIdentifier(t *testing.T) {
	tests := []struct {
		name, in string
		want     string // the canonical form when accepted
		err      error
	}{
		{"plain ASCII with + and .", "Jean.Dupont+finagora@Example.be", "jean.dupont+finagora@example.be", nil},
		{"digits and ASCII punctuation", "o'brien_2-x@mail.example.ie", "o'brien_2-x@mail.example.ie", nil},
		{"é precomposed (NFC)", "\u00e9lodie@example.fr", "\u00e9lodie@example.fr", nil},
		{"é decomposed (NFD)", "e\u0301lodie@example.fr", "\u00e9lodie@example.fr", nil},
		{"German ß", "stra\u00dfe@example.de", "stra\u00dfe@example.de", nil},
		{"all Cyrillic: one script", "\u0438\u0432\u0430\u043d@\u043f\u0440\u0438\u043c\u0435\u0440.\u0440\u0444", "иван@пример.рф", nil},
		{"all Hebrew, right to left", "מישהו@דוגמה.ישראל", "מישהו@דוגמה.ישראל", nil},
		{"Japanese kanji and kana with Latin", "tanaka.たろう@例え.jp", "tanaka.たろう@例え.jp", nil},
		{"katakana with Latin", "タナカ@example.jp", "タナカ@example.jp", nil},
		{"Chinese with Latin", "王伟@example.cn", "王伟@example.cn", nil},
		{"Korean with Latin", "김민준@example.kr", "김민준@example.kr", nil},
		{"Han and Bopomofo with Latin", "ㄅ王@example.tw", "ㄅ王@example.tw", nil},

		{"zero-width space", "pay\u200bpal@example.com", "", ErrIdentifierInvisible},
		{"zero-width joiner", "pay\u200dpal@example.com", "", ErrIdentifierInvisible},
		{"right-to-left override", "jan\u202emoc.elpmaxe@example.com", "", ErrIdentifierInvisible},
		{"left-to-right mark", "jan\u200e@example.com", "", ErrIdentifierInvisible},
		{"soft hyphen", "pay\u00adpal@example.com", "", ErrIdentifierInvisible},
		{"word joiner in the domain", "jan@exa\u2060mple.com", "", ErrIdentifierInvisible},
		{"no-break space", "jan\u00a0dupont@example.com", "", ErrIdentifierInvisible},
		{"variation selector", "jan\ufe0f@example.com", "", ErrIdentifierInvisible},
		{"Hangul filler", "jan\u3164@example.com", "", ErrIdentifierInvisible},

		{"full-width letters", "\uff50\uff41\uff59\uff50\uff41\uff4c@example.com", "", ErrIdentifierCharacter},
		{"one full-width letter", "\uff50aypal@example.com", "", ErrIdentifierCharacter},
		{"emoji", "jan\U0001F600@example.com", "", ErrIdentifierCharacter},
		{"compatibility micro sign", "\u00b5@example.com", "", ErrIdentifierCharacter},
		{"Hebrew address with a Latin domain (Bidi Rule)", "מישהו@example.il", "", ErrIdentifierCharacter},

		{"Cyrillic а in paypal", "p\u0430ypal@example.com", "", ErrIdentifierMixedScript},
		{"Cyrillic о in the domain", "jan@examp\u043ee.com", "", ErrIdentifierMixedScript},
		{"Greek omicron", "pay\u03bfpal@example.com", "", ErrIdentifierMixedScript},
		{"Greek and Cyrillic", "\u03b1\u0431@example.gr", "", ErrIdentifierMixedScript},
		{"Cyrillic with Han", "иван王@пример.рф", "", ErrIdentifierMixedScript},
		{"kana with Hangul", "たなか김@example.jp", "", ErrIdentifierMixedScript},

		{"no address", "not an address", "", ErrInvalidIdentifier},
		{"empty", "", "", ErrInvalidIdentifier},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := CheckNewIdentifier(tt.in)
			if got != tt.want || !errors.Is(err, tt.err) || (tt.err == nil) != (err == nil) {
				t.Errorf("CheckNewIdentifier(%+q) = %+q, %v; want %+q, %v", tt.in, got, err, tt.want, tt.err)
			}
			// Login goes on comparing with NormalizeIdentifier alone, so an
			// account created before this check keeps logging in.
			if tt.err != nil && tt.err != ErrInvalidIdentifier {
				if _, err := NormalizeIdentifier(tt.in); err != nil {
					t.Errorf("NormalizeIdentifier(%+q) now refuses it: %v", tt.in, err)
				}
			}
		})
	}
}
