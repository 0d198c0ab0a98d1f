package finagora

import (
	"encoding/json"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"sesame/internal/i18n"
	"sesame/internal/simulation"
)

// testNow is the clock of the tests: the vector's person, born on
// 24/04/1990, is exactly 35.
var testNow = time.Date(2025, 4, 24, 15, 4, 5, 0, time.UTC)

func newHandler(t *testing.T) http.Handler {
	t.Helper()
	h, err := New(Options{Basis: simulation.DefaultBasis(), Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func do(h http.Handler, req *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func postForm(h http.Handler, lang string, form url.Values) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, "/simulation", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept-Language", lang)
	return do(h, req)
}

// vectorForm is SIMULATION.md's test vector as a person types it.
func vectorForm() url.Values {
	return url.Values{
		"persons": {"1"}, "birth_date_1": {"24/04/1990"}, "smoker_1": {"no"},
		"birth_date_2": {""}, "smoker_2": {"no"},
		"capital": {"200 000"}, "drawdown": {"0"}, "duration": {"240"}, "rate": {"3,5"}, "tariff": {"whole_term"},
	}
}

func with(form url.Values, kv ...string) url.Values {
	f := url.Values{}
	for k, v := range form {
		f[k] = append([]string(nil), v...)
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "<absent>" {
			f.Del(kv[i])
		} else {
			f.Set(kv[i], kv[i+1])
		}
	}
	return f
}

func wantContains(t *testing.T, name, body string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(body, w) {
			t.Errorf("%s: page lacks %q", name, w)
		}
	}
}

func TestHomePage(t *testing.T) {
	h := newHandler(t)
	tests := []struct {
		accept string
		wants  []string
	}{
		{"fr-BE,fr;q=0.9", []string{`<html lang="fr">`, "Effectuer une simulation rapide",
			"Tous les champs sont obligatoires sauf si mention contraire", "Profil des personnes à assurer",
			"Nombre de personnes à assurer", "Date de naissance :", "Fumeur :", "Oui", "Non", "Détails du prêt",
			"Capital à assurer :", "Période de prélèvement (Optionnel) :", "Durée :", "Taux d&#39;intérêt annuel :",
			"Type de tarif", "Garantie pendant les trois premières années du contrat", "Calculer",
			"Démarrer une simulation complète", "Souscrire à cette offre", "Se connecter",
			`name="drawdown" value="0"`, `value="1" checked`, `value="three_years" selected`,
			`<label for="capital">`, `<label for="birth_date_1">`, `type="date"`}},
		{"nl-BE", []string{`<html lang="nl">`, "Een snelle simulatie maken",
			"Alle velden zijn verplicht, tenzij anders aangegeven", "Aantal te verzekeren personen",
			"Geboortedatum:", "Roker:", "Ja", "Nee", "Details krediet", "Te verzekeren kapitaal:",
			"Opnameperiode (Optioneel):", "Duurtijd:", "maand(en)", "Jaarlijkse interestvoet:", "Type tarief",
			"Gewaarborgd gedurende de eerste drie jaar van het contract", "Berekenen",
			"Een volledige simulatie starten", "Deze offerte onderschrijven", "Inloggen"}},
		{"en-GB", []string{`<html lang="en">`, "Make a quick simulation", "Calculate"}},
	}
	for _, tt := range tests {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.Header.Set("Accept-Language", tt.accept)
		rec := do(h, req)
		if rec.Code != http.StatusOK {
			t.Fatalf("%s: status %d", tt.accept, rec.Code)
		}
		wantContains(t, tt.accept, rec.Body.String(), tt.wants...)
		if strings.Contains(rec.Body.String(), "<script") {
			t.Errorf("%s: the page has a script; it must work without one", tt.accept)
		}
	}
}

func TestSecurityHeaders(t *testing.T) {
	h := newHandler(t)
	for _, path := range []string{"/", "/login", "/nowhere", "/static/finagora.css"} {
		rec := do(h, httptest.NewRequest(http.MethodGet, path, nil))
		csp := rec.Header().Get("Content-Security-Policy")
		if !strings.Contains(csp, "default-src 'none'") || strings.Contains(csp, "unsafe-inline") ||
			rec.Header().Get("X-Content-Type-Options") != "nosniff" || rec.Header().Get("X-Frame-Options") != "DENY" {
			t.Errorf("%s: headers %v", path, rec.Header())
		}
	}
}

// HSTS and the Secure language cookie go only where the browser gets the
// response over https: a forged X-Forwarded-Proto on plain http must not
// bring them, a trusted proxy's must.
func TestHSTS(t *testing.T) {
	tests := []struct {
		name       string
		tls        bool
		trustProxy bool
		proto      string // X-Forwarded-Proto
		want       bool
	}{
		{"plain http", false, false, "", false},
		{"plain http, forged X-Forwarded-Proto", false, false, "https", false},
		{"trusted proxy, https", false, true, "https", true},
		{"trusted proxy, http", false, true, "http", false},
		{"trusted proxy, no header", false, true, "", false},
		{"TLS", true, false, "", true},
		{"TLS, X-Forwarded-Proto http", true, true, "http", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := New(Options{Basis: simulation.DefaultBasis(), TrustProxy: tt.trustProxy})
			if err != nil {
				t.Fatal(err)
			}
			newServer := httptest.NewServer
			if tt.tls {
				newServer = httptest.NewTLSServer
			}
			srv := newServer(h)
			defer srv.Close()
			req, _ := http.NewRequest(http.MethodGet, srv.URL+"/?lang=nl", nil)
			if tt.proto != "" {
				req.Header.Set("X-Forwarded-Proto", tt.proto)
			}
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if got := resp.Header.Get("Strict-Transport-Security") != ""; got != tt.want {
				t.Errorf("HSTS sent: %v, want %v (%q)", got, tt.want, resp.Header.Get("Strict-Transport-Security"))
			}
			cookies := resp.Cookies()
			if len(cookies) != 1 || cookies[0].Secure != tt.want {
				t.Errorf("language cookie %v, want one with Secure %v", cookies, tt.want)
			}
		})
	}
}

func TestSimulationResult(t *testing.T) {
	h := newHandler(t)
	tests := []struct {
		lang  string
		wants []string
	}{
		{"fr", []string{"Résultat de la simulation", "Simulation du 24/04/2025",
			"Mensualité du prêt", "1 154,28 €", "Prime unique hors taxe", "6 430,05 €",
			"Prime unique taxe comprise (1,1 %)", "6 500,78 €", "Prime annuelle hors taxe", "578,82 €",
			"Soit par semestre", "295,20 €", "Soit par trimestre", "149,05 €", "Soit par mois", "50,16 €",
			"Période de paiement", "13 ans", "35 ans", "100 %",
			"192 927,78 €", "117 033,06 €", "<td>240</td><td class=\"num amount\">0,00 €",
			"Garantie pendant toute la durée du contrat", "n&#39;engage pas l&#39;assureur",
			`value="1990-04-24"`, `value="200 000"`, `value="3,5"`}},
		{"nl", []string{"Resultaat van de simulatie", "Maandelijkse aflossing van het krediet", "€ 1.154,28",
			"Koopsom zonder taks", "€ 6.430,05", "Koopsom inclusief taks (1,1%)", "€ 6.500,78",
			"Jaarpremie zonder taks", "€ 578,82", "Of per semester", "€ 295,20", "Of per kwartaal", "€ 149,05",
			"Of per maand", "€ 50,16", "13 jaar", "€ 192.927,78", "Schuldsaldo",
			"Gewaarborgd gedurende de volledige looptijd van het contract", "medische acceptatie"}},
		{"en", []string{"Simulation result", "€1,154.28", "€6,430.05", "€578.82", "13 years"}},
	}
	for _, tt := range tests {
		rec := postForm(h, tt.lang, vectorForm())
		if rec.Code != http.StatusOK {
			t.Fatalf("%s: status %d\n%s", tt.lang, rec.Code, rec.Body)
		}
		wantContains(t, tt.lang, rec.Body.String(), tt.wants...)
		if strings.Contains(rec.Body.String(), `class="error"`) {
			t.Errorf("%s: a valid form shows an error", tt.lang)
		}
	}
}

func TestSimulationForms(t *testing.T) {
	h := newHandler(t)
	tests := []struct {
		name  string
		form  url.Values
		wants []string
	}{
		{"drawdown and three-year tariff", with(vectorForm(), "drawdown", "24", "tariff", "three_years", "rate", "3.5 %"),
			[]string{"après une période de prélèvement de 24 mois", "revu, à la hausse comme à la baisse", "Garantie pendant les trois premières années du contrat"}},
		{"amount typed the Dutch way", with(vectorForm(), "capital", "200.000,00"), []string{"1 154,28 €"}},
		{"browser date input", with(vectorForm(), "birth_date_1", "1990-04-24"), []string{"1 154,28 €"}},
		{"two persons", with(vectorForm(), "persons", "2", "birth_date_2", "03/11/1980", "smoker_2", "yes"),
			[]string{`<tr><th scope="row">2</th><td>44 ans</td><td>Oui</td>`, `value="2" checked`}},
		// Without JavaScript the second person's fields are always sent;
		// with one person they are ignored, whatever they hold.
		{"one person ignores the second's fields", with(vectorForm(), "birth_date_2", "garbage", "smoker_2", "maybe"),
			[]string{"6 430,05 €"}},
		{"missing drawdown means 0", with(vectorForm(), "drawdown", "<absent>"), []string{"1 154,28 €"}},
	}
	for _, tt := range tests {
		rec := postForm(h, "fr", tt.form)
		if rec.Code != http.StatusOK {
			t.Fatalf("%s: status %d\n%s", tt.name, rec.Code, rec.Body)
		}
		wantContains(t, tt.name, rec.Body.String(), tt.wants...)
	}

	one := postForm(h, "fr", vectorForm()).Body.String()
	if regexp.MustCompile(`<th scope="row">2</th><td>\d+ ans</td>`).MatchString(one) {
		t.Error("one person: the result lists a second person")
	}
}

// TestSimulationErrors posts each kind of bad input, in French and Dutch,
// and checks the message next to its field, linked by aria-describedby.
func TestSimulationErrors(t *testing.T) {
	h := newHandler(t)
	tests := []struct {
		name   string
		change []string
		field  string // the id of the described input
		fr, nl string
	}{
		{"missing date", []string{"birth_date_1", ""}, "birth_date_1", "Ce champ est obligatoire.", "Dit veld is verplicht."},
		{"bad date", []string{"birth_date_1", "31/02/1990"}, "birth_date_1", "Saisissez une date valide au format jj/mm/aaaa.", "Vul een geldige datum in"},
		{"born tomorrow", []string{"birth_date_1", "25/04/2025"}, "birth_date_1", "La date de naissance ne peut pas être dans le futur.", "De geboortedatum kan niet in de toekomst liggen."},
		{"17", []string{"birth_date_1", "25/04/2007"}, "birth_date_1", "doit avoir au moins 18 ans", "moet minstens 18 jaar oud zijn"},
		{"71", []string{"birth_date_1", "24/04/1954", "duration", "12"}, "birth_date_1", "ne peut pas avoir plus de 70 ans", "niet ouder zijn dan 70 jaar"},
		{"past 80 at the end", []string{"birth_date_1", "01/01/1960"}, "birth_date_1", "aurait plus de 80 ans à la fin du prêt", "ouder zijn dan 80 jaar"},
		{"second person missing", []string{"persons", "2"}, "birth_date_2", "Ce champ est obligatoire.", "Dit veld is verplicht."},
		{"missing smoker", []string{"smoker_1", "<absent>"}, "smoker_1-yes", "Ce champ est obligatoire.", "Dit veld is verplicht."},
		{"smoker neither", []string{"smoker_1", "perhaps"}, "smoker_1-no", "Choisissez une des options proposées.", "Kies een van de voorgestelde opties."},
		{"three persons", []string{"persons", "3"}, "persons-1", "Choisissez 1 ou 2 personnes à assurer.", "Kies 1 of 2 te verzekeren personen."},
		{"missing capital", []string{"capital", ""}, "capital", "Ce champ est obligatoire.", "Dit veld is verplicht."},
		{"capital text", []string{"capital", "deux cent mille"}, "capital", "Saisissez un nombre, par exemple 3,5.", "Vul een getal in, bijvoorbeeld 3,5."},
		{"capital 0", []string{"capital", "0"}, "capital", "Le capital à assurer doit être supérieur à 0 €.", "moet groter zijn dan € 0."},
		{"capital negative", []string{"capital", "-5000"}, "capital", "doit être supérieur à 0 €", "moet groter zijn dan € 0"},
		{"capital too high", []string{"capital", "5 000 001"}, "capital", "ne peut pas dépasser 5 000 000 €.", "mag niet hoger zijn dan € 5.000.000."},
		{"missing duration", []string{"duration", " "}, "duration", "Ce champ est obligatoire.", "Dit veld is verplicht."},
		{"duration 11", []string{"duration", "11"}, "duration", "La durée doit être d&#39;au moins 12 mois.", "De duurtijd moet minstens 12 maanden zijn."},
		{"duration 481", []string{"duration", "481", "birth_date_1", "01/01/2000"}, "duration", "La durée ne peut pas dépasser 480 mois.", "mag niet langer zijn dan 480 maanden"},
		{"duration half", []string{"duration", "240,5"}, "duration", "Saisissez un nombre entier de mois.", "Vul een geheel aantal maanden in."},
		{"drawdown = duration", []string{"drawdown", "240"}, "drawdown", "doit être plus courte que la durée du prêt (240 mois)", "moet korter zijn dan de duurtijd van het krediet (240 maanden)"},
		{"drawdown negative", []string{"drawdown", "-1"}, "drawdown", "ne peut pas être négative", "kan niet negatief zijn"},
		{"drawdown text", []string{"drawdown", "six"}, "drawdown", "Saisissez un nombre entier de mois.", "Vul een geheel aantal maanden in."},
		{"missing rate", []string{"rate", ""}, "rate", "Ce champ est obligatoire.", "Dit veld is verplicht."},
		{"rate negative", []string{"rate", "-0,5"}, "rate", "Le taux d&#39;intérêt ne peut pas être négatif.", "De interestvoet kan niet negatief zijn."},
		{"rate absurd", []string{"rate", "20"}, "rate", "doit être inférieur à 20 %.", "moet lager zijn dan 20%."},
		{"rate NaN", []string{"rate", "NaN"}, "rate", "Saisissez un nombre", "Vul een getal in"},
		{"rate Inf", []string{"rate", "Inf"}, "rate", "Saisissez un nombre", "Vul een getal in"},
		{"rate huge", []string{"rate", "1e308"}, "rate", "Saisissez un nombre", "Vul een getal in"},
		{"tariff", []string{"tariff", "cheapest"}, "tariff", "Choisissez un type de tarif.", "Kies een type tarief."},
		{"missing tariff", []string{"tariff", "<absent>"}, "tariff", "Ce champ est obligatoire.", "Dit veld is verplicht."},
	}
	for _, tt := range tests {
		for _, lang := range []string{"fr", "nl"} {
			want := map[string]string{"fr": tt.fr, "nl": tt.nl}[lang]
			rec := postForm(h, lang, with(vectorForm(), tt.change...))
			body := rec.Body.String()
			if rec.Code != http.StatusUnprocessableEntity {
				t.Errorf("%s/%s: status %d, want 422", tt.name, lang, rec.Code)
				continue
			}
			wantContains(t, tt.name+"/"+lang, body, want)
			// The message sits in an element the field points to.
			errID := strings.TrimSuffix(strings.TrimSuffix(tt.field, "-yes"), "-no")
			errID = strings.TrimSuffix(errID, "-1") + "-error"
			if tt.field == "persons-1" {
				errID = "persons-error"
			}
			input := regexp.MustCompile(`<(input|select)[^>]*id="` + regexp.QuoteMeta(tt.field) + `"[^>]*>`).FindString(body)
			if !strings.Contains(input, "aria-describedby=\"") || !strings.Contains(input, errID) || !strings.Contains(input, `aria-invalid="true"`) {
				t.Errorf("%s/%s: input %q does not point to #%s", tt.name, lang, input, errID)
			}
			if !regexp.MustCompile(`<p class="error" id="` + regexp.QuoteMeta(errID) + `">[^<]*` + regexp.QuoteMeta(want)).MatchString(body) {
				t.Errorf("%s/%s: no message %q in #%s", tt.name, lang, want, errID)
			}
			if strings.Contains(body, `id="result-title"`) {
				t.Errorf("%s/%s: a result is shown despite the error", tt.name, lang)
			}
			// What the person typed is shown back as typed; nothing else may be NaN.
			if shown := regexp.MustCompile(`value="[^"]*"`).ReplaceAllString(body, ""); strings.Contains(shown, "NaN") || strings.Contains(shown, "Inf") {
				t.Errorf("%s/%s: the page shows NaN or Inf", tt.name, lang)
			}
		}
	}
}

// TestBadRequests sends what no browser sends: never a 500, always a page.
func TestBadRequests(t *testing.T) {
	h := newHandler(t)
	big := strings.NewReader("capital=" + strings.Repeat("9", maxBody))
	req := httptest.NewRequest(http.MethodPost, "/simulation", big)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept-Language", "nl")
	if rec := do(h, req); rec.Code != http.StatusRequestEntityTooLarge || !strings.Contains(rec.Body.String(), "Aanvraag te groot") {
		t.Errorf("too large: %d\n%s", rec.Code, rec.Body)
	}

	req = httptest.NewRequest(http.MethodPost, "/simulation", strings.NewReader("a=%zz"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if rec := do(h, req); rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "Demande incorrecte") {
		t.Errorf("malformed: %d\n%s", rec.Code, rec.Body)
	}

	req = httptest.NewRequest(http.MethodPost, "/simulation", strings.NewReader("{}"))
	req.Header.Set("Content-Type", "application/json")
	if rec := do(h, req); rec.Code != http.StatusUnprocessableEntity {
		t.Errorf("no form: %d", rec.Code)
	}

	req = httptest.NewRequest(http.MethodPost, "/simulation", strings.NewReader(vectorForm().Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	if rec := do(h, req); rec.Code != http.StatusForbidden || !strings.Contains(rec.Body.String(), "Demande refusée") {
		t.Errorf("cross-site: %d\n%s", rec.Code, rec.Body)
	}

	if rec := do(h, httptest.NewRequest(http.MethodGet, "/nowhere", nil)); rec.Code != http.StatusNotFound || !strings.Contains(rec.Body.String(), "Page introuvable") {
		t.Errorf("not found: %d", rec.Code)
	}
	if rec := do(h, httptest.NewRequest(http.MethodGet, "/static/", nil)); rec.Code != http.StatusNotFound {
		t.Errorf("static listing: %d", rec.Code)
	}
	if rec := do(h, httptest.NewRequest(http.MethodGet, "/simulation?lang=nl", nil)); rec.Code != http.StatusSeeOther {
		t.Errorf("GET /simulation: %d", rec.Code)
	}
	rec := do(h, httptest.NewRequest(http.MethodGet, "/static/finagora.css", nil))
	if rec.Code != http.StatusOK || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/css") {
		t.Errorf("stylesheet: %d %s", rec.Code, rec.Header().Get("Content-Type"))
	}
}

// TestLoginPlaceholder: without an issuer, /login says log-in is not
// configured, and the pages behind log-in lead there.
func TestLoginPlaceholder(t *testing.T) {
	h := newHandler(t)
	req := httptest.NewRequest(http.MethodGet, "/login?lang=nl", nil)
	rec := do(h, req)
	wantContains(t, "login", rec.Body.String(), "single sign-on", "Sesame", "niet ingesteld", "Terug naar de startpagina")
	home := do(h, httptest.NewRequest(http.MethodGet, "/", nil)).Body.String()
	for _, link := range []string{`href="/login"`, `href="/simulation/complete"`, `href="/subscription"`} {
		if n := strings.Count(home, link); n != 1 {
			t.Errorf("home page: %d %s, want 1 (log in, full simulation, subscribe)", n, link)
		}
	}
	for _, path := range []string{"/espace", "/simulation/complete", "/subscription"} {
		rec := do(h, httptest.NewRequest(http.MethodGet, path, nil))
		if loc := rec.Header().Get("Location"); rec.Code != http.StatusSeeOther || loc != "/login?next="+url.QueryEscape(path) {
			t.Errorf("%s: %d → %q, want a redirect to the log-in", path, rec.Code, loc)
		}
	}
	for _, path := range []string{"/callback?code=x&state=y", "/nowhere"} {
		if rec := do(h, httptest.NewRequest(http.MethodGet, path, nil)); rec.Code != http.StatusNotFound {
			t.Errorf("%s without single sign-on: %d, want 404", path, rec.Code)
		}
	}
}

func TestLanguageChoice(t *testing.T) {
	h := newHandler(t)
	req := httptest.NewRequest(http.MethodGet, "/?lang=NL", nil)
	req.Header.Set("Accept-Language", "fr")
	rec := do(h, req)
	if !strings.Contains(rec.Body.String(), `<html lang="nl">`) {
		t.Error("?lang=NL did not switch to Dutch")
	}
	var cookie *http.Cookie
	for _, c := range rec.Result().Cookies() {
		if c.Name == i18n.CookieName {
			cookie = c
		}
	}
	if cookie == nil || cookie.Value != "nl" || !cookie.HttpOnly || cookie.Path != "/" {
		t.Fatalf("lang cookie = %+v", cookie)
	}

	req = httptest.NewRequest(http.MethodGet, "/", nil)
	req.Header.Set("Accept-Language", "fr")
	req.AddCookie(&http.Cookie{Name: i18n.CookieName, Value: "nl"})
	if body := do(h, req).Body.String(); !strings.Contains(body, `<html lang="nl">`) {
		t.Error("the lang cookie is not remembered")
	}

	req = httptest.NewRequest(http.MethodGet, "/?lang=de", nil)
	req.Header.Set("Accept-Language", "de-DE")
	if body := do(h, req).Body.String(); !strings.Contains(body, `<html lang="fr">`) {
		t.Error("an unsupported language does not fall back to the default")
	}

	nl, err := New(Options{Basis: simulation.DefaultBasis(), DefaultLang: i18n.NL})
	if err != nil {
		t.Fatal(err)
	}
	if body := do(nl, httptest.NewRequest(http.MethodGet, "/", nil)).Body.String(); !strings.Contains(body, `<html lang="nl">`) {
		t.Error("DefaultLang is not used")
	}
}

func TestNewRejectsBadOptions(t *testing.T) {
	bad := simulation.DefaultBasis()
	bad.TechnicalRate = 0.05
	for name, opts := range map[string]Options{
		"basis":    {Basis: bad},
		"language": {Basis: simulation.DefaultBasis(), DefaultLang: "de"},
		"portal":   {Basis: simulation.DefaultBasis(), PortalURL: "sesame.example"},
	} {
		if _, err := New(opts); err == nil {
			t.Errorf("%s: New accepted bad options", name)
		}
	}
	if _, err := New(Options{Basis: simulation.DefaultBasis(), PortalURL: "https://sesame.example"}); err != nil {
		t.Errorf("New: %v", err)
	}
}

// TestCatalogKeys checks that every key the templates and the code use is in
// the catalogs (which have the same keys in every language), and that the
// catalogs hold no key nothing uses.
func TestCatalogKeys(t *testing.T) {
	cat, err := loadCatalog()
	if err != nil {
		t.Fatal(err)
	}
	used := map[string]bool{}
	tmplKey := regexp.MustCompile(`\.T "([^"]+)"`)
	err = fs.WalkDir(templateFS, "templates", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(templateFS, path)
		for _, m := range tmplKey.FindAllStringSubmatch(string(data), -1) {
			used[m[1]] = true
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	// Keys written as literals in the code.
	goKey := regexp.MustCompile(`"((?:layout|home|sim|tariff|promo|result|unit|login|errorpage|error|account|feature)\.[a-z0-9_.]+)"`)
	files, _ := filepath.Glob("*.go")
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range goKey.FindAllStringSubmatch(string(data), -1) {
			used[m[1]] = true
		}
	}
	// Keys built from codes and names.
	for _, c := range append(inputCodes(), bodyCodes...) {
		used["error."+c] = true
	}
	for _, tr := range simulation.Tariffs {
		used[tariffKey(tr, "label")] = true
		used[tariffKey(tr, "meaning")] = true
	}
	for _, f := range features {
		for _, part := range []string{"title", "text", "more"} {
			used["feature."+f+"."+part] = true
		}
	}
	for _, k := range errorKinds {
		used["errorpage."+k+".title"] = true
		used["errorpage."+k+".text"] = true
	}
	for k := range used {
		if !cat.Has(k) {
			t.Errorf("key %q is used but not in the catalogs", k)
		}
	}
	for _, k := range cat.Keys() {
		if !used[k] && k != "errorpage.back" && !strings.HasPrefix(k, "error.") {
			t.Errorf("key %q is in the catalogs but unused", k)
		}
	}
	if len(used) < 100 {
		t.Errorf("found only %d keys: the scan is broken", len(used))
	}
}

func TestAPISimulation(t *testing.T) {
	h := newHandler(t)
	body := `{"persons": 1, "birth_date_1": "24/04/1990", "smoker_1": false, "capital": 200000,
		"drawdown": 0, "duration": 240, "rate": "3,5", "tariff": "whole_term"}`
	req := httptest.NewRequest(http.MethodPost, "/api/simulation?lang=nl", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	rec := do(h, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	var got apiResult
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name      string
		got, want float64
	}{
		{"monthly_payment", got.MonthlyPayment, 1154.28},
		{"net_single_premium", got.NetSinglePremium, 5465.55},
		{"single_premium", got.SinglePremium, 6430.05},
		{"single_premium_with_tax", got.SinglePremiumWithTax, 6500.78},
		{"annual_premium", got.AnnualPremium, 578.82},
		{"half_yearly_premium", got.HalfYearlyPremium, 295.20},
		{"quarterly_premium", got.QuarterlyPremium, 149.05},
		{"monthly_premium", got.MonthlyPremium, 50.16},
		{"outstanding year 1", got.Outstanding[0].Outstanding, 192927.78},
		{"outstanding year 20", got.Outstanding[19].Outstanding, 0},
		{"person quotity", got.Persons[0].Quotity, 100},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	if got.Lang != i18n.NL || got.PaymentYears != 13 || got.SimulationDate != "2025-04-24" || len(got.Outstanding) != 20 ||
		got.Tariff.Code != simulation.WholeTerm || !strings.Contains(got.Tariff.Label, "volledige looptijd") || got.Disclaimer == "" {
		t.Errorf("result = %+v", got)
	}

	// A quotity of 50 % halves the premium; quotities are only on the API.
	req = httptest.NewRequest(http.MethodPost, "/api/simulation", strings.NewReader(strings.Replace(body, `"tariff"`, `"quotity_1": "50", "tariff"`, 1)))
	req.Header.Set("Content-Type", "application/json")
	var half apiResult
	if rec := do(h, req); rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &half) != nil || half.SinglePremium != 3215.03 {
		t.Errorf("quotity 50: %d %s", rec.Code, rec.Body)
	}
}

func TestAPIErrors(t *testing.T) {
	h := newHandler(t)
	valid := `{"persons": "1", "birth_date_1": "1990-04-24", "smoker_1": "no", "capital": "200 000", "duration": "240", "rate": 3.5, "tariff": "three_years"}`
	tests := []struct {
		name, body, contentType, lang string
		status                        int
		codes                         map[string]string
		message                       string // one of the messages, in lang
	}{
		{"not JSON", `persons=1`, "application/json", "fr", 400, map[string]string{"body": "invalid_json"}, "objet JSON"},
		{"array", `[]`, "application/json", "nl", 400, map[string]string{"body": "invalid_json"}, "JSON-object"},
		{"two values", valid + valid, "application/json", "en", 400, map[string]string{"body": "invalid_json"}, "JSON object"},
		{"unknown field", `{"capitall": 1}`, "application/json", "fr", 400, map[string]string{"body": "invalid_json"}, "objet JSON"},
		{"object value", `{"capital": {"amount": 1}}`, "application/json", "fr", 400, map[string]string{"body": "invalid_json"}, "objet JSON"},
		{"form body", `persons=1`, "application/x-www-form-urlencoded", "fr", 415, map[string]string{"body": "unsupported_media_type"}, "application/json"},
		{"no content type", valid, "", "nl", 415, map[string]string{"body": "unsupported_media_type"}, "JSON"},
		{"too large", `{"capital": "` + strings.Repeat("9", maxBody) + `"}`, "application/json", "en", 413, map[string]string{"body": "request_too_large"}, "too large"},
		{"empty object", `{}`, "application/json", "nl", 422, map[string]string{
			"birth_date_1": "required", "smoker_1": "required", "capital": "required", "duration": "required",
			"rate": "required", "tariff": "required"}, "Dit veld is verplicht."},
		{"null", `null`, "application/json", "fr", 422, map[string]string{
			"birth_date_1": "required", "smoker_1": "required", "capital": "required", "duration": "required",
			"rate": "required", "tariff": "required"}, "Ce champ est obligatoire."},
		{"limits", `{"persons": 2, "birth_date_1": "2030-01-01", "smoker_1": true, "birth_date_2": "01/01/1940",
			"smoker_2": "maybe", "quotity_2": 150, "capital": -1, "drawdown": 1.5, "duration": 600, "rate": 25, "tariff": "x"}`,
			"application/json", "fr", 422, map[string]string{
				"birth_date_1": "birth_date_future", "birth_date_2": "age_too_high", "smoker_2": "invalid_choice",
				"quotity_2": "quotity", "capital": "capital_not_positive", "drawdown": "invalid_integer",
				"duration": "duration_too_long", "rate": "rate_too_high", "tariff": "tariff"},
			"Le taux d'intérêt doit être inférieur à 20 %."},
		{"persons", `{"persons": 3, "birth_date_1": "1990-04-24", "smoker_1": "no", "capital": 1e5, "duration": 120, "rate": 2, "tariff": "whole_term"}`,
			"application/json", "en", 422, map[string]string{"persons": "persons"}, "Choose 1 or 2 persons to insure."},
		{"drawdown", `{"birth_date_1": "1990-04-24", "smoker_1": "no", "capital": 1e5, "duration": 120, "drawdown": 120, "rate": 2, "tariff": "whole_term"}`,
			"application/json", "nl", 422, map[string]string{"drawdown": "drawdown_too_long"}, "(120 maanden)"},
	}
	for _, tt := range tests {
		req := httptest.NewRequest(http.MethodPost, "/api/simulation", strings.NewReader(tt.body))
		if tt.contentType != "" {
			req.Header.Set("Content-Type", tt.contentType)
		}
		req.Header.Set("Accept-Language", tt.lang)
		rec := do(h, req)
		if rec.Code != tt.status {
			t.Errorf("%s: status %d, want %d: %s", tt.name, rec.Code, tt.status, rec.Body)
			continue
		}
		if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			t.Errorf("%s: Content-Type %q", tt.name, ct)
		}
		var got apiErrors
		if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
			t.Errorf("%s: %v: %s", tt.name, err, rec.Body)
			continue
		}
		if len(got.Codes) != len(tt.codes) || len(got.Errors) != len(tt.codes) {
			t.Errorf("%s: codes %v, want %v", tt.name, got.Codes, tt.codes)
		}
		found := false
		for field, code := range tt.codes {
			if got.Codes[field] != code || got.Errors[field] == "" {
				t.Errorf("%s: %s = %q (%q), want code %q", tt.name, field, got.Codes[field], got.Errors[field], code)
			}
			found = found || strings.Contains(got.Errors[field], tt.message)
		}
		if !found {
			t.Errorf("%s: no message contains %q: %v", tt.name, tt.message, got.Errors)
		}
	}

	req := httptest.NewRequest(http.MethodPost, "/api/simulation", strings.NewReader(valid))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", "https://evil.example")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	if rec := do(h, req); rec.Code != http.StatusForbidden || !strings.Contains(rec.Body.String(), `"cross_origin"`) {
		t.Errorf("cross-site API call: %d %s", rec.Code, rec.Body)
	}
	if rec := do(h, httptest.NewRequest(http.MethodGet, "/api/nothing", nil)); rec.Code != http.StatusNotFound || !strings.Contains(rec.Body.String(), `"not_found"`) {
		t.Errorf("unknown API path: %d %s", rec.Code, rec.Body)
	}
}

// TestFormActionAllowsPortal: log-out posts here and is redirected to the
// portal's end-session endpoint; browsers apply form-action to that
// redirect, so the portal's origin must be allowed — and nothing else.
func TestFormActionAllowsPortal(t *testing.T) {
	for _, tt := range []struct{ issuer, want string }{
		{"", "form-action 'self';"},
		{"https://login.example.be/sesame", "form-action 'self' https://login.example.be;"},
		{"http://localhost:8080", "form-action 'self' http://localhost:8080;"},
	} {
		opts := Options{Basis: simulation.DefaultBasis(), Now: func() time.Time { return testNow }}
		if tt.issuer != "" {
			opts.Issuer, opts.ClientID, opts.ClientSecret = tt.issuer, "finagora", "s3cret"
			opts.RedirectURL = "https://finagora.example.be/callback"
		}
		h, err := New(opts)
		if err != nil {
			t.Fatal(err)
		}
		csp := do(h, httptest.NewRequest(http.MethodGet, "/", nil)).Header().Get("Content-Security-Policy")
		if !strings.Contains(csp, tt.want) {
			t.Errorf("issuer %q: policy %q, want %q in it", tt.issuer, csp, tt.want)
		}
	}
}
