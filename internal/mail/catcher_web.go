package mail

import (
	"bytes"
	htmltemplate "html/template"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"sync"
)

var (
	inboxOnce sync.Once
	inboxTmpl *htmltemplate.Template
)

func inboxTemplate() *htmltemplate.Template {
	// The template is embedded and fixed: failing to parse it is a build error
	// that the catcher's tests catch.
	inboxOnce.Do(func() {
		inboxTmpl = htmltemplate.Must(htmltemplate.ParseFS(assets, "templates/inbox.html.tmpl"))
	})
	return inboxTmpl
}

type inboxPage struct {
	Keep     int
	Messages []Caught
	Message  *Caught
	Segments []segment
}

// segment is a run of a text part: plain text, or a link to make clickable.
type segment struct{ Text, URL string }

var urlPattern = regexp.MustCompile(`https?://[^\s<>"'()\[\]{}]+`)

// linkify splits text into plain runs and http(s) links. Everything stays
// text for html/template to escape; an href it finds unsafe it neutralises.
func linkify(text string) []segment {
	var out []segment
	last := 0
	for _, loc := range urlPattern.FindAllStringIndex(text, 1000) {
		if loc[0] > last {
			out = append(out, segment{Text: text[last:loc[0]]})
		}
		u := text[loc[0]:loc[1]]
		out = append(out, segment{Text: u, URL: u})
		last = loc[1]
	}
	if last < len(text) {
		out = append(out, segment{Text: text[last:]})
	}
	return out
}

// Handler serves a read-only inbox: "/" lists the messages, "/messages/{id}"
// shows one, text part only. The HTML part is never rendered: a message is
// untrusted input and the page must not run or load anything from it. Mount
// it under a prefix with http.StripPrefix; its links are relative.
func (c *Catcher) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		msgs := c.Messages()
		slices.Reverse(msgs)
		c.render(w, inboxPage{Keep: catcherKeep, Messages: msgs})
	})
	mux.HandleFunc("GET /messages/{id}", func(w http.ResponseWriter, r *http.Request) {
		id, err := strconv.Atoi(r.PathValue("id"))
		if err != nil {
			http.NotFound(w, r)
			return
		}
		m, ok := c.Message(id)
		if !ok {
			http.NotFound(w, r)
			return
		}
		c.render(w, inboxPage{Keep: catcherKeep, Message: &m, Segments: linkify(m.Text)})
	})
	return mux
}

func (c *Catcher) render(w http.ResponseWriter, p inboxPage) {
	var buf bytes.Buffer
	if err := inboxTemplate().Execute(&buf, p); err != nil {
		c.logger.Error("mail catcher page", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	// Nothing but our inline style may load; no scripts, no frames, no forms.
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	_, _ = w.Write(buf.Bytes())
}
