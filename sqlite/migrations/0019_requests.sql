-- The register of requests of data subjects (issue [2.4]). Who asked, the
-- contacts concerned, the reasons and the history are sealed under the
-- request's own key (key_subject = id); kind, channel, days and state stay
-- plain so the DPO's lists sort and filter by deadline. received_at and due
-- are days, YYYY-MM-DD, which sort as text.
CREATE TABLE data_requests (
    id          TEXT PRIMARY KEY,
    kind        TEXT NOT NULL,
    channel     TEXT NOT NULL,
    received_at TEXT NOT NULL,
    state       TEXT NOT NULL,
    due         TEXT NOT NULL,
    extended    INTEGER NOT NULL,
    key_subject TEXT,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    version     INTEGER NOT NULL,
    sealed      BLOB NOT NULL
);
CREATE INDEX data_requests_due ON data_requests (due, id);
CREATE INDEX data_requests_state ON data_requests (state, due);
