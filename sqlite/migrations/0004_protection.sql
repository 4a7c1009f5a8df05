-- Protection at rest: per-person data keys wrapped by a key-encryption key
-- (KEK) that lives outside the database, erasure with a journal, legal
-- holds, archiving and retention.

-- A check value per KEK version: a later start proves it was given the same key.
CREATE TABLE kek_versions (
    version     INTEGER PRIMARY KEY,
    check_value BLOB NOT NULL,
    created_at  INTEGER NOT NULL
);

-- One data key per subject (a contact, or a record of no contact), only wrapped.
CREATE TABLE data_keys (
    subject     TEXT PRIMARY KEY,
    version     INTEGER NOT NULL,
    kek_version INTEGER NOT NULL,
    wrapped     BLOB NOT NULL,
    created_at  INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX data_keys_kek ON data_keys (kek_version, subject);

-- Whose data key seals a record's content.
ALTER TABLE interactions ADD COLUMN key_subject TEXT;
ALTER TABLE cases ADD COLUMN key_subject TEXT;

-- Statutory retention (HGB §257, AO §147): the class of a record and the day it may go.
ALTER TABLE interactions ADD COLUMN retention_class TEXT NOT NULL DEFAULT '';
ALTER TABLE interactions ADD COLUMN retain_until INTEGER;

-- Archiving: a closed customer relation is read-only and seen only by the dpo.
ALTER TABLE contacts ADD COLUMN archived_at INTEGER;
ALTER TABLE interactions ADD COLUMN archived_at INTEGER;
ALTER TABLE cases ADD COLUMN archived_at INTEGER;
ALTER TABLE deals ADD COLUMN archived_at INTEGER;

CREATE TABLE legal_holds (
    id          TEXT PRIMARY KEY,
    contact_id  TEXT NOT NULL REFERENCES contacts (id),
    reason      TEXT NOT NULL,
    placed_by   TEXT NOT NULL,
    placed_at   INTEGER NOT NULL,
    released_by TEXT,
    released_at INTEGER
);
CREATE INDEX legal_holds_contact ON legal_holds (contact_id, released_at);

-- The erasure journal; each row is also the tombstone of an erased contact.
-- It holds no personal data: ids, times, who, why and what went.
CREATE TABLE erasures (
    contact_id TEXT PRIMARY KEY,
    erased_at  INTEGER NOT NULL,
    actor      TEXT NOT NULL,
    origin     TEXT NOT NULL,
    reason     TEXT NOT NULL,
    records    TEXT NOT NULL
);

CREATE INDEX erasures_at ON erasures (erased_at, contact_id);

CREATE TABLE retention_runs (
    id          TEXT PRIMARY KEY,
    started_at  INTEGER NOT NULL,
    finished_at INTEGER NOT NULL,
    dry_run     INTEGER NOT NULL,
    report      TEXT NOT NULL
);

-- Existing records are sealed with data keys by the gate when this task is pending.
INSERT INTO maintenance (task, created_at) SELECT 'seal', 0 WHERE EXISTS (SELECT 1 FROM contacts)
    OR EXISTS (SELECT 1 FROM interactions) OR EXISTS (SELECT 1 FROM cases) OR EXISTS (SELECT 1 FROM users WHERE totp_secret <> '')
    OR EXISTS (SELECT 1 FROM consent_events WHERE ip <> '');
