package mail

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// fakeQueue is an in-memory outbox with the semantics Queue documents.
type fakeQueue struct {
	mu       sync.Mutex
	rows     []*fakeRow
	claims   int
	failMark error
}

type fakeRow struct {
	q           Queued
	next        time.Time
	leasedUntil time.Time
	sent        bool
	failed      bool
	lastErr     string
}

func (f *fakeQueue) add(m Message, due time.Time) int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	id := int64(len(f.rows) + 1)
	f.rows = append(f.rows, &fakeRow{q: Queued{ID: id, Message: m}, next: due})
	return id
}

func (f *fakeQueue) row(id int64) fakeRow {
	f.mu.Lock()
	defer f.mu.Unlock()
	return *f.rows[id-1]
}

func (f *fakeQueue) ClaimMail(_ context.Context, now time.Time, lease time.Duration, n int) ([]Queued, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.claims++
	var out []Queued
	for _, r := range f.rows {
		if len(out) == n {
			break
		}
		if r.sent || r.failed || r.next.After(now) || r.leasedUntil.After(now) {
			continue
		}
		r.leasedUntil = now.Add(lease)
		out = append(out, r.q)
	}
	return out, nil
}

func (f *fakeQueue) MarkMailSent(_ context.Context, id int64, _ time.Time) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failMark != nil {
		return f.failMark
	}
	f.rows[id-1].sent = true
	return nil
}

func (f *fakeQueue) RetryMail(_ context.Context, id int64, next time.Time, lastErr string, giveUp bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	r := f.rows[id-1]
	if r.sent {
		return nil
	}
	r.q.Attempts++
	r.next, r.leasedUntil, r.lastErr, r.failed = next, time.Time{}, lastErr, giveUp
	return nil
}

// clock is a settable time for the worker.
type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }

var t0 = time.Date(2026, 11, 22, 13, 5, 0, 0, time.UTC)

func resetMessage(t *testing.T) Message {
	t.Helper()
	r, err := NewRenderer()
	if err != nil {
		t.Fatal(err)
	}
	m, err := r.Render("nl", Address{Name: "Jan Peeters", Email: "jan.peeters@example.be"},
		PasswordReset{Name: "Jan", URL: "https://sesame.example/password/reset?token=SECRETTOKEN"})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestWorkerRetriesUntilServerIsUpThenDeliversOnce(t *testing.T) {
	// Find a free port, then leave it closed: the mail server is down.
	c := startCatcher(t, CatcherConfig{})
	addr := c.Addr()
	c.Close()

	var logs bytes.Buffer
	clk := &clock{t: t0}
	q := &fakeQueue{}
	m := resetMessage(t)
	id := q.add(m, t0)
	w := &Worker{
		Queue: q, Sender: smtpTo(t, addr, TLSNone, "", ""), Now: clk.now,
		Logger: slog.New(slog.NewTextHandler(&logs, nil)),
	}

	sent, err := w.DeliverDue(context.Background())
	if sent != 0 || err != nil {
		t.Fatalf("server down: DeliverDue() = %d, %v; want 0, nil", sent, err)
	}
	r := q.row(id)
	if r.sent || r.failed || r.q.Attempts != 1 || !r.next.Equal(t0.Add(30*time.Second)) || r.lastErr == "" || !r.leasedUntil.IsZero() {
		t.Fatalf("after a failed attempt row = %+v; want attempts 1, next %v, lease released, an error", r, t0.Add(30*time.Second))
	}

	// Before the backoff has passed nothing is claimed, even with the server up.
	c = startCatcher(t, CatcherConfig{Addr: addr})
	clk.advance(29 * time.Second)
	if sent, err := w.DeliverDue(context.Background()); sent != 0 || err != nil {
		t.Fatalf("before backoff: DeliverDue() = %d, %v; want 0, nil", sent, err)
	}
	if n := len(c.Messages()); n != 0 {
		t.Fatalf("delivered %d before the backoff ended", n)
	}

	clk.advance(time.Second)
	if sent, err := w.DeliverDue(context.Background()); sent != 1 || err != nil {
		t.Fatalf("server up: DeliverDue() = %d, %v; want 1, nil", sent, err)
	}
	clk.advance(time.Hour)
	if sent, err := w.DeliverDue(context.Background()); sent != 0 || err != nil {
		t.Fatalf("after delivery: DeliverDue() = %d, %v; want 0, nil", sent, err)
	}
	got := c.Messages()
	if len(got) != 1 {
		t.Fatalf("delivered %d messages, want exactly 1", len(got))
	}
	if want := "<" + MessageID(Queued{ID: id, Message: m}) + "@sesame.example>"; got[0].MessageID != want {
		t.Errorf("Message-ID = %q, want %q", got[0].MessageID, want)
	}
	if !q.row(id).sent {
		t.Error("row not marked sent")
	}
	for _, secret := range []string{"SECRETTOKEN", "jan.peeters@example.be", "Jan Peeters", m.Subject} {
		if strings.Contains(logs.String(), secret) {
			t.Errorf("logs contain %q:\n%s", secret, logs.String())
		}
	}
	if !strings.Contains(logs.String(), "j***@example.be") || !strings.Contains(logs.String(), "password_reset") {
		t.Errorf("logs lack the redacted recipient or the kind:\n%s", logs.String())
	}
}

// failingSender fails every send with err and counts calls.
type failingSender struct {
	err   error
	calls int
}

func (s *failingSender) Send(context.Context, Message, string) error {
	s.calls++
	return s.err
}

func TestWorkerGivesUpAfterMaxAttempts(t *testing.T) {
	clk := &clock{t: t0}
	q := &fakeQueue{}
	id := q.add(validMessage(), t0)
	s := &failingSender{err: errors.New("451 try again later")}
	w := &Worker{Queue: q, Sender: s, Now: clk.now, Logger: quietLogger, MaxAttempts: 4}
	var waits []time.Duration
	for range 10 {
		before := clk.t
		if _, err := w.DeliverDue(context.Background()); err != nil {
			t.Fatal(err)
		}
		r := q.row(id)
		if r.failed {
			break
		}
		waits = append(waits, r.next.Sub(before))
		clk.t = r.next
	}
	if s.calls != 4 {
		t.Errorf("sent %d times, want 4", s.calls)
	}
	if r := q.row(id); !r.failed || r.q.Attempts != 4 || r.lastErr != "451 try again later" {
		t.Errorf("row = %+v, want given up after 4 attempts with the last error", r)
	}
	if want := []time.Duration{30 * time.Second, time.Minute, 2 * time.Minute}; fmt.Sprint(waits) != fmt.Sprint(want) {
		t.Errorf("waits = %v, want %v", waits, want)
	}
}

func TestWorkerPermanentFailureGivesUpAtOnce(t *testing.T) {
	q := &fakeQueue{}
	good := q.add(validMessage(), t0)
	refused := q.add(validMessage(), t0)
	bad := validMessage()
	bad.Subject = "x\r\nBcc: eve@evil.example" // a corrupted row
	corrupt := q.add(bad, t0)

	s := &routeSender{errs: map[string]error{
		MessageID(Queued{ID: refused, Message: validMessage()}): fmt.Errorf("%w: 550 <jan.peeters@example.be> no such user", ErrPermanent),
	}}
	w := &Worker{Queue: q, Sender: s, Now: func() time.Time { return t0 }, Logger: quietLogger}
	sent, err := w.DeliverDue(context.Background())
	if sent != 1 || err != nil {
		t.Fatalf("DeliverDue() = %d, %v; want 1, nil", sent, err)
	}
	if !q.row(good).sent {
		t.Error("good row not sent")
	}
	for _, id := range []int64{refused, corrupt} {
		if r := q.row(id); !r.failed || r.q.Attempts != 1 {
			t.Errorf("row %d = %+v, want given up after one attempt", id, r)
		}
	}
	if got := q.row(refused).lastErr; strings.Contains(got, "jan.peeters@example.be") || !strings.Contains(got, "j***@example.be") {
		t.Errorf("lastErr = %q, want the recipient redacted", got)
	}
	if s.calls != 2 {
		t.Errorf("Sender called %d times, want 2 (the corrupt row is never handed over)", s.calls)
	}
}

// routeSender fails the messages whose Message-ID is in errs.
type routeSender struct {
	errs  map[string]error
	calls int
}

func (s *routeSender) Send(_ context.Context, _ Message, id string) error {
	s.calls++
	return s.errs[id]
}

func TestWorkerLeaseKeepsOtherWorkersOff(t *testing.T) {
	clk := &clock{t: t0}
	q := &fakeQueue{}
	q.add(validMessage(), t0)
	// A worker that claims and then crashes (never marks) holds the row
	// for its lease; a second worker gets it only once the lease is over.
	if _, err := q.ClaimMail(context.Background(), t0, DefaultLease, 10); err != nil {
		t.Fatal(err)
	}
	s := &failingSender{}
	w := &Worker{Queue: q, Sender: s, Now: clk.now, Logger: quietLogger}
	clk.advance(DefaultLease - time.Second)
	if sent, _ := w.DeliverDue(context.Background()); sent != 0 || s.calls != 0 {
		t.Fatalf("during another worker's lease: sent %d, calls %d; want 0, 0", sent, s.calls)
	}
	clk.advance(time.Second)
	if sent, _ := w.DeliverDue(context.Background()); sent != 1 {
		t.Fatalf("after the lease: sent %d, want 1", sent)
	}
}

// slowSender moves the clock forward on each send, like a slow server.
type slowSender struct {
	clk   *clock
	took  time.Duration
	calls int
}

func (s *slowSender) Send(ctx context.Context, _ Message, _ string) error {
	s.calls++
	s.clk.advance(s.took)
	return nil
}

func TestWorkerStopsBeforeTheLeaseRunsOut(t *testing.T) {
	clk := &clock{t: t0}
	q := &fakeQueue{}
	for range 5 {
		q.add(validMessage(), t0)
	}
	s := &slowSender{clk: clk, took: time.Minute}
	w := &Worker{Queue: q, Sender: s, Now: clk.now, Logger: quietLogger, Lease: 4 * time.Minute}
	sent, err := w.DeliverDue(context.Background())
	// Sends start at 0, 1 and 2 min; at 3 min only 1 min of the 4 min lease is left.
	if sent != 3 || err != nil {
		t.Fatalf("DeliverDue() = %d, %v; want 3, nil", sent, err)
	}
	clk.advance(time.Minute) // the remaining two rows' lease ends
	if sent, err := w.DeliverDue(context.Background()); sent != 2 || err != nil {
		t.Fatalf("second pass: DeliverDue() = %d, %v; want 2, nil", sent, err)
	}
}

func TestWorkerReportsUnrecordedDelivery(t *testing.T) {
	q := &fakeQueue{failMark: errors.New("database is locked")}
	q.add(validMessage(), t0)
	w := &Worker{Queue: q, Sender: &failingSender{}, Now: func() time.Time { return t0 }, Logger: quietLogger}
	sent, err := w.DeliverDue(context.Background())
	if sent != 1 || err == nil || !strings.Contains(err.Error(), "database is locked") {
		t.Fatalf("DeliverDue() = %d, %v; want 1 and the store's error", sent, err)
	}
}

func TestExponentialBackoff(t *testing.T) {
	tests := []struct {
		attempt int
		want    time.Duration
	}{
		{0, 30 * time.Second}, {1, 30 * time.Second}, {2, time.Minute}, {3, 2 * time.Minute},
		{7, 32 * time.Minute}, {8, time.Hour}, {30, time.Hour}, {1 << 30, time.Hour},
	}
	for _, tt := range tests {
		if got := ExponentialBackoff(tt.attempt); got != tt.want {
			t.Errorf("ExponentialBackoff(%d) = %v, want %v", tt.attempt, got, tt.want)
		}
	}
	var total time.Duration
	for a := 1; a < DefaultMaxAttempts; a++ {
		total += ExponentialBackoff(a)
	}
	if total < 20*time.Hour || total > 28*time.Hour {
		t.Errorf("default retries span %v, want about a day", total)
	}
}

func TestMessageIDStableAndDistinct(t *testing.T) {
	q := Queued{ID: 7, Attempts: 0, Message: validMessage()}
	retry := q
	retry.Attempts = 5
	other := q
	other.Text += "x" // same row number in another database
	if MessageID(q) != MessageID(retry) {
		t.Error("Message-ID changed between attempts")
	}
	if MessageID(q) == MessageID(other) {
		t.Error("Message-ID ignores the content")
	}
	if err := checkMessageID(MessageID(q)); err != nil {
		t.Error(err)
	}
	if !strings.HasPrefix(MessageID(q), "sesame.7.") {
		t.Errorf("MessageID = %q, want it to name the row", MessageID(q))
	}
}

// chanSender reports each send on a channel.
type chanSender struct{ got chan string }

func (s *chanSender) Send(_ context.Context, _ Message, id string) error {
	s.got <- id
	return nil
}

func TestRunDeliversOnNotifyAndStops(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q := &fakeQueue{}
		s := &chanSender{got: make(chan string, 10)}
		w := &Worker{Queue: q, Sender: s, Logger: quietLogger, Poll: time.Hour}
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error)
		go func() { done <- w.Run(ctx) }()

		synctest.Wait() // the first pass ran and found nothing
		q.mu.Lock()
		claims := q.claims
		q.mu.Unlock()
		if claims != 1 {
			t.Fatalf("claims after start = %d, want 1", claims)
		}

		id := q.add(validMessage(), time.Now())
		w.Notify()
		w.Notify() // nudges coalesce and never block
		synctest.Wait()
		select {
		case got := <-s.got:
			if want := MessageID(Queued{ID: id, Message: validMessage()}); got != want {
				t.Errorf("sent %q, want %q", got, want)
			}
		default:
			t.Fatal("Notify did not cause a delivery")
		}
		if !q.row(id).sent {
			t.Error("row not marked sent")
		}

		// Without a nudge, the poll interval brings the next one.
		id2 := q.add(validMessage(), time.Now())
		time.Sleep(time.Hour) // fake time inside the bubble
		synctest.Wait()
		if !q.row(id2).sent {
			t.Error("poll did not deliver")
		}

		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run() = %v, want nil", err)
		}
	})
}
