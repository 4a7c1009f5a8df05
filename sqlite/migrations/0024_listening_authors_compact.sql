-- Social listening (issue [2.5]): an open window's author pseudonyms, one
-- row per author instead of one per author and aggregate row. row_ids is
-- the sorted set of the aggregate rows the author has been counted in so
-- far (8-byte ids keyed with the window's key, big-endian, concatenated);
-- a distinct-author count grows only for a row not yet in the set. Like
-- before, the rows go with the window when it closes.
DROP TABLE listening_authors;

CREATE TABLE listening_authors (
    window_id TEXT NOT NULL REFERENCES listening_windows (id) ON DELETE CASCADE,
    author    BLOB NOT NULL,
    topic_id  TEXT NOT NULL REFERENCES listening_topics (id) ON DELETE CASCADE,
    row_ids   BLOB NOT NULL,
    PRIMARY KEY (window_id, author)
) WITHOUT ROWID;

CREATE INDEX listening_authors_topic ON listening_authors (topic_id);
