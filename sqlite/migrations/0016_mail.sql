-- E-mail in and out (issue [2.3], section 3).
-- mail_messages: the mails Tresor sent or took in, for threading replies
-- into their case. The Message-ID is a technical token of the sending
-- program; its keyed hash finds it, the raw value is what a reply names in
-- In-Reply-To. No address, subject or text is kept here: those are sealed
-- in the case and its interactions.
CREATE TABLE mail_messages (
    hash       TEXT PRIMARY KEY,
    message_id TEXT NOT NULL,
    case_id    TEXT NOT NULL,
    contact_id TEXT NOT NULL,
    direction  TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX mail_messages_case ON mail_messages (case_id, created_at);
CREATE INDEX mail_messages_contact ON mail_messages (contact_id, direction);
-- mail_claims: each message of a mailbox is taken in once, across restarts
-- and servers: a server claims it (insert), takes it in, marks it done. A
-- claim that was never done (the server died) may be taken over later.
CREATE TABLE mail_claims (
    mailbox    TEXT NOT NULL,
    uid        TEXT NOT NULL,
    claimed_by TEXT NOT NULL,
    claimed_at INTEGER NOT NULL,
    done_at    INTEGER,
    PRIMARY KEY (mailbox, uid)
);
