-- Imports and social networks: the information duty of Art. 14 GDPR for
-- data not collected from the person, and the company's channels.

CREATE TABLE notices (
    id         TEXT PRIMARY KEY,
    contact_id TEXT NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    source     TEXT NOT NULL,
    network    TEXT NOT NULL,
    import_id  TEXT NOT NULL,
    purpose    TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    due_at     INTEGER NOT NULL,
    sent_at    INTEGER,
    channel    TEXT NOT NULL
);
CREATE INDEX notices_open ON notices (sent_at, due_at);
CREATE INDEX notices_contact ON notices (contact_id);

-- The company's accounts on social networks. The credentials are sealed
-- under the channel's own data key.
CREATE TABLE channels (
    id           TEXT PRIMARY KEY,
    network      TEXT NOT NULL,
    name         TEXT NOT NULL,
    account      TEXT NOT NULL,
    credentials  BLOB NOT NULL,
    inbox_cursor TEXT NOT NULL,
    last_error   TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    version      INTEGER NOT NULL
);

-- Posts of the company on its channels, published at once or when scheduled.
CREATE TABLE posts (
    id           TEXT PRIMARY KEY,
    channel_id   TEXT NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    text         TEXT NOT NULL,
    publish_at   INTEGER NOT NULL,
    published_at INTEGER,
    remote_id    TEXT NOT NULL,
    url          TEXT NOT NULL,
    error        TEXT NOT NULL,
    created_by   TEXT NOT NULL,
    created_at   INTEGER NOT NULL
);
CREATE INDEX posts_due ON posts (published_at, publish_at);
