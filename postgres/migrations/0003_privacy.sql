-- The privacy engine: provenance per field, restriction and objection,
-- a blind index for exact lookup, the suppression list, the consent ledger
-- and campaigns. The same tables as the SQLite schema.

ALTER TABLE contacts ADD COLUMN provenance TEXT NOT NULL DEFAULT '[]';
UPDATE contacts SET provenance = json_build_array(json_build_object(
    'fields', json_build_array('given_name', 'family_name', 'emails', 'phones', 'postal_address', 'social_handles',
                               'organization', 'position', 'preferred_language'),
    'legal_basis', legal_basis, 'source', source, 'purpose', purpose,
    'collected_at', to_char(to_timestamp(created_at / 1000000.0) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
    'collected_by', collected_by))::TEXT;
ALTER TABLE contacts DROP COLUMN legal_basis;
ALTER TABLE contacts DROP COLUMN source;
ALTER TABLE contacts DROP COLUMN purpose;
ALTER TABLE contacts DROP COLUMN collected_by;
ALTER TABLE contacts ADD COLUMN restricted_at BIGINT;
ALTER TABLE contacts ADD COLUMN objected_at BIGINT;
ALTER TABLE contacts ADD COLUMN last_interaction_at BIGINT;
ALTER TABLE contacts ADD COLUMN address_kinds TEXT NOT NULL DEFAULT '';
-- Covers a campaign audience's walk over all contacts, without their sealed fields.
CREATE INDEX contacts_audience ON contacts (id, restricted_at, objected_at, last_interaction_at, address_kinds);
UPDATE contacts SET last_interaction_at = (SELECT max(occurred_at) FROM interactions i WHERE i.contact_id = contacts.id);
ALTER TABLE interactions ADD COLUMN provenance TEXT NOT NULL DEFAULT '[]';
ALTER TABLE cases ADD COLUMN provenance TEXT NOT NULL DEFAULT '[]';

DELETE FROM contact_lookup;
CREATE TABLE maintenance (
    task       TEXT PRIMARY KEY,
    created_at BIGINT NOT NULL
);
INSERT INTO maintenance (task, created_at) SELECT 'reindex_lookup', 0 WHERE EXISTS (SELECT 1 FROM contacts);

CREATE TABLE suppressions (
    kind       TEXT NOT NULL,
    value      TEXT NOT NULL,
    scope      TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (kind, value, scope)
);

CREATE TABLE consent_events (
    id         UUID PRIMARY KEY,
    contact_id UUID NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    purpose    TEXT NOT NULL,
    channel    TEXT NOT NULL,
    action     TEXT NOT NULL,
    method     TEXT NOT NULL,
    text_hash  TEXT NOT NULL,
    ip         TEXT NOT NULL,
    actor      TEXT NOT NULL,
    at         BIGINT NOT NULL
);
CREATE INDEX consent_events_contact ON consent_events (contact_id, at);

-- Keyed by purpose and channel first: an audience reads one range in contact order.
CREATE TABLE consent_states (
    purpose    TEXT NOT NULL,
    channel    TEXT NOT NULL,
    contact_id UUID NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    state      TEXT NOT NULL,
    changed_at BIGINT NOT NULL,
    PRIMARY KEY (purpose, channel, contact_id)
);
CREATE INDEX consent_states_contact ON consent_states (contact_id);

CREATE TABLE consent_links (
    hash       BYTEA PRIMARY KEY,
    kind       TEXT NOT NULL,
    contact_id UUID NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    purpose    TEXT NOT NULL,
    channel    TEXT NOT NULL,
    text_hash  TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT,
    used_at    BIGINT
);
CREATE INDEX consent_links_contact ON consent_links (contact_id);

CREATE TABLE campaigns (
    id         UUID PRIMARY KEY,
    name       TEXT NOT NULL,
    purpose    TEXT NOT NULL,
    channel    TEXT NOT NULL,
    content    TEXT NOT NULL,
    owner_id   UUID REFERENCES users (id),
    sent_at    BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    version    BIGINT NOT NULL
);
