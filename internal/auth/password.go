package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"sesame/internal/account"
	"sesame/internal/i18n"
	"sesame/internal/mail"
	"sesame/internal/passhash"
	"sesame/internal/password"
	"sesame/internal/store"
)

// The password flows (SPEC 2.4–2.6):
//
//   - change: identifier, current password, current TOTP code (consumed like
//     any other) and the new password twice;
//   - reset by e-mail, for Client and Tiers accounts: a request always gets
//     the same answer; a real, active, non-internal account that is not over
//     its limits gets an e-mail with a single-use link valid ResetLifetime; the
//     link's page asks for the new password twice and, when the account has a
//     linked authenticator, a current code: a reset never weakens the second
//     factor;
//   - Group accounts' passwords belong to the insurer's directory: they never
//     get a reset e-mail (the request gets the same neutral answer).
//
// After a change or a reset every other session of the account ends, its
// failure count is cleared, its pending reset links die, and its owner gets
// an e-mail — written to the outbox in the same transaction.

// Audit actions of the password flows.
const (
	ActionPasswordChange       = "password_change"
	ActionPasswordResetRequest = "password_reset_request"
	ActionPasswordReset        = "password_reset"
)

// Errors of the password flows, besides ErrCredentials, ErrAddressThrottled,
// ErrNotEnrolled, *WrongCodeError and *InvalidError (whose Key is then one of
// the password.Err* keys or a key below).
var (
	// ErrResetInvalid: the reset link is unknown, used, replaced by a newer
	// one, expired, or spent by too many wrong codes. The person asks again.
	ErrResetInvalid = errors.New("auth: the reset link is invalid, used or expired")
	// ErrResetLocked: the account is locked after repeated failures; its
	// code cannot be tried from a reset link until the lock ends, so the link
	// is no way around the lock.
	ErrResetLocked = errors.New("auth: the account is locked")
)

// Translation keys of the InvalidErrors the password flows return, besides
// those of package password.
const (
	KeyPasswordMismatch   = "password.error.mismatch"   // the two new passwords differ
	KeyPasswordUnchanged  = "password.error.unchanged"  // the new password is the current one
	KeyIdentifierInvalid  = "password.error.identifier" // not an e-mail address
	KeyAccountTypeInvalid = "password.error.type"       // not an account type
)

// ResetLimit bounds reset requests, so the feature cannot flood a mailbox or
// be used to probe at volume. Requests over a limit get the same answer as
// any other, and send nothing.
type ResetLimit struct {
	PerIdentifier int           // requests naming one e-mail address (all account types together) per Window
	PerAddress    int           // requests from one client address (IPv4, or IPv6 /64) per Window
	Window        time.Duration //
}

// DefaultResetLimit: 3 e-mails an hour to one address, 10 requests an hour
// from one client address.
func DefaultResetLimit() ResetLimit {
	return ResetLimit{PerIdentifier: 3, PerAddress: 10, Window: time.Hour}
}

// DefaultResetLifetime is how long a reset link works (ASVS 2.7.2).
const DefaultResetLifetime = 10 * time.Minute

// resetCodeTries is how many wrong TOTP codes one reset link allows: like the
// initialisation wizard, a person may mistype twice; the third wrong code
// spends the link (each also counts against the account, as at login).
const resetCodeTries = 3

// Passwords carries out the password flows, with Service's checks,
// throttling, audit and e-mails. Fields are set before the first call.
type Passwords struct {
	*Service
	ResetLifetime time.Duration // 0: DefaultResetLifetime
	ResetLimit    ResetLimit    // zero: DefaultResetLimit()
}

func (p *Passwords) lifetime() time.Duration {
	if p.ResetLifetime > 0 {
		return p.ResetLifetime
	}
	return DefaultResetLifetime
}

func (p *Passwords) limit() ResetLimit {
	if p.ResetLimit == (ResetLimit{}) {
		return DefaultResetLimit()
	}
	return p.ResetLimit
}

// checkNew applies the policy to a new password typed twice. identifier is
// the account's, as typed or stored; an invalid one skips that rule (the
// credentials check refuses it anyway).
func checkNew(newPassword, confirm, identifier string) error {
	id, _ := account.NormalizeIdentifier(identifier)
	if err := password.Check(newPassword, id); err != nil {
		var pe *password.Error
		if errors.As(err, &pe) {
			return &InvalidError{Key: pe.Key}
		}
		return err
	}
	// Compared in the form they are hashed in: the same password typed with
	// a composed or a decomposed "é" is the same password.
	if passhash.NormalizeSecret(newPassword) != passhash.NormalizeSecret(confirm) {
		return &InvalidError{Key: KeyPasswordMismatch}
	}
	return nil
}

// ChangePassword is what the password-change form sends.
type ChangePassword struct {
	Credentials         // Type, Identifier, current Password, Code, Addr
	New, Confirm string // the new password, twice
	// KeepSession is the hash (HashToken) of the session of the browser
	// making the change, kept when it belongs to the account; every other
	// session ends. nil ends them all.
	KeepSession []byte
}

// ChangePassword changes an account's password (SPEC 2.4). The new password
// is checked first (so a refused one costs no attempt and burns no code),
// then the current password and code, as at login. Errors: *InvalidError
// (the rule's Key), ErrCredentials for any wrong identifier, password or code
// (or a locked or disabled account), ErrAddressThrottled, ErrNotEnrolled
// when no authenticator is linked (there is no code to check).
func (p *Passwords) ChangePassword(ctx context.Context, c ChangePassword) error {
	if err := checkNew(c.New, c.Confirm, c.Identifier); err != nil {
		return err
	}
	// One place in the hashing queue for both hashes (the current
	// password's and the new one's).
	ctx, done, err := p.admit(ctx)
	if err != nil {
		return err
	}
	defer done()
	a, at, err := p.verifyPassword(ctx, c.Credentials, ActionPasswordChange)
	if err != nil {
		return err
	}
	if passhash.NormalizeSecret(c.New) == passhash.NormalizeSecret(c.Password) {
		at.release() // the password was right; nothing else was tried
		return &InvalidError{Key: KeyPasswordUnchanged}
	}
	// Hash outside the transaction: argon2id takes tens of milliseconds,
	// too long to hold SQLite's write lock.
	hash, err := p.Hasher.Hash(ctx, c.New)
	if err != nil {
		at.release()
		return busy(err)
	}
	ctx, now, ok := at.ctx, p.now(), false
	err = p.Store.InTx(ctx, func(tx store.Store) error {
		if ok, err = p.verifyCode(ctx, tx, a, c.Code); err != nil || !ok {
			return err
		}
		ended, err := p.setPassword(ctx, tx, &a, hash, c.KeepSession)
		if err != nil {
			return err
		}
		if err := at.releaseAddress(tx); err != nil {
			return err
		}
		if err := tx.AppendAudit(ctx, store.AuditEvent{Time: now, ActorID: a.ID, Actor: a.Identifier, SubjectID: a.ID, Subject: a.Identifier,
			OfficeID: a.OfficeID, Action: ActionPasswordChange, Outcome: OutcomeSuccess, Addr: c.Addr,
			Detail: fmt.Sprintf("%d other sessions ended", ended)}); err != nil {
			return err
		}
		return p.notify(ctx, tx, a, mail.PasswordChanged{Name: a.Name, When: now, IP: mailIP(c.Addr)})
	})
	if err := p.settle(at, ok, err, "wrong or reused code", "no authenticator linked"); err != nil {
		return err
	}
	p.mailSent()
	return nil
}

// setPassword stores a new password hash in tx and does what follows any
// change: failures cleared, every session but keep ended, reset links
// dropped. It returns how many sessions were ended.
func (p *Passwords) setPassword(ctx context.Context, tx store.Store, a *account.Account, hash string, keep []byte) (int, error) {
	up, err := tx.UpdateAccount(ctx, a.ID, func(acc *account.Account) error {
		acc.PasswordHash = hash
		p.Throttle.Succeed(acc)
		return nil
	})
	if err != nil {
		return 0, err
	}
	*a = up
	ended, err := tx.DeleteAccountSessions(ctx, a.ID, keep)
	if err != nil {
		return 0, err
	}
	if _, err := tx.DeleteAccountPasswordResets(ctx, a.ID); err != nil {
		return 0, err
	}
	return ended, nil
}

// mailIP is the client address as the notification e-mail shows it, or ""
// when it is not an IP address (the renderer refuses anything else).
func mailIP(addr string) string {
	if _, err := netip.ParseAddr(addr); err != nil {
		return ""
	}
	return addr
}

// RequestPasswordReset is the "forgot my password" form (SPEC 2.5): account
// type and identifier. link turns a token into the absolute URL of the link
// page (built on the configured public URL, never on the request's Host).
//
// It returns nil whether or not an e-mail is sent, after the same work in
// every case: a token is made, both request counters are written, the
// account is looked up, the e-mail is rendered and a reset row is stored in
// one transaction — a decoy row when nothing is sent, so that neither the
// answer nor its timing tells whether the account exists. An e-mail is
// queued (in the same transaction) only for an active Client or Tiers
// account within its limits; a newer link replaces the older one. Errors:
// *InvalidError for an identifier that is not an e-mail address or an
// unknown account type (which tells nothing about any account); store errors.
func (p *Passwords) RequestPasswordReset(ctx context.Context, typ account.Type, identifier, addr string, link func(token string) string) error {
	id, err := account.NormalizeIdentifier(identifier)
	if err != nil {
		return &InvalidError{Key: KeyIdentifierInvalid}
	}
	if _, ok := account.ParseType(string(typ)); !ok {
		return &InvalidError{Key: KeyAccountTypeInvalid}
	}
	if p.Mail == nil {
		return errors.New("auth: password reset needs e-mail (no mail renderer configured)")
	}
	now, lim, life := p.now(), p.limit(), p.lifetime()
	token, hash := newResetToken()

	// Both counters count every request, sent or not: the mailbox's across
	// account types (so two accounts on one address get 3 e-mails, not 6).
	fromAddr, err := p.Store.AddAddressFailure(ctx, "pwreset/addr/"+AddressKey(addr), now, lim.Window)
	if err != nil {
		return err
	}
	toAddr, err := p.Store.AddAddressFailure(ctx, "pwreset/id/"+identifierKey(id), now, lim.Window)
	if err != nil {
		return err
	}

	a, err := p.Store.FindAccount(ctx, typ, id)
	why := ""
	switch {
	case errors.Is(err, store.ErrNotFound):
		why = "unknown account"
		a = account.Account{Identifier: id, Lang: i18n.FR}
	case err != nil:
		return err
	case a.Type == account.Group:
		why = "internal account: its password is managed in the insurer's directory"
	case a.Disabled:
		why = "disabled account"
	case fromAddr > lim.PerAddress:
		why = "too many requests from this address"
	case toAddr > lim.PerIdentifier:
		why = "too many requests for this e-mail address"
	}
	// Rendered in every case (the same work); queued only when sent.
	msg, renderErr := p.Mail.Render(a.Lang, mail.Address{Name: a.Name, Email: id}, mail.PasswordReset{Name: a.Name, URL: link(token), Expires: life})
	if renderErr != nil && why == "" {
		return renderErr
	}
	r := store.PasswordReset{TokenHash: hash, Created: now, Expires: now.Add(life), TriesLeft: resetCodeTries}
	ev := store.AuditEvent{Time: now, SubjectID: a.ID, Subject: id, OfficeID: a.OfficeID, Action: ActionPasswordResetRequest, Addr: addr}
	err = p.Store.InTx(ctx, func(tx store.Store) error {
		if why != "" {
			// A decoy: its token is dropped here, so it can never be used.
			if err := tx.CreatePasswordReset(ctx, r); err != nil {
				return err
			}
			ev.Outcome, ev.Detail = OutcomeDenied, "no e-mail sent: "+why
			return tx.AppendAudit(ctx, ev)
		}
		r.AccountID = a.ID
		if err := tx.CreatePasswordReset(ctx, r); err != nil {
			return err
		}
		if _, err := tx.EnqueueMail(ctx, msg, now); err != nil {
			return err
		}
		ev.Outcome, ev.Detail = OutcomeSuccess, "reset link e-mailed, valid "+life.String()
		return tx.AppendAudit(ctx, ev)
	})
	if err != nil {
		return err
	}
	if why == "" {
		p.mailSent()
	}
	return nil
}

// resetTokenLen is the length of a reset token: 32 random bytes (256 bits)
// in unpadded base64url.
const resetTokenLen = 43

// newResetToken returns a random reset token and the hash the store keeps.
func newResetToken() (token string, hash []byte) {
	b := make([]byte, 32)
	rand.Read(b) // never fails (crypto/rand)
	token = base64.RawURLEncoding.EncodeToString(b)
	return token, HashToken(token)
}

// identifierKey names an e-mail address in the request counters without
// writing the address itself there.
func identifierKey(id string) string {
	h := sha256.Sum256([]byte(id))
	return hex.EncodeToString(h[:16])
}

// resetLink returns the live reset named by token and its account, or
// ErrResetInvalid. The look-up spends a reserved attempt of the client
// address, so guessing links from one address is throttled like guessing
// passwords: a failed look-up leaves it counted; a good one returns it for
// the caller to settle.
func (p *Passwords) resetLink(ctx context.Context, token, addr string) (store.PasswordReset, account.Account, *attempt, error) {
	at, err := p.reserveAddress(ctx, addr, ActionPasswordReset, "")
	if err != nil {
		return store.PasswordReset{}, account.Account{}, nil, err
	}
	invalid := func(detail string, a *account.Account) (store.PasswordReset, account.Account, *attempt, error) {
		if a != nil {
			at.subject = a.Identifier
		}
		if err := at.failed(detail); !errors.Is(err, ErrCredentials) {
			return store.PasswordReset{}, account.Account{}, nil, err
		}
		return store.PasswordReset{}, account.Account{}, nil, ErrResetInvalid
	}
	if len(token) != resetTokenLen {
		return invalid("malformed link", nil)
	}
	r, err := p.Store.GetPasswordReset(ctx, HashToken(token))
	if errors.Is(err, store.ErrNotFound) || err == nil && r.AccountID == 0 {
		return invalid("unknown, used or replaced link", nil)
	} else if err != nil {
		at.release()
		return store.PasswordReset{}, account.Account{}, nil, err
	}
	if !p.now().Before(r.Expires) {
		p.Store.DeletePasswordReset(at.ctx, r.TokenHash)
		return invalid("expired link", nil)
	}
	a, err := p.Store.GetAccount(ctx, r.AccountID)
	if err != nil {
		at.release()
		return store.PasswordReset{}, account.Account{}, nil, err
	}
	if a.Disabled {
		return invalid("disabled account", &a)
	}
	at.subject = a.Identifier
	return r, a, at, nil
}

// PasswordResetInfo checks a reset link before its page is shown, and says
// whether the page must ask for a TOTP code (the account has an
// authenticator). It changes nothing, so a mail scanner that opens the link
// does not spend it. Errors: ErrResetInvalid, ErrAddressThrottled.
func (p *Passwords) PasswordResetInfo(ctx context.Context, token, addr string) (needsCode bool, err error) {
	_, a, at, err := p.resetLink(ctx, token, addr)
	if err != nil {
		return false, err
	}
	at.release() // a good link's page costs nothing
	return p.hasAuthenticator(ctx, a.ID)
}

func (p *Passwords) hasAuthenticator(ctx context.Context, accountID int64) (bool, error) {
	_, err := p.Store.GetAuthenticator(ctx, accountID)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// ResetPassword sets a new password through a reset link (SPEC 2.5). The
// new password is checked first, and a refused one leaves the link as it
// was. When the account has an authenticator the code is required and
// consumed; a wrong one counts against the account as at login and spends
// one of the link's three tries. On success, in one transaction: the link is
// used up (of two concurrent uses exactly one wins), the password set, the
// failure count cleared, every session ended, and the owner told by e-mail.
// The authenticator stays linked: the next login needs the code as before.
//
// Errors: ErrResetInvalid, ErrAddressThrottled, *InvalidError (the rule's
// Key), *WrongCodeError with the tries the link has left, ErrResetLocked,
// ErrBusy (nothing spent) when the portal is too busy to hash in time.
func (p *Passwords) ResetPassword(ctx context.Context, token, newPassword, confirm, code, addr string) error {
	ctx, done, err := p.admit(ctx)
	if err != nil {
		return err
	}
	defer done()
	r, a, at, err := p.resetLink(ctx, token, addr)
	if err != nil {
		return err
	}
	if err := checkNew(newPassword, confirm, a.Identifier); err != nil {
		at.release()
		return err
	}
	needsCode, err := p.hasAuthenticator(ctx, a.ID)
	if err != nil {
		at.release()
		return err
	}
	if needsCode {
		// The code spends a reserved attempt of the account, as at login.
		// A lock stands for repeated failures: the link proves the mailbox,
		// not the device, so it must not become a way to keep guessing codes.
		if err := at.reserveAccount(ctx, a.ID); errors.Is(err, errNoBudget) {
			p.audit(at.ctx, store.AuditEvent{SubjectID: a.ID, Subject: a.Identifier, OfficeID: a.OfficeID, Action: ActionPasswordReset,
				Outcome: OutcomeDenied, Addr: addr, Detail: "account locked"})
			return ErrResetLocked
		} else if err != nil {
			at.release()
			return err
		}
		// And one of the link's tries, before the code is evaluated.
		r, err = p.Store.UpdatePasswordReset(at.ctx, r.TokenHash, func(r *store.PasswordReset) error {
			if r.TriesLeft <= 0 {
				return ErrResetInvalid
			}
			r.TriesLeft--
			return nil
		})
		if errors.Is(err, store.ErrNotFound) || errors.Is(err, ErrResetInvalid) {
			at.release()
			return ErrResetInvalid
		} else if err != nil {
			at.release()
			return err
		}
	}
	hash, err := p.Hasher.Hash(ctx, newPassword)
	if err != nil {
		at.release()
		return busy(err)
	}
	ctx = at.ctx
	now := p.now()
	ok := true
	err = p.Store.InTx(ctx, func(tx store.Store) error {
		if needsCode {
			if ok, err = p.verifyCode(ctx, tx, a, code); err != nil || !ok {
				return err
			}
		}
		if err := tx.DeletePasswordReset(ctx, r.TokenHash); err != nil {
			return err // ErrNotFound: used meanwhile by another request
		}
		ended, err := p.setPassword(ctx, tx, &a, hash, nil)
		if err != nil {
			return err
		}
		if err := at.releaseAddress(tx); err != nil {
			return err
		}
		if err := tx.AppendAudit(ctx, store.AuditEvent{Time: now, ActorID: a.ID, Actor: a.Identifier, SubjectID: a.ID, Subject: a.Identifier,
			OfficeID: a.OfficeID, Action: ActionPasswordReset, Outcome: OutcomeSuccess, Addr: addr,
			Detail: fmt.Sprintf("by e-mailed link; %d sessions ended; code checked: %t", ended, needsCode)}); err != nil {
			return err
		}
		return p.notify(ctx, tx, a, mail.PasswordChanged{Name: a.Name, When: now, IP: mailIP(addr)})
	})
	switch {
	case errors.Is(err, store.ErrNotFound), errors.Is(err, ErrNotEnrolled):
		// Used meanwhile by another request, or the authenticator was reset
		// meanwhile (the page asked for a code that can no longer be checked):
		// the person asks for a new link.
		at.release()
		return ErrResetInvalid
	case err != nil:
		return err
	case !ok:
		return p.wrongResetCode(at, r)
	}
	p.mailSent()
	return nil
}

// wrongResetCode settles a wrong code on a reset link's page: the attempt
// stands against the account and the address (as at login); the link's try
// was spent before the evaluation, and the last one cancels the link.
func (p *Passwords) wrongResetCode(at *attempt, r store.PasswordReset) error {
	if err := at.failed("wrong or reused code"); !errors.Is(err, ErrCredentials) {
		return err
	}
	if r.TriesLeft <= 0 {
		if err := p.Store.DeletePasswordReset(at.ctx, r.TokenHash); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		a := at.acct
		p.audit(at.ctx, store.AuditEvent{SubjectID: a.ID, Subject: a.Identifier, OfficeID: a.OfficeID, Action: ActionPasswordReset,
			Outcome: OutcomeDenied, Addr: at.addr, Detail: fmt.Sprintf("link cancelled after %d wrong codes", resetCodeTries)})
		return ErrResetInvalid
	}
	return &WrongCodeError{TriesLeft: r.TriesLeft}
}

// PurgePasswordResets deletes the reset rows (decoys included) that expired
// before now; call it periodically with the other clean-ups.
func (p *Passwords) PurgePasswordResets(ctx context.Context) (int, error) {
	return p.Store.DeletePasswordResetsBefore(ctx, p.now())
}
