-- Exports answering requests of access and portability (issue [2.4] §1),
-- waiting for their one download. The zip is sealed under the export's own
-- data key (key_subject = id), which is deleted with the row after the
-- download or after expires_at. The link's secret is kept only as a hash.
CREATE TABLE subject_exports (
    id          TEXT PRIMARY KEY,
    request_id  TEXT NOT NULL,
    token_hash  BLOB NOT NULL UNIQUE,
    language    TEXT NOT NULL,
    key_subject TEXT,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    sealed      BLOB NOT NULL
);
CREATE INDEX subject_exports_expires ON subject_exports (expires_at);
