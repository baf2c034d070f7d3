-- Doorstep vault, one user's partition (a SQLCipher database of its own): the first schema.
-- Applied by crates/client/src/vault/migrations.rs, which tracks the version in PRAGMA user_version.
-- Append-only: never edit a file that has shipped; add the next number instead.

-- Every record of the domain model this person keeps on the device, as JSON.
CREATE TABLE records (
    kind        TEXT NOT NULL,                -- entity name: individual, group, membership, ...
    id          TEXT NOT NULL,                -- UUIDv7
    body        TEXT NOT NULL CHECK (json_valid(body)),
    rev         INTEGER,                      -- server revision; NULL until first synced
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    deleted_at  TEXT,                         -- soft delete: kept until the deletion is synced
    PRIMARY KEY (kind, id)
) STRICT;

-- Changes waiting to be sent to the registry, written in the same transaction as the change.
CREATE TABLE outbox (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,   -- local order: mutations apply in this order
    mutation_id  TEXT NOT NULL UNIQUE,                -- idempotency key on the server
    kind         TEXT NOT NULL,
    record_id    TEXT NOT NULL,
    op           TEXT NOT NULL CHECK (op IN ('create', 'update', 'delete')),
    base_rev     INTEGER,                             -- server revision the change was made on
    changes      TEXT NOT NULL CHECK (json_valid(changes)),  -- field-level change set
    created_at   TEXT NOT NULL
) STRICT;
CREATE INDEX outbox_record ON outbox (kind, record_id);

-- Form and profile drafts, autosaved while the person types.
CREATE TABLE drafts (
    key         TEXT PRIMARY KEY NOT NULL,    -- e.g. "form:child-benefit:v1" or "profile"
    data        TEXT NOT NULL CHECK (json_valid(data)),
    updated_at  TEXT NOT NULL
) STRICT;
