package sqldb

import (
	"context"
	"strings"
	"time"

	"sesame/internal/store"
)

// AddSigningKey inserts a key unless its (alg, generation) exists.
func (s *DB) AddSigningKey(ctx context.Context, k store.SigningKey) (bool, error) {
	res, err := s.q.ExecContext(ctx, `INSERT INTO oidc_signing_keys (id, alg, generation, private_key, created, activates)
		VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (alg, generation) DO NOTHING`,
		k.ID, k.Alg, k.Generation, k.Private, ms(k.Created), ms(k.Activates))
	n, err := count(res, err)
	return n == 1, err
}

// ListSigningKeys returns every signing key.
func (s *DB) ListSigningKeys(ctx context.Context) ([]store.SigningKey, error) {
	rows, err := s.q.QueryContext(ctx, `SELECT id, alg, generation, private_key, created, activates FROM oidc_signing_keys ORDER BY alg, generation`)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	var list []store.SigningKey
	for rows.Next() {
		var k store.SigningKey
		var created, activates int64
		if err := rows.Scan(&k.ID, &k.Alg, &k.Generation, &k.Private, &created, &activates); err != nil {
			return nil, mapErr(err)
		}
		k.Created, k.Activates = fromMS(created), fromMS(activates)
		list = append(list, k)
	}
	return list, mapErr(rows.Err())
}

// DeleteSigningKey removes a key.
func (s *DB) DeleteSigningKey(ctx context.Context, id string) error {
	_, err := s.q.ExecContext(ctx, `DELETE FROM oidc_signing_keys WHERE id = $1`, id)
	return mapErr(err)
}

// AddOIDCSecret stores a named secret unless one exists.
func (s *DB) AddOIDCSecret(ctx context.Context, name string, value []byte) error {
	_, err := s.q.ExecContext(ctx, `INSERT INTO oidc_secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING`, name, value)
	return mapErr(err)
}

// GetOIDCSecret returns a named secret.
func (s *DB) GetOIDCSecret(ctx context.Context, name string) ([]byte, error) {
	var v []byte
	err := s.q.QueryRowContext(ctx, `SELECT value FROM oidc_secrets WHERE name = $1`, name).Scan(&v)
	return v, mapErr(err)
}

func join(l []string) string  { return strings.Join(l, " ") }
func split(s string) []string { return strings.Fields(s) }

// CreateOIDCAuthRequest inserts an authorization request.
func (s *DB) CreateOIDCAuthRequest(ctx context.Context, r store.OIDCAuthRequest) error {
	_, err := s.q.ExecContext(ctx, `INSERT INTO oidc_auth_requests (id, client_id, redirect_uri, scopes, state, nonce, code_challenge,
		prompt, max_age, login_hint, ui_locales, acr_values, created, expires)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
		r.ID, r.ClientID, r.RedirectURI, join(r.Scopes), r.State, r.Nonce, r.CodeChallenge,
		join(r.Prompt), r.MaxAge, r.LoginHint, join(r.UILocales), join(r.ACRValues), ms(r.Created), ms(r.Expires))
	return mapErr(err)
}

const authRequestColumns = `id, client_id, redirect_uri, scopes, state, nonce, code_challenge, prompt, max_age, login_hint,
	ui_locales, acr_values, created, expires, account_id, session_hash, auth_time, amr, code_hash, code_expires, redeemed, grant_id`

func scanAuthRequest(row interface{ Scan(...any) error }) (store.OIDCAuthRequest, error) {
	var r store.OIDCAuthRequest
	var scopes, prompt, locales, acr, amr string
	var created, expires, authTime, codeExpires, redeemed int64
	if err := row.Scan(&r.ID, &r.ClientID, &r.RedirectURI, &scopes, &r.State, &r.Nonce, &r.CodeChallenge, &prompt, &r.MaxAge, &r.LoginHint,
		&locales, &acr, &created, &expires, &r.AccountID, &r.SessionHash, &authTime, &amr, &r.CodeHash, &codeExpires, &redeemed, &r.GrantID); err != nil {
		return store.OIDCAuthRequest{}, mapErr(err)
	}
	r.Scopes, r.Prompt, r.UILocales, r.ACRValues, r.AMR = split(scopes), split(prompt), split(locales), split(acr), split(amr)
	r.Created, r.Expires, r.AuthTime, r.CodeExpires, r.Redeemed = fromMS(created), fromMS(expires), fromMS(authTime), fromMS(codeExpires), fromMS(redeemed)
	return r, nil
}

// GetOIDCAuthRequest returns an authorization request by id.
func (s *DB) GetOIDCAuthRequest(ctx context.Context, id string) (store.OIDCAuthRequest, error) {
	return scanAuthRequest(s.q.QueryRowContext(ctx, `SELECT `+authRequestColumns+` FROM oidc_auth_requests WHERE id = $1`, id))
}

// CompleteOIDCAuthRequest records the authentication once, with one
// conditional UPDATE.
func (s *DB) CompleteOIDCAuthRequest(ctx context.Context, id string, accountID int64, sessionHash []byte, authTime time.Time, amr []string, now time.Time) error {
	res, err := s.q.ExecContext(ctx, `UPDATE oidc_auth_requests SET account_id = $1, session_hash = $2, auth_time = $3, amr = $4
		WHERE id = $5 AND account_id = 0 AND expires > $6`, accountID, sessionHash, ms(authTime), join(amr), id, ms(now))
	return affected(res, err)
}

// DeleteOIDCAuthRequest removes an authorization request.
func (s *DB) DeleteOIDCAuthRequest(ctx context.Context, id string) error {
	_, err := s.q.ExecContext(ctx, `DELETE FROM oidc_auth_requests WHERE id = $1`, id)
	return mapErr(err)
}

// SetOIDCAuthCode gives a completed request its code, once.
func (s *DB) SetOIDCAuthCode(ctx context.Context, id string, codeHash []byte, expires time.Time) error {
	res, err := s.q.ExecContext(ctx, `UPDATE oidc_auth_requests SET code_hash = $1, code_expires = $2
		WHERE id = $3 AND account_id <> 0 AND code_hash IS NULL`, codeHash, ms(expires), id)
	return affected(res, err)
}

// GetOIDCAuthRequestByCode returns the request holding a code.
func (s *DB) GetOIDCAuthRequestByCode(ctx context.Context, codeHash []byte) (store.OIDCAuthRequest, error) {
	return scanAuthRequest(s.q.QueryRowContext(ctx, `SELECT `+authRequestColumns+` FROM oidc_auth_requests WHERE code_hash = $1`, codeHash))
}

// RedeemOIDCAuthCode exchanges a code for a grant and its tokens: the
// conditional UPDATE that marks the code redeemed is what makes it
// single-use (on PostgreSQL the second transaction waits on the row lock,
// then finds redeemed <> 0 and updates nothing).
func (s *DB) RedeemOIDCAuthCode(ctx context.Context, codeHash []byte, now time.Time, g *store.OIDCGrant, tokens []store.OIDCToken) error {
	return s.inTx(ctx, func(t *DB) error {
		res, err := t.q.ExecContext(ctx, `UPDATE oidc_auth_requests SET redeemed = $1 WHERE code_hash = $2 AND redeemed = 0 AND code_expires > $1`, ms(now), codeHash)
		if err := affected(res, err); err != nil {
			return err
		}
		if err := t.q.QueryRowContext(ctx, `INSERT INTO oidc_grants (client_id, account_id, session_hash, sid, scopes, auth_time, amr, created, expires)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
			g.ClientID, g.AccountID, g.SessionHash, g.SID, join(g.Scopes), ms(g.AuthTime), join(g.AMR), ms(g.Created), ms(g.Expires)).Scan(&g.ID); err != nil {
			return mapErr(err)
		}
		if _, err := t.q.ExecContext(ctx, `UPDATE oidc_auth_requests SET grant_id = $1 WHERE code_hash = $2`, g.ID, codeHash); err != nil {
			return mapErr(err)
		}
		return t.insertTokens(ctx, g.ID, tokens)
	})
}

func (s *DB) insertTokens(ctx context.Context, grantID int64, tokens []store.OIDCToken) error {
	for _, tk := range tokens {
		if _, err := s.q.ExecContext(ctx, `INSERT INTO oidc_tokens (hash, grant_id, kind, created, expires) VALUES ($1, $2, $3, $4, $5)`,
			tk.Hash, grantID, tk.Kind, ms(tk.Created), ms(tk.Expires)); err != nil {
			return mapErr(err)
		}
	}
	return nil
}

const grantColumns = `g.id, g.client_id, g.account_id, g.session_hash, g.sid, g.scopes, g.auth_time, g.amr, g.created, g.expires, g.revoked, g.logged_out`

func grantDest(g *store.OIDCGrant, v *[7]int64, scopes, amr *string) []any {
	return []any{&g.ID, &g.ClientID, &g.AccountID, &g.SessionHash, &g.SID, scopes, &v[0], amr, &v[1], &v[2], &v[3], &v[4]}
}

func fillGrant(g *store.OIDCGrant, v [7]int64, scopes, amr string) {
	g.Scopes, g.AMR = split(scopes), split(amr)
	g.AuthTime, g.Created, g.Expires, g.Revoked, g.LoggedOut = fromMS(v[0]), fromMS(v[1]), fromMS(v[2]), fromMS(v[3]), fromMS(v[4])
}

// tokenQuery reads a token, its grant and whether the grant's session
// lives, and the columns given from the tables joined.
func tokenQuery(columns, join string) string {
	return `SELECT ` + grantColumns + `, t.kind, t.created, t.expires, t.used, t.revoked,
			CASE WHEN EXISTS (SELECT 1 FROM sessions s WHERE s.id_hash = g.session_hash) THEN 1 ELSE 0 END` + columns + `
		FROM oidc_tokens t JOIN oidc_grants g ON g.id = t.grant_id` + join + ` WHERE t.hash = $1`
}

// claimsColumns and claimsJoin read an account's OIDCClaims (see
// claimsDest) beside the table aliased g that names it by account_id.
const (
	claimsColumns = `, a.id, a.type, a.identifier, a.name, a.lang, COALESCE(a.office_id, 0), COALESCE(o.name, '')`
	claimsJoin    = ` JOIN accounts a ON a.id = g.account_id LEFT JOIN offices o ON o.id = a.office_id`
)

func claimsDest(c *store.OIDCClaims) []any {
	return []any{&c.AccountID, &c.Type, &c.Identifier, &c.Name, &c.Lang, &c.OfficeID, &c.OfficeName}
}

// accessQuery reads an access token's OIDCAccess (see activeAccess) and
// the columns given, if the token may be used at $2 and its session was
// last seen after $3.
func accessQuery(columns, join string) string {
	return `SELECT g.client_id, g.account_id, g.scopes, g.amr, g.auth_time, t.created, t.expires` + columns + `
		FROM oidc_tokens t JOIN oidc_grants g ON g.id = t.grant_id` + join + `
		WHERE t.hash = $1 AND t.kind = '` + store.AccessToken + `' AND t.revoked = 0 AND g.revoked = 0 AND t.expires > $2
		AND EXISTS (SELECT 1 FROM sessions s WHERE s.id_hash = g.session_hash AND s.last_seen > $3)`
}

var (
	lookupTokenQuery  = tokenQuery("", "")
	activeAccessQuery = accessQuery("", "")
	activeClaimsQuery = accessQuery(claimsColumns, claimsJoin)
	// The same columns, with the account named directly.
	getClaimsQuery = `SELECT ` + strings.TrimPrefix(claimsColumns, ", ") + ` FROM accounts a LEFT JOIN offices o ON o.id = a.office_id WHERE a.id = $1`
)

// LookupOIDCToken returns a token, its grant and whether its session lives.
func (s *DB) LookupOIDCToken(ctx context.Context, hash []byte) (store.OIDCTokenInfo, error) {
	var info store.OIDCTokenInfo
	err := s.lookupOIDCToken(ctx, hash, &info, lookupTokenQuery)
	return info, err
}

// ActiveOIDCAccessToken returns what an access token usable at now grants.
func (s *DB) ActiveOIDCAccessToken(ctx context.Context, hash []byte, now time.Time, idle time.Duration) (store.OIDCAccess, error) {
	var a store.OIDCAccess
	err := s.activeAccess(ctx, hash, now, idle, &a, activeAccessQuery)
	return a, err
}

// ActiveOIDCAccessClaims is ActiveOIDCAccessToken joined to the account's claims.
func (s *DB) ActiveOIDCAccessClaims(ctx context.Context, hash []byte, now time.Time, idle time.Duration) (store.OIDCAccess, store.OIDCClaims, error) {
	var a store.OIDCAccess
	var c store.OIDCClaims
	if err := s.activeAccess(ctx, hash, now, idle, &a, activeClaimsQuery, claimsDest(&c)...); err != nil {
		return store.OIDCAccess{}, store.OIDCClaims{}, err
	}
	return a, c, nil
}

// activeAccess runs an accessQuery into a, and its further columns into extra.
func (s *DB) activeAccess(ctx context.Context, hash []byte, now time.Time, idle time.Duration, a *store.OIDCAccess, query string, extra ...any) error {
	var scopes, amr string
	var authTime, created, expires int64
	var seenAfter int64 // every session's last_seen is later
	if idle > 0 {
		seenAfter = ms(now.Add(-idle))
	}
	dest := append([]any{&a.ClientID, &a.AccountID, &scopes, &amr, &authTime, &created, &expires}, extra...)
	if err := s.q.QueryRowContext(ctx, query, hash, ms(now), seenAfter).Scan(dest...); err != nil {
		*a = store.OIDCAccess{}
		return mapErr(err)
	}
	a.Scopes, a.AMR = split(scopes), split(amr)
	a.AuthTime, a.Issued, a.Expires = fromMS(authTime), fromMS(created), fromMS(expires)
	return nil
}

// GetOIDCClaims reads an account's claims and its office's name.
func (s *DB) GetOIDCClaims(ctx context.Context, accountID int64) (store.OIDCClaims, error) {
	var c store.OIDCClaims
	if err := s.q.QueryRowContext(ctx, getClaimsQuery, accountID).Scan(claimsDest(&c)...); err != nil {
		return store.OIDCClaims{}, mapErr(err)
	}
	return c, nil
}

// lookupOIDCToken reads a token, its grant and whether its session lives
// into info, and the query's further columns (see tokenQuery) into extra.
func (s *DB) lookupOIDCToken(ctx context.Context, hash []byte, info *store.OIDCTokenInfo, query string, extra ...any) error {
	var v [7]int64
	var scopes, amr string
	var created, expires, used, revoked int64
	var alive int
	dest := append(grantDest(&info.Grant, &v, &scopes, &amr), &info.Token.Kind, &created, &expires, &used, &revoked, &alive)
	err := s.q.QueryRowContext(ctx, query, hash).Scan(append(dest, extra...)...)
	if err != nil {
		*info = store.OIDCTokenInfo{}
		return mapErr(err)
	}
	fillGrant(&info.Grant, v, scopes, amr)
	info.Token.Hash, info.Token.GrantID = hash, info.Grant.ID
	info.Token.Created, info.Token.Expires, info.Token.Used, info.Token.Revoked = fromMS(created), fromMS(expires), fromMS(used), fromMS(revoked)
	info.SessionExists = alive == 1
	return nil
}

// RotateOIDCRefreshToken uses a refresh token once and adds its successors.
func (s *DB) RotateOIDCRefreshToken(ctx context.Context, hash []byte, now time.Time, tokens []store.OIDCToken) error {
	return s.inTx(ctx, func(t *DB) error {
		var grantID int64
		err := t.q.QueryRowContext(ctx, `UPDATE oidc_tokens SET used = $1 WHERE hash = $2 AND kind = 'refresh' AND used = 0 AND revoked = 0
			RETURNING grant_id`, ms(now), hash).Scan(&grantID)
		if err != nil {
			return mapErr(err)
		}
		return t.insertTokens(ctx, grantID, tokens)
	})
}

// RevokeOIDCToken revokes one token.
func (s *DB) RevokeOIDCToken(ctx context.Context, hash []byte, now time.Time) error {
	res, err := s.q.ExecContext(ctx, `UPDATE oidc_tokens SET revoked = CASE WHEN revoked = 0 THEN $1 ELSE revoked END WHERE hash = $2`, ms(now), hash)
	return affected(res, err)
}

// RevokeOIDCGrant revokes a grant and so every token of it.
func (s *DB) RevokeOIDCGrant(ctx context.Context, grantID int64, now time.Time) error {
	res, err := s.q.ExecContext(ctx, `UPDATE oidc_grants SET revoked = CASE WHEN revoked = 0 THEN $1 ELSE revoked END WHERE id = $2`, ms(now), grantID)
	return affected(res, err)
}

// FindOIDCSession returns the session hash behind a sid.
func (s *DB) FindOIDCSession(ctx context.Context, sid string) ([]byte, error) {
	var h []byte
	err := s.q.QueryRowContext(ctx, `SELECT session_hash FROM oidc_grants WHERE sid = $1 LIMIT 1`, sid).Scan(&h)
	return h, mapErr(err)
}

// ClaimOIDCLogouts claims grants whose session ended, like ClaimMail claims
// the outbox: SKIP LOCKED on PostgreSQL, serialised writers on SQLite.
func (s *DB) ClaimOIDCLogouts(ctx context.Context, now time.Time, lease time.Duration, n int) ([]store.OIDCGrant, error) {
	var list []store.OIDCGrant
	err := s.inTx(ctx, func(t *DB) error {
		rows, err := t.q.QueryContext(ctx, `SELECT `+grantColumns+` FROM oidc_grants g
			WHERE g.logged_out = 0 AND g.leased_until <= $1
			AND NOT EXISTS (SELECT 1 FROM sessions s WHERE s.id_hash = g.session_hash)
			ORDER BY g.id LIMIT $2`+t.dialect.skipLock, ms(now), n)
		if err != nil {
			return mapErr(err)
		}
		defer rows.Close()
		for rows.Next() {
			var g store.OIDCGrant
			var v [7]int64
			var scopes, amr string
			if err := rows.Scan(grantDest(&g, &v, &scopes, &amr)...); err != nil {
				return mapErr(err)
			}
			fillGrant(&g, v, scopes, amr)
			list = append(list, g)
		}
		if err := rows.Err(); err != nil {
			return mapErr(err)
		}
		rows.Close()
		for i, g := range list {
			if _, err := t.q.ExecContext(ctx, `UPDATE oidc_grants SET leased_until = $1, revoked = CASE WHEN revoked = 0 THEN $2 ELSE revoked END WHERE id = $3`,
				ms(now.Add(lease)), ms(now), g.ID); err != nil {
				return mapErr(err)
			}
			if g.Revoked.IsZero() {
				list[i].Revoked = fromMS(ms(now))
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return list, nil
}

// RetryOIDCLogout leases a grant until its next attempt.
func (s *DB) RetryOIDCLogout(ctx context.Context, grantID int64, at time.Time) error {
	res, err := s.q.ExecContext(ctx, `UPDATE oidc_grants SET leased_until = $1 WHERE id = $2`, ms(at), grantID)
	return affected(res, err)
}

// FinishOIDCLogout marks a grant's logout done.
func (s *DB) FinishOIDCLogout(ctx context.Context, grantID int64, now time.Time) error {
	res, err := s.q.ExecContext(ctx, `UPDATE oidc_grants SET logged_out = $1 WHERE id = $2`, ms(now), grantID)
	return affected(res, err)
}

// DeleteOIDCBefore sweeps what expired before t.
func (s *DB) DeleteOIDCBefore(ctx context.Context, t time.Time) (int, error) {
	total := 0
	for _, q := range []string{
		`DELETE FROM oidc_auth_requests WHERE expires < $1 AND (code_expires = 0 OR code_expires < $1)`,
		`DELETE FROM oidc_tokens WHERE expires < $1`,
		`DELETE FROM oidc_grants WHERE expires < $1 AND logged_out <> 0`,
	} {
		res, err := s.q.ExecContext(ctx, q, ms(t))
		n, err := count(res, err)
		if err != nil {
			return total, err
		}
		total += n
	}
	return total, nil
}
