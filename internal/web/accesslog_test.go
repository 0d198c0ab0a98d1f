package web

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"sesame/internal/auth"
	"sesame/internal/i18n"
)

// TestAccessLog: one line per request with method, route pattern, status,
// duration and request id (also in X-Request-Id), and nothing of the query
// string, the path as sent or the form.
func TestAccessLog(t *testing.T) {
	e := newEnv(t)
	// As sso.Handler serves the portal: the provider's routes on an outer
	// mux, the rest to the portal.
	outer := http.NewServeMux()
	outer.HandleFunc("POST /oauth/token", func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		io.WriteString(w, "{}")
	})
	// The portal logs to the same buffer: its own lines (a refused form, a
	// page not found) must not leak either.
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, nil))
	portal, err := New(Options{Auth: e.auth, Sessions: auth.DefaultSessionPolicy(), DefaultLang: i18n.FR, AppName: "Finagora", Log: log})
	if err != nil {
		t.Fatal(err)
	}
	outer.Handle("/", portal)
	h := AccessLog(outer, log)

	secrets := []string{"SECRETAUTHZ", "SECRETCODE", "SECRETPASSWORD", "secret-person", "SECRETREFRESH", "SECRETPATH", "SECRETTOKEN"}
	for _, tc := range []struct {
		method, target, body string
		route                string
	}{
		{"GET", "/login?authz=SECRETAUTHZ&code=SECRETCODE", "", "GET /login"},
		{"POST", "/login?authz=SECRETAUTHZ", "identifier=secret-person%40example.be&password=SECRETPASSWORD&code=SECRETCODE", "POST /login"},
		{"POST", "/oauth/token?code=SECRETCODE", "grant_type=refresh_token&refresh_token=SECRETREFRESH", "POST /oauth/token"},
		{"GET", "/password/reset/SECRETTOKEN?code=SECRETCODE", "", "GET /password/reset/{token}"},
		// The portal's catch-all answers 404: its pattern is "/".
		{"GET", "/no/such/SECRETPATH?code=SECRETCODE", "", "/"},
	} {
		buf.Reset()
		req := httptest.NewRequest(tc.method, "https://portal.example"+tc.target, strings.NewReader(tc.body))
		if tc.body != "" {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		line := buf.String()
		for _, s := range secrets {
			if strings.Contains(line, s) {
				t.Errorf("%s %s: the access log has %q:\n%s", tc.method, tc.target, s, line)
			}
		}
		var got struct {
			Msg, Method, Route, RequestID string
			Status                        int
			Duration                      *int64
		}
		dec := json.NewDecoder(strings.NewReader(line))
		for dec.More() { // the portal may log more (a refused form); the access line is the last
			got.Msg, got.Route = "", ""
			var m map[string]any
			if err := dec.Decode(&m); err != nil {
				t.Fatalf("%s %s: %v\n%s", tc.method, tc.target, err, line)
			}
			b, _ := json.Marshal(m)
			json.Unmarshal(b, &got)
			got.RequestID, _ = m["request_id"].(string)
		}
		if got.Msg != "request" || got.Method != tc.method || got.Route != tc.route || got.Status != rec.Code || got.Duration == nil {
			t.Errorf("%s %s: logged %+v, want route %q and status %d:\n%s", tc.method, tc.target, got, tc.route, rec.Code, line)
		}
		if id := rec.Header().Get("X-Request-Id"); len(id) != 16 || id != got.RequestID {
			t.Errorf("%s %s: X-Request-Id %q, logged %q", tc.method, tc.target, id, got.RequestID)
		}
	}
}
