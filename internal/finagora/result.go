package finagora

import (
	"sesame/internal/i18n"
	"sesame/internal/simulation"
)

// resultView is a simulation result written for a page in one language.
type resultView struct {
	Date                  string // "Simulation of 24/04/2025"
	MonthlyPayment        string
	AfterDrawdown         string // how long only interest is paid; empty without drawdown
	SinglePremium         string
	SinglePremiumWithTax  string
	SinglePremiumTaxLabel string
	AnnualPremium         string
	HalfYearlyPremium     string
	QuarterlyPremium      string
	MonthlyPremium        string
	PaymentPeriod         string
	Persons               []personResultView
	Outstanding           []yearRow
	TariffLabel           string
	TariffMeaning         string
	Disclaimer            string
}

type personResultView struct {
	N                                                  int
	Age, Smoker, Quotity, SinglePremium, AnnualPremium string
}

type yearRow struct {
	Year, Month int
	Outstanding string
}

func (s *server) resultView(l i18n.Lang, r simulation.Result) resultView {
	money := func(v float64) string { return formatMoney(l, v) }
	v := resultView{
		Date:                  s.cat.T(l, "result.date", struct{ Date string }{r.Date.Format("02/01/2006")}),
		MonthlyPayment:        money(r.MonthlyPayment),
		SinglePremium:         money(r.SinglePremium),
		SinglePremiumWithTax:  money(r.SinglePremiumWithTax),
		SinglePremiumTaxLabel: s.cat.T(l, "result.single_premium_tax", struct{ Tax string }{formatPercent(l, 100*r.PremiumTax)}),
		AnnualPremium:         money(r.AnnualPremium),
		HalfYearlyPremium:     money(r.HalfYearlyPremium),
		QuarterlyPremium:      money(r.QuarterlyPremium),
		MonthlyPremium:        money(r.MonthlyPremium),
		PaymentPeriod:         s.cat.N(l, "unit.years", r.PaymentYears),
		TariffLabel:           s.cat.T(l, tariffKey(r.Tariff, "label"), nil),
		TariffMeaning:         s.cat.T(l, tariffKey(r.Tariff, "meaning"), nil),
		Disclaimer:            s.cat.T(l, "result.disclaimer", nil),
	}
	if r.DrawdownMonths > 0 {
		v.AfterDrawdown = s.cat.T(l, "result.after_drawdown", struct{ Months string }{s.cat.N(l, "unit.months", r.DrawdownMonths)})
	}
	for i, p := range r.Persons {
		smoker := "sim.no"
		if p.Smoker {
			smoker = "sim.yes"
		}
		v.Persons = append(v.Persons, personResultView{
			N:             i + 1,
			Age:           s.cat.N(l, "unit.years", p.AgeMonths/12),
			Smoker:        s.cat.T(l, smoker, nil),
			Quotity:       formatPercent(l, 100*p.Quotity),
			SinglePremium: money(p.SinglePremium),
			AnnualPremium: money(p.AnnualPremium),
		})
	}
	for _, y := range r.Outstanding {
		v.Outstanding = append(v.Outstanding, yearRow{Year: y.Year, Month: y.Month, Outstanding: money(y.Outstanding)})
	}
	return v
}
