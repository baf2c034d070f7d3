-- Same tables and meaning as migrations/server/sqlite/0009_staff_directory.sql (times are
-- RFC 3339 UTC text there and here: they are shown and sorted, never computed with).
CREATE TABLE staff_directory (
    id          UUID PRIMARY KEY,
    issuer      TEXT NOT NULL,
    subject     TEXT,
    email       TEXT,
    role        TEXT NOT NULL CHECK (role IN ('agent', 'staff', 'admin')),
    areas       TEXT NOT NULL,
    granted_by  TEXT NOT NULL,
    granted_at  TEXT NOT NULL,
    changed_by  TEXT,
    changed_at  TEXT,
    revoked_by  TEXT,
    revoked_at  TEXT,
    CHECK ((subject IS NULL) <> (email IS NULL))
);
CREATE UNIQUE INDEX staff_directory_live_subject ON staff_directory (issuer, subject)
    WHERE revoked_at IS NULL AND subject IS NOT NULL;
CREATE UNIQUE INDEX staff_directory_live_email ON staff_directory (issuer, email)
    WHERE revoked_at IS NULL AND email IS NOT NULL;

CREATE TABLE staff_changes (
    id          UUID PRIMARY KEY,
    entry_id    UUID NOT NULL REFERENCES staff_directory (id),
    action      TEXT NOT NULL CHECK (action IN ('grant', 'change', 'revoke')),
    role        TEXT NOT NULL,
    areas       TEXT NOT NULL,
    actor       TEXT NOT NULL,
    at          TEXT NOT NULL
);
CREATE INDEX staff_changes_by_entry ON staff_changes (entry_id);
CREATE FUNCTION staff_changes_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the staff directory''s history is append-only';
END $$;
CREATE TRIGGER staff_changes_no_update_or_delete BEFORE UPDATE OR DELETE ON staff_changes
    FOR EACH ROW EXECUTE FUNCTION staff_changes_append_only();
CREATE TRIGGER staff_changes_no_truncate BEFORE TRUNCATE ON staff_changes
    FOR EACH STATEMENT EXECUTE FUNCTION staff_changes_append_only();
