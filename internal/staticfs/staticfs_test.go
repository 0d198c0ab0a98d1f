package staticfs

import (
	"testing"
	"testing/fstest"
)

func TestLookup(t *testing.T) {
	files := fstest.MapFS{"app.css": {Data: []byte("body{}")}, "img/logo.png": {Data: []byte("png")}}
	tests := []struct {
		path string
		want string // "" when nothing is found
	}{
		{"/static/app.css", "app.css"},
		{"/static/img/logo.png", "img/logo.png"},
		{"/static/img%2flogo.png", ""}, // an encoded slash stays in its segment
		{"/static/", ""},
		{"/static/img", ""}, // a folder
		{"/static/img/", ""},
		{"/static/%2e%2e/app.css", ""},
		{"/static/%c0%ae%c0%ae/app.css", ""}, // overlong UTF-8
		{"/static/app.css%00", ""},
		{"/static/img%5clogo.png", ""}, // a backslash
		{"/static/missing.css", ""},
		{"/other/app.css", ""},
		{"/static/" + string(make([]byte, 200)), ""},
	}
	for _, tt := range tests {
		name, b, ok := Lookup(files, "/static/", tt.path)
		if got := map[bool]string{true: name}[ok]; got != tt.want {
			t.Errorf("Lookup(%q) = %q, %v; want %q", tt.path, name, ok, tt.want)
		}
		if ok && string(b) != string(files[name].Data) {
			t.Errorf("Lookup(%q) content %q", tt.path, b)
		}
	}
}
