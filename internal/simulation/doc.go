// Package simulation prices Finagora's "quick simulation": the premium of a
// Belgian outstanding-balance life insurance (assurance solde restant dû,
// schuldsaldoverzekering) that repays a loan if an insured person dies.
// It has no HTTP in it; finagora renders it, and the same Calculate serves the
// JSON endpoint.
//
// The method is public regulation and market practice, as the project's
// SIMULATION.md sets it out with its test vector:
//
//   - Mortality: the Belgian death-cover tables MK (men) and FK (women) of the
//     royal decree on life insurance of 14/11/2003 (art. 24, annex 1), both
//     Makeham laws l(x) = k·s^x·g^(c^x) evaluated at fractional ages. Since
//     21/12/2012 prices may not depend on sex, so the basis mixes them:
//     l(x) = w·l_MK(x) + (1−w)·l_FK(x), w = ½ by default. A monthly death
//     probability is q = 1 − l(x+t/12)/l(x+(t−1)/12), multiplied by a smoker
//     factor and a tariff multiplier and capped at 1.
//   - Loan: monthly rate j = (1+i)^(1/12) − 1 (Belgian mortgage practice) or
//     i/12; after D drawdown months the capital C is repaid over M = N − D
//     months by A = C·j/(1−(1+j)^(−M)); B_k = B_(k−1)·(1+j) − A. The capital
//     at risk in month t is C during drawdown, then the balance at the start of
//     the month.
//   - Net single premium: NSP = Σ_t Q·C_t·S_(t−1)·q_t·v^t with v = (1+i_T)^(−1/12)
//     (death benefit paid at the end of the month of death), S the survival.
//   - Shown premiums: the single premium PU = NSP/(1−α), with and without the
//     premium tax; the level annual premium PU/ä paid in advance for two thirds
//     of the term (whole years, at least one), ä = Σ_k (1+i_T)^(−k)·S_(12k); its
//     half-yearly, quarterly and monthly splits with their surcharges.
//
// Two insured persons are each priced on the same schedule with their own age,
// factor and quotity; the totals add up. Every parameter is in [Basis], so an
// insurer can plug in its own basis through the product configuration. The
// simulation date is an input: nothing here reads the clock.
package simulation
