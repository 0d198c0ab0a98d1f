package admin

import (
	"context"
	"errors"
	"testing"
	"time"

	"sesame/internal/account"
	"sesame/internal/auth"
	"sesame/internal/enrol"
	"sesame/internal/i18n"
)

// authFor returns the self-service side of the fixture.
func authFor(t *testing.T, f *fixture) *auth.Service { return f.auth }

const storyPassword = "a long and unusual passphrase"

// enrolUser runs the initialisation wizard for the account: with its
// question when it has one (answer), or choosing one. It returns the secret
// linked.
func enrolUser(t *testing.T, f *fixture, as *auth.Service, a account.Account, answer string) []byte {
	t.Helper()
	ctx := context.Background()
	token, err := as.StartEnrolment(ctx, auth.Credentials{Type: a.Type, Identifier: a.Identifier, Password: storyPassword, Addr: "198.51.100.4"})
	if err != nil {
		t.Fatalf("StartEnrolment: %v", err)
	}
	e, err := as.Enrolment(ctx, token)
	if err != nil || e.State != enrol.Question {
		t.Fatalf("Enrolment = %+v, %v; want the question step", e, err)
	}
	if e.Account.HasQuestion() {
		err = as.AnswerQuestion(ctx, token, answer, "198.51.100.4")
	} else {
		err = as.ChooseQuestion(ctx, token, "first_pet", "", answer, "198.51.100.4")
	}
	if err != nil {
		t.Fatalf("question step: %v", err)
	}
	e, err = as.Enrolment(ctx, token)
	if err != nil || e.State != enrol.Code {
		t.Fatalf("Enrolment = %+v, %v; want the code step", e.State, err)
	}
	if _, err := as.ConfirmCode(ctx, token, as.TOTP.Code(e.Secret, f.clock.Now()), "198.51.100.4"); err != nil {
		t.Fatalf("ConfirmCode: %v", err)
	}
	return e.Secret
}

func login(f *fixture, as *auth.Service, a account.Account, secret []byte) error {
	f.clock.Add(31 * time.Second) // a fresh step: codes are single-use
	_, err := as.Login(context.Background(), auth.Credentials{Type: a.Type, Identifier: a.Identifier, Password: storyPassword,
		Code: as.TOTP.Code(secret, f.clock.Now()), Addr: "198.51.100.4"})
	return err
}

// TestHelpedRecoveryStory: a user who lost their phone and forgot their
// security answer is helped by their office administrator; the service
// half of the story (the web test drives the same through pages).
func TestHelpedRecoveryStory(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	as := authFor(t, f)
	marie := f.actor("marie")

	// A new user of Cabinet Dupont, created by their office administrator.
	lies, err := f.svc.CreateAccount(ctx, marie, NewAccount{Type: account.Tiers, Identifier: "lies@dupont.be", Name: "Lies",
		Lang: i18n.NL, Password: storyPassword})
	if err != nil {
		t.Fatal(err)
	}
	// The first login goes through the wizard, which asks for a question.
	if err := login(f, as, lies, nil); !errors.Is(err, auth.ErrNotEnrolled) {
		t.Fatalf("first login: %v, want ErrNotEnrolled", err)
	}
	oldSecret := enrolUser(t, f, as, lies, "Minou")
	if err := login(f, as, lies, oldSecret); err != nil {
		t.Fatalf("login after enrolment: %v", err)
	}

	// The phone is lost: the office administrator resets the authenticator.
	if _, err := f.svc.ResetTOTP(ctx, marie, lies.ID); err != nil {
		t.Fatal(err)
	}
	if err := login(f, as, lies, oldSecret); !errors.Is(err, auth.ErrNotEnrolled) {
		t.Fatalf("login after the reset: %v, want ErrNotEnrolled (to the wizard)", err)
	}
	// The wizard asks the question the user set; they still know it.
	newSecret := enrolUser(t, f, as, lies, "  MINOU ")
	if err := login(f, as, lies, oldSecret); !errors.Is(err, auth.ErrCredentials) {
		t.Errorf("login with the old secret's code: %v, want ErrCredentials", err)
	}
	if err := login(f, as, lies, newSecret); err != nil {
		t.Fatalf("login with the new secret: %v", err)
	}

	// Lost again, and the answer forgotten: both are reset.
	if _, err := f.svc.ResetTOTP(ctx, marie, lies.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.ResetQuestion(ctx, marie, lies.ID); err != nil {
		t.Fatal(err)
	}
	// Step 2 now asks for a new question: the old answer is no use.
	token, err := as.StartEnrolment(ctx, auth.Credentials{Type: lies.Type, Identifier: lies.Identifier, Password: storyPassword, Addr: "198.51.100.4"})
	if err != nil {
		t.Fatal(err)
	}
	if err := as.AnswerQuestion(ctx, token, "Minou", "198.51.100.4"); !errors.Is(err, enrol.ErrWrongState) {
		t.Errorf("answering the old question: %v, want ErrWrongState", err)
	}
	if err := as.CancelEnrolment(ctx, token, "198.51.100.4"); err != nil {
		t.Fatal(err)
	}
	thirdSecret := enrolUser(t, f, as, lies, "Rex the dog")
	if got, _ := f.st.GetAccount(ctx, lies.ID); got.QuestionKey != "first_pet" || !got.HasQuestion() {
		t.Errorf("after the wizard: question %q", got.QuestionKey)
	}
	for _, s := range [][]byte{oldSecret, newSecret} {
		if err := login(f, as, lies, s); !errors.Is(err, auth.ErrCredentials) {
			t.Errorf("login with an old secret's code: %v, want ErrCredentials", err)
		}
	}
	if err := login(f, as, lies, thirdSecret); err != nil {
		t.Fatalf("login with the third secret: %v", err)
	}

	// The log tells the story.
	var actions []string
	list, err := f.svc.Audit(ctx, marie, AuditFilter{AccountID: lies.ID, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	for i := len(list) - 1; i >= 0; i-- {
		if list[i].ActorID == marie.Account.ID {
			actions = append(actions, list[i].Action)
		}
	}
	if want := []string{ActionCreate, "totp_reset", "totp_reset", ActionQuestionReset}; !equalStrings(actions, want) {
		t.Errorf("marie's actions on lies: %v, want %v", actions, want)
	}
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
