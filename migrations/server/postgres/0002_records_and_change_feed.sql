-- Registry server, PostgreSQL: same tables and meaning as
-- migrations/server/sqlite/0002_records_and_change_feed.sql, in PostgreSQL's own types.

CREATE TABLE records (
    id          UUID PRIMARY KEY,
    kind        TEXT NOT NULL,
    rev         BIGINT NOT NULL CHECK (rev >= 1),
    last_seq    BIGINT NOT NULL,
    owner_id    UUID,
    group_id    UUID,
    area        TEXT COLLATE "C",
    parent_id   UUID,
    creator     TEXT NOT NULL DEFAULT '',
    search_text TEXT NOT NULL DEFAULT '',
    deleted     BOOLEAN NOT NULL DEFAULT FALSE,
    body        JSONB NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX records_by_kind ON records (kind, id);
CREATE INDEX records_by_seq ON records (last_seq);
CREATE INDEX records_by_owner ON records (owner_id) WHERE owner_id IS NOT NULL;
CREATE INDEX records_by_group ON records (group_id) WHERE group_id IS NOT NULL;
CREATE INDEX records_by_area ON records (area, kind) WHERE area IS NOT NULL;
CREATE INDEX records_by_parent ON records (parent_id, kind) WHERE parent_id IS NOT NULL;

CREATE TABLE record_keys (
    key       TEXT COLLATE "C" NOT NULL,
    record_id UUID NOT NULL REFERENCES records (id) ON DELETE CASCADE,
    PRIMARY KEY (key, record_id)
);
CREATE INDEX record_keys_by_record ON record_keys (record_id);

-- `seq` is MAX(seq) + 1 taken while holding a transaction-level advisory lock that every
-- writing transaction takes first (see storage/sql.rs): writers commit one after the other, so
-- a reader that has seen seq N can never later find a committed N-1 it skipped.
CREATE TABLE changes (
    seq           BIGINT PRIMARY KEY,
    at            TIMESTAMPTZ NOT NULL,
    record_id     UUID NOT NULL,
    kind          TEXT NOT NULL,
    rev           BIGINT NOT NULL,
    op            TEXT NOT NULL CHECK (op IN ('create', 'update', 'delete')),
    actor         TEXT NOT NULL,
    on_behalf_of  TEXT,
    before_sha256 TEXT,
    after_sha256  TEXT NOT NULL,
    request_id    TEXT,
    merged        BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX changes_by_record ON changes (record_id, seq);

CREATE FUNCTION changes_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the change log is append-only';
END $$;
CREATE TRIGGER changes_no_update_or_delete BEFORE UPDATE OR DELETE ON changes
    FOR EACH ROW EXECUTE FUNCTION changes_append_only();
CREATE TRIGGER changes_no_truncate BEFORE TRUNCATE ON changes
    FOR EACH STATEMENT EXECUTE FUNCTION changes_append_only();

CREATE TABLE idempotency_keys (
    scope       TEXT NOT NULL,
    key         TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    status      INTEGER NOT NULL,
    response    TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (scope, key)
);

CREATE TABLE citizen_links (
    principal     TEXT PRIMARY KEY,
    individual_id UUID NOT NULL UNIQUE REFERENCES records (id),
    linked_at     TIMESTAMPTZ NOT NULL
);

INSERT INTO records (id, kind, rev, last_seq, parent_id, search_text, body, created_at, updated_at)
SELECT id, 'programme', 1, 0, NULL, lower(name),
       jsonb_build_object('id', id, 'created_at', created_at, 'updated_at', updated_at,
                          'created_by', 'system:registry', 'rev', 1, 'deleted_at', NULL,
                          'code', code, 'name', name,
                          'description', NULLIF(description, ''),
                          'allow_multiple_applications', FALSE),
       created_at, updated_at
FROM programmes;
INSERT INTO record_keys (key, record_id) SELECT 'code:' || code, id FROM programmes;

INSERT INTO records (id, kind, rev, last_seq, parent_id, search_text, body, created_at, updated_at)
SELECT f.uid, 'form_definition', 1, 0, f.programme_id, '',
       jsonb_build_object('id', f.uid, 'created_at', f.created_at, 'updated_at', f.created_at,
                          'created_by', 'system:registry', 'rev', 1, 'deleted_at', NULL,
                          'programme_id', f.programme_id, 'version', f.version,
                          'schema', f.schema_json),
       f.created_at, f.created_at
FROM (SELECT *, gen_random_uuid() AS uid FROM form_definitions) AS f;

WITH moved AS (
    SELECT id, kind, created_at, ROW_NUMBER() OVER (ORDER BY kind DESC, id) AS n FROM records
)
INSERT INTO changes (seq, at, record_id, kind, rev, op, actor, after_sha256)
SELECT n, created_at, id, kind, 1, 'create', 'system:migration', 'migrated' FROM moved;
UPDATE records SET last_seq = c.seq FROM changes c WHERE c.record_id = records.id;

DROP TABLE form_definitions;
DROP TABLE programmes;
