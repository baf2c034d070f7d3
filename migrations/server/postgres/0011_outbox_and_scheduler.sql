-- Same tables and meaning as migrations/server/sqlite/0011_outbox_and_scheduler.sql.
CREATE TABLE outbox (
    id              UUID PRIMARY KEY,
    notification_id UUID NOT NULL,
    recipient_id    UUID NOT NULL,
    area            TEXT COLLATE "C",
    channel         TEXT NOT NULL CHECK (channel IN ('email', 'webhook')),
    address         TEXT NOT NULL,
    language        TEXT NOT NULL,
    subject         TEXT NOT NULL,
    body            TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('pending', 'sending', 'delivered', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMPTZ NOT NULL,
    claimed_by      TEXT,
    lease_until     TIMESTAMPTZ,
    last_error      TEXT,
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL,
    delivered_at    TIMESTAMPTZ
);
CREATE INDEX outbox_due ON outbox (status, next_attempt_at) WHERE status IN ('pending', 'sending');
CREATE INDEX outbox_by_created ON outbox (created_at, id);
CREATE INDEX outbox_by_recipient ON outbox (recipient_id, created_at, id);

CREATE TABLE scheduled_jobs (
    name        TEXT PRIMARY KEY,
    holder      TEXT,
    lease_until TIMESTAMPTZ,
    next_run_at TIMESTAMPTZ NOT NULL,
    last_run_at TIMESTAMPTZ
);

UPDATE records
SET state = body->>'next_due'
WHERE kind = 'liveness_check' AND body->>'outcome' = 'passed' AND body->>'next_due' IS NOT NULL;
