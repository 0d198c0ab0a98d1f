package e2e

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// This file is the only one that knows chromedp: its API has changed
// shape between minor versions, so the tests speak to chrome instead.

// testTimeout bounds each test's browser session: a page that never comes
// fails the test instead of hanging the run.
const testTimeout = 60 * time.Second

// chromiumPaths are where Debian's package puts the browser: the real
// binary first (/usr/bin/chromium is a wrapper script that adds flags
// from /etc/chromium.d).
var chromiumPaths = []string{"/usr/lib/chromium/chromium", "/usr/bin/chromium"}

// chromiumPath returns the browser to start, or "" when there is none.
func chromiumPath() string {
	for _, p := range chromiumPaths {
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return p
		}
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// chrome is one headless Chromium with one tab, started for one test and
// stopped when it ends. Its methods fail the test on any browser error.
type chrome struct {
	t   *testing.T
	ctx context.Context
}

// newChrome starts Chromium with a fresh profile whose language is French
// (the portal's first language), or skips the test when Chromium is
// missing — but fails it in CI, where a skipped browser test would hide
// a broken install.
func newChrome(t *testing.T) *chrome {
	t.Helper()
	path := chromiumPath()
	if path == "" {
		if os.Getenv("CI") != "" {
			t.Fatalf("Chromium not found (looked at %v and the PATH); CI must install Debian's chromium package", chromiumPaths)
		}
		t.Skip("Chromium not found; install Debian's chromium package to run the browser tests")
	}
	// Registered first, so removed last: after the browser has exited.
	profile := t.TempDir()
	out := &tail{max: 16 << 10}
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	t.Cleanup(cancel)
	actx, acancel := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(path),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true), // CI runs as root, where the sandbox refuses to start
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-dev-shm-usage", true), // /dev/shm is tiny in containers
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("hide-scrollbars", true), // steadier screenshots
		// The language the browser asks for: the portal negotiates on it.
		chromedp.Flag("lang", "fr-BE"),
		chromedp.Flag("accept-lang", "fr-BE,fr"),
		chromedp.WindowSize(1280, 1000),
		chromedp.UserDataDir(profile),
		chromedp.CombinedOutput(out),
	)
	t.Cleanup(acancel) // kills the browser and waits for it
	tctx, tcancel := chromedp.NewContext(actx)
	t.Cleanup(tcancel)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("Chromium's output (last %d bytes):\n%s", out.max, out.String())
		}
	})
	if err := chromedp.Do(tctx); err != nil { // starts the browser and opens the tab
		t.Fatalf("starting %s: %v", path, err)
	}
	return &chrome{t: t, ctx: tctx}
}

// on returns the same browser reporting to t: for subtests.
func (c *chrome) on(t *testing.T) *chrome { return &chrome{t: t, ctx: c.ctx} }

// fail stops the test with what the browser was doing and where.
func (c *chrome) fail(what string, err error) {
	c.t.Helper()
	loc, _ := chromedp.Run(c.ctx, chromedp.Location())
	c.t.Fatalf("%s (at %s): %v", what, loc, err)
}

// errNoResponse: the page came from no HTTP response (about:blank, a data: URL).
var errNoResponse = errors.New("no HTTP response for the page")

// open navigates to url and returns the page's HTTP status.
func (c *chrome) open(url string) int {
	c.t.Helper()
	resp, err := chromedp.Run(c.ctx, chromedp.NavigateResponse(url))
	if err == nil && resp == nil {
		err = errNoResponse
	}
	if err != nil {
		c.fail("open "+url, err)
	}
	return int(resp.Status)
}

// submit clicks the button (or link) that css selects, waits for the page
// it leads to, and returns that page's HTTP status (after redirects).
func (c *chrome) submit(css string) int {
	c.t.Helper()
	resp, err := chromedp.RunResponse(c.ctx, chromedp.Click(chromedp.CSS(css)))
	if err == nil && resp == nil {
		err = errNoResponse
	}
	if err != nil {
		c.fail("click "+css, err)
	}
	return int(resp.Status)
}

// click clicks an element that does not leave the page, such as a radio button.
func (c *chrome) click(css string) {
	c.t.Helper()
	if err := chromedp.Do(c.ctx, chromedp.Click(chromedp.CSS(css))); err != nil {
		c.fail("click "+css, err)
	}
}

// typeIn types text into the field css selects, key by key.
func (c *chrome) typeIn(css, text string) {
	c.t.Helper()
	if err := chromedp.Do(c.ctx, chromedp.SendKeys(chromedp.CSS(css), text)); err != nil {
		c.fail("type into "+css, err)
	}
}

// pick selects an option of a <select> by its value. A headless browser
// draws no drop-down list to click in, so this sets the value as the list
// would.
func (c *chrome) pick(css, value string) {
	c.t.Helper()
	if err := chromedp.Do(c.ctx, chromedp.SetValue(chromedp.CSS(css), value)); err != nil {
		c.fail("pick "+value+" in "+css, err)
	}
}

// text returns the visible text of the element css selects, waiting for it.
func (c *chrome) text(css string) string {
	c.t.Helper()
	s, err := chromedp.Run(c.ctx, chromedp.Text(chromedp.CSS(css)))
	if err != nil {
		c.fail("read "+css, err)
	}
	return s
}

// attr returns an attribute of the element css selects ("" when absent).
func (c *chrome) attr(css, name string) string {
	c.t.Helper()
	r, err := chromedp.Run(c.ctx, chromedp.AttributeValue(chromedp.CSS(css), name))
	if err != nil {
		c.fail("read "+name+" of "+css, err)
	}
	return r.Value
}

// eval runs a JavaScript expression in the page and returns its value.
func eval[T any](c *chrome, expr string) T {
	c.t.Helper()
	v, err := chromedp.Run(c.ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		c.fail("evaluate "+expr, err)
	}
	return v
}

// location returns the page's address.
func (c *chrome) location() string {
	c.t.Helper()
	loc, err := chromedp.Run(c.ctx, chromedp.Location())
	if err != nil {
		c.fail("location", err)
	}
	return loc
}

// screenshot returns a PNG of the whole page, beyond the window if it is longer.
func (c *chrome) screenshot() []byte {
	c.t.Helper()
	b, err := chromedp.Run(c.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		c.fail("screenshot", err)
	}
	return b
}

// screenshotOf returns a PNG of the element css selects, as drawn.
func (c *chrome) screenshotOf(css string) []byte {
	c.t.Helper()
	b, err := chromedp.Run(c.ctx, chromedp.Screenshot(chromedp.CSS(css)))
	if err != nil {
		c.fail("screenshot of "+css, err)
	}
	return b
}

// openAndAwait navigates to url, then waits for the response to a
// document request whose address starts with prefix, and returns its
// status: for pages that send the browser on by themselves.
func (c *chrome) openAndAwait(url, prefix string) int {
	c.t.Helper()
	ev, err := chromedp.Run(c.ctx, chromedp.WaitEvent(network.ResponseReceived, func(e network.EventResponseReceived) bool {
		return e.Type == network.ResourceTypeDocument && e.Response != nil && strings.HasPrefix(e.Response.URL, prefix)
	}, chromedp.Navigate(url)))
	if err != nil {
		c.fail("open "+url+" and await "+prefix, err)
	}
	return int(ev.Response.Status)
}

// cookie returns the value of the browser's cookie name for url ("" when
// it has none), HttpOnly ones included.
func (c *chrome) cookie(url, name string) string {
	c.t.Helper()
	r, err := chromedp.Call(c.ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{url}})
	if err != nil {
		c.fail("read cookies of "+url, err)
	}
	for _, k := range r.Cookies {
		if k.Name == name {
			return k.Value
		}
	}
	return ""
}

// waitFor waits until the element css selects is visible.
func (c *chrome) waitFor(css string) {
	c.t.Helper()
	if err := chromedp.Do(c.ctx, chromedp.WaitVisible(chromedp.CSS(css))); err != nil {
		c.fail("wait for "+css, err)
	}
}

// tail keeps the last max bytes written to it: the browser's chatter,
// shown only when a test fails.
type tail struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (w *tail) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	if over := len(w.buf) - w.max; over > 0 {
		w.buf = append(w.buf[:0], w.buf[over:]...)
	}
	return len(p), nil
}

func (w *tail) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return string(w.buf)
}
