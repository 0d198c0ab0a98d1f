package store

import (
	"context"
	"time"

	"sesame/internal/account"
)

// HelpRequest is an "ask my administrator" request (SPEC 3): a
// person without the old device and without a recovery code (Kind
// HelpTOTP), or who forgot the security answer (HelpQuestion), asks the
// administrators of their account to reset it.
type HelpRequest struct {
	ID        int64
	AccountID int64
	Kind      string // HelpTOTP or HelpQuestion
	Message   string // what the person wrote, bounded and cleaned; may be empty
	Addr      string // the client address it came from
	Created   time.Time
	// Closed is when an administrator acted on the account (zero: open);
	// ClosedBy who, ClosedAction what (an audit action name).
	Closed       time.Time
	ClosedBy     string
	ClosedAction string
}

// The kinds of help request.
const (
	HelpTOTP     = "totp"
	HelpQuestion = "question"
)

// HelpRequestFilter selects requests for the console, newest first.
type HelpRequestFilter struct {
	OfficeID  int64 // only accounts of this office; 0: any
	HideStaff bool  // leave out Group accounts and support staff (an office administrator's scope)
	Open      bool  // only requests not closed yet
	AccountID int64 // only this account's; 0: any
	Offset    int
	Limit     int // at most 200; 0 means 50
}

// HelpRequestSummary is one row of the console's list: the request, and
// the account's state now.
type HelpRequestSummary struct {
	HelpRequest
	Account    account.Account
	OfficeName string
	Linked     bool
}

// HelpRequests are the "ask my administrator" requests.
type HelpRequests interface {
	// CreateHelpRequest inserts r, setting r.ID; ErrNotFound when the
	// account does not exist.
	CreateHelpRequest(ctx context.Context, r *HelpRequest) error
	// GetHelpRequest returns the request, or ErrNotFound.
	GetHelpRequest(ctx context.Context, id int64) (HelpRequest, error)
	// ListHelpRequests returns one page of the requests matching f, with
	// their accounts, newest first, and the total number matching.
	ListHelpRequests(ctx context.Context, f HelpRequestFilter) ([]HelpRequestSummary, int, error)
	// CloseHelpRequests closes the account's open requests of kind at now,
	// by who with action, and returns how many it closed.
	CloseHelpRequests(ctx context.Context, accountID int64, kind string, now time.Time, by, action string) (int, error)
	// ListAdministrators returns the active (not disabled) office
	// administrators of the office, or, for office 0, the active support
	// staff, by identifier, at most 50: who an "ask my administrator"
	// request is sent to.
	ListAdministrators(ctx context.Context, officeID int64) ([]account.Account, error)
}
