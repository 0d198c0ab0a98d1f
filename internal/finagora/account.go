package finagora

import (
	"net/http"
	"net/url"
)

// The pages behind log-in: the logged-in area, and the full simulation and
// subscription, which this demo does not have and says so.

// requireLogin sends anonymous visitors through the log-in and back here.
func (s *server) requireLogin(h func(http.ResponseWriter, *http.Request, *current)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		cur := currentSession(r)
		if cur == nil {
			http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.Path), http.StatusSeeOther)
			return
		}
		h(w, r, cur)
	}
}

type accountPage struct {
	basePage
	Name, Email, AccountType, Office string
}

// accountTypeKeys translate the portal's account_type claim.
var accountTypeKeys = map[string]string{
	"tiers":  "account.type.tiers",  // brokers and their offices
	"group":  "account.type.group",  // the insurer's staff
	"client": "account.type.client", // the insurer's clients
}

func (s *server) handleAccount(w http.ResponseWriter, r *http.Request, cur *current) {
	l := s.language(w, r)
	typeKey, ok := accountTypeKeys[cur.AccountType]
	if !ok {
		typeKey = "account.type.unknown"
	}
	s.render(w, r, http.StatusOK, "account", accountPage{
		basePage: s.base(r, l, "/espace", "account.title"),
		Name:     cur.displayName(), Email: cur.Email, Office: cur.Office,
		AccountType: s.cat.T(l, typeKey, nil),
	})
}

// displayName is how the header and the logged-in area name the person.
func (s *session) displayName() string {
	switch {
	case s.Name != "":
		return s.Name
	case s.Email != "":
		return s.Email
	}
	return s.Sub
}

type featurePage struct {
	basePage
	Heading, Text, More string
}

// handleFeature shows the page of a part of the real extranet that this
// demo does not have (feature: "full_simulation", "subscription").
func (s *server) handleFeature(path, feature string) func(http.ResponseWriter, *http.Request, *current) {
	return func(w http.ResponseWriter, r *http.Request, _ *current) {
		l := s.language(w, r)
		s.render(w, r, http.StatusOK, "feature", featurePage{
			basePage: s.base(r, l, path, "feature."+feature+".title"),
			Heading:  s.cat.T(l, "feature."+feature+".title", nil),
			Text:     s.cat.T(l, "feature."+feature+".text", nil),
			More:     s.cat.T(l, "feature."+feature+".more", nil),
		})
	}
}

// features lists the feature pages, for the catalog test.
var features = []string{"full_simulation", "subscription"}
