-- Notices the registry sent back with its answer to a pushed change, kept until the person has
-- seen and dismissed them. Today one kind: `possible_duplicate`, the registry's duplicate check
-- found people already registered (possibly by another agent, elsewhere) who are likely the
-- person just saved; `body` holds its matches (ids, scores, reasons), best first.
-- Written in the same transaction as the answer page it came with, so it is never lost nor
-- recorded twice (an answer is recorded once: its outbox entry goes in that transaction).
CREATE TABLE notices (
    id           INTEGER PRIMARY KEY,
    kind         TEXT NOT NULL CHECK (kind IN ('possible_duplicate')),
    record_kind  TEXT NOT NULL,
    record_id    TEXT NOT NULL,
    body         TEXT NOT NULL CHECK (json_valid(body)),
    mutation_id  TEXT NOT NULL,                -- the pushed change the answer was to
    received_at  TEXT NOT NULL,
    dismissed_at TEXT,                         -- when the person dismissed it (or a newer check
                                               -- of the same record replaced it)
    UNIQUE (mutation_id, kind)
) STRICT;

CREATE INDEX notices_open ON notices (record_id) WHERE dismissed_at IS NULL;
