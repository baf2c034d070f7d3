-- Sync state: where the pull stopped, what the registry refused, conflicts waiting for a person,
-- and document uploads in flight.

-- A refused mutation stays in the outbox, marked, with the registry's reason; it is not sent
-- again until the person edits or discards it, and it never holds up the rest of the queue.
ALTER TABLE outbox ADD COLUMN state TEXT NOT NULL DEFAULT 'pending'
    CHECK (state IN ('pending', 'rejected'));
ALTER TABLE outbox ADD COLUMN rejection TEXT CHECK (rejection IS NULL OR json_valid(rejection));

-- Small facts about sync: the pull cursor, when the last sync succeeded.
CREATE TABLE sync_state (
    key   TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
) STRICT;

-- One row per field two people changed differently. Both versions and their common base are
-- kept until the person chooses; the record's later edits wait behind it.
CREATE TABLE conflicts (
    kind        TEXT NOT NULL,
    record_id   TEXT NOT NULL,
    field       TEXT NOT NULL,                 -- top-level field, `field[element id]`, or `*`
    base        TEXT NOT NULL CHECK (json_valid(base)),
    mine        TEXT NOT NULL CHECK (json_valid(mine)),
    theirs      TEXT NOT NULL CHECK (json_valid(theirs)),
    server_rev  INTEGER NOT NULL,              -- the registry's revision the choice is made on
    mutation_id TEXT NOT NULL,                 -- the local change that clashed
    created_at  TEXT NOT NULL,
    PRIMARY KEY (kind, record_id, field)
) STRICT;

-- Document uploads in flight (tus): resumed from the last acknowledged offset after a restart.
CREATE TABLE uploads (
    document_id TEXT PRIMARY KEY NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    url         TEXT,                          -- the registry's upload URL, once created
    offset      INTEGER NOT NULL DEFAULT 0,    -- bytes the registry has acknowledged
    done        INTEGER NOT NULL DEFAULT 0 CHECK (done IN (0, 1))
) STRICT;
