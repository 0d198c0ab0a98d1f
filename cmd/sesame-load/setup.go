package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"sesame/internal/account"
	"sesame/internal/i18n"
	"sesame/internal/passhash"
	"sesame/internal/store"
	"sesame/internal/totp"
)

// options are a run's settings, validated.
type options struct {
	target       *url.URL
	users        int
	concurrency  int
	duration     time.Duration
	maxLogins    int
	setupTimeout time.Duration
	skew         int
	// hashParams are the portal's argon2id parameters: the accounts'
	// password hash is made with them, so no login pays for a rehash.
	hashParams passhash.Params
	log        io.Writer    // progress of the set-up
	scenario   string       // login, pages or token
	token      tokenOptions // the client of the token scenario
	pid        int          // the portal's process, for its CPU and memory; 0: not measured
	// forwardedFor: each virtual user sends its own X-Forwarded-For, so a
	// portal behind a trusted proxy sees many people, not one address.
	forwardedFor bool
	// baseline: each measured phase is preceded by GET /healthz for as
	// long, and its CPU per request also given as a multiple of that
	// (baseline.go).
	baseline bool
}

func (o options) validate() error {
	switch {
	case o.users < 1 || o.users > maxUsers:
		return fmt.Errorf("--users %d out of range 1..%d", o.users, maxUsers)
	case o.concurrency < 1 || o.concurrency > maxConcurrency:
		return fmt.Errorf("--concurrency %d out of range 1..%d", o.concurrency, maxConcurrency)
	case o.duration < time.Second || o.duration > maxDuration:
		return fmt.Errorf("--duration %v out of range 1s..%v", o.duration, maxDuration)
	case o.maxLogins < 1 || o.maxLogins > maxLogins:
		return fmt.Errorf("--max-logins %d out of range 1..%d", o.maxLogins, maxLogins)
	case o.setupTimeout < time.Second || o.setupTimeout > maxSetup:
		return fmt.Errorf("--setup-timeout %v out of range 1s..%v", o.setupTimeout, maxSetup)
	case o.skew < 0 || o.skew > 2:
		return fmt.Errorf("--skew %d out of range 0..2", o.skew)
	case o.scenario != "login" && o.scenario != "pages" && o.scenario != "token":
		return fmt.Errorf("--scenario %q: want login, pages or token", o.scenario)
	case o.scenario == "token" && (o.token.clientID == "" || o.token.clientSecret == "" || o.token.redirectURI == ""):
		return errors.New("--scenario token needs --client-id, --client-secret and --redirect-uri: a client registered in the portal's configuration")
	case o.pid < 0:
		return fmt.Errorf("--pid %d: want a process id", o.pid)
	case o.baseline && o.pid == 0:
		return errors.New("--baseline needs --pid: it compares the portal's CPU per request")
	}
	return o.hashParams.Validate(false)
}

// loadAccount is one account the virtual users log in with.
type loadAccount struct {
	identifier string
	password   string
	secret     []byte
	totp       totp.Params
	last       int64 // the last time step used; the portal refuses it and every earlier one
	prev       int64 // last before the login in flight, should the portal not evaluate its code
	busy       bool  // a virtual user is logging in with it
}

// setupBrowsers bounds the browsers that enrol the accounts.
const setupBrowsers = 8

// loadAnswer is the accounts' security answer.
const loadAnswer = "sesame-load"

// setup creates o.users Client accounts in st, under identifiers unique to
// this run, and links an authenticator to each through the portal's wizard.
func setup(ctx context.Context, st store.Store, c *http.Client, o options) ([]*loadAccount, error) {
	ctx, cancel := context.WithTimeout(ctx, o.setupTimeout)
	defer cancel()
	start := time.Now()
	run, password := randomHex(4), "load-"+randomHex(12)
	// One hash for every account: the same password, hashed once, since
	// N argon2id hashes here would only slow the set-up down.
	hash, err := passhash.New(o.hashParams, 1).Hash(ctx, password)
	if err != nil {
		return nil, err
	}
	// The answer is checked once per account at enrolment, which is not
	// measured: a hash with the test parameters halves the set-up's argon2id
	// work. The portal verifies it with the parameters it carries.
	answerHash, err := passhash.New(passhash.TestParams(), 1).Hash(ctx, passhash.NormalizeAnswer(loadAnswer))
	if err != nil {
		return nil, err
	}
	accounts := make([]*loadAccount, o.users)
	now := time.Now()
	err = st.InTx(ctx, func(tx store.Store) error {
		for i := range accounts {
			a := account.Account{Type: account.Client, Identifier: fmt.Sprintf("load-%s-%06d@load.sesame.test", run, i),
				Name: fmt.Sprintf("Load user %d", i), Lang: i18n.EN, PasswordHash: hash,
				QuestionKey: account.Questions[0], AnswerHash: answerHash, Created: now}
			if err := tx.CreateAccount(ctx, &a); err != nil {
				return err
			}
			accounts[i] = &loadAccount{identifier: a.Identifier, password: password}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("creating the accounts: %w", err)
	}
	fmt.Fprintf(o.log, "sesame-load: created %d accounts load-%s-*@load.sesame.test; linking their authenticators through the wizard\n", o.users, run)

	// Enrol with up to setupBrowsers browsers (more would only queue for
	// the hash of step 1); the first failure stops the others, so a wrong
	// database costs a few failed attempts, not thousands.
	ctx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	next := make(chan *loadAccount)
	var wg sync.WaitGroup
	for range min(o.concurrency, setupBrowsers) {
		wg.Go(func() {
			b := newBrowser(c, o.target)
			for a := range next {
				if err := enrol(ctx, b, a, o.skew); err != nil {
					stop(err)
				}
			}
		})
	}
feed:
	for _, a := range accounts {
		select {
		case next <- a:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return nil, fmt.Errorf("linking authenticators: %w", err)
	}
	fmt.Fprintf(o.log, "sesame-load: set-up done in %v\n", time.Since(start).Round(time.Millisecond))
	return accounts, nil
}

// enrol runs the initialisation wizard for a: step 1 (identifier, password,
// type), step 2 (the security answer), step 3 (a code from the secret shown).
func enrol(ctx context.Context, b *browser, a *loadAccount, skew int) error {
	b.forget()
	page, err := b.do(ctx, http.MethodGet, "/totp/init", nil)
	if err != nil {
		return err
	}
	csrf, ok := csrfToken(page.body)
	if page.status != http.StatusOK || !ok {
		return fmt.Errorf("%s: GET /totp/init answered %d without a form", a.identifier, page.status)
	}
	post := func(path string, form url.Values, want string) error {
		form.Set("csrf", csrf)
		ans, err := b.do(ctx, http.MethodPost, path, form)
		for tries := 0; err == nil && ans.status == http.StatusServiceUnavailable && tries < 10; tries++ {
			// The portal is busy (another run's load?): come back when it says.
			wait, _ := strconv.Atoi(ans.retryAfter)
			sleep(ctx, time.Duration(max(wait, 1))*time.Second)
			ans, err = b.do(ctx, http.MethodPost, path, form)
		}
		if err != nil {
			return err
		}
		if ans.status != http.StatusSeeOther || ans.location != want {
			return fmt.Errorf("%s: POST %s answered %d (to %q), want 303 to %s", a.identifier, path, ans.status, ans.location, want)
		}
		return nil
	}
	if err := post("/totp/init", url.Values{"identifier": {a.identifier}, "password": {a.password}, "account_type": {string(account.Client)}}, "/totp/init"); err != nil {
		return err
	}
	if err := post("/totp/init/question", url.Values{"answer": {loadAnswer}}, "/totp/init"); err != nil {
		return err
	}
	page, err = b.do(ctx, http.MethodGet, "/totp/init", nil)
	if err != nil {
		return err
	}
	uri, ok := otpauthURI(page.body)
	if page.status != http.StatusOK || !ok {
		return fmt.Errorf("%s: step 3 answered %d without an otpauth:// link", a.identifier, page.status)
	}
	if a.secret, a.totp, err = parseOTPAuth(uri, skew); err != nil {
		return fmt.Errorf("%s: %w", a.identifier, err)
	}
	// The earliest step the portal accepts now, so the current step stays
	// free for the first login. Should the step end on the way, the portal
	// allows two more tries.
	var last error
	for range 2 {
		step := max(a.totp.Step(time.Now())-int64(a.totp.Skew), 0)
		code := totp.HOTP(a.secret, uint64(step), a.totp.Digits, a.totp.Algorithm)
		if last = post("/totp/init/code", url.Values{"totp": {code}}, "/totp/init/done"); last == nil {
			a.last = highestSame(a, step, code)
			return nil
		}
	}
	return last
}

// parseOTPAuth reads the secret and settings of an otpauth://totp/ URI, as
// an authenticator app does; skew is the portal's, which the URI omits.
func parseOTPAuth(uri string, skew int) ([]byte, totp.Params, error) {
	u, err := url.Parse(uri)
	if err != nil {
		return nil, totp.Params{}, fmt.Errorf("otpauth URI: %w", err)
	}
	q := u.Query()
	secret, err := totp.DecodeSecret(q.Get("secret"))
	if err != nil {
		return nil, totp.Params{}, err
	}
	p := totp.Params{Algorithm: totp.Algorithm(q.Get("algorithm")), Skew: skew}
	digits, err1 := strconv.Atoi(q.Get("digits"))
	period, err2 := strconv.Atoi(q.Get("period"))
	if err := errors.Join(err1, err2); err != nil {
		return nil, totp.Params{}, fmt.Errorf("otpauth URI: %w", err)
	}
	p.Digits, p.Period = digits, time.Duration(period)*time.Second
	if err := p.Validate(); err != nil {
		return nil, totp.Params{}, err
	}
	return secret, p, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b) // never fails (crypto/rand)
	return hex.EncodeToString(b)
}
