-- Social listening (issue [2.5], R10). Only aggregates are kept beyond an
-- open aggregation window: no table holds a post, its text or its author.
-- While a window is open, listening_seen holds keyed hashes of the post
-- ids counted (against double counting after a restart) and
-- listening_authors keyed hashes of the authors per aggregate row (for
-- distinct-author counts); both go, with the window's key, when it closes.
CREATE TABLE listening_topics (
    id         TEXT PRIMARY KEY,
    purpose    TEXT NOT NULL,
    plain      TEXT NOT NULL,
    cursors    TEXT NOT NULL DEFAULT '{}',
    created_by TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    version    INTEGER NOT NULL
);

CREATE TABLE listening_aggregates (
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
);

CREATE TABLE listening_windows (
    id          TEXT PRIMARY KEY,
    start_at    INTEGER NOT NULL,
    end_at      INTEGER NOT NULL,
    key_version INTEGER NOT NULL,
    kek_version INTEGER NOT NULL,
    wrapped     BLOB NOT NULL,
    sealed      BLOB NOT NULL,
    UNIQUE (start_at)
);

CREATE TABLE listening_seen (
    window_id TEXT NOT NULL REFERENCES listening_windows (id) ON DELETE CASCADE,
    topic_id  TEXT NOT NULL REFERENCES listening_topics (id) ON DELETE CASCADE,
    hash      BLOB NOT NULL,
    PRIMARY KEY (window_id, topic_id, hash)
);

CREATE TABLE listening_authors (
    window_id TEXT NOT NULL REFERENCES listening_windows (id) ON DELETE CASCADE,
    topic_id  TEXT NOT NULL REFERENCES listening_topics (id) ON DELETE CASCADE,
    width     TEXT NOT NULL,
    start_at  INTEGER NOT NULL,
    network   TEXT NOT NULL,
    language  TEXT NOT NULL,
    kind      TEXT NOT NULL,
    term      TEXT NOT NULL,
    author    BLOB NOT NULL,
    PRIMARY KEY (window_id, topic_id, width, start_at, network, language, kind, term, author)
);

-- Posts kept out of every aggregate, by reason only (no topic, no time).
CREATE TABLE listening_dropped (
    reason TEXT PRIMARY KEY,
    n      INTEGER NOT NULL
);
