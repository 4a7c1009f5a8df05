-- The change feed (issue [2.3]): which contacts and organizations each
-- transaction wrote, so that every process on the database keeps its
-- in-memory search index current. Ids only; entries are pruned after an hour.
CREATE TABLE changes (
    seq           BIGSERIAL PRIMARY KEY,
    origin        TEXT    NOT NULL,
    at            BIGINT  NOT NULL,
    contacts      TEXT    NOT NULL,
    organizations TEXT    NOT NULL
);
CREATE INDEX changes_at ON changes (at);
