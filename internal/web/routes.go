package web

import (
	"io/fs"
	"net/http"
)

// routes lists every route of the portal.
func (s *Server) routes(mux *http.ServeMux) {
	static, _ := fs.Sub(staticFS, "static")
	mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	mux.HandleFunc("GET /healthz", s.handleHealth)
	mux.HandleFunc("GET /readyz", s.handleReady)

	mux.Handle("GET /{$}", s.handle(s.handleHome))
	mux.Handle("GET /login", s.handle(s.handleLoginForm))
	mux.Handle("POST /login", s.handle(s.handleLoginSubmit))
	mux.Handle("POST /logout", s.handle(s.handleLogout))

	// TOTP initialisation wizard (SPEC 2.2): one page that shows the current step.
	mux.Handle("GET /totp/init", s.handle(s.handleEnrolForm))
	mux.Handle("POST /totp/init", s.handle(s.handleEnrolStart))
	mux.Handle("POST /totp/init/question", s.handle(s.handleEnrolQuestion))
	mux.Handle("POST /totp/init/code", s.handle(s.handleEnrolCode))
	mux.Handle("POST /totp/init/cancel", s.handle(s.handleEnrolCancel))
	mux.Handle("GET /totp/init/done", s.handle(s.handleEnrolDone))

	// TOTP reset with the old device (SPEC 2.3).
	mux.Handle("GET /totp/reset", s.handle(s.handleResetForm))
	mux.Handle("POST /totp/reset", s.handle(s.handleResetSubmit))

	mux.Handle("/", s.handle(s.handleNotFound(mux)))
}
