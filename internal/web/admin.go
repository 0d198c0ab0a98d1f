package web

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"sesame/internal/account"
	"sesame/internal/admin"
	"sesame/internal/auth"
	"sesame/internal/i18n"
	"sesame/internal/store"
)

// The administration console (SPEC 3): office administrators and support
// staff search accounts, look at one, act on it after a confirmation, create
// accounts and read the audit log. Package admin decides what each actor may
// see and do; this file only turns its answers into pages:
//
//	not logged in                  → 303 to /login
//	logged in, not an administrator → 403
//	an account out of scope         → 404, exactly as a missing one
//	one's own account               → shown, but every action is 403
//
// A sensitive action (admin.Action.Sensitive) asks for the administrator's
// current TOTP code when the session's last verified one is older than
// admin.FreshFor.

// adminService is the administration service on the portal's parts.
func (s *Server) adminService() *admin.Service {
	a := s.opts.Auth
	svc := &admin.Service{Store: a.Store, Hasher: a.Hasher, Mail: a.Mail, MailSent: a.MailSent, Now: a.Now, Log: s.opts.Log, Auth: a}
	if link, err := s.resetLink(); err == nil && a.Mail != nil {
		svc.Passwords, svc.ResetLink = s.passwords(), link
		svc.ConsoleURL = s.opts.Passwords.PublicURL // checked by resetLink
	}
	return svc
}

// IsAdmin reports whether the logged-in account may use the console (for
// the menu).
func (b Base) IsAdmin() bool { return b.Account != nil && admin.IsAdmin(*b.Account) }

// console is a request of the console: the service, the actor and its session.
type console struct {
	svc     *admin.Service
	actor   admin.Actor
	session store.Session
	support bool
}

// errToLogin ends a console request of a browser without a session: it was
// redirected to the login page.
var errToLogin = errors.New("web: not logged in")

// console checks that the request comes from a fully authenticated
// (password and code) administrator.
func (s *Server) console(w http.ResponseWriter, r *http.Request) (console, error) {
	ss, a, err := s.session(r)
	if errors.Is(err, auth.ErrNoSession) {
		s.redirect(w, r, "/login")
		return console{}, errToLogin
	} else if err != nil {
		return console{}, err
	}
	if !slices.Contains(ss.AMR, "otp") || !admin.IsAdmin(a) {
		return console{}, &Error{Status: http.StatusForbidden, Key: "admin.error.forbidden", Err: admin.ErrForbidden}
	}
	return console{svc: s.adminService(), actor: admin.Actor{Account: a, Addr: s.clientAddr(r)}, session: ss, support: admin.IsSupport(a)}, nil
}

// handleConsole wraps a console handler: the actor check first, then the
// admin package's errors turned into pages.
func (s *Server) handleConsole(h func(w http.ResponseWriter, r *http.Request, c console) error) http.Handler {
	return s.handle(func(w http.ResponseWriter, r *http.Request) error {
		c, err := s.console(w, r)
		if errors.Is(err, errToLogin) {
			return nil
		} else if err != nil {
			return err
		}
		return adminError(h(w, r, c))
	})
}

// adminError maps the admin package's outcomes to statuses and messages.
func adminError(err error) error {
	var inv *admin.InvalidError
	switch {
	case err == nil:
		return nil
	case errors.Is(err, admin.ErrNotFound):
		return &Error{Status: http.StatusNotFound, Key: "error.not_found", Err: err}
	case errors.Is(err, admin.ErrForbidden):
		return &Error{Status: http.StatusForbidden, Key: "admin.error.forbidden", Err: err}
	case errors.Is(err, admin.ErrSelf):
		return &Error{Status: http.StatusForbidden, Key: "admin.error.self", Err: err}
	case errors.Is(err, admin.ErrUnchanged):
		return &Error{Status: http.StatusConflict, Key: "admin.error.unchanged", Err: err}
	case errors.As(err, &inv):
		return &Error{Status: http.StatusBadRequest, Key: inv.Key, Err: err}
	}
	return err
}

// accountID reads the {id} of a console URL. Anything but a positive
// decimal id is "not found", like an id out of scope.
func accountID(r *http.Request) (int64, error) {
	v := r.PathValue("id")
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id <= 0 || len(v) > 19 || strconv.FormatInt(id, 10) != v {
		return 0, &Error{Status: http.StatusNotFound, Key: "error.not_found", Err: fmt.Errorf("account id %q", v)}
	}
	return id, nil
}

// query reads one query parameter, bounded and clean UTF-8 without NUL
// (as parseForm's fields: a page may show it again); duplicates are refused.
func query(r *http.Request, name string, max int) (string, error) {
	vs := r.URL.Query()[name]
	switch {
	case len(vs) == 0:
		return "", nil
	case len(vs) > 1:
		return "", badRequest(fmt.Errorf("parameter %s given %d times", name, len(vs)))
	case len(vs[0]) > max:
		return "", badRequest(fmt.Errorf("parameter %s too long", name))
	case !utf8.ValidString(vs[0]) || strings.ContainsRune(vs[0], 0):
		return "", badRequest(fmt.Errorf("parameter %s is not clean UTF-8", name))
	}
	return vs[0], nil
}

// queryInt reads an optional non-negative integer parameter.
func queryInt(r *http.Request, name string) (int64, error) {
	v, err := query(r, name, 19)
	if err != nil || v == "" {
		return 0, err
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, badRequest(fmt.Errorf("parameter %s is not a number", name))
	}
	return n, nil
}

// brussels is the time zone the console shows times in, as the e-mails do.
var brussels = func() *time.Location {
	loc, err := time.LoadLocation("Europe/Brussels")
	if err != nil {
		return time.UTC
	}
	return loc
}()

var dateLayouts = map[i18n.Lang]string{i18n.FR: "02/01/2006 15:04", i18n.NL: "02/01/2006 15:04", i18n.EN: "2 Jan 2006 15:04"}

// when formats a time for the page, "" when zero.
func (b Base) when(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(brussels).Format(dateLayouts[b.Lang])
}

// --- Search ---

type adminSearchPage struct {
	Base
	Query   admin.Query
	Support bool
	Offices []account.Office
	Rows    []adminRow
	Total   int
	Page    int
	Pages   int
	Prev    string // URL of the previous page, if any
	Next    string
	Error   string
}

// adminRow is one account in a list.
type adminRow struct {
	ID                     int64
	Identifier, Name       string
	Type                   account.Type
	Office                 string
	Linked, Question       bool
	Disabled, Locked       bool
	LastLogin, LockedUntil string
	State                  string // active, disabled or locked, translated
	FailedAttempts         int
	Role                   account.Role
}

// Types lists the account types the type filter offers.
func (p adminSearchPage) Types() []account.Type { return account.Types }

// Found says how many accounts match, in the page's language.
func (p adminSearchPage) Found() string { return p.cat.N(p.Lang, "admin.search.found", p.Total) }

func (s *Server) handleAdminHome(w http.ResponseWriter, r *http.Request, c console) error {
	s.redirect(w, r, "/admin/accounts")
	return nil
}

func (s *Server) handleAdminSearch(w http.ResponseWriter, r *http.Request, c console) error {
	p := adminSearchPage{Base: s.base(w, r, "admin.search.title"), Support: c.support}
	var err error
	if p.Query.Text, err = query(r, "q", 4*account.MaxIdentifier); err != nil {
		return err
	}
	typ, err := query(r, "type", 16)
	if err != nil {
		return err
	}
	p.Query.Type = account.Type(typ)
	if p.Query.OfficeID, err = queryInt(r, "office"); err != nil {
		return err
	}
	page, err := queryInt(r, "page")
	if err != nil {
		return err
	}
	p.Query.Page = int(min(page, admin.MaxPage+1))
	if p.Offices, err = c.svc.Offices(r.Context(), c.actor); err != nil {
		return err
	}
	res, err := c.svc.Search(r.Context(), c.actor, p.Query)
	var inv *admin.InvalidError
	if errors.As(err, &inv) {
		p.Error = p.T(inv.Key)
		s.render(w, r, http.StatusBadRequest, "admin_search", p)
		return nil
	} else if err != nil {
		return err
	}
	now := c.svc.Now()
	for _, a := range res.Accounts {
		p.Rows = append(p.Rows, p.row(a.Account, a.OfficeName, a.Linked, now))
	}
	p.Total, p.Page, p.Pages = res.Total, res.Page, res.Pages
	link := func(page int) string {
		v := url.Values{}
		if p.Query.Text != "" {
			v.Set("q", p.Query.Text)
		}
		if p.Query.Type != "" {
			v.Set("type", string(p.Query.Type))
		}
		if p.Query.OfficeID != 0 {
			v.Set("office", strconv.FormatInt(p.Query.OfficeID, 10))
		}
		v.Set("page", strconv.Itoa(page))
		return "/admin/accounts?" + v.Encode()
	}
	if p.Page > 1 {
		p.Prev = link(min(p.Page-1, p.Pages))
	}
	if p.Page < p.Pages {
		p.Next = link(p.Page + 1)
	}
	s.render(w, r, http.StatusOK, "admin_search", p)
	return nil
}

func (b Base) row(a account.Account, office string, linked bool, now time.Time) adminRow {
	row := adminRow{ID: a.ID, Identifier: a.Identifier, Name: a.Name, Type: a.Type, Office: office, Linked: linked,
		Question: a.HasQuestion(), Disabled: a.Disabled, Locked: a.Locked(now), LastLogin: b.when(a.LastLogin),
		FailedAttempts: a.FailedAttempts, Role: a.Role}
	if row.Locked {
		row.LockedUntil = b.when(a.LockedUntil)
		if !a.LockedUntil.Before(account.Forever) {
			row.LockedUntil = b.T("admin.state.locked_forever")
		}
	}
	switch {
	case row.Disabled:
		row.State = b.T("admin.state.disabled")
	case row.Locked:
		row.State = b.T("admin.state.locked", "Until", row.LockedUntil)
	default:
		row.State = b.T("admin.state.active")
	}
	return row
}

// --- One account ---

type adminAccountPage struct {
	Base
	Row      adminRow
	Created  string
	LinkedAt string
	Self     bool
	Actions  []admin.Action // those that would change something
	Done     string         // the outcome of the action just done
	Error    string
}

// outcomes are the ?done= values the account page turns into a message.
var outcomes = map[string]bool{"created": true, "created_mail": true}

func (s *Server) handleAdminAccount(w http.ResponseWriter, r *http.Request, c console) error {
	id, err := accountID(r)
	if err != nil {
		return err
	}
	p, err := s.adminAccountPage(w, r, c, id)
	if err != nil {
		return err
	}
	done, err := query(r, "done", 32)
	if err != nil {
		return err
	}
	if _, ok := admin.ParseAction(done); ok || outcomes[done] {
		p.Done = p.T("admin.done."+done, "Identifier", p.Row.Identifier)
	}
	s.render(w, r, http.StatusOK, "admin_account", p)
	return nil
}

func (s *Server) adminAccountPage(w http.ResponseWriter, r *http.Request, c console, id int64) (adminAccountPage, error) {
	v, err := c.svc.Get(r.Context(), c.actor, id)
	if err != nil {
		return adminAccountPage{}, err
	}
	p := adminAccountPage{Base: s.base(w, r, "admin.account.title"), Self: v.Self}
	p.Row = p.row(v.Account, v.OfficeName, v.Linked, c.svc.Now())
	p.Created, p.LinkedAt = p.when(v.Account.Created), p.when(v.LinkedAt)
	for _, a := range admin.Actions {
		if v.Can(a) {
			p.Actions = append(p.Actions, a)
		}
	}
	return p, nil
}

// --- Confirm and act ---

type adminConfirmPage struct {
	Base
	Row        adminRow
	Action     admin.Action
	AskCode    bool
	Error      string
	FieldError map[string]string
}

// action reads the {action} of the URL: an unknown one is "not found".
func action(r *http.Request) (admin.Action, error) {
	a, ok := admin.ParseAction(r.PathValue("action"))
	if !ok {
		return "", &Error{Status: http.StatusNotFound, Key: "error.not_found", Err: fmt.Errorf("action %q", r.PathValue("action"))}
	}
	return a, nil
}

// confirmPage checks the account and the action, and prepares the page.
func (s *Server) confirmPage(w http.ResponseWriter, r *http.Request, c console) (adminConfirmPage, error) {
	id, err := accountID(r)
	if err != nil {
		return adminConfirmPage{}, err
	}
	act, err := action(r)
	if err != nil {
		return adminConfirmPage{}, err
	}
	v, err := c.svc.Get(r.Context(), c.actor, id)
	if err != nil {
		return adminConfirmPage{}, err
	}
	switch {
	case v.Self:
		return adminConfirmPage{}, admin.ErrSelf
	case !v.Can(act):
		return adminConfirmPage{}, admin.ErrUnchanged
	}
	p := adminConfirmPage{Base: s.base(w, r, "admin.confirm.title"), Action: act, FieldError: map[string]string{},
		AskCode: act.Sensitive() && !c.svc.Fresh(c.session)}
	p.Row = p.row(v.Account, v.OfficeName, v.Linked, c.svc.Now())
	return p, nil
}

func (s *Server) handleAdminConfirm(w http.ResponseWriter, r *http.Request, c console) error {
	p, err := s.confirmPage(w, r, c)
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "admin_confirm", p)
	return nil
}

func (s *Server) handleAdminAct(w http.ResponseWriter, r *http.Request, c console) error {
	f, err := s.parseForm(w, r, "totp")
	if err != nil {
		return err
	}
	p, err := s.confirmPage(w, r, c)
	if err != nil {
		return err
	}
	if p.AskCode {
		code := f.Get("totp")
		s.checkCode(p.FieldError, code)
		if len(p.FieldError) > 0 {
			s.render(w, r, http.StatusUnprocessableEntity, "admin_confirm", p)
			return nil
		}
		err := c.svc.ConfirmCode(r.Context(), c.actor, auth.HashToken(cookie(r, sessionCookie)), code)
		switch {
		case errors.Is(err, admin.ErrWrongCode):
			s.metrics.outcome("admin_code", "failure")
			p.FieldError["totp"] = "admin.error.code_wrong"
			s.render(w, r, http.StatusUnprocessableEntity, "admin_confirm", p)
			return nil
		case errors.Is(err, auth.ErrAddressThrottled):
			p.Error = s.throttled(w, p.Base)
			s.render(w, r, http.StatusTooManyRequests, "admin_confirm", p)
			return nil
		case err != nil:
			return err
		}
	}
	if _, err := c.svc.Act(r.Context(), c.actor, p.Action, p.Row.ID); err != nil {
		var inv *admin.InvalidError
		if errors.As(err, &inv) {
			p.Error, p.AskCode = p.T(inv.Key), false
			s.render(w, r, http.StatusConflict, "admin_confirm", p)
			return nil
		}
		return err
	}
	s.metrics.outcome("admin_"+string(p.Action), "success")
	s.redirect(w, r, fmt.Sprintf("/admin/accounts/%d?done=%s", p.Row.ID, p.Action))
	return nil
}

// --- Create ---

type adminNewPage struct {
	Base
	Support    bool
	Offices    []account.Office
	Form       adminNewForm
	Error      string
	FieldError map[string]string
	ResetMail  bool // an empty password sends a reset e-mail
}

type adminNewForm struct {
	Type       account.Type
	Identifier string
	Name       string
	OfficeID   int64
	Role       account.Role
	Lang       i18n.Lang
}

// Types lists the account types the form offers the actor.
func (p adminNewPage) Types() []account.Type {
	if p.Support {
		return account.Types
	}
	return []account.Type{account.Tiers}
}

// Roles lists the roles the form offers the actor.
func (p adminNewPage) Roles() []account.Role {
	if p.Support {
		return []account.Role{account.RoleUser, account.RoleOfficeAdmin, account.RoleSupport}
	}
	return []account.Role{account.RoleUser}
}

func (s *Server) adminNewPage(w http.ResponseWriter, r *http.Request, c console) (adminNewPage, error) {
	p := adminNewPage{Base: s.base(w, r, "admin.new.title"), Support: c.support, FieldError: map[string]string{},
		ResetMail: c.svc.CanSendPasswordReset()}
	p.Form.Lang, p.Form.Type = p.Lang, account.Tiers
	var err error
	p.Offices, err = c.svc.Offices(r.Context(), c.actor)
	return p, err
}

func (s *Server) handleAdminNewForm(w http.ResponseWriter, r *http.Request, c console) error {
	p, err := s.adminNewPage(w, r, c)
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "admin_new", p)
	return nil
}

// newFieldOf is the form field an InvalidError key of CreateAccount is about.
func newFieldOf(key string) string {
	if strings.HasPrefix(key, "password.") {
		return "password"
	}
	switch key {
	case "admin.error.type":
		return "account_type"
	case "admin.error.office":
		return "office"
	case "admin.error.role":
		return "role"
	case "admin.error.lang":
		return "lang"
	case "admin.error.name":
		return "name"
	}
	return "identifier"
}

func (s *Server) handleAdminNewSubmit(w http.ResponseWriter, r *http.Request, c console) error {
	f, err := s.parseForm(w, r, "account_type", "identifier", "name", "office", "role", "lang", "password")
	if err != nil {
		return err
	}
	p, err := s.adminNewPage(w, r, c)
	if err != nil {
		return err
	}
	p.Form = adminNewForm{Type: account.Type(f.Get("account_type")), Identifier: f.Get("identifier"), Name: f.Get("name"),
		Role: account.Role(f.Get("role")), Lang: i18n.Lang(f.Get("lang"))}
	if v := f.Get("office"); v != "" {
		if p.Form.OfficeID, err = strconv.ParseInt(v, 10, 64); err != nil || p.Form.OfficeID < 0 {
			p.FieldError["office"] = "admin.error.office"
		}
	}
	for field, v := range map[string]string{"identifier": p.Form.Identifier, "name": p.Form.Name} {
		if strings.TrimSpace(v) == "" {
			p.FieldError[field] = "error.required"
		}
	}
	if len(p.FieldError) > 0 {
		s.render(w, r, http.StatusUnprocessableEntity, "admin_new", p)
		return nil
	}
	pw := f.Get("password")
	a, err := c.svc.CreateAccount(r.Context(), c.actor, admin.NewAccount{Type: p.Form.Type, Identifier: p.Form.Identifier,
		Name: p.Form.Name, OfficeID: p.Form.OfficeID, Role: p.Form.Role, Lang: p.Form.Lang, Password: pw})
	var inv *admin.InvalidError
	switch {
	case errors.As(err, &inv):
		p.FieldError[newFieldOf(inv.Key)] = inv.Key
		s.render(w, r, http.StatusUnprocessableEntity, "admin_new", p)
		return nil
	case errors.Is(err, admin.ErrExists):
		p.FieldError["identifier"] = "admin.error.exists"
		s.render(w, r, http.StatusConflict, "admin_new", p)
		return nil
	case err != nil:
		return err
	}
	s.metrics.outcome("admin_account_create", "success")
	done := "created"
	// Without an initial password the person sets theirs from a reset
	// link (not staff: their passwords are the directory's).
	if pw == "" && a.Type != account.Group && c.svc.CanSendPasswordReset() {
		if _, err := c.svc.Act(r.Context(), c.actor, admin.SendPasswordReset, a.ID); err != nil {
			s.opts.Log.Error("reset e-mail for a new account", "account", a.ID, "err", err)
		} else {
			done = "created_mail"
		}
	}
	s.redirect(w, r, fmt.Sprintf("/admin/accounts/%d?done=%s", a.ID, done))
	return nil
}

// --- Audit ---

type adminAuditPage struct {
	Base
	// Filtered is the account filtered on, if any. (Named Account, it hid
	// Base.Account from the layout, whose menu then showed no log-out, or
	// the filtered account as the one logged in.)
	Filtered *adminRow
	From, To string // as typed, YYYY-MM-DD
	Events   []adminEvent
	Older    string // URL of the next (older) page
	CSV      string // URL of the export of the same filter
	Error    string
}

type adminEvent struct {
	Time, Actor, Subject, Outcome, Addr string
	Code                                string // the action as stored (and in the CSV)
	Action, Detail                      string // translated
	SubjectID                           int64
}

// auditPageSize is the number of events on a page of the audit log.
const auditPageSize = 50

// auditFilter reads the audit page's filter: account (an id), from and to
// (days, in Brussels time, both included) and before (paging).
func auditFilter(r *http.Request) (f admin.AuditFilter, from, to string, err error) {
	if f.AccountID, err = queryInt(r, "account"); err != nil {
		return f, "", "", err
	}
	if f.BeforeID, err = queryInt(r, "before"); err != nil {
		return f, "", "", err
	}
	for _, d := range []struct {
		name string
		into *time.Time
		next bool
		raw  *string
	}{{"from", &f.From, false, &from}, {"to", &f.To, true, &to}} {
		v, err := query(r, d.name, 10)
		if err != nil {
			return f, "", "", err
		}
		*d.raw = v
		if v == "" {
			continue
		}
		day, err := time.ParseInLocation(time.DateOnly, v, brussels)
		if err != nil || day.Year() < 2000 || day.Year() > 9000 {
			return f, from, to, &admin.InvalidError{Key: "admin.error.date"}
		}
		if d.next {
			day = day.AddDate(0, 0, 1) // the filter's end is exclusive
		}
		*d.into = day
	}
	return f, from, to, nil
}

func (s *Server) handleAdminAudit(w http.ResponseWriter, r *http.Request, c console) error {
	p := adminAuditPage{Base: s.base(w, r, "admin.audit.title")}
	f, from, to, err := auditFilter(r)
	p.From, p.To = from, to
	var inv *admin.InvalidError
	if errors.As(err, &inv) {
		p.Error = p.T(inv.Key)
		s.render(w, r, http.StatusBadRequest, "admin_audit", p)
		return nil
	} else if err != nil {
		return err
	}
	if f.AccountID != 0 {
		v, err := c.svc.Get(r.Context(), c.actor, f.AccountID)
		if err != nil {
			return err
		}
		row := p.row(v.Account, v.OfficeName, v.Linked, c.svc.Now())
		p.Filtered = &row
	}
	f.Limit = auditPageSize
	events, err := c.svc.Audit(r.Context(), c.actor, f)
	if errors.As(err, &inv) {
		p.Error = p.T(inv.Key)
		s.render(w, r, http.StatusBadRequest, "admin_audit", p)
		return nil
	} else if err != nil {
		return err
	}
	for _, e := range events {
		p.Events = append(p.Events, adminEvent{Time: p.when(e.Time), Actor: e.Actor, Subject: e.Subject, SubjectID: e.SubjectID,
			Code: e.Action, Action: p.auditAction(e.Action), Outcome: e.Outcome, Addr: e.Addr, Detail: p.auditDetail(e.Detail)})
	}
	v := url.Values{}
	if f.AccountID != 0 {
		v.Set("account", strconv.FormatInt(f.AccountID, 10))
	}
	if from != "" {
		v.Set("from", from)
	}
	if to != "" {
		v.Set("to", to)
	}
	p.CSV = "/admin/audit.csv"
	if len(v) > 0 {
		p.CSV += "?" + v.Encode()
	}
	if len(events) == auditPageSize {
		v.Set("before", strconv.FormatInt(events[len(events)-1].ID, 10))
		p.Older = "/admin/audit?" + v.Encode()
	}
	s.render(w, r, http.StatusOK, "admin_audit", p)
	return nil
}

// lazyCSV sets the download's headers on the first write, so that an error
// found before any row (a bad filter, an account out of scope) still gets
// an error page.
type lazyCSV struct {
	w       http.ResponseWriter
	name    string
	started bool
}

func (l *lazyCSV) Write(b []byte) (int, error) {
	if !l.started {
		l.started = true
		h := l.w.Header()
		h.Set("Content-Type", "text/csv; charset=utf-8")
		h.Set("Content-Disposition", `attachment; filename="`+l.name+`"`)
		h.Set("Cache-Control", "no-store")
		l.w.WriteHeader(http.StatusOK)
	}
	return l.w.Write(b)
}

var _ io.Writer = (*lazyCSV)(nil)

func (s *Server) handleAdminAuditCSV(w http.ResponseWriter, r *http.Request, c console) error {
	f, _, _, err := auditFilter(r)
	if err != nil {
		return err
	}
	out := &lazyCSV{w: w, name: "sesame-audit-" + c.svc.Now().In(brussels).Format("20060102-1504") + ".csv"}
	err = c.svc.ExportAuditCSV(r.Context(), c.actor, f, out)
	if err != nil && out.started {
		// Half a file is already sent: the status cannot change any more.
		s.opts.Log.Error("audit export interrupted", "err", err)
		return nil
	}
	return err
}
