// Package mail delivers Sesame's e-mails: password-reset links and the
// notifications an account's owner gets when someone acts on the account.
//
// Mail goes through an outbox. The action that causes an e-mail (a reset
// request, an administrator resetting an authenticator) renders the Message
// with a Renderer and writes it into the store's outbox table in the same
// transaction as the action itself, so an e-mail is queued if and only if the
// action happened. A Worker then claims due rows from the outbox (Queue),
// hands them to a Sender (SMTP in production), and records the outcome.
//
// Delivery is at least once: a row is leased while it is being sent and is
// marked sent afterwards, so a crash between the SMTP "250 OK" and
// MarkMailSent sends it again when the lease runs out. Every attempt of a row
// carries the same Message-ID, which lets the receiving side recognise the
// duplicate.
//
// Nothing in this package logs a body, a subject or a full address: a reset
// link in a log would be a way into an account.
//
// The Catcher is an in-process SMTP server with a read-only web inbox, used by
// tests and by `sesame demo` so a person can open the reset link.
package mail

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"

	"sesame/internal/i18n"
)

// Bounds on a Message. They keep a hostile or buggy caller from filling the
// outbox, and they keep every header well under the 998-octet line limit.
const (
	MaxKindLen    = 64
	MaxNameLen    = 200 // bytes, UTF-8
	MaxEmailLen   = 254 // RFC 5321 path limit
	MaxSubjectLen = 200 // bytes, UTF-8
	MaxTextLen    = 64 << 10
	MaxHTMLLen    = 256 << 10
)

// ErrInvalid is wrapped by every validation error of this package.
var ErrInvalid = errors.New("mail: invalid")

// ErrPermanent wraps a Sender error that retrying cannot fix (the server
// refused the recipient for good, or the message itself is invalid). The
// Worker gives such a message up at once instead of retrying it for a day.
var ErrPermanent = errors.New("mail: permanent failure")

// Address is a mailbox: an optional display name and an e-mail address.
type Address struct {
	Name  string
	Email string
}

// Validate checks that the address is a plain addr-spec (no display name,
// comments or angle brackets smuggled into Email) and that Name can be put in
// a header: valid UTF-8, bounded, no control characters.
func (a Address) Validate() error {
	if err := checkHeaderText("name", a.Name, MaxNameLen, true); err != nil {
		return err
	}
	return validateEmail(a.Email)
}

func validateEmail(s string) error {
	if s == "" {
		return fmt.Errorf("%w: empty e-mail address", ErrInvalid)
	}
	if len(s) > MaxEmailLen {
		return fmt.Errorf("%w: e-mail address longer than %d bytes", ErrInvalid, MaxEmailLen)
	}
	if err := checkHeaderText("e-mail address", s, MaxEmailLen, false); err != nil {
		return err
	}
	parsed, err := mail.ParseAddress(s)
	// Requiring the parse to give back exactly the input rejects
	// "Name <a@b>", "a@b (comment)", quoted local parts and surrounding
	// spaces: Email must be nothing but the address.
	if err != nil || parsed.Name != "" || parsed.Address != s {
		return fmt.Errorf("%w: not a plain e-mail address", ErrInvalid)
	}
	return nil
}

// checkHeaderText rejects what must never reach a header: invalid UTF-8 and
// control characters (CR and LF above all, which would start a new header line).
func checkHeaderText(what, s string, max int, allowEmpty bool) error {
	if s == "" && !allowEmpty {
		return fmt.Errorf("%w: empty %s", ErrInvalid, what)
	}
	if len(s) > max {
		return fmt.Errorf("%w: %s longer than %d bytes", ErrInvalid, what, max)
	}
	if !utf8.ValidString(s) {
		return fmt.Errorf("%w: %s is not valid UTF-8", ErrInvalid, what)
	}
	for _, r := range s {
		if isControl(r) {
			return fmt.Errorf("%w: %s contains a control character", ErrInvalid, what)
		}
	}
	// An ASCII "=?utf-8?q?=0D=0A...?=" would be sent as is and decoded by
	// the reader into a line break or a forged name: only the encoder may
	// write encoded words.
	if strings.Contains(s, "=?") {
		return fmt.Errorf("%w: %s contains an encoded-word marker", ErrInvalid, what)
	}
	return nil
}

// isControl reports C0 and C1 controls, DEL, and the Unicode line and
// paragraph separators, which some software treats as line breaks.
func isControl(r rune) bool {
	return r < 0x20 || (r >= 0x7f && r < 0xa0) || r == '\u2028' || r == '\u2029'
}

// Message is one rendered e-mail, as kept in the outbox.
type Message struct {
	Kind    string    // e.g. "password_reset"; for logs and metrics, never secret
	To      Address   // the account's owner
	Lang    i18n.Lang // the language it is written in (Content-Language)
	Subject string
	Text    string // text/plain body
	HTML    string // text/html alternative; may be empty
}

// Validate checks every field against the bounds above. The SMTP sender
// calls it again before building headers, so a row that was corrupted in the
// database cannot inject a header either.
func (m Message) Validate() error {
	if m.Kind == "" || len(m.Kind) > MaxKindLen {
		return fmt.Errorf("%w: kind must be 1 to %d bytes", ErrInvalid, MaxKindLen)
	}
	for _, r := range m.Kind {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_') {
			return fmt.Errorf("%w: kind must be lower-case letters, digits and _", ErrInvalid)
		}
	}
	if err := m.To.Validate(); err != nil {
		return fmt.Errorf("to: %w", err)
	}
	if _, ok := i18n.Parse(string(m.Lang)); !ok || string(m.Lang) != strings.ToLower(string(m.Lang)) {
		return fmt.Errorf("%w: unsupported language %q", ErrInvalid, m.Lang)
	}
	if err := checkHeaderText("subject", m.Subject, MaxSubjectLen, false); err != nil {
		return err
	}
	// Readers drop the spaces around a header value; a subject that is
	// blank or relies on them is a bug upstream.
	if strings.TrimSpace(m.Subject) != m.Subject || strings.TrimSpace(m.Subject) == "" {
		return fmt.Errorf("%w: subject is blank or has surrounding spaces", ErrInvalid)
	}
	if err := checkBody("text", m.Text, MaxTextLen, false); err != nil {
		return err
	}
	return checkBody("html", m.HTML, MaxHTMLLen, true)
}

func checkBody(what, s string, max int, allowEmpty bool) error {
	if s == "" && !allowEmpty {
		return fmt.Errorf("%w: empty %s body", ErrInvalid, what)
	}
	if len(s) > max {
		return fmt.Errorf("%w: %s body longer than %d bytes", ErrInvalid, what, max)
	}
	if !utf8.ValidString(s) {
		return fmt.Errorf("%w: %s body is not valid UTF-8", ErrInvalid, what)
	}
	if strings.ContainsRune(s, 0) {
		return fmt.Errorf("%w: %s body contains NUL", ErrInvalid, what)
	}
	return nil
}

// Queued is an outbox row as the worker sees it.
type Queued struct {
	ID       int64 // the outbox row's id; stable across attempts
	Attempts int   // failed attempts so far
	Message
}

// Queue is the outbox as the worker sees it. The store implements it; rows
// are written elsewhere, inside the transaction of the action that caused them.
//
// Rows have these states: pending (due at next_attempt_at), leased (pending,
// with leased_until in the future), sent, and failed (given up). Only
// pending rows whose lease has expired or was never taken are claimable.
type Queue interface {
	// ClaimMail atomically leases up to n rows that are not sent, not given
	// up, due (next attempt at or before now) and not leased by another worker
	// (no lease, or a lease that ended at or before now): each claimed row
	// gets leased_until = now+lease. Two concurrent calls, from this process
	// or another instance, never return the same row while its lease holds.
	// Rows come oldest-due first. It returns an empty slice when nothing is due.
	ClaimMail(ctx context.Context, now time.Time, lease time.Duration, n int) ([]Queued, error)

	// MarkMailSent records that row id was delivered: it is never claimed
	// again. Marking a row that is already sent is not an error (a slow worker
	// whose lease ran out may race another); an unknown id is ErrNotFound-like
	// and is reported as an error.
	MarkMailSent(ctx context.Context, id int64, now time.Time) error

	// RetryMail records a failed attempt of row id: attempts+1, next attempt
	// at next, the lease released, lastErr kept (already redacted and bounded
	// by the worker). With giveUp the row is marked failed for good and never
	// claimed again. A row already sent stays sent.
	RetryMail(ctx context.Context, id int64, next time.Time, lastErr string, giveUp bool) error
}

// Sender delivers one message. messageID is the local part of the Message-ID
// the sender must set; it is the same on every attempt of one outbox row.
// An error that retrying cannot fix wraps ErrPermanent.
type Sender interface {
	Send(ctx context.Context, m Message, messageID string) error
}

// RedactEmail shortens an address for logs: "jan.peeters@example.be" becomes
// "j***@example.be". Anything that is not an address becomes "***".
func RedactEmail(s string) string {
	at := strings.LastIndexByte(s, '@')
	if at <= 0 || at == len(s)-1 || len(s) > MaxEmailLen || !utf8.ValidString(s) {
		return "***"
	}
	r, _ := utf8.DecodeRuneInString(s)
	domain := s[at+1:]
	for _, c := range domain {
		if isControl(c) || c == ' ' {
			return "***"
		}
	}
	if isControl(r) {
		return "***@" + domain
	}
	return string(r) + "***@" + domain
}
