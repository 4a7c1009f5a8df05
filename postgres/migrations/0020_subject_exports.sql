-- Exports answering requests of access and portability (issue [2.4] §1),
-- waiting for their one download. The zip is sealed under the export's own
-- data key (key_subject = id), which is deleted with the row after the
-- download or after expires_at. The link's secret is kept only as a hash.
CREATE TABLE subject_exports (
    id          UUID PRIMARY KEY,
    request_id  UUID NOT NULL,
    token_hash  BYTEA NOT NULL UNIQUE,
    language    TEXT NOT NULL,
    key_subject UUID,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    sealed      BYTEA NOT NULL
);
CREATE INDEX subject_exports_expires ON subject_exports (expires_at);
