//go:build ignore

// mkcommon writes common.txt.gz from a frequency-ordered password list, one
// password a line (see common.go for the source):
//
//	go run mkcommon.go < 10_million_password_list_top_1M.txt
//
// It keeps what Check compares against: each line in Unicode NFC and lower
// case, only lengths that the length rules do not already reject, each once,
// in the source's order (most common first).
package main

import (
	"bufio"
	"compress/gzip"
	"fmt"
	"os"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "mkcommon:", err)
		os.Exit(1)
	}
}

func run() error {
	out, err := os.Create("common.txt.gz")
	if err != nil {
		return err
	}
	zw, err := gzip.NewWriterLevel(out, gzip.BestCompression)
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	in := bufio.NewScanner(os.Stdin)
	read, kept := 0, 0
	for in.Scan() {
		read++
		line := in.Text()
		if !utf8.ValidString(line) || strings.ContainsFunc(line, unicode.IsControl) {
			continue
		}
		p := strings.ToLower(norm.NFC.String(line))
		if n := utf8.RuneCountInString(p); n < 12 || n > 128 || seen[p] {
			continue
		}
		seen[p] = true
		kept++
		fmt.Fprintln(zw, p)
	}
	if err := in.Err(); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "mkcommon: %d lines read, %d kept\n", read, kept)
	return out.Close()
}
