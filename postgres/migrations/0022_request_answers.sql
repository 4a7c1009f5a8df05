-- Answers and reminders of requests of data subjects (issue [2.4]).
-- closed_at is when a request was answered or refused (microseconds since
-- the epoch); the retention period of closed requests counts from it.
ALTER TABLE data_requests ADD COLUMN closed_at BIGINT;
-- Requests closed before this migration count from their last change.
UPDATE data_requests SET closed_at = updated_at WHERE state IN ('answered', 'refused');
CREATE INDEX data_requests_closed ON data_requests (closed_at, id);
-- The reminders to the DPO a week before a deadline and on the day: one
-- claim per request, reminder and deadline, so that of several servers on
-- one database only the first sends it (an extension gives new reminders).
CREATE TABLE request_reminders (
    request_id UUID NOT NULL REFERENCES data_requests (id) ON DELETE CASCADE,
    reminder   TEXT NOT NULL,
    due        TEXT NOT NULL,
    claimed_at BIGINT NOT NULL,
    PRIMARY KEY (request_id, reminder, due)
);
