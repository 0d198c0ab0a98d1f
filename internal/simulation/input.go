package simulation

import (
	"math"
	"strings"
	"time"
)

// Tariff is the kind of premium guarantee.
type Tariff string

const (
	// ThreeYears is guaranteed for the first three years of the contract,
	// then revisable for all contracts of the tariff; the cheaper one.
	ThreeYears Tariff = "three_years"
	// WholeTerm is guaranteed for the whole term of the contract.
	WholeTerm Tariff = "whole_term"
)

// Tariffs lists the tariffs in the order a form offers them.
var Tariffs = []Tariff{ThreeYears, WholeTerm}

// Person is one insured person.
type Person struct {
	BirthDate time.Time // only the calendar date counts
	Smoker    bool
	Quotity   float64 // share of the capital covered, 0 < Quotity ≤ 1
}

// Input is one simulation request.
type Input struct {
	Persons        []Person // one or two
	Capital        float64  // euros
	DrawdownMonths int      // D ≥ 0, before repayments start
	DurationMonths int      // N, drawdown included
	InterestRate   float64  // annual loan rate as a fraction (0.035 is 3.5 %)
	Tariff         Tariff
	// Date is the simulation date: ages are counted on it. Callers pass
	// their clock's today, so the calculation itself never reads a clock.
	Date time.Time
}

// Field names the input a FieldError is about.
type Field string

// The fields of an Input; BirthDate and Quotity also carry FieldError.Person.
const (
	FieldPersons   Field = "persons"
	FieldBirthDate Field = "birth_date"
	FieldQuotity   Field = "quotity"
	FieldCapital   Field = "capital"
	FieldDrawdown  Field = "drawdown"
	FieldDuration  Field = "duration"
	FieldRate      Field = "rate"
	FieldTariff    Field = "tariff"
)

// Code is a stable identifier of what is wrong with a field, for
// translations ("error.<code>") and API clients.
type Code string

// The codes Input.Validate can report.
const (
	CodePersons          Code = "persons"             // not 1 or 2 persons
	CodeBirthDateFuture  Code = "birth_date_future"   // born after the simulation date
	CodeAgeTooLow        Code = "age_too_low"         // Limit: minimum age at start
	CodeAgeTooHigh       Code = "age_too_high"        // Limit: maximum age at start
	CodeAgeAtEndTooHigh  Code = "age_at_end_too_high" // Limit: maximum age at the end
	CodeQuotity          Code = "quotity"             // not in ]0, 100 %]
	CodeCapitalPositive  Code = "capital_not_positive"
	CodeCapitalTooHigh   Code = "capital_too_high"   // Limit: maximum capital
	CodeDurationTooShort Code = "duration_too_short" // Limit: minimum months
	CodeDurationTooLong  Code = "duration_too_long"  // Limit: maximum months
	CodeDrawdownNegative Code = "drawdown_negative"
	CodeDrawdownTooLong  Code = "drawdown_too_long" // not shorter than the duration
	CodeRateNegative     Code = "rate_negative"
	CodeRateTooHigh      Code = "rate_too_high" // Limit: first refused rate, in percent
	CodeTariff           Code = "tariff"
)

// Codes lists every Code, so that a translation test can check them all.
var Codes = []Code{
	CodePersons, CodeBirthDateFuture, CodeAgeTooLow, CodeAgeTooHigh, CodeAgeAtEndTooHigh,
	CodeQuotity, CodeCapitalPositive, CodeCapitalTooHigh, CodeDurationTooShort,
	CodeDurationTooLong, CodeDrawdownNegative, CodeDrawdownTooLong, CodeRateNegative,
	CodeRateTooHigh, CodeTariff,
}

// FieldError is one problem with one field.
type FieldError struct {
	Field  Field
	Person int // 1 or 2 for a person's field, else 0
	Code   Code
	// Limit is the bound that was crossed, in the field's unit (years,
	// months, euros, percent), for the message; 0 when there is none.
	Limit float64
}

// Errors is every problem of an Input; it is an error when not empty.
type Errors []FieldError

func (e Errors) Error() string {
	var b strings.Builder
	b.WriteString("simulation: invalid input:")
	for _, fe := range e {
		b.WriteString(" ")
		b.WriteString(string(fe.Field))
		if fe.Person > 0 {
			b.WriteString("#" + string(rune('0'+fe.Person)))
		}
		b.WriteString("=" + string(fe.Code))
	}
	return b.String()
}

// Validate checks in against the product limits of b and returns every
// problem (nil when there is none). Non-finite numbers are reported as out of
// range, never passed on.
func (in Input) Validate(b Basis) Errors {
	var errs Errors
	add := func(f Field, person int, c Code, limit float64) {
		errs = append(errs, FieldError{Field: f, Person: person, Code: c, Limit: limit})
	}
	lim := b.Limits
	duration := in.DurationMonths
	durationOK := true
	switch {
	case duration < lim.MinDurationMonths:
		add(FieldDuration, 0, CodeDurationTooShort, float64(lim.MinDurationMonths))
		durationOK = false
	case duration > lim.MaxDurationMonths:
		add(FieldDuration, 0, CodeDurationTooLong, float64(lim.MaxDurationMonths))
		durationOK = false
	}
	if len(in.Persons) < 1 || len(in.Persons) > 2 {
		add(FieldPersons, 0, CodePersons, 0)
	}
	for i, p := range in.Persons {
		if i >= 2 {
			break
		}
		n := i + 1
		months := CompletedMonths(p.BirthDate, in.Date)
		switch {
		case months < 0:
			add(FieldBirthDate, n, CodeBirthDateFuture, 0)
		case months < 12*lim.MinAgeAtStart:
			add(FieldBirthDate, n, CodeAgeTooLow, float64(lim.MinAgeAtStart))
		case months >= 12*(lim.MaxAgeAtStart+1):
			add(FieldBirthDate, n, CodeAgeTooHigh, float64(lim.MaxAgeAtStart))
		case durationOK && months+duration > 12*lim.MaxAgeAtEnd:
			add(FieldBirthDate, n, CodeAgeAtEndTooHigh, float64(lim.MaxAgeAtEnd))
		}
		if !(p.Quotity > 0 && p.Quotity <= 1) {
			add(FieldQuotity, n, CodeQuotity, 0)
		}
	}
	switch {
	case !(in.Capital > 0):
		add(FieldCapital, 0, CodeCapitalPositive, 0)
	case !(in.Capital <= lim.MaxCapital):
		add(FieldCapital, 0, CodeCapitalTooHigh, lim.MaxCapital)
	}
	switch {
	case in.DrawdownMonths < 0:
		add(FieldDrawdown, 0, CodeDrawdownNegative, 0)
	case durationOK && in.DrawdownMonths >= duration:
		add(FieldDrawdown, 0, CodeDrawdownTooLong, float64(duration))
	}
	switch {
	case math.IsNaN(in.InterestRate):
		add(FieldRate, 0, CodeRateTooHigh, 100*lim.MaxInterestRate)
	case in.InterestRate < 0:
		add(FieldRate, 0, CodeRateNegative, 0)
	case in.InterestRate >= lim.MaxInterestRate:
		add(FieldRate, 0, CodeRateTooHigh, 100*lim.MaxInterestRate)
	}
	if in.Tariff != ThreeYears && in.Tariff != WholeTerm {
		add(FieldTariff, 0, CodeTariff, 0)
	}
	return errs
}

// CompletedMonths is the number of whole months from birth to on, or −1 when
// birth is after on. A month is complete on the same day of the month, or on
// the last day of a shorter month (born on the 31st, a month is complete on
// 30 April). Only calendar dates count, not times of day.
func CompletedMonths(birth, on time.Time) int {
	by, bm, bd := birth.Date()
	oy, om, od := on.Date()
	if oy < by || oy == by && (om < bm || om == bm && od < bd) {
		return -1
	}
	months := (oy-by)*12 + int(om-bm)
	lastDay := time.Date(oy, om+1, 0, 0, 0, 0, 0, time.UTC).Day()
	if od < bd && od < lastDay {
		months--
	}
	return months
}
