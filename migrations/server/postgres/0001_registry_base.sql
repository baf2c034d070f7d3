-- Registry server, PostgreSQL: the first schema. Same tables and meaning as
-- migrations/server/sqlite/0001_registry_base.sql, in PostgreSQL's own types.
-- Migrations are append-only: never edit a file that has shipped; add the next number instead.

-- Facts about this registry instance itself (not about people).
CREATE TABLE registry_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- Social programmes people can apply to.
CREATE TABLE programmes (
    id          UUID PRIMARY KEY,                   -- UUIDv7
    code        TEXT NOT NULL UNIQUE,               -- short stable handle, e.g. "child-benefit"
    name        TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);

-- Form.io form definitions, versioned per programme; a published version never changes.
CREATE TABLE form_definitions (
    programme_id UUID NOT NULL REFERENCES programmes(id) ON DELETE CASCADE,
    version      INTEGER NOT NULL CHECK (version >= 1),
    schema_json  JSONB NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (programme_id, version)
);
