-- Tags and segments (issue [2.3], part 2). Tags are business data: kept in
-- plain text, both in the form a user typed (display) and folded for
-- matching (tag). They go with their contact or organization. A segment is a
-- saved filter; a campaign may take its audience from one.
CREATE TABLE contact_tags (
    contact_id UUID NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    tag        TEXT NOT NULL,
    display    TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (contact_id, tag)
);
CREATE INDEX contact_tags_tag ON contact_tags (tag, contact_id);

CREATE TABLE organization_tags (
    organization_id UUID NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    tag             TEXT NOT NULL,
    display         TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    PRIMARY KEY (organization_id, tag)
);
CREATE INDEX organization_tags_tag ON organization_tags (tag, organization_id);

CREATE TABLE segments (
    id         UUID PRIMARY KEY,
    name       TEXT NOT NULL,
    owner_id   UUID REFERENCES users (id),
    rules      TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    version    BIGINT NOT NULL
);

ALTER TABLE campaigns ADD COLUMN segment_id UUID REFERENCES segments (id) ON DELETE SET NULL;
CREATE INDEX campaigns_segment ON campaigns (segment_id);
