package finagora

import "net/http"

// maxBody bounds every request body: the form and its JSON twin are a few
// hundred bytes.
const maxBody = 16 << 10

// routes is every route of Finagora, wrapped in what applies to all of
// them: security headers, cross-origin protection of the POSTs (the
// browser's Sec-Fetch-Site or Origin must be this site), and the session.
func (s *server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.handleHome)
	mux.HandleFunc("POST /simulation", s.handleSimulation)
	mux.HandleFunc("GET /simulation", s.handleSimulationGet)
	mux.HandleFunc("POST /api/simulation", s.handleAPISimulation)
	mux.HandleFunc("GET /static/", s.handleStatic)

	mux.HandleFunc("GET /login", s.handleLogin)
	mux.HandleFunc("GET "+CallbackPath, s.handleCallback)
	mux.HandleFunc("POST /logout", s.handleLogout)
	mux.HandleFunc("POST "+BackchannelLogoutPath, s.handleBackchannelLogout)

	mux.HandleFunc("GET /espace", s.requireLogin(s.handleAccount))
	mux.HandleFunc("GET /simulation/complete", s.requireLogin(s.handleFeature("/simulation/complete", "full_simulation")))
	mux.HandleFunc("GET /subscription", s.requireLogin(s.handleFeature("/subscription", "subscription")))

	mux.HandleFunc("/", s.handleNotFound)

	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(s.handleCrossOrigin))
	// The portal's server posts logout tokens here: no browser, so no
	// cookie to abuse. CrossOriginProtection lets a request through when it
	// has neither Sec-Fetch-Site nor Origin (it takes it for a non-browser
	// client), which a server-to-server POST is; the bypass also lets it
	// through should the portal's HTTP client send an Origin. The token's
	// signature is what protects this endpoint.
	cop.AddInsecureBypassPattern("POST " + BackchannelLogoutPath)
	issuer := ""
	if s.rp != nil {
		issuer = s.rp.issuer
	}
	return securityHeaders(contentSecurityPolicy(issuer), cop.Handler(s.withSession(mux)), s.trustProxy)
}
