-- Objections to processing on legitimate interest (Art. 21(1) GDPR), one per
-- contact, with the purposes for which the data-protection officer recorded
-- compelling legitimate grounds (JSON). No personal data: the reasons are
-- sealed in the requests of data subjects. The row goes with the contact.
CREATE TABLE interest_objections (
    contact_id  UUID PRIMARY KEY REFERENCES contacts (id) ON DELETE CASCADE,
    objected_at BIGINT NOT NULL,
    request_id  UUID NOT NULL,
    grounds     TEXT NOT NULL
);
