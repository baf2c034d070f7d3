-- Registry server, SQLite: every record in one table, with a revision, an append-only change feed
-- that doubles as the audit trail, search keys, idempotency keys and citizen links.
--
-- Why one table for every kind: the server treats records uniformly (revision check, change feed,
-- access scope); the shape of each kind is checked by the domain model in Rust before a write,
-- and the columns below are the few facts the server must query on without parsing JSON.

CREATE TABLE records (
    id          TEXT PRIMARY KEY NOT NULL,       -- UUID, text form, unique across kinds
    kind        TEXT NOT NULL,                   -- doorstep_domain::RecordKind wire name
    rev         INTEGER NOT NULL CHECK (rev >= 1),  -- +1 on every accepted change of this record
    last_seq    INTEGER NOT NULL,                -- seq of the change that made this revision
    owner_id    TEXT,                            -- the individual the record is about, if any
    group_id    TEXT,                            -- the household it belongs to, if any
    area        TEXT,                            -- admin-area code, for agents' access
    parent_id   TEXT,                            -- the record it hangs off (programme of a form, …)
    creator     TEXT NOT NULL DEFAULT '',             -- actor id of whoever created it
    search_text TEXT NOT NULL DEFAULT '',        -- lower-cased names, for search
    deleted     INTEGER NOT NULL DEFAULT 0 CHECK (deleted IN (0, 1)),
    body        TEXT NOT NULL CHECK (json_valid(body)),
    created_at  TEXT NOT NULL,                   -- server time, RFC 3339 UTC
    updated_at  TEXT NOT NULL
) STRICT;
CREATE INDEX records_by_kind ON records (kind, id);
CREATE INDEX records_by_seq ON records (last_seq);
CREATE INDEX records_by_owner ON records (owner_id) WHERE owner_id IS NOT NULL;
CREATE INDEX records_by_group ON records (group_id) WHERE group_id IS NOT NULL;
CREATE INDEX records_by_area ON records (area, kind) WHERE area IS NOT NULL;
CREATE INDEX records_by_parent ON records (parent_id, kind) WHERE parent_id IS NOT NULL;

-- Exact-match lookup keys: `phone:+254700000001`, `id:NATIONAL_ID:12345`, `code:child-benefit`.
CREATE TABLE record_keys (
    key       TEXT NOT NULL,
    record_id TEXT NOT NULL REFERENCES records (id) ON DELETE CASCADE,
    PRIMARY KEY (key, record_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX record_keys_by_record ON record_keys (record_id);

-- Every accepted change, in commit order. `seq` is assigned as MAX(seq) + 1 inside the writing
-- transaction; SQLite has one writer at a time, so seqs become visible in order, without gaps.
CREATE TABLE changes (
    seq           INTEGER PRIMARY KEY NOT NULL,
    at            TEXT NOT NULL,
    record_id     TEXT NOT NULL,
    kind          TEXT NOT NULL,
    rev           INTEGER NOT NULL,
    op            TEXT NOT NULL CHECK (op IN ('create', 'update', 'delete')),
    actor         TEXT NOT NULL,                 -- who sent the request ("agent:sub")
    on_behalf_of  TEXT,                          -- the registrant an agent acted for
    before_sha256 TEXT,                          -- SHA-256 of the record body before; NULL on create
    after_sha256  TEXT NOT NULL,
    request_id    TEXT,                          -- Idempotency-Key or mutation id, when given
    merged        INTEGER NOT NULL DEFAULT 0 CHECK (merged IN (0, 1))  -- a stale sync write merged automatically ("soft" conflict), for review
) STRICT;
CREATE INDEX changes_by_record ON changes (record_id, seq);

-- The audit trail is append-only.
CREATE TRIGGER changes_no_update BEFORE UPDATE ON changes
BEGIN SELECT RAISE(ABORT, 'the change log is append-only'); END;
CREATE TRIGGER changes_no_delete BEFORE DELETE ON changes
BEGIN SELECT RAISE(ABORT, 'the change log is append-only'); END;

-- Responses to mutating requests that carried an Idempotency-Key, replayed on a retry.
CREATE TABLE idempotency_keys (
    scope       TEXT NOT NULL,                   -- the caller (actor id): keys are per caller
    key         TEXT NOT NULL,
    fingerprint TEXT NOT NULL,                   -- SHA-256 of method, path and body
    status      INTEGER NOT NULL,
    response    TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    PRIMARY KEY (scope, key)
) STRICT, WITHOUT ROWID;

-- Which individual record a signed-in citizen is (by provider issuer + subject).
CREATE TABLE citizen_links (
    principal     TEXT PRIMARY KEY NOT NULL,     -- "<issuer> <subject>"
    individual_id TEXT NOT NULL UNIQUE REFERENCES records (id),
    linked_at     TEXT NOT NULL
) STRICT, WITHOUT ROWID;

-- Programmes and forms become records. Programme rows move over with revision 1; each form
-- version becomes a form_definition record with a fresh random id.
INSERT INTO records (id, kind, rev, last_seq, parent_id, search_text, body, created_at, updated_at)
SELECT id, 'programme', 1, 0, NULL, lower(name),
       json_object('id', id, 'created_at', created_at, 'updated_at', updated_at,
                   'created_by', 'system:registry', 'rev', 1, 'deleted_at', NULL,
                   'code', code, 'name', name,
                   'description', CASE WHEN description = '' THEN NULL ELSE description END,
                   'allow_multiple_applications', json('false')),
       created_at, updated_at
FROM programmes;
INSERT INTO record_keys (key, record_id) SELECT 'code:' || code, id FROM programmes;

INSERT INTO records (id, kind, rev, last_seq, parent_id, search_text, body, created_at, updated_at)
SELECT f.uid, 'form_definition', 1, 0, f.programme_id, '',
       json_object('id', f.uid, 'created_at', f.created_at, 'updated_at', f.created_at,
                   'created_by', 'system:registry', 'rev', 1, 'deleted_at', NULL,
                   'programme_id', f.programme_id, 'version', f.version,
                   'schema', json(f.schema_json)),
       f.created_at, f.created_at
FROM (SELECT *, lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' ||
                substr(hex(randomblob(2)), 2) || '-a' || substr(hex(randomblob(2)), 2) || '-' ||
                hex(randomblob(6))) AS uid
      FROM form_definitions) AS f;

-- Give the moved records gap-free change-feed entries, in a stable order.
CREATE TEMP TABLE moved AS
SELECT id, kind, body, created_at, ROW_NUMBER() OVER (ORDER BY kind DESC, id) AS n
FROM records;
INSERT INTO changes (seq, at, record_id, kind, rev, op, actor, after_sha256)
SELECT n, created_at, id, kind, 1, 'create', 'system:migration', 'migrated' FROM moved;
UPDATE records SET last_seq = (SELECT n FROM moved WHERE moved.id = records.id);
DROP TABLE moved;

DROP TABLE form_definitions;
DROP TABLE programmes;
