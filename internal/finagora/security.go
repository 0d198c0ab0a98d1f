package finagora

import (
	"net/http"
	"net/url"
)

// contentSecurityPolicy allows only this site's stylesheet: no script at all
// (the form works without JavaScript), no frames, no base, and forms posted
// here. A browser applies form-action to every redirect that follows a form
// too: log-out posts here and is then redirected to the portal's
// end-session endpoint, so the portal's origin (issuer) is allowed as well
// when there is one — without it, Chromium aborts the log-out.
func contentSecurityPolicy(issuer string) string {
	formAction := "'self'"
	if u, err := url.Parse(issuer); issuer != "" && err == nil && u.Host != "" {
		formAction += " " + u.Scheme + "://" + u.Host
	}
	return "default-src 'none'; style-src 'self'; img-src 'self'; " +
		"form-action " + formAction + "; frame-ancestors 'none'; base-uri 'none'"
}

// securityHeaders sets the headers every response carries, errors
// included; csp is the Content-Security-Policy.
func securityHeaders(csp string, next http.Handler, trustProxy bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", csp)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
		if overHTTPS(r, trustProxy) {
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		next.ServeHTTP(w, r)
	})
}

// overHTTPS reports whether the browser reached us over https: a TLS
// connection, or a proxy the operator trusts that says so. Anyone can send
// X-Forwarded-Proto, so without trustProxy it means nothing.
func overHTTPS(r *http.Request, trustProxy bool) bool {
	return r.TLS != nil || (trustProxy && r.Header.Get("X-Forwarded-Proto") == "https")
}
