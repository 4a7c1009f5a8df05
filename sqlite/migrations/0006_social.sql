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
