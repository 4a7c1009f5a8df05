-- The audit trail: append-only entries in a hash chain, an index of the
-- objects they name, the chain's head, signed checkpoints and prunings.

CREATE TABLE audit_log (
    seq         BIGINT PRIMARY KEY,
    at          BIGINT NOT NULL,
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
    hash        BYTEA NOT NULL
);
CREATE INDEX audit_log_actor ON audit_log (actor, seq);
CREATE INDEX audit_log_at ON audit_log (at);

CREATE TABLE audit_objects (
    object_id TEXT NOT NULL,
    seq       BIGINT NOT NULL,
    PRIMARY KEY (object_id, seq)
);

CREATE TABLE audit_head (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    seq     BIGINT NOT NULL,
    hash    BYTEA NOT NULL,
    indexed BIGINT NOT NULL
);
INSERT INTO audit_head (id, seq, hash, indexed) VALUES (1, 0, decode(repeat('00', 32), 'hex'), 0);

CREATE TABLE audit_checkpoints (
    size      BIGINT PRIMARY KEY,
    at        BIGINT NOT NULL,
    root      BYTEA NOT NULL,
    chain     BYTEA NOT NULL,
    range     BYTEA NOT NULL,
    key_id    TEXT NOT NULL,
    signature BYTEA NOT NULL
);

CREATE TABLE audit_prunes (
    upto  BIGINT PRIMARY KEY,
    at    BIGINT NOT NULL,
    chain BYTEA NOT NULL,
    range BYTEA NOT NULL
);

-- The leaf hashes of pruned entries (no content): inclusion proofs of later
-- entries still need them.
CREATE TABLE audit_pruned_leaves (
    seq  BIGINT PRIMARY KEY,
    leaf BYTEA NOT NULL
);

-- Append-only by construction: the triggers refuse UPDATE, DELETE and
-- TRUNCATE, for every role but the table owner's superuser powers; the
-- README describes the grants that keep the application role from dropping
-- the triggers. Only entries up to a recorded pruning may be deleted.
CREATE FUNCTION tresor_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND TG_TABLE_NAME = 'audit_log' THEN
        IF OLD.seq <= (SELECT coalesce(max(upto), 0) FROM audit_prunes) THEN
            RETURN OLD;
        END IF;
    END IF;
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
END $$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION tresor_audit_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION tresor_audit_append_only();
CREATE TRIGGER audit_checkpoints_append_only BEFORE UPDATE OR DELETE ON audit_checkpoints
    FOR EACH ROW EXECUTE FUNCTION tresor_audit_append_only();
CREATE TRIGGER audit_checkpoints_no_truncate BEFORE TRUNCATE ON audit_checkpoints
    FOR EACH STATEMENT EXECUTE FUNCTION tresor_audit_append_only();
CREATE TRIGGER audit_prunes_append_only BEFORE UPDATE OR DELETE ON audit_prunes
    FOR EACH ROW EXECUTE FUNCTION tresor_audit_append_only();
CREATE TRIGGER audit_prunes_no_truncate BEFORE TRUNCATE ON audit_prunes
    FOR EACH STATEMENT EXECUTE FUNCTION tresor_audit_append_only();
