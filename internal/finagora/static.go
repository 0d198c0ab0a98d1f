package finagora

import (
	"bytes"
	"io/fs"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// maxStaticPath bounds the escaped path after /static/: our file names are
// a few bytes long, anything much longer is noise.
const maxStaticPath = 128

// handleStatic serves the embedded files under /static/. Only a path that
// names an existing regular file is served; anything else (a directory,
// "..", an encoded slash or backslash, NUL, invalid UTF-8 such as the
// overlong %c0%ae, an overlong path) gets the ordinary not-found page.
// http.FileServerFS answered some of these with a bare 500, because
// fs.Sub's "invalid name" error is not fs.ErrNotExist.
func (s *server) handleStatic(w http.ResponseWriter, r *http.Request) {
	name, b, ok := readStatic(s.static, r.URL.EscapedPath())
	if !ok {
		s.handleNotFound(w, r)
		return
	}
	w.Header().Set("Cache-Control", "public, max-age=3600")
	// Embedded files have no modification time: no Last-Modified.
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(b))
}

// readStatic returns the name and content of the regular file in files
// that escapedPath (the request's path as sent, /static/ included) names.
func readStatic(files fs.FS, escapedPath string) (string, []byte, bool) {
	rest, ok := strings.CutPrefix(escapedPath, "/static/")
	if !ok || len(rest) > maxStaticPath {
		return "", nil, false
	}
	segs := strings.Split(rest, "/")
	for i, seg := range segs {
		// Each segment is unescaped on its own, so that an encoded slash
		// stays inside its segment and is refused there.
		u, err := url.PathUnescape(seg)
		if err != nil || !utf8.ValidString(u) || strings.ContainsFunc(u, func(c rune) bool {
			return c == '/' || c == '\\' || unicode.IsControl(c)
		}) {
			return "", nil, false
		}
		segs[i] = u
	}
	name := strings.Join(segs, "/")
	// ValidPath refuses empty, "." and ".." elements; "." alone is the
	// folder, which Stat then shows is no regular file.
	if !fs.ValidPath(name) {
		return "", nil, false
	}
	info, err := fs.Stat(files, name)
	if err != nil || !info.Mode().IsRegular() {
		return "", nil, false
	}
	b, err := fs.ReadFile(files, name)
	if err != nil {
		return "", nil, false
	}
	return name, b, true
}
