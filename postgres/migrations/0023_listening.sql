-- Social listening (issue [2.5], R10). Only aggregates are kept beyond an
-- open aggregation window: no table holds a post, its text or its author.
-- While a window is open, listening_seen holds keyed hashes of the post
-- ids counted (against double counting after a restart) and
-- listening_authors keyed hashes of the authors per aggregate row (for
-- distinct-author counts); both go, with the window's key, when it closes.
CREATE TABLE listening_topics (
    id         UUID PRIMARY KEY,
    purpose    TEXT NOT NULL,
    plain      TEXT NOT NULL,
    cursors    TEXT NOT NULL DEFAULT '{}',
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    version    BIGINT NOT NULL
);

CREATE TABLE listening_aggregates (
    topic_id    UUID NOT NULL REFERENCES listening_topics (id) ON DELETE CASCADE,
    width       TEXT NOT NULL,
    start_at    BIGINT NOT NULL,
    network     TEXT NOT NULL,
    language    TEXT NOT NULL,
    kind        TEXT NOT NULL,
    term        TEXT NOT NULL,
    posts       BIGINT NOT NULL,
    authors     BIGINT NOT NULL,
    negative    BIGINT NOT NULL,
    neutral     BIGINT NOT NULL,
    positive    BIGINT NOT NULL,
    PRIMARY KEY (topic_id, width, start_at, network, language, kind, term)
);

CREATE TABLE listening_windows (
    id          UUID PRIMARY KEY,
    start_at    BIGINT NOT NULL,
    end_at      BIGINT NOT NULL,
    key_version BIGINT NOT NULL,
    kek_version BIGINT NOT NULL,
    wrapped     BYTEA NOT NULL,
    sealed      BYTEA NOT NULL,
    UNIQUE (start_at)
);

CREATE TABLE listening_seen (
    window_id UUID NOT NULL REFERENCES listening_windows (id) ON DELETE CASCADE,
    topic_id  UUID NOT NULL REFERENCES listening_topics (id) ON DELETE CASCADE,
    hash      BYTEA NOT NULL,
    PRIMARY KEY (window_id, topic_id, hash)
);

CREATE TABLE listening_authors (
    window_id UUID NOT NULL REFERENCES listening_windows (id) ON DELETE CASCADE,
    topic_id  UUID NOT NULL REFERENCES listening_topics (id) ON DELETE CASCADE,
    width     TEXT NOT NULL,
    start_at  BIGINT NOT NULL,
    network   TEXT NOT NULL,
    language  TEXT NOT NULL,
    kind      TEXT NOT NULL,
    term      TEXT NOT NULL,
    author    BYTEA NOT NULL,
    PRIMARY KEY (window_id, topic_id, width, start_at, network, language, kind, term, author)
);

-- Posts kept out of every aggregate, by reason only (no topic, no time).
CREATE TABLE listening_dropped (
    reason TEXT PRIMARY KEY,
    n      BIGINT NOT NULL
);
