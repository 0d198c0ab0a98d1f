package finagora

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math"
	"mime"
	"net/http"

	"sesame/internal/i18n"
	"sesame/internal/simulation"
)

// The JSON endpoint takes the form's fields as a JSON object, with the same
// names, and answers the whole result, or
//
//	{"errors": {"<field>": "<message>"}, "codes": {"<field>": "<code>"}}
//
// with messages in the negotiated language and stable codes (error.<code> in
// the catalogs). Problems with the request itself are reported on the field
// "body". Statuses: 200, 400 (not a JSON object of known fields), 403
// (cross-origin), 413 (over maxBody), 415 (not application/json), 422 (a
// field to correct), 500.

// Codes of problems with the request as a whole, reported on the field "body".
const (
	codeInvalidJSON      = "invalid_json"
	codeTooLarge         = "request_too_large"
	codeUnsupportedMedia = "unsupported_media_type"
	codeCrossOrigin      = "cross_origin"
	codeNotFound         = "not_found"
	codeInternal         = "internal"
)

var bodyCodes = []string{codeInvalidJSON, codeTooLarge, codeUnsupportedMedia, codeCrossOrigin, codeNotFound, codeInternal}

type apiErrors struct {
	Errors map[string]string `json:"errors"`
	Codes  map[string]string `json:"codes"`
}

type apiResult struct {
	Lang                 i18n.Lang   `json:"lang"`
	SimulationDate       string      `json:"simulation_date"` // 2006-01-02
	MonthlyRate          float64     `json:"monthly_rate"`    // a fraction, unrounded
	MonthlyPayment       float64     `json:"monthly_payment"`
	DrawdownMonths       int         `json:"drawdown_months"`
	DurationMonths       int         `json:"duration_months"`
	AmortisationMonths   int         `json:"amortisation_months"`
	NetSinglePremium     float64     `json:"net_single_premium"`
	SinglePremium        float64     `json:"single_premium"`
	SinglePremiumWithTax float64     `json:"single_premium_with_tax"`
	PremiumTax           float64     `json:"premium_tax"` // a fraction
	PaymentYears         int         `json:"payment_years"`
	AnnualPremium        float64     `json:"annual_premium"`
	HalfYearlyPremium    float64     `json:"half_yearly_premium"`
	QuarterlyPremium     float64     `json:"quarterly_premium"`
	MonthlyPremium       float64     `json:"monthly_premium"`
	Persons              []apiPerson `json:"persons"`
	Outstanding          []apiYear   `json:"outstanding"`
	Tariff               apiTariff   `json:"tariff"`
	Disclaimer           string      `json:"disclaimer"`
}

type apiPerson struct {
	AgeMonths        int     `json:"age_months"`
	Smoker           bool    `json:"smoker"`
	Quotity          float64 `json:"quotity"` // in percent, as the input
	NetSinglePremium float64 `json:"net_single_premium"`
	SinglePremium    float64 `json:"single_premium"`
	AnnualPremium    float64 `json:"annual_premium"`
}

type apiYear struct {
	Year        int     `json:"year"`
	Month       int     `json:"month"`
	Outstanding float64 `json:"outstanding"`
}

type apiTariff struct {
	Code    simulation.Tariff `json:"code"`
	Label   string            `json:"label"`
	Meaning string            `json:"meaning"`
}

// cents rounds an amount in euros to the cent, as a quote shows it.
func cents(v float64) float64 { return math.Round(v*100) / 100 }

func (s *server) handleAPISimulation(w http.ResponseWriter, r *http.Request) {
	l := s.language(w, r)
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		s.writeJSONError(w, l, http.StatusUnsupportedMediaType, "body", codeUnsupportedMedia)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	var f fields
	err := dec.Decode(&f)
	if err == nil {
		if err = dec.Decode(&struct{}{}); err == io.EOF {
			err = nil // exactly one JSON value
		} else if err == nil {
			err = errors.New("more than one JSON value")
		}
	}
	if err != nil {
		if isTooLarge(err) {
			s.writeJSONError(w, l, http.StatusRequestEntityTooLarge, "body", codeTooLarge)
			return
		}
		s.writeJSONError(w, l, http.StatusBadRequest, "body", codeInvalidJSON)
		return
	}
	in, bad := f.input(s.basis, s.today())
	if len(bad) > 0 {
		e := apiErrors{Errors: map[string]string{}, Codes: map[string]string{}}
		for field, p := range bad {
			e.Errors[field] = s.message(l, p)
			e.Codes[field] = p.Code
		}
		s.writeJSON(w, l, http.StatusUnprocessableEntity, e)
		return
	}
	res, err := simulation.Calculate(s.basis, in)
	if err != nil {
		s.log.Error("finagora: calculate", "err", err)
		s.writeJSONError(w, l, http.StatusInternalServerError, "body", codeInternal)
		return
	}
	s.writeJSON(w, l, http.StatusOK, s.apiResult(l, res))
}

func (s *server) apiResult(l i18n.Lang, r simulation.Result) apiResult {
	out := apiResult{
		Lang:                 l,
		SimulationDate:       r.Date.Format("2006-01-02"),
		MonthlyRate:          r.MonthlyRate,
		MonthlyPayment:       cents(r.MonthlyPayment),
		DrawdownMonths:       r.DrawdownMonths,
		DurationMonths:       r.DurationMonths,
		AmortisationMonths:   r.AmortisationMonths,
		NetSinglePremium:     cents(r.NetSinglePremium),
		SinglePremium:        cents(r.SinglePremium),
		SinglePremiumWithTax: cents(r.SinglePremiumWithTax),
		PremiumTax:           r.PremiumTax,
		PaymentYears:         r.PaymentYears,
		AnnualPremium:        cents(r.AnnualPremium),
		HalfYearlyPremium:    cents(r.HalfYearlyPremium),
		QuarterlyPremium:     cents(r.QuarterlyPremium),
		MonthlyPremium:       cents(r.MonthlyPremium),
		Tariff: apiTariff{
			Code:    r.Tariff,
			Label:   s.cat.T(l, tariffKey(r.Tariff, "label"), nil),
			Meaning: s.cat.T(l, tariffKey(r.Tariff, "meaning"), nil),
		},
		Disclaimer: s.cat.T(l, "result.disclaimer", nil),
	}
	for _, p := range r.Persons {
		out.Persons = append(out.Persons, apiPerson{
			AgeMonths: p.AgeMonths, Smoker: p.Smoker, Quotity: 100 * p.Quotity,
			NetSinglePremium: cents(p.NetSinglePremium), SinglePremium: cents(p.SinglePremium),
			AnnualPremium: cents(p.AnnualPremium),
		})
	}
	for _, y := range r.Outstanding {
		out.Outstanding = append(out.Outstanding, apiYear{Year: y.Year, Month: y.Month, Outstanding: cents(y.Outstanding)})
	}
	return out
}

func (s *server) writeJSONError(w http.ResponseWriter, l i18n.Lang, status int, field, code string) {
	s.writeJSON(w, l, status, apiErrors{
		Errors: map[string]string{field: s.cat.T(l, "error."+code, nil)},
		Codes:  map[string]string{field: code},
	})
}

func (s *server) writeJSON(w http.ResponseWriter, l i18n.Lang, status int, v any) {
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(v); err != nil {
		s.log.Error("finagora: encode JSON", "err", err)
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = io.WriteString(w, `{"errors":{"body":"internal error"},"codes":{"body":"internal"}}`+"\n")
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Content-Language", string(l))
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}
