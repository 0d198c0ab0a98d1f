package passhash

import (
	"context"
	"encoding/hex"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"golang.org/x/crypto/argon2"
)

func testHasher() *Hasher { return New(TestParams(), 2) }

func TestHashVerify(t *testing.T) {
	ctx := t.Context()
	h := testHasher()
	enc, err := h.Hash(ctx, "correct horse")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(enc, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Errorf("Hash = %q, want the PHC prefix for TestParams", enc)
	}
	tests := []struct {
		secret string
		ok     bool
	}{
		{"correct horse", true},
		{"correct horse ", false},
		{"Correct horse", false},
		{"correct hors", false},
		{"", false},
		{strings.Repeat("x", MaxSecretLen+1), false},
	}
	for _, tt := range tests {
		ok, rehash, err := h.Verify(ctx, enc, tt.secret)
		if err != nil || ok != tt.ok || rehash {
			t.Errorf("Verify(%.20q) = %v, %v, %v; want %v, false, nil", tt.secret, ok, rehash, err, tt.ok)
		}
	}
	// A new salt every time.
	enc2, err := h.Hash(ctx, "correct horse")
	if err != nil {
		t.Fatal(err)
	}
	if enc2 == enc {
		t.Error("two hashes of the same secret are equal")
	}
	if _, err := h.Hash(ctx, strings.Repeat("x", MaxSecretLen+1)); !errors.Is(err, ErrTooLong) {
		t.Errorf("Hash(too long) = %v, want ErrTooLong", err)
	}
}

// TestNFC checks that the two Unicode spellings of a password are one password.
func TestNFC(t *testing.T) {
	ctx := t.Context()
	h := testHasher()
	enc, err := h.Hash(ctx, "caf\u00e9") // é as one code point
	if err != nil {
		t.Fatal(err)
	}
	if ok, _, err := h.Verify(ctx, enc, "cafe\u0301"); err != nil || !ok { // e + combining acute
		t.Errorf("decomposed spelling: ok %v, err %v; want true", ok, err)
	}
	if ok, _, _ := h.Verify(ctx, enc, "CAF\u00c9"); ok {
		t.Error("passwords must not be case folded")
	}
}

func TestPHCRoundTrip(t *testing.T) {
	p := Params{Memory: 19456, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}
	salt := []byte("0123456789abcdef")
	key := []byte("0123456789abcdef0123456789abcdef")
	enc := encode(p, salt, key)
	want := "$argon2id$v=19$m=19456,t=2,p=1$MDEyMzQ1Njc4OWFiY2RlZg$MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY"
	if enc != want {
		t.Fatalf("encode = %q, want %q", enc, want)
	}
	gp, gs, gk, err := decode(enc)
	if err != nil {
		t.Fatal(err)
	}
	if gp != p || string(gs) != string(salt) || string(gk) != string(key) {
		t.Errorf("decode = %+v, %q, %q", gp, gs, gk)
	}
}

// TestKnownAnswer checks our argon2id against vectors of the reference
// implementation (phc-winner-argon2, src/test.c), through Verify, and that
// the unexported path Hash uses gives exactly argon2.IDKey's output.
func TestKnownAnswer(t *testing.T) {
	vectors := []struct {
		password, encoded, tagHex string
		big                       bool // 64 MiB: skipped with -short
	}{
		{"password", "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc",
			"09316115d5cf24ed5a15a31a3ba326e5cf32edc24702987c02b6566f61913cf7", true},
		{"password", "$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4",
			"9dfeb910e80bad0311fee20f9c0e2b12c17987b4cac90c2ef54d5b3021c68bfe", false},
		{"password", "$argon2id$v=19$m=256,t=2,p=2$c29tZXNhbHQ$bQk8UB/VmZZF4Oo79iDXuL5/0ttZwg2f/5U52iv1cDc",
			"6d093c501fd5999645e0ea3bf620d7b8be7fd2db59c20d9fff9539da2bf57037", false},
	}
	ctx := t.Context()
	h := New(DefaultParams(), 1)
	for _, v := range vectors {
		if v.big && testing.Short() {
			continue
		}
		p, salt, key, err := decode(v.encoded)
		if err != nil {
			t.Fatalf("decode(%q): %v", v.encoded, err)
		}
		if got := hex.EncodeToString(key); got != v.tagHex {
			t.Errorf("%s: decoded tag %s, want %s", v.encoded, got, v.tagHex)
		}
		if got := encode(p, salt, key); got != v.encoded {
			t.Errorf("re-encoded %q, want %q", got, v.encoded)
		}
		ok, rehash, err := h.Verify(ctx, v.encoded, v.password)
		if err != nil || !ok || !rehash {
			t.Errorf("Verify(%q) = %v, %v, %v; want true, true (params differ from default), nil", v.encoded, ok, rehash, err)
		}
		if ok, _, _ := h.Verify(ctx, v.encoded, "passwore"); ok {
			t.Errorf("Verify(%q) accepted a wrong password", v.encoded)
		}
	}

	// Hash's own derivation against argon2.IDKey directly, at default parameters.
	p := DefaultParams()
	salt := []byte("fixed salt 16 by")
	got, err := h.derive(ctx, "hunter2", salt, p)
	if err != nil {
		t.Fatal(err)
	}
	want := argon2.IDKey([]byte("hunter2"), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	if hex.EncodeToString(got) != hex.EncodeToString(want) {
		t.Errorf("derive = %x, want %x", got, want)
	}
	enc := encode(p, salt, got)
	if ok, rehash, err := h.Verify(ctx, enc, "hunter2"); err != nil || !ok || rehash {
		t.Errorf("Verify(default-params hash) = %v, %v, %v; want true, false, nil", ok, rehash, err)
	}
}

func TestNeedsRehash(t *testing.T) {
	ctx := t.Context()
	old := New(TestParams(), 1)
	enc, err := old.Hash(ctx, "s3cret")
	if err != nil {
		t.Fatal(err)
	}
	changes := []struct {
		name   string
		change func(*Params)
	}{
		{"memory", func(p *Params) { p.Memory *= 2 }},
		{"time", func(p *Params) { p.Time++ }},
		{"threads", func(p *Params) { p.Threads++ }},
		{"salt length", func(p *Params) { p.SaltLen = 32 }},
		{"key length", func(p *Params) { p.KeyLen = 64 }},
	}
	for _, c := range changes {
		p := TestParams()
		c.change(&p)
		ok, rehash, err := New(p, 1).Verify(ctx, enc, "s3cret")
		if err != nil || !ok || !rehash {
			t.Errorf("%s changed: Verify = %v, %v, %v; want true, true, nil", c.name, ok, rehash, err)
		}
	}
	if ok, rehash, err := old.Verify(ctx, enc, "s3cret"); err != nil || !ok || rehash {
		t.Errorf("same params: Verify = %v, %v, %v; want true, false, nil", ok, rehash, err)
	}
}

func TestMalformed(t *testing.T) {
	const salt, key = "c29tZXNhbHQ", "nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4"
	good := "$argon2id$v=19$m=256,t=2,p=1$" + salt + "$" + key
	if _, _, _, err := decode(good); err != nil {
		t.Fatalf("the base string is refused: %v", err)
	}
	bad := []struct{ name, in string }{
		{"empty", ""},
		{"garbage", "not a hash"},
		{"bcrypt", "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy"},
		{"argon2i", "$argon2i$v=19$m=256,t=2,p=1$" + salt + "$" + key},
		{"argon2d", "$argon2d$v=19$m=256,t=2,p=1$" + salt + "$" + key},
		{"no version", "$argon2id$m=256,t=2,p=1$" + salt + "$" + key},
		{"version 16", "$argon2id$v=16$m=256,t=2,p=1$" + salt + "$" + key},
		{"no leading $", "argon2id$v=19$m=256,t=2,p=1$" + salt + "$" + key},
		{"trailing $", good + "$"},
		{"extra field", good + "$abc"},
		{"missing hash", "$argon2id$v=19$m=256,t=2,p=1$" + salt},
		{"params reordered", "$argon2id$v=19$t=2,m=256,p=1$" + salt + "$" + key},
		{"extra param", "$argon2id$v=19$m=256,t=2,p=1,k=1$" + salt + "$" + key},
		{"data param", "$argon2id$v=19$m=256,t=2,p=1,data=abc$" + salt + "$" + key},
		{"memory 1 TiB", "$argon2id$v=19$m=1073741824,t=2,p=1$" + salt + "$" + key},
		{"memory just over 1 GiB", "$argon2id$v=19$m=1048577,t=2,p=1$" + salt + "$" + key},
		{"memory overflow", "$argon2id$v=19$m=99999999999,t=2,p=1$" + salt + "$" + key},
		{"memory below 8p", "$argon2id$v=19$m=15,t=2,p=2$" + salt + "$" + key},
		{"time 0", "$argon2id$v=19$m=256,t=0,p=1$" + salt + "$" + key},
		{"time 65", "$argon2id$v=19$m=256,t=65,p=1$" + salt + "$" + key},
		{"threads 0", "$argon2id$v=19$m=256,t=2,p=0$" + salt + "$" + key},
		{"threads 17", "$argon2id$v=19$m=256,t=2,p=17$" + salt + "$" + key},
		{"threads 256 (uint8 wrap)", "$argon2id$v=19$m=4096,t=2,p=256$" + salt + "$" + key},
		{"negative", "$argon2id$v=19$m=-256,t=2,p=1$" + salt + "$" + key},
		{"plus sign", "$argon2id$v=19$m=+256,t=2,p=1$" + salt + "$" + key},
		{"leading zero", "$argon2id$v=19$m=0256,t=2,p=1$" + salt + "$" + key},
		{"hex", "$argon2id$v=19$m=0x100,t=2,p=1$" + salt + "$" + key},
		{"space", "$argon2id$v=19$m=256, t=2,p=1$" + salt + "$" + key},
		{"empty value", "$argon2id$v=19$m=,t=2,p=1$" + salt + "$" + key},
		{"salt too short", "$argon2id$v=19$m=256,t=2,p=1$c29tZQ$" + key},
		{"salt too long", "$argon2id$v=19$m=256,t=2,p=1$" + strings.Repeat("A", 100) + "$" + key},
		{"key too short", "$argon2id$v=19$m=256,t=2,p=1$" + salt + "$c29tZXNhbHQ"},
		{"key too long", "$argon2id$v=19$m=256,t=2,p=1$" + salt + "$" + strings.Repeat("A", 200)},
		{"padded base64", "$argon2id$v=19$m=256,t=2,p=1$" + salt + "=$" + key},
		{"url base64", "$argon2id$v=19$m=256,t=2,p=1$" + salt + "$" + strings.ReplaceAll(key, "/", "_")},
		{"non-canonical base64", "$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHR$" + key},
		{"overlong", good + strings.Repeat("A", 1000)},
		{"CR in salt", "$argon2id$v=19$m=256,t=2,p=1$c29tZX\r\nNhbHQ$" + key},
		{"NUL", "$argon2id$v=19$m=256,t=2,p=1$" + salt + "\x00$" + key},
		{"invalid UTF-8", "$argon2id$v=19$m=256,t=2,p=1$\xff\xfe$" + key},
	}
	ctx := t.Context()
	h := testHasher()
	var computed int
	h.kdf = func(password, salt []byte, time, memory uint32, threads uint8, keyLen uint32) []byte {
		computed++
		return argon2.IDKey(password, salt, time, memory, threads, keyLen)
	}
	for _, tt := range bad {
		before := computed
		ok, _, err := h.Verify(ctx, tt.in, "password")
		if ok || !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: Verify = %v, %v; want false, ErrMalformed", tt.name, ok, err)
		}
		if computed != before+1 {
			t.Errorf("%s: Verify computed %d hashes, want 1 (same cost as a well-formed hash)", tt.name, computed-before)
		}
		if err != nil && len(tt.in) > 20 && strings.Contains(err.Error(), tt.in) {
			t.Errorf("%s: error repeats the stored hash", tt.name)
		}
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name          string
		p             Params
		strict, loose bool // whether Validate(true) / Validate(false) accept
	}{
		{"default", DefaultParams(), true, true},
		{"test", TestParams(), false, true},
		{"owasp t=1 46 MiB", Params{47104, 1, 1, 16, 32}, true, true},
		{"t=1 19 MiB", Params{19456, 1, 1, 16, 32}, false, true},
		{"owasp t=3 12 MiB", Params{12288, 3, 1, 16, 32}, true, true},
		{"t=3 11 MiB", Params{11264, 3, 1, 16, 32}, false, true},
		{"owasp t=5 7 MiB", Params{7168, 5, 1, 16, 32}, true, true},
		{"t=10 7 MiB", Params{7168, 10, 1, 16, 32}, true, true},
		{"t=10 6 MiB", Params{6144, 10, 1, 16, 32}, false, true},
		{"short salt", Params{19456, 2, 1, 8, 32}, false, true},
		{"short key", Params{19456, 2, 1, 16, 16}, false, true},
		{"64 MiB 4 lanes", Params{65536, 3, 4, 16, 32}, true, true},
		{"zero", Params{}, false, false},
		{"time 0", Params{19456, 0, 1, 16, 32}, false, false},
		{"time 65", Params{19456, 65, 1, 16, 32}, false, false},
		{"threads 0", Params{19456, 2, 0, 16, 32}, false, false},
		{"threads 17", Params{19456, 2, 17, 16, 32}, false, false},
		{"memory over 1 GiB", Params{1<<20 + 1, 2, 1, 16, 32}, false, false},
		{"memory 1 GiB", Params{1 << 20, 2, 1, 16, 32}, true, true},
		{"memory < 8 per lane", Params{31, 1, 4, 16, 32}, false, false},
		{"salt 7", Params{19456, 2, 1, 7, 32}, false, false},
		{"salt 65", Params{19456, 2, 1, 65, 32}, false, false},
		{"key 15", Params{19456, 2, 1, 16, 15}, false, false},
		{"key 65", Params{19456, 2, 1, 16, 65}, false, false},
	}
	for _, tt := range tests {
		if err := tt.p.Validate(true); (err == nil) != tt.strict {
			t.Errorf("%s: Validate(true) = %v, want ok %v", tt.name, err, tt.strict)
		}
		if err := tt.p.Validate(false); (err == nil) != tt.loose {
			t.Errorf("%s: Validate(false) = %v, want ok %v", tt.name, err, tt.loose)
		}
	}
	// An invalid Hasher refuses to hash rather than computing something weak or huge.
	if _, err := New(Params{}, 1).Hash(t.Context(), "x"); err == nil {
		t.Error("Hash with zero Params succeeded")
	}
	New(Params{}, 1).Dummy(t.Context()) // must not panic
}

// gate replaces argon2 in a Hasher with a function that counts how many run
// at once and blocks until released.
type gate struct {
	active, max atomic.Int32
	release     chan struct{}
}

func (g *gate) kdf(password, salt []byte, time, memory uint32, threads uint8, keyLen uint32) []byte {
	n := g.active.Add(1)
	for {
		m := g.max.Load()
		if n <= m || g.max.CompareAndSwap(m, n) {
			break
		}
	}
	<-g.release
	g.active.Add(-1)
	return make([]byte, keyLen)
}

func TestConcurrencyBound(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const limit, callers = 3, 40
		g := &gate{release: make(chan struct{})}
		h := New(TestParams(), limit)
		h.kdf = g.kdf

		var wg sync.WaitGroup
		errs := make(chan error, callers)
		for i := range callers {
			wg.Go(func() {
				var err error
				switch i % 3 { // every entry point takes a turn
				case 0:
					_, err = h.Hash(t.Context(), "pw")
				case 1:
					_, _, err = h.Verify(t.Context(), "$argon2id$v=19$m=64,t=1,p=1$c29tZXNhbHQ$"+strings.Repeat("A", 43), "pw")
				case 2:
					h.Dummy(t.Context())
				}
				errs <- err
			})
		}
		synctest.Wait() // every goroutine is now computing or waiting for a turn
		if got := g.active.Load(); got != limit {
			t.Errorf("%d hashes running at once, want exactly %d", got, limit)
			close(g.release) // let the bubble end instead of deadlocking
			wg.Wait()
			return
		}

		// A caller whose context ends while it waits gets ctx.Err() and never computes.
		ctx, cancel := context.WithCancel(t.Context())
		waitErr := make(chan error, 1)
		go func() {
			_, err := h.Hash(ctx, "pw")
			waitErr <- err
		}()
		synctest.Wait()
		cancel()
		if err := <-waitErr; !errors.Is(err, context.Canceled) {
			t.Errorf("Hash with cancelled ctx while waiting = %v, want context.Canceled", err)
		}
		// Already cancelled: refused at once even when a turn is free.
		if _, _, err := New(TestParams(), 1).Verify(ctx, "$argon2id$v=19$m=64,t=1,p=1$c29tZXNhbHQ$"+strings.Repeat("A", 43), "pw"); !errors.Is(err, context.Canceled) {
			t.Errorf("Verify with cancelled ctx = %v, want context.Canceled", err)
		}

		close(g.release)
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Errorf("caller error: %v", err)
			}
		}
		if got := g.max.Load(); got != limit {
			t.Errorf("at most %d hashes ran at once, want %d", got, limit)
		}
	})
}

func TestDefaultConcurrency(t *testing.T) {
	if got := cap(New(TestParams(), 0).sem); got < 1 {
		t.Errorf("New(p, 0) allows %d at once", got)
	}
}

func TestNormalizeAnswer(t *testing.T) {
	tests := []struct{ in, want string }{
		{"  Élodie  DUPONT ", "elodie dupont"},
		{"elodie dupont", "elodie dupont"},
		{"E\u0301LODIE\tDupont", "elodie dupont"}, // decomposed accent, tab
		{"Ça  va\u00a0bien", "ca va bien"},        // no-break space collapses
		{"Straße", "strasse"},
		{"ＦＵＬＬ　ｗｉｄｔｈ", "full width"}, // fullwidth letters and ideographic space
		{"ﬁnal", "final"},
		{"Ærø", "ærø"}, // no decomposition: letters, not accents
		{"Ĳssel", "ijssel"},
		{"ΣΊΣΥΦΟΣ", "σισυφοσ"}, // fold gives σ for every sigma
		{"  \n ", ""},
		{"", ""},
		{"déjà-vu", "deja-vu"},
		{"naïve café", "naive cafe"},
	}
	for _, tt := range tests {
		if got := NormalizeAnswer(tt.in); got != tt.want {
			t.Errorf("NormalizeAnswer(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if got := NormalizeAnswer(NormalizeAnswer(tt.in)); got != tt.want {
			t.Errorf("NormalizeAnswer twice (%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestNormalizeSecret(t *testing.T) {
	tests := []struct{ in, want string }{
		{"cafe\u0301", "caf\u00e9"},
		{" Pass word ", " Pass word "}, // never trimmed, collapsed or folded
		{"ﬁ", "ﬁ"},                     // NFC keeps compatibility characters
		{"Straße", "Straße"},
	}
	for _, tt := range tests {
		if got := NormalizeSecret(tt.in); got != tt.want {
			t.Errorf("NormalizeSecret(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func FuzzDecode(f *testing.F) {
	f.Add("$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4")
	f.Add("$argon2id$v=19$m=4294967295,t=4294967295,p=255$$")
	f.Add("$$$$$")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		p, salt, key, err := decode(s)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v is not ErrMalformed", err)
			}
			return
		}
		if err := p.Validate(false); err != nil {
			t.Fatalf("decode accepted out-of-bounds %+v: %v", p, err)
		}
		// Parsing is strict, so what was accepted is the one canonical spelling.
		if got := encode(p, salt, key); got != s {
			t.Fatalf("decode(%q) re-encodes as %q", s, got)
		}
	})
}

func FuzzNormalizeAnswer(f *testing.F) {
	for _, s := range []string{"  Élodie  DUPONT ", "ß", "\xff\xfe", "ＦＵＬＬ", "a\u0301\u0302"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		NormalizeAnswer(s) // must not panic; idempotence is not promised for arbitrary input
	})
}

func BenchmarkHashDefault(b *testing.B) {
	h := New(DefaultParams(), 1)
	ctx := b.Context()
	for b.Loop() {
		if _, err := h.Hash(ctx, "correct horse battery staple"); err != nil {
			b.Fatal(err)
		}
	}
}

// fakeClock is a clock that moves only when told.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func TestAdmitShedsWhenTheQueueIsFull(t *testing.T) {
	clock := &fakeClock{t: time.Unix(1e9, 0)}
	h := NewWith(TestParams(), Options{Concurrent: 2, MaxWait: 3 * time.Second, Now: clock.now})
	var computed atomic.Int32
	h.kdf = func(password, salt []byte, time_, memory uint32, threads uint8, keyLen uint32) []byte {
		computed.Add(1)
		clock.advance(time.Second) // every computation takes one second
		return make([]byte, keyLen)
	}
	if err := h.Dummy(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := h.Stats().Compute; got != time.Second {
		t.Fatalf("average computation %v, want 1s", got)
	}
	// Two turns, one second each: the 8th caller waits ceil(6/2) = 3 s, the
	// bound; the 9th would wait 4 s.
	var done []func()
	for i := range 8 {
		_, release, err := h.Admit(t.Context())
		if err != nil {
			t.Fatalf("caller %d refused: %v", i+1, err)
		}
		done = append(done, release)
	}
	if got := h.ExpectedWait(); got != 4*time.Second {
		t.Errorf("ExpectedWait = %v, want 4s", got)
	}
	before := computed.Load()
	if _, _, err := h.Admit(t.Context()); !errors.Is(err, ErrBusy) {
		t.Fatalf("9th caller: err = %v, want ErrBusy", err)
	}
	// Callers that do not go through Admit are judged the same way.
	if _, err := h.Hash(t.Context(), "pw"); !errors.Is(err, ErrBusy) {
		t.Errorf("Hash with a full queue: err = %v, want ErrBusy", err)
	}
	if _, _, err := h.Verify(t.Context(), "$argon2id$v=19$m=64,t=1,p=1$c29tZXNhbHQ$"+strings.Repeat("A", 43), "pw"); !errors.Is(err, ErrBusy) {
		t.Errorf("Verify with a full queue: err = %v, want ErrBusy", err)
	}
	if err := h.Dummy(t.Context()); !errors.Is(err, ErrBusy) {
		t.Errorf("Dummy with a full queue: err = %v, want ErrBusy", err)
	}
	if computed.Load() != before {
		t.Errorf("%d computations for refused callers, want none", computed.Load()-before)
	}
	if got := h.Stats(); got.Shed != 4 || got.Admitted != 8 {
		t.Errorf("Stats = %+v, want 4 shed and 8 admitted", got)
	}
	// One place given back (twice: done is idempotent): the next one gets in.
	done[0]()
	done[0]()
	ctx, release, err := h.Admit(t.Context())
	if err != nil {
		t.Fatalf("after a release: %v", err)
	}
	// A flow's own computations use its place, not a new one.
	if err := h.Dummy(ctx); err != nil {
		t.Errorf("Dummy of an admitted flow: %v", err)
	}
	release()
	for _, d := range done[1:] {
		d()
	}
	if got := h.Stats().Admitted; got != 0 {
		t.Errorf("%d still admitted after every release", got)
	}
}

func TestWaitForATurnEndsAtTheBound(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := &gate{release: make(chan struct{})}
		// No computation has finished yet, so admission cannot judge the
		// queue: the wait itself must stop at the bound.
		h := NewWith(TestParams(), Options{Concurrent: 1, MaxWait: 3 * time.Second})
		h.kdf = g.kdf
		go h.Hash(t.Context(), "first") // takes the only turn and keeps it
		synctest.Wait()
		start := time.Now()
		_, err := h.Hash(t.Context(), "second")
		if !errors.Is(err, ErrBusy) {
			t.Errorf("err = %v, want ErrBusy", err)
		}
		if waited := time.Since(start); waited != 3*time.Second {
			t.Errorf("waited %v, want the bound, 3s", waited)
		}
		if st := h.Stats(); st.Shed != 1 || st.Waiting != 0 {
			t.Errorf("Stats = %+v, want 1 shed and nobody waiting", st)
		}
		close(g.release)
		synctest.Wait()
		if st := h.Stats(); st.Computed != 1 || st.Admitted != 0 || st.Running != 0 {
			t.Errorf("Stats = %+v, want the first computed and nothing left", st)
		}
	})
}

// TestShedderUnderLoad runs many callers at once through a Hasher with a
// short bound, for the race detector and for the queue's bookkeeping: every
// caller is computed or refused, never more than the bound run at once, and
// the counters come back to zero.
func TestShedderUnderLoad(t *testing.T) {
	const limit, callers = 2, 200
	h := NewWith(TestParams(), Options{Concurrent: limit, MaxWait: 2 * time.Millisecond})
	var active, peak atomic.Int32
	h.kdf = func(password, salt []byte, time_, memory uint32, threads uint8, keyLen uint32) []byte {
		n := active.Add(1)
		for m := peak.Load(); n > m && !peak.CompareAndSwap(m, n); m = peak.Load() {
		}
		time.Sleep(200 * time.Microsecond)
		active.Add(-1)
		return argon2.IDKey(password, salt, time_, memory, threads, keyLen)
	}
	enc, err := New(TestParams(), 1).Hash(t.Context(), "pw")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var ok, busy atomic.Int32
	for i := range callers {
		wg.Go(func() {
			ctx, done, err := h.Admit(t.Context())
			if err == nil {
				switch i % 3 {
				case 0:
					_, err = h.Hash(ctx, "pw")
				case 1:
					_, _, err = h.Verify(ctx, enc, "pw")
				default:
					err = h.Dummy(ctx)
				}
				_ = h.Stats()
				_ = h.ExpectedWait()
				done()
			}
			switch {
			case err == nil:
				ok.Add(1)
			case errors.Is(err, ErrBusy):
				busy.Add(1)
			default:
				t.Errorf("caller %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	st := h.Stats()
	if int(ok.Load()+busy.Load()) != callers || st.Computed != uint64(ok.Load()) || st.Shed != uint64(busy.Load()) {
		t.Errorf("%d computed, %d refused of %d; Stats = %+v", ok.Load(), busy.Load(), callers, st)
	}
	if st.Admitted != 0 || st.Waiting != 0 || st.Running != 0 {
		t.Errorf("left behind: %+v", st)
	}
	if peak.Load() > limit {
		t.Errorf("%d computations at once, bound %d", peak.Load(), limit)
	}
	t.Logf("%d computed, %d refused", ok.Load(), busy.Load())
}
