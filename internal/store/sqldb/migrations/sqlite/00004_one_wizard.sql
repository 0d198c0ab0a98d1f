-- +goose Up
-- An account has at most one open initialisation wizard: opening a new one
-- replaces the old, so opening many at once buys no extra security answers.
DELETE FROM enrolments WHERE id_hash NOT IN (
    SELECT id_hash FROM (
        SELECT id_hash, row_number() OVER (PARTITION BY account_id ORDER BY created DESC, id_hash) AS n FROM enrolments
    ) AS newest WHERE n = 1
);
CREATE UNIQUE INDEX enrolments_one_per_account ON enrolments (account_id);

-- +goose Down
DROP INDEX enrolments_one_per_account;
