-- Merges of duplicate contacts (issue [2.3]): the tombstone of each absorbed
-- contact, so that its old id redirects to the survivor. Ids, a time and an
-- actor only; no reference constraint, as the survivor may later be erased.
CREATE TABLE merges (
    from_id   UUID PRIMARY KEY,
    into_id   UUID NOT NULL,
    merged_at BIGINT NOT NULL,
    actor     TEXT NOT NULL
);
CREATE INDEX merges_into ON merges (into_id);
