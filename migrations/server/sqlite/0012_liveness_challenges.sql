-- Liveness step-ups (issue 18): one row per challenge the registry gave out. The nonce goes into
-- the person's authorization request and must come back in the provider's ID token; `used_at` is
-- set by the one proof that takes the challenge (a conditional UPDATE), so a replayed token or a
-- second proof finds it used. Only the asking caller (`requested_by`) may answer it. Rows are
-- small and kept as the trail of checks attempted.
CREATE TABLE liveness_challenges (
    id            TEXT PRIMARY KEY,
    individual_id TEXT NOT NULL,
    requested_by  TEXT NOT NULL,
    issuer        TEXT NOT NULL,
    nonce         TEXT NOT NULL,
    acr_values    TEXT NOT NULL,                -- required values, space-separated; '' = fresh login only
    created_at    TEXT NOT NULL,                -- RFC 3339 UTC, microseconds
    expires_at    TEXT NOT NULL,
    used_at       TEXT
) STRICT, WITHOUT ROWID;
