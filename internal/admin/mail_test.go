package admin

import (
	"context"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"sesame/internal/mail"
)

func smtpSender(t *testing.T, addr string) *mail.SMTP {
	t.Helper()
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := strconv.Atoi(port)
	s, err := mail.NewSMTP(mail.SMTPConfig{Host: host, Port: p, TLS: mail.TLSNone,
		From: mail.Address{Name: "Sesame", Email: "no-reply@sesame.example"}, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestNotificationsOverSMTP: the e-mails of helped recovery leave the
// outbox over real SMTP, each in its owner's language, with who did what
// and when — and a message queued while the server was down is delivered
// once it is back.
func TestNotificationsOverSMTP(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()

	// The mail server is down: find a free port and leave it closed.
	c, err := mail.StartCatcher("127.0.0.1:0", quiet)
	if err != nil {
		t.Fatal(err)
	}
	addr := c.Addr()
	c.Close()

	// A short lease bounds each attempt, should a stranger take the freed port.
	w := &mail.Worker{Queue: f.st, Sender: smtpSender(t, addr), Now: f.clock.Now, Logger: quiet, Lease: 10 * time.Second}
	nudged := 0
	f.svc.MailSent = func() { nudged++ }

	// marie (Dupont's office admin) resets jan's authenticator (jan reads
	// Dutch) and an's question (an reads French); support unlocks sofie's
	// colleague eva (English).
	if _, err := f.svc.ResetTOTP(ctx, f.actor("marie"), f.acc["jan"].ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.ResetQuestion(ctx, f.actor("marie"), f.acc["an"].ID); err != nil {
		t.Fatal(err)
	}
	f.prepare(f.acc["eva"].ID, Unlock)
	if _, err := f.svc.Unlock(ctx, f.actor("sofie"), f.acc["eva"].ID); err != nil {
		t.Fatal(err)
	}
	if nudged != 3 {
		t.Errorf("the worker was nudged %d times, want 3", nudged)
	}
	if sent, err := w.DeliverDue(ctx); sent != 0 || err != nil {
		t.Fatalf("server down: DeliverDue = %d, %v", sent, err)
	}

	// The server is back; the retry is due 30 s later.
	c, err = mail.NewCatcher(mail.CatcherConfig{Addr: addr, Logger: quiet})
	if err != nil {
		t.Fatalf("restart the catcher on %s: %v", addr, err)
	}
	defer c.Close()
	if sent, err := w.DeliverDue(ctx); sent != 0 || err != nil {
		t.Fatalf("before the retry is due: DeliverDue = %d, %v", sent, err)
	}
	f.clock.Add(31 * time.Second)
	if sent, err := w.DeliverDue(ctx); sent != 3 || err != nil {
		t.Fatalf("after the retry delay: DeliverDue = %d, %v", sent, err)
	}
	waitCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := c.WaitFor(waitCtx, 3); err != nil {
		t.Fatal(err)
	}
	if sent, _ := w.DeliverDue(ctx); sent != 0 {
		t.Errorf("delivered again: %d", sent)
	}

	want := []struct {
		to, lang, subject string
		phrases           []string
	}{
		{"jan@tiers.example", "nl", "Uw Sesame-authenticatie-app werd gereset",
			[]string{"Beste Jan Test", "gereset door Marie Test (kantoorbeheerder) op 23/11/2026 om 10:30", "koppelt u uw authenticatie-app opnieuw"}},
		{"an@tiers.example", "fr", "Votre question de sécurité Sesame a été réinitialisée",
			[]string{"An Test", "réinitialisée par Marie Test (administrateur de bureau) le 23/11/2026 à 10:30"}},
		{"eva@group.example", "en", "Your Sesame account was unlocked",
			[]string{"Eva Test", "unlocked by Sofie Test (support) on 23 Nov 2026 at 10:30"}},
	}
	got := c.Messages()
	if len(got) != len(want) {
		t.Fatalf("%d messages caught, want %d", len(got), len(want))
	}
	for i, w := range want {
		m := got[i]
		if len(m.EnvelopeTo) != 1 || m.EnvelopeTo[0] != w.to || m.Header.Get("Content-Language") != w.lang || m.Subject != w.subject {
			t.Errorf("message %d: to %v, language %q, subject %q; want %s, %s, %q", i, m.EnvelopeTo, m.Header.Get("Content-Language"), m.Subject, w.to, w.lang, w.subject)
		}
		for _, p := range w.phrases {
			if !strings.Contains(m.Text, p) {
				t.Errorf("message %d lacks %q:\n%s", i, p, m.Text)
			}
		}
	}
}
