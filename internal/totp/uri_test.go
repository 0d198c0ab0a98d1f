package totp

import (
	"bytes"
	"image"
	_ "image/png"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"
)

func TestURI(t *testing.T) {
	secret := []byte("Hello!\xde\xad\xbe\xef")
	tests := []struct {
		issuer, account string
		p               Params
		want            string
	}{
		{
			"Sesame", "alice@example.be", Default(),
			"otpauth://totp/Sesame:alice@example.be?secret=JBSWY3DPEHPK3PXP&issuer=Sesame&algorithm=SHA1&digits=6&period=30",
		},
		{
			"Sesame Assurances", "jean.dupont+x@example.be", Default(),
			"otpauth://totp/Sesame%20Assurances:jean.dupont%2Bx@example.be?secret=JBSWY3DPEHPK3PXP&issuer=Sesame%20Assurances&algorithm=SHA1&digits=6&period=30",
		},
		{
			"Société & Co", "é:x?y#z/", Params{Algorithm: SHA256, Digits: 8, Period: time.Minute, Skew: 1},
			"otpauth://totp/Soci%C3%A9t%C3%A9%20%26%20Co:%C3%A9%3Ax%3Fy%23z%2F?secret=JBSWY3DPEHPK3PXP&issuer=Soci%C3%A9t%C3%A9%20%26%20Co&algorithm=SHA256&digits=8&period=60",
		},
	}
	for _, tt := range tests {
		got := URI(tt.issuer, tt.account, secret, tt.p)
		if got != tt.want {
			t.Errorf("URI(%q, %q)\n got %s\nwant %s", tt.issuer, tt.account, got, tt.want)
		}
		// A standard parser gets back exactly what went in.
		u, err := url.Parse(got)
		if err != nil {
			t.Fatalf("url.Parse(%q): %v", got, err)
		}
		if u.Scheme != "otpauth" || u.Host != "totp" {
			t.Errorf("scheme/host = %q/%q", u.Scheme, u.Host)
		}
		if want := "/" + tt.issuer + ":" + tt.account; u.Path != want {
			t.Errorf("decoded label = %q, want %q", u.Path, want)
		}
		label := strings.TrimPrefix(u.EscapedPath(), "/")
		issuer, account, _ := strings.Cut(label, ":") // apps split the raw label at its first colon
		if i, _ := url.PathUnescape(issuer); i != tt.issuer {
			t.Errorf("label issuer = %q, want %q", i, tt.issuer)
		}
		if a, _ := url.PathUnescape(account); a != tt.account {
			t.Errorf("label account = %q, want %q", a, tt.account)
		}
		q := u.Query()
		if q.Get("issuer") != tt.issuer {
			t.Errorf("issuer parameter = %q, want %q", q.Get("issuer"), tt.issuer)
		}
		if s, err := DecodeSecret(q.Get("secret")); err != nil || !bytes.Equal(s, secret) {
			t.Errorf("secret parameter = %q", q.Get("secret"))
		}
	}
}

func TestQRPNG(t *testing.T) {
	secret := bytes.Repeat([]byte{0x42}, SecretLen)
	uri := URI("Sesame Assurances", "jean.dupont+x@example.be", secret, Default())
	png, err := QRPNG(uri)
	if err != nil {
		t.Fatal(err)
	}
	img, format, err := image.Decode(bytes.NewReader(png))
	if err != nil || format != "png" {
		t.Fatalf("image.Decode: %v, format %q", err, format)
	}
	if w := img.Bounds().Dx(); w < 250 || w > 600 {
		t.Errorf("image is %d px wide, want a phone-friendly 250..600", w)
	}
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		t.Fatal(err)
	}
	res, err := qrcode.NewQRCodeReader().Decode(bmp, nil)
	if err != nil {
		t.Fatalf("decoding the QR code: %v", err)
	}
	if got := res.GetText(); got != uri {
		t.Errorf("QR code holds %q, want %q", got, uri)
	}

	for _, bad := range []string{"", strings.Repeat("x", MaxURILen+1)} {
		if _, err := QRPNG(bad); err == nil {
			t.Errorf("QRPNG(%d bytes) succeeded, want an error", len(bad))
		}
	}
}
