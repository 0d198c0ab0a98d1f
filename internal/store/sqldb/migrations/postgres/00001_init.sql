-- +goose Up
-- Times are Unix milliseconds (0 = never), so both backends store and compare them alike.
CREATE TABLE offices (
    id      BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name    TEXT    NOT NULL UNIQUE,
    created BIGINT  NOT NULL
);

CREATE TABLE accounts (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    type            TEXT    NOT NULL CHECK (type IN ('client', 'group', 'tiers')),
    identifier      TEXT    NOT NULL,
    name            TEXT    NOT NULL DEFAULT '',
    office_id       BIGINT  REFERENCES offices (id),
    role            TEXT    NOT NULL DEFAULT '' CHECK (role IN ('', 'office_admin', 'support')),
    lang            TEXT    NOT NULL DEFAULT 'fr',
    password_hash   TEXT    NOT NULL,
    question_key    TEXT    NOT NULL DEFAULT '',
    question_text   TEXT    NOT NULL DEFAULT '',
    answer_hash     TEXT    NOT NULL DEFAULT '',
    disabled        BOOLEAN NOT NULL DEFAULT FALSE,
    failed_attempts INTEGER NOT NULL DEFAULT 0,
    locked_until    BIGINT  NOT NULL DEFAULT 0,
    last_login      BIGINT  NOT NULL DEFAULT 0,
    created         BIGINT  NOT NULL,
    UNIQUE (type, identifier)
);
CREATE INDEX accounts_by_identifier ON accounts (identifier, id);
CREATE INDEX accounts_by_office ON accounts (office_id, identifier, id);

CREATE TABLE authenticators (
    account_id BIGINT PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    secret     BYTEA   NOT NULL,
    linked     BIGINT NOT NULL,
    last_step  BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE sessions (
    id_hash    BYTEA   PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    amr        TEXT   NOT NULL DEFAULT '',
    created    BIGINT NOT NULL,
    last_seen  BIGINT NOT NULL,
    last_otp   BIGINT NOT NULL DEFAULT 0,
    addr       TEXT   NOT NULL DEFAULT '',
    user_agent TEXT   NOT NULL DEFAULT ''
);
CREATE INDEX sessions_by_account ON sessions (account_id);
CREATE INDEX sessions_by_last_seen ON sessions (last_seen);

CREATE TABLE enrolments (
    id_hash    BYTEA    PRIMARY KEY,
    account_id BIGINT  NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    state      TEXT    NOT NULL,
    secret     BYTEA,
    tries_left INTEGER NOT NULL DEFAULT 0,
    created    BIGINT  NOT NULL,
    expires    BIGINT  NOT NULL
);
CREATE INDEX enrolments_by_expiry ON enrolments (expires);

CREATE TABLE address_failures (
    key          TEXT    PRIMARY KEY,
    window_start BIGINT  NOT NULL,
    count        INTEGER NOT NULL
);

-- Append-only: the store has no UPDATE or DELETE for it.
CREATE TABLE audit (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    time       BIGINT NOT NULL,
    actor_id   BIGINT NOT NULL DEFAULT 0,
    actor      TEXT   NOT NULL DEFAULT '',
    subject_id BIGINT NOT NULL DEFAULT 0,
    subject    TEXT   NOT NULL DEFAULT '',
    office_id  BIGINT NOT NULL DEFAULT 0,
    action     TEXT   NOT NULL,
    outcome    TEXT   NOT NULL,
    addr       TEXT   NOT NULL DEFAULT '',
    detail     TEXT   NOT NULL DEFAULT ''
);
CREATE INDEX audit_by_subject ON audit (subject_id, id);
CREATE INDEX audit_by_office ON audit (office_id, id);
CREATE INDEX audit_by_time ON audit (time);

CREATE TABLE mail_outbox (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind         TEXT    NOT NULL,
    to_name      TEXT    NOT NULL DEFAULT '',
    to_email     TEXT    NOT NULL,
    lang         TEXT    NOT NULL,
    subject      TEXT    NOT NULL,
    text_body    TEXT    NOT NULL,
    html_body    TEXT    NOT NULL DEFAULT '',
    created      BIGINT  NOT NULL,
    next_attempt BIGINT  NOT NULL,
    leased_until BIGINT  NOT NULL DEFAULT 0,
    attempts     INTEGER NOT NULL DEFAULT 0,
    sent         BIGINT  NOT NULL DEFAULT 0,
    failed       BOOLEAN NOT NULL DEFAULT FALSE,
    last_error   TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX mail_outbox_due ON mail_outbox (next_attempt) WHERE sent = 0 AND NOT failed;

-- +goose Down
DROP TABLE mail_outbox;
DROP TABLE audit;
DROP TABLE address_failures;
DROP TABLE enrolments;
DROP TABLE sessions;
DROP TABLE authenticators;
DROP TABLE accounts;
DROP TABLE offices;
