package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"
)

// The machines this tool runs on are shared, and a portal's CPU per request
// moves by tens of percent from one minute to the next with the other
// tenants' load. --baseline measures, right before each measured phase and
// for as long, GET /healthz — the portal's cheapest answer: the HTTP
// server, the access log and the kernel's loopback TCP, nothing of its own
// — and gives each phase's CPU per request as a multiple of it. That ratio,
// measured in one run, compares between runs where the raw figures do not.

// healthzPhase has o.concurrency virtual users repeat GET /healthz for
// o.duration, the portal's CPU measured around it.
func healthzPhase(ctx context.Context, c *http.Client, o options) tokenPhase {
	users := make([]*tokenUser, o.concurrency)
	for i := range users {
		users[i] = &tokenUser{}
	}
	return runTokenPhase(ctx, o, "baseline (GET /healthz)", "GET /healthz", users, func(ctx context.Context, _ *tokenUser) (time.Duration, error) {
		start := time.Now()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, o.target.String()+"/healthz", nil)
		if err != nil {
			return 0, err
		}
		resp, err := c.Do(req)
		if err != nil {
			return 0, err
		}
		io.Copy(io.Discard, io.LimitReader(resp.Body, maxBody))
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return 0, fmt.Errorf("GET /healthz: %s", resp.Status)
		}
		return time.Since(start), nil
	})
}

// cpuEach is the portal's CPU per request of a measured phase; 0 when it
// was not measured.
func cpuEach(cpu time.Duration, n int) time.Duration {
	if cpu <= 0 || n <= 0 {
		return 0
	}
	return cpu / time.Duration(n)
}

// relative says what one request cost next to one GET /healthz measured
// alongside, or "" without a baseline.
func relative(each time.Duration, baseline *tokenPhase) string {
	if baseline == nil {
		return ""
	}
	ref := cpuEach(baseline.serverCPU, baseline.ok)
	if each <= 0 || ref <= 0 {
		return ""
	}
	return fmt.Sprintf("; %.2f × a GET /healthz (%.0f per CPU-second just before)", float64(each)/float64(ref), float64(time.Second)/float64(ref))
}
