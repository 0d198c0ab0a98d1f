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
	if _, err := e.WrongCode(); !errors.Is(err, ErrWrongState) {
		t.Errorf("WrongCode before the question: %v, want ErrWrongState", err)
	}
	if err := e.Answered([]byte("sealed")); err != nil {
		t.Fatal(err)
	}
	if err := e.Answered([]byte("again")); !errors.Is(err, ErrWrongState) {
		t.Errorf("second Answered: %v, want ErrWrongState", err)
	}
	for i := 1; i <= MaxCodeTries; i++ {
		cancelled, err := e.WrongCode()
		if err != nil {
			t.Fatal(err)
		}
		if want := i == MaxCodeTries; cancelled != want {
			t.Errorf("wrong code %d: cancelled = %v, want %v", i, cancelled, want)
		}
	}
}
