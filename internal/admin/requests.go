package admin

import (
	"context"
	"encoding/csv"
	"errors"
	"io"
	"net/netip"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"sesame/internal/account"
	"sesame/internal/auth"
	"sesame/internal/i18n"
	"sesame/internal/mail"
	"sesame/internal/store"
)

// "Ask my administrator" (SPEC 3). A person who has neither the
// old device nor a recovery code, or who forgot the security answer, sends
// a request from the reset page or the wizard's question step; the
// administrators of their account get an e-mail and find it in the
// console's "requests" list, in their scope like accounts; acting on the
// account (ResetTOTP, ResetQuestion) closes it.

// Audit actions of help requests.
const (
	ActionHelpRequest = "help_request"        // a request was made (or refused)
	ActionHelpClose   = "help_request_closed" // an administrator's action closed requests
)

// MaxHelpMessage bounds the free-text message of a request, in characters.
const MaxHelpMessage = 300

// HelpLimit throttles requests: every request counts, sent or not.
type HelpLimit struct {
	Window        time.Duration // at most 24 hours (counters older than that are deleted)
	PerAddress    int           // requests from one client address (IPv6: its /64) in Window
	PerIdentifier int           // requests for one identifier, across account types, in Window
}

// DefaultHelpLimit: 5 requests an hour from an address, 3 for an identifier.
func DefaultHelpLimit() HelpLimit {
	return HelpLimit{Window: time.Hour, PerAddress: 5, PerIdentifier: 3}
}

// HelpRequest is what the person sends.
type HelpRequest struct {
	Type       account.Type
	Identifier string // as typed
	Kind       string // store.HelpTOTP or store.HelpQuestion
	Message    string // optional
	Addr       string
}

// CleanHelpMessage returns the message as it is stored: valid UTF-8,
// line breaks kept (as \n), other control characters dropped, trimmed.
// Errors: *InvalidError (admin.error.message_too_long) past MaxHelpMessage.
func CleanHelpMessage(s string) (string, error) {
	s = strings.ToValidUTF8(strings.ReplaceAll(s, "\r\n", "\n"), "")
	s = strings.Map(func(r rune) rune {
		if r == '\n' {
			return r
		}
		if isControl(r) || r == '\u200e' || r == '\u200f' || (r >= '\u202a' && r <= '\u202e') || (r >= '\u2066' && r <= '\u2069') {
			return -1 // bidi overrides could make the console show another text
		}
		return r
	}, s)
	s = strings.TrimSpace(s)
	if utf8.RuneCountInString(s) > MaxHelpMessage {
		return "", &InvalidError{Key: "admin.error.message_too_long"}
	}
	return s, nil
}

// RequestHelp records a request and e-mails the administrators of the
// account: its office's administrators for a Tiers account, support staff
// for Client and Group accounts or an office without another active
// administrator. It returns nil whether or not the account exists, is
// throttled or a request is sent, after the same work: both counters are
// written, the account looked up, an e-mail rendered and one transaction
// written (the audit line; the request and the e-mails too when sent).
// Errors: *InvalidError for input that is wrong whatever the account
// (identifier not an e-mail address, unknown type or kind, message too
// long); store errors.
func (s *Service) RequestHelp(ctx context.Context, lim HelpLimit, r HelpRequest) error {
	id, err := account.NormalizeIdentifier(r.Identifier)
	if err != nil {
		return &InvalidError{Key: "admin.error.identifier"}
	}
	if _, ok := account.ParseType(string(r.Type)); !ok {
		return &InvalidError{Key: "admin.error.type"}
	}
	if r.Kind != store.HelpTOTP && r.Kind != store.HelpQuestion {
		return &InvalidError{Key: "admin.error.request_kind"}
	}
	msg, err := CleanHelpMessage(r.Message)
	if err != nil {
		return err
	}
	now := s.now()
	fromAddr, err := s.Store.AddAddressFailure(ctx, "help/addr/"+auth.AddressKey(r.Addr), now, lim.Window)
	if err != nil {
		return err
	}
	forID, err := s.Store.AddAddressFailure(ctx, "help/id/"+id, now, lim.Window)
	if err != nil {
		return err
	}
	a, err := s.Store.FindAccount(ctx, r.Type, id)
	why := ""
	switch {
	case errors.Is(err, store.ErrNotFound):
		why = "unknown account"
		a = account.Account{Identifier: id}
	case err != nil:
		return err
	case a.Disabled:
		why = "disabled account"
	case fromAddr > lim.PerAddress:
		why = "too many requests from this address"
	case forID > lim.PerIdentifier:
		why = "too many requests for this identifier"
	}
	// The recipients are looked up in every case (for an unknown account,
	// support staff), so the work does not tell whether it exists.
	admins, err := s.recipients(ctx, a)
	if err != nil {
		return err
	}
	if why == "" && len(admins) == 0 {
		why = "nobody to send it to"
	}
	if why != "" {
		admins = nil
	}
	// One e-mail is rendered in every case, so the work is the same.
	sample := account.Account{Name: "—", Identifier: "nobody@invalid.example", Lang: i18n.FR}
	hr := store.HelpRequest{AccountID: a.ID, Kind: r.Kind, Message: msg, Addr: boundText(r.Addr, 64), Created: now}
	render := func(to account.Account, requestID int64) (mail.Message, error) {
		lang, ok := i18n.Parse(string(to.Lang))
		if !ok {
			lang = i18n.FR
		}
		return s.Mail.Render(lang, mail.Address{Name: to.Name, Email: to.Identifier}, mail.HelpRequested{Name: to.Name,
			Requester: id, RequesterName: a.Name, Kind: r.Kind, Message: msg, URL: s.requestURL(requestID), IP: mailIP(r.Addr), When: now})
	}
	if s.Mail != nil {
		if _, err := render(sample, 0); err != nil && why == "" {
			return err
		}
	}
	ev := store.AuditEvent{Time: now, SubjectID: a.ID, Subject: id, OfficeID: a.OfficeID, Action: ActionHelpRequest, Addr: boundText(r.Addr, 64)}
	err = s.Store.InTx(ctx, func(tx store.Store) error {
		if why != "" {
			ev.Outcome, ev.Detail = auth.OutcomeDenied, "no request: "+why
			return tx.AppendAudit(ctx, ev)
		}
		if err := tx.CreateHelpRequest(ctx, &hr); err != nil {
			return err
		}
		for _, to := range admins {
			if s.Mail == nil {
				break
			}
			m, err := render(to, hr.ID)
			if err != nil {
				return err
			}
			if _, err := tx.EnqueueMail(ctx, m, now); err != nil {
				return err
			}
		}
		ev.Outcome = auth.OutcomeSuccess
		ev.Detail = "request " + strconv.FormatInt(hr.ID, 10) + " (" + r.Kind + ") e-mailed to " + strconv.Itoa(len(admins)) + " administrator(s)"
		return tx.AppendAudit(ctx, ev)
	})
	if err != nil {
		return err
	}
	if why == "" {
		s.mailSent()
	}
	return nil
}

// recipients are who a request about a goes to (see RequestHelp), never a
// itself.
func (s *Service) recipients(ctx context.Context, a account.Account) ([]account.Account, error) {
	var list []account.Account
	if a.Type == account.Tiers && a.OfficeID != 0 {
		admins, err := s.Store.ListAdministrators(ctx, a.OfficeID)
		if err != nil {
			return nil, err
		}
		list = others(admins, a.ID)
	}
	if len(list) == 0 {
		support, err := s.Store.ListAdministrators(ctx, 0)
		if err != nil {
			return nil, err
		}
		list = others(support, a.ID)
	}
	return list, nil
}

func others(list []account.Account, id int64) []account.Account {
	out := list[:0:0]
	for _, a := range list {
		if a.ID != id {
			out = append(out, a)
		}
	}
	return out
}

// requestURL is the console's page of request id (its list when id is 0),
// or "" when the service has no ConsoleURL.
func (s *Service) requestURL(id int64) string {
	if s.ConsoleURL == "" {
		return ""
	}
	u := strings.TrimSuffix(s.ConsoleURL, "/") + "/admin/requests"
	if id != 0 {
		u += "/" + strconv.FormatInt(id, 10)
	}
	return u
}

// mailIP is the client address for an e-mail, "" when it is not an IP
// address (the renderer refuses anything else).
func mailIP(addr string) string {
	if _, err := netip.ParseAddr(addr); err != nil {
		return ""
	}
	return addr
}

// RequestQuery is a page of the console's requests list.
type RequestQuery struct {
	All  bool // closed ones too; default: open only
	Page int  // 1-based; 0 means 1
}

// RequestResults is one page of requests.
type RequestResults struct {
	Requests []store.HelpRequestSummary
	Total    int
	Page     int
	Pages    int
}

// Requests returns one page of the help requests about accounts in the
// actor's scope, newest first. Errors: ErrForbidden, ErrInvalid.
func (s *Service) Requests(ctx context.Context, actor Actor, q RequestQuery) (RequestResults, error) {
	if err := s.check(ctx, actor, "help_request_list", 0); err != nil {
		return RequestResults{}, err
	}
	if q.Page == 0 {
		q.Page = 1
	}
	if q.Page < 1 || q.Page > MaxPage {
		return RequestResults{}, &InvalidError{Key: "admin.error.page"}
	}
	f := store.HelpRequestFilter{Open: !q.All, Offset: (q.Page - 1) * PageSize, Limit: PageSize}
	if actor.level() == office {
		f.OfficeID, f.HideStaff = actor.Account.OfficeID, true
	}
	list, total, err := s.Store.ListHelpRequests(ctx, f)
	if err != nil {
		return RequestResults{}, err
	}
	return RequestResults{Requests: list, Total: total, Page: q.Page, Pages: max(1, (total+PageSize-1)/PageSize)}, nil
}

// Request returns request id if its account is in the actor's scope.
// Errors: ErrForbidden, ErrNotFound (missing or out of scope: the same).
func (s *Service) Request(ctx context.Context, actor Actor, id int64) (store.HelpRequest, error) {
	if err := s.check(ctx, actor, "help_request_view", 0); err != nil {
		return store.HelpRequest{}, err
	}
	r, err := s.Store.GetHelpRequest(ctx, id)
	if err == nil {
		var a account.Account
		if a, err = s.Store.GetAccount(ctx, r.AccountID); err == nil && !actor.inScope(a) {
			err = store.ErrNotFound
		}
	}
	if errors.Is(err, store.ErrNotFound) {
		s.deny(ctx, actor, "help_request_view", 0, "no such request in scope")
		return store.HelpRequest{}, ErrNotFound
	}
	return r, err
}

// Fitting is the action that answers a request of kind.
func Fitting(kind string) Action {
	if kind == store.HelpQuestion {
		return ResetQuestion
	}
	return ResetTOTP
}

// RequestsCSVHeader is the first row of ExportRequestsCSV.
var RequestsCSVHeader = []string{"id", "created", "account_id", "identifier", "name", "office", "kind", "message", "addr", "closed", "closed_by", "closed_action"}

// ExportRequestsCSV writes the requests the actor may see (q.All: closed
// ones too) as CSV, newest first, at most MaxExport rows; the message and
// every other text cell is defused against formula injection (csvCell).
func (s *Service) ExportRequestsCSV(ctx context.Context, actor Actor, q RequestQuery, w io.Writer) error {
	if err := s.check(ctx, actor, "help_request_list", 0); err != nil {
		return err
	}
	f := store.HelpRequestFilter{Open: !q.All, Limit: 200}
	if actor.level() == office {
		f.OfficeID, f.HideStaff = actor.Account.OfficeID, true
	}
	cw := csv.NewWriter(w)
	if err := cw.Write(RequestsCSVHeader); err != nil {
		return err
	}
	for f.Offset < MaxExport {
		list, _, err := s.Store.ListHelpRequests(ctx, f)
		if err != nil {
			return err
		}
		for _, r := range list {
			closed := ""
			if !r.Closed.IsZero() {
				closed = r.Closed.UTC().Format(time.RFC3339)
			}
			if err := cw.Write([]string{strconv.FormatInt(r.ID, 10), r.Created.UTC().Format(time.RFC3339), strconv.FormatInt(r.AccountID, 10),
				csvCell(r.Account.Identifier), csvCell(r.Account.Name), csvCell(r.OfficeName), r.Kind, csvCell(r.Message), csvCell(r.Addr),
				closed, csvCell(r.ClosedBy), csvCell(r.ClosedAction)}); err != nil {
				return err
			}
		}
		if len(list) < f.Limit {
			break
		}
		f.Offset += f.Limit
	}
	cw.Flush()
	return cw.Error()
}
