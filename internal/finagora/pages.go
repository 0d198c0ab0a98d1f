package finagora

import (
	"net/http"
	"strings"

	"sesame/internal/i18n"
	"sesame/internal/simulation"
)

// basePage is what the layout needs: the language, the page title and the
// language switch. T translates a key for the templates ({{.T "sim.title"}}).
type basePage struct {
	Lang  i18n.Lang
	Title string
	Langs []langLink
	// PortalURL is the Sesame portal, shown on the log-in page once known.
	PortalURL string
	// User is the person logged in; nil when anonymous.
	User *viewer
	cat  *i18n.Catalog
}

// viewer is what the header shows of the person logged in: the name, and
// the logout form with the session's CSRF token.
type viewer struct{ Name, CSRF string }

// T translates key into the page's language.
func (p basePage) T(key string) string { return p.cat.T(p.Lang, key, nil) }

type langLink struct {
	Code    string // "FR", as the switch shows it
	Lang    i18n.Lang
	Name    string // the language's own name, for assistive technology
	Href    string
	Current bool
}

var langNames = map[i18n.Lang]string{i18n.FR: "Français", i18n.NL: "Nederlands", i18n.EN: "English"}

func (s *server) base(r *http.Request, l i18n.Lang, path, titleKey string) basePage {
	p := basePage{Lang: l, Title: s.cat.T(l, titleKey, nil), cat: s.cat}
	if s.portal != nil {
		p.PortalURL = s.portal.String()
	}
	if cur := currentSession(r); cur != nil {
		p.User = &viewer{Name: cur.displayName(), CSRF: cur.CSRF}
	}
	for _, o := range i18n.Supported {
		p.Langs = append(p.Langs, langLink{
			Code: strings.ToUpper(string(o)), Lang: o, Name: langNames[o],
			Href: path + "?lang=" + string(o), Current: o == l,
		})
	}
	return p
}

type homePage struct {
	basePage
	Form    formView
	Summary []errorLink // the errors, in form order, linked to their fields
	Result  *resultView
	// LoggedOut: the portal has just sent the browser back after logout.
	LoggedOut bool
}

type errorLink struct{ Target, Message string }

// formView is the simulation form as rendered: the values as typed, and a
// translated message per field in error.
type formView struct {
	Persons      string // "1" or "2"; person 2 is shown only for "2"
	PersonsError string
	People       []personView // always two: the second is used only when Persons is "2"
	Capital      fieldView
	Drawdown     fieldView
	Duration     fieldView
	Rate         fieldView
	Tariffs      []option
	TariffError  string
}

type personView struct {
	N           int
	Legend      string
	Birth       fieldView
	Smoker      string // "yes", "no", or "" when neither is checked
	SmokerError string
}

// fieldView is one text input; templates/home.html renders it with its
// unit and its error, both linked to the input by aria-describedby.
type fieldView struct {
	ID, Type, InputMode, Placeholder, Unit, Value, Error string
	Required                                             bool
}

// DescribedBy lists the ids of the elements that describe the input.
func (f fieldView) DescribedBy() string {
	var ids []string
	if f.Unit != "" {
		ids = append(ids, f.ID+"-unit")
	}
	if f.Error != "" {
		ids = append(ids, f.ID+"-error")
	}
	return strings.Join(ids, " ")
}

type option struct {
	Value, Label string
	Selected     bool
}

// newForm is the form as the home page first shows it: one person, not a
// smoker, no drawdown, the three-year tariff.
func newForm() fields {
	return fields{
		Persons: value{text: "1"}, Smoker1: value{text: "no"}, Smoker2: value{text: "no"},
		Drawdown: value{text: "0"}, Tariff: value{text: string(simulation.ThreeYears)},
	}
}

// formView shows f back with the messages of bad in language l.
func (s *server) formView(l i18n.Lang, f fields, bad problems) (formView, []errorLink) {
	msg := func(field string) string {
		if p, ok := bad[field]; ok {
			return s.message(l, p)
		}
		return ""
	}
	months := s.cat.T(l, "sim.unit.months", nil)
	text := func(id string, v value, mode, unit string) fieldView {
		return fieldView{ID: id, Type: "text", InputMode: mode, Unit: unit, Value: shown(v), Error: msg(id), Required: true}
	}
	v := formView{
		Persons:      strings.TrimSpace(f.Persons.String()),
		PersonsError: msg(fPersons),
		Capital:      text(fCapital, f.Capital, "decimal", "€"),
		Drawdown:     text(fDrawdown, f.Drawdown, "numeric", months),
		Duration:     text(fDuration, f.Duration, "numeric", months),
		Rate:         text(fRate, f.Rate, "decimal", "%"),
		TariffError:  msg(fTariff),
	}
	v.Drawdown.Required = false
	if v.Persons != "2" {
		v.Persons = "1"
	}
	births, smokers := [2]value{f.Birth1, f.Birth2}, [2]value{f.Smoker1, f.Smoker2}
	for i := range 2 {
		n := i + 1
		birth := personField("birth_date", n)
		smoker := "" // neither radio checked
		switch yes, ok := parseYesNo(smokers[i].String()); {
		case ok && yes:
			smoker = "yes"
		case ok:
			smoker = "no"
		}
		b := shown(births[i])
		if d, ok := parseDate(b); ok {
			b = d.Format("2006-01-02") // what a date input can show back
		}
		v.People = append(v.People, personView{
			N:      n,
			Legend: s.cat.T(l, "sim.person", struct{ N int }{n}),
			Birth: fieldView{ID: birth, Type: "date", Placeholder: s.cat.T(l, "sim.birth_date.placeholder", nil),
				Value: b, Error: msg(birth), Required: n == 1},
			Smoker:      smoker,
			SmokerError: msg(personField("smoker", n)),
		})
	}
	for _, t := range simulation.Tariffs {
		v.Tariffs = append(v.Tariffs, option{
			Value: string(t), Label: s.cat.T(l, tariffKey(t, "label"), nil),
			Selected: string(t) == strings.TrimSpace(f.Tariff.String()),
		})
	}

	var summary []errorLink
	for _, field := range fieldOrder {
		p, ok := bad[field]
		if !ok {
			continue
		}
		target := field
		switch {
		case field == fPersons:
			target = "persons-1"
		case strings.HasPrefix(field, "smoker_"):
			target = field + "-yes"
		case strings.HasPrefix(field, "quotity_"):
			target = "" // not on the form: only the JSON endpoint takes it
		}
		summary = append(summary, errorLink{Target: target, Message: s.message(l, p)})
	}
	return v, summary
}

// shown bounds what the form echoes back of a value: nothing valid is
// that long, and the page should not grow with what a client posts.
func shown(v value) string {
	s := strings.ToValidUTF8(v.String(), "")
	if r := []rune(s); len(r) > 2*maxInputLen {
		s = string(r[:2*maxInputLen])
	}
	return s
}

func tariffKey(t simulation.Tariff, part string) string { return "tariff." + string(t) + "." + part }

// message translates a problem, with its limit written the language's way.
func (s *server) message(l i18n.Lang, p problem) string {
	var limit string
	switch simulation.Code(p.Code) {
	case simulation.CodeCapitalTooHigh:
		limit = formatEuros(l, p.Limit)
	case simulation.CodeRateTooHigh:
		limit = formatPercent(l, p.Limit)
	default:
		limit = formatNumber(l, p.Limit, 0)
	}
	return s.cat.T(l, "error."+p.Code, struct{ Limit string }{limit})
}

func (s *server) handleHome(w http.ResponseWriter, r *http.Request) {
	l := s.language(w, r)
	form, _ := s.formView(l, newForm(), nil)
	s.render(w, r, http.StatusOK, "home", homePage{basePage: s.base(r, l, "/", "home.title"), Form: form,
		LoggedOut: s.loggedOut(w, r)})
}

// handleSimulation computes the quick simulation from the form and shows the
// home page again with the result, or with the messages of the fields to
// correct (422).
func (s *server) handleSimulation(w http.ResponseWriter, r *http.Request) {
	l := s.language(w, r)
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	if err := r.ParseForm(); err != nil {
		if isTooLarge(err) {
			s.errorPage(w, r, l, http.StatusRequestEntityTooLarge, "too_large")
			return
		}
		s.errorPage(w, r, l, http.StatusBadRequest, "bad_request")
		return
	}
	f := fieldsFromForm(r.PostForm)
	in, bad := f.input(s.basis, s.today())
	page := homePage{basePage: s.base(r, l, "/", "home.title")}
	page.Form, page.Summary = s.formView(l, f, bad)
	if len(bad) > 0 {
		s.render(w, r, http.StatusUnprocessableEntity, "home", page)
		return
	}
	res, err := simulation.Calculate(s.basis, in)
	if err != nil {
		s.log.Error("finagora: calculate", "err", err)
		s.errorPage(w, r, l, http.StatusInternalServerError, "internal")
		return
	}
	rv := s.resultView(l, res)
	page.Result = &rv
	w.Header().Set("Cache-Control", "no-store")
	s.render(w, r, http.StatusOK, "home", page)
}

// handleSimulationGet sends a reloaded or bookmarked result page home.
func (s *server) handleSimulationGet(w http.ResponseWriter, r *http.Request) {
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// loginPage is what /login shows when no portal is configured for
// single sign-on.
type loginPage struct{ basePage }

type errorPage struct {
	basePage
	Heading, Text string
	Retry         string // where "try again" leads; empty: no such button
}

// errorPage renders a translated error page; kind names its texts
// (errorpage.<kind>.title and .text).
func (s *server) errorPage(w http.ResponseWriter, r *http.Request, l i18n.Lang, status int, kind string) {
	s.errorPageRetry(w, r, l, status, kind, "")
}

// errorPageRetry is errorPage with a "try again" button leading to retry.
func (s *server) errorPageRetry(w http.ResponseWriter, r *http.Request, l i18n.Lang, status int, kind, retry string) {
	p := errorPage{
		basePage: s.base(r, l, "/", "errorpage."+kind+".title"),
		Heading:  s.cat.T(l, "errorpage."+kind+".title", nil),
		Text:     s.cat.T(l, "errorpage."+kind+".text", nil),
		Retry:    retry,
	}
	s.render(w, r, status, "error", p)
}

// errorKinds lists the kinds errorPage is called with, for the catalog test.
var errorKinds = []string{"bad_request", "too_large", "forbidden", "not_found", "internal",
	"unavailable", "login_expired", "login_required", "access_denied", "login_failed"}

func (s *server) handleNotFound(w http.ResponseWriter, r *http.Request) {
	l := s.language(w, r)
	if strings.HasPrefix(r.URL.Path, "/api/") {
		s.writeJSONError(w, l, http.StatusNotFound, "body", "not_found")
		return
	}
	s.errorPage(w, r, l, http.StatusNotFound, "not_found")
}

// handleCrossOrigin answers a POST that another site's page tried to send.
func (s *server) handleCrossOrigin(w http.ResponseWriter, r *http.Request) {
	l := s.language(w, r)
	if strings.HasPrefix(r.URL.Path, "/api/") {
		s.writeJSONError(w, l, http.StatusForbidden, "body", "cross_origin")
		return
	}
	s.errorPage(w, r, l, http.StatusForbidden, "forbidden")
}
