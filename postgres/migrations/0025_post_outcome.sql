-- A post's identity on the network is chosen before the first attempt, so
-- that a retry after an attempt without an answer does not post twice; such
-- a post stays unconfirmed until the next run finds it or sends it again.
ALTER TABLE posts ADD COLUMN publish_key TEXT NOT NULL DEFAULT '';
ALTER TABLE posts ADD COLUMN attempts BIGINT NOT NULL DEFAULT 0;
ALTER TABLE posts ADD COLUMN attempted_at BIGINT;
ALTER TABLE posts ADD COLUMN unconfirmed TEXT NOT NULL DEFAULT '';
