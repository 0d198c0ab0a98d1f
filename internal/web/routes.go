package web

import (
	"io/fs"
	"net/http"
)

// routes lists every route of the portal.
func (s *Server) routes(mux *http.ServeMux) {
	static, _ := fs.Sub(staticFS, "static")
	mux.Handle("GET /static/", s.handle(s.handleStatic(static)))
	mux.HandleFunc("GET /healthz", s.handleHealth)
	mux.HandleFunc("GET /readyz", s.handleReady)

	mux.Handle("GET /{$}", s.handle(s.handleHome))
	mux.Handle("GET /login", s.handle(s.handleLoginForm))
	mux.Handle("POST /login", s.handle(s.handleLoginSubmit))
	mux.Handle("POST /logout", s.handle(s.handleLogout))
	// A new set of recovery codes for the logged-in person (recovery.go).
	mux.Handle("POST /recovery-codes", s.handle(s.handleRecoveryCodesNew))

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
	// ... and without it, with a recovery code, on to the wizard (reset.go).
	mux.Handle("GET /totp/reset/lost", s.handle(s.handleLostForm))
	mux.Handle("POST /totp/reset/lost", s.handle(s.handleLostSubmit))

	// "Ask my administrator" (help.go): the request, answered the same whatever the account.
	mux.Handle("GET /help", s.handle(s.handleHelpForm))
	mux.Handle("POST /help", s.handle(s.handleHelpSubmit))

	// Passwords (SPEC 2.4–2.6): change; reset by e-mailed link ("other");
	// the link's page; the page that sends staff to the directory ("internal").
	mux.Handle("GET /password", s.handle(s.handlePasswordForm))
	mux.Handle("POST /password", s.handle(s.handlePasswordSubmit))
	mux.Handle("GET /password/reset", s.handle(s.handlePasswordResetForm))
	mux.Handle("POST /password/reset", s.handle(s.handlePasswordResetSubmit))
	mux.Handle("GET /password/reset/{token}", s.handle(s.handlePasswordNewForm))
	mux.Handle("POST /password/reset/{token}", s.handle(s.handlePasswordNewSubmit))
	mux.Handle("GET /password/internal", s.handle(s.handlePasswordInternal))

	// Administration console (SPEC 3, admin.go): office administrators and support staff.
	mux.Handle("GET /admin", s.handleConsole(s.handleAdminHome))
	mux.Handle("GET /admin/accounts", s.handleConsole(s.handleAdminSearch))
	mux.Handle("GET /admin/accounts/new", s.handleConsole(s.handleAdminNewForm))
	mux.Handle("POST /admin/accounts/new", s.handleConsole(s.handleAdminNewSubmit))
	mux.Handle("GET /admin/accounts/{id}", s.handleConsole(s.handleAdminAccount))
	mux.Handle("GET /admin/accounts/{id}/{action}", s.handleConsole(s.handleAdminConfirm))
	mux.Handle("POST /admin/accounts/{id}/{action}", s.handleConsole(s.handleAdminAct))
	mux.Handle("GET /admin/requests", s.handleConsole(s.handleAdminRequests))
	mux.Handle("GET /admin/requests.csv", s.handleConsole(s.handleAdminRequestsCSV))
	mux.Handle("GET /admin/requests/{id}", s.handleConsole(s.handleAdminRequest))
	mux.Handle("GET /admin/audit", s.handleConsole(s.handleAdminAudit))
	mux.Handle("GET /admin/audit.csv", s.handleConsole(s.handleAdminAuditCSV))

	mux.Handle("/", s.handle(s.handleNotFound(mux)))
}
