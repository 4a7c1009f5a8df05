-- Imports claim the identifiers of the people they create (issue [2.7]).
-- Two imports of the same people at the same moment, on two servers, each
-- check for stored duplicates inside their transaction, and neither sees
-- what the other has not committed yet. A claimed lookup key is unique among
-- claimed keys: the second import's insert waits for the first transaction
-- and fails if it committed; the import then runs the batch again and finds
-- the people as duplicates. Only imports claim: contacts created by hand may
-- share an identifier (the duplicates review lists them), and a rewrite of a
-- contact's keys (an edit, a merge, a new blind-index key) leaves them
-- unclaimed, the contact being committed by then.
ALTER TABLE contact_lookup ADD COLUMN claimed INTEGER NOT NULL DEFAULT 0;
CREATE UNIQUE INDEX contact_lookup_claimed ON contact_lookup (kind, value) WHERE claimed = 1;
