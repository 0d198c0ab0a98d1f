-- +goose Up
-- The administration console searches accounts by any substring of the
-- identifier or the name (LIKE '%x%'), which a B-tree index cannot answer.
-- pg_trgm's GIN indexes can. The extension is "trusted" since PostgreSQL 13
-- (a database owner may create it), but a server may lack it or a role may
-- lack the right: then the search still works, by scanning, and the
-- migration says so instead of refusing to start.
-- +goose StatementBegin
DO $$
BEGIN
    CREATE EXTENSION IF NOT EXISTS pg_trgm;
    CREATE INDEX accounts_identifier_trgm ON accounts USING gin (identifier gin_trgm_ops);
    CREATE INDEX accounts_name_trgm ON accounts USING gin (lower(name) gin_trgm_ops);
EXCEPTION WHEN OTHERS THEN
    RAISE NOTICE 'pg_trgm unavailable (%): account search will scan the table', SQLERRM;
END
$$;
-- +goose StatementEnd

-- The audit page lists the events of one account within a date range.
CREATE INDEX audit_by_subject_time ON audit (subject_id, time);

-- +goose Down
DROP INDEX audit_by_subject_time;
DROP INDEX IF EXISTS accounts_name_trgm;
DROP INDEX IF EXISTS accounts_identifier_trgm;
