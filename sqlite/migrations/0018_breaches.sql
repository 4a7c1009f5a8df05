-- The breach register (issue [2.4], Art. 33/34): the content (description,
-- consequences, measures, the log of actions) is sealed under the breach's
-- own key (key_subject = id); plain holds the rest as JSON for the list.
CREATE TABLE breaches (
    id          TEXT PRIMARY KEY,
    aware_at    INTEGER NOT NULL,
    state       TEXT NOT NULL,
    plain       TEXT NOT NULL,
    key_subject TEXT,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    version     INTEGER NOT NULL,
    sealed      BLOB NOT NULL
);
CREATE INDEX breaches_aware ON breaches (aware_at, id);
