package web

import (
	"bytes"
	"io/fs"
	"net/http"
	"time"

	"sesame/internal/staticfs"
)

// handleStatic serves the embedded files under /static/; a path that names
// no regular file (see package staticfs) gets the ordinary not-found page.
func (s *Server) handleStatic(files fs.FS) func(w http.ResponseWriter, r *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		name, b, ok := staticfs.Lookup(files, "/static/", r.URL.EscapedPath())
		if !ok {
			return &Error{Status: http.StatusNotFound, Key: "error.not_found"}
		}
		// Embedded files have no modification time: no Last-Modified.
		http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(b))
		return nil
	}
}
