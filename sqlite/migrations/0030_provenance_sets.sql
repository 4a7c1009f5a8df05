-- Provenance kept once (issue [2.6]): the people of one import, or of one
-- form, share the same provenance — the fields, the source, the purpose, the
-- legal basis and its balancing note, when and by whom (an actor id, never
-- a person's data). A contact written from now on names its provenance by
-- reference, "@" and the id of a row here, instead of holding about 350
-- bytes of JSON; contacts written before keep their JSON. Rows are found by
-- the SHA-256 of the JSON and never change, so a reference always means the
-- same provenance.
CREATE TABLE provenance_sets (
    id     INTEGER PRIMARY KEY,
    digest BLOB NOT NULL UNIQUE,
    body   TEXT NOT NULL
);
