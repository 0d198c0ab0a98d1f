package oidc

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
)

// The authorize and token endpoints never answer 5xx, whatever the
// parameters.
func FuzzAuthorize(f *testing.F) {
	e := newTestEnv(f, nil, nil, testClients(""))
	e.login(f)
	for _, s := range []string{
		"client_id=rs&response_type=code&scope=openid&redirect_uri=http%3A%2F%2F127.0.0.1%3A1%2Fcb&state=x",
		"client_id=pub&response_type=code&scope=openid&redirect_uri=http%3A%2F%2F127.0.0.1%3A1%2Fcb&code_challenge=abc&code_challenge_method=S256",
		"client_id=rs&response_type=code&scope=openid&redirect_uri=http%3A%2F%2F127.0.0.1%3A1%2Fcb&prompt=none+login&max_age=-1",
		"request=eyJhbGciOiJub25lIn0.e30.&client_id=rs",
		"client_id=rs&response_type=code&scope=openid&redirect_uri=http%3A%2F%2F127.0.0.1%3A1%2Fcb&ui_locales=%ff&response_mode=fragment",
		"id_token_hint=a.b.c&client_id=rs&scope=openid",
	} {
		f.Add(s)
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	f.Fuzz(func(t *testing.T, query string) {
		for _, path := range []string{pathAuthorize, pathCallback} {
			resp, err := c.Get(e.issuer + path + "?" + query)
			if err != nil {
				return // not a valid URL: the request never left
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode >= 500 {
				t.Errorf("%s?%s: status %d", path, query, resp.StatusCode)
			}
		}
	})
}

func FuzzToken(f *testing.F) {
	e := newTestEnv(f, nil, nil, testClients(""))
	e.login(f)
	r := e.rp(f, "rs", "RS256")
	fl := e.code(f, r)
	tok, err := e.exchange(r, e.code(f, r))
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{
		"grant_type=authorization_code&code=" + fl.code + "&redirect_uri=http%3A%2F%2F127.0.0.1%3A1%2Fcb&code_verifier=" + fl.verifier,
		"grant_type=refresh_token&refresh_token=" + tok.RefreshToken,
		"grant_type=refresh_token&refresh_token=" + tok.RefreshToken + "&scope=openid+phone",
		"grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&assertion=a.b.c",
		"grant_type=authorization_code&client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer&client_assertion=x",
		"grant_type=client_credentials&scope=openid",
		"%zz",
	} {
		f.Add(s, true)
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, body string, auth bool) {
		req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, e.issuer+pathToken, strings.NewReader(body))
		if err != nil {
			return
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if auth {
			req.SetBasicAuth("rs", secret)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode >= 500 {
			t.Errorf("body %q: status %d", body, resp.StatusCode)
		}
	})
}
