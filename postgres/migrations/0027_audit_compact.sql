-- The compact form of audit entries (issue [2.6]). Entries written from now
-- on name their strings (actor, roles, purpose, action, object type,
-- categories, reason, client) by a number in audit_terms, written as decimal
-- text in the same columns, and their objects as a list of numbers in
-- `objects` (NULL for the entries written before, which keep their text).
-- The hash chain covers the strings the numbers stand for, so old and new
-- entries verify alike, and a changed number is a changed entry.

CREATE TABLE audit_terms (
    ref  BIGSERIAL PRIMARY KEY,
    term TEXT NOT NULL UNIQUE
);

-- Object ids that are UUIDs, as their 16 bytes.
CREATE TABLE audit_ids (
    ref BIGSERIAL PRIMARY KEY,
    id  BYTEA NOT NULL UNIQUE
);

ALTER TABLE audit_log ADD COLUMN objects BYTEA;

-- "Who accessed this contact?" for entries in the compact form: one row
-- per group of 16 objects (grp = ref >> 4) and block of 16,384 entries
-- (block = seq >> 14), holding n postings, each the uvarint of
-- (seq - block << 14) << 4 | ref & 15, in the order of seq; the object
-- index appends to the row. audit_objects keeps the rows of the older
-- entries and of object ids that are no UUIDs.
CREATE TABLE audit_refs (
    grp   BIGINT NOT NULL,
    block BIGINT NOT NULL,
    n     BIGINT NOT NULL,
    seqs  BYTEA NOT NULL,
    PRIMARY KEY (grp, block)
) WITH (fillfactor = 50);
-- Room in each page for the rows' next versions: an append rewrites the
-- row, and with the key unchanged PostgreSQL keeps the new version on the
-- same page (HOT) and prunes the old ones there, without a VACUUM.

CREATE TRIGGER audit_terms_append_only BEFORE UPDATE OR DELETE ON audit_terms
    FOR EACH ROW EXECUTE FUNCTION tresor_audit_append_only();
CREATE TRIGGER audit_terms_no_truncate BEFORE TRUNCATE ON audit_terms
    FOR EACH STATEMENT EXECUTE FUNCTION tresor_audit_append_only();
CREATE TRIGGER audit_ids_append_only BEFORE UPDATE OR DELETE ON audit_ids
    FOR EACH ROW EXECUTE FUNCTION tresor_audit_append_only();
CREATE TRIGGER audit_ids_no_truncate BEFORE TRUNCATE ON audit_ids
    FOR EACH STATEMENT EXECUTE FUNCTION tresor_audit_append_only();
