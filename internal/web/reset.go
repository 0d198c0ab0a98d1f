package web

import (
	"errors"
	"net/http"

	"sesame/internal/account"
	"sesame/internal/auth"
)

// The TOTP reset with the old device (SPEC 2.3, guide steps 1–4).

type resetPage struct {
	Base
	Done       bool
	Form       credentialsForm
	Error      string
	FieldError map[string]string
}

// Types lists the account types the form offers.
func (p resetPage) Types() []account.Type { return account.Types }

func (s *Server) handleResetForm(w http.ResponseWriter, r *http.Request) error {
	s.render(w, r, http.StatusOK, "reset", resetPage{Base: s.base(w, r, "reset.title"), FieldError: map[string]string{}})
	return nil
}

func (s *Server) handleResetSubmit(w http.ResponseWriter, r *http.Request) error {
	c, form, errs, err := s.readCredentials(w, r, true, account.Types)
	if err != nil {
		return err
	}
	p := resetPage{Base: s.base(w, r, "reset.title"), Form: form, FieldError: errs}
	if a, err := s.pending(w, r, ""); err == nil {
		p.Pending = a // the wizard, then the application's login, come next
	}
	if len(errs) > 0 {
		s.render(w, r, http.StatusUnprocessableEntity, "reset", p)
		return nil
	}
	_, err = s.opts.Auth.ResetTOTP(r.Context(), c)
	switch {
	case err == nil:
		s.metrics.outcome("reset", "success")
		// The reset ended every session of the account, this one included.
		setCookie(w, sessionCookie, "", 0)
		p.Done, p.Account = true, nil
		s.render(w, r, http.StatusOK, "reset", p)
		return nil
	case errors.Is(err, auth.ErrNotEnrolled):
		p.Error = p.T("reset.not_linked")
		s.render(w, r, http.StatusConflict, "reset", p)
		return nil
	}
	return s.credentialsFailed(w, r, "reset", err, func(status int, msg string) {
		p.Error = msg
		s.render(w, r, status, "reset", p)
	})
}
