// Package store defines how Sesame keeps its state: one interface, Store,
// built from small role interfaces in the domain's own words (accounts,
// offices, authenticators, sessions, enrolments, throttles, audit, mail
// outbox). Every piece of state lives behind it — nothing is kept in a
// process's memory — so several Sesame instances can share one database.
//
// Backends: package sqldb implements Store on SQLite (the embedded default)
// and PostgreSQL; package storetest is the conformance suite every backend
// runs.
//
// Conventions: GetX returns ErrNotFound; CreateX returns ErrAlreadyExists on
// a uniqueness clash; UpdateX(id, fn) reads the record, lets fn change it and
// writes it back atomically (fn's error aborts the update and is returned as
// is). Times are stored with millisecond precision, in UTC.
package store

import (
	"context"
	"errors"
	"time"

	"sesame/internal/account"
	"sesame/internal/enrol"
	"sesame/internal/mail"
)

// Errors every backend returns for the same outcomes.
var (
	ErrNotFound      = errors.New("store: not found")
	ErrAlreadyExists = errors.New("store: already exists")
	// ErrReplayed is returned by UseTOTPStep when the step is not later
	// than the last one accepted for the account.
	ErrReplayed = errors.New("store: TOTP step already used")
	// ErrUnavailable wraps any error that means the database cannot be
	// reached right now (connection refused or lost, server shutting down):
	// the request may succeed if tried again in a few seconds.
	ErrUnavailable = errors.New("store: database unavailable")
)

// Store is all of Sesame's persistent state.
type Store interface {
	Accounts
	AccountSearcher
	Offices
	Authenticators
	RecoveryCodes
	Sessions
	Enrolments
	Throttles
	AuditLog
	Outbox
	PasswordResets
	HelpRequests
	OIDC

	// InTx runs fn in one transaction: every change fn makes through tx is
	// written, or none is. fn's error rolls back and is returned. Calling
	// InTx on tx runs fn in the same transaction.
	InTx(ctx context.Context, fn func(tx Store) error) error
	// Ping reports whether the database answers (readiness).
	Ping(ctx context.Context) error
	Close() error
}

// Accounts are people's logins.
type Accounts interface {
	// CreateAccount inserts a, setting a.ID and a.Created (if zero).
	// ErrAlreadyExists when (a.Type, a.Identifier) exists; ErrNotFound when
	// a.OfficeID names no office.
	CreateAccount(ctx context.Context, a *account.Account) error
	// GetAccount returns the account with that id, or ErrNotFound.
	GetAccount(ctx context.Context, id int64) (account.Account, error)
	// FindAccount returns the account (t, identifier) — identifier already
	// normalised — or ErrNotFound.
	FindAccount(ctx context.Context, t account.Type, identifier string) (account.Account, error)
	// UpdateAccount changes the account atomically; ErrNotFound if absent.
	// fn may not change ID, Type or Created.
	UpdateAccount(ctx context.Context, id int64, fn func(*account.Account) error) (account.Account, error)
	// ListAccounts returns one page of the accounts matching f, ordered by
	// identifier then id, and the total number matching.
	ListAccounts(ctx context.Context, f AccountFilter) ([]account.Account, int, error)
}

// AccountFilter selects accounts for the administration console.
type AccountFilter struct {
	Query    string // substring of the identifier or the name, case-insensitive; empty: all
	OfficeID int64  // 0: any office
	Type     account.Type
	Offset   int
	Limit    int // at most 200; 0 means 50
}

// Offices are broker firms.
type Offices interface {
	// CreateOffice inserts o, setting o.ID; ErrAlreadyExists on a name clash.
	CreateOffice(ctx context.Context, o *account.Office) error
	// GetOffice returns the office, or ErrNotFound.
	GetOffice(ctx context.Context, id int64) (account.Office, error)
	// FindOffice returns the office with that exact name, or ErrNotFound.
	FindOffice(ctx context.Context, name string) (account.Office, error)
	// ListOffices returns every office by name.
	ListOffices(ctx context.Context) ([]account.Office, error)
}

// Authenticator is an account's linked TOTP app.
type Authenticator struct {
	AccountID int64
	Secret    []byte // sealed (AES-GCM) — never the plain secret
	Linked    time.Time
	LastStep  int64 // the last TOTP time step accepted; a code is accepted once
}

// Authenticators are the linked TOTP secrets, one per account at most.
type Authenticators interface {
	// LinkAuthenticator stores a's secret for a.AccountID.
	// ErrAlreadyExists when the account already has one; ErrNotFound when
	// the account does not exist.
	LinkAuthenticator(ctx context.Context, a Authenticator) error
	// GetAuthenticator returns the account's authenticator, or ErrNotFound.
	GetAuthenticator(ctx context.Context, accountID int64) (Authenticator, error)
	// UnlinkAuthenticator removes it; ErrNotFound if there was none.
	UnlinkAuthenticator(ctx context.Context, accountID int64) error
	// UseTOTPStep records step as used, atomically, only if it is later than
	// the last step used: ErrReplayed otherwise (so a code is accepted at most
	// once, across every instance). ErrNotFound if there is no authenticator.
	UseTOTPStep(ctx context.Context, accountID int64, step int64) error
}

// RecoveryCodes are the hashes of an account's single-use recovery codes
// (package recovery); the codes themselves are never stored.
type RecoveryCodes interface {
	// ReplaceRecoveryCodes deletes every code of the account and stores
	// hashes as its new set, atomically. ErrNotFound when the account does
	// not exist.
	ReplaceRecoveryCodes(ctx context.Context, accountID int64, hashes [][]byte, now time.Time) error
	// UnusedRecoveryCodes returns the hashes of the account's unused codes
	// (none: an empty list, no error).
	UnusedRecoveryCodes(ctx context.Context, accountID int64) ([][]byte, error)
	// UseRecoveryCode marks the unused code hash of the account as used at
	// now, in one conditional statement: of simultaneous uses of one code,
	// on any number of instances, exactly one succeeds; the others (and a
	// code that is unknown, used or deleted) get ErrNotFound.
	UseRecoveryCode(ctx context.Context, accountID int64, hash []byte, now time.Time) error
	// DeleteRecoveryCodes removes every code of the account (its
	// authenticator was unlinked: the next one comes with a new set) and
	// returns how many there were.
	DeleteRecoveryCodes(ctx context.Context, accountID int64) (int, error)
}

// Session is a logged-in browser. Its id is only known to the browser: the
// store keeps a hash of it.
type Session struct {
	IDHash    []byte
	AccountID int64
	AMR       []string // authentication methods used: "pwd", "otp"
	Created   time.Time
	LastSeen  time.Time
	LastOTP   time.Time // when a TOTP code was last verified in this session
	Addr      string
	UserAgent string
	// OfficeName is the account's office's name ("" without one), Linked
	// whether it has an authenticator, and CodesLeft how many unused
	// recovery codes it has: read with the session by GetSessionAccount for
	// the pages that show them (in the same statement: a page needs no
	// query of its own); other methods leave them zero.
	OfficeName string
	Linked     bool
	CodesLeft  int
}

// Sessions are server-side login sessions.
type Sessions interface {
	// CreateSession inserts s; ErrAlreadyExists on an id clash.
	CreateSession(ctx context.Context, s Session) error
	// GetSession returns the session, or ErrNotFound.
	GetSession(ctx context.Context, idHash []byte) (Session, error)
	// GetSessionAccount returns the session and its account, read together
	// in one query (every logged-in request needs both), or ErrNotFound
	// when there is no such session.
	GetSessionAccount(ctx context.Context, idHash []byte) (Session, account.Account, error)
	// TouchSession sets LastSeen (and LastOTP when otp is not zero).
	TouchSession(ctx context.Context, idHash []byte, seen, otp time.Time) error
	// DeleteSession removes the session; no error if it was already gone.
	DeleteSession(ctx context.Context, idHash []byte) error
	// DeleteAccountSessions ends every session of the account except the one
	// whose hash is keep (nil: all), returning how many were ended.
	DeleteAccountSessions(ctx context.Context, accountID int64, keep []byte) (int, error)
	// DeleteSessionsBefore removes sessions last seen before idle or created
	// before absolute; it returns how many.
	DeleteSessionsBefore(ctx context.Context, idle, absolute time.Time) (int, error)
}

// Enrolments are the TOTP initialisation wizard's server-side records.
type Enrolments interface {
	// CreateEnrolment inserts e, replacing atomically any other enrolment
	// of the same account: an account has at most one open wizard, so
	// opening many at once gives an attacker no extra tries.
	// ErrAlreadyExists on an id clash.
	CreateEnrolment(ctx context.Context, e enrol.Enrolment) error
	// GetEnrolment returns the enrolment, or ErrNotFound.
	GetEnrolment(ctx context.Context, idHash []byte) (enrol.Enrolment, error)
	// UpdateEnrolment changes it atomically; ErrNotFound if absent.
	UpdateEnrolment(ctx context.Context, idHash []byte, fn func(*enrol.Enrolment) error) (enrol.Enrolment, error)
	// DeleteEnrolment removes it; no error if it was already gone.
	DeleteEnrolment(ctx context.Context, idHash []byte) error
	// DeleteEnrolmentsBefore removes enrolments that expired before t.
	DeleteEnrolmentsBefore(ctx context.Context, t time.Time) (int, error)
}

// Throttles count attempts per network address (or any other key) in a
// fixed window, shared by every instance. (Per-account counts live on the
// account, reserved through UpdateAccount's row lock.)
type Throttles interface {
	// AddAddressFailure adds one failure for key at now and returns the count
	// in the current window (which restarts when older than window).
	AddAddressFailure(ctx context.Context, key string, now time.Time, window time.Duration) (int, error)
	// ReserveAddressAttempt counts one attempt for key in its window at now,
	// in one atomic statement, only if fewer than limit are counted there:
	// it reports false (and counts nothing) when the budget is spent. Of N
	// concurrent calls on any number of instances, at most limit succeed
	// per window.
	ReserveAddressAttempt(ctx context.Context, key string, now time.Time, window time.Duration, limit int) (bool, error)
	// ReleaseAddressAttempt gives back one attempt counted in key's current
	// window (a success, or an attempt that was never evaluated); the count
	// never goes below zero.
	ReleaseAddressAttempt(ctx context.Context, key string, now time.Time, window time.Duration) error
	// DeleteAddressFailuresBefore removes counters whose window started
	// before t (over by then for every window in use), returning how many.
	DeleteAddressFailuresBefore(ctx context.Context, t time.Time) (int, error)
}

// AuditEvent is one line of the append-only security log.
type AuditEvent struct {
	ID        int64
	Time      time.Time
	ActorID   int64  // 0: no account (anonymous, or the command line)
	Actor     string // the actor's identifier, or the operator name given on the command line
	SubjectID int64  // the account acted on; 0 when unknown
	Subject   string // the subject's identifier as typed (normalised), even when no account matched
	OfficeID  int64  // the subject's office, for office administrators' view
	Action    string // see package audit
	Outcome   string // "success", "failure", "denied"
	Addr      string // client address
	Detail    string // short, never a secret
}

// AuditFilter selects audit events, newest first.
type AuditFilter struct {
	SubjectID int64 // 0: any
	OfficeID  int64 // 0: any
	From, To  time.Time
	BeforeID  int64 // paging: only events with a smaller id; 0: from the newest
	Limit     int   // at most 1000; 0 means 100
}

// AuditLog is append-only: there is no update or delete.
type AuditLog interface {
	AppendAudit(ctx context.Context, e AuditEvent) error
	ListAudit(ctx context.Context, f AuditFilter) ([]AuditEvent, error)
}

// Outbox is the mail queue: messages are written in the same transaction as
// the action that caused them, and delivered later by mail.Worker.
type Outbox interface {
	// EnqueueMail adds m, due at now, and returns its id.
	EnqueueMail(ctx context.Context, m mail.Message, now time.Time) (int64, error)
	mail.Queue
}
