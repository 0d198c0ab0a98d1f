// Package account is Sesame's domain vocabulary: accounts and their types,
// offices and roles, how identifiers are compared, and the throttling rules
// that lock an account after repeated failures. It knows nothing of HTTP or SQL.
package account

import (
	"errors"
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"sesame/internal/i18n"
)

// Type is an account type. The same e-mail address may exist under several
// types: they are different accounts.
type Type string

// The account types of the guides: Client (policyholders), Group (the insurer's
// staff, "internal") and Tiers (brokers, who belong to an office).
const (
	Client Type = "client"
	Group  Type = "group"
	Tiers  Type = "tiers"
)

// Types lists every account type in the order the forms show them.
var Types = []Type{Client, Group, Tiers}

// ParseType returns the type named by s (exactly as the forms send it).
func ParseType(s string) (Type, bool) {
	switch t := Type(s); t {
	case Client, Group, Tiers:
		return t, true
	}
	return "", false
}

// Role is what an account may do beyond its own self-service.
type Role string

// Roles. An office administrator is a Tiers account that manages its own
// office's users; support staff are Group accounts that manage every account.
const (
	RoleUser        Role = ""
	RoleOfficeAdmin Role = "office_admin"
	RoleSupport     Role = "support"
)

// ParseRole returns the role named by s.
func ParseRole(s string) (Role, bool) {
	switch r := Role(s); r {
	case RoleUser, RoleOfficeAdmin, RoleSupport:
		return r, true
	}
	return "", false
}

// Office is a broker firm: Tiers accounts belong to one.
type Office struct {
	ID      int64
	Name    string
	Created time.Time
}

// Account is a person's login under one account type.
type Account struct {
	ID         int64
	Type       Type
	Identifier string // normalised e-mail address, see NormalizeIdentifier
	Name       string
	OfficeID   int64 // 0 when the account belongs to no office
	Role       Role
	Lang       i18n.Lang

	PasswordHash string // argon2id PHC string

	// The security question gates (re-)enrolment of an authenticator. It is
	// never a login factor. QuestionKey names a question of the translated
	// list, or is QuestionOwn when the person wrote their own (QuestionText).
	QuestionKey  string
	QuestionText string
	AnswerHash   string // argon2id PHC string of NormalizeAnswer(answer)

	Disabled       bool
	FailedAttempts int       // consecutive failures of any factor
	LockedUntil    time.Time // zero when not locked
	LastLogin      time.Time
	Created        time.Time
}

// HasQuestion reports whether the account has a security question and answer.
func (a *Account) HasQuestion() bool { return a.QuestionKey != "" && a.AnswerHash != "" }

// ClearQuestion removes the question and answer, so the next enrolment asks
// the person to choose new ones.
func (a *Account) ClearQuestion() {
	a.QuestionKey, a.QuestionText, a.AnswerHash = "", "", ""
}

// QuestionOwn is the QuestionKey of a question the person wrote themselves.
const QuestionOwn = "own"

// Questions are the keys of the translated list of security questions
// (translation key "question."+key).
var Questions = []string{"first_plush", "birth_city", "first_school", "first_pet", "first_car", "childhood_friend"}

// ValidQuestionKey reports whether key is in Questions or QuestionOwn.
func ValidQuestionKey(key string) bool {
	if key == QuestionOwn {
		return true
	}
	for _, q := range Questions {
		if q == key {
			return true
		}
	}
	return false
}

// Limits on what a person may type; longer input is refused, never truncated.
const (
	MaxIdentifier = 254 // RFC 5321 path limit
	MaxName       = 200
	MaxQuestion   = 200
	MaxAnswer     = 200
	MaxPassword   = 128
)

// ErrInvalidIdentifier is returned for an identifier that is not an e-mail address.
var ErrInvalidIdentifier = errors.New("account: invalid identifier")

// NormalizeIdentifier returns the canonical form of an identifier: trimmed,
// Unicode NFC, lower case, and a plain e-mail address (no display name).
// Two identifiers name the same account exactly when their canonical forms
// are equal.
func NormalizeIdentifier(s string) (string, error) {
	if !utf8.ValidString(s) || strings.ContainsRune(s, 0) || len(s) > 4*MaxIdentifier {
		return "", ErrInvalidIdentifier
	}
	s = strings.ToLower(norm.NFC.String(strings.TrimSpace(s)))
	if s == "" || len(s) > MaxIdentifier {
		return "", ErrInvalidIdentifier
	}
	addr, err := mail.ParseAddress(s)
	if err != nil || addr.Address != s || addr.Name != "" {
		return "", ErrInvalidIdentifier
	}
	at := strings.LastIndexByte(s, '@')
	if at <= 0 || at == len(s)-1 || strings.ContainsAny(s, " \t\r\n<>\"") {
		return "", ErrInvalidIdentifier
	}
	return s, nil
}
