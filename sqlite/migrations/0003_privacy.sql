-- The privacy engine: provenance per field, restriction and objection,
-- a blind index for exact lookup, the suppression list, the consent ledger
-- and campaigns.

-- Provenance: a JSON list of records, each naming the fields it covers.
ALTER TABLE contacts ADD COLUMN provenance TEXT NOT NULL DEFAULT '[]';
UPDATE contacts SET provenance = json_array(json_object(
    'fields', json_array('given_name', 'family_name', 'emails', 'phones', 'postal_address', 'social_handles',
                         'organization', 'position', 'preferred_language'),
    'legal_basis', legal_basis, 'source', source, 'purpose', purpose,
    'collected_at', strftime('%Y-%m-%dT%H:%M:%fZ', created_at / 1000000.0, 'unixepoch'),
    'collected_by', collected_by));
ALTER TABLE contacts DROP COLUMN legal_basis;
ALTER TABLE contacts DROP COLUMN source;
ALTER TABLE contacts DROP COLUMN purpose;
ALTER TABLE contacts DROP COLUMN collected_by;
ALTER TABLE contacts ADD COLUMN restricted_at INTEGER;
ALTER TABLE contacts ADD COLUMN objected_at INTEGER;
ALTER TABLE contacts ADD COLUMN last_interaction_at INTEGER;
-- The kinds of identifiers the contact has ("email,phone,handle:mastodon"), so
-- that an audience sees who has an address without joining the lookup table.
ALTER TABLE contacts ADD COLUMN address_kinds TEXT NOT NULL DEFAULT '';
-- Covers a campaign audience's walk over all contacts, without their sealed fields.
CREATE INDEX contacts_audience ON contacts (id, restricted_at, objected_at, last_interaction_at, address_kinds);
UPDATE contacts SET last_interaction_at = (SELECT max(occurred_at) FROM interactions i WHERE i.contact_id = contacts.id);
ALTER TABLE interactions ADD COLUMN provenance TEXT NOT NULL DEFAULT '[]';
ALTER TABLE cases ADD COLUMN provenance TEXT NOT NULL DEFAULT '[]';

-- Lookup values become keyed hashes (a blind index); the gate rebuilds them
-- with its index key when this task is pending.
DELETE FROM contact_lookup;
CREATE TABLE maintenance (
    task       TEXT PRIMARY KEY,
    created_at INTEGER NOT NULL
);
INSERT INTO maintenance (task, created_at) SELECT 'reindex_lookup', 0 WHERE EXISTS (SELECT 1 FROM contacts);

-- Keyed hashes of the identifiers of people who objected (Art. 21). No
-- reference to a contact: the list outlives erasure.
CREATE TABLE suppressions (
    kind       TEXT NOT NULL,
    value      TEXT NOT NULL,
    scope      TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (kind, value, scope)
) WITHOUT ROWID;

-- The consent ledger: append-only proof events, and the state derived from them.
CREATE TABLE consent_events (
    id         TEXT PRIMARY KEY,
    contact_id TEXT NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    purpose    TEXT NOT NULL,
    channel    TEXT NOT NULL,
    action     TEXT NOT NULL,
    method     TEXT NOT NULL,
    text_hash  TEXT NOT NULL,
    ip         TEXT NOT NULL,
    actor      TEXT NOT NULL,
    at         INTEGER NOT NULL
);
CREATE INDEX consent_events_contact ON consent_events (contact_id, at);

-- Keyed by purpose and channel first: an audience reads one range in contact order.
CREATE TABLE consent_states (
    purpose    TEXT NOT NULL,
    channel    TEXT NOT NULL,
    contact_id TEXT NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    state      TEXT NOT NULL,
    changed_at INTEGER NOT NULL,
    PRIMARY KEY (purpose, channel, contact_id)
) WITHOUT ROWID;
CREATE INDEX consent_states_contact ON consent_states (contact_id);

-- Links sent to people: double opt-in confirmation (single use, expiring) and
-- withdrawal (one per person, purpose and channel). Only hashes are kept.
CREATE TABLE consent_links (
    hash       BLOB PRIMARY KEY,
    kind       TEXT NOT NULL,
    contact_id TEXT NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    purpose    TEXT NOT NULL,
    channel    TEXT NOT NULL,
    text_hash  TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER,
    used_at    INTEGER
);
CREATE INDEX consent_links_contact ON consent_links (contact_id);

CREATE TABLE campaigns (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    purpose    TEXT NOT NULL,
    channel    TEXT NOT NULL,
    content    TEXT NOT NULL,
    owner_id   TEXT REFERENCES users (id),
    sent_at    INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    version    INTEGER NOT NULL
);
