package simulation

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"
)

func mustCalculate(t *testing.T, b Basis, in Input) Result {
	t.Helper()
	r, err := Calculate(b, in)
	if err != nil {
		t.Fatalf("Calculate: %v", err)
	}
	return r
}

func born(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

func TestPremiumGrowsWithAgeCapitalAndSmoking(t *testing.T) {
	b := DefaultBasis()
	prev := 0.0
	for _, year := range []int{2005, 1995, 1985, 1975, 1965, 1962} {
		in := vectorInput()
		in.Persons[0].BirthDate = born(year, 1, 1)
		in.DurationMonths = 180
		got := mustCalculate(t, b, in).AnnualPremium
		if !(got > prev) {
			t.Errorf("born %d: annual premium %.2f, not above %.2f of a younger person", year, got, prev)
		}
		prev = got
	}

	prev = 0
	for _, c := range []float64{1000, 50_000, 200_000, 1_000_000} {
		in := vectorInput()
		in.Capital = c
		got := mustCalculate(t, b, in).SinglePremium
		if !(got > prev) {
			t.Errorf("capital %v: single premium %.2f, not above %.2f", c, got, prev)
		}
		prev = got
	}

	for _, tariff := range Tariffs {
		in := vectorInput()
		in.Tariff = tariff
		plain := mustCalculate(t, b, in)
		in.Persons[0].Smoker = true
		smoker := mustCalculate(t, b, in)
		if !(smoker.NetSinglePremium > plain.NetSinglePremium && smoker.AnnualPremium > plain.AnnualPremium) {
			t.Errorf("%s: smoker %v/%v, not above non-smoker %v/%v", tariff,
				smoker.NetSinglePremium, smoker.AnnualPremium, plain.NetSinglePremium, plain.AnnualPremium)
		}
	}

	in := vectorInput()
	three := mustCalculate(t, b, Input{Persons: in.Persons, Capital: in.Capital, DurationMonths: 240, InterestRate: 0.035, Tariff: ThreeYears, Date: simDate})
	whole := mustCalculate(t, b, in)
	if !(three.NetSinglePremium < whole.NetSinglePremium) {
		t.Errorf("three-year tariff %.2f is not cheaper than whole-term %.2f", three.NetSinglePremium, whole.NetSinglePremium)
	}
}

func TestPremiumFallsWithTechnicalRate(t *testing.T) {
	prev := math.Inf(1)
	for _, rate := range []float64{0, 0.01, 0.02, 0.025, 0.03, MaxTechnicalRate} {
		b := DefaultBasis()
		b.TechnicalRate = rate
		r := mustCalculate(t, b, vectorInput())
		if !(r.NetSinglePremium < prev) {
			t.Errorf("technical rate %v: NSP %.4f, not below %.4f", rate, r.NetSinglePremium, prev)
		}
		prev = r.NetSinglePremium
	}
}

func TestScheduleRepaysExactly(t *testing.T) {
	tests := []struct {
		capital float64
		annual  float64
		conv    RateConvention
		d, n    int
	}{
		{200_000, 0.035, Equivalent, 0, 240},
		{200_000, 0.035, Nominal, 0, 240},
		{150_000, 0.0, Equivalent, 0, 120},
		{350_000, 0.19, Equivalent, 24, 480},
		{1, 0.05, Nominal, 11, 12},
		{5_000_000, 0.001, Equivalent, 6, 13},
	}
	for _, tt := range tests {
		j := MonthlyRate(tt.annual, tt.conv)
		s := NewSchedule(tt.capital, j, tt.d, tt.n)
		m := tt.n - tt.d
		// What the recursion leaves after the last payment, before the dust is cleared.
		last := s.Balance[m-1]*(1+j) - s.Payment
		if !near(last, 0, 1e-9*tt.capital) || s.Balance[m] != 0 {
			t.Errorf("%+v: last balance %g (kept %g), want 0", tt, last, s.Balance[m])
		}
		if s.Outstanding(tt.n) != 0 || s.Outstanding(tt.d) != tt.capital || s.AtRisk(tt.d+1) != tt.capital {
			t.Errorf("%+v: outstanding at N %g, at D %g, at risk in D+1 %g", tt, s.Outstanding(tt.n), s.Outstanding(tt.d), s.AtRisk(tt.d+1))
		}
		for k := 1; k <= m; k++ {
			if s.Balance[k] > s.Balance[k-1] {
				t.Errorf("%+v: balance grows at payment %d", tt, k)
				break
			}
		}
	}
	if got, want := MonthlyRate(0.12, Nominal), 0.01; !near(got, want, 1e-15) {
		t.Errorf("nominal monthly rate = %v, want %v", got, want)
	}
}

func TestTwoPersonsAndQuotity(t *testing.T) {
	b := DefaultBasis()
	a := vectorInput()
	c := vectorInput()
	c.Persons = []Person{{BirthDate: born(1980, 11, 3), Smoker: true, Quotity: 1}}
	both := vectorInput()
	both.Persons = []Person{a.Persons[0], c.Persons[0]}

	ra, rc, rboth := mustCalculate(t, b, a), mustCalculate(t, b, c), mustCalculate(t, b, both)
	sums := []struct {
		name              string
		one, other, total float64
	}{
		{"NSP", ra.NetSinglePremium, rc.NetSinglePremium, rboth.NetSinglePremium},
		{"PU", ra.SinglePremium, rc.SinglePremium, rboth.SinglePremium},
		{"PU with tax", ra.SinglePremiumWithTax, rc.SinglePremiumWithTax, rboth.SinglePremiumWithTax},
		{"annual", ra.AnnualPremium, rc.AnnualPremium, rboth.AnnualPremium},
		{"monthly", ra.MonthlyPremium, rc.MonthlyPremium, rboth.MonthlyPremium},
	}
	for _, s := range sums {
		if !near(s.one+s.other, s.total, 1e-9*s.total) {
			t.Errorf("%s: two persons %.6f, want %.6f + %.6f", s.name, s.total, s.one, s.other)
		}
	}

	half := vectorInput()
	half.Persons[0].Quotity = 0.5
	rh := mustCalculate(t, b, half)
	for _, s := range []struct {
		name       string
		full, half float64
	}{
		{"NSP", ra.NetSinglePremium, rh.NetSinglePremium},
		{"PU with tax", ra.SinglePremiumWithTax, rh.SinglePremiumWithTax},
		{"annual", ra.AnnualPremium, rh.AnnualPremium},
		{"quarterly", ra.QuarterlyPremium, rh.QuarterlyPremium},
	} {
		if !near(s.half, s.full/2, 1e-9*s.full) {
			t.Errorf("%s at 50 %%: %.6f, want half of %.6f", s.name, s.half, s.full)
		}
	}
}

func TestDrawdownCoversTheWholeCapital(t *testing.T) {
	b := DefaultBasis()
	in := vectorInput()
	plain := mustCalculate(t, b, in)
	in.DrawdownMonths = 24
	r := mustCalculate(t, b, in)
	if r.AmortisationMonths != 216 || r.Outstanding[0].Outstanding != in.Capital || r.Outstanding[1].Outstanding != in.Capital {
		t.Errorf("drawdown: M = %d, first years %v", r.AmortisationMonths, r.Outstanding[:3])
	}
	if !(r.NetSinglePremium > plain.NetSinglePremium) || !(r.MonthlyPayment > plain.MonthlyPayment) {
		t.Errorf("drawdown NSP %.2f / payment %.2f, want above %.2f / %.2f",
			r.NetSinglePremium, r.MonthlyPayment, plain.NetSinglePremium, plain.MonthlyPayment)
	}
}

func TestPaymentYears(t *testing.T) {
	tests := []struct{ n, want int }{{12, 1}, {18, 1}, {35, 1}, {36, 2}, {240, 13}, {246, 13}, {252, 14}, {480, 26}}
	for _, tt := range tests {
		in := vectorInput()
		in.DurationMonths = tt.n
		if got := mustCalculate(t, DefaultBasis(), in).PaymentYears; got != tt.want {
			t.Errorf("N = %d: payment years %d, want %d", tt.n, got, tt.want)
		}
	}
}

func TestLastYearMayBeShort(t *testing.T) {
	in := vectorInput()
	in.DurationMonths = 30
	got := mustCalculate(t, DefaultBasis(), in).Outstanding
	if len(got) != 3 || got[2].Month != 30 || got[2].Outstanding != 0 || got[1].Month != 24 {
		t.Errorf("outstanding rows = %+v", got)
	}
}

func TestCompletedMonths(t *testing.T) {
	tests := []struct {
		birth, on time.Time
		want      int
	}{
		{born(1990, 4, 24), born(2025, 4, 24), 420},
		{born(1990, 4, 25), born(2025, 4, 24), 419},
		{born(1990, 1, 31), born(1990, 2, 28), 1},
		{born(1990, 1, 31), born(1990, 2, 27), 0},
		{born(2000, 2, 29), born(2001, 2, 28), 12},
		{born(2025, 4, 24), born(2025, 4, 24), 0},
		{born(2025, 4, 25), born(2025, 4, 24), -1},
		{born(2026, 1, 1), born(2025, 4, 24), -1},
		{time.Date(1990, 4, 24, 23, 0, 0, 0, time.UTC), born(2025, 4, 24), 420},
	}
	for _, tt := range tests {
		if got := CompletedMonths(tt.birth, tt.on); got != tt.want {
			t.Errorf("CompletedMonths(%s, %s) = %d, want %d", tt.birth.Format(time.DateOnly), tt.on.Format(time.DateOnly), got, tt.want)
		}
	}
}

func TestValidate(t *testing.T) {
	b := DefaultBasis()
	tests := []struct {
		name   string
		change func(*Input)
		want   Errors
	}{
		{"valid", func(*Input) {}, nil},
		{"no person", func(in *Input) { in.Persons = nil }, Errors{{Field: FieldPersons, Code: CodePersons}}},
		{"three persons", func(in *Input) { in.Persons = append(in.Persons, in.Persons[0], in.Persons[0]) },
			Errors{{Field: FieldPersons, Code: CodePersons}}},
		{"born tomorrow", func(in *Input) { in.Persons[0].BirthDate = born(2025, 4, 25) },
			Errors{{Field: FieldBirthDate, Person: 1, Code: CodeBirthDateFuture}}},
		{"17", func(in *Input) { in.Persons[0].BirthDate = born(2007, 4, 25) },
			Errors{{Field: FieldBirthDate, Person: 1, Code: CodeAgeTooLow, Limit: 18}}},
		{"18 today", func(in *Input) { in.Persons[0].BirthDate = born(2007, 4, 24) }, nil},
		{"70 and 11 months", func(in *Input) { in.Persons[0].BirthDate = born(1954, 5, 1); in.DurationMonths = 12 }, nil},
		{"71", func(in *Input) { in.Persons[0].BirthDate = born(1954, 4, 24); in.DurationMonths = 12 },
			Errors{{Field: FieldBirthDate, Person: 1, Code: CodeAgeTooHigh, Limit: 70}}},
		{"80 at the end", func(in *Input) { in.Persons[0].BirthDate = born(1965, 4, 24) }, nil},
		{"past 80 at the end", func(in *Input) { in.Persons[0].BirthDate = born(1965, 3, 23) },
			Errors{{Field: FieldBirthDate, Person: 1, Code: CodeAgeAtEndTooHigh, Limit: 80}}},
		{"second person", func(in *Input) {
			in.Persons = append(in.Persons, Person{BirthDate: born(2024, 1, 1), Quotity: 1.5})
		}, Errors{{Field: FieldBirthDate, Person: 2, Code: CodeAgeTooLow, Limit: 18}, {Field: FieldQuotity, Person: 2, Code: CodeQuotity}}},
		{"quotity 0", func(in *Input) { in.Persons[0].Quotity = 0 }, Errors{{Field: FieldQuotity, Person: 1, Code: CodeQuotity}}},
		{"capital 0", func(in *Input) { in.Capital = 0 }, Errors{{Field: FieldCapital, Code: CodeCapitalPositive}}},
		{"capital NaN", func(in *Input) { in.Capital = math.NaN() }, Errors{{Field: FieldCapital, Code: CodeCapitalPositive}}},
		{"capital +Inf", func(in *Input) { in.Capital = math.Inf(1) }, Errors{{Field: FieldCapital, Code: CodeCapitalTooHigh, Limit: 5e6}}},
		{"capital too high", func(in *Input) { in.Capital = 5_000_000.01 }, Errors{{Field: FieldCapital, Code: CodeCapitalTooHigh, Limit: 5e6}}},
		{"11 months", func(in *Input) { in.DurationMonths = 11 }, Errors{{Field: FieldDuration, Code: CodeDurationTooShort, Limit: 12}}},
		{"40 years", func(in *Input) { in.DurationMonths = 480; in.Persons[0].BirthDate = born(1990, 1, 1) }, nil},
		{"40 years and a month", func(in *Input) { in.DurationMonths = 481 }, Errors{{Field: FieldDuration, Code: CodeDurationTooLong, Limit: 480}}},
		{"drawdown = duration", func(in *Input) { in.DrawdownMonths = 240 }, Errors{{Field: FieldDrawdown, Code: CodeDrawdownTooLong, Limit: 240}}},
		{"drawdown negative", func(in *Input) { in.DrawdownMonths = -1 }, Errors{{Field: FieldDrawdown, Code: CodeDrawdownNegative}}},
		{"rate negative", func(in *Input) { in.InterestRate = -0.001 }, Errors{{Field: FieldRate, Code: CodeRateNegative}}},
		{"rate 0", func(in *Input) { in.InterestRate = 0 }, nil},
		{"rate 20 %", func(in *Input) { in.InterestRate = 0.20 }, Errors{{Field: FieldRate, Code: CodeRateTooHigh, Limit: 20}}},
		{"rate NaN", func(in *Input) { in.InterestRate = math.NaN() }, Errors{{Field: FieldRate, Code: CodeRateTooHigh, Limit: 20}}},
		{"tariff", func(in *Input) { in.Tariff = "cheap" }, Errors{{Field: FieldTariff, Code: CodeTariff}}},
	}
	for _, tt := range tests {
		in := vectorInput()
		tt.change(&in)
		got := in.Validate(b)
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s: Validate diff (-want +got):\n%s", tt.name, diff)
		}
		r, err := Calculate(b, in)
		var errs Errors
		switch {
		case tt.want == nil && err != nil:
			t.Errorf("%s: Calculate: %v", tt.name, err)
		case tt.want != nil && !errors.As(err, &errs):
			t.Errorf("%s: Calculate error = %v, want Errors", tt.name, err)
		case tt.want == nil && !r.finite():
			t.Errorf("%s: result not finite", tt.name)
		}
	}
}

func TestBasisValidate(t *testing.T) {
	if err := DefaultBasis().Validate(); err != nil {
		t.Fatalf("default basis: %v", err)
	}
	tests := []struct {
		name   string
		change func(*Basis)
		want   string
	}{
		{"technical rate above the law", func(b *Basis) { b.TechnicalRate = 0.04 }, "technical_rate"},
		{"NaN loading", func(b *Basis) { b.Loading = math.NaN() }, "loading"},
		{"loading 100 %", func(b *Basis) { b.Loading = 1 }, "loading"},
		{"weight", func(b *Basis) { b.MaleWeight = 1.2 }, "male_weight"},
		{"smoker discount", func(b *Basis) { b.SmokerFactor = 0.8 }, "smoker_factor"},
		{"flat table", func(b *Basis) { b.FemaleTable.C = 1 }, "female_table.c"},
		{"convention", func(b *Basis) { b.RateConvention = "simple" }, "rate_convention"},
		{"ages", func(b *Basis) { b.Limits.MaxAgeAtEnd = 70 }, "ages"},
		{"durations", func(b *Basis) { b.Limits.MinDurationMonths = 0 }, "durations"},
		{"capital", func(b *Basis) { b.Limits.MaxCapital = 0 }, "max_capital"},
		{"zero value", func(b *Basis) { *b = Basis{} }, "male_table.k"},
	}
	for _, tt := range tests {
		b := DefaultBasis()
		tt.change(&b)
		err := b.Validate()
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: Validate = %v, want an error about %s", tt.name, err, tt.want)
		}
	}
}

// TestBasisYAML checks that the basis reads from the product configuration
// with snake_case keys and that omitted keys keep their defaults.
func TestBasisYAML(t *testing.T) {
	src := `
technical_rate: 0.02
smoker_factor: 1.8
rate_convention: nominal
limits:
  max_capital: 1000000
  max_age_at_end: 85
`
	got := DefaultBasis()
	if err := yaml.Unmarshal([]byte(src), &got); err != nil {
		t.Fatal(err)
	}
	want := DefaultBasis()
	want.TechnicalRate = 0.02
	want.SmokerFactor = 1.8
	want.RateConvention = Nominal
	want.Limits.MaxCapital = 1_000_000
	want.Limits.MaxAgeAtEnd = 85
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("basis from YAML (-want +got):\n%s", diff)
	}
	if err := got.Validate(); err != nil {
		t.Error(err)
	}

	out, err := yaml.Marshal(DefaultBasis())
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"male_table:", "three_years_factor:", "premium_tax:", "monthly_surcharge:", "min_age_at_start:", "max_interest_rate:"} {
		if !strings.Contains(string(out), key) {
			t.Errorf("marshalled basis lacks %q:\n%s", key, out)
		}
	}
}

// TestExtremesStayFinite prices the corners of the default limits.
func TestExtremesStayFinite(t *testing.T) {
	b := DefaultBasis()
	for _, in := range []Input{
		{Persons: []Person{{BirthDate: born(1954, 5, 1), Smoker: true, Quotity: 1}}, Capital: 5e6, DrawdownMonths: 0, DurationMonths: 12, InterestRate: 0.1999, Tariff: WholeTerm, Date: simDate},
		{Persons: []Person{{BirthDate: born(2007, 4, 24), Quotity: 0.01}}, Capital: 0.01, DrawdownMonths: 479, DurationMonths: 480, InterestRate: 0, Tariff: ThreeYears, Date: simDate},
		{Persons: []Person{{BirthDate: born(1965, 4, 24), Smoker: true, Quotity: 1}, {BirthDate: born(2000, 1, 1), Quotity: 1}}, Capital: 5e6, DurationMonths: 180, InterestRate: 0.19, Tariff: WholeTerm, Date: simDate},
	} {
		r := mustCalculate(t, b, in)
		if !r.finite() || !(r.AnnualPremium > 0) {
			t.Errorf("%+v: result %+v", in, r)
		}
	}
	// A basis that skipped validation must not leak NaN.
	bad := DefaultBasis()
	bad.Loading = 1
	if _, err := Calculate(bad, vectorInput()); !errors.Is(err, ErrNotFinite) {
		t.Errorf("loading 100 %%: err = %v, want ErrNotFinite", err)
	}
}
