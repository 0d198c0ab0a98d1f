package oidc

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// The browser routes (authorize, its callback, end_session) and the token
// endpoint never answer 5xx, whatever the parameters, in the address or in
// a form.
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
		"state=%zz",
		"a=1;b=2&post_logout_redirect_uri=http%3A%2F%2F127.0.0.1%3A1%2Fbye",
	} {
		f.Add(s)
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	f.Fuzz(func(t *testing.T, query string) {
		for _, path := range []string{pathAuthorize, pathCallback, pathEndSession} {
			resp, err := c.Get(e.issuer + path + "?" + query)
			if err != nil {
				return // not a valid URL: the request never left
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode >= 500 {
				t.Errorf("GET %s?%s: status %d", path, query, resp.StatusCode)
			}
			// The browser routes take a form too (end_session, a form_post).
			resp, err = c.Post(e.issuer+path, "application/x-www-form-urlencoded", strings.NewReader(query))
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode >= 500 {
				t.Errorf("POST %s %q: status %d", path, query, resp.StatusCode)
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

// FuzzResource sends any Authorization header, query and body to userinfo
// and introspection: never a 5xx, always a JSON answer, and only the
// token's own client's introspection or the token's userinfo says more
// than "inactive".
func FuzzResource(f *testing.F) {
	e := newTestEnv(f, nil, nil, testClients(""))
	e.login(f)
	_, tok := e.tokens(f, "rs", "RS256")
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte("rs:"+secret))
	for _, s := range [][3]string{
		{"Bearer " + tok.AccessToken, "", ""},
		{"bearer  " + tok.AccessToken, "", ""},
		{"", "access_token=" + tok.AccessToken, ""},
		{"", "", "access_token=" + tok.AccessToken},
		{basic, "token=" + tok.AccessToken, ""},
		{basic, "token=" + tok.RefreshToken + "&token_type_hint=refresh_token", ""},
		{"", "client_id=rs&client_secret=" + secret + "&token=" + tok.AccessToken, ""},
		{"Basic %zz", "token=%zz", "token=x"},
		{"Basic cnM6", "client_id=pub&token=" + tok.AccessToken, ""},
	} {
		f.Add(s[0], s[1], s[2])
	}
	f.Fuzz(func(t *testing.T, auth, body, query string) {
		if strings.ContainsFunc(query, func(r rune) bool { return r <= ' ' || r == 0x7f || r == '#' }) {
			return // not a request line net/http's server takes to a handler
		}
		for _, path := range []string{pathUserinfo, pathIntrospect} {
			req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, e.issuer+path+"?"+query, strings.NewReader(body))
			if err != nil {
				return
			}
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if auth != "" {
				req.Header.Set("Authorization", auth)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				return // a header Go will not send
			}
			var m map[string]any
			jsonErr := json.NewDecoder(resp.Body).Decode(&m)
			resp.Body.Close()
			if resp.StatusCode >= 500 || jsonErr != nil {
				t.Fatalf("%s %q %q %q: status %d, JSON %v", path, auth, body, query, resp.StatusCode, jsonErr)
			}
			if resp.StatusCode == 200 && path == pathUserinfo && m["sub"] == nil {
				t.Errorf("userinfo 200 without claims: %v", m)
			}
		}
	})
}
