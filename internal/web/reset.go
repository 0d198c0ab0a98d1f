package web

import (
	"errors"
	"net/http"
	"strings"

	"sesame/internal/account"
	"sesame/internal/auth"
	"sesame/internal/store"
)

// The TOTP reset with the old device (SPEC 2.3, guide steps 1–4).

type resetPage struct {
	Base
	Lost       bool // the form without the old device: a recovery code instead of a TOTP code
	Done       bool
	InitURL    string // after Done: the wizard's step 1, filled in (guide step 5)
	Form       credentialsForm
	Error      string
	FieldError map[string]string
}

// Types lists the account types the form offers.
func (p resetPage) Types() []account.Type { return account.Types }

// HelpKind is what the page's "ask my administrator" form asks for: a TOTP
// reset (no old device, no recovery code); HelpOpen unfolds it.
func (p resetPage) HelpKind() string { return store.HelpTOTP }
func (p resetPage) HelpOpen() bool   { return false }

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
	a, err := s.opts.Auth.ResetTOTP(r.Context(), c)
	switch {
	case err == nil:
		s.metrics.outcome("reset", "success")
		// The reset ended every session of the account, this one included.
		setCookie(w, sessionCookie, "", 0)
		p.Done, p.Account = true, nil
		p.InitURL = initURL(a, "")
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

// The reset without the old device (SPEC 3): a recovery code
// instead of the TOTP code. On success the old authenticator is unlinked
// and the wizard opened at step 2 in the same request: the person goes
// straight on to the security question, as the same account.

func (s *Server) handleLostForm(w http.ResponseWriter, r *http.Request) error {
	s.render(w, r, http.StatusOK, "reset", resetPage{Base: s.base(w, r, "reset.lost_title"), Lost: true, FieldError: map[string]string{}})
	return nil
}

// maxRecoveryCode bounds the recovery-code field: 16 characters and their
// dashes or spaces, with room for sloppy typing.
const maxRecoveryCode = 40

func (s *Server) handleLostSubmit(w http.ResponseWriter, r *http.Request) error {
	c, form, errs, err := s.readCredentials(w, r, false, account.Types)
	if err != nil {
		return err
	}
	f, err := s.parseForm(w, r, "recovery_code")
	if err != nil {
		return err
	}
	c.Code = f.Get("recovery_code")
	switch {
	case strings.TrimSpace(c.Code) == "":
		errs["recovery_code"] = "error.required"
	case len(c.Code) > maxRecoveryCode:
		errs["recovery_code"] = "error.too_long"
	}
	p := resetPage{Base: s.base(w, r, "reset.lost_title"), Lost: true, Form: form, FieldError: errs}
	if a, err := s.pending(w, r, ""); err == nil {
		p.Pending = a
	}
	if len(errs) > 0 {
		s.render(w, r, http.StatusUnprocessableEntity, "reset", p)
		return nil
	}
	token, a, err := s.opts.Auth.RecoverWithCode(r.Context(), c)
	switch {
	case err == nil:
		s.metrics.outcome("recover", "success")
		s.opts.Log.Info("authenticator unlinked with a recovery code", "account", a.ID)
		// The reset ended every session of the account, this one included.
		setCookie(w, sessionCookie, "", 0)
		setCookie(w, flowCookie, token, 0)
		s.redirect(w, r, "/totp/init?notice=recovered")
		return nil
	case errors.Is(err, auth.ErrNotEnrolled):
		p.Error = p.T("reset.not_linked")
		s.render(w, r, http.StatusConflict, "reset", p)
		return nil
	}
	return s.credentialsFailed(w, r, "recover", err, func(status int, msg string) {
		p.Error = msg
		s.render(w, r, status, "reset", p)
	})
}
