package web

import (
	"encoding/base64"
	"errors"
	"html/template"
	"net/http"

	"sesame/internal/auth"
	"sesame/internal/recovery"
)

// Recovery codes (SPEC 3): shown once when the wizard links an
// authenticator (enrol.go, step 4), and again, newly made, when the
// logged-in owner asks for a new set from the home page with a current code.

// recoveryCodes is a set of codes as a page shows it.
type recoveryCodes struct {
	Codes []string     // grouped for reading
	File  template.URL // the same codes as a data: URL, for "download as a text file"
	Shown bool         // the codes were already shown: none on this page
}

// recoveryCodes prepares codes for a page in b's language. The text file is
// a data: URL with a download attribute: it needs no script (the CSP allows
// none) and no second request, and the codes are on the page already.
func (s *Server) recoveryCodes(b Base, codes []string) recoveryCodes {
	rc := recoveryCodes{}
	for _, c := range codes {
		rc.Codes = append(rc.Codes, recovery.Grouped(c))
	}
	text := recovery.Text(b.T("codes.file_title", "App", b.AppName), b.T("codes.file_note"), codes)
	rc.File = template.URL("data:text/plain;charset=utf-8;base64," + base64.StdEncoding.EncodeToString([]byte(text)))
	return rc
}

// codesPage is the page of a new set of codes made from the home page.
type codesPage struct {
	Base
	Codes recoveryCodes
}

// handleRecoveryCodesNew makes a new set of codes for the logged-in
// account, after a current TOTP code; the old set dies. Errors go back to
// the home page with the message.
func (s *Server) handleRecoveryCodesNew(w http.ResponseWriter, r *http.Request) error {
	f, err := s.parseForm(w, r, "totp")
	if err != nil {
		return err
	}
	_, a, err := s.session(r)
	if errors.Is(err, auth.ErrNoSession) {
		s.redirect(w, r, "/login")
		return nil
	} else if err != nil {
		return err
	}
	p := s.homePage(w, r)
	code := f.Get("totp")
	s.checkCode(p.FieldError, code)
	if len(p.FieldError) > 0 {
		s.render(w, r, http.StatusUnprocessableEntity, "home", p)
		return nil
	}
	codes, err := s.opts.Auth.NewRecoveryCodes(r.Context(), a.ID, auth.HashToken(cookie(r, sessionCookie)), code, s.clientAddr(r))
	switch {
	case err == nil:
		s.metrics.outcome("recovery_codes", "success")
		cp := codesPage{Base: s.base(w, r, "codes.title")}
		cp.Codes = s.recoveryCodes(cp.Base, codes)
		s.render(w, r, http.StatusOK, "codes", cp)
		return nil
	case errors.Is(err, auth.ErrCredentials):
		s.metrics.outcome("recovery_codes", "failure")
		p.FieldError["totp"] = "error.code_wrong"
		s.render(w, r, http.StatusUnprocessableEntity, "home", p)
		return nil
	case errors.Is(err, auth.ErrAddressThrottled):
		p.Error = s.throttled(w, p.Base)
		s.render(w, r, http.StatusTooManyRequests, "home", p)
		return nil
	case errors.Is(err, auth.ErrNotEnrolled):
		p.Error = p.T("reset.not_linked")
		s.render(w, r, http.StatusConflict, "home", p)
		return nil
	}
	return err
}
