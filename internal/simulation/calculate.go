package simulation

import (
	"errors"
	"math"
	"time"
)

// PersonResult is the price of one insured person.
type PersonResult struct {
	AgeMonths        int     // completed months on the simulation date
	Age              float64 // AgeMonths/12, the age the tables are read at
	Smoker           bool
	Factor           float64 // smoker × tariff multiplier of the death probabilities
	Quotity          float64
	NetSinglePremium float64 // NSP
	SinglePremium    float64 // PU = NSP/(1−α), without tax
	Annuity          float64 // ä over the payment years
	NetAnnualPremium float64 // NSP/ä
	AnnualPremium    float64 // PU/ä, without tax
}

// YearEnd is the capital still owed at the end of a loan year.
type YearEnd struct {
	Year        int
	Month       int // the loan month that ends the year (the last year may be short)
	Outstanding float64
}

// Result is a priced simulation; premiums are the totals of every person.
type Result struct {
	Date               time.Time // the simulation date
	MonthlyRate        float64   // j
	MonthlyPayment     float64   // A, due after the drawdown period
	DrawdownMonths     int
	DurationMonths     int
	AmortisationMonths int // M = N − D
	Persons            []PersonResult

	NetSinglePremium     float64
	SinglePremium        float64 // without tax
	SinglePremiumWithTax float64
	PaymentYears         int     // years during which the annual premium is paid
	AnnualPremium        float64 // without tax, paid yearly in advance
	HalfYearlyPremium    float64
	QuarterlyPremium     float64
	MonthlyPremium       float64
	PremiumTax           float64 // the rate applied to SinglePremiumWithTax
	Tariff               Tariff

	Outstanding []YearEnd // one row per loan year, the last one at 0
}

// ErrNotFinite means the basis produced NaN or an infinity; Basis.Validate
// rules that out, so it signals a basis that skipped validation.
var ErrNotFinite = errors.New("simulation: result is not a finite number")

// Calculate prices in under basis b. It returns Errors when in breaks the
// product limits, ErrNotFinite when b is unusable, and a Result otherwise.
func Calculate(b Basis, in Input) (Result, error) {
	if errs := in.Validate(b); len(errs) > 0 {
		return Result{}, errs
	}
	n, d := in.DurationMonths, in.DrawdownMonths
	sched := NewSchedule(in.Capital, MonthlyRate(in.InterestRate, b.RateConvention), d, n)
	years := max(1, int(math.Floor(float64(n)*b.PaymentTermRatio/12+1e-9)))

	r := Result{
		Date:               in.Date,
		MonthlyRate:        sched.MonthlyRate,
		MonthlyPayment:     sched.Payment,
		DrawdownMonths:     d,
		DurationMonths:     n,
		AmortisationMonths: n - d,
		PaymentYears:       years,
		PremiumTax:         b.PremiumTax,
		Tariff:             in.Tariff,
	}
	for _, p := range in.Persons {
		pr := b.price(p, in, sched, years)
		r.Persons = append(r.Persons, pr)
		r.NetSinglePremium += pr.NetSinglePremium
		r.SinglePremium += pr.SinglePremium
		r.AnnualPremium += pr.AnnualPremium
	}
	r.SinglePremiumWithTax = r.SinglePremium * (1 + b.PremiumTax)
	r.HalfYearlyPremium = r.AnnualPremium * (1 + b.HalfYearlySurcharge) / 2
	r.QuarterlyPremium = r.AnnualPremium * (1 + b.QuarterlySurcharge) / 4
	r.MonthlyPremium = r.AnnualPremium * (1 + b.MonthlySurcharge) / 12

	for y := 1; 12*(y-1) < n; y++ {
		m := min(12*y, n)
		r.Outstanding = append(r.Outstanding, YearEnd{Year: y, Month: m, Outstanding: sched.Outstanding(m)})
	}
	if !r.finite() {
		return Result{}, ErrNotFinite
	}
	return r, nil
}

// price runs the monthly recursion of the net single premium for one person
// and the annuity of the premium payments, both on the person's own survival.
func (b Basis) price(p Person, in Input, sched Schedule, years int) PersonResult {
	months := CompletedMonths(p.BirthDate, in.Date)
	x := float64(months) / 12
	f := b.factor(p.Smoker, in.Tariff)
	v := math.Pow(1+b.TechnicalRate, -1.0/12)
	n := in.DurationMonths

	survival := make([]float64, n+1) // S_t, alive after t months
	survival[0] = 1
	nsp := 0.0
	lPrev := b.l(x)
	for t := 1; t <= n; t++ {
		l := b.l(x + float64(t)/12)
		q := 1.0 // a table that ran out of survivors: certain death
		if lPrev > 0 {
			q = min(1, f*(1-l/lPrev))
		}
		nsp += p.Quotity * sched.AtRisk(t) * survival[t-1] * q * math.Pow(v, float64(t))
		survival[t] = survival[t-1] * (1 - q)
		lPrev = l
	}
	annuity := 0.0
	for k := range years {
		annuity += math.Pow(1+b.TechnicalRate, -float64(k)) * survival[12*k]
	}
	pu := nsp / (1 - b.Loading)
	return PersonResult{
		AgeMonths:        months,
		Age:              x,
		Smoker:           p.Smoker,
		Factor:           f,
		Quotity:          p.Quotity,
		NetSinglePremium: nsp,
		SinglePremium:    pu,
		Annuity:          annuity,
		NetAnnualPremium: nsp / annuity,
		AnnualPremium:    pu / annuity,
	}
}

func (r Result) finite() bool {
	vals := []float64{r.MonthlyRate, r.MonthlyPayment, r.NetSinglePremium, r.SinglePremium,
		r.SinglePremiumWithTax, r.AnnualPremium, r.HalfYearlyPremium, r.QuarterlyPremium, r.MonthlyPremium}
	for _, p := range r.Persons {
		vals = append(vals, p.NetSinglePremium, p.SinglePremium, p.Annuity, p.NetAnnualPremium, p.AnnualPremium)
	}
	for _, y := range r.Outstanding {
		vals = append(vals, y.Outstanding)
	}
	for _, v := range vals {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return false
		}
	}
	return true
}
