package simulation

import (
	"math"
	"testing"
	"time"
)

// simDate is the simulation date of the tests; the vector's person is born
// exactly 35 years before it.
var simDate = time.Date(2025, 4, 24, 0, 0, 0, 0, time.UTC)

func vectorInput() Input {
	return Input{
		Persons:        []Person{{BirthDate: time.Date(1990, 4, 24, 0, 0, 0, 0, time.UTC), Quotity: 1}},
		Capital:        200_000,
		DurationMonths: 240,
		InterestRate:   0.035,
		Tariff:         WholeTerm,
		Date:           simDate,
	}
}

func near(got, want, tol float64) bool { return math.Abs(got-want) <= tol }

// TestVector is the test vector of SIMULATION.md.
func TestVector(t *testing.T) {
	b := DefaultBasis()
	r, err := Calculate(b, vectorInput())
	if err != nil {
		t.Fatal(err)
	}
	p := r.Persons[0]
	tests := []struct {
		name      string
		got, want float64
	}{
		{"j", r.MonthlyRate, 0.002870898719},
		{"A", r.MonthlyPayment, 1154.283001},
		{"B_12", r.Outstanding[0].Outstanding, 192927.784643},
		{"B_120", r.Outstanding[9].Outstanding, 117033.061135},
		{"B_240", r.Outstanding[19].Outstanding, 0},
		{"age", p.Age, 35},
		{"NSP", r.NetSinglePremium, 5465.545790},
		{"ä", p.Annuity, 11.10887848},
		{"net annual premium", p.NetAnnualPremium, 491.997982},
		{"PU", r.SinglePremium, 5465.545790 / 0.85},
		{"PU with tax", r.SinglePremiumWithTax, 5465.545790 / 0.85 * 1.011},
		{"annual premium", r.AnnualPremium, 491.997982 / 0.85},
		{"half-yearly", r.HalfYearlyPremium, 491.997982 / 0.85 * 1.02 / 2},
		{"quarterly", r.QuarterlyPremium, 491.997982 / 0.85 * 1.03 / 4},
		{"monthly", r.MonthlyPremium, 491.997982 / 0.85 * 1.04 / 12},
	}
	for _, tt := range tests {
		tol := 1e-6
		if tt.name == "j" {
			tol = 1e-12
		}
		if tt.name == "ä" {
			tol = 1e-8
		}
		if !near(tt.got, tt.want, tol) {
			t.Errorf("%s = %.9f, want %.9f", tt.name, tt.got, tt.want)
		}
	}
	if r.PaymentYears != 13 {
		t.Errorf("PaymentYears = %d, want 13", r.PaymentYears)
	}
	if got := len(r.Outstanding); got != 20 {
		t.Errorf("len(Outstanding) = %d, want 20", got)
	}

	s := NewSchedule(200_000, r.MonthlyRate, 0, 240)
	if !near(s.Balance[1], 199419.896743, 1e-6) {
		t.Errorf("B_1 = %.6f, want 199419.896743", s.Balance[1])
	}

	smoker := vectorInput()
	smoker.Persons[0].Smoker = true
	rs, err := Calculate(b, smoker)
	if err != nil {
		t.Fatal(err)
	}
	if !near(rs.NetSinglePremium, 8107.667035, 1e-6) {
		t.Errorf("smoker NSP = %.6f, want 8107.667035", rs.NetSinglePremium)
	}
}

// TestMakehamCheckValues are the regulation's check values for MK and FK.
func TestMakehamCheckValues(t *testing.T) {
	tests := []struct {
		table string
		m     Makeham
		x     float64
		want  float64
	}{
		{"MK", MK, 30, 0.00179673}, {"MK", MK, 40, 0.00331718}, {"MK", MK, 50, 0.00738770},
		{"FK", FK, 30, 0.00107171}, {"FK", FK, 40, 0.00174775}, {"FK", FK, 50, 0.00381180},
	}
	for _, tt := range tests {
		if got := tt.m.Q(tt.x); !near(got, tt.want, 5e-9) {
			t.Errorf("%s q(%v) = %.9f, want %.8f", tt.table, tt.x, got, tt.want)
		}
	}
}
