// Package enrol is the TOTP initialisation wizard as a state machine (guide
// steps 5–7; SPEC 2.2). The wizard's progress and the pending secret live in
// an Enrolment record on the server, found through a random id kept in a
// cookie; nothing of it travels in a form field, so a step cannot be skipped
// by posting to a later one.
//
//	           password OK            answer OK (or question chosen)
//	(step 1) ───────────────► Question ─────────────────────────────► Code
//	                              │                                    │ │
//	                       Cancel │              right code (step 4) ◄─┘ │ 3rd wrong code,
//	                              ▼                    linked: Done      │ Cancel or expiry:
//	                           deleted                      │            ▼ deleted (start again)
//	                                                        ▼
//	                               recovery codes shown once: deleted
//
// A record expires Lifetime after it was created, whatever its state. A
// question chosen at step 2 stays on the record (its answer only as a hash)
// until the code links the authenticator, and is saved with it: an
// initialisation that is cancelled or expires leaves the account as it was.
// Once linked, the record keeps the new recovery codes, sealed, until the
// success page has shown them once.
package enrol

import (
	"errors"
	"time"
)

// State is where a wizard stands.
type State string

// The states past step 1 (step 1 — identifier, password, account type —
// creates the record).
const (
	// Question: the password was verified; the account's security question
	// must be answered, or chosen and answered when it has none (step 2).
	Question State = "question"
	// Code: a new secret was generated; the person must type a code from
	// their app (step 3).
	Code State = "code"
	// Done: the authenticator is linked; the record only holds the new
	// recovery codes until the success page shows them, once.
	Done State = "done"
)

// Limits of one enrolment.
const (
	MaxCodeTries = 3 // wrong codes before the enrolment is cancelled (guide step 7)
	Lifetime     = 15 * time.Minute
)

// ErrWrongState is returned when a step is attempted out of order.
var ErrWrongState = errors.New("enrol: step out of order")

// Enrolment is one run of the wizard.
type Enrolment struct {
	IDHash    []byte // hash of the cookie's random id
	AccountID int64
	State     State
	Secret    []byte // the pending secret, sealed; empty before the Code state
	TriesLeft int    // wrong codes still allowed in the Code state
	Created   time.Time
	Expires   time.Time

	// A question chosen at step 2 (account without one), saved on the
	// account only when the authenticator is linked. AnswerHash is the
	// answer's argon2id hash; empty when the account answered its own.
	QuestionKey, QuestionText, AnswerHash string
	// Codes are the recovery codes made at linking, sealed, in the Done
	// state only.
	Codes []byte
}

// ChoseQuestion reports whether step 2 chose a question to save at linking.
func (e *Enrolment) ChoseQuestion() bool { return e.QuestionKey != "" && e.AnswerHash != "" }

// New starts an enrolment for an account whose password was just verified.
func New(idHash []byte, accountID int64, now time.Time) Enrolment {
	return Enrolment{IDHash: idHash, AccountID: accountID, State: Question, Created: now, Expires: now.Add(Lifetime)}
}

// Expired reports whether the record is past its lifetime at now.
func (e *Enrolment) Expired(now time.Time) bool { return !now.Before(e.Expires) }

// Answered moves past the security question, with the sealed pending secret.
func (e *Enrolment) Answered(sealedSecret []byte) error {
	if e.State != Question {
		return ErrWrongState
	}
	e.State, e.Secret, e.TriesLeft = Code, sealedSecret, MaxCodeTries
	return nil
}

// Linked moves to Done once the authenticator is linked: the pending secret
// and the chosen question are dropped (they are on the account now), the
// sealed recovery codes kept until they are shown.
func (e *Enrolment) Linked(sealedCodes []byte) error {
	if e.State != Code {
		return ErrWrongState
	}
	e.State, e.Secret, e.TriesLeft, e.Codes = Done, nil, 0, sealedCodes
	e.QuestionKey, e.QuestionText, e.AnswerHash = "", "", ""
	return nil
}

// ErrNoTries: every try of the Code state is spent (or being evaluated).
var ErrNoTries = errors.New("enrol: no tries left")

// ReserveTry spends one try before a code is evaluated, so simultaneous
// codes cannot get more evaluations than MaxCodeTries between them. When a
// code evaluated on the last try is wrong, the enrolment must be deleted and
// the person starts again.
func (e *Enrolment) ReserveTry() error {
	if e.State != Code {
		return ErrWrongState
	}
	if e.TriesLeft <= 0 {
		return ErrNoTries
	}
	e.TriesLeft--
	return nil
}
