-- Messages beyond the app (issue 18): the durable outbox and the registry's scheduled jobs.
--
-- `outbox`: one row per (notification, channel) the person can be reached by and has not opted
-- out of, written in the same statement as the notification (storage/sql.rs `write_plan`), so a
-- notification and its messages commit together. The id is derived from the notification and the
-- channel (crates/registry/src/outbound/mod.rs `message_id`): written twice, it is one row. It is
-- the message's stable id at the receiver (e-mail Message-ID, webhook Idempotency-Key).
-- status: pending → sending (claimed by `claimed_by` until `lease_until`; a claim whose lease
-- ran out is claimable again) → delivered | pending again (a retry at `next_attempt_at`) |
-- failed (`attempts` used up, or refused for good; `last_error` says why).
CREATE TABLE outbox (
    id              TEXT PRIMARY KEY,
    notification_id TEXT NOT NULL,
    recipient_id    TEXT NOT NULL,
    area            TEXT,                         -- the recipient's, for staff limited to areas
    channel         TEXT NOT NULL CHECK (channel IN ('email', 'webhook')),
    address         TEXT NOT NULL,                -- an e-mail address, or an E.164 number
    language        TEXT NOT NULL,
    subject         TEXT NOT NULL,
    body            TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('pending', 'sending', 'delivered', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,                -- RFC 3339 UTC, microseconds: sorts as text
    claimed_by      TEXT,
    lease_until     TEXT,
    last_error      TEXT,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    delivered_at    TEXT
) STRICT, WITHOUT ROWID;
CREATE INDEX outbox_due ON outbox (status, next_attempt_at) WHERE status IN ('pending', 'sending');
CREATE INDEX outbox_by_created ON outbox (created_at, id);
CREATE INDEX outbox_by_recipient ON outbox (recipient_id, created_at, id);

-- One row per periodic job: whoever moves `lease_until` past now (one UPDATE, so one process)
-- runs it; `next_run_at` spaces the runs across every process sharing the database.
CREATE TABLE scheduled_jobs (
    name        TEXT PRIMARY KEY,
    holder      TEXT,
    lease_until TEXT,
    next_run_at TEXT NOT NULL,
    last_run_at TEXT
) STRICT, WITHOUT ROWID;

-- A passed liveness check's `state` is its `next_due` day (YYYY-MM-DD), so the scheduler finds
-- who is due soon or overdue through records_by_state without reading every body.
UPDATE records
SET state = json_extract(body, '$.next_due')
WHERE kind = 'liveness_check' AND json_extract(body, '$.outcome') = 'passed'
  AND json_extract(body, '$.next_due') IS NOT NULL;
