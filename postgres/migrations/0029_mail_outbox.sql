-- The durable outbox of mail (issue [2.7] §3, "SMTP down"). A mail Tresor
-- owes (a double opt-in confirmation, an Art. 14 notice, the answer to a
-- request) is written here in the transaction of the change that owes it,
-- and a sender delivers it, retrying with backoff while the mail server is
-- away. The address, subject and text are sealed: under the person's data
-- key where the mail goes to a contact (contact_id), so an erasure makes it
-- unreadable and deletes the row, else under the mail's own key
-- (key_subject = id), deleted once the mail is sent. No address is kept in
-- the clear, and last_error never names one.
--   state: queued → sending (claimed by one sender) → sent | failed;
--   a failed attempt goes back to queued with a later next_at.
CREATE TABLE mail_outbox (
    id          UUID PRIMARY KEY,
    kind        TEXT NOT NULL,
    contact_id  UUID,
    key_subject UUID,
    state       TEXT NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    next_at     BIGINT NOT NULL,
    claimed_at  BIGINT,
    created_at  BIGINT NOT NULL,
    done_at     BIGINT,
    last_error  TEXT NOT NULL DEFAULT '',
    sealed      BYTEA NOT NULL
);
CREATE INDEX mail_outbox_due ON mail_outbox (state, next_at);
CREATE INDEX mail_outbox_contact ON mail_outbox (contact_id);
