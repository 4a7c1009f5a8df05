-- Tasks (issue [2.3]): the title and note are sealed like an interaction's
-- content, under the linked contact's key (key_subject = contact_id) or the
-- task's own. A contact's tasks go with the contact (erasure), a deal's or a
-- case's with it. due is the day, YYYY-MM-DD, which sorts as text.
CREATE TABLE tasks (
    id          UUID PRIMARY KEY,
    due         TEXT NOT NULL,
    assignee_id UUID REFERENCES users (id),
    contact_id  UUID REFERENCES contacts (id) ON DELETE CASCADE,
    deal_id     UUID REFERENCES deals (id) ON DELETE CASCADE,
    case_id     UUID REFERENCES cases (id) ON DELETE CASCADE,
    state       TEXT NOT NULL,
    done_at     BIGINT,
    key_subject UUID,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    version     BIGINT NOT NULL,
    sealed      BYTEA NOT NULL
);
CREATE INDEX tasks_assignee ON tasks (assignee_id, state, due);
CREATE INDEX tasks_due ON tasks (due, id);
CREATE INDEX tasks_contact ON tasks (contact_id);
CREATE INDEX tasks_deal ON tasks (deal_id);
CREATE INDEX tasks_case ON tasks (case_id);

-- The daily reminder mail: one claim per user and day, so that of several
-- servers on one database only the first sends it.
CREATE TABLE task_reminders (
    user_id    UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    day        TEXT NOT NULL,
    claimed_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, day)
);
