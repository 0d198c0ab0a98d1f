// Package staticfs finds the embedded file a request's path names, for the
// /static/ routes of the portal and of Finagora: only a path that names an
// existing regular file is found; anything else — a directory, "..", an
// encoded slash or backslash, NUL, invalid UTF-8 such as the overlong
// %c0%ae, an overlong path — is not, and gets the application's ordinary
// not-found page. (http.FileServerFS listed folders and answered some of
// these with a bare 500: fs.Sub's "invalid name" error is not
// fs.ErrNotExist.)
package staticfs

import (
	"io/fs"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxPath bounds the escaped path after the prefix: our file names are a
// few bytes long, anything much longer is noise.
const maxPath = 128

// Lookup returns the name and content of the regular file in files that
// escapedPath (the request's path as sent, prefix included) names.
func Lookup(files fs.FS, prefix, escapedPath string) (string, []byte, bool) {
	rest, ok := strings.CutPrefix(escapedPath, prefix)
	if !ok || len(rest) > maxPath {
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
