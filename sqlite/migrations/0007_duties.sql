-- Separation of duties (issue [2.1]): who issued a password reset link and
-- the reset a password came from; role grants that wait for a second
-- person; and the epoch every change that withdraws access moves on.

ALTER TABLE password_resets ADD COLUMN ref TEXT NOT NULL DEFAULT '';
ALTER TABLE password_resets ADD COLUMN issued_by TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN password_from TEXT NOT NULL DEFAULT '';

-- Grants of roles that reach personal data, approved by a second person.
CREATE TABLE role_grants (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    roles        TEXT NOT NULL,
    state        TEXT NOT NULL,
    requested_by TEXT NOT NULL,
    requested_at INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    decided_by   TEXT NOT NULL DEFAULT '',
    decided_at   INTEGER
);
CREATE INDEX role_grants_state ON role_grants (state, id);
CREATE INDEX role_grants_user ON role_grants (user_id);

-- One row: a number that grows with every revoked token, disabled user or
-- changed roles, read with each cached credential so that every process on
-- this database (the server, the CLI, other servers) notices at once.
CREATE TABLE auth_epoch (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    epoch INTEGER NOT NULL
);
INSERT INTO auth_epoch (id, epoch) VALUES (1, 0);
