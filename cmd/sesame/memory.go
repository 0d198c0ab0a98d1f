package main

import (
	"fmt"
	"log/slog"
	"math"
	"runtime/debug"
)

// The portal's memory is mostly the hashes': argon2id allocates its whole
// memory cost (19 MiB by default) afresh for every hash, so at full load
// the process allocates about a gigabyte a second while no more than
// argon2.concurrent of those buffers are ever live. With the garbage
// collector's default target (GOGC=100: collect when the heap has grown by
// as much as was live after the last collection) the heap is let grow to
// about twice the live buffers plus the rest, and the runtime keeps that
// from the OS: 150-190 MiB resident at 32 to 500 logins at once, where
// under 100 MiB is ever reachable.
//
// So the portal sets itself a soft memory limit (debug.SetMemoryLimit) from
// what it can need: memoryBase for everything but the hashes — the runtime,
// the templates and translations, SQLite's page cache, hundreds of
// connections and their goroutines — plus one and a half times the
// buffers of the hashes that may run at once (the half: a finished
// buffer is garbage until the next collection, and one more may be
// allocated meanwhile). Near the limit the collector runs more often
// instead of growing the heap; it costs little here, because the hash
// buffers hold no pointers and marking them is nothing. The limit is soft:
// if more is really live the heap grows past it (the runtime caps the
// collector at about half the CPU rather than thrash), so a wrong guess
// costs CPU, never an out-of-memory failure.
//
// With the limit bounding the peak, the collector's target can be looser
// than the default while the heap is small: GOGC=400 (collect when the heap
// has grown by four times what was live) spares a portal serving pages,
// whose live heap is a few MiB, most of its collections — 3-12 % more page
// views per CPU-second measured — and changes nothing under login load,
// where the limit decides (peak RSS 102 MiB at 32 logins, as with 100).
//
// An operator who sets GOMEMLIMIT (or GOGC=off, which only makes sense
// with one) has decided: the portal then leaves the limit alone; one who
// sets GOGC keeps it.
const memoryBase = 16 << 20

// memoryLimit is the soft limit for hashes computed concurrent at once with
// memKiB KiB each, and false when the operator set GOMEMLIMIT or GOGC=off.
func memoryLimit(getenv func(string) string, concurrent int, memKiB uint32) (int64, bool) {
	if getenv("GOMEMLIMIT") != "" || getenv("GOGC") == "off" {
		return 0, false
	}
	hashes := int64(concurrent) * int64(memKiB) << 10
	limit := memoryBase + hashes + hashes/2
	if limit < 0 || hashes < 0 {
		limit = math.MaxInt64
	}
	return limit, true
}

// gcPercent is the collector's target with the limit, unless the operator
// set GOGC.
const gcPercent = 400

// setMemoryLimit applies memoryLimit, and gcPercent unless GOGC is set,
// and says what it chose. The returned
// function puts the previous limit back, for a command run in-process by
// a test.
func setMemoryLimit(getenv func(string) string, concurrent int, memKiB uint32, log *slog.Logger) (restore func()) {
	limit, ok := memoryLimit(getenv, concurrent, memKiB)
	if !ok {
		log.Info("memory limit left to the runtime's environment", "GOMEMLIMIT", getenv("GOMEMLIMIT"), "GOGC", getenv("GOGC"))
		return func() {}
	}
	prev := debug.SetMemoryLimit(limit)
	prevGC, gogc := -2, getenv("GOGC")
	if gogc == "" {
		prevGC = debug.SetGCPercent(gcPercent)
		gogc = fmt.Sprint(gcPercent)
	}
	log.Info("soft memory limit set", "limit", fmt.Sprintf("%d MiB", limit>>20), "gogc", gogc,
		"hashes_at_once", concurrent, "hash_memory", fmt.Sprintf("%d KiB", memKiB))
	return func() {
		debug.SetMemoryLimit(prev)
		if prevGC != -2 {
			debug.SetGCPercent(prevGC)
		}
	}
}
