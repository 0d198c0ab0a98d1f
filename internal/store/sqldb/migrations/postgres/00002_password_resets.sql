-- +goose Up
-- Password-reset links (SPEC 2.5): only the token's hash is kept. A NULL
-- account_id is a decoy, written for a request that sends no e-mail so that
-- every request costs the same.
CREATE TABLE password_resets (
    token_hash BYTEA   PRIMARY KEY,
    account_id BIGINT  REFERENCES accounts (id) ON DELETE CASCADE,
    created    BIGINT  NOT NULL,
    expires    BIGINT  NOT NULL,
    tries_left INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX password_resets_by_account ON password_resets (account_id);
CREATE INDEX password_resets_by_expiry ON password_resets (expires);

-- +goose Down
DROP TABLE password_resets;
