-- Identity and access: second factor, single sign-on, token purposes, sessions,
-- recovery codes, login throttling and password reset links.

ALTER TABLE users ADD COLUMN mfa_enabled_at INTEGER;
ALTER TABLE users ADD COLUMN totp_secret TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN totp_last_step INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN external_issuer TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN external_subject TEXT NOT NULL DEFAULT '';
CREATE UNIQUE INDEX users_external ON users (external_issuer, external_subject) WHERE external_subject <> '';

-- Comma-separated purposes the token may declare.
ALTER TABLE api_tokens ADD COLUMN purposes TEXT NOT NULL DEFAULT '';

-- Server-side sessions; the cookie holds a secret, this table its SHA-256 hash.
CREATE TABLE sessions (
    id           TEXT PRIMARY KEY,
    hash         BLOB NOT NULL UNIQUE,
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    stage        TEXT NOT NULL,
    csrf         TEXT NOT NULL,
    mfa          BOOLEAN NOT NULL,
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

-- Single-use recovery codes of the second factor, as SHA-256 hashes.
CREATE TABLE recovery_codes (
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    hash    BLOB NOT NULL,
    used_at INTEGER,
    PRIMARY KEY (user_id, hash)
);

-- Failed sign-ins per account and per client address, for throttling.
CREATE TABLE login_failures (
    key      TEXT PRIMARY KEY,
    failures INTEGER NOT NULL,
    last_at  INTEGER NOT NULL
);

-- One-time password reset links, as SHA-256 hashes of their secrets.
CREATE TABLE password_resets (
    hash       BLOB PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER
);
CREATE INDEX password_resets_user ON password_resets (user_id);
