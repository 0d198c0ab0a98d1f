package auth

import (
	"context"
	"errors"
	"strings"
	"unicode/utf8"

	"sesame/internal/account"
	"sesame/internal/enrol"
	"sesame/internal/mail"
	"sesame/internal/passhash"
	"sesame/internal/recovery"
	"sesame/internal/store"
	"sesame/internal/totp"
)

// The initialisation wizard (SPEC 2.2; see package enrol for the states).
// Step 1 verifies the password and creates the server-side record; the
// browser keeps only a random token naming it.

// StartEnrolment is step 1: identifier, password and account type. It
// returns the wizard's token. Errors: ErrCredentials, ErrAddressThrottled,
// ErrAlreadyEnrolled (once the password was right).
func (s *Service) StartEnrolment(ctx context.Context, c Credentials) (string, error) {
	a, at, err := s.verifyPassword(ctx, c, ActionEnrolmentStart)
	if err != nil {
		return "", err
	}
	// The password was right: the attempt is given back, and the question
	// (step 2) reserves its own.
	at.release()
	ctx = at.ctx
	if _, err := s.Store.GetAuthenticator(ctx, a.ID); err == nil {
		s.audit(ctx, store.AuditEvent{ActorID: a.ID, Actor: a.Identifier, SubjectID: a.ID, Subject: a.Identifier, OfficeID: a.OfficeID,
			Action: ActionEnrolmentStart, Outcome: OutcomeDenied, Addr: c.Addr, Detail: "an authenticator is already linked"})
		return "", ErrAlreadyEnrolled
	} else if !errors.Is(err, store.ErrNotFound) {
		return "", err
	}
	return s.BeginEnrolment(ctx, a, c.Addr)
}

// BeginEnrolment opens the wizard at step 2 for an account whose password
// was just verified (by StartEnrolment, or by a login that found no
// authenticator), and returns its token. A wizard the account had open is
// replaced: at most one is open per account.
func (s *Service) BeginEnrolment(ctx context.Context, a account.Account, addr string) (string, error) {
	var token string
	err := s.Store.InTx(ctx, func(tx store.Store) error {
		var err error
		token, err = s.beginEnrolment(ctx, tx, a, addr)
		return err
	})
	if err != nil {
		return "", err
	}
	return token, nil
}

// beginEnrolment is BeginEnrolment inside tx.
func (s *Service) beginEnrolment(ctx context.Context, tx store.Store, a account.Account, addr string) (string, error) {
	token, hash := newToken()
	now := s.now()
	if err := tx.CreateEnrolment(ctx, enrol.New(hash, a.ID, now)); err != nil {
		return "", err
	}
	return token, tx.AppendAudit(ctx, store.AuditEvent{Time: now, ActorID: a.ID, Actor: a.Identifier, SubjectID: a.ID, Subject: a.Identifier,
		OfficeID: a.OfficeID, Action: ActionEnrolmentStart, Outcome: OutcomeSuccess, Addr: addr})
}

// Enrolment is what a wizard page shows.
type Enrolment struct {
	State     enrol.State
	Account   account.Account
	TriesLeft int
	// In the Code state: the pending secret and the otpauth URI carrying it.
	Secret []byte
	URI    string
}

// Enrolment returns the wizard named by token, or ErrFlowExpired.
func (s *Service) Enrolment(ctx context.Context, token string) (Enrolment, error) {
	e, a, err := s.enrolment(ctx, token)
	if err != nil {
		return Enrolment{}, err
	}
	v := Enrolment{State: e.State, Account: a, TriesLeft: e.TriesLeft}
	if e.State == enrol.Code {
		if v.Secret, err = s.Keys.Open(e.Secret, accountAD(a.ID)); err != nil {
			return Enrolment{}, err
		}
		v.URI = totp.URI(s.Issuer, a.Identifier, v.Secret, s.TOTP)
	}
	return v, nil
}

func (s *Service) enrolment(ctx context.Context, token string) (enrol.Enrolment, account.Account, error) {
	if token == "" || len(token) > 64 {
		return enrol.Enrolment{}, account.Account{}, ErrFlowExpired
	}
	e, err := s.Store.GetEnrolment(ctx, HashToken(token))
	if errors.Is(err, store.ErrNotFound) {
		return enrol.Enrolment{}, account.Account{}, ErrFlowExpired
	} else if err != nil {
		return enrol.Enrolment{}, account.Account{}, err
	}
	if e.Expired(s.now()) {
		s.Store.DeleteEnrolment(ctx, e.IDHash)
		return enrol.Enrolment{}, account.Account{}, ErrFlowExpired
	}
	a, err := s.Store.GetAccount(ctx, e.AccountID)
	if err != nil {
		return enrol.Enrolment{}, account.Account{}, err
	}
	if a.Disabled || a.Locked(s.now()) {
		s.Store.DeleteEnrolment(ctx, e.IDHash)
		return enrol.Enrolment{}, account.Account{}, ErrFlowExpired
	}
	return e, a, nil
}

// AnswerQuestion is step 2 for an account that has a question. The answer
// is a factor like the others: it spends a reserved attempt of the account
// and the address (ErrCredentials when the account is locked, as at login,
// ErrAddressThrottled); a wrong one is recorded as a failure
// (ErrWrongAnswer); a right one generates the pending secret.
func (s *Service) AnswerQuestion(ctx context.Context, token, answer, addr string) error {
	e, a, err := s.enrolment(ctx, token)
	if err != nil {
		return err
	}
	if e.State != enrol.Question {
		return enrol.ErrWrongState
	}
	if !a.HasQuestion() {
		return enrol.ErrWrongState
	}
	if err := checkAnswer(answer); err != nil {
		return err
	}
	ctx, done, err := s.admit(ctx)
	if err != nil {
		return err
	}
	defer done()
	at, err := s.reserve(ctx, a, addr, ActionQuestionAnswer)
	if err != nil {
		return err
	}
	ok, _, err := s.Hasher.Verify(ctx, a.AnswerHash, passhash.NormalizeAnswer(answer))
	if ctx.Err() != nil {
		at.release()
		return ctx.Err()
	}
	if errors.Is(err, passhash.ErrBusy) {
		at.release()
		return ErrBusy
	}
	if err != nil || !ok {
		if ferr := at.failed("wrong answer"); !errors.Is(ferr, ErrCredentials) {
			return ferr
		}
		return ErrWrongAnswer
	}
	return s.answered(at.ctx, e, a, addr, at, nil)
}

// ChooseQuestion is step 2 for an account without a question (first
// activation, or after an administrator reset it): the person picks a
// question from the list (key) or writes their own (own), and answers it.
func (s *Service) ChooseQuestion(ctx context.Context, token, key, own, answer, addr string) error {
	e, a, err := s.enrolment(ctx, token)
	if err != nil {
		return err
	}
	if e.State != enrol.Question || a.HasQuestion() {
		return enrol.ErrWrongState
	}
	if !account.ValidQuestionKey(key) {
		return &InvalidError{Key: "error.question_required"}
	}
	own = strings.TrimSpace(own)
	if key == account.QuestionOwn {
		if own == "" {
			return &InvalidError{Key: "error.own_question_required"}
		}
		if !utf8.ValidString(own) || utf8.RuneCountInString(own) > account.MaxQuestion || strings.ContainsFunc(own, isControl) {
			return &InvalidError{Key: "error.too_long"}
		}
	} else {
		own = ""
	}
	if err := checkAnswer(answer); err != nil {
		return err
	}
	norm := passhash.NormalizeAnswer(answer)
	if utf8.RuneCountInString(norm) < 3 {
		return &InvalidError{Key: "error.answer_too_short"}
	}
	hash, err := s.Hasher.Hash(ctx, norm)
	if err != nil {
		return busy(err)
	}
	// The question waits on the wizard's record: it is saved on the account
	// with the authenticator (ConfirmCode), so an initialisation that is
	// cancelled or expires leaves the account as it was.
	return s.answered(ctx, e, a, addr, nil, func(e *enrol.Enrolment) {
		e.QuestionKey, e.QuestionText, e.AnswerHash = key, own, hash
	})
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) }

func checkAnswer(answer string) error {
	if strings.TrimSpace(answer) == "" {
		return &InvalidError{Key: "error.answer_required"}
	}
	if !utf8.ValidString(answer) || utf8.RuneCountInString(answer) > account.MaxAnswer || strings.ContainsFunc(answer, isControl) {
		return &InvalidError{Key: "error.too_long"}
	}
	return nil
}

// answered generates and seals the pending secret and moves to step 3,
// with chose (keeping the chosen question on the record) in the same
// update, and settles the answer's attempt at as a success when there is
// one. ErrFlowExpired when the wizard ended meanwhile (replaced, cancelled,
// or deleted by a lock).
func (s *Service) answered(ctx context.Context, e enrol.Enrolment, a account.Account, addr string, at *attempt, chose func(*enrol.Enrolment)) error {
	secret, err := totp.GenerateSecret()
	if err != nil {
		return err
	}
	sealed, err := s.Keys.Seal(secret, accountAD(a.ID))
	if err != nil {
		return err
	}
	err = s.Store.InTx(ctx, func(tx store.Store) error {
		if chose == nil {
			if err := tx.AppendAudit(ctx, store.AuditEvent{Time: s.now(), ActorID: a.ID, Actor: a.Identifier, SubjectID: a.ID,
				Subject: a.Identifier, OfficeID: a.OfficeID, Action: ActionQuestionAnswer, Outcome: OutcomeSuccess, Addr: addr}); err != nil {
				return err
			}
		}
		if at != nil {
			if _, err := at.succeeded(tx, false); err != nil {
				return err
			}
		}
		_, err := tx.UpdateEnrolment(ctx, e.IDHash, func(e *enrol.Enrolment) error {
			if chose != nil {
				chose(e)
			}
			return e.Answered(sealed)
		})
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		if at != nil {
			at.release() // the answer was right, but there is no wizard to go on with
		}
		return ErrFlowExpired
	}
	return err
}

// ConfirmCode is step 3: the code from the newly linked app. Each code
// first reserves one of the wizard's tries (so simultaneous codes get no
// more than three evaluations between them); a right code links the
// authenticator (consuming the code's step) and ends the wizard; a wrong one
// returns *WrongCodeError, and the one that spent the last try deletes the
// record and the secret (ErrEnrolmentCancelled, with the account, so step 1
// can be filled in again): the person starts again.
func (s *Service) ConfirmCode(ctx context.Context, token, code, addr string) (account.Account, error) {
	e, a, err := s.enrolment(ctx, token)
	if err != nil {
		return account.Account{}, err
	}
	if e.State != enrol.Code {
		return account.Account{}, enrol.ErrWrongState
	}
	secret, err := s.Keys.Open(e.Secret, accountAD(a.ID))
	if err != nil {
		return account.Account{}, err
	}
	ctx = context.WithoutCancel(ctx) // a reserved try is settled, whatever the client does
	e, err = s.Store.UpdateEnrolment(ctx, e.IDHash, func(e *enrol.Enrolment) error { return e.ReserveTry() })
	if errors.Is(err, store.ErrNotFound) || errors.Is(err, enrol.ErrNoTries) {
		return account.Account{}, ErrFlowExpired
	} else if err != nil {
		return account.Account{}, err
	}
	now := s.now()
	step, ok := s.TOTP.Verify(secret, code, s.arrival(ctx))
	if !ok {
		if e.TriesLeft == 0 {
			if err := s.cancel(ctx, e, a, addr, "three wrong codes"); err != nil {
				return account.Account{}, err
			}
			return a, ErrEnrolmentCancelled // the account, to start again
		}
		return account.Account{}, &WrongCodeError{TriesLeft: e.TriesLeft}
	}
	codes := recovery.Generate()
	sealedCodes, err := s.Keys.Seal([]byte(strings.Join(codes, "\n")), recoveryAD(a.ID))
	if err != nil {
		return account.Account{}, err
	}
	err = s.Store.InTx(ctx, func(tx store.Store) error {
		if _, err := tx.GetEnrolment(ctx, e.IDHash); err != nil {
			return err // ErrNotFound: cancelled or replaced meanwhile
		}
		if err := tx.LinkAuthenticator(ctx, store.Authenticator{AccountID: a.ID, Secret: e.Secret, Linked: now, LastStep: step}); err != nil {
			return err
		}
		// The question chosen at step 2 is saved with the authenticator.
		if e.ChoseQuestion() {
			if _, err := tx.UpdateAccount(ctx, a.ID, func(acc *account.Account) error {
				acc.QuestionKey, acc.QuestionText, acc.AnswerHash = e.QuestionKey, e.QuestionText, e.AnswerHash
				return nil
			}); err != nil {
				return err
			}
			if err := tx.AppendAudit(ctx, store.AuditEvent{Time: now, ActorID: a.ID, Actor: a.Identifier, SubjectID: a.ID, Subject: a.Identifier,
				OfficeID: a.OfficeID, Action: ActionQuestionSet, Outcome: OutcomeSuccess, Addr: addr}); err != nil {
				return err
			}
		}
		// The new authenticator comes with a new set of recovery codes; the
		// record keeps them, sealed, until the success page shows them once.
		if err := tx.ReplaceRecoveryCodes(ctx, a.ID, recoveryHashes(a.ID, codes), now); err != nil {
			return err
		}
		if _, err := tx.UpdateEnrolment(ctx, e.IDHash, func(e *enrol.Enrolment) error { return e.Linked(sealedCodes) }); err != nil {
			return err
		}
		if err := tx.AppendAudit(ctx, store.AuditEvent{Time: now, ActorID: a.ID, Actor: a.Identifier, SubjectID: a.ID, Subject: a.Identifier,
			OfficeID: a.OfficeID, Action: ActionTOTPLinked, Outcome: OutcomeSuccess, Addr: addr}); err != nil {
			return err
		}
		return s.notify(ctx, tx, a, mail.AuthenticatorLinked{Name: a.Name, App: s.Issuer, When: now})
	})
	switch {
	case errors.Is(err, store.ErrAlreadyExists):
		// Linked meanwhile, by an earlier wizard of the same account.
		s.Store.DeleteEnrolment(ctx, e.IDHash)
		return account.Account{}, ErrAlreadyEnrolled
	case errors.Is(err, store.ErrNotFound):
		return account.Account{}, ErrFlowExpired
	case err != nil:
		return account.Account{}, err
	}
	s.mailSent()
	return a, nil
}

// RevealRecoveryCodes returns, once, the recovery codes made when the
// wizard named by token linked its authenticator (normalised; see
// recovery.Grouped), and the account; the record is deleted. ErrFlowExpired
// when there is no such record, or it has not linked anything (or was
// already shown).
func (s *Service) RevealRecoveryCodes(ctx context.Context, token string) ([]string, account.Account, error) {
	e, a, err := s.enrolment(ctx, token)
	if err != nil {
		return nil, account.Account{}, err
	}
	if e.State != enrol.Done {
		return nil, account.Account{}, ErrFlowExpired
	}
	// Deleted first: of two simultaneous requests, only one shows the codes
	// (DeleteEnrolment does not say whether it deleted, so look again).
	plain, err := s.Keys.Open(e.Codes, recoveryAD(a.ID))
	if err != nil {
		return nil, account.Account{}, err
	}
	gone := false
	err = s.Store.InTx(ctx, func(tx store.Store) error {
		if _, err := tx.UpdateEnrolment(ctx, e.IDHash, func(*enrol.Enrolment) error { return nil }); errors.Is(err, store.ErrNotFound) {
			gone = true
			return nil
		} else if err != nil {
			return err
		}
		return tx.DeleteEnrolment(ctx, e.IDHash)
	})
	if err != nil {
		return nil, account.Account{}, err
	}
	if gone {
		return nil, account.Account{}, ErrFlowExpired
	}
	return strings.Split(string(plain), "\n"), a, nil
}

// CancelEnrolment ends the wizard at any step; the pending secret is gone.
func (s *Service) CancelEnrolment(ctx context.Context, token, addr string) error {
	e, a, err := s.enrolment(ctx, token)
	if errors.Is(err, ErrFlowExpired) {
		return nil
	}
	if err != nil {
		return err
	}
	return s.cancel(ctx, e, a, addr, "cancelled by the person")
}

func (s *Service) cancel(ctx context.Context, e enrol.Enrolment, a account.Account, addr, why string) error {
	return s.Store.InTx(ctx, func(tx store.Store) error {
		if err := tx.DeleteEnrolment(ctx, e.IDHash); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, store.AuditEvent{Time: s.now(), ActorID: a.ID, Actor: a.Identifier, SubjectID: a.ID, Subject: a.Identifier,
			OfficeID: a.OfficeID, Action: ActionEnrolmentCancel, Outcome: OutcomeSuccess, Addr: addr, Detail: why})
	})
}
