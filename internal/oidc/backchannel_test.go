package oidc

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestBackchannelLogout(t *testing.T) {
	got := make(chan string, 4)
	fail := true
	rpSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if fail { // the first attempt fails: the logout is retried
			fail = false
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		got <- r.PostFormValue("logout_token")
	}))
	defer rpSrv.Close()
	e := newTestEnv(t, nil, nil, testClients(rpSrv.URL+"/backchannel"))
	e.login(t)
	ctx := context.Background()
	rs := e.rp(t, "rs", "RS256")
	tok, err := e.exchange(rs, e.code(t, rs))
	if err != nil {
		t.Fatal(err)
	}
	if n, err := e.p.LogoutPass(ctx); n != 0 || err != nil {
		t.Fatalf("pass with the session alive: %d, %v", n, err)
	}
	// An administrator's reset deletes the account's sessions.
	if _, err := e.st.DeleteAccountSessions(ctx, e.acct.ID, nil); err != nil {
		t.Fatal(err)
	}
	if n, err := e.p.LogoutPass(ctx); n != 1 || err != nil {
		t.Fatalf("first pass: %d, %v", n, err)
	}
	if len(got) != 0 {
		t.Fatal("delivered despite the failure")
	}
	if got := e.introspect(t, "rs", tok.AccessToken); got["active"] != false {
		t.Errorf("token active after the session ended: %v", got)
	}
	if n, _ := e.p.LogoutPass(ctx); n != 0 {
		t.Errorf("retried before its time: %d", n)
	}
	e.offset.Add(int64(2e9)) // past the retry delay
	if n, err := e.p.LogoutPass(ctx); n != 1 || err != nil {
		t.Fatalf("retry pass: %d, %v", n, err)
	}
	var raw string
	select {
	case raw = <-got:
	default:
		t.Fatal("no logout token delivered")
	}
	// go-oidc verifies signature, issuer, audience and expiry.
	lt, err := rs.verifier.Verify(ctx, raw)
	if err != nil {
		t.Fatalf("logout token: %v", err)
	}
	var c struct {
		SID    string                    `json:"sid"`
		Nonce  *string                   `json:"nonce"`
		Events map[string]map[string]any `json:"events"`
		JTI    string                    `json:"jti"`
	}
	if err := lt.Claims(&c); err != nil {
		t.Fatal(err)
	}
	if _, ok := c.Events["http://schemas.openid.net/event/backchannel-logout"]; !ok || c.SID != SID(e.sessHash) || c.Nonce != nil || c.JTI == "" ||
		lt.Subject != e.p.Subject(e.acct.ID) {
		t.Errorf("logout token claims %+v sub %s", c, lt.Subject)
	}
	hdr, _ := base64.RawURLEncoding.DecodeString(strings.Split(raw, ".")[0])
	var h map[string]any
	json.Unmarshal(hdr, &h)
	if h["typ"] != "logout+jwt" {
		t.Errorf("typ = %v", h["typ"])
	}
	if n, _ := e.p.LogoutPass(ctx); n != 0 {
		t.Errorf("notified twice: %d", n)
	}
}
