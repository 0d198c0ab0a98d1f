-- +goose Up
-- The OpenID Connect provider (SPEC 5). Codes and tokens are stored only as
-- SHA-256 hashes; private keys only sealed. Times are Unix milliseconds.
CREATE TABLE oidc_signing_keys (
    id          TEXT    PRIMARY KEY,
    alg         TEXT    NOT NULL CHECK (alg IN ('RS256', 'ES256')),
    generation  INTEGER NOT NULL,
    private_key BLOB    NOT NULL,
    created     BIGINT  NOT NULL,
    activates   BIGINT  NOT NULL,
    UNIQUE (alg, generation)
);

CREATE TABLE oidc_secrets (
    name  TEXT  PRIMARY KEY,
    value BLOB  NOT NULL
);

CREATE TABLE oidc_auth_requests (
    id             TEXT    PRIMARY KEY,
    client_id      TEXT    NOT NULL,
    redirect_uri   TEXT    NOT NULL,
    scopes         TEXT    NOT NULL DEFAULT '',
    state          TEXT    NOT NULL DEFAULT '',
    nonce          TEXT    NOT NULL DEFAULT '',
    code_challenge TEXT    NOT NULL DEFAULT '',
    prompt         TEXT    NOT NULL DEFAULT '',
    max_age        BIGINT  NOT NULL DEFAULT -1,
    login_hint     TEXT    NOT NULL DEFAULT '',
    ui_locales     TEXT    NOT NULL DEFAULT '',
    acr_values     TEXT    NOT NULL DEFAULT '',
    created        BIGINT  NOT NULL,
    expires        BIGINT  NOT NULL,
    account_id     BIGINT  NOT NULL DEFAULT 0,
    session_hash   BLOB ,
    auth_time      BIGINT  NOT NULL DEFAULT 0,
    amr            TEXT    NOT NULL DEFAULT '',
    code_hash      BLOB    UNIQUE,
    code_expires   BIGINT  NOT NULL DEFAULT 0,
    redeemed       BIGINT  NOT NULL DEFAULT 0,
    grant_id       BIGINT  NOT NULL DEFAULT 0
);
CREATE INDEX oidc_auth_requests_by_expiry ON oidc_auth_requests (expires);

CREATE TABLE oidc_grants (
    id           INTEGER PRIMARY KEY,
    client_id    TEXT   NOT NULL,
    account_id   BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    session_hash BLOB   NOT NULL,
    sid          TEXT   NOT NULL,
    scopes       TEXT   NOT NULL DEFAULT '',
    auth_time    BIGINT NOT NULL,
    amr          TEXT   NOT NULL DEFAULT '',
    created      BIGINT NOT NULL,
    expires      BIGINT NOT NULL,
    revoked      BIGINT NOT NULL DEFAULT 0,
    logged_out   BIGINT NOT NULL DEFAULT 0,
    leased_until BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX oidc_grants_by_sid ON oidc_grants (sid);
CREATE INDEX oidc_grants_pending_logout ON oidc_grants (id) WHERE logged_out = 0;

CREATE TABLE oidc_tokens (
    hash     BLOB   PRIMARY KEY,
    grant_id BIGINT NOT NULL REFERENCES oidc_grants (id) ON DELETE CASCADE,
    kind     TEXT   NOT NULL CHECK (kind IN ('access', 'refresh')),
    created  BIGINT NOT NULL,
    expires  BIGINT NOT NULL,
    used     BIGINT NOT NULL DEFAULT 0,
    revoked  BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX oidc_tokens_by_grant ON oidc_tokens (grant_id);
CREATE INDEX oidc_tokens_by_expiry ON oidc_tokens (expires);

-- +goose Down
DROP TABLE oidc_tokens;
DROP TABLE oidc_grants;
DROP TABLE oidc_auth_requests;
DROP TABLE oidc_secrets;
DROP TABLE oidc_signing_keys;
