-- +goose Up
-- Recovery codes (issue 11): ten per account, made when an authenticator is
-- linked. Only a hash of each is kept; a code is spent by one conditional
-- UPDATE (used = 0 → the time), so of two simultaneous uses one wins.
CREATE TABLE recovery_codes (
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    hash       BYTEA  NOT NULL,
    created    BIGINT NOT NULL,
    used       BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (account_id, hash)
);

-- The wizard keeps a chosen question on its record until the code links the
-- authenticator, so an initialisation that is cancelled or expires keeps
-- nothing; once linked, it keeps the new recovery codes, sealed, until the
-- success page has shown them once.
ALTER TABLE enrolments ADD COLUMN question_key TEXT NOT NULL DEFAULT '';
ALTER TABLE enrolments ADD COLUMN question_text TEXT NOT NULL DEFAULT '';
ALTER TABLE enrolments ADD COLUMN answer_hash TEXT NOT NULL DEFAULT '';
ALTER TABLE enrolments ADD COLUMN codes BYTEA;

-- "Ask my administrator" requests. kind is what the person lacks: 'totp'
-- (no device, no recovery code) or 'question' (forgot the answer).
CREATE TABLE help_requests (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id    BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    kind          TEXT   NOT NULL CHECK (kind IN ('totp', 'question')),
    message       TEXT   NOT NULL DEFAULT '',
    addr          TEXT   NOT NULL DEFAULT '',
    created       BIGINT NOT NULL,
    closed        BIGINT NOT NULL DEFAULT 0,
    closed_by     TEXT   NOT NULL DEFAULT '',
    closed_action TEXT   NOT NULL DEFAULT ''
);
CREATE INDEX help_requests_by_account ON help_requests (account_id, closed);
CREATE INDEX help_requests_by_created ON help_requests (closed, id);

-- +goose Down
DROP TABLE help_requests;
ALTER TABLE enrolments DROP COLUMN codes;
ALTER TABLE enrolments DROP COLUMN answer_hash;
ALTER TABLE enrolments DROP COLUMN question_text;
ALTER TABLE enrolments DROP COLUMN question_key;
DROP TABLE recovery_codes;
