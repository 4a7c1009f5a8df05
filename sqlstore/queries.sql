-- Named queries, shared by the SQLite and PostgreSQL adapters: both accept $N
-- parameters. Each query starts with a line "-- name: NAME"; a *-select query is
-- the head of the single-object query (… WHERE id = $1) and of the list queries,
-- which append their filters in Go.

-- name: contact-select
SELECT c.id, c.owner_id, c.organization_id,
       CASE WHEN substr(c.provenance, 1, 1) = '@'
            THEN (SELECT ps.body FROM provenance_sets ps WHERE ps.id = CAST(substr(c.provenance, 2) AS BIGINT))
            ELSE c.provenance END,
       c.restricted_at, c.objected_at, c.last_interaction_at,
       c.archived_at, c.created_at, c.updated_at, c.version, c.sealed, dk.subject, dk.version, dk.kek_version, dk.wrapped
FROM contacts c LEFT JOIN data_keys dk ON dk.subject = c.id

-- name: contact-insert
INSERT INTO contacts (id, owner_id, organization_id, provenance, restricted_at, objected_at, last_interaction_at,
                      archived_at, created_at, updated_at, version, sealed, address_kinds)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)

-- name: contact-update
UPDATE contacts
SET owner_id = $2, organization_id = $3, provenance = $4, restricted_at = $5, objected_at = $6,
    last_interaction_at = $7, updated_at = $8, version = $9, sealed = $10
WHERE id = $1 AND version = $11

-- name: contact-touch
UPDATE contacts
SET last_interaction_at = CASE WHEN last_interaction_at IS NULL OR last_interaction_at < $2 THEN $2 ELSE last_interaction_at END
WHERE id = $1

-- name: contact-delete
DELETE FROM contacts WHERE id = $1

-- name: lookup-insert
INSERT INTO contact_lookup (kind, value, contact_id, claimed) VALUES ($1, $2, $3, $4)

-- name: lookup-contact-ids
SELECT contact_id FROM contact_lookup WHERE kind = $1 AND value = $2 ORDER BY contact_id

-- name: lookup-delete
DELETE FROM contact_lookup WHERE contact_id = $1

-- name: contact-address-kinds
UPDATE contacts SET address_kinds = $2 WHERE id = $1

-- name: organization-select
SELECT o.id, o.owner_id, o.name, o.website, o.industry, o.address, o.created_at, o.updated_at, o.version
FROM organizations o

-- name: organization-insert
INSERT INTO organizations (id, owner_id, name, website, industry, address, created_at, updated_at, version)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)

-- name: organization-update
UPDATE organizations
SET owner_id = $2, name = $3, website = $4, industry = $5, address = $6, updated_at = $7, version = $8
WHERE id = $1 AND version = $9

-- name: organization-delete
DELETE FROM organizations WHERE id = $1

-- name: interaction-select
SELECT i.id, i.kind, i.direction, i.occurred_at, i.duration_sec, i.network, i.owner_id, i.contact_id,
       i.organization_id, i.deal_id, i.case_id, i.retention_class, i.retain_until, i.archived_at, i.provenance,
       i.created_at, i.updated_at, i.version, i.sealed, dk.subject, dk.version, dk.kek_version, dk.wrapped
FROM interactions i LEFT JOIN data_keys dk ON dk.subject = i.key_subject

-- name: interaction-insert
INSERT INTO interactions (id, kind, direction, occurred_at, duration_sec, network, owner_id, contact_id,
                          organization_id, deal_id, case_id, retention_class, retain_until, archived_at, provenance,
                          key_subject, created_at, updated_at, version, sealed)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)

-- name: interaction-update
UPDATE interactions
SET kind = $2, direction = $3, occurred_at = $4, duration_sec = $5, network = $6, owner_id = $7,
    contact_id = $8, organization_id = $9, deal_id = $10, case_id = $11, retention_class = $12, retain_until = $13,
    archived_at = $14, provenance = $15, key_subject = $16, updated_at = $17, version = $18, sealed = $19
WHERE id = $1 AND version = $20

-- name: interaction-delete
DELETE FROM interactions WHERE id = $1

-- name: pipeline-select
SELECT p.id, p.name, p.stages, p.created_at, p.updated_at, p.version
FROM pipelines p

-- name: pipeline-insert
INSERT INTO pipelines (id, name, stages, created_at, updated_at, version) VALUES ($1, $2, $3, $4, $5, $6)

-- name: pipeline-update
UPDATE pipelines SET name = $2, stages = $3, updated_at = $4, version = $5 WHERE id = $1 AND version = $6

-- name: pipeline-delete
DELETE FROM pipelines WHERE id = $1

-- name: deal-select
SELECT d.id, d.title, d.pipeline_id, d.stage, d.value_minor, d.currency, d.owner_id, d.contact_id,
       d.organization_id, d.expected_close, d.closed_at, d.outcome_reason, d.created_at, d.updated_at, d.version,
       d.archived_at
FROM deals d

-- name: deal-insert
INSERT INTO deals (id, title, pipeline_id, stage, value_minor, currency, owner_id, contact_id,
                   organization_id, expected_close, closed_at, outcome_reason, created_at, updated_at, version)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)

-- name: deal-update
UPDATE deals
SET title = $2, pipeline_id = $3, stage = $4, value_minor = $5, currency = $6, owner_id = $7,
    contact_id = $8, organization_id = $9, expected_close = $10, closed_at = $11, outcome_reason = $12,
    updated_at = $13, version = $14
WHERE id = $1 AND version = $15

-- name: deal-delete
DELETE FROM deals WHERE id = $1

-- name: deal-count
SELECT count(*) FROM deals WHERE pipeline_id = $1 AND ($2 = '' OR stage = $2)

-- name: case-select
SELECT k.id, k.status, k.priority, k.channel, k.network, k.assignee_id, k.contact_id, k.organization_id,
       k.resolved_at, k.archived_at, k.provenance, k.created_at, k.updated_at, k.version, k.sealed,
       dk.subject, dk.version, dk.kek_version, dk.wrapped
FROM cases k LEFT JOIN data_keys dk ON dk.subject = k.key_subject

-- name: case-insert
INSERT INTO cases (id, status, priority, channel, network, assignee_id, contact_id, organization_id,
                   resolved_at, archived_at, provenance, key_subject, created_at, updated_at, version, sealed)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)

-- name: case-update
UPDATE cases
SET status = $2, priority = $3, channel = $4, network = $5, assignee_id = $6, contact_id = $7,
    organization_id = $8, resolved_at = $9, archived_at = $10, provenance = $11, key_subject = $12, updated_at = $13,
    version = $14, sealed = $15
WHERE id = $1 AND version = $16

-- name: case-delete
DELETE FROM cases WHERE id = $1

-- name: user-select
SELECT u.id, u.email, u.roles, u.password_hash, u.created_at, u.updated_at, u.disabled_at, u.mfa_enabled_at,
       u.totp_secret, u.totp_last_step, u.external_issuer, u.external_subject, u.password_from, u.version
FROM users u

-- name: user-insert
INSERT INTO users (id, email, roles, password_hash, created_at, updated_at, disabled_at, mfa_enabled_at,
                   totp_secret, totp_last_step, external_issuer, external_subject, password_from, version)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)

-- name: user-update
UPDATE users
SET email = $2, roles = $3, password_hash = $4, updated_at = $5, disabled_at = $6, mfa_enabled_at = $7,
    totp_secret = $8, totp_last_step = $9, external_issuer = $10, external_subject = $11, password_from = $12,
    version = $13
WHERE id = $1 AND version = $14

-- name: user-count
SELECT count(*) FROM users

-- name: token-select
SELECT t.id, t.user_id, t.name, t.purposes, t.hash, t.created_at, t.expires_at, t.last_used_at, t.revoked_at
FROM api_tokens t

-- name: token-insert
INSERT INTO api_tokens (id, user_id, name, purposes, hash, created_at, expires_at, last_used_at, revoked_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)

-- name: token-revoke
UPDATE api_tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL

-- name: token-touch
UPDATE api_tokens SET last_used_at = $2 WHERE id = $1

-- name: session-by-hash
SELECT s.id, s.hash, s.user_id, s.stage, s.csrf, s.mfa, s.created_at, s.last_seen_at, s.purpose
FROM sessions s WHERE s.hash = $1

-- name: session-insert
INSERT INTO sessions (id, hash, user_id, stage, csrf, mfa, created_at, last_seen_at, purpose)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)

-- name: session-touch
UPDATE sessions SET last_seen_at = $2 WHERE id = $1

-- name: session-purpose
UPDATE sessions SET purpose = $2 WHERE id = $1

-- name: session-delete
DELETE FROM sessions WHERE id = $1

-- name: sessions-delete-user
DELETE FROM sessions WHERE user_id = $1 AND CAST(id AS TEXT) <> $2

-- name: recovery-delete
DELETE FROM recovery_codes WHERE user_id = $1

-- name: recovery-insert
INSERT INTO recovery_codes (user_id, hash, used_at) VALUES ($1, $2, NULL)

-- name: recovery-use
UPDATE recovery_codes SET used_at = $3 WHERE user_id = $1 AND hash = $2 AND used_at IS NULL

-- name: login-failures
SELECT failures, last_at FROM login_failures WHERE key = $1

-- name: login-failure-add
INSERT INTO login_failures (key, failures, last_at) VALUES ($1, 1, $2)
ON CONFLICT (key) DO UPDATE
SET failures = CASE WHEN login_failures.last_at < $3 THEN 1 ELSE login_failures.failures + 1 END, last_at = $2

-- name: login-failures-clear
DELETE FROM login_failures WHERE key = $1

-- name: reset-select
SELECT r.hash, r.user_id, r.created_at, r.expires_at, r.used_at, r.ref, r.issued_by FROM password_resets r WHERE r.hash = $1

-- name: reset-insert
INSERT INTO password_resets (hash, user_id, created_at, expires_at, used_at, ref, issued_by) VALUES ($1, $2, $3, $4, NULL, $5, $6)

-- name: reset-use
UPDATE password_resets SET used_at = $2 WHERE hash = $1 AND used_at IS NULL AND expires_at > $2

-- name: grant-select
SELECT g.id, g.user_id, g.roles, g.state, g.requested_by, g.requested_at, g.expires_at, g.decided_by, g.decided_at
FROM role_grants g

-- name: grant-insert
INSERT INTO role_grants (id, user_id, roles, state, requested_by, requested_at, expires_at, decided_by, decided_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, '', NULL)

-- name: grant-decide
UPDATE role_grants SET state = $2, decided_by = $3, decided_at = $4 WHERE id = $1 AND state = 'pending'

-- name: auth-epoch
SELECT epoch FROM auth_epoch WHERE id = 1

-- name: auth-epoch-bump
UPDATE auth_epoch SET epoch = epoch + 1 WHERE id = 1

-- name: stats
SELECT (SELECT count(*) FROM contacts), (SELECT count(*) FROM organizations), (SELECT count(*) FROM interactions),
       (SELECT count(*) FROM deals), (SELECT count(*) FROM cases), (SELECT count(*) FROM users)


-- name: suppression-insert
INSERT INTO suppressions (kind, value, scope, created_at) VALUES ($1, $2, $3, $4)
ON CONFLICT (kind, value, scope) DO NOTHING

-- name: suppression-delete
DELETE FROM suppressions WHERE kind = $1 AND value = $2 AND scope = $3

-- name: suppression-exists
SELECT count(*) FROM suppressions WHERE kind = $1 AND value = $2 AND scope = $3

-- name: contact-suppressed
SELECT count(*) FROM contact_lookup l JOIN suppressions s ON s.kind = l.kind AND s.value = l.value
WHERE l.contact_id = $1 AND s.scope = $2

-- name: lookup-kinds
SELECT DISTINCT kind FROM contact_lookup WHERE contact_id = $1

-- name: maintenance-pending
SELECT count(*) FROM maintenance WHERE task = $1

-- name: maintenance-done
DELETE FROM maintenance WHERE task = $1

-- name: consent-event-insert
INSERT INTO consent_events (id, contact_id, purpose, channel, action, method, text_hash, ip, actor, at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)

-- name: consent-events
SELECT id, contact_id, purpose, channel, action, method, text_hash, ip, actor, at
FROM consent_events WHERE contact_id = $1 ORDER BY at, id

-- name: consent-state-set
INSERT INTO consent_states (contact_id, purpose, channel, state, changed_at) VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (purpose, channel, contact_id) DO UPDATE SET state = $4, changed_at = $5

-- name: consent-states
SELECT purpose, channel, state, changed_at FROM consent_states WHERE contact_id = $1 ORDER BY purpose, channel

-- name: consent-link-insert
INSERT INTO consent_links (hash, kind, contact_id, purpose, channel, text_hash, created_at, expires_at, used_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULL)

-- name: consent-link
SELECT hash, kind, contact_id, purpose, channel, text_hash, created_at, expires_at, used_at
FROM consent_links WHERE hash = $1

-- name: consent-link-use
UPDATE consent_links SET used_at = $2 WHERE hash = $1 AND used_at IS NULL AND (expires_at IS NULL OR expires_at > $2)

-- name: inbound-count
SELECT count(*) FROM interactions
WHERE contact_id = $1 AND direction = 'inbound' AND kind = $2 AND network = $3 AND occurred_at >= $4

-- name: campaign-select
SELECT m.id, m.name, m.purpose, m.channel, m.content, m.owner_id, m.sent_at, m.created_at, m.updated_at, m.version, m.segment_id
FROM campaigns m

-- name: campaign-insert
INSERT INTO campaigns (id, name, purpose, channel, content, owner_id, sent_at, created_at, updated_at, version, segment_id)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)

-- name: campaign-update
UPDATE campaigns SET name = $2, purpose = $3, channel = $4, content = $5, owner_id = $6, sent_at = $7,
    updated_at = $8, version = $9, segment_id = $11
WHERE id = $1 AND version = $10

-- name: campaign-delete
DELETE FROM campaigns WHERE id = $1

-- name: data-key
SELECT subject, version, kek_version, wrapped FROM data_keys WHERE subject = $1

-- name: data-key-insert
INSERT INTO data_keys (subject, version, kek_version, wrapped, created_at) VALUES ($1, $2, $3, $4, $5)

-- name: data-key-rewrap
UPDATE data_keys SET kek_version = $2, wrapped = $3 WHERE subject = $1 AND kek_version = $4

-- name: data-key-delete
DELETE FROM data_keys WHERE subject = $1

-- name: data-key-counts
SELECT kek_version, count(*) FROM data_keys GROUP BY kek_version ORDER BY kek_version

-- name: data-keys-not-under
SELECT subject, version, kek_version, wrapped FROM data_keys

-- name: kek-versions
SELECT version, check_value, created_at FROM kek_versions ORDER BY version

-- name: kek-version-insert
INSERT INTO kek_versions (version, check_value, created_at) VALUES ($1, $2, $3)
ON CONFLICT (version) DO NOTHING

-- name: erasure-select
SELECT contact_id, erased_at, actor, origin, reason, records FROM erasures

-- name: erasure-insert
INSERT INTO erasures (contact_id, erased_at, actor, origin, reason, records) VALUES ($1, $2, $3, $4, $5, $6)

-- name: suppressions-all
SELECT kind, value, scope, created_at FROM suppressions ORDER BY created_at, kind, value

-- name: hold-select
SELECT h.id, h.contact_id, h.reason, h.placed_by, h.placed_at, h.released_by, h.released_at FROM legal_holds h

-- name: hold-insert
INSERT INTO legal_holds (id, contact_id, reason, placed_by, placed_at) VALUES ($1, $2, $3, $4, $5)

-- name: hold-release
UPDATE legal_holds SET released_by = $2, released_at = $3 WHERE id = $1 AND released_at IS NULL

-- name: retention-scan
SELECT c.id,
       CASE WHEN substr(c.provenance, 1, 1) = '@'
            THEN (SELECT ps.body FROM provenance_sets ps WHERE ps.id = CAST(substr(c.provenance, 2) AS BIGINT))
            ELSE c.provenance END,
       c.created_at, c.last_interaction_at, c.archived_at,
       EXISTS (SELECT 1 FROM legal_holds h WHERE h.contact_id = c.id AND h.released_at IS NULL)
FROM contacts c

-- name: expired-records
SELECT i.id FROM interactions i

-- name: retention-run-insert
INSERT INTO retention_runs (id, started_at, finished_at, dry_run, report) VALUES ($1, $2, $3, $4, $5)

-- name: retention-run-last
SELECT report FROM retention_runs WHERE dry_run = 0 ORDER BY started_at DESC LIMIT 1

-- name: erase-interactions
DELETE FROM interactions WHERE contact_id = $1

-- name: anonymise-interactions
UPDATE interactions SET contact_id = NULL, key_subject = NULL, sealed = $2, provenance = '[]' WHERE contact_id = $1

-- name: erase-cases
DELETE FROM cases WHERE contact_id = $1

-- name: anonymise-cases
UPDATE cases SET contact_id = NULL, key_subject = NULL, sealed = $2, provenance = '[]' WHERE contact_id = $1

-- name: detach-deals
UPDATE deals SET contact_id = NULL WHERE contact_id = $1

-- name: erase-consent-events
DELETE FROM consent_events WHERE contact_id = $1

-- name: purpose-consent-events-delete
DELETE FROM consent_events WHERE contact_id = $1 AND purpose = $2

-- name: purpose-consent-states-delete
DELETE FROM consent_states WHERE contact_id = $1 AND purpose = $2

-- name: purpose-consent-links-delete
DELETE FROM consent_links WHERE contact_id = $1 AND purpose = $2

-- name: erase-holds
DELETE FROM legal_holds WHERE contact_id = $1

-- name: archive-contact
UPDATE contacts SET archived_at = $2 WHERE id = $1 AND archived_at IS NULL

-- name: archive-interactions
UPDATE interactions SET archived_at = $2 WHERE contact_id = $1 AND archived_at IS NULL

-- name: archive-cases
UPDATE cases SET archived_at = $2 WHERE contact_id = $1 AND archived_at IS NULL

-- name: archive-deals
UPDATE deals SET archived_at = $2 WHERE contact_id = $1 AND archived_at IS NULL

-- name: consent-event-ip
UPDATE consent_events SET ip = $2 WHERE id = $1

-- name: audit-select
SELECT a.seq, a.at, a.actor, a.roles, a.purpose, a.action, a.object_type, a.object_ids, a.categories, a.decision,
       a.reason, a.request_id, a.client, a.detail, a.hash, a.objects
FROM audit_log a

-- name: audit-insert
INSERT INTO audit_log (seq, at, actor, roles, purpose, action, object_type, object_ids, categories, decision, reason,
                       request_id, client, detail, hash, objects)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)

-- name: audit-object-insert
INSERT INTO audit_objects (object_id, seq) VALUES ($1, $2) ON CONFLICT DO NOTHING

-- name: audit-refs-of
SELECT block, seqs FROM audit_refs WHERE grp = $1

-- name: audit-objects-of
SELECT seq FROM audit_objects WHERE object_id = $1

-- name: audit-refs-block
SELECT grp, seqs FROM audit_refs WHERE block = $1

-- name: audit-term-insert
INSERT INTO audit_terms (term) VALUES ($1) ON CONFLICT DO NOTHING RETURNING ref

-- name: audit-term-ref
SELECT ref FROM audit_terms WHERE term = $1

-- name: audit-id-insert
INSERT INTO audit_ids (id) VALUES ($1) ON CONFLICT DO NOTHING RETURNING ref

-- name: audit-id-ref
SELECT ref FROM audit_ids WHERE id = $1

-- name: audit-head
SELECT seq, hash FROM audit_head WHERE id = 1

-- name: audit-head-lock
UPDATE audit_head SET seq = seq WHERE id = 1

-- name: audit-head-set
UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1

-- name: audit-checkpoint-insert
INSERT INTO audit_checkpoints (size, at, root, chain, range, key_id, signature) VALUES ($1, $2, $3, $4, $5, $6, $7)

-- name: audit-checkpoints
SELECT size, at, root, chain, range, key_id, signature FROM audit_checkpoints ORDER BY size

-- name: audit-prune-last
SELECT upto, at, chain, range FROM audit_prunes ORDER BY upto DESC LIMIT 1

-- name: audit-prune-insert
INSERT INTO audit_prunes (upto, at, chain, range) VALUES ($1, $2, $3, $4)

-- name: audit-prune-objects
DELETE FROM audit_objects WHERE seq <= $1

-- name: audit-prune-refs
DELETE FROM audit_refs WHERE block < $1

-- name: audit-ref-set
UPDATE audit_refs SET n = $3, seqs = $4 WHERE grp = $1 AND block = $2

-- name: audit-ref-delete
DELETE FROM audit_refs WHERE grp = $1 AND block = $2

-- name: audit-prune-log
DELETE FROM audit_log WHERE seq <= $1

-- name: audit-object-count
SELECT (SELECT count(*) FROM audit_objects) + (SELECT coalesce(sum(n), 0) FROM audit_refs)

-- name: audit-touched
SELECT at, object_ids, objects FROM audit_log
WHERE actor IN ($1, $2) AND object_type IN ($3, $4) AND at >= $5 AND at < $6 ORDER BY seq

-- name: audit-pruned-leaf-insert
INSERT INTO audit_pruned_leaves (seq, leaf) VALUES ($1, $2)

-- name: audit-pruned-leaves
SELECT leaf FROM audit_pruned_leaves ORDER BY seq

-- name: audit-indexed
SELECT indexed FROM audit_head WHERE id = 1

-- name: audit-unindexed
SELECT seq, object_ids, objects FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2

-- name: audit-indexed-set
UPDATE audit_head SET indexed = $1 WHERE id = 1 AND indexed < $1

-- name: audit-max
SELECT coalesce(max(seq), 0) FROM audit_log

-- name: notice-select
SELECT n.id, n.contact_id, n.source, n.network, n.import_id, n.purpose, n.created_at, n.due_at, n.sent_at, n.channel
FROM notices n

-- name: notice-insert
INSERT INTO notices (id, contact_id, source, network, import_id, purpose, created_at, due_at, sent_at, channel)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULL, '')

-- name: notice-sent
UPDATE notices SET sent_at = $3, channel = $2 WHERE id = $1 AND sent_at IS NULL

-- name: import-select
SELECT x.id, x.format, x.network, x.purpose, x.legal_basis, x.file_name, x.actor, x.actor_name, x.state, x.error,
       x.rows_read, x.created, x.duplicates, x.refused, x.reasons, x.started_at, x.updated_at, x.finished_at
FROM imports x

-- name: import-insert
INSERT INTO imports (id, format, network, purpose, legal_basis, file_name, actor, actor_name, state, error,
                     rows_read, created, duplicates, refused, reasons, started_at, updated_at, finished_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)

-- name: import-update
UPDATE imports SET state = $2, error = $3, rows_read = $4, created = $5, duplicates = $6, refused = $7, reasons = $8,
                   updated_at = $9, finished_at = $10
WHERE id = $1

-- name: channel-select
SELECT h.id, h.network, h.name, h.account, h.credentials, h.inbox_cursor, h.last_error, h.created_at, h.updated_at,
       dk.subject, dk.version, dk.kek_version, dk.wrapped
FROM channels h LEFT JOIN data_keys dk ON dk.subject = h.id

-- name: channel-insert
INSERT INTO channels (id, network, name, account, credentials, inbox_cursor, last_error, created_at, updated_at, version)
VALUES ($1, $2, $3, $4, $5, '', '', $6, $7, 1)

-- name: channel-state
UPDATE channels SET inbox_cursor = $2, last_error = $3, updated_at = $4 WHERE id = $1

-- name: channel-delete
DELETE FROM channels WHERE id = $1

-- name: post-select
SELECT p.id, p.channel_id, p.text, p.publish_at, p.published_at, p.remote_id, p.url, p.error, p.created_by, p.created_at,
    p.publish_key, p.attempts, p.attempted_at, p.unconfirmed
FROM posts p

-- name: post-insert
INSERT INTO posts (id, channel_id, text, publish_at, published_at, remote_id, url, error, created_by, created_at,
    publish_key, attempts, attempted_at, unconfirmed)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)

-- name: post-done
UPDATE posts SET published_at = $2, remote_id = $3, url = $4, error = $5, publish_key = $6, attempts = $7, attempted_at = $8,
    unconfirmed = $9
WHERE id = $1

-- name: change-insert
INSERT INTO changes (origin, at, contacts, organizations) VALUES ($1, $2, $3, $4) RETURNING seq

-- name: changes-after
SELECT seq, origin, at, contacts, organizations FROM changes WHERE seq > $1 ORDER BY seq LIMIT $2

-- name: change-last
SELECT COALESCE(max(seq), 0) FROM changes

-- name: changes-prune
DELETE FROM changes WHERE at < $1

-- name: consent-contacts
SELECT contact_id FROM consent_states WHERE purpose = $1 AND channel = $2 AND ($3 = '' OR state = $3)

-- Merges of duplicate contacts (issue [2.3]).

-- name: merge-insert
INSERT INTO merges (from_id, into_id, merged_at, actor) VALUES ($1, $2, $3, $4)

-- name: merge-get
SELECT from_id, into_id, merged_at, actor FROM merges WHERE from_id = $1

-- name: merge-move-notices
UPDATE notices SET contact_id = $2 WHERE contact_id = $1

-- name: merge-move-consent-events
UPDATE consent_events SET contact_id = $2 WHERE contact_id = $1

-- name: merge-move-consent-links
UPDATE consent_links SET contact_id = $2 WHERE contact_id = $1

-- name: merge-move-mail-messages
UPDATE mail_messages SET contact_id = $2 WHERE contact_id = $1

-- name: merge-drop-consent-states
DELETE FROM consent_states WHERE contact_id = $1

-- Pairs of contacts that share an identifier (not a postal address, which
-- colleagues share), each pair once. The shared keys are found first in one
-- ordered pass over the primary key, so that only they are joined.
-- name: duplicate-keys
SELECT a.kind, a.contact_id, b.contact_id
FROM (SELECT kind, value FROM contact_lookup WHERE kind <> 'postal' GROUP BY kind, value HAVING count(*) > 1) d
JOIN contact_lookup a ON a.kind = d.kind AND a.value = d.value
JOIN contact_lookup b ON b.kind = d.kind AND b.value = d.value AND b.contact_id > a.contact_id
ORDER BY a.contact_id, b.contact_id, a.kind
LIMIT $1

-- ---- tasks (issue [2.3])

-- name: task-select
SELECT tk.id, tk.due, tk.assignee_id, tk.contact_id, tk.deal_id, tk.case_id, tk.state, tk.done_at,
       tk.created_at, tk.updated_at, tk.version, tk.sealed, dk.subject, dk.version, dk.kek_version, dk.wrapped
FROM tasks tk LEFT JOIN data_keys dk ON dk.subject = tk.key_subject

-- name: task-insert
INSERT INTO tasks (id, due, assignee_id, contact_id, deal_id, case_id, state, done_at, key_subject,
                   created_at, updated_at, version, sealed)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)

-- name: task-update
UPDATE tasks
SET due = $2, assignee_id = $3, contact_id = $4, deal_id = $5, case_id = $6, state = $7, done_at = $8,
    key_subject = $9, updated_at = $10, version = $11, sealed = $12
WHERE id = $1 AND version = $13

-- name: task-delete
DELETE FROM tasks WHERE id = $1

-- name: task-move
UPDATE tasks SET contact_id = $2, key_subject = $2, sealed = $3, updated_at = $4, version = version + 1
WHERE id = $1 AND contact_id = $5

-- name: task-ids-of-contact
SELECT id FROM tasks WHERE contact_id = $1

-- name: task-assignees
SELECT DISTINCT assignee_id FROM tasks WHERE state = 'open' AND due <= $1 AND assignee_id IS NOT NULL
ORDER BY assignee_id

-- name: task-reminder-claim
INSERT INTO task_reminders (user_id, day, claimed_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING

-- name: mail-message-insert
INSERT INTO mail_messages (hash, message_id, case_id, contact_id, direction, created_at) VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (hash) DO NOTHING

-- name: mail-messages
SELECT hash, message_id, case_id, contact_id, direction, created_at FROM mail_messages WHERE case_id = $1 ORDER BY created_at, hash

-- name: mail-from-count
SELECT count(*) FROM mail_messages WHERE contact_id = $1 AND direction = 'inbound'

-- name: mail-claim
INSERT INTO mail_claims (mailbox, uid, claimed_by, claimed_at) VALUES ($1, $2, $3, $4)
ON CONFLICT (mailbox, uid) DO UPDATE SET claimed_by = excluded.claimed_by, claimed_at = excluded.claimed_at
WHERE mail_claims.done_at IS NULL AND mail_claims.claimed_at < $5

-- name: mail-done
UPDATE mail_claims SET done_at = $3 WHERE mailbox = $1 AND uid = $2

-- name: mail-release
DELETE FROM mail_claims WHERE mailbox = $1 AND uid = $2 AND claimed_by = $3 AND done_at IS NULL

-- name: erase-mail-messages
DELETE FROM mail_messages WHERE contact_id = $1

-- name: mail-known
SELECT count(*) FROM mail_messages WHERE hash = $1

-- ---- tags and segments (issue [2.3])

-- name: contact-tag-add
INSERT INTO contact_tags (contact_id, tag, display, created_at) VALUES ($1, $2, $3, $4)
ON CONFLICT (contact_id, tag) DO NOTHING

-- name: contact-tag-remove
DELETE FROM contact_tags WHERE contact_id = $1 AND tag = $2

-- name: organization-tag-add
INSERT INTO organization_tags (organization_id, tag, display, created_at) VALUES ($1, $2, $3, $4)
ON CONFLICT (organization_id, tag) DO NOTHING

-- name: organization-tag-remove
DELETE FROM organization_tags WHERE organization_id = $1 AND tag = $2

-- name: tag-counts
SELECT tag, min(display), sum(contacts), sum(organizations) FROM (
    SELECT tag, display, 1 AS contacts, 0 AS organizations FROM contact_tags
    UNION ALL
    SELECT tag, display, 0, 1 FROM organization_tags
) t GROUP BY tag ORDER BY tag

-- name: tag-counts-unrestricted
SELECT tag, min(display), sum(contacts), sum(organizations) FROM (
    SELECT ct.tag, ct.display, 1 AS contacts, 0 AS organizations FROM contact_tags ct
    JOIN contacts c ON c.id = ct.contact_id WHERE c.restricted_at IS NULL AND c.archived_at IS NULL
    UNION ALL
    SELECT tag, display, 0, 1 FROM organization_tags
) t GROUP BY tag ORDER BY tag

-- name: segment-select
SELECT s.id, s.name, s.owner_id, s.rules, s.created_at, s.updated_at, s.version
FROM segments s

-- name: segment-insert
INSERT INTO segments (id, name, owner_id, rules, created_at, updated_at, version)
VALUES ($1, $2, $3, $4, $5, $6, $7)

-- name: segment-update
UPDATE segments SET name = $2, owner_id = $3, rules = $4, updated_at = $5, version = $6
WHERE id = $1 AND version = $7

-- name: segment-delete
DELETE FROM segments WHERE id = $1

-- name: segment-campaigns
SELECT id FROM campaigns WHERE segment_id = $1 AND sent_at IS NULL ORDER BY id

-- ---- the breach register (issue [2.4])

-- name: breach-select
SELECT br.id, br.plain, br.created_at, br.updated_at, br.version, br.sealed,
       dk.subject, dk.version, dk.kek_version, dk.wrapped
FROM breaches br LEFT JOIN data_keys dk ON dk.subject = br.key_subject

-- name: breach-insert
INSERT INTO breaches (id, aware_at, state, plain, key_subject, created_at, updated_at, version, sealed)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)

-- name: breach-update
UPDATE breaches
SET aware_at = $2, state = $3, plain = $4, key_subject = $5, updated_at = $6, version = $7, sealed = $8
WHERE id = $1 AND version = $9

-- ---- requests of data subjects (issue [2.4])

-- name: request-select
SELECT rq.id, rq.kind, rq.channel, rq.received_at, rq.state, rq.due, rq.extended, rq.created_at, rq.updated_at,
       rq.version, rq.sealed, dk.subject, dk.version, dk.kek_version, dk.wrapped, rq.closed_at
FROM data_requests rq LEFT JOIN data_keys dk ON dk.subject = rq.key_subject

-- name: request-insert
INSERT INTO data_requests (id, kind, channel, received_at, state, due, extended, key_subject, closed_at,
                           created_at, updated_at, version, sealed)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)

-- name: request-update
UPDATE data_requests
SET kind = $2, channel = $3, received_at = $4, state = $5, due = $6, extended = $7, key_subject = $8,
    closed_at = $9, updated_at = $10, version = $11, sealed = $12
WHERE id = $1 AND version = $13

-- name: request-delete
DELETE FROM data_requests WHERE id = $1

-- name: request-closed
SELECT rq.id FROM data_requests rq

-- name: request-reminder-claim
INSERT INTO request_reminders (request_id, reminder, due, claimed_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING

-- ---- exports for requests of access and portability (issue [2.4] §1)

-- name: subject-export-by-token
SELECT se.id, se.request_id, se.token_hash, se.language, se.created_at, se.expires_at, se.sealed,
       dk.subject, dk.version, dk.kek_version, dk.wrapped
FROM subject_exports se LEFT JOIN data_keys dk ON dk.subject = se.key_subject
WHERE se.token_hash = $1

-- name: subject-exports-before
SELECT se.id, se.request_id, se.token_hash, se.language, se.created_at, se.expires_at,
       dk.subject, dk.version, dk.kek_version, dk.wrapped
FROM subject_exports se LEFT JOIN data_keys dk ON dk.subject = se.key_subject
WHERE se.expires_at < $1
ORDER BY se.expires_at, se.id

-- name: subject-export-insert
INSERT INTO subject_exports (id, request_id, token_hash, language, key_subject, created_at, expires_at, sealed)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)

-- name: subject-export-delete
DELETE FROM subject_exports WHERE id = $1

-- ---- objections to processing on legitimate interest (Art. 21(1))

-- name: interest-objection-get
SELECT contact_id, objected_at, request_id, grounds FROM interest_objections WHERE contact_id = $1

-- name: interest-objection-put
INSERT INTO interest_objections (contact_id, objected_at, request_id, grounds) VALUES ($1, $2, $3, $4)
ON CONFLICT (contact_id) DO UPDATE SET objected_at = $2, request_id = $3, grounds = $4

-- name: interest-objection-delete
DELETE FROM interest_objections WHERE contact_id = $1

-- ---- social listening (issue [2.5]): topics and aggregates only

-- name: listening-topic-select
SELECT id, purpose, plain, cursors, created_by, created_at, updated_at, version, epsilon_budget, epsilon_spent FROM listening_topics ORDER BY id

-- name: listening-topic-get
SELECT id, purpose, plain, cursors, created_by, created_at, updated_at, version, epsilon_budget, epsilon_spent FROM listening_topics WHERE id = $1

-- name: listening-topic-insert
INSERT INTO listening_topics (id, purpose, plain, cursors, created_by, created_at, updated_at, version, epsilon_budget)
VALUES ($1, $2, $3, '{}', $4, $5, $6, $7, $8)

-- name: listening-topic-update
UPDATE listening_topics SET plain = $2, updated_at = $3, version = $4, epsilon_budget = $6 WHERE id = $1 AND version = $5

-- name: listening-budget-spend
-- One conditional write: of concurrent reads, only those that fit the
-- budget spend it (the row lock of the UPDATE orders them).
UPDATE listening_topics SET epsilon_spent = epsilon_spent + $2
WHERE id = $1 AND epsilon_budget > 0 AND epsilon_spent + $2 <= epsilon_budget

-- name: listening-topic-delete
DELETE FROM listening_topics WHERE id = $1

-- name: listening-release-get
SELECT body, released_at FROM listening_releases WHERE topic_id = $1 AND query = $2 AND released_at >= $3

-- name: listening-release-put
INSERT INTO listening_releases (topic_id, query, released_at, body) VALUES ($1, $2, $3, $4)
ON CONFLICT (topic_id, query) DO UPDATE SET released_at = excluded.released_at, body = excluded.body

-- name: listening-release-prune
DELETE FROM listening_releases WHERE topic_id = $1 AND released_at < $2

-- name: listening-cursors-get
SELECT cursors FROM listening_topics WHERE id = $1

-- name: listening-cursors-set
UPDATE listening_topics SET cursors = $2 WHERE id = $1

-- name: listening-aggregates
SELECT topic_id, width, start_at, network, language, kind, term, posts, authors, negative, neutral, positive
FROM listening_aggregates
WHERE topic_id = $1 AND width = $2 AND start_at >= $3 AND start_at < $4
ORDER BY start_at, network, language, kind, term

-- The listening writes go many rows per statement: listening.go repeats
-- the VALUES tuple of these queries once per row (multiRow).
-- name: listening-aggregate-add
INSERT INTO listening_aggregates (topic_id, width, start_at, network, language, kind, term, posts, authors, negative, neutral, positive)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
ON CONFLICT (topic_id, width, start_at, network, language, kind, term) DO UPDATE SET
    posts = listening_aggregates.posts + excluded.posts,
    authors = listening_aggregates.authors + excluded.authors,
    negative = listening_aggregates.negative + excluded.negative,
    neutral = listening_aggregates.neutral + excluded.neutral,
    positive = listening_aggregates.positive + excluded.positive

-- name: listening-seen-add
INSERT INTO listening_seen (window_id, topic_id, hash) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING
RETURNING window_id, topic_id, hash

-- Authors' row sets, locked for the transaction: the no-op update makes
-- PostgreSQL wait for a concurrent writer and return what it committed.
-- name: listening-author-lock
INSERT INTO listening_authors (window_id, author, topic_id, row_ids) VALUES ($1, $2, $3, $4)
ON CONFLICT (window_id, author) DO UPDATE SET row_ids = listening_authors.row_ids
RETURNING window_id, author, row_ids

-- name: listening-author-set
INSERT INTO listening_authors (window_id, author, topic_id, row_ids) VALUES ($1, $2, $3, $4)
ON CONFLICT (window_id, author) DO UPDATE SET row_ids = excluded.row_ids

-- name: listening-window-select
SELECT id, start_at, end_at, key_version, kek_version, wrapped, sealed FROM listening_windows ORDER BY start_at

-- name: listening-window-insert
INSERT INTO listening_windows (id, start_at, end_at, key_version, kek_version, wrapped, sealed)
VALUES ($1, $2, $3, $4, $5, $6, $7)

-- name: listening-window-seen-delete
DELETE FROM listening_seen WHERE window_id = $1

-- name: listening-window-authors-delete
DELETE FROM listening_authors WHERE window_id = $1

-- name: listening-window-delete
DELETE FROM listening_windows WHERE id = $1

-- name: listening-dropped-add
INSERT INTO listening_dropped (reason, n) VALUES ($1, $2)
ON CONFLICT (reason) DO UPDATE SET n = listening_dropped.n + excluded.n

-- name: listening-dropped-select
SELECT reason, n FROM listening_dropped ORDER BY reason

-- ---- the durable outbox of mail (issue [2.7] §3)

-- name: outbox-insert
INSERT INTO mail_outbox (id, kind, contact_id, key_subject, state, attempts, next_at, created_at, sealed)
VALUES ($1, $2, $3, $4, 'queued', 0, $5, $6, $7)

-- name: outbox-due
SELECT id FROM mail_outbox
WHERE (state = 'queued' AND next_at <= $1) OR (state = 'sending' AND claimed_at < $2)
ORDER BY next_at, id LIMIT $3

-- name: outbox-get
SELECT ob.id, ob.kind, ob.contact_id, ob.state, ob.attempts, ob.next_at, ob.claimed_at, ob.created_at, ob.done_at,
       ob.last_error, ob.sealed, dk.subject, dk.version, dk.kek_version, dk.wrapped
FROM mail_outbox ob LEFT JOIN data_keys dk ON dk.subject = ob.key_subject
WHERE ob.id = $1

-- name: outbox-next
SELECT min(next_at) FROM mail_outbox WHERE state = 'queued'

-- name: outbox-counts
SELECT state, count(*) FROM mail_outbox GROUP BY state

-- name: outbox-claim
UPDATE mail_outbox SET state = 'sending', claimed_at = $2, attempts = attempts + 1
WHERE id = $1 AND ((state = 'queued' AND next_at <= $2) OR (state = 'sending' AND claimed_at < $3))

-- name: outbox-done
UPDATE mail_outbox SET state = $2, done_at = $3, last_error = $4, sealed = $5, key_subject = NULL
WHERE id = $1 AND state = 'sending'

-- name: outbox-retry
UPDATE mail_outbox SET state = 'queued', next_at = $2, last_error = $3, claimed_at = NULL
WHERE id = $1 AND state = 'sending'

-- name: outbox-purge
DELETE FROM mail_outbox WHERE state IN ('sent', 'failed') AND done_at < $1

-- name: erase-outbox
DELETE FROM mail_outbox WHERE contact_id = $1

-- name: provenance-intern
INSERT INTO provenance_sets (digest, body) VALUES ($1, $2) ON CONFLICT (digest) DO NOTHING

-- name: provenance-ref
SELECT id FROM provenance_sets WHERE digest = $1
