-- Same table and meaning as migrations/server/sqlite/0007_revocations.sql.
CREATE TABLE revocations (
    id          UUID PRIMARY KEY,
    target      TEXT NOT NULL,
    reason      TEXT NOT NULL,
    revoked_by  TEXT NOT NULL,
    revoked_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX revocations_by_target ON revocations (target);
