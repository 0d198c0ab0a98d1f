package web

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"

	"sesame/internal/account"
	"sesame/internal/auth"
	"sesame/internal/enrol"
	"sesame/internal/store"
	"sesame/internal/totp"
)

// The TOTP initialisation wizard (SPEC 2.2, guide steps 5–7). GET
// /totp/init shows the step the server-side record is at; each POST acts on
// that record only, so posting to a later step's URL fails.

// enrolPage is every step of the wizard.
type enrolPage struct {
	Base
	Step       int // 1 to 4
	Form       credentialsForm
	AskType    bool
	Error      string
	Notice     string
	FieldError map[string]string

	// Step 2
	HasQuestion bool
	Question    string // the account's question, translated or its own
	Questions   []questionOption
	ChosenKey   string
	OwnQuestion string
	// Step 3
	QR        []byte
	Grouped   string
	URI       string
	TriesLeft int
	// Step 4: the recovery codes made at linking, shown once
	Codes recoveryCodes

	typesOffered []account.Type
}

type questionOption struct{ Key, Label string }

// Types lists the account types step 1 offers.
func (p enrolPage) Types() []account.Type { return p.typesOffered }

// HelpKind is what step 2's "ask my administrator" form asks for: a reset
// of the security question (the answer is forgotten).
func (p enrolPage) HelpKind() string { return store.HelpQuestion }

// HelpOpen unfolds it once an answer was wrong.
func (p enrolPage) HelpOpen() bool { return p.Error != "" && p.Step == 2 }

// StepNumbers lists the wizard's steps for the progress bar.
func (p enrolPage) StepNumbers() []int { return []int{1, 2, 3, 4} }

// enrolPage is the wizard's page; when it was reached from an application's
// login, it offers that application's account types and its last step
// leads back to that login.
func (s *Server) enrolPage(w http.ResponseWriter, r *http.Request) enrolPage {
	p := enrolPage{Base: s.base(w, r, "enrol.title"), Step: 1, AskType: true, FieldError: map[string]string{}, typesOffered: account.Types}
	if a, err := s.pending(w, r, ""); err == nil && a != nil {
		p.Pending, p.typesOffered = a, a.Types
	}
	return p
}

// DoneApp and DoneURL are where the wizard's last step leads: the pending
// login of the application the person came from, else the configured one.
func (p enrolPage) DoneApp() string {
	if p.Pending != nil {
		return p.Pending.ClientName
	}
	return p.AppName
}

func (p enrolPage) DoneURL() string {
	switch {
	case p.Pending != nil:
		return loginURL(p.Pending)
	case p.AppURL != "":
		return p.AppURL
	}
	return "/login"
}

func (s *Server) handleEnrolForm(w http.ResponseWriter, r *http.Request) error {
	p := s.enrolPage(w, r)
	q := r.URL.Query()
	switch q.Get("notice") {
	case "not_enrolled":
		p.Notice = p.T("enrol.not_enrolled")
	case "recovered":
		p.Notice = p.T("enrol.recovered")
	case "cancelled":
		p.Notice = p.T("enrol.cancelled_by_you")
	}
	// Step 1 filled in from where the person came from (a TOTP reset, a
	// cancelled wizard): only what is well-formed is kept.
	if id := q.Get("identifier"); len(id) <= account.MaxIdentifier && utf8.ValidString(id) && !strings.ContainsFunc(id, unicode.IsControl) {
		p.Form.Identifier = id
	}
	if t, ok := account.ParseType(q.Get("account_type")); ok && contains(p.typesOffered, t) {
		p.Form.Type = t
	}
	return s.showEnrolment(w, r, p, http.StatusOK)
}

// showEnrolment renders the step the wizard's record is at (step 1 without one).
func (s *Server) showEnrolment(w http.ResponseWriter, r *http.Request, p enrolPage, status int) error {
	token := cookie(r, flowCookie)
	if token == "" {
		s.render(w, r, status, "enrol", p)
		return nil
	}
	e, err := s.opts.Auth.Enrolment(r.Context(), token)
	if errors.Is(err, auth.ErrFlowExpired) {
		setCookie(w, flowCookie, "", 0)
		if r.Method == http.MethodPost && p.Error == "" {
			p.Error = p.T("error.flow_expired")
			status = http.StatusConflict
		}
		s.render(w, r, status, "enrol", p)
		return nil
	}
	if err != nil {
		return err
	}
	// The account the wizard is for, shown at steps 2 and 3: the person
	// came from step 1, a login or a recovery code, and need not retype it.
	p.Form = credentialsForm{Identifier: e.Account.Identifier, Type: e.Account.Type}
	switch e.State {
	case enrol.Question:
		p.Step = 2
		p.HasQuestion = e.Account.HasQuestion()
		if p.HasQuestion {
			p.Question = s.questionText(p.Base, e.Account)
		} else {
			for _, k := range account.Questions {
				p.Questions = append(p.Questions, questionOption{k, p.T("question." + k)})
			}
			p.Questions = append(p.Questions, questionOption{account.QuestionOwn, p.T("question.own")})
		}
	case enrol.Done:
		return s.showDone(w, r, p)
	case enrol.Code:
		p.Step = 3
		p.TriesLeft = e.TriesLeft
		p.URI = e.URI
		p.Grouped = totp.Grouped(e.Secret)
		if p.QR, err = totp.QRPNG(e.URI); err != nil {
			return err
		}
	}
	s.render(w, r, status, "enrol", p)
	return nil
}

func (s *Server) questionText(b Base, a account.Account) string {
	if a.QuestionKey == account.QuestionOwn {
		return a.QuestionText
	}
	return b.T("question." + a.QuestionKey)
}

// handleEnrolStart is step 1: identifier, password, account type → Login.
func (s *Server) handleEnrolStart(w http.ResponseWriter, r *http.Request) error {
	c, form, errs, err := s.readCredentials(w, r, false, account.Types)
	if err != nil {
		return err
	}
	p := s.enrolPage(w, r)
	p.Form = form
	if len(errs) > 0 {
		p.FieldError = errs
		s.render(w, r, http.StatusUnprocessableEntity, "enrol", p)
		return nil
	}
	token, err := s.opts.Auth.StartEnrolment(r.Context(), c)
	switch {
	case err == nil:
		setCookie(w, flowCookie, token, 0)
		s.redirect(w, r, "/totp/init")
		return nil
	case errors.Is(err, auth.ErrAlreadyEnrolled):
		s.metrics.outcome("enrol", "already_enrolled")
		p.Error = p.T("enrol.already_linked")
		s.render(w, r, http.StatusConflict, "enrol", p)
		return nil
	}
	return s.credentialsFailed(w, r, "enrol", err, func(status int, msg string) {
		p.Error = msg
		s.render(w, r, status, "enrol", p)
	})
}

// handleEnrolQuestion is step 2: answer the question, or choose one.
func (s *Server) handleEnrolQuestion(w http.ResponseWriter, r *http.Request) error {
	f, err := s.parseForm(w, r, "answer", "question", "question_text")
	if err != nil {
		return err
	}
	token := cookie(r, flowCookie)
	p := s.enrolPage(w, r)
	e, err := s.opts.Auth.Enrolment(r.Context(), token)
	if err != nil {
		return s.enrolFailed(w, r, p, err)
	}
	if e.State != enrol.Question {
		return s.enrolFailed(w, r, p, enrol.ErrWrongState)
	}
	addr := s.clientAddr(r)
	if e.Account.HasQuestion() {
		err = s.opts.Auth.AnswerQuestion(r.Context(), token, f.Get("answer"), addr)
	} else {
		p.ChosenKey, p.OwnQuestion = f.Get("question"), f.Get("question_text")
		err = s.opts.Auth.ChooseQuestion(r.Context(), token, f.Get("question"), f.Get("question_text"), f.Get("answer"), addr)
	}
	if err != nil {
		return s.enrolFailed(w, r, p, err)
	}
	s.redirect(w, r, "/totp/init")
	return nil
}

// handleEnrolCode is step 3: the code shown by the newly linked app.
func (s *Server) handleEnrolCode(w http.ResponseWriter, r *http.Request) error {
	f, err := s.parseForm(w, r, "totp")
	if err != nil {
		return err
	}
	p := s.enrolPage(w, r)
	code := f.Get("totp")
	token := cookie(r, flowCookie)
	if code == "" {
		// "Required" only makes sense next to step 3's code field; at any
		// other step it would be a 422 with no visible message.
		e, err := s.opts.Auth.Enrolment(r.Context(), token)
		if err == nil && e.State != enrol.Code {
			err = enrol.ErrWrongState
		}
		if err != nil {
			return s.enrolFailed(w, r, p, err)
		}
		p.FieldError["totp"] = "error.required"
		return s.showEnrolment(w, r, p, http.StatusUnprocessableEntity)
	}
	a, err := s.opts.Auth.ConfirmCode(r.Context(), token, code, s.clientAddr(r))
	if errors.Is(err, auth.ErrEnrolmentCancelled) {
		// Back to step 1, with the identifier and type still filled in.
		p.Form = credentialsForm{Identifier: a.Identifier, Type: a.Type}
	}
	if err != nil {
		return s.enrolFailed(w, r, p, err)
	}
	s.metrics.outcome("enrol", "success")
	s.opts.Log.Info("authenticator linked", "account", a.ID)
	// The wizard's cookie stays: the success page shows, once, the recovery
	// codes its record holds.
	s.redirect(w, r, "/totp/init/done")
	return nil
}

// enrolFailed shows why a wizard step failed, on the page of the step the
// record is now at.
func (s *Server) enrolFailed(w http.ResponseWriter, r *http.Request, p enrolPage, err error) error {
	var wrong *auth.WrongCodeError
	var invalid *auth.InvalidError
	status := http.StatusUnprocessableEntity
	switch {
	case errors.As(err, &wrong):
		s.metrics.outcome("enrol", "wrong_code")
		p.FieldError["totp"] = "error.code_wrong"
		p.Error = s.cat.N(p.Lang, "enrol.tries_left", wrong.TriesLeft)
	case errors.Is(err, auth.ErrEnrolmentCancelled):
		s.metrics.outcome("enrol", "cancelled")
		setCookie(w, flowCookie, "", 0)
		r.Header.Del("Cookie") // show step 1, not the deleted record
		p.Error = p.T("enrol.cancelled")
		s.render(w, r, http.StatusConflict, "enrol", p)
		return nil
	case errors.Is(err, auth.ErrWrongAnswer), errors.Is(err, auth.ErrCredentials):
		// ErrCredentials: the account is locked; said like a wrong answer.
		s.metrics.outcome("enrol", "wrong_answer")
		p.Error = p.T("error.answer_wrong")
		status = http.StatusUnauthorized
	case errors.Is(err, auth.ErrAddressThrottled):
		s.metrics.outcome("enrol", "throttled")
		p.Error = s.throttled(w, p.Base)
		status = http.StatusTooManyRequests
	case errors.As(err, &invalid):
		p.FieldError[fieldOf(invalid.Key)] = invalid.Key
	case errors.Is(err, auth.ErrFlowExpired):
		setCookie(w, flowCookie, "", 0)
		r.Header.Del("Cookie")
		p.Error = p.T("error.flow_expired")
		s.render(w, r, http.StatusConflict, "enrol", p)
		return nil
	case errors.Is(err, enrol.ErrWrongState):
		p.Error = p.T("error.wrong_step")
		status = http.StatusConflict
	case errors.Is(err, auth.ErrAlreadyEnrolled):
		setCookie(w, flowCookie, "", 0)
		r.Header.Del("Cookie")
		p.Error = p.T("enrol.already_linked")
		s.render(w, r, http.StatusConflict, "enrol", p)
		return nil
	default:
		return err
	}
	return s.showEnrolment(w, r, p, status)
}

// fieldOf maps a validation message key to the field it is shown next to.
func fieldOf(key string) string {
	switch key {
	case "error.question_required":
		return "question"
	case "error.own_question_required":
		return "question_text"
	}
	return "answer"
}

func (s *Server) handleEnrolCancel(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.parseForm(w, r); err != nil {
		return err
	}
	token := cookie(r, flowCookie)
	e, err := s.opts.Auth.Enrolment(r.Context(), token)
	if err != nil && !errors.Is(err, auth.ErrFlowExpired) {
		return err
	}
	if err := s.opts.Auth.CancelEnrolment(r.Context(), token, s.clientAddr(r)); err != nil {
		return err
	}
	setCookie(w, flowCookie, "", 0)
	// Step 1 says the initialisation was cancelled, ready to start again.
	s.redirect(w, r, initURL(e.Account, "cancelled"))
	return nil
}

// initURL is the wizard's step 1 filled in for a (when known), with a
// notice ("" for none).
func initURL(a account.Account, notice string) string {
	v := url.Values{}
	if notice != "" {
		v.Set("notice", notice)
	}
	if a.ID != 0 {
		v.Set("identifier", a.Identifier)
		v.Set("account_type", string(a.Type))
	}
	if len(v) == 0 {
		return "/totp/init"
	}
	return "/totp/init?" + v.Encode()
}

func (s *Server) handleEnrolDone(w http.ResponseWriter, r *http.Request) error {
	return s.showDone(w, r, s.enrolPage(w, r))
}

// showDone is step 4: the authenticator is linked; the recovery codes made
// with it are shown, the first time only (the record is then deleted).
func (s *Server) showDone(w http.ResponseWriter, r *http.Request, p enrolPage) error {
	p.Step = 4
	codes, _, err := s.opts.Auth.RevealRecoveryCodes(r.Context(), cookie(r, flowCookie))
	switch {
	case err == nil:
		p.Codes = s.recoveryCodes(p.Base, codes)
	case errors.Is(err, auth.ErrFlowExpired):
		p.Codes.Shown = true
	default:
		return err
	}
	setCookie(w, flowCookie, "", 0)
	s.render(w, r, http.StatusOK, "enrol", p)
	return nil
}
