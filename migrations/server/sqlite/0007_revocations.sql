-- Field agents' devices and accounts the registry no longer serves (issue 16): a laptop lost or
-- handed over, an agent who left. Never deleted: the table is the audit trail of who revoked
-- what, when and why. A revoked caller may still send what their device holds (sync push and
-- document uploads), then everything else is refused and the app wipes its data.
CREATE TABLE revocations (
    id          TEXT PRIMARY KEY NOT NULL,
    target      TEXT NOT NULL,              -- "device:<uuid>" or "agent:<subject>" (actor id)
    reason      TEXT NOT NULL,
    revoked_by  TEXT NOT NULL,              -- the admin's actor id
    revoked_at  TEXT NOT NULL               -- server time, RFC 3339 UTC
) STRICT, WITHOUT ROWID;
CREATE INDEX revocations_by_target ON revocations (target);
