package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"sesame/internal/account"
	"sesame/internal/admin"
	"sesame/internal/store"
)

// "Ask my administrator" (SPEC 3): the request form, on the
// TOTP reset page (kind totp) and the wizard's question step (kind
// question), and the console's list of requests. Whatever the account, the
// form answers the same page (helpPage with Sent): it never tells whether
// the account exists, is throttled, or who was e-mailed.

// helpForm is the request form as it is shown and refilled.
type helpForm struct {
	Kind       string
	Identifier string
	Type       account.Type
	Message    string
}

// helpPage is the standalone form and the neutral answer.
type helpPage struct {
	Base
	Help       helpForm
	Sent       bool
	FieldError map[string]string
}

// Types lists the account types the form offers.
func (p helpPage) Types() []account.Type { return account.Types }

// MaxHelpMessage is the message field's limit, for the template.
func (Base) MaxHelpMessage() int { return admin.MaxHelpMessage }

func helpKind(s string) string {
	if s == store.HelpQuestion {
		return store.HelpQuestion
	}
	return store.HelpTOTP
}

func (s *Server) handleHelpForm(w http.ResponseWriter, r *http.Request) error {
	p := helpPage{Base: s.base(w, r, "help.title"), Help: helpForm{Kind: helpKind(r.URL.Query().Get("kind"))}, FieldError: map[string]string{}}
	s.render(w, r, http.StatusOK, "help", p)
	return nil
}

// handleHelpSubmit sends the request. The answer for any well-formed
// request is the same page, byte for byte, whether the account exists or
// not; the service does the same work in both cases.
func (s *Server) handleHelpSubmit(w http.ResponseWriter, r *http.Request) error {
	f, err := s.parseForm(w, r, "identifier", "account_type", "kind", "message")
	if err != nil {
		return err
	}
	p := helpPage{Base: s.base(w, r, "help.title"), FieldError: map[string]string{},
		Help: helpForm{Kind: helpKind(f.Get("kind")), Identifier: f.Get("identifier"), Message: f.Get("message")}}
	switch id := p.Help.Identifier; {
	case strings.TrimSpace(id) == "":
		p.FieldError["identifier"] = "error.required"
	case len(id) > account.MaxIdentifier:
		p.FieldError["identifier"] = "error.too_long"
	}
	if t, ok := account.ParseType(f.Get("account_type")); ok {
		p.Help.Type = t
	} else if f.Get("account_type") == "" {
		p.FieldError["account_type"] = "error.required"
	} else {
		return badRequest(errors.New("unknown account type"))
	}
	if utf8.RuneCountInString(p.Help.Message) > admin.MaxHelpMessage {
		p.FieldError["message"] = "admin.error.message_too_long"
	}
	if len(p.FieldError) == 0 {
		err = s.adminService().RequestHelp(r.Context(), s.helpLimit(), admin.HelpRequest{Type: p.Help.Type, Identifier: p.Help.Identifier,
			Kind: p.Help.Kind, Message: p.Help.Message, Addr: s.clientAddr(r)})
		var inv *admin.InvalidError
		switch {
		case errors.As(err, &inv) && inv.Key == "admin.error.message_too_long":
			p.FieldError["message"] = inv.Key
		case errors.As(err, &inv):
			p.FieldError["identifier"] = "help.error.identifier"
		case err != nil:
			return err
		}
	}
	if len(p.FieldError) > 0 {
		s.render(w, r, http.StatusUnprocessableEntity, "help", p)
		return nil
	}
	s.metrics.outcome("help_request", "answered")
	// Nothing of what was typed goes back: the page is the same for all.
	s.render(w, r, http.StatusOK, "help", helpPage{Base: p.Base, Sent: true, Help: helpForm{Kind: p.Help.Kind}})
	return nil
}

// helpLimit is the throttle of requests.
func (s *Server) helpLimit() admin.HelpLimit { return admin.DefaultHelpLimit() }

// --- The console's list ---

type adminRequestsPage struct {
	Base
	All   bool
	Rows  []adminRequestRow
	Total int
	Page  int
	Pages int
	Prev  string
	Next  string
	CSV   string
}

type adminRequestRow struct {
	ID        int64
	Created   string
	Kind      string
	Message   string
	Account   adminRow
	Action    admin.Action // the fitting action
	ActionURL string       // its confirmation page, "" when it has nothing to do
	Closed    string
	ClosedBy  string
	Answered  string // the action that closed it, translated
}

// Found says how many requests match, in the page's language.
func (p adminRequestsPage) Found() string { return p.cat.N(p.Lang, "admin.requests.found", p.Total) }

func (s *Server) handleAdminRequests(w http.ResponseWriter, r *http.Request, c console) error {
	p := adminRequestsPage{Base: s.base(w, r, "admin.requests.title")}
	all, err := query(r, "all", 1)
	if err != nil {
		return err
	}
	p.All = all == "1"
	page, err := queryInt(r, "page")
	if err != nil {
		return err
	}
	res, err := c.svc.Requests(r.Context(), c.actor, admin.RequestQuery{All: p.All, Page: int(min(page, admin.MaxPage+1))})
	if err != nil {
		return err
	}
	now := c.svc.Now()
	for _, q := range res.Requests {
		row := adminRequestRow{ID: q.ID, Created: p.when(q.Created), Kind: q.Kind, Message: q.Message,
			Account: p.row(q.Account, q.OfficeName, q.Linked, now), Action: admin.Fitting(q.Kind), Closed: p.when(q.Closed), ClosedBy: q.ClosedBy}
		if q.ClosedAction != "" {
			row.Answered = p.T("admin.action." + q.ClosedAction)
		}
		if q.Closed.IsZero() {
			row.ActionURL = fmt.Sprintf("/admin/requests/%d", q.ID)
		}
		p.Rows = append(p.Rows, row)
	}
	p.Total, p.Page, p.Pages = res.Total, res.Page, res.Pages
	link := func(page int) string {
		v := url.Values{}
		if p.All {
			v.Set("all", "1")
		}
		v.Set("page", strconv.Itoa(page))
		return "/admin/requests?" + v.Encode()
	}
	if p.Page > 1 {
		p.Prev = link(min(p.Page-1, p.Pages))
	}
	if p.Page < p.Pages {
		p.Next = link(p.Page + 1)
	}
	p.CSV = "/admin/requests.csv"
	if p.All {
		p.CSV += "?all=1"
	}
	s.render(w, r, http.StatusOK, "admin_requests", p)
	return nil
}

// handleAdminRequest is a request's one click: to the confirmation of the
// fitting action on its account (which asks a fresh code as usual), or to
// the account page when that action has nothing to do. A request out of
// the actor's scope is 404, like an account.
func (s *Server) handleAdminRequest(w http.ResponseWriter, r *http.Request, c console) error {
	v := r.PathValue("id")
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id <= 0 || strconv.FormatInt(id, 10) != v {
		return &Error{Status: http.StatusNotFound, Key: "error.not_found", Err: fmt.Errorf("request id %q", v)}
	}
	q, err := c.svc.Request(r.Context(), c.actor, id)
	if err != nil {
		return err
	}
	view, err := c.svc.Get(r.Context(), c.actor, q.AccountID)
	if err != nil {
		return err
	}
	if act := admin.Fitting(q.Kind); q.Closed.IsZero() && view.Can(act) {
		s.redirect(w, r, fmt.Sprintf("/admin/accounts/%d/%s", q.AccountID, act))
		return nil
	}
	s.redirect(w, r, fmt.Sprintf("/admin/accounts/%d", q.AccountID))
	return nil
}

func (s *Server) handleAdminRequestsCSV(w http.ResponseWriter, r *http.Request, c console) error {
	all, err := query(r, "all", 1)
	if err != nil {
		return err
	}
	out := &lazyCSV{w: w, name: "sesame-requests-" + c.svc.Now().In(brussels).Format("20060102-1504") + ".csv"}
	err = c.svc.ExportRequestsCSV(r.Context(), c.actor, admin.RequestQuery{All: all == "1"}, out)
	if err != nil && out.started {
		s.opts.Log.Error("requests export interrupted", "err", err)
		return nil
	}
	return err
}
