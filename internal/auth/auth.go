// Package auth is what a person does to prove who they are: log in with
// identifier, password and TOTP code; link an authenticator through the
// initialisation wizard (package enrol); reset it with the old device; and
// hold a session afterwards. It enforces the security rules of SPEC 4 —
// generic failures, throttling, single-use codes, sealed secrets — and writes
// the audit log and notification e-mails in the same transaction as the
// change they describe. It knows nothing of HTTP.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"strconv"
	"time"

	"sesame/internal/account"
	"sesame/internal/mail"
	"sesame/internal/passhash"
	"sesame/internal/seal"
	"sesame/internal/store"
	"sesame/internal/totp"
)

// Outcomes a person may be shown. Each is deliberately coarse: none tells
// whether an account exists or which factor was wrong.
var (
	// ErrCredentials: identifier, password or code incorrect — or the
	// account is locked or disabled, which must look the same.
	ErrCredentials = errors.New("auth: identifier, password or code incorrect")
	// ErrAddressThrottled: too many failures from this network address.
	ErrAddressThrottled = errors.New("auth: too many attempts from this address")
	// ErrNotEnrolled: the password was right but no authenticator is linked;
	// the person must go through the initialisation wizard.
	ErrNotEnrolled = errors.New("auth: no authenticator linked")
	// ErrAlreadyEnrolled: the password was right but an authenticator is
	// already linked; the person must reset it first or ask an administrator.
	ErrAlreadyEnrolled = errors.New("auth: an authenticator is already linked")
	// ErrWrongAnswer: the security answer was wrong (or the account is locked).
	ErrWrongAnswer = errors.New("auth: security answer incorrect")
	// ErrEnrolmentCancelled: the third wrong code cancelled the enrolment.
	ErrEnrolmentCancelled = errors.New("auth: enrolment cancelled after too many wrong codes")
	// ErrFlowExpired: the wizard's record is missing, expired or cancelled.
	ErrFlowExpired = errors.New("auth: the initialisation has expired")
	// ErrInvalid: the input breaks a rule stated in the error's message key.
	ErrInvalid = errors.New("auth: invalid input")
	// ErrBusy: so many requests wait for a hashing turn that this one's would
	// come later than the configured bound. Nothing was evaluated and no
	// attempt spent: the person may simply try again in a few seconds.
	ErrBusy = errors.New("auth: the portal is busy")
)

// admit takes the flow's place in the hashing queue before anything is
// reserved: ErrBusy when the queue is too long. Call done once the flow
// has finished hashing.
func (s *Service) admit(ctx context.Context) (_ context.Context, done func(), err error) {
	ctx, done, err = s.Hasher.Admit(ctx)
	return ctx, done, busy(err)
}

// busy maps the hasher's refusal to ErrBusy; other errors are unchanged.
func busy(err error) error {
	if errors.Is(err, passhash.ErrBusy) {
		return ErrBusy
	}
	return err
}

// WrongCodeError is a wrong code during enrolment; TriesLeft more are allowed.
type WrongCodeError struct{ TriesLeft int }

func (e *WrongCodeError) Error() string {
	return "auth: wrong code, " + strconv.Itoa(e.TriesLeft) + " tries left"
}

// InvalidError is ErrInvalid with the translation key of the rule broken.
type InvalidError struct{ Key string }

func (e *InvalidError) Error() string { return "auth: invalid input: " + e.Key }
func (e *InvalidError) Unwrap() error { return ErrInvalid }

// Service carries out the self-service flows.
type Service struct {
	Store        store.Store
	Hasher       *passhash.Hasher
	Keys         *seal.Keyring
	TOTP         totp.Params
	Throttle     account.Throttle
	AddressLimit account.AddressLimit
	Issuer       string // shown in authenticator apps and notification e-mails, e.g. "Finagora"
	Now          func() time.Time
	Log          *slog.Logger
	Mail         *mail.Renderer // nil: no notification e-mails
	MailSent     func()         // nudges the delivery worker after a commit; may be nil
}

func (s *Service) now() time.Time { return s.Now().UTC() }

// Credentials is what a person typed on a login-like form.
type Credentials struct {
	Type       account.Type
	Identifier string // as typed; normalised here
	Password   string
	Code       string // TOTP code; unused by StartEnrolment
	Addr       string // client address, for throttling and the audit log
}

// Client identifies where a request came from, for the audit log.
type Client struct{ Addr string }

// AddressKey is the throttling key of a client address: the address itself
// for IPv4, its /64 for IPv6 (one subscriber usually holds a whole /64).
func AddressKey(addr string) string {
	ip, err := netip.ParseAddr(addr)
	if err != nil {
		return "invalid"
	}
	ip = ip.Unmap()
	if ip.Is6() {
		p, _ := ip.Prefix(64)
		return p.String()
	}
	return ip.String()
}

// verifyPassword reserves an attempt (address, then account), finds the
// account and checks its password, doing the same hashing work whether or
// not the account exists. It returns the account and the attempt, which the
// caller settles (succeeded, failed or release) once the rest of the flow is
// decided. On a wrong password the failure is recorded and ErrCredentials
// returned; if the client goes away before its hash is computed, the
// reservation is given back and ctx's error returned; ErrBusy, before
// anything is reserved or after the reservation was given back, when the
// wait for a hashing turn would be too long.
func (s *Service) verifyPassword(ctx context.Context, c Credentials, action string) (account.Account, *attempt, error) {
	ctx, done, err := s.admit(ctx)
	if err != nil {
		return account.Account{}, nil, err
	}
	defer done()
	at, err := s.reserveAddress(ctx, c.Addr, action, boundSubject(c.Identifier))
	if err != nil {
		return account.Account{}, nil, err
	}
	id, idErr := account.NormalizeIdentifier(c.Identifier)
	var a account.Account
	err = idErr
	if err == nil {
		a, err = s.Store.FindAccount(ctx, c.Type, id)
	}
	if err != nil {
		if idErr == nil && !errors.Is(err, store.ErrNotFound) {
			at.release()
			return account.Account{}, nil, err
		}
		if err := s.Hasher.Dummy(ctx); errors.Is(err, passhash.ErrBusy) {
			at.release()
			return account.Account{}, nil, ErrBusy
		}
		return account.Account{}, nil, at.failed("unknown account")
	}
	if err := at.reserveAccount(ctx, a.ID); errors.Is(err, errNoBudget) {
		return account.Account{}, nil, at.refused(ctx, a)
	} else if err != nil {
		at.release()
		return account.Account{}, nil, err
	}
	ok, rehash, err := s.Hasher.Verify(ctx, a.PasswordHash, passhash.NormalizeSecret(c.Password))
	if ctx.Err() != nil {
		at.release() // never evaluated, or evaluated for nobody: the client is gone
		return account.Account{}, nil, ctx.Err()
	}
	if errors.Is(err, passhash.ErrBusy) {
		at.release() // never evaluated: the turn would have come too late
		return account.Account{}, nil, ErrBusy
	}
	if err != nil {
		s.Log.Error("stored password hash unusable", "account", a.ID, "err", err)
	}
	if err != nil || !ok {
		return account.Account{}, nil, at.failed("wrong password")
	}
	if rehash {
		if h, err := s.Hasher.Hash(ctx, passhash.NormalizeSecret(c.Password)); err == nil {
			a, _ = s.Store.UpdateAccount(at.ctx, a.ID, func(a *account.Account) error { a.PasswordHash = h; return nil })
		}
	}
	return a, at, nil
}

// verifyCode checks a TOTP code against the account's authenticator, at the
// time the request arrived, and consumes its time step. Call it inside the
// transaction of the action it authorises, so a failed action does not burn
// the code... and a replayed code never authorises two actions.
// ErrNotEnrolled when the authenticator was unlinked meanwhile.
func (s *Service) verifyCode(ctx context.Context, tx store.Store, a account.Account, code string) (ok bool, err error) {
	au, err := tx.GetAuthenticator(ctx, a.ID)
	if errors.Is(err, store.ErrNotFound) {
		return false, ErrNotEnrolled
	} else if err != nil {
		return false, err
	}
	secret, err := s.Keys.Open(au.Secret, accountAD(a.ID))
	if err != nil {
		return false, fmt.Errorf("auth: open TOTP secret of account %d: %w", a.ID, err)
	}
	step, ok := s.TOTP.Verify(secret, code, s.arrival(ctx))
	if !ok {
		return false, nil
	}
	if err := tx.UseTOTPStep(ctx, a.ID, step); errors.Is(err, store.ErrReplayed) {
		return false, nil
	} else if errors.Is(err, store.ErrNotFound) {
		return false, ErrNotEnrolled
	} else if err != nil {
		return false, err
	}
	return true, nil
}

// accountAD binds a sealed secret to its account: a sealed value copied to
// another account's row does not open.
func accountAD(id int64) []byte { return []byte("sesame/totp/" + strconv.FormatInt(id, 10)) }

// audit writes one event outside any other change; a failure to write it is
// logged, not shown to the person.
func (s *Service) audit(ctx context.Context, e store.AuditEvent) {
	if e.Time.IsZero() {
		e.Time = s.now()
	}
	if err := s.Store.AppendAudit(ctx, e); err != nil {
		s.Log.Error("audit write failed", "action", e.Action, "err", err)
	}
}

// notify renders a notification for a and adds it to the outbox in tx.
func (s *Service) notify(ctx context.Context, tx store.Store, a account.Account, data any) error {
	if s.Mail == nil {
		return nil
	}
	m, err := s.Mail.Render(a.Lang, mail.Address{Name: a.Name, Email: a.Identifier}, data)
	if err != nil {
		return fmt.Errorf("auth: render %T: %w", data, err)
	}
	_, err = tx.EnqueueMail(ctx, m, s.now())
	return err
}

func (s *Service) mailSent() {
	if s.MailSent != nil && s.Mail != nil {
		s.MailSent()
	}
}

// boundSubject keeps what a person typed as an identifier fit for the audit
// log: bounded and valid UTF-8.
func boundSubject(s string) string {
	if id, err := account.NormalizeIdentifier(s); err == nil {
		return id
	}
	return "(invalid identifier)"
}

// newToken returns a random 128-bit token for a cookie and the hash the
// store keeps, so a copy of the database holds no live session or wizard.
func newToken() (token string, hash []byte) {
	b := make([]byte, 16)
	rand.Read(b) // never fails (crypto/rand)
	token = base64.RawURLEncoding.EncodeToString(b)
	return token, HashToken(token)
}

// HashToken is the stored form of a session or wizard token.
func HashToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}
