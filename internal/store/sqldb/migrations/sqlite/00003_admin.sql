-- +goose Up
-- The administration console searches accounts by any substring of the
-- identifier or the name. A LIKE '%x%' cannot use a B-tree index, so with
-- 100,000 accounts every search would scan the table twice (page and count).
-- An FTS5 trigram index answers substring queries of 3 characters or more
-- from the index, case- and accent-insensitively. It is an external-content
-- table: it stores only the index, and the triggers below keep it in step
-- with accounts.
CREATE VIRTUAL TABLE accounts_search USING fts5(
    identifier, name,
    content = 'accounts', content_rowid = 'id',
    tokenize = 'trigram remove_diacritics 1'
);
INSERT INTO accounts_search (accounts_search) VALUES ('rebuild');

-- +goose StatementBegin
CREATE TRIGGER accounts_search_insert AFTER INSERT ON accounts BEGIN
    INSERT INTO accounts_search (rowid, identifier, name) VALUES (new.id, new.identifier, new.name);
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER accounts_search_delete AFTER DELETE ON accounts BEGIN
    INSERT INTO accounts_search (accounts_search, rowid, identifier, name) VALUES ('delete', old.id, old.identifier, old.name);
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER accounts_search_update AFTER UPDATE OF identifier, name ON accounts BEGIN
    INSERT INTO accounts_search (accounts_search, rowid, identifier, name) VALUES ('delete', old.id, old.identifier, old.name);
    INSERT INTO accounts_search (rowid, identifier, name) VALUES (new.id, new.identifier, new.name);
END;
-- +goose StatementEnd

-- The audit page lists the events of one account within a date range.
CREATE INDEX audit_by_subject_time ON audit (subject_id, time);

-- +goose Down
DROP INDEX audit_by_subject_time;
DROP TRIGGER accounts_search_update;
DROP TRIGGER accounts_search_delete;
DROP TRIGGER accounts_search_insert;
DROP TABLE accounts_search;
