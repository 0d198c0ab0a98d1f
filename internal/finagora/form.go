package finagora

import (
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"

	"sesame/internal/simulation"
)

// value is one field as received: the text a person typed, or a JSON number,
// which needs no guessing about separators.
type value struct {
	text     string
	number   float64
	isNumber bool
}

func (v value) empty() bool { return !v.isNumber && strings.TrimSpace(v.text) == "" }

// String is the value as the form shows it back.
func (v value) String() string {
	if v.isNumber {
		return strconv.FormatFloat(v.number, 'f', -1, 64)
	}
	return v.text
}

func (v value) float(grouping bool) (float64, bool) {
	if v.isNumber {
		return v.number, true
	}
	return parseNumber(v.text, grouping)
}

func (v value) whole() (int, bool) {
	if v.isNumber {
		if v.number != math.Trunc(v.number) || math.Abs(v.number) > 1e6 {
			return 0, false
		}
		return int(v.number), true
	}
	return parseWhole(v.text)
}

// UnmarshalJSON takes a string, a number, a boolean or null, so that API
// clients can send {"capital": 200000} as well as {"capital": "200 000"}.
func (v *value) UnmarshalJSON(data []byte) error {
	var x any
	if err := json.Unmarshal(data, &x); err != nil {
		return err
	}
	switch x := x.(type) {
	case nil:
		*v = value{}
	case string:
		*v = value{text: x}
	case float64:
		*v = value{number: x, isNumber: true}
	case bool:
		*v = value{text: strconv.FormatBool(x)}
	default:
		return fmt.Errorf("want a string, a number or a boolean")
	}
	return nil
}

// fields are the simulation form's fields, from the HTML form or the JSON
// body: both use the same names and go through the same checks.
type fields struct {
	Persons  value `json:"persons"`
	Birth1   value `json:"birth_date_1"`
	Smoker1  value `json:"smoker_1"`
	Quotity1 value `json:"quotity_1"`
	Birth2   value `json:"birth_date_2"`
	Smoker2  value `json:"smoker_2"`
	Quotity2 value `json:"quotity_2"`
	Capital  value `json:"capital"`
	Drawdown value `json:"drawdown"`
	Duration value `json:"duration"`
	Rate     value `json:"rate"`
	Tariff   value `json:"tariff"`
}

// Field names, shared by the HTML form, the JSON body and the error maps.
const (
	fPersons  = "persons"
	fCapital  = "capital"
	fDrawdown = "drawdown"
	fDuration = "duration"
	fRate     = "rate"
	fTariff   = "tariff"
)

func personField(name string, n int) string { return name + "_" + strconv.Itoa(n) }

// fieldOrder is the order of the form, for the error summary.
var fieldOrder = []string{
	fPersons, "birth_date_1", "smoker_1", "quotity_1", "birth_date_2", "smoker_2", "quotity_2",
	fCapital, fDrawdown, fDuration, fRate, fTariff,
}

func fieldsFromForm(f url.Values) fields {
	get := func(name string) value { return value{text: f.Get(name)} }
	return fields{
		Persons: get(fPersons),
		Birth1:  get("birth_date_1"), Smoker1: get("smoker_1"), Quotity1: get("quotity_1"),
		Birth2: get("birth_date_2"), Smoker2: get("smoker_2"), Quotity2: get("quotity_2"),
		Capital: get(fCapital), Drawdown: get(fDrawdown), Duration: get(fDuration),
		Rate: get(fRate), Tariff: get(fTariff),
	}
}

// Codes of input that cannot be read; the codes of input that breaks the
// product limits are simulation.Code values.
const (
	codeRequired       = "required"
	codeInvalidNumber  = "invalid_number"
	codeInvalidInteger = "invalid_integer"
	codeInvalidDate    = "invalid_date"
	codeInvalidChoice  = "invalid_choice"
)

// inputCodes lists every code a field can get, for the catalog test.
func inputCodes() []string {
	codes := []string{codeRequired, codeInvalidNumber, codeInvalidInteger, codeInvalidDate, codeInvalidChoice}
	for _, c := range simulation.Codes {
		codes = append(codes, string(c))
	}
	return codes
}

// problem is what is wrong with one field.
type problem struct {
	Code  string
	Limit float64 // the crossed bound, in the unit of the field; see limitText
}

// problems maps a field name to its first problem.
type problems map[string]problem

func (p problems) add(field, code string, limit float64) {
	if _, ok := p[field]; !ok {
		p[field] = problem{Code: code, Limit: limit}
	}
}

// input reads the fields into a simulation input for the day today and
// checks it against the basis' limits. Fields that cannot be read report
// that, not the knock-on limit errors of their zero value.
func (f fields) input(b simulation.Basis, today time.Time) (simulation.Input, problems) {
	bad := problems{}
	in := simulation.Input{Date: today}

	persons := 1
	switch strings.TrimSpace(f.Persons.String()) {
	case "", "1":
	case "2":
		persons = 2
	default:
		bad.add(fPersons, string(simulation.CodePersons), 0)
	}
	births := [2]value{f.Birth1, f.Birth2}
	smokers := [2]value{f.Smoker1, f.Smoker2}
	quotities := [2]value{f.Quotity1, f.Quotity2}
	for i := range persons {
		n := i + 1
		p := simulation.Person{Quotity: 1}
		birth, smoker, quotity := personField("birth_date", n), personField("smoker", n), personField("quotity", n)
		switch d, ok := parseDate(births[i].String()); {
		case births[i].empty():
			bad.add(birth, codeRequired, 0)
		case !ok:
			bad.add(birth, codeInvalidDate, 0)
		default:
			p.BirthDate = d
		}
		switch yes, ok := parseYesNo(smokers[i].String()); {
		case smokers[i].empty():
			bad.add(smoker, codeRequired, 0)
		case !ok:
			bad.add(smoker, codeInvalidChoice, 0)
		default:
			p.Smoker = yes
		}
		if !quotities[i].empty() {
			if q, ok := quotities[i].float(false); ok {
				p.Quotity = q / 100
			} else {
				bad.add(quotity, codeInvalidNumber, 0)
			}
		}
		in.Persons = append(in.Persons, p)
	}

	switch c, ok := f.Capital.float(true); {
	case f.Capital.empty():
		bad.add(fCapital, codeRequired, 0)
	case !ok:
		bad.add(fCapital, codeInvalidNumber, 0)
	default:
		in.Capital = c
	}
	if !f.Drawdown.empty() {
		if d, ok := f.Drawdown.whole(); ok {
			in.DrawdownMonths = d
		} else {
			bad.add(fDrawdown, codeInvalidInteger, 0)
		}
	}
	switch d, ok := f.Duration.whole(); {
	case f.Duration.empty():
		bad.add(fDuration, codeRequired, 0)
	case !ok:
		bad.add(fDuration, codeInvalidInteger, 0)
	default:
		in.DurationMonths = d
	}
	switch r, ok := f.Rate.float(false); {
	case f.Rate.empty():
		bad.add(fRate, codeRequired, 0)
	case !ok:
		bad.add(fRate, codeInvalidNumber, 0)
	default:
		in.InterestRate = r / 100
	}
	switch t := simulation.Tariff(strings.TrimSpace(f.Tariff.String())); {
	case t == "":
		bad.add(fTariff, codeRequired, 0)
	default:
		in.Tariff = t // an unknown tariff is reported by Validate
	}

	for _, e := range in.Validate(b) {
		name := string(e.Field)
		if e.Person > 0 {
			name = personField(name, e.Person)
		}
		// A field that could not be read keeps that message rather than
		// the limit its zero value breaks; Validate itself skips the
		// checks relative to a duration out of range.
		bad.add(name, string(e.Code), e.Limit)
	}
	if len(bad) > 0 {
		return simulation.Input{}, bad
	}
	return in, nil
}
