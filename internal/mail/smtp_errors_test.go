package mail

import (
	"context"
	"errors"
	"io"
	"net"
	"strconv"
	"testing"

	"github.com/emersion/go-smtp"
)

// refusingBackend answers RCPT TO with a fixed SMTP error.
type refusingBackend struct{ code int }

func (b refusingBackend) NewSession(*smtp.Conn) (smtp.Session, error) { return refusingSession(b), nil }

type refusingSession refusingBackend

func (s refusingSession) Reset()                               {}
func (s refusingSession) Logout() error                        { return nil }
func (s refusingSession) Mail(string, *smtp.MailOptions) error { return nil }
func (s refusingSession) Data(r io.Reader) error               { _, err := io.Copy(io.Discard, r); return err }
func (s refusingSession) Rcpt(string, *smtp.RcptOptions) error {
	return &smtp.SMTPError{Code: s.code, EnhancedCode: smtp.EnhancedCode{s.code / 100, 1, 1}, Message: "no"}
}

func TestSMTPClassifiesRecipientRefusals(t *testing.T) {
	tests := []struct {
		code      int
		permanent bool
	}{
		{550, true},  // no such mailbox: retrying for a day would not help
		{451, false}, // greylisting and the like: retry
	}
	for _, tt := range tests {
		t.Run(strconv.Itoa(tt.code), func(t *testing.T) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			srv := smtp.NewServer(refusingBackend{code: tt.code})
			srv.AllowInsecureAuth = true
			go srv.Serve(ln)
			t.Cleanup(func() { srv.Close(); ln.Close() })

			err = smtpTo(t, ln.Addr().String(), TLSNone, "", "").Send(context.Background(), validMessage(), "sesame.1.aa")
			if err == nil {
				t.Fatal("Send succeeded, want a refusal")
			}
			if got := errors.Is(err, ErrPermanent); got != tt.permanent {
				t.Errorf("Send() = %v; permanent = %v, want %v", err, got, tt.permanent)
			}
		})
	}
}
