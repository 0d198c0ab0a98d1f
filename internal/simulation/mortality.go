package simulation

import "math"

// L is the number of survivors at age x (in years, fractional ages allowed).
func (m Makeham) L(x float64) float64 {
	return m.K * math.Pow(m.S, x) * math.Pow(m.G, math.Pow(m.C, x))
}

// Q is the probability of dying within a year at exact age x: 1 − l(x+1)/l(x).
func (m Makeham) Q(x float64) float64 { return 1 - m.L(x+1)/m.L(x) }

// l is the basis' unisex survivor function, mixing the tables themselves (not
// their death probabilities), as the regulation's unisex practice does.
func (b Basis) l(x float64) float64 {
	return b.MaleWeight*b.MaleTable.L(x) + (1-b.MaleWeight)*b.FemaleTable.L(x)
}
