-- The staff directory (issue 17): which identity holds which role in the registry, whatever its
-- identity provider says. eSignet issues no role claims, so agents, staff and admins who sign in
-- through it (or through the ministry's own provider) get their role from here. An identity is an
-- issuer with either its subject or a verified e-mail address (lower case), never both.
--
-- Numbered 0009, not 0008: another branch adds 0008_admin_areas.sql. sqlx applies every
-- migration it has not applied yet, in version order, so the two may land in either order.
--
-- A revoked entry is kept (revoked_by/revoked_at set) and never answers again; the history of
-- every grant, change and revocation is staff_changes, which is append-only.
CREATE TABLE staff_directory (
    id          TEXT PRIMARY KEY NOT NULL,   -- UUIDv7: ids sort in grant order
    issuer      TEXT NOT NULL,               -- compared exactly with the token's iss
    subject     TEXT,                        -- the token's sub ...
    email       TEXT,                        -- ... or its e-mail claim, when email_verified
    role        TEXT NOT NULL CHECK (role IN ('agent', 'staff', 'admin')),
    areas       TEXT NOT NULL,               -- JSON array of area codes; agents exactly one
    granted_by  TEXT NOT NULL,               -- actor id of the admin (or cli:<user>)
    granted_at  TEXT NOT NULL,               -- RFC 3339 UTC, server time
    changed_by  TEXT,
    changed_at  TEXT,
    revoked_by  TEXT,
    revoked_at  TEXT,
    CHECK ((subject IS NULL) <> (email IS NULL))
) STRICT, WITHOUT ROWID;
-- One live entry per identity: a second grant for the same person is a change, not a duplicate.
CREATE UNIQUE INDEX staff_directory_live_subject ON staff_directory (issuer, subject)
    WHERE revoked_at IS NULL AND subject IS NOT NULL;
CREATE UNIQUE INDEX staff_directory_live_email ON staff_directory (issuer, email)
    WHERE revoked_at IS NULL AND email IS NOT NULL;

-- Who granted, changed or revoked which entry, when, and what it became.
CREATE TABLE staff_changes (
    id          TEXT PRIMARY KEY NOT NULL,
    entry_id    TEXT NOT NULL REFERENCES staff_directory (id),
    action      TEXT NOT NULL CHECK (action IN ('grant', 'change', 'revoke')),
    role        TEXT NOT NULL,
    areas       TEXT NOT NULL,
    actor       TEXT NOT NULL,
    at          TEXT NOT NULL
) STRICT, WITHOUT ROWID;
CREATE INDEX staff_changes_by_entry ON staff_changes (entry_id);
CREATE TRIGGER staff_changes_no_update BEFORE UPDATE ON staff_changes
BEGIN SELECT RAISE(ABORT, 'the staff directory''s history is append-only'); END;
CREATE TRIGGER staff_changes_no_delete BEFORE DELETE ON staff_changes
BEGIN SELECT RAISE(ABORT, 'the staff directory''s history is append-only'); END;
