package finagora

import (
	"bytes"
	"net/http"
	"time"

	"sesame/internal/staticfs"
)

// handleStatic serves the embedded files under /static/; a path that names
// no regular file (see package staticfs) gets the ordinary not-found page.
func (s *server) handleStatic(w http.ResponseWriter, r *http.Request) {
	name, b, ok := staticfs.Lookup(s.static, "/static/", r.URL.EscapedPath())
	if !ok {
		s.handleNotFound(w, r)
		return
	}
	w.Header().Set("Cache-Control", "public, max-age=3600")
	// Embedded files have no modification time: no Last-Modified.
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(b))
}
