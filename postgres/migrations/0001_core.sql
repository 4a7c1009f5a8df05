-- The core CRM schema (PostgreSQL). Object ids are UUIDs; pipeline ids are slugs.
-- The same tables as the SQLite schema. Times are microseconds since the Unix epoch (UTC).
-- Personal fields live only in the `sealed` columns, prepared by the gate.

CREATE TABLE users (
    id            UUID PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE,
    roles         TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL,
    disabled_at   BIGINT
);

CREATE TABLE api_tokens (
    id           UUID PRIMARY KEY,
    user_id      UUID NOT NULL REFERENCES users (id),
    name         TEXT NOT NULL,
    hash         BYTEA NOT NULL UNIQUE,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT,
    last_used_at BIGINT,
    revoked_at   BIGINT
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);

CREATE TABLE organizations (
    id         UUID PRIMARY KEY,
    owner_id   UUID REFERENCES users (id),
    name       TEXT NOT NULL,
    website    TEXT NOT NULL,
    industry   TEXT NOT NULL,
    address    TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    version    BIGINT NOT NULL
);
CREATE INDEX organizations_owner ON organizations (owner_id, id);
CREATE INDEX organizations_updated ON organizations (updated_at);

CREATE TABLE contacts (
    id              UUID PRIMARY KEY,
    owner_id        UUID REFERENCES users (id),
    organization_id UUID REFERENCES organizations (id) ON DELETE SET NULL,
    legal_basis     TEXT NOT NULL,
    source          TEXT NOT NULL,
    purpose         TEXT NOT NULL,
    collected_by    TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    version         BIGINT NOT NULL,
    sealed          BYTEA NOT NULL
);
CREATE INDEX contacts_owner ON contacts (owner_id, id);
CREATE INDEX contacts_organization ON contacts (organization_id, id);
CREATE INDEX contacts_updated ON contacts (updated_at);

-- Exact lookup and de-duplication: one row per identifier of a contact.
CREATE TABLE contact_lookup (
    kind       TEXT NOT NULL,
    value      TEXT NOT NULL,
    contact_id UUID NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    PRIMARY KEY (kind, value, contact_id)
);
CREATE INDEX contact_lookup_contact ON contact_lookup (contact_id);

CREATE TABLE pipelines (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    stages     TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    version    BIGINT NOT NULL
);

CREATE TABLE deals (
    id              UUID PRIMARY KEY,
    title           TEXT NOT NULL,
    pipeline_id     TEXT NOT NULL REFERENCES pipelines (id),
    stage           TEXT NOT NULL,
    value_minor     BIGINT NOT NULL,
    currency        TEXT NOT NULL,
    owner_id        UUID REFERENCES users (id),
    contact_id      UUID REFERENCES contacts (id) ON DELETE SET NULL,
    organization_id UUID REFERENCES organizations (id) ON DELETE SET NULL,
    expected_close  TEXT NOT NULL,
    closed_at       BIGINT,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    version         BIGINT NOT NULL
);
CREATE INDEX deals_owner ON deals (owner_id, id);
CREATE INDEX deals_stage ON deals (pipeline_id, stage, id);
CREATE INDEX deals_contact ON deals (contact_id);
CREATE INDEX deals_organization ON deals (organization_id);
CREATE INDEX deals_updated ON deals (updated_at);

CREATE TABLE cases (
    id              UUID PRIMARY KEY,
    status          TEXT NOT NULL,
    priority        TEXT NOT NULL,
    channel         TEXT NOT NULL,
    network         TEXT NOT NULL,
    assignee_id     UUID REFERENCES users (id),
    contact_id      UUID REFERENCES contacts (id) ON DELETE SET NULL,
    organization_id UUID REFERENCES organizations (id) ON DELETE SET NULL,
    resolved_at     BIGINT,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    version         BIGINT NOT NULL,
    sealed          BYTEA NOT NULL
);
CREATE INDEX cases_status ON cases (status, id);
CREATE INDEX cases_assignee ON cases (assignee_id, id);
CREATE INDEX cases_contact ON cases (contact_id);
CREATE INDEX cases_organization ON cases (organization_id);
CREATE INDEX cases_updated ON cases (updated_at);

CREATE TABLE interactions (
    id              UUID PRIMARY KEY,
    kind            TEXT NOT NULL,
    direction       TEXT NOT NULL,
    occurred_at     BIGINT NOT NULL,
    duration_sec    BIGINT NOT NULL,
    network         TEXT NOT NULL,
    owner_id        UUID REFERENCES users (id),
    contact_id      UUID REFERENCES contacts (id) ON DELETE CASCADE,
    organization_id UUID REFERENCES organizations (id) ON DELETE SET NULL,
    deal_id         UUID REFERENCES deals (id) ON DELETE SET NULL,
    case_id         UUID REFERENCES cases (id) ON DELETE SET NULL,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    version         BIGINT NOT NULL,
    sealed          BYTEA NOT NULL
);
CREATE INDEX interactions_contact ON interactions (contact_id, id);
CREATE INDEX interactions_organization ON interactions (organization_id, id);
CREATE INDEX interactions_deal ON interactions (deal_id, id);
CREATE INDEX interactions_case ON interactions (case_id, id);
CREATE INDEX interactions_owner ON interactions (owner_id, id);
CREATE INDEX interactions_updated ON interactions (updated_at);

INSERT INTO pipelines (id, name, stages, created_at, updated_at, version) VALUES (
    'default', 'Sales',
    '[{"id":"lead","name":"Lead","outcome":"open","probability":10},{"id":"qualified","name":"Qualified","outcome":"open","probability":25},{"id":"proposal","name":"Proposal","outcome":"open","probability":50},{"id":"negotiation","name":"Negotiation","outcome":"open","probability":75},{"id":"won","name":"Won","outcome":"won","probability":100},{"id":"lost","name":"Lost","outcome":"lost","probability":0}]',
    (extract(epoch FROM now()) * 1000000)::BIGINT, (extract(epoch FROM now()) * 1000000)::BIGINT, 1);
