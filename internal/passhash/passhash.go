// Package passhash hashes passwords and security answers with argon2id and
// stores them as PHC strings:
//
//	$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>   (salt and hash in unpadded standard base64)
//
// argon2id is memory-hard on purpose, so each hash costs its full memory
// (19 MiB at the default). A Hasher therefore runs at most a fixed number of
// hashes at once and makes the others wait, so a burst of logins queues
// instead of exhausting memory.
//
// A queue that is too long is worse than a refusal: a person whose login
// waits 30 s gives up, and the work done for them is wasted. With a bound
// on the wait (Options.MaxWait), a caller whose turn would come later than
// the bound is refused at once with ErrBusy, before any work: Admit decides
// it from the number of callers ahead and the moving average of one
// computation, and the wait for a turn itself gives up at the bound should
// the estimate have been wrong.
//
// Everything read back from storage is bounded before use: a tampered row
// claiming m=4 TiB or t=10^9 is refused as malformed rather than obeyed.
package passhash

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"sesame/internal/passhash/argon2id"
)

// ErrMalformed wraps every error about a stored PHC string that cannot be
// parsed or whose parameters are out of bounds.
var ErrMalformed = errors.New("passhash: malformed hash")

// ErrBusy is returned instead of waiting longer than the Hasher's bound for
// a turn; nothing was computed.
var ErrBusy = errors.New("passhash: busy: the wait for a hashing turn would exceed the bound")

// ErrTooLong is returned for a secret longer than MaxSecretLen bytes.
var ErrTooLong = errors.New("passhash: secret too long")

// MaxSecretLen bounds what is hashed. Nobody types a 1 KiB password, and the
// bound keeps the cost of a request independent of its size.
const MaxSecretLen = 1024

// Params are argon2id's cost settings and the sizes of salt and hash.
type Params struct {
	Memory  uint32 // KiB
	Time    uint32 // passes over memory
	Threads uint8  // lanes
	SaltLen uint32 // bytes
	KeyLen  uint32 // bytes of hash output
}

// DefaultParams returns OWASP's minimum for argon2id: 19 MiB, 2 passes,
// 1 lane, with a 16-byte salt and a 32-byte hash.
func DefaultParams() Params {
	return Params{Memory: 19456, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}
}

// TestParams returns parameters small enough for fast tests (64 KiB, 1 pass).
// Validate(true) refuses them, so they cannot reach production unnoticed.
func TestParams() Params {
	return Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}
}

// Hard bounds for any parameters, including those parsed from storage.
const (
	maxMemory  = 1 << 20 // KiB: 1 GiB
	maxTime    = 64
	maxThreads = 16
	minSalt    = 8 // the PHC format's minimum
	maxSalt    = 64
	minKey     = 16
	maxKey     = 64
)

// owaspMinMemory is OWASP's table of equivalent argon2id settings: the
// minimum memory (KiB) for a given number of passes, one lane.
// More passes than 5 still need 7 MiB.
var owaspMinMemory = [...]uint32{1: 47104, 2: 19456, 3: 12288, 4: 9216, 5: 7168}

// Validate reports whether p is within hard bounds (memory at most 1 GiB,
// at most 64 passes and 16 lanes, salt 8..64 bytes, hash 16..64 bytes,
// memory at least 8 KiB per lane as argon2 requires). When strict, p must
// also reach OWASP's minimum: memory for the number of passes as in OWASP's
// table (19 MiB for 2 passes, 46 MiB for 1), a 16-byte salt and 32-byte hash.
// Production configuration is validated strictly; TestParams is not strict.
func (p Params) Validate(strict bool) error {
	switch {
	case p.Time < 1 || p.Time > maxTime:
		return fmt.Errorf("passhash: time %d out of range 1..%d", p.Time, maxTime)
	case p.Threads < 1 || p.Threads > maxThreads:
		return fmt.Errorf("passhash: threads %d out of range 1..%d", p.Threads, maxThreads)
	case p.Memory < 8*uint32(p.Threads) || p.Memory > maxMemory:
		return fmt.Errorf("passhash: memory %d KiB out of range %d..%d", p.Memory, 8*uint32(p.Threads), maxMemory)
	case p.SaltLen < minSalt || p.SaltLen > maxSalt:
		return fmt.Errorf("passhash: salt length %d out of range %d..%d", p.SaltLen, minSalt, maxSalt)
	case p.KeyLen < minKey || p.KeyLen > maxKey:
		return fmt.Errorf("passhash: key length %d out of range %d..%d", p.KeyLen, minKey, maxKey)
	}
	if !strict {
		return nil
	}
	minMem := owaspMinMemory[min(p.Time, uint32(len(owaspMinMemory)-1))]
	switch {
	case p.Memory < minMem:
		return fmt.Errorf("passhash: memory %d KiB with %d passes is below OWASP's minimum of %d KiB", p.Memory, p.Time, minMem)
	case p.SaltLen < 16:
		return fmt.Errorf("passhash: salt length %d is below 16 bytes", p.SaltLen)
	case p.KeyLen < 32:
		return fmt.Errorf("passhash: key length %d is below 32 bytes", p.KeyLen)
	}
	return nil
}

// Hasher hashes and verifies secrets with fixed parameters, running at most a
// fixed number of argon2id computations at once. It is safe for concurrent use.
type Hasher struct {
	p       Params
	sem     chan struct{} // one token per running computation
	maxWait time.Duration // 0: wait as long as it takes
	now     func() time.Time
	// kdf is argon2id.IDKey (x/crypto's, with pooled memory); tests replace it to observe concurrency.
	kdf func(password, salt []byte, time, memory uint32, threads uint8, keyLen uint32) []byte
	// took is a moving average of how long a verification takes, turn
	// included, in nanoseconds: what Pause waits.
	took atomic.Int64
	// compute is a moving average of one computation alone, in
	// nanoseconds: what each caller ahead in the queue costs the next.
	compute atomic.Int64

	admitted atomic.Int64  // callers counted in the queue: admitted, not yet done
	waiting  atomic.Int64  // callers waiting for a turn now
	running  atomic.Int64  // computations running now
	shed     atomic.Uint64 // callers refused with ErrBusy
	computed atomic.Uint64 // computations done
}

// Options tune a Hasher beyond its parameters.
type Options struct {
	// Concurrent bounds the computations run at once; runtime.NumCPU()
	// when <= 0.
	Concurrent int
	// MaxWait bounds how long a caller waits for a turn: one that would
	// wait longer gets ErrBusy at once. 0: no bound.
	MaxWait time.Duration
	// Now is the clock that times computations; time.Now when nil.
	Now func() time.Time
}

// New returns a Hasher that hashes with p and computes at most concurrent
// hashes at once (runtime.NumCPU() when concurrent <= 0); further calls wait
// for a turn, without bound. p should have passed Validate(true) at
// start-up; if it does not pass Validate(false), Hash returns an error.
func New(p Params, concurrent int) *Hasher {
	return NewWith(p, Options{Concurrent: concurrent})
}

// NewWith is New with a bound on the wait and a clock.
func NewWith(p Params, o Options) *Hasher {
	if o.Concurrent <= 0 {
		o.Concurrent = runtime.NumCPU()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Hasher{p: p, sem: make(chan struct{}, o.Concurrent), maxWait: max(o.MaxWait, 0), now: o.Now, kdf: argon2id.IDKey}
}

// Stats is a snapshot of a Hasher's queue, for metrics.
type Stats struct {
	Concurrent int           // computations allowed at once
	Admitted   int64         // callers counted in the queue (admitted and not done)
	Waiting    int64         // callers waiting for a turn
	Running    int64         // computations running
	Shed       uint64        // callers refused with ErrBusy since start
	Computed   uint64        // computations done since start
	Compute    time.Duration // moving average of one computation
	MaxWait    time.Duration // the bound on a wait; 0: none
}

// Stats returns the queue's current figures.
func (h *Hasher) Stats() Stats {
	return Stats{Concurrent: cap(h.sem), Admitted: h.admitted.Load(), Waiting: h.waiting.Load(), Running: h.running.Load(),
		Shed: h.shed.Load(), Computed: h.computed.Load(), Compute: time.Duration(h.compute.Load()), MaxWait: h.maxWait}
}

// ticket is an admitted caller's place in the queue, carried in its context
// so that the computations of its flow are not counted twice.
type ticket struct {
	h     *Hasher
	since time.Time
	done  atomic.Bool
}

type ticketKey struct{}

func (t *ticket) release() {
	if t.done.CompareAndSwap(false, true) {
		t.h.admitted.Add(-1)
	}
}

// Admit decides whether a flow that is about to hash gets in the queue:
// ErrBusy (counted as shed) when the callers already admitted would keep
// its turn from coming within the bound, judged from their number and the
// average computation — so a refused flow is refused before it does any
// work. Otherwise it returns ctx carrying its place in the queue (the
// flow's computations wait no longer than the bound from now) and done,
// which gives the place back: call it when the flow has finished hashing.
// Without a bound every flow is admitted.
func (h *Hasher) Admit(ctx context.Context) (context.Context, func(), error) {
	if t, ok := ctx.Value(ticketKey{}).(*ticket); ok && t.h == h && !t.done.Load() {
		return ctx, func() {}, nil // admitted already: one place per flow
	}
	t, err := h.admit()
	if err != nil {
		return ctx, func() {}, err
	}
	return context.WithValue(ctx, ticketKey{}, t), t.release, nil
}

func (h *Hasher) admit() (*ticket, error) {
	ahead := h.admitted.Add(1)
	if h.maxWait > 0 && h.expectedWait(ahead) > h.maxWait {
		h.admitted.Add(-1)
		h.shed.Add(1)
		return nil, ErrBusy
	}
	return &ticket{h: h, since: h.now()}, nil
}

// expectedWait is how long the n-th caller in the queue (itself included)
// waits for its turn: with c turns, it starts once n-c computations ahead
// of it have ended, c at a time.
func (h *Hasher) expectedWait(n int64) time.Duration {
	c := int64(cap(h.sem))
	if n <= c {
		return 0
	}
	return time.Duration((n - c + c - 1) / c * h.compute.Load())
}

// ExpectedWait is how long a caller admitted now would wait for a turn.
func (h *Hasher) ExpectedWait() time.Duration { return h.expectedWait(h.admitted.Load() + 1) }

// Params returns the parameters h hashes with.
func (h *Hasher) Params() Params { return h.p }

// derive computes argon2id once a turn is free. Waiting ends with ctx.Err()
// if ctx is done first, and with ErrBusy at the bound (counted from the
// flow's admission); once started, a computation runs to the end. A caller
// not admitted through Admit is admitted here.
func (h *Hasher) derive(ctx context.Context, secret string, salt []byte, p Params) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	t, ok := ctx.Value(ticketKey{}).(*ticket)
	if !ok || t.h != h || t.done.Load() {
		var err error
		if t, err = h.admit(); err != nil {
			return nil, err
		}
		defer t.release()
	}
	if err := h.turn(ctx, t); err != nil {
		return nil, err
	}
	h.running.Add(1)
	defer func() { h.running.Add(-1); <-h.sem }()
	start := h.now()
	key := h.kdf([]byte(NormalizeSecret(secret)), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	if p == h.p {
		// Only computations at h's parameters predict the queue's pace.
		average(&h.compute, h.now().Sub(start))
	}
	h.computed.Add(1)
	return key, nil
}

// turn waits for a free turn: until ctx is done, or until t's wait reaches
// the bound (ErrBusy).
func (h *Hasher) turn(ctx context.Context, t *ticket) error {
	select {
	case h.sem <- struct{}{}:
		return nil
	default:
	}
	h.waiting.Add(1)
	defer h.waiting.Add(-1)
	var expire <-chan time.Time
	if h.maxWait > 0 {
		timer := time.NewTimer(h.maxWait - h.now().Sub(t.since))
		defer timer.Stop()
		expire = timer.C
	}
	select {
	case h.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-expire:
		h.shed.Add(1)
		return ErrBusy
	}
}

// average folds one duration into a moving average (a weight of 1/8 for
// the newest), lock-free.
func average(avg *atomic.Int64, d time.Duration) {
	for {
		old := avg.Load()
		v := int64(d)
		if old != 0 {
			v = old + (int64(d)-old)/8
		}
		if avg.CompareAndSwap(old, v) {
			return
		}
	}
}

// observe folds one verification's duration, turn included, into what
// Pause waits.
func (h *Hasher) observe(d time.Duration) { average(&h.took, d) }

// Pause waits as long as a verification currently takes — its turn in the
// queue included — without computing anything, or until ctx is done. An
// attempt refused before any hash (a locked account) answers after Pause,
// so its timing does not tell it apart from a wrong password, yet it costs
// no CPU: a flood against a locked account cannot starve real logins.
func (h *Hasher) Pause(ctx context.Context) {
	d := time.Duration(h.took.Load())
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// Hash returns the PHC string of secret under a new random salt. The secret
// is normalized with NormalizeSecret first, here and in Verify, so callers
// cannot forget it. Errors: ErrTooLong, ctx.Err() while waiting for a turn,
// ErrBusy when the turn would come too late, invalid parameters, or a
// failing random source.
func (h *Hasher) Hash(ctx context.Context, secret string) (string, error) {
	if err := h.p.Validate(false); err != nil {
		return "", err
	}
	if len(secret) > MaxSecretLen {
		return "", ErrTooLong
	}
	salt := make([]byte, h.p.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("passhash: salt: %w", err)
	}
	key, err := h.derive(ctx, secret, salt, h.p)
	if err != nil {
		return "", err
	}
	return encode(h.p, salt, key), nil
}

// Verify reports whether secret matches the PHC string encoded, comparing in
// constant time, and whether encoded was made with parameters other than h's
// (needsRehash: the caller should store a fresh Hash after a successful login).
// Errors: a malformed or out-of-bounds encoded (wrapping ErrMalformed, after
// the same work as a real verification), ctx.Err() while waiting for a turn,
// ErrBusy when the turn would come too late (nothing computed). A secret over MaxSecretLen simply does not match
// (no error), after the same work as any other attempt.
func (h *Hasher) Verify(ctx context.Context, encoded, secret string) (ok bool, needsRehash bool, err error) {
	p, salt, want, err := decode(encoded)
	if err != nil {
		// Still spend a verification's time: an account whose hash is empty
		// or unusable must not answer faster than one whose hash is fine.
		if derr := h.Dummy(ctx); errors.Is(derr, ErrBusy) || ctx.Err() != nil {
			return false, false, derr
		}
		return false, false, err
	}
	return h.verify(ctx, p, salt, want, secret)
}

func (h *Hasher) verify(ctx context.Context, p Params, salt, want []byte, secret string) (ok, needsRehash bool, err error) {
	tooLong := len(secret) > MaxSecretLen
	if tooLong {
		secret = "" // still do the work, so length is not a shortcut
	}
	start := h.now()
	got, err := h.derive(ctx, secret, salt, p)
	if err != nil {
		return false, false, err
	}
	h.observe(h.now().Sub(start))
	ok = subtle.ConstantTimeCompare(got, want) == 1 && !tooLong
	return ok, p != h.p, nil
}

// Dummy does the work of a Verify against a hash with h's parameters, and
// throws the result away. Call it when the identifier is unknown so that the
// answer takes as long as for a known account: timing must not tell which
// identifiers exist. Its error is ctx's or ErrBusy when no hash was
// computed (the caller answers as it would for a real verification).
func (h *Hasher) Dummy(ctx context.Context) error {
	p := h.p
	if p.Validate(false) != nil {
		return nil // Hash fails at once too, so this costs the same
	}
	// Parsing is part of Verify's cost; parse a well-formed string of the
	// right shape, then derive like Verify does.
	p, salt, want, err := decode(encode(p, make([]byte, p.SaltLen), make([]byte, p.KeyLen)))
	if err != nil {
		return nil
	}
	_, _, err = h.verify(ctx, p, salt, want, "dummy")
	return err
}

// b64 is the PHC format's base64: standard alphabet, no padding. Strict
// rejects non-canonical encodings (stray bits in the last character), so
// one hash has exactly one spelling.
var b64 = base64.RawStdEncoding.Strict()

func encode(p Params, salt, key []byte) string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2id.Version, p.Memory, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key))
}

// maxEncodedLen bounds the string decode looks at: the longest legal string is
// well under 200 bytes.
const maxEncodedLen = 256

// decode parses a PHC argon2id string strictly: the fields in the canonical
// order, decimal numbers without sign or leading zeros, and every value
// within Validate(false)'s bounds. Errors wrap ErrMalformed and never
// repeat the input (it is a password hash).
func decode(s string) (p Params, salt, key []byte, err error) {
	bad := func(what string) (Params, []byte, []byte, error) {
		return Params{}, nil, nil, fmt.Errorf("%w: %s", ErrMalformed, what)
	}
	if len(s) > maxEncodedLen {
		return bad("too long")
	}
	// "", "argon2id", "v=19", "m=…,t=…,p=…", salt, hash
	f := strings.Split(s, "$")
	if len(f) != 6 || f[0] != "" {
		return bad("not a PHC string")
	}
	if f[1] != "argon2id" {
		return bad("algorithm is not argon2id")
	}
	if f[2] != "v="+strconv.Itoa(argon2id.Version) {
		return bad("unsupported argon2 version")
	}
	ps := strings.Split(f[3], ",")
	if len(ps) != 3 {
		return bad("parameters are not m,t,p")
	}
	m, ok1 := number(ps[0], "m=", maxMemory)
	t, ok2 := number(ps[1], "t=", maxTime)
	th, ok3 := number(ps[2], "p=", maxThreads)
	if !ok1 || !ok2 || !ok3 {
		return bad("parameters out of bounds")
	}
	if len(f[4]) > b64.EncodedLen(maxSalt) || len(f[5]) > b64.EncodedLen(maxKey) {
		return bad("salt or hash too long")
	}
	if !isBase64(f[4]) || !isBase64(f[5]) {
		// encoding/base64 skips '\r' and '\n'; a stored hash has neither.
		return bad("salt or hash is not base64")
	}
	salt, err1 := b64.DecodeString(f[4])
	key, err2 := b64.DecodeString(f[5])
	if err1 != nil || err2 != nil {
		return bad("salt or hash is not base64")
	}
	p = Params{Memory: m, Time: t, Threads: uint8(th), SaltLen: uint32(len(salt)), KeyLen: uint32(len(key))}
	if err := p.Validate(false); err != nil {
		return bad("parameters out of bounds")
	}
	return p, salt, key, nil
}

// number parses "key=N" where N is decimal, without sign or leading zero, and at most max.
func number(s, key string, max uint32) (uint32, bool) {
	v, ok := strings.CutPrefix(s, key)
	if !ok || v == "" || len(v) > 10 || (len(v) > 1 && v[0] == '0') {
		return 0, false
	}
	for i := 0; i < len(v); i++ {
		if v[i] < '0' || v[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseUint(v, 10, 32)
	if err != nil || n > uint64(max) {
		return 0, false
	}
	return uint32(n), true
}

// isBase64 reports whether s holds only characters of the standard base64 alphabet.
func isBase64(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '+' || c == '/') {
			return false
		}
	}
	return true
}
