-- The breach register (issue [2.4], Art. 33/34): the content (description,
-- consequences, measures, the log of actions) is sealed under the breach's
-- own key (key_subject = id); plain holds the rest as JSON for the list.
CREATE TABLE breaches (
    id          UUID PRIMARY KEY,
    aware_at    BIGINT NOT NULL,
    state       TEXT NOT NULL,
    plain       TEXT NOT NULL,
    key_subject UUID,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    version     BIGINT NOT NULL,
    sealed      BYTEA NOT NULL
);
CREATE INDEX breaches_aware ON breaches (aware_at, id);
