-- Same tables and meaning as migrations/server/sqlite/0008_admin_areas.sql.
CREATE TABLE admin_areas (
    code        TEXT PRIMARY KEY,
    parent_code TEXT,
    level       SMALLINT NOT NULL CHECK (level BETWEEN 1 AND 6),
    name        TEXT NOT NULL
);
CREATE INDEX admin_areas_by_parent ON admin_areas (parent_code);

CREATE TABLE admin_area_loads (
    id          UUID PRIMARY KEY,
    loaded_by   TEXT NOT NULL,
    loaded_at   TIMESTAMPTZ NOT NULL,
    areas       INTEGER NOT NULL,
    sha256      TEXT NOT NULL
);
CREATE FUNCTION admin_area_loads_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'admin_area_loads is append-only';
END $$;
CREATE TRIGGER admin_area_loads_append_only
    BEFORE UPDATE OR DELETE ON admin_area_loads
    FOR EACH ROW EXECUTE FUNCTION admin_area_loads_append_only();
CREATE TRIGGER admin_area_loads_no_truncate BEFORE TRUNCATE ON admin_area_loads
    FOR EACH STATEMENT EXECUTE FUNCTION admin_area_loads_append_only();
