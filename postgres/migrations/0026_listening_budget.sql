-- Differential privacy of listening topics (issue [2.5], R10): a topic with
-- differential privacy on has a total privacy budget ε, and every trend read
-- spends a part of it. Both are kept in millionths of ε, so that spending is
-- exact integer arithmetic and "spent + ε <= budget" never rounds.
-- epsilon_budget 0 means: no differential privacy for the topic.
ALTER TABLE listening_topics ADD COLUMN epsilon_budget BIGINT NOT NULL DEFAULT 0;
ALTER TABLE listening_topics ADD COLUMN epsilon_spent BIGINT NOT NULL DEFAULT 0;

-- The answers released under differential privacy, per topic and query
-- (bucket width and range): an identical read within the reuse window gets
-- the same noisy answer again and spends nothing; fresh noise on every read
-- would let many reads average it away. Only noisy aggregates are kept.
CREATE TABLE listening_releases (
    topic_id    UUID NOT NULL REFERENCES listening_topics (id) ON DELETE CASCADE,
    query       TEXT NOT NULL,
    released_at BIGINT NOT NULL,
    body        TEXT NOT NULL,
    PRIMARY KEY (topic_id, query)
);
