package store

import (
	"context"
	"time"
)

// PasswordReset is a pending "forgot my password" link (SPEC 2.5). The
// link's random token is only in the e-mail: the store keeps its hash, so a
// copy of the database opens no account.
type PasswordReset struct {
	TokenHash []byte
	// AccountID is the account whose password the link resets. 0 marks a
	// decoy: the record written for a request that sends no e-mail (unknown
	// or internal account, throttled request), so that every request does
	// the same work. Its token is thrown away; a decoy never resets anything.
	AccountID int64
	Created   time.Time
	Expires   time.Time
	TriesLeft int // wrong TOTP codes still allowed on the link's page
}

// PasswordResets are the reset links.
type PasswordResets interface {
	// CreatePasswordReset stores r and, atomically, deletes every other
	// reset of r.AccountID, so a newer link invalidates older ones (decoys
	// delete nothing). ErrAlreadyExists on a hash clash; ErrNotFound when
	// the account does not exist.
	CreatePasswordReset(ctx context.Context, r PasswordReset) error
	// GetPasswordReset returns the reset with that token hash, expired or
	// not, or ErrNotFound.
	GetPasswordReset(ctx context.Context, tokenHash []byte) (PasswordReset, error)
	// UpdatePasswordReset changes it atomically; ErrNotFound if absent.
	// fn may only change TriesLeft and Expires.
	UpdatePasswordReset(ctx context.Context, tokenHash []byte, fn func(*PasswordReset) error) (PasswordReset, error)
	// DeletePasswordReset removes the reset: the way a link is used up.
	// ErrNotFound if it was already gone, so of two concurrent uses of one
	// link exactly one succeeds.
	DeletePasswordReset(ctx context.Context, tokenHash []byte) error
	// DeleteAccountPasswordResets removes every reset of the account (its
	// password just changed) and returns how many.
	DeleteAccountPasswordResets(ctx context.Context, accountID int64) (int, error)
	// DeletePasswordResetsBefore removes resets (decoys included) that
	// expired before t, and returns how many.
	DeletePasswordResetsBefore(ctx context.Context, t time.Time) (int, error)
}
