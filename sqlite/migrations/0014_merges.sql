-- Merges of duplicate contacts (issue [2.3]): the tombstone of each absorbed
-- contact, so that its old id redirects to the survivor. Ids, a time and an
-- actor only; no reference constraint, as the survivor may later be erased.
CREATE TABLE merges (
    from_id   TEXT PRIMARY KEY,
    into_id   TEXT NOT NULL,
    merged_at INTEGER NOT NULL,
    actor     TEXT NOT NULL
);
CREATE INDEX merges_into ON merges (into_id);
