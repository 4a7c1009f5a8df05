-- The compact form of audit entries (issue [2.6]). Entries written from now
-- on name their strings (actor, roles, purpose, action, object type,
-- categories, reason, client) by a number in audit_terms, written as decimal
-- text in the same columns, and their objects as a list of numbers in
-- `objects` (NULL for the entries written before, which keep their text).
-- The hash chain covers the strings the numbers stand for, so old and new
-- entries verify alike, and a changed number is a changed entry.

CREATE TABLE audit_terms (
    ref  INTEGER PRIMARY KEY,
    term TEXT NOT NULL UNIQUE
);

-- Object ids that are UUIDs, as their 16 bytes.
CREATE TABLE audit_ids (
    ref INTEGER PRIMARY KEY,
    id  BLOB NOT NULL UNIQUE
);

ALTER TABLE audit_log ADD COLUMN objects BLOB;

-- "Who accessed this contact?" for entries in the compact form: one row
-- per group of 16 objects (grp = ref >> 4) and block of 16,384 entries
-- (block = seq >> 14), holding n postings, each the uvarint of
-- (seq - block << 14) << 4 | ref & 15, in the order of seq; the object
-- index appends to the row. audit_objects keeps the rows of the older
-- entries and of object ids that are no UUIDs.
CREATE TABLE audit_refs (
    grp   INTEGER NOT NULL,
    block INTEGER NOT NULL,
    n     INTEGER NOT NULL,
    seqs  BLOB NOT NULL,
    PRIMARY KEY (grp, block)
) WITHOUT ROWID;

CREATE TRIGGER audit_terms_no_update BEFORE UPDATE ON audit_terms
BEGIN SELECT RAISE(ABORT, 'audit_terms is append-only'); END;
CREATE TRIGGER audit_terms_no_delete BEFORE DELETE ON audit_terms
BEGIN SELECT RAISE(ABORT, 'audit_terms is append-only'); END;
CREATE TRIGGER audit_ids_no_update BEFORE UPDATE ON audit_ids
BEGIN SELECT RAISE(ABORT, 'audit_ids is append-only'); END;
CREATE TRIGGER audit_ids_no_delete BEFORE DELETE ON audit_ids
BEGIN SELECT RAISE(ABORT, 'audit_ids is append-only'); END;
