-- The history of imports (issue [2.2], page 8): one row per real import,
-- written when it starts and updated in the transaction of every batch it
-- stores, so that its counts are those of what is stored. It names no
-- person of the file.
CREATE TABLE imports (
    id          TEXT PRIMARY KEY,
    format      TEXT NOT NULL,
    network     TEXT NOT NULL,
    purpose     TEXT NOT NULL,
    legal_basis TEXT NOT NULL,
    file_name   TEXT NOT NULL,
    actor       TEXT NOT NULL,
    actor_name  TEXT NOT NULL,
    state       TEXT NOT NULL,
    error       TEXT NOT NULL,
    rows_read   INTEGER NOT NULL,
    created     INTEGER NOT NULL,
    duplicates  INTEGER NOT NULL,
    refused     INTEGER NOT NULL,
    reasons     TEXT NOT NULL,
    started_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    finished_at INTEGER
);
CREATE INDEX imports_purpose ON imports (purpose, id);
