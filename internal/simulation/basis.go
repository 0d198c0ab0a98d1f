package simulation

import (
	"errors"
	"fmt"
	"math"
)

// MaxTechnicalRate is the legal ceiling of the technical interest rate of
// Belgian life insurance: a basis above it is refused, whatever the
// configuration says.
const MaxTechnicalRate = 0.0375

// RateConvention says how the annual loan rate becomes a monthly rate.
type RateConvention string

const (
	// Equivalent is j = (1+i)^(1/12) − 1, the usual Belgian mortgage practice.
	Equivalent RateConvention = "equivalent"
	// Nominal is j = i/12.
	Nominal RateConvention = "nominal"
)

// Makeham is one mortality table l(x) = K·S^x·G^(C^x).
type Makeham struct {
	K float64 `yaml:"k"`
	S float64 `yaml:"s"`
	G float64 `yaml:"g"`
	C float64 `yaml:"c"`
}

// The Belgian regulatory death-cover tables (royal decree of 14/11/2003, annex 1).
var (
	MK = Makeham{K: 1000450.59, S: 0.999106875782, G: 0.999549614043, C: 1.103798111448}
	FK = Makeham{K: 1000097.39, S: 0.999257048061, G: 0.999902624311, C: 1.118239062025}
)

// Basis is the technical basis and the product limits of the quick
// simulation. It sits in the product configuration under `simulation:`; rates
// and shares are fractions (0.025 is 2.5 %). Start from DefaultBasis so that
// omitted settings keep their documented defaults.
type Basis struct {
	MaleTable   Makeham `yaml:"male_table"`
	FemaleTable Makeham `yaml:"female_table"`
	// MaleWeight is the share of the male table in the unisex mix (½ by default).
	MaleWeight float64 `yaml:"male_weight"`
	// SmokerFactor multiplies a smoker's death probabilities.
	SmokerFactor float64 `yaml:"smoker_factor"`
	// ThreeYearsFactor multiplies the death probabilities of the tariff
	// guaranteed for three years (an experience basis, the cheaper tariff).
	ThreeYearsFactor float64 `yaml:"three_years_factor"`
	// WholeTermFactor multiplies those of the tariff guaranteed for the whole term.
	WholeTermFactor float64 `yaml:"whole_term_factor"`
	// TechnicalRate is the annual discount rate of the premium, at most MaxTechnicalRate.
	TechnicalRate float64 `yaml:"technical_rate"`
	// Loading is α in PU = NSP/(1−α).
	Loading float64 `yaml:"loading"`
	// PremiumTax is the tax on insurance premiums (1.1 % in Belgium).
	PremiumTax float64 `yaml:"premium_tax"`
	// PaymentTermRatio is the share of the loan term during which the level
	// annual premium is paid (two thirds), rounded down to whole years.
	PaymentTermRatio float64 `yaml:"payment_term_ratio"`
	// Surcharges of the split premiums, on top of the annual premium.
	HalfYearlySurcharge float64 `yaml:"half_yearly_surcharge"`
	QuarterlySurcharge  float64 `yaml:"quarterly_surcharge"`
	MonthlySurcharge    float64 `yaml:"monthly_surcharge"`
	// RateConvention turns the annual loan rate into a monthly one.
	RateConvention RateConvention `yaml:"rate_convention"`
	Limits         Limits         `yaml:"limits"`
}

// Limits are the product's acceptance limits, checked by Input.Validate.
type Limits struct {
	// MinAgeAtStart and MaxAgeAtStart bound the age in completed years on the
	// simulation date (70 admits a person up to the day before 71).
	MinAgeAtStart int `yaml:"min_age_at_start"`
	MaxAgeAtStart int `yaml:"max_age_at_start"`
	// MaxAgeAtEnd bounds the age at the end of the loan, counted as the
	// priced age (completed months at start) plus the duration: 80 admits a
	// loan that ends on the 80th birthday at the latest.
	MaxAgeAtEnd int `yaml:"max_age_at_end"`
	// MaxCapital is the largest capital a quick simulation accepts, in euros.
	MaxCapital float64 `yaml:"max_capital"`
	// MinDurationMonths and MaxDurationMonths bound the loan term, drawdown included.
	MinDurationMonths int `yaml:"min_duration_months"`
	MaxDurationMonths int `yaml:"max_duration_months"`
	// MaxInterestRate is the first annual loan rate refused (0.20 refuses 20 % and up).
	MaxInterestRate float64 `yaml:"max_interest_rate"`
}

// DefaultBasis returns the documented basis: unisex MK/FK, smokers ×1.5,
// three-year tariff ×0.7, technical rate 2.5 %, loading 15 %, tax 1.1 %,
// premiums over two thirds of the term, splits +2/+3/+4 %, equivalent monthly
// rate; ages 18–70 at start and 80 at the end, capital up to 5 000 000 €,
// 12 months to 40 years, rates below 20 %.
func DefaultBasis() Basis {
	return Basis{
		MaleTable:           MK,
		FemaleTable:         FK,
		MaleWeight:          0.5,
		SmokerFactor:        1.5,
		ThreeYearsFactor:    0.7,
		WholeTermFactor:     1.0,
		TechnicalRate:       0.025,
		Loading:             0.15,
		PremiumTax:          0.011,
		PaymentTermRatio:    2.0 / 3,
		HalfYearlySurcharge: 0.02,
		QuarterlySurcharge:  0.03,
		MonthlySurcharge:    0.04,
		RateConvention:      Equivalent,
		Limits: Limits{
			MinAgeAtStart:     18,
			MaxAgeAtStart:     70,
			MaxAgeAtEnd:       80,
			MaxCapital:        5_000_000,
			MinDurationMonths: 12,
			MaxDurationMonths: 480,
			MaxInterestRate:   0.20,
		},
	}
}

// maxAge bounds the ages a basis may price: past it Makeham's l(x) comes
// close enough to zero that ratios lose their meaning.
const maxAge = 110

// Validate reports every setting out of its range, joined in one error. A
// basis that passes cannot make Calculate produce NaN or infinities for an
// input that passes Input.Validate.
func (b Basis) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf("simulation: "+format, args...)) }
	in := func(name string, v, lo, hi float64) {
		if !(v >= lo && v <= hi) { // also catches NaN
			bad("%s = %v, want between %v and %v", name, v, lo, hi)
		}
	}
	for _, t := range []struct {
		name string
		m    Makeham
	}{{"male_table", b.MaleTable}, {"female_table", b.FemaleTable}} {
		in(t.name+".k", t.m.K, 1, 1e12)
		in(t.name+".s", t.m.S, 0.9, 1)
		in(t.name+".g", t.m.G, 0.9, math.Nextafter(1, 0))
		in(t.name+".c", t.m.C, math.Nextafter(1, 2), 1.5)
	}
	in("male_weight", b.MaleWeight, 0, 1)
	in("smoker_factor", b.SmokerFactor, 1, 10)
	in("three_years_factor", b.ThreeYearsFactor, 0.01, 10)
	in("whole_term_factor", b.WholeTermFactor, 0.01, 10)
	in("technical_rate", b.TechnicalRate, 0, MaxTechnicalRate)
	in("loading", b.Loading, 0, 0.9)
	in("premium_tax", b.PremiumTax, 0, 0.5)
	in("payment_term_ratio", b.PaymentTermRatio, 0.01, 1)
	in("half_yearly_surcharge", b.HalfYearlySurcharge, 0, 0.5)
	in("quarterly_surcharge", b.QuarterlySurcharge, 0, 0.5)
	in("monthly_surcharge", b.MonthlySurcharge, 0, 0.5)
	if b.RateConvention != Equivalent && b.RateConvention != Nominal {
		bad("rate_convention = %q, want %q or %q", b.RateConvention, Equivalent, Nominal)
	}
	l := b.Limits
	if !(l.MinAgeAtStart >= 0 && l.MinAgeAtStart <= l.MaxAgeAtStart && l.MaxAgeAtStart < l.MaxAgeAtEnd && l.MaxAgeAtEnd <= maxAge) {
		bad("limits: ages %d–%d at start and %d at end, want 0 ≤ min ≤ max < end ≤ %d",
			l.MinAgeAtStart, l.MaxAgeAtStart, l.MaxAgeAtEnd, maxAge)
	}
	in("limits.max_capital", l.MaxCapital, 1, 1e9)
	if !(l.MinDurationMonths >= 2 && l.MinDurationMonths <= l.MaxDurationMonths && l.MaxDurationMonths <= 600) {
		bad("limits: durations %d–%d months, want 2 ≤ min ≤ max ≤ 600", l.MinDurationMonths, l.MaxDurationMonths)
	}
	in("limits.max_interest_rate", l.MaxInterestRate, 0.001, 1)
	return errors.Join(errs...)
}

// factor is the multiplier of a person's death probabilities.
func (b Basis) factor(smoker bool, t Tariff) float64 {
	f := b.WholeTermFactor
	if t == ThreeYears {
		f = b.ThreeYearsFactor
	}
	if smoker {
		f *= b.SmokerFactor
	}
	return f
}
