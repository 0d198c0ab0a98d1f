package i18n

import (
	"testing"
	"testing/fstest"
)

func TestNegotiate(t *testing.T) {
	tests := []struct {
		explicit, accept string
		want             Lang
	}{
		{"", "", FR},
		{"nl", "fr-BE", NL},
		{"EN", "", EN},
		{"de", "nl-BE,nl;q=0.9", NL},
		{"", "fr-BE,fr;q=0.9,en;q=0.8", FR},
		{"", "en-GB", EN},
		{"", "de-DE", FR},
		{"", "nl;q=0.1,en;q=0.9", EN},
		{"", ";;;garbage\x00", FR},
	}
	for _, tt := range tests {
		if got := Negotiate(tt.explicit, tt.accept, FR); got != tt.want {
			t.Errorf("Negotiate(%q, %q) = %q, want %q", tt.explicit, tt.accept, got, tt.want)
		}
	}
}

func TestLoad(t *testing.T) {
	good := fstest.MapFS{
		"fr.json": {Data: []byte(`{"a.b": "Bonjour {{.Name}}", "tries": {"one": "{{.Count}} essai", "many": "{{.Count}} essais", "other": "{{.Count}} essais"}}`)},
		"nl.json": {Data: []byte(`{"a.b": "Hallo {{.Name}}", "tries": {"one": "{{.Count}} poging", "other": "{{.Count}} pogingen"}}`)},
		"en.json": {Data: []byte(`{"a.b": "Hello {{.Name}}", "tries": {"one": "{{.Count}} try", "other": "{{.Count}} tries"}}`)},
	}
	c, err := Load(good)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.T(NL, "a.b", map[string]string{"Name": "Jan"}); got != "Hallo Jan" {
		t.Errorf("T = %q", got)
	}
	if got := c.N(FR, "tries", 2); got != "2 essais" {
		t.Errorf("N(fr, 2) = %q", got)
	}
	if got := c.N(EN, "tries", 1); got != "1 try" {
		t.Errorf("N(en, 1) = %q", got)
	}
	if got := c.T(EN, "missing.key", nil); got != "missing.key" {
		t.Errorf("unknown key = %q", got)
	}

	split := fstest.MapFS{
		"fr.json":       {Data: []byte(`{"a": "x"}`)},
		"admin.fr.json": {Data: []byte(`{"b": "y"}`)},
		"nl.json":       {Data: []byte(`{"a": "x", "b": "y"}`)},
		"en.json":       {Data: []byte(`{"a": "x"}`)},
		"admin.en.json": {Data: []byte(`{"b": "y"}`)},
	}
	if c, err := Load(split); err != nil || c.T(FR, "b", nil) != "y" {
		t.Errorf("split catalog: %v", err)
	}
	split["admin.nl.json"] = &fstest.MapFile{Data: []byte(`{"b": "z"}`)}
	if _, err := Load(split); err == nil {
		t.Error("Load accepted a key defined in two files")
	}

	bad := fstest.MapFS{
		"fr.json": {Data: []byte(`{"a": "x", "b": "y"}`)},
		"nl.json": {Data: []byte(`{"a": "x"}`)},
		"en.json": {Data: []byte(`{"a": "x", "b": "y"}`)},
	}
	if _, err := Load(bad); err == nil {
		t.Error("Load accepted a catalog with a missing key")
	}
}

// Messages without data are translated once at Load; they must read the
// same as when go-i18n renders them, and a message with data must still
// get its data.
func TestPlainMessages(t *testing.T) {
	c, err := Load(fstest.MapFS{
		"fr.json": {Data: []byte(`{"a.plain": "Bonjour", "a.data": "Bonjour {{.Name}}"}`)},
		"nl.json": {Data: []byte(`{"a.plain": "Hallo", "a.data": "Hallo {{.Name}}"}`)},
		"en.json": {Data: []byte(`{"a.plain": "Hello", "a.data": "Hello {{.Name}}"}`)},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := c.plain[NL]["a.data"]; ok {
		t.Error("a message with data was translated once")
	}
	for _, tt := range []struct {
		l         Lang
		key, want string
		data      any
	}{
		{NL, "a.plain", "Hallo", nil},
		{FR, "a.data", "Bonjour Anne", map[string]any{"Name": "Anne"}},
		{EN, "a.plain", "Hello", map[string]any{}},
	} {
		if got := c.T(tt.l, tt.key, tt.data); got != tt.want {
			t.Errorf("T(%s, %s) = %q, want %q", tt.l, tt.key, got, tt.want)
		}
	}
}
