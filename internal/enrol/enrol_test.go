package enrol

import (
	"errors"
	"testing"
	"time"
)

func TestWizard(t *testing.T) {
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	e := New([]byte("id"), 7, now)
	if e.State != Question || e.Expired(now.Add(Lifetime-time.Second)) || !e.Expired(now.Add(Lifetime)) {
		t.Fatalf("new enrolment: %+v", e)
	}
	if err := e.ReserveTry(); !errors.Is(err, ErrWrongState) {
		t.Errorf("ReserveTry before the question: %v, want ErrWrongState", err)
	}
	if err := e.Answered([]byte("sealed")); err != nil {
		t.Fatal(err)
	}
	if err := e.Answered([]byte("again")); !errors.Is(err, ErrWrongState) {
		t.Errorf("second Answered: %v, want ErrWrongState", err)
	}
	for i := 1; i <= MaxCodeTries; i++ {
		if err := e.ReserveTry(); err != nil {
			t.Fatalf("try %d: %v", i, err)
		}
		if e.TriesLeft != MaxCodeTries-i {
			t.Errorf("after try %d: %d left, want %d", i, e.TriesLeft, MaxCodeTries-i)
		}
	}
	if err := e.ReserveTry(); !errors.Is(err, ErrNoTries) {
		t.Errorf("a try past the last: %v, want ErrNoTries", err)
	}
}
