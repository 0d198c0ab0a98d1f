package mail

import (
	"bytes"
	"embed"
	"fmt"
	htmltemplate "html/template"
	"io/fs"
	"net/netip"
	"net/url"
	"strings"
	texttemplate "text/template"
	"time"
	"unicode/utf8"

	// Europe/Brussels must resolve on a host or container without tzdata.
	_ "time/tzdata"

	"sesame/internal/i18n"
)

// Who acted, for the notifications of section 3 of the spec.
const (
	Self            = "you"                  // By: the owner did it themselves (self-service)
	RoleOfficeAdmin = "office administrator" // ByRole: an office administrator of the owner's office
	RoleSupport     = "support"              // ByRole: the insurer's support staff
)

// DefaultApp names the relying application in AuthenticatorLinked when App is empty.
const DefaultApp = "Sesame"

// The data of each kind of e-mail. Render picks the kind from the type.
type (
	// PasswordReset carries the single-use reset link (spec 2.5).
	PasswordReset struct {
		Name    string
		URL     string        // absolute http(s) URL with the token
		Expires time.Duration // how long the link works; 0 means 10 minutes
	}
	// PasswordChanged tells the owner their password changed.
	PasswordChanged struct {
		Name string
		When time.Time
		IP   string // optional; the client address of the change
	}
	// AuthenticatorLinked is sent after TOTP initialisation, so that a
	// stolen password used to enrol an attacker's phone gets noticed.
	AuthenticatorLinked struct {
		Name string
		App  string // the relying application, e.g. "Finagora"
		When time.Time
	}
	// AuthenticatorReset: By is the actor's name, or Self for the
	// self-service reset; ByRole is RoleOfficeAdmin or RoleSupport.
	AuthenticatorReset struct {
		Name, By, ByRole string
		When             time.Time
	}
	// AuthenticatorRecovered: the owner's authenticator was unlinked with a
	// recovery code, from the client address IP (optional).
	AuthenticatorRecovered struct {
		Name string
		When time.Time
		IP   string
	}
	// HelpRequested goes to an administrator (Name) when a person asks for
	// help: Requester is their identifier, RequesterName their
	// name, Kind "totp" (reset the authenticator) or "question" (reset the
	// security question), Message what they wrote (free text, unverified;
	// may be empty), URL the request in the console (optional), IP where
	// it came from (optional).
	HelpRequested struct {
		Name, Requester, RequesterName, Kind, Message, URL, IP string
		When                                                   time.Time
	}
	// QuestionReset: the security question was reset.
	QuestionReset struct {
		Name, By, ByRole string
		When             time.Time
	}
	// AccountUnlocked: an administrator lifted a lock.
	AccountUnlocked struct {
		Name, By, ByRole string
		When             time.Time
	}
	// AccountDisabled: an administrator disabled the account.
	AccountDisabled struct {
		Name, By, ByRole string
		When             time.Time
	}
	// AccountEnabled: an administrator enabled the account again.
	AccountEnabled struct {
		Name, By, ByRole string
		When             time.Time
	}
)

// Kinds lists every kind Render produces, with a sample of its data type.
// Tests and the catalogue check iterate over it.
var Kinds = map[string]any{
	"password_reset":          PasswordReset{},
	"password_changed":        PasswordChanged{},
	"authenticator_linked":    AuthenticatorLinked{},
	"authenticator_reset":     AuthenticatorReset{},
	"authenticator_recovered": AuthenticatorRecovered{},
	"help_requested":          HelpRequested{},
	"question_reset":          QuestionReset{},
	"account_unlocked":        AccountUnlocked{},
	"account_disabled":        AccountDisabled{},
	"account_enabled":         AccountEnabled{},
}

//go:embed locales/*.json templates/*.tmpl
var assets embed.FS

// Renderer turns a kind's data into a Message in one language. It is safe
// for concurrent use.
type Renderer struct {
	cat      *i18n.Catalog
	text     *texttemplate.Template
	html     *htmltemplate.Template
	brussels *time.Location
}

// NewRenderer parses the embedded catalog and templates.
func NewRenderer() (*Renderer, error) {
	locales, err := fs.Sub(assets, "locales")
	if err != nil {
		return nil, err
	}
	cat, err := i18n.Load(locales)
	if err != nil {
		return nil, fmt.Errorf("mail: %w", err)
	}
	text, err := texttemplate.ParseFS(assets, "templates/message.txt.tmpl")
	if err != nil {
		return nil, fmt.Errorf("mail: %w", err)
	}
	html, err := htmltemplate.ParseFS(assets, "templates/message.html.tmpl")
	if err != nil {
		return nil, fmt.Errorf("mail: %w", err)
	}
	loc, err := time.LoadLocation("Europe/Brussels")
	if err != nil {
		return nil, fmt.Errorf("mail: %w", err)
	}
	return &Renderer{cat: cat, text: text, html: html, brussels: loc}, nil
}

// view is what both templates render: paragraphs of plain text, an optional
// link between them. Every string is plain text; html/template escapes it.
type view struct {
	Lang     i18n.Lang
	Subject  string
	Greeting string
	Before   []string
	Link     *link
	After    []string
	Signoff  string
	Footer   string
}

type link struct{ URL, Label string }

// facts is the data the catalog's messages refer to, already formatted.
type facts struct {
	Name, By, ByRole, When, App, IP, Minutes string
	Requester, What, Message                 string
}

// Render writes the e-mail of data's kind for to in lang. Display names are
// cleaned (control characters become spaces, length bounded) rather than
// refused, since a mangled name is better than a lost security notice; an
// invalid address, URL, IP, role or a missing date is an error.
func (r *Renderer) Render(lang i18n.Lang, to Address, data any) (Message, error) {
	if _, ok := i18n.Parse(string(lang)); !ok {
		return Message{}, fmt.Errorf("%w: unsupported language %q", ErrInvalid, lang)
	}
	to.Name = cleanName(to.Name)
	if err := validateEmail(to.Email); err != nil {
		return Message{}, fmt.Errorf("to: %w", err)
	}
	var (
		kind string
		f    facts
		v    = view{Lang: lang}
		err  error
	)
	t := func(key string) string { return r.cat.T(lang, key, f) }
	switch d := data.(type) {
	case PasswordReset:
		kind, f.Name = "password_reset", cleanName(d.Name)
		u, uErr := checkURL(d.URL)
		if uErr != nil {
			return Message{}, uErr
		}
		exp := d.Expires
		if exp == 0 {
			exp = 10 * time.Minute
		}
		minutes := int(exp.Round(time.Minute) / time.Minute)
		if minutes < 1 || minutes > 24*60 {
			return Message{}, fmt.Errorf("%w: link expiry %v", ErrInvalid, d.Expires)
		}
		f.Minutes = r.cat.N(lang, "duration.minutes", minutes)
		v.Before = []string{t("password_reset.intro"), t("password_reset.link_intro")}
		v.Link = &link{URL: u, Label: t("password_reset.link_label")}
		v.After = []string{t("password_reset.mfa"), t("password_reset.if_not_you")}
	case PasswordChanged:
		kind, f.Name = "password_changed", cleanName(d.Name)
		if f.When, err = r.formatWhen(lang, d.When); err != nil {
			return Message{}, err
		}
		v.Before = []string{t("password_changed.intro")}
		if d.IP != "" {
			ip, ipErr := netip.ParseAddr(d.IP)
			if ipErr != nil {
				return Message{}, fmt.Errorf("%w: ip %q", ErrInvalid, d.IP)
			}
			f.IP = ip.Unmap().WithZone("").String()
			v.Before = append(v.Before, t("password_changed.ip"))
		}
		v.After = []string{t("contact")}
	case AuthenticatorLinked:
		kind, f.Name, f.App = "authenticator_linked", cleanName(d.Name), cleanName(d.App)
		if f.App == "" {
			f.App = DefaultApp
		}
		if f.When, err = r.formatWhen(lang, d.When); err != nil {
			return Message{}, err
		}
		v.Before = []string{t("authenticator_linked.intro")}
		v.After = []string{t("authenticator_linked.if_not_you")}
	case AuthenticatorReset:
		kind = "authenticator_reset"
		if err := r.action(lang, &f, &v, kind, d.Name, d.By, d.ByRole, d.When, true); err != nil {
			return Message{}, err
		}
		v.Before = append(v.Before, t(kind+".next"))
	case AuthenticatorRecovered:
		kind, f.Name = "authenticator_recovered", cleanName(d.Name)
		if f.When, err = r.formatWhen(lang, d.When); err != nil {
			return Message{}, err
		}
		v.Before = []string{t(kind + ".intro")}
		if d.IP != "" {
			ip, ipErr := netip.ParseAddr(d.IP)
			if ipErr != nil {
				return Message{}, fmt.Errorf("%w: ip %q", ErrInvalid, d.IP)
			}
			f.IP = ip.Unmap().WithZone("").String()
			v.Before = append(v.Before, t(kind+".ip"))
		}
		v.Before = append(v.Before, t(kind+".revoked"), t(kind+".next"))
		v.After = []string{t(kind + ".if_not_you")}
	case HelpRequested:
		kind, f.Name, f.By = "help_requested", cleanName(d.Name), cleanName(d.RequesterName)
		f.Requester = cleanName(d.Requester)
		if f.Requester == "" {
			return Message{}, fmt.Errorf("%w: help request without a requester", ErrInvalid)
		}
		if f.By == "" {
			f.By = f.Requester
		}
		if d.Kind != "totp" && d.Kind != "question" {
			return Message{}, fmt.Errorf("%w: help request kind %q", ErrInvalid, d.Kind)
		}
		f.What = t("help_requested.what_" + d.Kind)
		if f.When, err = r.formatWhen(lang, d.When); err != nil {
			return Message{}, err
		}
		v.Before = []string{t(kind + ".intro")}
		if d.IP != "" {
			ip, ipErr := netip.ParseAddr(d.IP)
			if ipErr != nil {
				return Message{}, fmt.Errorf("%w: ip %q", ErrInvalid, d.IP)
			}
			f.IP = ip.Unmap().WithZone("").String()
			v.Before = append(v.Before, t(kind+".ip"))
		}
		if f.Message = cleanText(d.Message, maxHelpMessage); f.Message != "" {
			v.Before = append(v.Before, t(kind+".message"))
		}
		if d.URL != "" {
			u, uErr := checkURL(d.URL)
			if uErr != nil {
				return Message{}, uErr
			}
			v.Link = &link{URL: u, Label: t(kind + ".link_label")}
		}
		v.After = []string{t(kind + ".check")}
	case QuestionReset:
		kind = "question_reset"
		if err := r.action(lang, &f, &v, kind, d.Name, d.By, d.ByRole, d.When, true); err != nil {
			return Message{}, err
		}
		v.Before = append(v.Before, t(kind+".next"))
	case AccountUnlocked:
		kind = "account_unlocked"
		err = r.action(lang, &f, &v, kind, d.Name, d.By, d.ByRole, d.When, false)
	case AccountDisabled:
		kind = "account_disabled"
		err = r.action(lang, &f, &v, kind, d.Name, d.By, d.ByRole, d.When, false)
	case AccountEnabled:
		kind = "account_enabled"
		err = r.action(lang, &f, &v, kind, d.Name, d.By, d.ByRole, d.When, false)
	default:
		return Message{}, fmt.Errorf("mail: no e-mail for data of type %T", data)
	}
	if err != nil {
		return Message{}, err
	}
	v.Subject = t(kind + ".subject")
	if f.Name != "" {
		v.Greeting = t("greeting")
	} else {
		v.Greeting = t("greeting.anonymous")
	}
	v.Signoff, v.Footer = t("signoff"), t("footer")

	var text, html bytes.Buffer
	if err := r.text.Execute(&text, v); err != nil {
		return Message{}, fmt.Errorf("mail: render %s text: %w", kind, err)
	}
	if err := r.html.Execute(&html, v); err != nil {
		return Message{}, fmt.Errorf("mail: render %s html: %w", kind, err)
	}
	m := Message{Kind: kind, To: to, Lang: lang, Subject: v.Subject, Text: text.String(), HTML: html.String()}
	if err := m.Validate(); err != nil {
		return Message{}, fmt.Errorf("mail: rendered %s: %w", kind, err)
	}
	return m, nil
}

// action fills the facts and the first paragraph of an administrator's (or
// the owner's own) action on the account.
func (r *Renderer) action(lang i18n.Lang, f *facts, v *view, kind, name, by, byRole string, when time.Time, selfAllowed bool) error {
	var err error
	f.Name = cleanName(name)
	if f.When, err = r.formatWhen(lang, when); err != nil {
		return err
	}
	by = cleanName(by)
	if by == "" || by == Self {
		if !selfAllowed {
			return fmt.Errorf("%w: %s needs the name of who did it", ErrInvalid, kind)
		}
		v.Before = []string{r.cat.T(lang, kind+".intro_self", f)}
	} else {
		f.By = by
		switch byRole {
		case RoleOfficeAdmin:
			f.ByRole = r.cat.T(lang, "role.office_admin", nil)
		case RoleSupport:
			f.ByRole = r.cat.T(lang, "role.support", nil)
		default:
			return fmt.Errorf("%w: role %q (want %q or %q)", ErrInvalid, byRole, RoleOfficeAdmin, RoleSupport)
		}
		v.Before = []string{r.cat.T(lang, kind+".intro", f)}
	}
	v.After = []string{r.cat.T(lang, "contact", nil)}
	return nil
}

// dateLayouts are the date formats of each language, in Europe/Brussels.
var dateLayouts = map[i18n.Lang]string{
	i18n.FR: "02/01/2006 à 15:04",
	i18n.NL: "02/01/2006 om 15:04",
	i18n.EN: "2 Jan 2006 at 15:04",
}

func (r *Renderer) formatWhen(lang i18n.Lang, when time.Time) (string, error) {
	if when.IsZero() {
		return "", fmt.Errorf("%w: missing date", ErrInvalid)
	}
	return when.In(r.brussels).Format(dateLayouts[lang]), nil
}

// cleanName makes a display name safe for a header and a body line: valid
// UTF-8, control characters as spaces, spaces collapsed, bounded length.
func cleanName(s string) string {
	s = strings.ToValidUTF8(s, "")
	s = strings.Map(func(r rune) rune {
		if isControl(r) {
			return ' '
		}
		return r
	}, s)
	s = strings.Join(strings.Fields(s), " ")
	s = strings.ReplaceAll(s, "=?", "= ?") // see checkHeaderText
	if len(s) > MaxNameLen {
		cut := MaxNameLen
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = strings.TrimSpace(s[:cut])
	}
	return s
}

// maxHelpMessage bounds the free text of a help request in an e-mail.
const maxHelpMessage = 2000

// cleanText makes free text from a form one safe paragraph: valid UTF-8,
// control characters and line breaks as spaces, spaces collapsed, bounded.
func cleanText(s string, max int) string {
	s = strings.ToValidUTF8(s, "")
	s = strings.Map(func(r rune) rune {
		if isControl(r) {
			return ' '
		}
		return r
	}, s)
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > max {
		cut := max
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = strings.TrimSpace(s[:cut]) + "…"
	}
	return s
}

// checkURL accepts an absolute http or https URL without credentials, short
// enough for one line. http is allowed for the demo on localhost; the web
// layer decides the base URL.
func checkURL(s string) (string, error) {
	if s == "" || len(s) > 2000 || strings.ContainsFunc(s, func(r rune) bool { return isControl(r) || r == ' ' }) {
		return "", fmt.Errorf("%w: reset link", ErrInvalid)
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
		return "", fmt.Errorf("%w: reset link must be an absolute http(s) URL", ErrInvalid)
	}
	return s, nil
}
