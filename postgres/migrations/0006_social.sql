-- Imports and social networks: the information duty of Art. 14 GDPR for
-- data not collected from the person, and the company's channels.

CREATE TABLE notices (
    id         UUID PRIMARY KEY,
    contact_id UUID NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    source     TEXT NOT NULL,
    network    TEXT NOT NULL,
    import_id  TEXT NOT NULL,
    purpose    TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    due_at     BIGINT NOT NULL,
    sent_at    BIGINT,
    channel    TEXT NOT NULL
);
CREATE INDEX notices_open ON notices (sent_at, due_at);
CREATE INDEX notices_contact ON notices (contact_id);
