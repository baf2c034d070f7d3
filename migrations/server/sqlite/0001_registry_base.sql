-- Registry server, SQLite: the first schema.
-- Migrations are append-only: never edit a file that has shipped; add the next number instead.

-- One row per key; facts about this registry instance itself (not about people).
CREATE TABLE registry_meta (
    key   TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
) STRICT;

-- Social programmes people can apply to.
CREATE TABLE programmes (
    id          TEXT PRIMARY KEY NOT NULL,          -- UUIDv7, text form
    code        TEXT NOT NULL UNIQUE,               -- short stable handle, e.g. "child-benefit"
    name        TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    created_at  TEXT NOT NULL,                      -- RFC 3339, UTC
    updated_at  TEXT NOT NULL
) STRICT;

-- Form.io form definitions, versioned per programme. A published version is never changed:
-- applications keep pointing at the exact form they were filled in with.
CREATE TABLE form_definitions (
    programme_id TEXT NOT NULL REFERENCES programmes(id) ON DELETE CASCADE,
    version      INTEGER NOT NULL CHECK (version >= 1),
    schema_json  TEXT NOT NULL CHECK (json_valid(schema_json)),
    created_at   TEXT NOT NULL,
    PRIMARY KEY (programme_id, version)
) STRICT;
