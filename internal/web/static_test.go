package web

import (
	"bytes"
	"html"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"sesame/internal/i18n"
)

// oddStaticPaths are requests under /static/ that name no regular file:
// each must get the translated not-found page, never a 500 or a listing.
// They also seed FuzzStaticPath.
var oddStaticPaths = []string{
	"/static/",
	"/static/%2e",
	"/static/%2e%2e/%2e%2e/etc/passwd",
	"/static/%2e%2e%2fsesame.css",
	"/static/%c0%ae%c0%ae/%c0%ae%c0%ae/etc/passwd", // overlong UTF-8 for "."
	"/static/%c0%afsesame.css",                     // overlong UTF-8 for "/"
	"/static/%ff",
	"/static/a%2fb",
	"/static/%2fsesame.css",
	"/static/..%5csesame.css",
	"/static/%5csesame.css",
	"/static/sesame.css%00",
	"/static/sesame.css%00.png",
	"/static/sesame.css%0a",
	"/static/sesame.css/",
	"/static/sesame.css/x",
	"/static/sesame.css%2f",
	"/static/nowhere.css",
	"/static/SESAME.CSS",
	"/static/" + strings.Repeat("a/", 200) + "sesame.css",
	"/static/" + strings.Repeat("%e2%80%ae", 10) + "sesame.css", // right-to-left overrides
}

func serveStatic(h http.Handler, path, accept string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, path, nil)
	req.Header.Set("Accept-Language", accept)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestStaticPaths(t *testing.T) {
	p := newFuzzPortal(t)
	css, err := fs.ReadFile(staticFS, "static/sesame.css")
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/static/sesame.css", "/static/sesame%2ecss", "/static/%73esame.css"} {
		rec := serveStatic(p.web, path, "nl-BE")
		if rec.Code != http.StatusOK || !bytes.Equal(rec.Body.Bytes(), css) {
			t.Errorf("GET %s: %d, want 200 and the stylesheet", path, rec.Code)
		}
		if got, want := rec.Header().Get("Content-Type"), "text/css; charset=utf-8"; got != want {
			t.Errorf("GET %s: Content-Type = %q, want %q", path, got, want)
		}
	}
	notFound := Base{Lang: i18n.NL, cat: p.web.cat}.T("error.not_found")
	for _, path := range oddStaticPaths {
		rec := serveStatic(p.web, path, "nl-BE")
		if rec.Code != http.StatusNotFound || !strings.Contains(html.UnescapeString(rec.Body.String()), notFound) {
			t.Errorf("GET %s: %d, want 404 with %q\n%.300s", path, rec.Code, notFound, rec.Body)
		}
		if got := rec.Header().Get("Cache-Control"); got != "no-store" {
			t.Errorf("GET %s: Cache-Control = %q, want no-store", path, got)
		}
	}
	// A literal dot segment never reaches the handler: the mux answers it
	// with a redirect to the cleaned path, as for every route.
	if rec := serveStatic(p.web, "/static/../static/sesame.css", "nl-BE"); rec.Code != http.StatusTemporaryRedirect || rec.Header().Get("Location") != "/static/sesame.css" {
		t.Errorf("GET /static/../static/sesame.css: %d to %q, want the mux's 307 to /static/sesame.css", rec.Code, rec.Header().Get("Location"))
	}
}

// FuzzStaticPath sends arbitrary paths under /static/: never a 5xx, and a
// 200 only with the content of the embedded file the path names.
func FuzzStaticPath(f *testing.F) {
	for _, path := range oddStaticPaths {
		f.Add(strings.TrimPrefix(path, "/static/"))
	}
	f.Add("sesame.css")
	p := newFuzzPortal(f)
	f.Fuzz(func(t *testing.T, rest string) {
		req, err := http.NewRequest(http.MethodGet, "http://sesame.test/static/"+rest, nil)
		if err != nil || req.URL.Path == "" {
			t.Skip("not a request the server could receive")
		}
		rec := httptest.NewRecorder()
		p.web.ServeHTTP(rec, req)
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
