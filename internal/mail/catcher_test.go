package mail

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/smtp"
	"strings"
	"testing"
	"time"
)

// rawSend speaks SMTP with the standard library client, so the catcher is
// tested against bytes we choose rather than against our own sender.
func rawSend(t *testing.T, addr, to, data string) {
	t.Helper()
	if err := smtp.SendMail(addr, nil, "sender@example.be", []string{to}, []byte(data)); err != nil {
		t.Fatal(err)
	}
}

func TestCatcherInboxShowsTextOnlyAndEscapes(t *testing.T) {
	c := startCatcher(t, CatcherConfig{})
	raw := strings.Join([]string{
		"From: =?utf-8?q?Z=C3=B6e?= <zoe@example.be>",
		"To: <script>@example.be",
		"Subject: =?utf-8?q?<img_src=3Dx_onerror=3Dalert(1)>?=",
		"MIME-Version: 1.0",
		`Content-Type: multipart/mixed; boundary="outer"`,
		"",
		"--outer",
		`Content-Type: multipart/alternative; boundary="inner"`,
		"",
		"--inner",
		"Content-Type: text/plain; charset=utf-8",
		"Content-Transfer-Encoding: base64",
		"",
		"T3V2cmV6IDxiPmNlY2k8L2I+IDogaHR0cHM6Ly9zZXNhbWUuZXhhbXBsZS9yZXNldD90b2tlbj1h",
		"YmMmbGFuZz1mcgpqYXZhc2NyaXB0OmFsZXJ0KDEpCg==",
		"--inner",
		"Content-Type: text/html; charset=utf-8",
		"",
		"<script>alert('html part')</script>",
		"--inner--",
		"--outer--",
		"",
	}, "\r\n")
	rawSend(t, c.Addr(), "jan@example.be", raw)

	got := c.Messages()
	if len(got) != 1 {
		t.Fatalf("caught %d, want 1", len(got))
	}
	wantText := "Ouvrez <b>ceci</b> : https://sesame.example/reset?token=abc&lang=fr\njavascript:alert(1)\n"
	if got[0].Text != wantText || got[0].From != "Zöe <zoe@example.be>" || got[0].HTML == "" || got[0].ParseErr != "" {
		t.Fatalf("decoded text %q, from %q, html %q, err %q", got[0].Text, got[0].From, got[0].HTML, got[0].ParseErr)
	}

	srv := httptest.NewServer(http.StripPrefix("/mail", c.Handler()))
	defer srv.Close()
	list := get(t, srv.URL+"/mail/")
	if !strings.Contains(list, `href="messages/1"`) || strings.Contains(list, "<img") {
		t.Errorf("inbox list is wrong or unescaped:\n%s", list)
	}
	page := get(t, srv.URL+"/mail/messages/1")
	for _, want := range []string{
		`<a href="https://sesame.example/reset?token=abc&amp;lang=fr" rel="noopener noreferrer">`,
		"Ouvrez &lt;b&gt;ceci&lt;/b&gt;",
		"javascript:alert(1)", // as text, never as a link
	} {
		if !strings.Contains(page, want) {
			t.Errorf("message page lacks %q:\n%s", want, page)
		}
	}
	for _, bad := range []string{"<script", "<img", "<b>", `href="javascript`} {
		if strings.Contains(page, bad) {
			t.Errorf("message page contains %q:\n%s", bad, page)
		}
	}
	resp, err := http.Get(srv.URL + "/mail/messages/1")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("CSP = %q", csp)
	}
	for _, path := range []string{"/mail/messages/2", "/mail/messages/x", "/mail/nope"} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s = %d, want 404", path, resp.StatusCode)
		}
	}
}

func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s = %d", url, resp.StatusCode)
	}
	return string(b)
}

func TestCatcherKeepsTheLast200AndWaits(t *testing.T) {
	c := startCatcher(t, CatcherConfig{})
	const n = catcherKeep + 5
	s := smtpTo(t, c.Addr(), TLSNone, "", "")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- c.WaitFor(ctx, n) }()
	for i := range n {
		m := validMessage()
		m.Subject = fmt.Sprintf("message %d", i+1)
		if err := s.Send(ctx, m, fmt.Sprintf("sesame.%d.aa", i+1)); err != nil {
			t.Fatal(err)
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	got := c.Messages()
	if len(got) != catcherKeep || got[0].Subject != "message 6" || got[len(got)-1].ID != n {
		t.Fatalf("kept %d, first %q, last id %d; want %d, \"message 6\", %d", len(got), got[0].Subject, got[len(got)-1].ID, catcherKeep, n)
	}
	short, cancelShort := context.WithCancel(context.Background())
	cancelShort()
	if err := c.WaitFor(short, n+1); err == nil {
		t.Error("WaitFor returned nil for a message that never came")
	}
}
