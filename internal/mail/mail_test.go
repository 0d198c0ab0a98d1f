package mail

import (
	"errors"
	"strings"
	"testing"
)

func validMessage() Message {
	return Message{
		Kind:    "password_reset",
		To:      Address{Name: "Jan Peeters", Email: "jan.peeters@example.be"},
		Lang:    "nl",
		Subject: "Uw Sesame-wachtwoord opnieuw instellen",
		Text:    "Beste Jan,\n\nhttps://sesame.example/reset?t=x\n",
		HTML:    "<p>Beste Jan,</p>",
	}
}

func TestMessageValidate(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Message)
		ok     bool
	}{
		{"valid", func(*Message) {}, true},
		{"no html is fine", func(m *Message) { m.HTML = "" }, true},
		{"no name is fine", func(m *Message) { m.To.Name = "" }, true},
		{"unicode name", func(m *Message) { m.To.Name = "Zoë Çelik-Ñúñez 😀" }, true},
		{"quotes and brackets in name", func(m *Message) { m.To.Name = `"Boss" <ceo@evil.example>, ` }, true},
		{"longest name", func(m *Message) { m.To.Name = strings.Repeat("é", MaxNameLen/2) }, true},
		{"name too long", func(m *Message) { m.To.Name = strings.Repeat("a", MaxNameLen+1) }, false},
		{"CR LF in name", func(m *Message) { m.To.Name = "Jan\r\nBcc: x@evil.example" }, false},
		{"LF in name", func(m *Message) { m.To.Name = "Jan\nBcc: x@evil.example" }, false},
		{"NUL in name", func(m *Message) { m.To.Name = "Jan\x00" }, false},
		{"line separator in name", func(m *Message) { m.To.Name = "Jan\u2028Bcc" }, false},
		{"C1 control in name", func(m *Message) { m.To.Name = "Jan\u0085" }, false},
		{"invalid UTF-8 name", func(m *Message) { m.To.Name = "Jan\xff" }, false},
		{"empty email", func(m *Message) { m.To.Email = "" }, false},
		{"display name in email", func(m *Message) { m.To.Email = "Jan <jan@example.be>" }, false},
		{"two addresses", func(m *Message) { m.To.Email = "jan@example.be, eve@evil.example" }, false},
		{"CRLF in email", func(m *Message) { m.To.Email = "jan@example.be\r\nBcc: eve@evil.example" }, false},
		{"comment in email", func(m *Message) { m.To.Email = "jan@example.be (x)" }, false},
		{"spaces around email", func(m *Message) { m.To.Email = " jan@example.be" }, false},
		{"no at sign", func(m *Message) { m.To.Email = "jan.example.be" }, false},
		{"quoted local part", func(m *Message) { m.To.Email = `"jan"@example.be` }, false},
		{"email too long", func(m *Message) { m.To.Email = strings.Repeat("a", 250) + "@example.be" }, false},
		{"encoded word in subject", func(m *Message) { m.Subject = "=?utf-8?q?=0D=0ABcc:_x?=" }, false},
		{"encoded word in name", func(m *Message) { m.To.Name = "=?utf-8?q?Support?=" }, false},
		{"empty subject", func(m *Message) { m.Subject = "" }, false},
		{"CRLF in subject", func(m *Message) { m.Subject = "Hi\r\nBcc: eve@evil.example" }, false},
		{"NUL in subject", func(m *Message) { m.Subject = "Hi\x00" }, false},
		{"subject too long", func(m *Message) { m.Subject = strings.Repeat("a", MaxSubjectLen+1) }, false},
		{"empty text", func(m *Message) { m.Text = "" }, false},
		{"NUL in text", func(m *Message) { m.Text = "a\x00b" }, false},
		{"text too long", func(m *Message) { m.Text = strings.Repeat("a", MaxTextLen+1) }, false},
		{"html too long", func(m *Message) { m.HTML = strings.Repeat("a", MaxHTMLLen+1) }, false},
		{"invalid UTF-8 text", func(m *Message) { m.Text = "\xc3" }, false},
		{"empty kind", func(m *Message) { m.Kind = "" }, false},
		{"kind with space", func(m *Message) { m.Kind = "password reset" }, false},
		{"unsupported language", func(m *Message) { m.Lang = "de" }, false},
		{"upper-case language", func(m *Message) { m.Lang = "NL" }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := validMessage()
			tt.change(&m)
			err := m.Validate()
			if got := err == nil; got != tt.ok {
				t.Fatalf("Validate() = %v, want ok=%v", err, tt.ok)
			}
			if err != nil && !errors.Is(err, ErrInvalid) {
				t.Errorf("error %v does not wrap ErrInvalid", err)
			}
		})
	}
}

func TestRedactEmail(t *testing.T) {
	tests := []struct{ in, want string }{
		{"jan.peeters@example.be", "j***@example.be"},
		{"Émilie@example.be", "É***@example.be"},
		{"a@b", "a***@b"},
		{"", "***"},
		{"no-at-sign", "***"},
		{"@example.be", "***"},
		{"jan@", "***"},
		{"jan@exa\nmple.be", "***"},
		{"\x01@example.be", "***@example.be"},
		{"jan@\xff", "***"},
	}
	for _, tt := range tests {
		if got := RedactEmail(tt.in); got != tt.want {
			t.Errorf("RedactEmail(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
