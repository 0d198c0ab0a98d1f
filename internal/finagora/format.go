package finagora

import (
	"math"
	"strconv"
	"strings"

	"sesame/internal/i18n"
)

// Belgian number formats. French separates thousands with a space and puts
// the euro sign after the amount ("1 154,28 €"); Dutch groups with dots and
// puts it before ("€ 1.154,28"). Plain spaces are used so that what the page
// shows is what a person would type back; the CSS keeps amounts on one line.
type numberFormat struct {
	group, decimal string
}

func formatOf(l i18n.Lang) numberFormat {
	switch l {
	case i18n.FR:
		return numberFormat{group: " ", decimal: ","}
	case i18n.NL:
		return numberFormat{group: ".", decimal: ","}
	default:
		return numberFormat{group: ",", decimal: "."}
	}
}

// formatNumber writes v with the given number of decimals in l's format.
func formatNumber(l i18n.Lang, v float64, decimals int) string {
	f := formatOf(l)
	s := strconv.FormatFloat(math.Abs(v), 'f', decimals, 64)
	intPart, frac, _ := strings.Cut(s, ".")
	var b strings.Builder
	if v < 0 && strings.Trim(s, "0.") != "" {
		b.WriteString("-")
	}
	for i, r := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteString(f.group)
		}
		b.WriteRune(r)
	}
	if frac != "" {
		b.WriteString(f.decimal)
		b.WriteString(frac)
	}
	return b.String()
}

// formatMoney writes an amount in euros, to the cent.
func formatMoney(l i18n.Lang, v float64) string { return withEuro(l, formatNumber(l, v, 2)) }

// formatEuros writes a whole amount in euros, for limits in messages.
func formatEuros(l i18n.Lang, v float64) string {
	if v != math.Trunc(v) {
		return formatMoney(l, v)
	}
	return withEuro(l, formatNumber(l, v, 0))
}

// withEuro puts the euro sign where each language writes it.
func withEuro(l i18n.Lang, n string) string {
	switch l {
	case i18n.FR:
		return n + " €"
	case i18n.NL:
		return "€ " + n
	default:
		return "€" + n
	}
}

// formatPercent writes a percentage given in percent (3.5 → "3,5 %"),
// with as few decimals as it needs, up to three.
func formatPercent(l i18n.Lang, v float64) string {
	s := strconv.FormatFloat(math.Round(v*1000)/1000, 'f', -1, 64)
	if l != i18n.EN {
		s = strings.Replace(s, ".", ",", 1)
	}
	if l == i18n.FR {
		return s + " %"
	}
	return s + "%"
}
