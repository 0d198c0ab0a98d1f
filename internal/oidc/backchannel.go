package oidc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"sesame/internal/store"
)

// Back-channel logout (OpenID Connect Back-Channel Logout 1.0): when the
// Sesame session a grant came from no longer exists — whoever ended it — the
// grant is revoked and its client, if it registered a backchannel_logout_uri,
// receives a signed logout token. Grants are claimed with a lease, so with
// several instances each logout is sent by one of them.

const (
	logoutBatch = 50
	logoutLease = time.Minute
)

// Run checks for ended sessions every interval (0: one second) until ctx
// ends.
func (p *Provider) Run(ctx context.Context, interval time.Duration) {
	if interval <= 0 {
		interval = time.Second
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	down := false // the database is unreachable: said once, not every second
	for {
		_, err := p.LogoutPass(ctx)
		switch {
		case err == nil || ctx.Err() != nil:
			if down && err == nil {
				p.log.InfoContext(ctx, "oidc: back-channel logout: database reachable again")
			}
			down = false
		case errors.Is(err, store.ErrUnavailable):
			if !down {
				p.log.WarnContext(ctx, "oidc: back-channel logout waits for the database", "error", err)
			}
			down = true
		default:
			p.log.ErrorContext(ctx, "oidc: back-channel logout", "error", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// LogoutPass runs one pass synchronously: it claims grants whose session
// ended, revokes them and notifies their clients, returning how many
// grants it handled.
func (p *Provider) LogoutPass(ctx context.Context) (int, error) {
	total := 0
	for {
		list, err := p.st.ClaimOIDCLogouts(ctx, p.now().UTC(), logoutLease, logoutBatch)
		if err != nil {
			return total, err
		}
		for _, g := range list {
			p.logout(ctx, g)
		}
		total += len(list)
		if len(list) < logoutBatch {
			return total, nil
		}
	}
}

func (p *Provider) logout(ctx context.Context, g store.OIDCGrant) {
	c := p.clients[g.ClientID]
	now := p.now().UTC()
	if c == nil || c.cfg.BackchannelLogoutURI == "" {
		p.finishLogout(ctx, g.ID)
		return
	}
	err := p.sendLogout(ctx, c, g)
	if err == nil {
		p.finishLogout(ctx, g.ID)
		return
	}
	if now.Sub(g.Revoked) > backchannelGiveUp {
		p.log.WarnContext(ctx, "oidc: back-channel logout abandoned", "client", c.cfg.ID, "grant", g.ID, "error", err)
		p.finishLogout(ctx, g.ID)
		return
	}
	// Back off with the time since the session ended: 1 s, 2 s, 4 s... at most 5 minutes.
	wait := min(max(now.Sub(g.Revoked), time.Second), 5*time.Minute)
	p.log.InfoContext(ctx, "oidc: back-channel logout failed, will retry", "client", c.cfg.ID, "grant", g.ID, "error", err, "retry_in", wait)
	if err := p.st.RetryOIDCLogout(ctx, g.ID, now.Add(wait)); err != nil {
		p.log.ErrorContext(ctx, "oidc: back-channel logout", "error", err)
	}
}

func (p *Provider) finishLogout(ctx context.Context, id int64) {
	if err := p.st.FinishOIDCLogout(ctx, id, p.now().UTC()); err != nil {
		p.log.ErrorContext(ctx, "oidc: back-channel logout", "error", err)
	}
}

// logoutToken returns the signed logout token for a grant.
func (p *Provider) logoutToken(ctx context.Context, c *client, g store.OIDCGrant) (string, error) {
	key, err := p.signer(ctx, c.alg)
	if err != nil {
		return "", err
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: key.alg, Key: jose.JSONWebKey{Key: key.private, KeyID: key.id}},
		(&jose.SignerOptions{}).WithType("logout+jwt"))
	if err != nil {
		return "", err
	}
	now := p.now().UTC()
	claims := map[string]any{
		"iss":    p.issuer,
		"aud":    c.cfg.ID,
		"iat":    now.Unix(),
		"exp":    now.Add(logoutTokenLife).Unix(),
		"jti":    randomToken(16),
		"sub":    p.Subject(g.AccountID),
		"sid":    g.SID,
		"events": map[string]any{"http://schemas.openid.net/event/backchannel-logout": map[string]any{}},
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		return "", err
	}
	return jws.CompactSerialize()
}

func (p *Provider) sendLogout(ctx context.Context, c *client, g store.OIDCGrant) error {
	tok, err := p.logoutToken(ctx, c, g)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.cfg.BackchannelLogoutURI, strings.NewReader(url.Values{"logout_token": {tok}}.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := p.httpClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusNoContent {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	return nil
}
