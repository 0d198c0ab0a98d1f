package web

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"sesame/internal/account"
	"sesame/internal/admin"
	"sesame/internal/i18n"
	"sesame/internal/store"
)

// adminEnv is the portal with two offices and the people of the console:
//
//	Cabinet Peeters (e.office): marie (office admin), jan and an (users)
//	Kantoor Janssens: paul (office admin), piet (user)
//	sofie: support staff (Group)
//
// Everyone but piet has linked an authenticator through the wizard;
// secrets holds each one's secret.
type adminEnv struct {
	*env
	other   account.Office
	acc     map[string]account.Account
	secrets map[string][]byte
}

const adminPassword = "a long and unusual passphrase"

func newAdminEnv(t *testing.T) *adminEnv {
	t.Helper()
	e := &adminEnv{env: newEnv(t), acc: map[string]account.Account{}, secrets: map[string][]byte{}}
	e.other = account.Office{Name: "Kantoor Janssens", Created: e.clock.Now()}
	if err := e.store.CreateOffice(context.Background(), &e.other); err != nil {
		t.Fatal(err)
	}
	add := func(name string, typ account.Type, office int64, role account.Role, lang i18n.Lang, enrol bool) {
		a := e.createAccount(typ, name+"@example.be", adminPassword, lang)
		a, err := e.store.UpdateAccount(context.Background(), a.ID, func(a *account.Account) error {
			a.OfficeID, a.Role, a.Name = office, role, strings.ToUpper(name[:1])+name[1:]
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		e.acc[name] = a
		if enrol {
			e.secrets[name] = e.browser("fr").enrol(typ, a.Identifier, adminPassword)
		}
	}
	// The console's password-reset action needs the portal's public address.
	e.web.opts.Passwords.PublicURL = "https://sesame.example"
	add("marie", account.Tiers, e.office.ID, account.RoleOfficeAdmin, i18n.FR, true)
	add("jan", account.Tiers, e.office.ID, account.RoleUser, i18n.NL, true)
	add("an", account.Tiers, e.office.ID, account.RoleUser, i18n.FR, true)
	add("paul", account.Tiers, e.other.ID, account.RoleOfficeAdmin, i18n.NL, true)
	add("piet", account.Tiers, e.other.ID, account.RoleUser, i18n.NL, false)
	add("sofie", account.Group, 0, account.RoleSupport, i18n.EN, true)
	return e
}

// as returns a browser logged in as name (a fresh login: its code is fresh).
func (e *adminEnv) as(name string) *browser {
	e.t.Helper()
	b := e.browser("en")
	if name == "anonymous" {
		return b
	}
	a := e.acc[name]
	e.clock.Add(30 * time.Second) // a step of its own
	if st, body := b.login(a.Type, a.Identifier, adminPassword, e.code(e.secrets[name])); st != 200 || b.last.Request.URL.Path != "/" {
		e.t.Fatalf("login as %s: %d at %s\n%s", name, st, b.last.Request.URL.Path, body)
	}
	return b
}

// got is a response as the tables below want it: the status, and the path
// the browser ended at when a redirect was followed.
func got(b *browser, status int) string {
	if b.last.Request.Response != nil { // a redirect was followed
		return fmt.Sprintf("%d %s", status, b.last.Request.URL.Path)
	}
	return fmt.Sprint(status)
}

// prepare gives jan something for every action to do.
func (e *adminEnv) prepare(name string) {
	e.t.Helper()
	ctx := context.Background()
	id := e.acc[name].ID
	if _, err := e.store.GetAuthenticator(ctx, id); err != nil {
		if err := e.store.LinkAuthenticator(ctx, store.Authenticator{AccountID: id, Secret: []byte("sealed"), Linked: e.clock.Now()}); err != nil {
			e.t.Fatal(err)
		}
	}
	_, err := e.store.UpdateAccount(ctx, id, func(a *account.Account) error {
		a.QuestionKey, a.AnswerHash = "first_pet", "$argon2id$unused"
		a.FailedAttempts, a.LockedUntil = 3, e.clock.Now().Add(time.Hour)
		return nil
	})
	if err != nil {
		e.t.Fatal(err)
	}
}

// TestConsoleAuthorization is the authorization matrix: every console
// route for every kind of visitor. A guessed account id out of scope is a
// 404, exactly like a missing one.
func TestConsoleAuthorization(t *testing.T) {
	e := newAdminEnv(t)
	jan, marie, piet := e.acc["jan"].ID, e.acc["marie"].ID, e.acc["piet"].ID
	actors := []string{"anonymous", "an", "jan", "marie", "paul", "sofie"}
	// an is a plain user of jan's office; jan is the account itself;
	// marie is jan's office administrator; paul another office's.
	type route struct {
		method, path string
		form         url.Values
		want         map[string]string // by actor; "" means the default below
	}
	login := "200 /login"
	routes := []route{
		{"GET", "/admin", nil, map[string]string{"marie": "200 /admin/accounts", "paul": "200 /admin/accounts", "sofie": "200 /admin/accounts"}},
		{"GET", "/admin/accounts?q=jan", nil, map[string]string{"marie": "200", "paul": "200", "sofie": "200"}},
		{"GET", fmt.Sprintf("/admin/accounts/%d", jan), nil, map[string]string{"marie": "200", "paul": "404", "sofie": "200"}},
		{"GET", fmt.Sprintf("/admin/accounts/%d", piet), nil, map[string]string{"marie": "404", "paul": "200", "sofie": "200"}},
		{"GET", fmt.Sprintf("/admin/accounts/%d", e.acc["sofie"].ID), nil, map[string]string{"marie": "404", "paul": "404", "sofie": "200"}},
		{"GET", "/admin/accounts/999999", nil, map[string]string{"marie": "404", "paul": "404", "sofie": "404"}},
		{"GET", fmt.Sprintf("/admin/accounts/%d", marie), nil, map[string]string{"marie": "200", "paul": "404", "sofie": "200"}},
		{"GET", fmt.Sprintf("/admin/accounts/%d/account_unlock", jan), nil, map[string]string{"marie": "200", "paul": "404", "sofie": "200"}},
		{"GET", fmt.Sprintf("/admin/accounts/%d/account_unlock", marie), nil, map[string]string{"marie": "403", "paul": "404", "sofie": "409"}},
		{"GET", "/admin/accounts/new", nil, map[string]string{"marie": "200", "paul": "200", "sofie": "200"}},
		{"GET", "/admin/audit", nil, map[string]string{"marie": "200", "paul": "200", "sofie": "200"}},
		{"GET", fmt.Sprintf("/admin/audit?account=%d", jan), nil, map[string]string{"marie": "200", "paul": "404", "sofie": "200"}},
		{"GET", fmt.Sprintf("/admin/audit.csv?account=%d", jan), nil, map[string]string{"marie": "200", "paul": "404", "sofie": "200"}},
	}
	for _, a := range admin.Actions {
		p := fmt.Sprintf("/admin/accounts/%d/%s", jan, a)
		done := fmt.Sprintf("200 /admin/accounts/%d", jan)
		routes = append(routes, route{"POST", p, nil, map[string]string{"marie": done, "paul": "404", "sofie": done}})
	}
	routes = append(routes,
		route{"POST", fmt.Sprintf("/admin/accounts/%d/account_disable", marie), nil, map[string]string{"marie": "403", "paul": "404", "sofie": fmt.Sprintf("200 /admin/accounts/%d", marie)}},
		route{"POST", "/admin/accounts/new", nil, map[string]string{"marie": "200 /admin/accounts/", "paul": "200 /admin/accounts/", "sofie": "200 /admin/accounts/"}},
	)
	n := 0
	for _, actor := range actors {
		// prepare locked jan during the previous actor's turn.
		e.store.UpdateAccount(context.Background(), jan, func(a *account.Account) error {
			a.FailedAttempts, a.LockedUntil = 0, time.Time{}
			return nil
		})
		b := e.as(actor)
		for _, r := range routes {
			want := r.want[actor]
			if want == "" {
				want = "403" // logged in, not an administrator
				if actor == "anonymous" {
					want = login
				}
			}
			e.prepare("jan")
			var status int
			switch {
			case r.method == "GET":
				status, _ = b.get(r.path)
			case r.path == "/admin/accounts/new":
				n++
				status, _ = b.post(r.path, url.Values{"account_type": {"tiers"}, "identifier": {fmt.Sprintf("new%d@example.be", n)},
					"name": {"New"}, "office": {fmt.Sprint(e.office.ID)}, "lang": {"nl"}, "password": {adminPassword}})
				if actor == "paul" {
					// paul's own office: any other is refused (see TestConsoleCreateAccount).
					status, _ = b.post(r.path, url.Values{"account_type": {"tiers"}, "identifier": {fmt.Sprintf("new%d-p@example.be", n)},
						"name": {"New"}, "lang": {"nl"}, "password": {adminPassword}})
				}
			default:
				// (Not when jan is the actor: disabling him would end his session.)
				if strings.HasSuffix(r.path, "account_enable") && actor != "jan" {
					e.store.UpdateAccount(context.Background(), jan, func(a *account.Account) error { a.Disabled = true; return nil })
				}
				status, _ = b.post(r.path, r.form)
				if strings.HasSuffix(r.path, "account_disable") && strings.Contains(r.path, fmt.Sprint(marie)) {
					e.store.UpdateAccount(context.Background(), marie, func(a *account.Account) error { a.Disabled = false; return nil })
				}
				e.store.UpdateAccount(context.Background(), jan, func(a *account.Account) error { a.Disabled = false; return nil })
			}
			g := got(b, status)
			if strings.HasSuffix(want, "/") && strings.HasPrefix(g, want) {
				g = want // a new account's page: its id is not known in advance
			}
			if g != want {
				t.Errorf("%s: %s %s = %s, want %s", actor, r.method, r.path, g, want)
			}
		}
	}
}

func TestConsoleMenu(t *testing.T) {
	e := newAdminEnv(t)
	for actor, want := range map[string]bool{"anonymous": false, "jan": false, "marie": true, "sofie": true} {
		_, body := e.as(actor).get("/")
		if has := strings.Contains(body, `href="/admin/accounts"`); has != want {
			t.Errorf("%s: console in the menu = %v, want %v", actor, has, want)
		}
	}
}

// TestHelpedRecoveryThroughPages is the story through the pages:
// a user enrolled; their office administrator resets the authenticator
// (with a fresh code of their own); the user's login goes to the wizard;
// they link a new secret; the old secret's codes are refused. Then the same
// with the security question: the wizard's step 2 asks for a new one.
func TestHelpedRecoveryThroughPages(t *testing.T) {
	e := newAdminEnv(t)
	jan := e.acc["jan"]
	oldSecret := e.secrets["jan"]
	user := e.browser("nl")
	e.clock.Add(30 * time.Second)
	if st, _ := user.login(jan.Type, jan.Identifier, adminPassword, e.code(oldSecret)); st != 200 || user.last.Request.URL.Path != "/" {
		t.Fatalf("jan's login before: %d at %s", st, user.last.Request.URL.Path)
	}

	marie := e.as("marie")
	if st, body := marie.get("/admin/accounts?q=JAN"); st != 200 || !strings.Contains(body, fmt.Sprintf(`href="/admin/accounts/%d"`, jan.ID)) {
		t.Fatalf("search: %d\n%s", st, body)
	}
	page := fmt.Sprintf("/admin/accounts/%d", jan.ID)
	if st, body := marie.get(page); st != 200 || !strings.Contains(body, "Linked since") || !strings.Contains(body, page+"/totp_reset") {
		t.Fatalf("account page: %d\n%s", st, body)
	}

	// Six minutes later the administrator's code is no longer fresh.
	e.clock.Add(6 * time.Minute)
	if _, body := marie.get(page + "/totp_reset"); !strings.Contains(body, `name="totp"`) {
		t.Fatalf("the confirmation does not ask for a code:\n%s", body)
	}
	if st, body := marie.post(page+"/totp_reset", nil); st != 422 || !strings.Contains(body, `id="totp-error"`) {
		t.Fatalf("no code: %d", st)
	}
	if st, _ := marie.post(page+"/totp_reset", url.Values{"totp": {"000000"}}); st != 422 {
		t.Fatalf("wrong code: %d", st)
	}
	if _, err := e.store.GetAuthenticator(context.Background(), jan.ID); err != nil {
		t.Fatalf("the authenticator went away without a right code: %v", err)
	}
	st, body := marie.post(page+"/totp_reset", url.Values{"totp": {e.code(e.secrets["marie"])}})
	if st != 200 || marie.last.Request.URL.Path != page || !strings.Contains(body, "was reset") || !strings.Contains(body, "Not linked") {
		t.Fatalf("reset: %d at %s\n%s", st, marie.last.Request.URL.Path, body)
	}

	// jan's session ended; the next login goes to the wizard, which asks
	// the question jan set, and links a new secret.
	if st, _ := user.get("/"); st != 200 || strings.Contains(user.body, jan.Identifier) {
		t.Error("jan's session outlived the reset")
	}
	e.clock.Add(30 * time.Second)
	user.login(jan.Type, jan.Identifier, adminPassword, e.code(oldSecret))
	if user.last.Request.URL.Path != "/totp/init" || !strings.Contains(user.body, `name="answer"`) || strings.Contains(user.body, `name="question"`) {
		t.Fatalf("login after the reset ended at %s:\n%s", user.last.Request.URL.Path, user.body)
	}
	if st, body := user.post("/totp/init/question", url.Values{"answer": {"doudou"}}); st != 200 || !strings.Contains(body, "otpauth://totp/") {
		t.Fatalf("answering the question: %d\n%s", st, body)
	}
	newSecret := user.secretOnPage()
	if st, _ := user.post("/totp/init/code", url.Values{"totp": {e.code(newSecret)}}); st != 200 {
		t.Fatalf("linking the new secret: %d", st)
	}
	e.clock.Add(30 * time.Second)
	if st, _ := user.login(jan.Type, jan.Identifier, adminPassword, e.code(oldSecret)); st != 401 {
		t.Errorf("the old secret's code: %d, want 401", st)
	}
	if st, _ := user.login(jan.Type, jan.Identifier, adminPassword, e.code(newSecret)); st != 200 || user.last.Request.URL.Path != "/" {
		t.Fatalf("the new secret's code: %d at %s", st, user.last.Request.URL.Path)
	}

	// The phone is lost again and the answer forgotten: both are reset (the
	// administrator's code is still fresh: no code asked this time).
	for _, a := range []admin.Action{admin.ResetTOTP, admin.ResetQuestion} {
		if _, body := marie.get(page + "/" + string(a)); strings.Contains(body, `name="totp"`) {
			t.Errorf("%s: a code asked within %v of the last one", a, admin.FreshFor)
		}
		if st, _ := marie.post(page+"/"+string(a), nil); st != 200 || marie.last.Request.URL.Path != page {
			t.Fatalf("%s: %d at %s", a, st, marie.last.Request.URL.Path)
		}
	}
	if _, body := marie.get(page); !strings.Contains(body, "Not set") {
		t.Errorf("the account page does not show the question reset:\n%s", body)
	}
	e.clock.Add(30 * time.Second)
	user.login(jan.Type, jan.Identifier, adminPassword, e.code(newSecret))
	if user.last.Request.URL.Path != "/totp/init" || !strings.Contains(user.body, `name="question"`) {
		t.Fatalf("step 2 does not ask for a new question:\n%s", user.body)
	}
	if st, _ := user.post("/totp/init/question", url.Values{"question": {"birth_city"}, "answer": {"Gent"}}); st != 200 {
		t.Fatalf("choosing a new question: %d", st)
	}
	third := user.secretOnPage()
	if st, _ := user.post("/totp/init/code", url.Values{"totp": {e.code(third)}}); st != 200 {
		t.Fatal("linking the third secret")
	}
	if got, _ := e.store.GetAccount(context.Background(), jan.ID); got.QuestionKey != "birth_city" {
		t.Errorf("question %q, want birth_city", got.QuestionKey)
	}

	// jan got an e-mail in Dutch for each helped action, naming marie.
	var kinds []string
	mails, _ := e.store.ClaimMail(context.Background(), e.clock.Now(), time.Minute, 100)
	for _, m := range mails {
		if m.To.Email == jan.Identifier && m.Kind != "authenticator_linked" {
			kinds = append(kinds, m.Kind)
			if m.Lang != i18n.NL || !strings.Contains(m.Text, "Marie (kantoorbeheerder)") {
				t.Errorf("%s e-mail in %s:\n%s", m.Kind, m.Lang, m.Text)
			}
		}
	}
	if strings.Join(kinds, ",") != "authenticator_reset,authenticator_reset,question_reset" {
		t.Errorf("jan's e-mails: %v", kinds)
	}

	// The audit page and its export show marie's actions on jan.
	if _, body := marie.get(fmt.Sprintf("/admin/audit?account=%d", jan.ID)); strings.Count(body, `<td title="totp_reset">TOTP reset</td>`) != 2 {
		t.Errorf("audit page:\n%s", body)
	}
	st, body = marie.get(fmt.Sprintf("/admin/audit.csv?account=%d", jan.ID))
	rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if st != 200 || err != nil || marie.last.Header.Get("Content-Type") != "text/csv; charset=utf-8" ||
		!strings.HasPrefix(marie.last.Header.Get("Content-Disposition"), "attachment;") {
		t.Fatalf("export: %d, %v, %v", st, err, marie.last.Header)
	}
	resets := 0
	for _, r := range rows[1:] {
		if r[7] == "totp_reset" && r[3] == "marie@example.be" {
			resets++
		}
	}
	if resets != 2 {
		t.Errorf("export: %d resets by marie in %q", resets, rows)
	}
}

// TestConsoleSearch: paging, filters, and an office administrator's scope.
func TestConsoleSearch(t *testing.T) {
	e := newAdminEnv(t)
	for i := range admin.PageSize + 2 {
		e.createAccount(account.Tiers, fmt.Sprintf("user%02d@example.be", i), adminPassword, i18n.FR)
	}
	marie, sofie := e.as("marie"), e.as("sofie")
	ids := regexp.MustCompile(`href="/admin/accounts/\d+">([^<]+)<`)
	list := func(body string) []string {
		var out []string
		for _, m := range ids.FindAllStringSubmatch(body, -1) {
			out = append(out, m[1])
		}
		return out
	}
	_, body := marie.get("/admin/accounts")
	if l := list(body); len(l) != admin.PageSize || l[0] != "an@example.be" || !strings.Contains(body, "30 accounts found") || !strings.Contains(body, "Page 1 of 2") {
		t.Errorf("marie's first page: %d rows from %q\n%s", len(l), l, body)
	}
	_, body = marie.get("/admin/accounts?page=2")
	if l := list(body); len(l) != 5 || l[4] != "user26@example.be" {
		t.Errorf("marie's second page: %q", l)
	}
	for q, want := range map[string]string{"piet": "0 accounts", "sofie": "0 accounts", "Kantoor": "0 accounts", "Peeters": "30 accounts"} {
		if _, body := marie.get("/admin/accounts?q=" + url.QueryEscape(q)); !strings.Contains(body, want) {
			t.Errorf("marie searching %q: want %q", q, want)
		}
	}
	if _, body := marie.get(fmt.Sprintf("/admin/accounts?office=%d", e.other.ID)); strings.Contains(body, "piet@") {
		t.Error("marie sees another office through the office filter")
	}
	for q, want := range map[string]string{"q=piet": "piet@example.be", "q=kantoor": "paul@example.be", "type=group": "sofie@example.be",
		fmt.Sprintf("office=%d", e.other.ID): "2 accounts found"} {
		if _, body := sofie.get("/admin/accounts?" + q); !strings.Contains(body, want) {
			t.Errorf("sofie, %s: want %q", q, want)
		}
	}
	if _, body := sofie.get("/admin/accounts"); !strings.Contains(body, `<select id="office"`) {
		t.Error("support has no office filter")
	}
	if _, body := marie.get("/admin/accounts"); strings.Contains(body, `<select id="office"`) {
		t.Error("an office administrator gets an office filter")
	}
}

// TestConsoleCreateAccount: an office administrator creates Tiers users of
// their office only; an empty password e-mails a reset link.
func TestConsoleCreateAccount(t *testing.T) {
	e := newAdminEnv(t)
	e.web.opts.Passwords.PublicURL = "https://sesame.example"
	marie := e.as("marie")
	marie.get("/admin/accounts/new")
	st, body := marie.post("/admin/accounts/new", url.Values{"account_type": {"tiers"}, "identifier": {" Nieuw@Example.be "}, "name": {"Nieuw"}, "lang": {"nl"}})
	if st != 200 || !strings.Contains(body, "nieuw@example.be was created and an e-mail sent") {
		t.Fatalf("create: %d\n%s", st, body)
	}
	a, err := e.store.FindAccount(context.Background(), account.Tiers, "nieuw@example.be")
	if err != nil || a.OfficeID != e.office.ID || a.Role != account.RoleUser || a.Lang != i18n.NL {
		t.Fatalf("created %+v, %v", a, err)
	}
	mails, _ := e.store.ClaimMail(context.Background(), e.clock.Now(), time.Minute, 100)
	if len(mails) == 0 || mails[len(mails)-1].Kind != "password_reset" || mails[len(mails)-1].To.Email != "nieuw@example.be" {
		t.Errorf("no reset e-mail for the new account")
	}
	tests := []struct {
		form  url.Values
		field string
		key   string
	}{
		{url.Values{"account_type": {"tiers"}, "identifier": {"x@example.be"}, "name": {"X"}, "lang": {"fr"}, "office": {fmt.Sprint(e.other.ID)}}, "office", "admin.error.office"},
		{url.Values{"account_type": {"tiers"}, "identifier": {"x@example.be"}, "name": {"X"}, "lang": {"fr"}, "role": {"office_admin"}}, "role", "admin.error.role"},
		{url.Values{"account_type": {"group"}, "identifier": {"x@example.be"}, "name": {"X"}, "lang": {"fr"}}, "account_type", "admin.error.type"},
		{url.Values{"account_type": {"tiers"}, "identifier": {"not an address"}, "name": {"X"}, "lang": {"fr"}}, "identifier", "admin.error.identifier"},
		{url.Values{"account_type": {"tiers"}, "identifier": {"x@example.be"}, "name": {""}, "lang": {"fr"}}, "name", "error.required"},
		{url.Values{"account_type": {"tiers"}, "identifier": {"x@example.be"}, "name": {"X\u2028Y"}, "lang": {"fr"}}, "name", "admin.error.name"},
		{url.Values{"account_type": {"tiers"}, "identifier": {"x@example.be"}, "name": {"X"}, "lang": {"de"}}, "lang", "admin.error.lang"},
		{url.Values{"account_type": {"tiers"}, "identifier": {"x@example.be"}, "name": {"X"}, "lang": {"fr"}, "password": {"short"}}, "password", "password.error.too_short"},
		{url.Values{"account_type": {"tiers"}, "identifier": {"x@example.be"}, "name": {"X"}, "lang": {"fr"}, "office": {"abc"}}, "office", "admin.error.office"},
		{url.Values{"account_type": {"tiers"}, "identifier": {"jan@example.be"}, "name": {"X"}, "lang": {"fr"}}, "identifier", "admin.error.exists"},
	}
	for _, tt := range tests {
		st, body := marie.post("/admin/accounts/new", tt.form)
		want := e.web.cat.T(i18n.EN, tt.key, nil)
		if st != 422 && st != 409 || !strings.Contains(body, want) {
			t.Errorf("%v: %d, want 422 or 409 with %q", tt.form, st, want)
		}
	}
	if _, err := e.store.FindAccount(context.Background(), account.Tiers, "x@example.be"); err == nil {
		t.Error("a refused form created an account")
	}
}

// TestConsoleRefusesLookAlikeIdentifiers: an identifier that could pass
// for another address gets its own message, in the page's language, and
// creates nothing.
func TestConsoleRefusesLookAlikeIdentifiers(t *testing.T) {
	e := newAdminEnv(t)
	sofie := e.as("sofie")
	tests := []struct {
		identifier string
		key        string
	}{
		{"pay\u200bpal@example.be", "admin.error.identifier_invisible"},
		{"jan\u202eeb.elpmaxe@example.be", "admin.error.identifier_invisible"},
		{"\uff50aypal@example.be", "admin.error.identifier_character"},
		{"p\u0430ypal@example.be", "admin.error.identifier_mixed_script"},
		{"pay\u03bfpal@example.be", "admin.error.identifier_mixed_script"},
	}
	for _, l := range langs {
		sofie.lang = l.accept
		for _, tt := range tests {
			st, _ := sofie.post("/admin/accounts/new", url.Values{"account_type": {"client"}, "identifier": {tt.identifier}, "name": {"X"}, "lang": {"fr"}})
			want := e.msg(l.lang, tt.key)
			if st != http.StatusUnprocessableEntity || !strings.Contains(sofie.text(), want) {
				t.Errorf("%s, %+q: %d, want 422 with %q", l.lang, tt.identifier, st, want)
			}
			norm, err := account.NormalizeIdentifier(tt.identifier)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := e.store.FindAccount(context.Background(), account.Client, norm); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("%+q: an account was created (%v)", tt.identifier, err)
			}
		}
	}
}

// TestConsoleCSRF: every console form refuses a missing or wrong token
// and a cross-site request, and changes nothing.
func TestConsoleCSRF(t *testing.T) {
	e := newAdminEnv(t)
	sofie := e.as("sofie")
	jan := e.acc["jan"]
	e.prepare("jan")
	forms := []struct {
		path string
		form url.Values
	}{
		{"/admin/accounts/new", url.Values{"account_type": {"client"}, "identifier": {"csrf@example.be"}, "name": {"C"}, "lang": {"fr"}}},
	}
	for _, a := range admin.Actions {
		forms = append(forms, struct {
			path string
			form url.Values
		}{fmt.Sprintf("/admin/accounts/%d/%s", jan.ID, a), url.Values{}})
	}
	before, _ := e.store.GetAccount(context.Background(), jan.ID)
	for _, f := range forms {
		for name, token := range map[string]string{"missing": "", "wrong": "AAAAAAAAAAAAAAAAAAAAAA"} {
			v := url.Values{}
			for k, x := range f.form {
				v[k] = x
			}
			v.Set("csrf", token)
			if st, _ := sofie.post(f.path, v); st != 403 {
				t.Errorf("%s, %s token: %d, want 403", f.path, name, st)
			}
		}
		v := url.Values{"csrf": {sofie.csrf()}}
		req, _ := http.NewRequest("POST", e.srv.URL+f.path, strings.NewReader(v.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", "https://evil.example")
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		if st, _ := sofie.do(req); st != 403 {
			t.Errorf("%s cross-site: %d, want 403", f.path, st)
		}
	}
	after, _ := e.store.GetAccount(context.Background(), jan.ID)
	if after != before {
		t.Errorf("refused requests changed the account:\n%+v\n%+v", before, after)
	}
	if _, err := e.store.GetAuthenticator(context.Background(), jan.ID); err != nil {
		t.Error("refused requests unlinked the authenticator")
	}
	if _, err := e.store.FindAccount(context.Background(), account.Client, "csrf@example.be"); err == nil {
		t.Error("a refused request created an account")
	}
}

// TestConsoleBadInput: hostile or broken input on every console page gets
// a clear 4xx, never a 5xx, and changes nothing.
func TestConsoleBadInput(t *testing.T) {
	e := newAdminEnv(t)
	sofie := e.as("sofie")
	jan := e.acc["jan"].ID
	gets := map[string]int{
		"/admin/accounts?q=" + strings.Repeat("a", 2000):                      400,
		"/admin/accounts?q=" + url.QueryEscape(strings.Repeat("é", 300)):      400,
		"/admin/accounts?q=a%00b":                                             400,
		"/admin/accounts?q=%ff%fe":                                            400,
		"/admin/accounts?q=a&q=b":                                             400,
		"/admin/accounts?page=-1":                                             400,
		"/admin/accounts?page=99999999999999999999":                           400,
		"/admin/accounts?page=1000":                                           400,
		"/admin/accounts?type=root":                                           400,
		"/admin/accounts?office=x":                                            400,
		"/admin/accounts?q=" + url.QueryEscape(`' OR 1=1 --`):                 200,
		"/admin/accounts?q=" + url.QueryEscape(`"><script>alert(1)</script>`): 200,
		"/admin/accounts/abc":                                                 404,
		"/admin/accounts/-1":                                                  404,
		"/admin/accounts/0":                                                   404,
		"/admin/accounts/007":                                                 404,
		"/admin/accounts/99999999999999999999999":                             404,
		fmt.Sprintf("/admin/accounts/%d/delete", jan):                         404,
		fmt.Sprintf("/admin/accounts/%d/../../admin", jan):                    404, // cleaned by the mux to /admin/admin
		fmt.Sprintf("/admin/accounts/%d?done=%%00", jan):                      400,
		fmt.Sprintf("/admin/accounts/%d?done=nothing", jan):                   200,
		"/admin/audit?from=%ff":                                               400,
		"/admin/audit?to=%c0%80":                                              400,
		"/admin/audit?from=2026-13-01":                                        400,
		"/admin/audit?from=yesterday":                                         400,
		"/admin/audit?from=2026-11-30&to=2026-11-01":                          400,
		"/admin/audit?account=abc":                                            400,
		"/admin/audit?account=999999":                                         404,
		"/admin/audit?before=-5":                                              400,
		"/admin/audit.csv?from=" + strings.Repeat("9", 50):                    400,
	}
	for path, want := range gets {
		if st, body := sofie.get(path); st != want {
			t.Errorf("GET %s: %d, want %d\n%.300s", path, st, want, body)
		} else if strings.Contains(body, "<script>alert(1)") {
			t.Errorf("GET %s: the query is echoed unescaped", path)
		} else if !utf8.ValidString(body) {
			t.Errorf("GET %s: the page is not UTF-8 (the query echoed raw)", path)
		}
	}

	action := fmt.Sprintf("/admin/accounts/%d/account_unlock", jan)
	e.prepare("jan")
	token := sofie.csrf()
	raw := func(path, ctype, body string) int {
		req, _ := http.NewRequest("POST", e.srv.URL+path, strings.NewReader(body))
		req.Header.Set("Content-Type", ctype)
		req.Header.Set("Origin", e.srv.URL)
		st, _ := sofie.do(req)
		return st
	}
	form := "application/x-www-form-urlencoded"
	posts := []struct {
		path, ctype, body string
		want              int
	}{
		{action, "text/plain", "csrf=" + token, 415},
		{action, "multipart/form-data; boundary=x", "--x--", 415},
		{action, form, "csrf=" + token + "&totp=1&totp=2", 400},
		{action, form, "csrf=" + token + "&totp=%00", 400},
		{action, form, "csrf=" + token + "&totp=%ff", 400},
		{action, form, "csrf=" + token + "&totp=" + strings.Repeat("1", 2000), 400},
		{action, form, "csrf=" + token + "&x=" + strings.Repeat("a", 20000), 413},
		{action, form, "csrf=" + token + "&%zz", 400},
		{"/admin/accounts/new", form, "csrf=" + token + "&name=a&name=b", 400},
		{"/admin/accounts/new", form, "csrf=" + token + "&identifier=" + strings.Repeat("a", 2000), 400},
		{"/admin/accounts/new", form, "csrf=" + token + "&account_type=tiers&identifier=x%40example.be&name=X%0D%0ABcc%3A+y&lang=fr&office=1", 422},
		{"/admin/accounts/new", form, "csrf=" + token + "&account_type=root&identifier=x%40example.be&name=X&lang=fr", 422},
		{"/admin/accounts/abc/account_unlock", form, "csrf=" + token, 404},
		{fmt.Sprintf("/admin/accounts/%d/delete", jan), form, "csrf=" + token, 404},
	}
	for _, p := range posts {
		if st := raw(p.path, p.ctype, p.body); st != p.want {
			t.Errorf("POST %s (%s) %.60q: %d, want %d", p.path, p.ctype, p.body, st, p.want)
		}
	}
	if a, _ := e.store.GetAccount(context.Background(), jan); a.FailedAttempts == 0 {
		t.Error("a refused request unlocked the account")
	}
	if st, _ := sofie.post(action, nil); st != 200 {
		t.Errorf("the well-formed request after them: %d", st)
	}
	if st, _ := sofie.post(action, nil); st != 409 {
		t.Errorf("unlocking an unlocked account: %d, want 409", st)
	}
}

// TestConsoleCatalog: every message key the console uses — written in its
// templates, or made from action, role, language, outcome and error names —
// is in every language.
func TestConsoleCatalog(t *testing.T) {
	e := newEnv(t)
	keys := map[string]bool{"nav.admin": true}
	pages, _ := filepath.Glob("pages/admin_*.html")
	static := regexp.MustCompile(`\.T "([a-z_.]+)"`)
	for _, p := range pages {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range static.FindAllStringSubmatch(string(b), -1) {
			keys[m[1]] = true
		}
	}
	for _, a := range admin.Actions {
		keys["admin.action."+string(a)], keys["admin.confirm."+string(a)], keys["admin.done."+string(a)] = true, true, true
	}
	for k := range outcomes {
		keys["admin.done."+k] = true
	}
	for _, r := range []string{"user", "office_admin", "support"} {
		keys["admin.role."+r] = true
	}
	for _, l := range i18n.Supported {
		keys["admin.lang."+string(l)] = true
	}
	for _, o := range []string{"success", "failure", "denied"} {
		keys["admin.outcome."+o] = true
	}
	// The admin package's error keys, read from its source so none is missed.
	src, _ := filepath.Glob("../admin/*.go")
	errKey := regexp.MustCompile(`"(admin\.error\.[a-z_]+)"`)
	for _, p := range src {
		b, _ := os.ReadFile(p)
		for _, m := range errKey.FindAllStringSubmatch(string(b), -1) {
			keys[m[1]] = true
		}
	}
	self, _ := os.ReadFile("admin.go")
	for _, m := range errKey.FindAllStringSubmatch(string(self), -1) {
		keys[m[1]] = true
	}
	if len(keys) < 100 {
		t.Fatalf("only %d keys found: the test lost its sources", len(keys))
	}
	for k := range keys {
		if !e.web.cat.Has(k) {
			t.Errorf("key %q is not in the catalog", k)
		}
	}
}
