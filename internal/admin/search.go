package admin

import (
	"context"
	"errors"
	"strings"
	"time"
	"unicode/utf8"

	"sesame/internal/account"
	"sesame/internal/store"
)

// PageSize is the number of accounts on a page of search results.
const PageSize = 25

// MaxPage bounds the page number a search accepts: deeper pages mean the
// query should be narrower, and OFFSET costs grow with the page.
const MaxPage = 400

// Query is a search of the console.
type Query struct {
	Text     string       // substring of the e-mail, the name or the office's name; empty: all
	OfficeID int64        // support only: one office (0: any); an office administrator always searches their own
	Type     account.Type // "": any
	Page     int          // 1-based; 0 means 1
}

// Results is one page of a search.
type Results struct {
	Accounts []store.AccountSummary
	Total    int // accounts matching, on every page
	Page     int
	Pages    int
}

// Search returns one page of the accounts in the actor's scope that match
// q, ordered by identifier. Errors: ErrForbidden, ErrInvalid.
func (s *Service) Search(ctx context.Context, actor Actor, q Query) (Results, error) {
	if err := s.check(ctx, actor, "account_search", 0); err != nil {
		return Results{}, err
	}
	text := strings.TrimSpace(q.Text)
	if !utf8.ValidString(text) || len(text) > account.MaxIdentifier || strings.ContainsFunc(text, isControl) {
		return Results{}, &InvalidError{Key: "admin.error.query"}
	}
	if q.Type != "" {
		if _, ok := account.ParseType(string(q.Type)); !ok {
			return Results{}, &InvalidError{Key: "admin.error.type"}
		}
	}
	if q.Page == 0 {
		q.Page = 1
	}
	if q.Page < 1 || q.Page > MaxPage || q.OfficeID < 0 {
		return Results{}, &InvalidError{Key: "admin.error.page"}
	}
	f := store.AccountSearch{Query: text, OfficeID: q.OfficeID, Type: q.Type, Offset: (q.Page - 1) * PageSize, Limit: PageSize}
	if actor.level() == office {
		f.OfficeID, f.HideStaff = actor.Account.OfficeID, true
	}
	list, total, err := s.Store.SearchAccounts(ctx, f)
	if err != nil {
		return Results{}, err
	}
	return Results{Accounts: list, Total: total, Page: q.Page, Pages: max(1, (total+PageSize-1)/PageSize)}, nil
}

// View is an account as the console's account page shows it.
type View struct {
	Account    account.Account
	OfficeName string
	Linked     bool      // an authenticator is linked
	LinkedAt   time.Time // when, if Linked
	Locked     bool      // locked now (Account.LockedUntil says until when)
	Self       bool      // the actor's own account: no action is offered

	resetMail bool // the service can send password-reset e-mails
}

// Can reports whether action would change something on the account, and
// is allowed to the actor: the console offers only these.
func (v View) Can(a Action) bool {
	if v.Self {
		return false
	}
	switch a {
	case ResetTOTP:
		return v.Linked
	case ResetQuestion:
		return v.Account.QuestionKey != "" || v.Account.AnswerHash != ""
	case Unlock:
		return v.Locked || v.Account.FailedAttempts > 0
	case SendPasswordReset:
		return v.resetMail && v.Account.Type != account.Group && !v.Account.Disabled
	case Disable:
		return !v.Account.Disabled
	case Enable:
		return v.Account.Disabled
	}
	return false
}

// Get returns the account id as the actor may see it. Errors: ErrForbidden,
// ErrNotFound (missing, or out of scope: the same answer).
func (s *Service) Get(ctx context.Context, actor Actor, id int64) (View, error) {
	if err := s.check(ctx, actor, ActionView, id); err != nil {
		return View{}, err
	}
	a, err := s.Store.GetAccount(ctx, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !actor.inScope(a)) {
		s.deny(ctx, actor, ActionView, id, "no such account in scope")
		return View{}, ErrNotFound
	} else if err != nil {
		return View{}, err
	}
	v := View{Account: a, Locked: a.Locked(s.now()), Self: actor.Account.ID != 0 && actor.Account.ID == a.ID,
		resetMail: s.CanSendPasswordReset()}
	if a.OfficeID != 0 {
		o, err := s.Store.GetOffice(ctx, a.OfficeID)
		if err != nil {
			return View{}, err
		}
		v.OfficeName = o.Name
	}
	au, err := s.Store.GetAuthenticator(ctx, id)
	switch {
	case err == nil:
		v.Linked, v.LinkedAt = true, au.Linked
	case !errors.Is(err, store.ErrNotFound):
		return View{}, err
	}
	return v, nil
}

// Offices returns the offices the actor may search and create accounts
// in: every office for support, their own for an office administrator.
func (s *Service) Offices(ctx context.Context, actor Actor) ([]account.Office, error) {
	switch actor.level() {
	case all:
		return s.Store.ListOffices(ctx)
	case office:
		o, err := s.Store.GetOffice(ctx, actor.Account.OfficeID)
		if err != nil {
			return nil, err
		}
		return []account.Office{o}, nil
	}
	return nil, ErrForbidden
}
