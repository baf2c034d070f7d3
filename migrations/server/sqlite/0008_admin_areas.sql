-- The gazetteer: the administrative areas an address may name (crates/domain/src/gazetteer.rs).
-- Replaced whole by an admin (PUT /v1/areas) in one transaction; while it is empty, addresses
-- may name any areas. Codes are dotted and hierarchical (a child's code extends its parent's),
-- so an agent's part of it is found by code prefix, like the agent's records.
CREATE TABLE admin_areas (
    code        TEXT PRIMARY KEY NOT NULL,
    parent_code TEXT,                       -- NULL at level 1; in the same gazetteer otherwise
    level       INTEGER NOT NULL CHECK (level BETWEEN 1 AND 6),
    name        TEXT NOT NULL
) STRICT, WITHOUT ROWID;
CREATE INDEX admin_areas_by_parent ON admin_areas (parent_code);

-- Who replaced the gazetteer, when, and with what (append-only, the audit trail of the
-- replacements, as `revocations` is of withdrawals).
CREATE TABLE admin_area_loads (
    id          TEXT PRIMARY KEY NOT NULL,
    loaded_by   TEXT NOT NULL,              -- the admin's actor id
    loaded_at   TEXT NOT NULL,              -- server time, RFC 3339 UTC
    areas       INTEGER NOT NULL,           -- how many areas it holds
    sha256      TEXT NOT NULL               -- of the gazetteer as answered (its ETag)
) STRICT, WITHOUT ROWID;
CREATE TRIGGER admin_area_loads_append_only_update BEFORE UPDATE ON admin_area_loads
BEGIN SELECT RAISE(ABORT, 'admin_area_loads is append-only'); END;
CREATE TRIGGER admin_area_loads_append_only_delete BEFORE DELETE ON admin_area_loads
BEGIN SELECT RAISE(ABORT, 'admin_area_loads is append-only'); END;
