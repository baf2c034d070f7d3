-- Status moves the person asked for (submit an application, send the answers the office asked
-- for) that wait for the registry. The registry changes an application's status only through
-- its transitions endpoint, never through a synced edit, so these travel apart from the outbox:
-- they are sent after it (the registry has the latest answers first), each exactly once (the
-- id is the request's Idempotency-Key).
CREATE TABLE transitions (
    id             TEXT PRIMARY KEY NOT NULL,
    application_id TEXT NOT NULL,
    to_status      TEXT NOT NULL,
    note           TEXT,
    created_at     TEXT NOT NULL,
    -- The registry's reason when it refused the move; kept (and shown) until the person acts.
    refusal        TEXT
) STRICT;

CREATE INDEX transitions_by_application ON transitions (application_id);
