package storetest

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"sesame/internal/account"
	"sesame/internal/store"
)

func testOIDCKeys(t *testing.T, s store.Store) {
	ctx := context.Background()
	k := store.SigningKey{ID: "k1", Alg: "RS256", Generation: 1, Private: []byte("sealed"), Created: t0, Activates: t0}
	if ok, err := s.AddSigningKey(ctx, k); !ok || err != nil {
		t.Fatalf("AddSigningKey = %v, %v", ok, err)
	}
	// Another instance starting at once loses quietly: one key per generation.
	if ok, err := s.AddSigningKey(ctx, store.SigningKey{ID: "k1b", Alg: "RS256", Generation: 1, Private: []byte("x"), Created: t0, Activates: t0}); ok || err != nil {
		t.Errorf("second generation 1 = %v, %v; want false, nil", ok, err)
	}
	if ok, err := s.AddSigningKey(ctx, store.SigningKey{ID: "k2", Alg: "ES256", Generation: 1, Private: []byte("y"), Created: t0, Activates: t0.Add(time.Hour)}); !ok || err != nil {
		t.Errorf("ES256 = %v, %v", ok, err)
	}
	list, err := s.ListSigningKeys(ctx)
	if err != nil || len(list) != 2 || list[0].Alg != "ES256" || !list[0].Activates.Equal(t0.Add(time.Hour)) || list[1].ID != "k1" || string(list[1].Private) != "sealed" {
		t.Errorf("ListSigningKeys = %+v, %v", list, err)
	}
	if err := s.DeleteSigningKey(ctx, "k2"); err != nil {
		t.Fatal(err)
	}
	if list, _ := s.ListSigningKeys(ctx); len(list) != 1 {
		t.Errorf("after delete: %d keys", len(list))
	}
	if err := s.AddOIDCSecret(ctx, "sub", []byte("a")); err != nil {
		t.Fatal(err)
	}
	if err := s.AddOIDCSecret(ctx, "sub", []byte("b")); err != nil {
		t.Fatal(err)
	}
	if v, err := s.GetOIDCSecret(ctx, "sub"); err != nil || string(v) != "a" {
		t.Errorf("GetOIDCSecret = %q, %v; want the first value", v, err)
	}
	if _, err := s.GetOIDCSecret(ctx, "none"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("missing secret: %v", err)
	}
}

// oidcFixture makes an account, a session and a completed request with a code.
func oidcFixture(t *testing.T, s store.Store, name string) (account.Account, store.Session, store.OIDCAuthRequest) {
	t.Helper()
	ctx := context.Background()
	a := newAccount(t, s, account.Client, name+"@example.be", 0)
	sess := store.Session{IDHash: []byte("session-" + name), AccountID: a.ID, AMR: []string{"pwd", "otp"}, Created: t0, LastSeen: t0}
	if err := s.CreateSession(ctx, sess); err != nil {
		t.Fatal(err)
	}
	r := store.OIDCAuthRequest{ID: "req-" + name, ClientID: "app", RedirectURI: "https://app.example/cb", Scopes: []string{"openid", "email"},
		State: "st", Nonce: "n", CodeChallenge: "ch", Prompt: []string{"login"}, MaxAge: 0, LoginHint: "x@y", UILocales: []string{"nl", "fr"},
		ACRValues: []string{"a"}, Created: t0, Expires: t0.Add(30 * time.Minute)}
	if err := s.CreateOIDCAuthRequest(ctx, r); err != nil {
		t.Fatal(err)
	}
	if err := s.CompleteOIDCAuthRequest(ctx, r.ID, a.ID, sess.IDHash, t0, []string{"pwd", "otp"}, t0); err != nil {
		t.Fatal(err)
	}
	if err := s.SetOIDCAuthCode(ctx, r.ID, []byte("code-"+name), t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetOIDCAuthRequest(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	return a, sess, got
}

// testOIDCActiveAccess: a token may be used only while it is an access
// token, unrevoked, unexpired, of an unrevoked grant whose session exists;
// the two look-ups say so alike, and nothing else about it.
func testOIDCActiveAccess(t *testing.T, s store.Store) {
	ctx := context.Background()
	o := account.Office{Name: "Cabinet Actif", Created: t0}
	if err := s.CreateOffice(ctx, &o); err != nil {
		t.Fatal(err)
	}
	a := newAccount(t, s, account.Tiers, "active-access@example.be", o.ID)
	now := t0.Add(time.Minute)
	const idle = 30 * time.Minute // the sessions' idle timeout
	// grant makes a grant of a new session with an access token "name-at"
	// and a refresh token "name-rt", valid until t0 + 5 minutes.
	grant := func(name string) (store.OIDCGrant, store.Session) {
		t.Helper()
		sess := store.Session{IDHash: []byte("session-" + name), AccountID: a.ID, AMR: []string{"pwd", "otp"}, Created: t0, LastSeen: t0}
		if err := s.CreateSession(ctx, sess); err != nil {
			t.Fatal(err)
		}
		r := store.OIDCAuthRequest{ID: "req-" + name, ClientID: "app", RedirectURI: "https://app.example/cb", MaxAge: -1, Created: t0, Expires: t0.Add(time.Hour)}
		if err := s.CreateOIDCAuthRequest(ctx, r); err != nil {
			t.Fatal(err)
		}
		if err := s.CompleteOIDCAuthRequest(ctx, r.ID, a.ID, sess.IDHash, t0, []string{"pwd", "otp"}, t0); err != nil {
			t.Fatal(err)
		}
		if err := s.SetOIDCAuthCode(ctx, r.ID, []byte("code-"+name), t0.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		g := store.OIDCGrant{ClientID: "app-" + name, AccountID: a.ID, SessionHash: sess.IDHash, SID: "sid-" + name, Scopes: []string{"openid", "sesame"},
			AuthTime: t0.Add(-time.Second), AMR: []string{"pwd", "otp"}, Created: t0, Expires: t0.Add(12 * time.Hour)}
		toks := []store.OIDCToken{
			{Hash: []byte(name + "-at"), Kind: store.AccessToken, Created: t0, Expires: t0.Add(5 * time.Minute)},
			{Hash: []byte(name + "-rt"), Kind: store.RefreshToken, Created: t0, Expires: t0.Add(time.Hour)},
		}
		if err := s.RedeemOIDCAuthCode(ctx, []byte("code-"+name), t0, &g, toks); err != nil {
			t.Fatal(err)
		}
		return g, sess
	}
	grant("live")
	want := store.OIDCAccess{ClientID: "app-live", AccountID: a.ID, Scopes: []string{"openid", "sesame"}, AMR: []string{"pwd", "otp"},
		AuthTime: t0.Add(-time.Second), Issued: t0, Expires: t0.Add(5 * time.Minute)}
	wantClaims := store.OIDCClaims{AccountID: a.ID, Type: account.Tiers, Identifier: a.Identifier, Name: a.Name, Lang: a.Lang, OfficeID: o.ID, OfficeName: o.Name}
	// The session was last seen at t0: live for an idle timeout of 30
	// minutes, of a millisecond over a minute, or none.
	for _, idle := range []time.Duration{idle, time.Minute + time.Millisecond, 0} {
		if got, err := s.ActiveOIDCAccessToken(ctx, []byte("live-at"), now, idle); err != nil || !cmp.Equal(got, want) {
			t.Errorf("idle %s: ActiveOIDCAccessToken = %+v, %v; want %+v", idle, got, err, want)
		}
		if got, c, err := s.ActiveOIDCAccessClaims(ctx, []byte("live-at"), now, idle); err != nil || !cmp.Equal(got, want) || c != wantClaims {
			t.Errorf("idle %s: ActiveOIDCAccessClaims = %+v, %+v, %v; want %+v, %+v", idle, got, c, err, want, wantClaims)
		}
	}

	grant("revoked-token")
	if err := s.RevokeOIDCToken(ctx, []byte("revoked-token-at"), now); err != nil {
		t.Fatal(err)
	}
	revokedGrant, _ := grant("revoked-grant")
	if err := s.RevokeOIDCGrant(ctx, revokedGrant.ID, now); err != nil {
		t.Fatal(err)
	}
	_, ended := grant("ended")
	if err := s.DeleteSession(ctx, ended.IDHash); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		hash string
		at   time.Time
		idle time.Duration
	}{
		{"unknown", "nothing-at", now, idle},
		{"a refresh token", "live-rt", now, idle},
		{"at its expiry", "live-at", t0.Add(5 * time.Minute), idle},
		{"after its expiry", "live-at", t0.Add(time.Hour), idle},
		{"revoked", "revoked-token-at", now, idle},
		{"its grant revoked", "revoked-grant-at", now, idle},
		{"its session ended", "ended-at", now, idle},
		// Last seen a minute ago: idle-expired, though not swept yet.
		{"its session idle for the timeout", "live-at", now, time.Minute},
		{"its session idle past the timeout", "live-at", now, time.Second},
	} {
		if got, err := s.ActiveOIDCAccessToken(ctx, []byte(tc.hash), tc.at, tc.idle); !errors.Is(err, store.ErrNotFound) || !cmp.Equal(got, store.OIDCAccess{}) {
			t.Errorf("%s: ActiveOIDCAccessToken = %+v, %v; want ErrNotFound", tc.name, got, err)
		}
		if got, c, err := s.ActiveOIDCAccessClaims(ctx, []byte(tc.hash), tc.at, tc.idle); !errors.Is(err, store.ErrNotFound) || !cmp.Equal(got, store.OIDCAccess{}) || c != (store.OIDCClaims{}) {
			t.Errorf("%s: ActiveOIDCAccessClaims = %+v, %+v, %v; want ErrNotFound", tc.name, got, c, err)
		}
	}
	// A millisecond before its expiry it still works.
	if _, err := s.ActiveOIDCAccessToken(ctx, []byte("live-at"), t0.Add(5*time.Minute-time.Millisecond), idle); err != nil {
		t.Errorf("a millisecond before expiry: %v", err)
	}
}

func testOIDCAuthRequests(t *testing.T, s store.Store) {
	ctx := context.Background()
	a, sess, r := oidcFixture(t, s, "flow")
	if r.AccountID != a.ID || !bytes.Equal(r.SessionHash, sess.IDHash) || r.MaxAge != 0 || len(r.UILocales) != 2 || r.Nonce != "n" ||
		!r.CodeExpires.Equal(t0.Add(time.Minute)) || len(r.AMR) != 2 || r.Prompt[0] != "login" {
		t.Errorf("request = %+v", r)
	}
	if err := s.CompleteOIDCAuthRequest(ctx, r.ID, a.ID, sess.IDHash, t0, nil, t0); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("second completion: %v, want ErrNotFound", err)
	}
	if err := s.SetOIDCAuthCode(ctx, r.ID, []byte("other"), t0.Add(time.Minute)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("second code: %v, want ErrNotFound", err)
	}
	late := store.OIDCAuthRequest{ID: "late", ClientID: "app", RedirectURI: "https://app.example/cb", MaxAge: -1, Created: t0, Expires: t0.Add(time.Minute)}
	if err := s.CreateOIDCAuthRequest(ctx, late); err != nil {
		t.Fatal(err)
	}
	if err := s.CompleteOIDCAuthRequest(ctx, "late", a.ID, sess.IDHash, t0, nil, t0.Add(2*time.Minute)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("completing an expired request: %v", err)
	}
	if got, _ := s.GetOIDCAuthRequest(ctx, "late"); got.MaxAge != -1 {
		t.Errorf("max_age = %d, want -1", got.MaxAge)
	}
	if got, err := s.GetOIDCAuthRequestByCode(ctx, []byte("code-flow")); err != nil || got.ID != r.ID {
		t.Errorf("by code = %v, %v", got.ID, err)
	}

	// Expired code.
	if err := s.RedeemOIDCAuthCode(ctx, []byte("code-flow"), t0.Add(2*time.Minute), &store.OIDCGrant{}, nil); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("redeeming an expired code: %v", err)
	}
	g := store.OIDCGrant{ClientID: "app", AccountID: a.ID, SessionHash: sess.IDHash, SID: "sid1", Scopes: r.Scopes, AuthTime: t0, AMR: r.AMR,
		Created: t0, Expires: t0.Add(12 * time.Hour)}
	toks := []store.OIDCToken{
		{Hash: []byte("at1"), Kind: store.AccessToken, Created: t0, Expires: t0.Add(5 * time.Minute)},
		{Hash: []byte("rt1"), Kind: store.RefreshToken, Created: t0, Expires: t0.Add(time.Hour)},
	}
	if err := s.RedeemOIDCAuthCode(ctx, []byte("code-flow"), t0.Add(time.Second), &g, toks); err != nil || g.ID == 0 {
		t.Fatalf("redeem: %v (grant %d)", err, g.ID)
	}
	if err := s.RedeemOIDCAuthCode(ctx, []byte("code-flow"), t0.Add(time.Second), &store.OIDCGrant{}, nil); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("second redemption: %v", err)
	}
	if got, _ := s.GetOIDCAuthRequestByCode(ctx, []byte("code-flow")); got.GrantID != g.ID || got.Redeemed.IsZero() {
		t.Errorf("after redemption: grant %d redeemed %v", got.GrantID, got.Redeemed)
	}
	info, err := s.LookupOIDCToken(ctx, []byte("at1"))
	if err != nil || info.Grant.ID != g.ID || !info.SessionExists || info.Token.Kind != store.AccessToken || info.Grant.SID != "sid1" ||
		!info.Token.Expires.Equal(t0.Add(5*time.Minute)) || len(info.Grant.Scopes) != 2 {
		t.Errorf("LookupOIDCToken = %+v, %v", info, err)
	}
	wantClaims := store.OIDCClaims{AccountID: a.ID, Type: a.Type, Identifier: a.Identifier, Name: a.Name, Lang: a.Lang}
	wantAccess := store.OIDCAccess{ClientID: "app", AccountID: a.ID, Scopes: r.Scopes, AMR: r.AMR, AuthTime: t0, Issued: t0, Expires: t0.Add(5 * time.Minute)}
	if ac, c, err := s.ActiveOIDCAccessClaims(ctx, []byte("at1"), t0.Add(time.Second), 0); err != nil || !cmp.Equal(ac, wantAccess) || c != wantClaims {
		t.Errorf("ActiveOIDCAccessClaims = %+v, %+v, %v; want %+v and %+v", ac, c, err, wantAccess, wantClaims)
	}
	if c, err := s.GetOIDCClaims(ctx, a.ID); err != nil || c != wantClaims {
		t.Errorf("GetOIDCClaims = %+v, %v; want %+v", c, err, wantClaims)
	}
	if _, err := s.GetOIDCClaims(ctx, 999999); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetOIDCClaims of an unknown account: %v", err)
	}
	// An office's account: its claims name the office.
	o := account.Office{Name: "Cabinet Claims", Created: t0}
	if err := s.CreateOffice(ctx, &o); err != nil {
		t.Fatal(err)
	}
	ta := newAccount(t, s, account.Tiers, "claims-tiers@example.be", o.ID)
	if c, err := s.GetOIDCClaims(ctx, ta.ID); err != nil || c.OfficeID != o.ID || c.OfficeName != "Cabinet Claims" || c.Type != account.Tiers {
		t.Errorf("GetOIDCClaims of a Tiers account = %+v, %v; want office %d %q", c, err, o.ID, o.Name)
	}
	if _, err := s.FindOIDCSession(ctx, "sid1"); err != nil {
		t.Errorf("FindOIDCSession: %v", err)
	}

	// Refresh rotation: once.
	next := []store.OIDCToken{{Hash: []byte("rt2"), Kind: store.RefreshToken, Created: t0, Expires: t0.Add(time.Hour)}}
	if err := s.RotateOIDCRefreshToken(ctx, []byte("rt1"), t0.Add(time.Minute), next); err != nil {
		t.Fatal(err)
	}
	if err := s.RotateOIDCRefreshToken(ctx, []byte("rt1"), t0.Add(time.Minute), nil); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("reused refresh token: %v", err)
	}
	if err := s.RotateOIDCRefreshToken(ctx, []byte("at1"), t0.Add(time.Minute), nil); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("access token as refresh token: %v", err)
	}
	if info, _ := s.LookupOIDCToken(ctx, []byte("rt1")); info.Token.Used.IsZero() {
		t.Error("rotated token not marked used")
	}
	if err := s.RevokeOIDCToken(ctx, []byte("at1"), t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if info, _ := s.LookupOIDCToken(ctx, []byte("at1")); info.Token.Revoked.IsZero() {
		t.Error("token not revoked")
	}
	if err := s.RevokeOIDCGrant(ctx, g.ID, t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if info, _ := s.LookupOIDCToken(ctx, []byte("rt2")); info.Grant.Revoked.IsZero() {
		t.Error("grant not revoked")
	}
	if err := s.RevokeOIDCGrant(ctx, 999999, t0); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("revoking a missing grant: %v", err)
	}

	// The session ends: the token says so, and the logout is claimed once.
	if err := s.DeleteSession(ctx, sess.IDHash); err != nil {
		t.Fatal(err)
	}
	if info, _ := s.LookupOIDCToken(ctx, []byte("rt2")); info.SessionExists {
		t.Error("session still reported alive")
	}
	claimed, err := s.ClaimOIDCLogouts(ctx, t0, time.Minute, 10)
	if err != nil || len(claimed) != 1 || claimed[0].ID != g.ID || claimed[0].Revoked.IsZero() {
		t.Fatalf("ClaimOIDCLogouts = %+v, %v", claimed, err)
	}
	if again, _ := s.ClaimOIDCLogouts(ctx, t0.Add(time.Second), time.Minute, 10); len(again) != 0 {
		t.Errorf("leased grant claimed again: %d", len(again))
	}
	if err := s.RetryOIDCLogout(ctx, g.ID, t0.Add(2*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if again, _ := s.ClaimOIDCLogouts(ctx, t0.Add(3*time.Minute), time.Minute, 10); len(again) != 1 {
		t.Errorf("retry not claimed: %d", len(again))
	}
	if err := s.FinishOIDCLogout(ctx, g.ID, t0.Add(3*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if again, _ := s.ClaimOIDCLogouts(ctx, t0.Add(time.Hour), time.Minute, 10); len(again) != 0 {
		t.Errorf("finished grant claimed again: %d", len(again))
	}
	if n, err := s.DeleteOIDCBefore(ctx, t0.Add(13*time.Hour)); err != nil || n < 4 {
		t.Errorf("DeleteOIDCBefore = %d, %v", n, err)
	}
	if _, err := s.LookupOIDCToken(ctx, []byte("rt2")); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("token after sweep: %v", err)
	}
}

// A code redeemed by N goroutines at once (released by a barrier) gives
// tokens exactly once; the same for a refresh token.
func testOIDCRedeemRace(t *testing.T, s store.Store) {
	ctx := context.Background()
	a, sess, _ := oidcFixture(t, s, "race")
	const n = 8
	var wins atomic.Int32
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			g := store.OIDCGrant{ClientID: "app", AccountID: a.ID, SessionHash: sess.IDHash, SID: "s", Created: t0, Expires: t0.Add(time.Hour)}
			tok := []store.OIDCToken{{Hash: []byte{byte(i)}, Kind: store.RefreshToken, Created: t0, Expires: t0.Add(time.Hour)}}
			switch err := s.RedeemOIDCAuthCode(ctx, []byte("code-race"), t0.Add(time.Second), &g, tok); {
			case err == nil:
				wins.Add(1)
			case !errors.Is(err, store.ErrNotFound):
				t.Error(err)
			}
		})
	}
	close(start)
	wg.Wait()
	if got := wins.Load(); got != 1 {
		t.Fatalf("%d concurrent redemptions succeeded, want 1", got)
	}
	var winner []byte
	for i := range n {
		if _, err := s.LookupOIDCToken(ctx, []byte{byte(i)}); err == nil {
			winner = []byte{byte(i)}
		}
	}
	wins.Store(0)
	start = make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			tok := []store.OIDCToken{{Hash: []byte{100 + byte(i)}, Kind: store.RefreshToken, Created: t0, Expires: t0.Add(time.Hour)}}
			switch err := s.RotateOIDCRefreshToken(ctx, winner, t0.Add(time.Minute), tok); {
			case err == nil:
				wins.Add(1)
			case !errors.Is(err, store.ErrNotFound):
				t.Error(err)
			}
		})
	}
	close(start)
	wg.Wait()
	if got := wins.Load(); got != 1 {
		t.Errorf("%d concurrent rotations succeeded, want 1", got)
	}
}
