package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"sesame/internal/account"
	"sesame/internal/totp"
)

// highestSame returns the highest step, from step to the furthest the portal
// might try, whose code is code. The portal records the highest step that
// matches (codes of two steps collide about once in a million), and every
// step up to it is then spent.
func highestSame(a *loadAccount, step int64, code string) int64 {
	last := step
	for s := step + 1; s <= step+2*int64(a.totp.Skew)+1; s++ {
		if totp.HOTP(a.secret, uint64(s), a.totp.Digits, a.totp.Algorithm) == code {
			last = s
		}
	}
	return last
}

// pool hands out accounts with an unused code, least recently used first,
// each to one virtual user at a time: two logins in flight on one account
// could commit their steps out of order and the later would be a replay.
type pool struct {
	mu       sync.Mutex
	accounts []*loadAccount
	next     int
}

// take returns an idle account and the code its app shows at now — the
// current step's, as a person types it — marking that step used; false
// when every account has used its current code (or is busy). Under load the
// portal checks the code against the time the request arrived, so the
// current code stays right however long the login waits.
func (p *pool) take(now time.Time) (*loadAccount, string, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := len(p.accounts)
	for i := range n {
		a := p.accounts[(p.next+i)%n]
		if a.busy {
			continue
		}
		step := a.totp.Step(now)
		if step <= a.last {
			continue
		}
		code := totp.HOTP(a.secret, uint64(step), a.totp.Digits, a.totp.Algorithm)
		a.prev = a.last
		a.last, a.busy = highestSame(a, step, code), true
		p.next = (p.next + i + 1) % n
		return a, code, true
	}
	return nil, "", false
}

// release gives the account back; spent is false when the portal did not
// evaluate its code (a 503: too busy), which then stays usable.
func (p *pool) release(a *loadAccount, spent bool) {
	p.mu.Lock()
	a.busy = false
	if !spent {
		a.last = a.prev
	}
	p.mu.Unlock()
}

// outcomeOK is a successful login, as the report counts it; outcomeBusy a
// login the portal shed (nothing evaluated).
const (
	outcomeOK   = "303 to / (logged in)"
	outcomeBusy = "503 busy, with Retry-After"
	outcomePage = "GET / 200, logged in"
)

// result is one login.
type result struct {
	outcome     string
	cancelled   bool          // cut short by an interruption: not counted
	total, post time.Duration // GET and POST; the POST alone
	retryAfter  int           // seconds, on a 503
}

// login is a new visitor's whole login: GET /login, then POST /login.
func login(ctx context.Context, b *browser, a *loadAccount, code string) result {
	b.forget()
	start := time.Now()
	page, err := b.do(ctx, http.MethodGet, "/login", nil)
	if err != nil {
		return result{outcome: "GET /login: " + errorKind(err), cancelled: ctx.Err() != nil}
	}
	csrf, ok := csrfToken(page.body)
	if page.status != http.StatusOK || !ok {
		return result{outcome: fmt.Sprintf("GET /login %d", page.status)}
	}
	postStart := time.Now()
	ans, err := b.do(ctx, http.MethodPost, "/login", url.Values{"csrf": {csrf}, "identifier": {a.identifier},
		"password": {a.password}, "account_type": {string(account.Client)}, "totp": {code}})
	end := time.Now()
	if err != nil {
		return result{outcome: "POST /login: " + errorKind(err), cancelled: ctx.Err() != nil}
	}
	r := result{total: end.Sub(start), post: end.Sub(postStart)}
	switch {
	case ans.status == http.StatusSeeOther && ans.location == "/":
		r.outcome = outcomeOK
	case ans.status == http.StatusSeeOther:
		r.outcome = fmt.Sprintf("303 to %.40s", ans.location)
	case ans.status == http.StatusUnauthorized && ans.retryAfter != "":
		r.outcome = "401 address throttled"
	case ans.status == http.StatusServiceUnavailable && ans.retryAfter != "":
		r.outcome = outcomeBusy
		r.retryAfter, _ = strconv.Atoi(ans.retryAfter)
		r.post = end.Sub(postStart)
	default:
		r.outcome = fmt.Sprintf("POST /login %d", ans.status)
	}
	return r
}

// viewHome is a logged-in person's GET /.
func viewHome(ctx context.Context, b *browser) result {
	start := time.Now()
	page, err := b.do(ctx, http.MethodGet, "/", nil)
	d := time.Since(start)
	switch {
	case err != nil:
		return result{outcome: "GET /: " + errorKind(err), cancelled: ctx.Err() != nil}
	case page.status == http.StatusOK && strings.Contains(page.body, `action="/logout"`):
		return result{outcome: outcomePage, total: d, post: d}
	}
	return result{outcome: fmt.Sprintf("GET / %d, not logged in", page.status)}
}

// errorKind names a transport error briefly, so the report groups them.
func errorKind(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, context.Canceled):
		return "interrupted"
	case errors.Is(err, errNotLoopback):
		return "refused: not loopback"
	case errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	}
	var oe *net.OpError
	if errors.As(err, &oe) {
		return "network error: " + oe.Op
	}
	return "error"
}

// report is what a load run measured.
type report struct {
	elapsed   time.Duration
	outcomes  map[string]int
	succeeded int
	attempted int
	total     []time.Duration // successful logins, sorted
	post      []time.Duration // their POST /login, sorted
	busy      []time.Duration // POST /login answered 503 (shed), sorted
	starved   time.Duration   // summed over virtual users: time spent waiting for an account with an unused code

	serverCPU    time.Duration // the portal's CPU time during the load (--pid)
	serverPeakKB int64         // the portal's peak resident memory (--pid)
	baseline     *tokenPhase   // GET /healthz just before (--baseline)
}

// load runs o.concurrency virtual users until o.duration has passed or
// o.maxLogins logins have started; logins in flight at the end finish.
// When ctx ends first, it reports what was measured until then. measure,
// if not nil, is called when the measured part begins: at once for
// logins; for pages once every virtual user has logged in, so that the
// portal's CPU counted for the page views holds no login's hash.
func load(ctx context.Context, c *http.Client, o options, accounts []*loadAccount, measure func()) *report {
	p := &pool{accounts: accounts}
	browsers := make([]*browser, o.concurrency)
	logged := make([]bool, o.concurrency)
	for w := range browsers {
		browsers[w] = newBrowser(c, o.target)
		if o.forwardedFor {
			browsers[w].forwarded = benchmarkAddr(w)
		}
	}
	if o.scenario == "pages" {
		logInAll(ctx, o, p, browsers, logged)
	}
	if measure != nil {
		measure()
	}
	var started atomic.Int64
	results := make([][]result, o.concurrency)
	starved := make([]time.Duration, o.concurrency)
	start := time.Now()
	stop := start.Add(o.duration)
	var wg sync.WaitGroup
	for w := range o.concurrency {
		wg.Go(func() {
			b := browsers[w]
			loggedIn := logged[w]
			for ctx.Err() == nil && time.Now().Before(stop) {
				if loggedIn {
					// pages: the same person views the home page again.
					if started.Add(1) > int64(o.maxLogins) {
						return
					}
					r := viewHome(ctx, b)
					results[w] = append(results[w], r)
					loggedIn = r.outcome == outcomePage
					continue
				}
				a, code, ok := p.take(time.Now())
				if !ok {
					// Every account has used its codes: wait for the next step
					// (or a busy account), looking again every 50 ms.
					t := time.Now()
					sleep(ctx, min(50*time.Millisecond, time.Until(stop)))
					starved[w] += time.Since(t)
					continue
				}
				if o.scenario == "login" && started.Add(1) > int64(o.maxLogins) {
					p.release(a, false)
					return
				}
				r := login(ctx, b, a, code)
				p.release(a, r.outcome != outcomeBusy && !r.cancelled)
				if o.scenario == "pages" && r.outcome == outcomeOK {
					loggedIn = true // the set-up of this virtual user, not measured
					continue
				}
				results[w] = append(results[w], r)
				if r.outcome == outcomeBusy {
					// As a person would: try again when the portal says.
					sleep(ctx, min(time.Duration(max(r.retryAfter, 1))*time.Second, time.Until(stop)))
				}
			}
		})
	}
	wg.Wait()
	r := &report{elapsed: time.Since(start), outcomes: map[string]int{}}
	for w := range results {
		r.starved += starved[w]
		for _, x := range results[w] {
			r.outcomes[x.outcome]++
			if x.cancelled {
				continue
			}
			r.attempted++
			if x.outcome == outcomeBusy {
				r.busy = append(r.busy, x.post)
			}
			if x.outcome == outcomeOK || x.outcome == outcomePage {
				r.succeeded++
				r.total = append(r.total, x.total)
				r.post = append(r.post, x.post)
			}
		}
	}
	slices.Sort(r.total)
	slices.Sort(r.post)
	slices.Sort(r.busy)
	return r
}

// logInAll is the pages scenario's set-up: every virtual user logs in
// once, waiting for a code or a busy portal as a person would, within
// o.setupTimeout. One that fails otherwise three times is left logged out:
// it tries again in the measured part, whose report shows why it fails.
func logInAll(ctx context.Context, o options, p *pool, browsers []*browser, logged []bool) {
	ctx, cancel := context.WithTimeout(ctx, o.setupTimeout)
	defer cancel()
	var wg sync.WaitGroup
	for w, b := range browsers {
		wg.Go(func() {
			for failures := 0; ctx.Err() == nil && failures < 3; {
				a, code, ok := p.take(time.Now())
				if !ok {
					sleep(ctx, 50*time.Millisecond)
					continue
				}
				r := login(ctx, b, a, code)
				p.release(a, r.outcome != outcomeBusy && !r.cancelled)
				switch r.outcome {
				case outcomeOK:
					logged[w] = true
					return
				case outcomeBusy:
					sleep(ctx, time.Duration(max(r.retryAfter, 1))*time.Second)
				default:
					failures++
				}
			}
		})
	}
	wg.Wait()
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// percentile returns the nearest-rank percentile q (0 < q <= 100) of sorted.
func percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(q / 100 * float64(len(sorted))))
	return sorted[min(max(rank, 1), len(sorted))-1]
}

func (r *report) print(w io.Writer, o options) {
	secs := r.elapsed.Seconds()
	what, rows := "logins", [2]string{"GET + POST /login", "POST /login"}
	if o.scenario == "pages" {
		what, rows = "page views", [2]string{"GET / (logged in)", ""}
	}
	fmt.Fprintf(w, "target %s: scenario %s, %d virtual users, %d accounts, for %v (or %d %s)\n",
		o.target, o.scenario, o.concurrency, o.users, o.duration, o.maxLogins, what)
	fmt.Fprintf(w, "%s: %d attempted, %d succeeded in %.1fs: %.1f successful %s/s\n",
		what, r.attempted, r.succeeded, secs, float64(r.succeeded)/secs, what)
	if r.serverCPU > 0 {
		fmt.Fprintf(w, "portal (pid %d): %.2f s of CPU (%.0f %% of one core), %.1f successful %s per CPU-second, %.2f ms of CPU each; peak RSS %.1f MiB\n",
			o.pid, r.serverCPU.Seconds(), 100*r.serverCPU.Seconds()/secs, float64(r.succeeded)/r.serverCPU.Seconds(), what,
			1000*r.serverCPU.Seconds()/float64(max(r.succeeded, 1)), float64(r.serverPeakKB)/1024)
		if rel := relative(cpuEach(r.serverCPU, r.succeeded), r.baseline); rel != "" {
			fmt.Fprintf(w, "relative cost%s\n", rel)
		}
	} else if r.serverPeakKB > 0 {
		fmt.Fprintf(w, "portal (pid %d): peak RSS %.1f MiB\n", o.pid, float64(r.serverPeakKB)/1024)
	}
	row := func(name string, d []time.Duration) {
		fmt.Fprintf(w, "  %-28s p50 %8v  p90 %8v  p99 %8v  max %8v\n", name,
			percentile(d, 50).Round(time.Microsecond*100), percentile(d, 90).Round(time.Microsecond*100),
			percentile(d, 99).Round(time.Microsecond*100), percentile(d, 100).Round(time.Microsecond*100))
	}
	fmt.Fprintf(w, "latency of successful %s:\n", what)
	row(rows[0], r.total)
	if rows[1] != "" {
		row(rows[1], r.post)
	}
	if len(r.busy) > 0 {
		fmt.Fprintln(w, "latency of logins refused as busy (503):")
		row("POST /login", r.busy)
	}
	fmt.Fprintln(w, "outcomes:")
	names := make([]string, 0, len(r.outcomes))
	for k := range r.outcomes {
		names = append(names, k)
	}
	sort.Slice(names, func(i, j int) bool { return r.outcomes[names[i]] > r.outcomes[names[j]] })
	for _, k := range names {
		fmt.Fprintf(w, "  %8d  %s\n", r.outcomes[k], k)
	}
	if r.starved > 0 {
		fmt.Fprintf(w, "virtual users waited %.1fs in all for an account with an unused code: each account logs in once per 30 s step (with the code its app shows); give more --users to measure the portal rather than the accounts\n",
			r.starved.Seconds())
	}
}
