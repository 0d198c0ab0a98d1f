package web

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"time"
)

// requestIDKey carries a request's id in its context.
type requestIDKey struct{}

// RequestID is the id AccessLog gave the request, or "".
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// newRequestID is 16 hex digits from the system's random source: unique
// enough to find one request in a day's logs, and saying nothing about how
// many came before it.
func newRequestID() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// AccessLog logs one line per request on log, at Info: method, route
// pattern, status, duration, request id. It gives every request an id, in
// its context (RequestID) and in the X-Request-Id response header, so a
// person's report and the log line meet.
//
// It logs the route pattern the mux matched ("GET /login", "POST
// /oauth/token"), never the path as sent nor the query string nor the
// body: a query string carries an authorisation request's id, a code, a
// password-reset token; a form, a password or a TOTP code. A request no
// route matched is logged as "unmatched". next must be or wrap a mux that
// reports its pattern: http.ServeMux sets Request.Pattern, and the portal's
// Server reports the pattern of its own routes through the context.
func AccessLog(next http.Handler, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := newRequestID()
		w.Header().Set("X-Request-Id", id)
		sw := &statusWriter{ResponseWriter: w}
		rt := &matched{}
		ctx := context.WithValue(context.WithValue(r.Context(), routeKey{}, rt), requestIDKey{}, id)
		r = r.WithContext(ctx)
		next.ServeHTTP(sw, r)
		route := rt.pattern // a route of the portal's own mux
		if !rt.seen {
			route = r.Pattern // the outer mux's: the provider's routes
		}
		if route == "" {
			route = "unmatched"
		}
		status := sw.status
		if status == 0 {
			status = http.StatusOK
		}
		log.LogAttrs(ctx, slog.LevelInfo, "request",
			slog.String("method", r.Method), slog.String("route", route), slog.Int("status", status),
			slog.Duration("duration", time.Since(start)), slog.String("request_id", id))
	})
}
