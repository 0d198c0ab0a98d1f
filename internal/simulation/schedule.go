package simulation

import "math"

// Schedule is a loan's repayment plan: D drawdown months during which only
// interest is due, then M = N − D equal monthly payments.
type Schedule struct {
	Capital        float64
	MonthlyRate    float64 // j
	DrawdownMonths int     // D
	Months         int     // N, drawdown included
	Payment        float64 // A, the monthly payment after drawdown
	// Balance[k] is the capital still owed after k payments, k = 0..M;
	// Balance[0] is the capital and Balance[M] is exactly 0.
	Balance []float64
}

// MonthlyRate turns an annual loan rate into the monthly rate of convention c.
func MonthlyRate(annual float64, c RateConvention) float64 {
	if c == Nominal {
		return annual / 12
	}
	return math.Pow(1+annual, 1.0/12) - 1
}

// NewSchedule builds the plan of a loan of capital repaid at monthly rate j
// over n months, the first d of which are a drawdown period. It assumes
// 0 ≤ d < n and j > −1, which Input.Validate guarantees.
func NewSchedule(capital, j float64, d, n int) Schedule {
	m := n - d
	var a float64
	if j == 0 {
		a = capital / float64(m)
	} else {
		a = capital * j / -math.Expm1(-float64(m)*math.Log1p(j))
	}
	bal := make([]float64, m+1)
	bal[0] = capital
	for k := 1; k <= m; k++ {
		// Clamp the rounding dust of the last payments: a balance is never negative.
		bal[k] = max(0, bal[k-1]*(1+j)-a)
	}
	// The annuity formula repays exactly; what remains is floating-point dust.
	bal[m] = 0
	return Schedule{Capital: capital, MonthlyRate: j, DrawdownMonths: d, Months: n, Payment: a, Balance: bal}
}

// AtRisk is the capital covered in month t = 1..N: the whole capital during
// drawdown, then the balance at the start of the month.
func (s Schedule) AtRisk(t int) float64 {
	if t <= s.DrawdownMonths {
		return s.Capital
	}
	return s.Balance[t-1-s.DrawdownMonths]
}

// Outstanding is the capital still owed at the end of month t = 0..N.
func (s Schedule) Outstanding(t int) float64 {
	if t <= s.DrawdownMonths {
		return s.Capital
	}
	return s.Balance[t-s.DrawdownMonths]
}
