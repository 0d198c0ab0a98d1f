package finagora

import "net/http"

// maxBody bounds every request body: the form and its JSON twin are a few
// hundred bytes.
const maxBody = 16 << 10

// routes is every route of Finagora, wrapped in the protections that apply
// to all of them: security headers, and cross-origin protection of the POSTs
// (the browser's Sec-Fetch-Site or Origin must be this site).
func (s *server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.handleHome)
	mux.HandleFunc("POST /simulation", s.handleSimulation)
	mux.HandleFunc("GET /simulation", s.handleSimulationGet)
	mux.HandleFunc("POST /api/simulation", s.handleAPISimulation)
	mux.HandleFunc("GET /login", s.handleLogin)
	mux.HandleFunc("GET /static/", s.handleStatic)
	mux.HandleFunc("/", s.handleNotFound)

	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(s.handleCrossOrigin))
	return securityHeaders(cop.Handler(mux), s.trustProxy)
}
