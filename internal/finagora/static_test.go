package finagora

import (
	"bytes"
	"html"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"sesame/internal/i18n"
	"sesame/internal/simulation"
)

// oddStaticPaths are requests under /static/ that name no regular file:
// each must get the translated not-found page, never a 500 or a listing.
// They also seed FuzzStaticPath.
var oddStaticPaths = []string{
	"/static/",
	"/static/%2e",
	"/static/%2e%2e/%2e%2e/etc/passwd",
	"/static/%2e%2e%2ffinagora.css",
	"/static/%c0%ae%c0%ae/%c0%ae%c0%ae/etc/passwd", // overlong UTF-8 for "."
	"/static/%c0%affinagora.css",                   // overlong UTF-8 for "/"
	"/static/%ff",
	"/static/a%2fb",
	"/static/%2ffinagora.css",
	"/static/..%5cfinagora.css",
	"/static/%5cfinagora.css",
	"/static/finagora.css%00",
	"/static/finagora.css%00.png",
	"/static/finagora.css%0a",
	"/static/finagora.css/",
	"/static/finagora.css/x",
	"/static/finagora.css%2f",
	"/static/nowhere.css",
	"/static/FINAGORA.CSS",
	"/static/" + strings.Repeat("a/", 200) + "finagora.css",
	"/static/" + strings.Repeat("%e2%80%ae", 10) + "finagora.css", // right-to-left overrides
}

func TestStaticPaths(t *testing.T) {
	h := newHandler(t)
	css, err := fs.ReadFile(staticFS, "static/finagora.css")
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/static/finagora.css", "/static/finagora%2ecss", "/static/%66inagora.css"} {
		rec := do(h, httptest.NewRequest(http.MethodGet, path, nil))
		if rec.Code != http.StatusOK || !bytes.Equal(rec.Body.Bytes(), css) {
			t.Errorf("GET %s: %d, want 200 and the stylesheet", path, rec.Code)
		}
		for name, want := range map[string]string{"Content-Type": "text/css; charset=utf-8", "Cache-Control": "public, max-age=3600"} {
			if got := rec.Header().Get(name); got != want {
				t.Errorf("GET %s: %s = %q, want %q", path, name, got, want)
			}
		}
	}
	cat, err := loadCatalog()
	if err != nil {
		t.Fatal(err)
	}
	notFound := cat.T(i18n.NL, "errorpage.not_found.text", nil)
	for _, path := range oddStaticPaths {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		req.Header.Set("Accept-Language", "nl-BE")
		rec := do(h, req)
		if rec.Code != http.StatusNotFound || !strings.Contains(html.UnescapeString(rec.Body.String()), notFound) {
			t.Errorf("GET %s: %d, want 404 with %q\n%.300s", path, rec.Code, notFound, rec.Body)
		}
		if got := rec.Header().Get("Cache-Control"); strings.Contains(got, "public") {
			t.Errorf("GET %s: the not-found page is cacheable: %q", path, got)
		}
	}
}

// FuzzStaticPath sends arbitrary paths under /static/: never a 5xx, and a
// 200 only with the content of the embedded file the path names.
func FuzzStaticPath(f *testing.F) {
	for _, path := range oddStaticPaths {
		f.Add(strings.TrimPrefix(path, "/static/"))
	}
	f.Add("finagora.css")
	h, err := New(Options{Basis: simulation.DefaultBasis()})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, rest string) {
		req, err := http.NewRequest(http.MethodGet, "http://finagora.test/static/"+rest, nil)
		if err != nil || req.URL.Path == "" {
			t.Skip("not a request the server could receive")
		}
		rec := do(h, req)
		if rec.Code >= 500 {
			t.Fatalf("GET %q: %d", req.URL.EscapedPath(), rec.Code)
		}
		if rec.Code != http.StatusOK {
			return
		}
		name := strings.TrimPrefix(req.URL.Path, "/static/")
		want, err := fs.ReadFile(staticFS, "static/"+name)
		if err != nil || !bytes.Equal(rec.Body.Bytes(), want) {
			t.Fatalf("GET %q: 200 for something that is not the embedded file %q", req.URL.EscapedPath(), name)
		}
	})
}
