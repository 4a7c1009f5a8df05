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

-- The seen posts and the aggregates are read and written by their primary
-- key only: stored in it (WITHOUT ROWID), each write changes one b-tree
-- instead of a table and its key index.
CREATE TABLE listening_seen_by_key (
    window_id TEXT NOT NULL REFERENCES listening_windows (id) ON DELETE CASCADE,
    topic_id  TEXT NOT NULL REFERENCES listening_topics (id) ON DELETE CASCADE,
    hash      BLOB NOT NULL,
    PRIMARY KEY (window_id, topic_id, hash)
) WITHOUT ROWID;
INSERT INTO listening_seen_by_key SELECT window_id, topic_id, hash FROM listening_seen;
DROP TABLE listening_seen;
ALTER TABLE listening_seen_by_key RENAME TO listening_seen;
CREATE INDEX listening_seen_topic ON listening_seen (topic_id);

CREATE TABLE listening_aggregates_by_key (
    topic_id    TEXT NOT NULL REFERENCES listening_topics (id) ON DELETE CASCADE,
    width       TEXT NOT NULL,
    start_at    INTEGER NOT NULL,
    network     TEXT NOT NULL,
    language    TEXT NOT NULL,
    kind        TEXT NOT NULL,
    term        TEXT NOT NULL,
    posts       INTEGER NOT NULL,
    authors     INTEGER NOT NULL,
    negative    INTEGER NOT NULL,
    neutral     INTEGER NOT NULL,
    positive    INTEGER NOT NULL,
    PRIMARY KEY (topic_id, width, start_at, network, language, kind, term)
) WITHOUT ROWID;
INSERT INTO listening_aggregates_by_key SELECT topic_id, width, start_at, network, language, kind, term,
    posts, authors, negative, neutral, positive FROM listening_aggregates;
DROP TABLE listening_aggregates;
ALTER TABLE listening_aggregates_by_key RENAME TO listening_aggregates;
