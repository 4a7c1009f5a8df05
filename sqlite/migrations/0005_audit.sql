-- The audit trail: append-only entries in a hash chain, an index of the
-- objects they name, the chain's head, signed checkpoints and prunings.

CREATE TABLE audit_log (
    seq         INTEGER PRIMARY KEY,
    at          INTEGER NOT NULL,
    actor       TEXT NOT NULL,
    roles       TEXT NOT NULL,
    purpose     TEXT NOT NULL,
    action      TEXT NOT NULL,
    object_type TEXT NOT NULL,
    object_ids  TEXT NOT NULL,
    categories  TEXT NOT NULL,
    decision    TEXT NOT NULL,
    reason      TEXT NOT NULL,
    request_id  TEXT NOT NULL,
    client      TEXT NOT NULL,
    detail      TEXT NOT NULL,
    hash        BLOB NOT NULL
);
CREATE INDEX audit_log_actor ON audit_log (actor, seq);
CREATE INDEX audit_log_at ON audit_log (at);

-- "Who accessed this contact?": one row per object an entry names. It is
-- derived from the entries and written behind them, in larger groups
-- (audit_head.indexed says how far); the entries alone are the evidence.
CREATE TABLE audit_objects (
    object_id TEXT NOT NULL,
    seq       INTEGER NOT NULL,
    PRIMARY KEY (object_id, seq)
) WITHOUT ROWID;

CREATE TABLE audit_head (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    seq     INTEGER NOT NULL,
    hash    BLOB NOT NULL,
    indexed INTEGER NOT NULL
);
INSERT INTO audit_head (id, seq, hash, indexed) VALUES (1, 0, zeroblob(32), 0);

CREATE TABLE audit_checkpoints (
    size      INTEGER PRIMARY KEY,
    at        INTEGER NOT NULL,
    root      BLOB NOT NULL,
    chain     BLOB NOT NULL,
    range     BLOB NOT NULL,
    key_id    TEXT NOT NULL,
    signature BLOB NOT NULL
);

CREATE TABLE audit_prunes (
    upto  INTEGER PRIMARY KEY,
    at    INTEGER NOT NULL,
    chain BLOB NOT NULL,
    range BLOB NOT NULL
);

-- The leaf hashes of pruned entries (no content): inclusion proofs of later
-- entries still need them.
CREATE TABLE audit_pruned_leaves (
    seq  INTEGER PRIMARY KEY,
    leaf BLOB NOT NULL
);

-- Append-only by construction: no update, no delete of entries — except the
-- oldest ones, up to a recorded pruning (the audit retention period).
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
WHEN OLD.seq > (SELECT coalesce(max(upto), 0) FROM audit_prunes)
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_checkpoints_no_update BEFORE UPDATE ON audit_checkpoints
BEGIN SELECT RAISE(ABORT, 'audit_checkpoints is append-only'); END;
CREATE TRIGGER audit_checkpoints_no_delete BEFORE DELETE ON audit_checkpoints
BEGIN SELECT RAISE(ABORT, 'audit_checkpoints is append-only'); END;
CREATE TRIGGER audit_prunes_no_change BEFORE UPDATE ON audit_prunes
BEGIN SELECT RAISE(ABORT, 'audit_prunes is append-only'); END;
CREATE TRIGGER audit_prunes_no_delete BEFORE DELETE ON audit_prunes
BEGIN SELECT RAISE(ABORT, 'audit_prunes is append-only'); END;
