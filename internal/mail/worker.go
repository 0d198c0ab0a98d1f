package mail

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// Worker defaults. With a 30 s first retry doubling to a 1 h cap, 30
// attempts span about a day (30+60+...+1920 s ≈ 1 h, then 23 hourly tries),
// long enough to ride out a mail server's maintenance night.
const (
	DefaultBatch       = 20
	DefaultLease       = 5 * time.Minute
	DefaultMaxAttempts = 30
	DefaultPoll        = 15 * time.Second
	maxLastErr         = 500
)

// Worker delivers the outbox. Fields are set before the first call and not
// changed afterwards; zero values take the defaults above. Several workers,
// in one process or many, may run against the same Queue: the lease keeps
// them from sending one row twice.
type Worker struct {
	Queue       Queue
	Sender      Sender
	Now         func() time.Time // nil means time.Now
	Logger      *slog.Logger     // nil means slog.Default()
	Batch       int              // rows claimed per pass
	Lease       time.Duration    // how long a claimed row is ours; bounds each send
	MaxAttempts int              // failed attempts before a row is given up
	// Backoff is the wait after the attempt-th failure (attempt ≥ 1);
	// nil means 30 s doubling up to 1 h (ExponentialBackoff).
	Backoff func(attempt int) time.Duration
	Poll    time.Duration // how often Run looks for due rows without a Notify

	once sync.Once
	wake chan struct{}
}

// ExponentialBackoff waits 30 s after the first failure, doubling each time up to 1 h.
func ExponentialBackoff(attempt int) time.Duration {
	const first, ceiling = 30 * time.Second, time.Hour
	if attempt < 1 {
		attempt = 1
	}
	d := first
	for i := 1; i < attempt && d < ceiling; i++ {
		d *= 2
	}
	return min(d, ceiling)
}

// MessageID returns the Message-ID local part of an outbox row: the same on
// every attempt of the row. It mixes in a hash of the content so that the
// ids of two databases (a demo reset, a restored backup) reusing row numbers
// do not collide in a recipient's mailbox, where clients drop duplicates.
func MessageID(q Queued) string {
	h := sha256.New()
	for _, s := range []string{q.Kind, q.To.Email, string(q.Lang), q.Subject, q.Text} {
		h.Write([]byte(strconv.Itoa(len(s))))
		h.Write([]byte{':'})
		h.Write([]byte(s))
	}
	return "sesame." + strconv.FormatInt(q.ID, 10) + "." + hex.EncodeToString(h.Sum(nil)[:8])
}

func (w *Worker) now() time.Time {
	if w.Now != nil {
		return w.Now()
	}
	return time.Now()
}

func (w *Worker) logger() *slog.Logger {
	if w.Logger != nil {
		return w.Logger
	}
	return slog.Default()
}

func (w *Worker) batch() int           { return positive(w.Batch, DefaultBatch) }
func (w *Worker) maxAttempts() int     { return positive(w.MaxAttempts, DefaultMaxAttempts) }
func (w *Worker) lease() time.Duration { return positive(w.Lease, DefaultLease) }
func (w *Worker) poll() time.Duration  { return positive(w.Poll, DefaultPoll) }

func positive[T int | time.Duration](v, def T) T {
	if v > 0 {
		return v
	}
	return def
}

func (w *Worker) backoff(attempt int) time.Duration {
	if w.Backoff != nil {
		return w.Backoff(attempt)
	}
	return ExponentialBackoff(attempt)
}

func (w *Worker) wakeChan() chan struct{} {
	w.once.Do(func() { w.wake = make(chan struct{}, 1) })
	return w.wake
}

// Notify nudges Run to deliver at once, typically right after a transaction
// that queued mail has committed. It never blocks; nudges coalesce.
func (w *Worker) Notify() {
	select {
	case w.wakeChan() <- struct{}{}:
	default:
	}
}

// DeliverDue makes one pass: it claims up to Batch due rows, sends each, and
// records the outcome. A failed send is not an error of the pass: it is
// recorded with RetryMail (given up after MaxAttempts, or at once when the
// Sender says the failure is permanent). err reports what the outbox itself
// refused (claim, mark, retry) and ctx's end; sent counts delivered rows.
//
// Each send must finish within the row's lease, or another worker could claim
// it too: the Sender's ctx carries a deadline at the lease's end, and rows
// whose lease is more than half spent by the time their turn comes are left
// alone, to be claimed again when the lease expires.
func (w *Worker) DeliverDue(ctx context.Context) (sent int, err error) {
	if w.Queue == nil || w.Sender == nil {
		return 0, errors.New("mail: worker needs a Queue and a Sender")
	}
	lease := w.lease()
	claimedAt := w.now()
	rows, err := w.Queue.ClaimMail(ctx, claimedAt, lease, w.batch())
	if err != nil {
		return 0, fmt.Errorf("mail: claim: %w", err)
	}
	leaseEnd := claimedAt.Add(lease)
	var errs []error
	for i, q := range rows {
		if err := ctx.Err(); err != nil {
			// The rest stay leased and come back when the lease ends.
			errs = append(errs, err)
			break
		}
		left := leaseEnd.Sub(w.now())
		if left < lease/2 {
			w.logger().Warn("mail: lease running out; leaving the rest of the batch for later", "left", len(rows)-i)
			break
		}
		ok, err := w.deliver(ctx, q, left)
		if ok {
			sent++
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	return sent, errors.Join(errs...)
}

// deliver sends one row and records the outcome.
func (w *Worker) deliver(ctx context.Context, q Queued, left time.Duration) (sent bool, err error) {
	log := w.logger().With("kind", q.Kind, "outbox_id", q.ID, "to", RedactEmail(q.To.Email), "attempt", q.Attempts+1)
	sendCtx, cancel := context.WithTimeout(ctx, left)
	var sendErr error
	if vErr := q.Message.Validate(); vErr != nil {
		// A row that is invalid now will be invalid on every retry.
		sendErr = fmt.Errorf("%w: %w", ErrPermanent, vErr)
	} else {
		sendErr = w.Sender.Send(sendCtx, q.Message, MessageID(q))
	}
	cancel()
	now := w.now()
	if sendErr == nil {
		if err := w.Queue.MarkMailSent(ctx, q.ID, now); err != nil {
			// Delivered but not recorded: the row will be sent again after
			// its lease, with the same Message-ID. Loud, but not lost.
			log.Error("mail: sent but could not mark as sent; it may be sent twice", "err", err)
			return true, fmt.Errorf("mail: mark %d sent: %w", q.ID, err)
		}
		log.Info("mail: sent")
		return true, nil
	}
	if ctx.Err() != nil {
		// Shutting down is not the message's fault, so no attempt is counted:
		// the row keeps its lease and is claimed again when the lease ends.
		log.Info("mail: send interrupted by shutdown", "err", w.scrub(sendErr, q))
		return false, ctx.Err()
	}
	attempts := q.Attempts + 1
	giveUp := errors.Is(sendErr, ErrPermanent) || attempts >= w.maxAttempts()
	next := now.Add(w.backoff(attempts))
	lastErr := w.scrub(sendErr, q)
	if err := w.Queue.RetryMail(ctx, q.ID, next, lastErr, giveUp); err != nil {
		log.Error("mail: could not record failed attempt", "err", lastErr, "store_err", err)
		return false, fmt.Errorf("mail: retry %d: %w", q.ID, err)
	}
	if giveUp {
		log.Error("mail: giving up", "err", lastErr)
	} else {
		log.Warn("mail: send failed; will retry", "err", lastErr, "next", next)
	}
	return false, nil
}

// scrub makes an error safe to log and store: servers often echo the
// recipient ("550 <jan@example.be>: no such user"), so the address is
// redacted; the result is bounded and on one line.
func (w *Worker) scrub(err error, q Queued) string {
	s := err.Error()
	if q.To.Email != "" {
		s = strings.ReplaceAll(s, q.To.Email, RedactEmail(q.To.Email))
	}
	s = strings.Map(func(r rune) rune {
		if isControl(r) {
			return ' '
		}
		return r
	}, strings.ToValidUTF8(s, "?"))
	if len(s) > maxLastErr {
		cut := maxLastErr
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}

// Run delivers until ctx ends: a pass at once, then whenever Notify is called
// or Poll has passed, and straight away again after a full batch. Outbox
// errors are logged and retried on the next pass; Run returns nil when ctx ends.
func (w *Worker) Run(ctx context.Context) error {
	wake := w.wakeChan()
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-wake:
		case <-timer.C:
		}
		for {
			sent, err := w.DeliverDue(ctx)
			if ctx.Err() != nil {
				return nil
			}
			if err != nil {
				w.logger().Error("mail: delivery pass failed", "err", err)
				break
			}
			// A full batch suggests more are due; an all-failed batch must
			// not spin, so only successful sends keep the loop going.
			if sent < w.batch() {
				break
			}
		}
		timer.Reset(w.poll())
	}
}
