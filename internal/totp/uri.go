package totp

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"rsc.io/qr"
)

// URI returns the Key URI that authenticator apps (Google Authenticator,
// FreeOTP, ...) read from a QR code:
//
//	otpauth://totp/{issuer}:{account}?secret=…&issuer=…&algorithm=SHA1&digits=6&period=30
//
// Issuer and account are percent-encoded (UTF-8, RFC 3986) everywhere, with a
// space as %20 and never '+': some apps decode '+' as a space and others do
// not, so "jean+x@example.be" must travel as "jean%2Bx@example.be". A colon in
// either part is encoded too, although the format says neither should hold one.
func URI(issuer, account string, secret []byte, p Params) string {
	var b strings.Builder
	b.WriteString("otpauth://totp/")
	b.WriteString(escape(issuer))
	b.WriteByte(':')
	b.WriteString(escape(account))
	b.WriteString("?secret=")
	b.WriteString(EncodeSecret(secret))
	b.WriteString("&issuer=")
	b.WriteString(escape(issuer))
	b.WriteString("&algorithm=")
	b.WriteString(escape(string(p.Algorithm)))
	b.WriteString("&digits=")
	b.WriteString(strconv.Itoa(p.Digits))
	b.WriteString("&period=")
	b.WriteString(strconv.FormatInt(int64(p.Period.Seconds()), 10))
	return b.String()
}

// escape percent-encodes every byte except RFC 3986 unreserved characters and
// '@', which every app reads literally and keeps e-mail addresses legible.
// url.PathEscape and url.QueryEscape each leave a different set of
// characters ('+', ':' or ' ' → '+') that apps disagree on.
func escape(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
			c == '-' || c == '.' || c == '_' || c == '~' || c == '@' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&0x0f])
	}
	return b.String()
}

// MaxURILen bounds what QRPNG encodes. A Key URI is ~150 bytes; 1024 still
// scans from a screen at medium error correction, and longer input is a bug.
const MaxURILen = 1024

// qrScale is the number of image pixels per QR module. rsc.io/qr adds the
// 4-module quiet zone the QR standard asks for; a typical Key URI (version 6-7,
// 41-45 modules) then gives a PNG of about 400 px, sharp on a phone camera
// and on high-density screens, where the page may display it smaller.
const qrScale = 8

// QRPNG returns a PNG image of uri as a QR code with medium (M, ~15%) error correction.
func QRPNG(uri string) ([]byte, error) {
	if uri == "" {
		return nil, errors.New("totp: empty URI for QR code")
	}
	if len(uri) > MaxURILen {
		return nil, fmt.Errorf("totp: URI of %d bytes is too long for a QR code (max %d)", len(uri), MaxURILen)
	}
	c, err := qr.Encode(uri, qr.M)
	if err != nil {
		return nil, fmt.Errorf("totp: QR code: %w", err)
	}
	c.Scale = qrScale
	return c.PNG(), nil
}
