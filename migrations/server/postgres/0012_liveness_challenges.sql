-- Same table and meaning as migrations/server/sqlite/0012_liveness_challenges.sql.
CREATE TABLE liveness_challenges (
    id            UUID PRIMARY KEY,
    individual_id UUID NOT NULL,
    requested_by  TEXT NOT NULL,
    issuer        TEXT NOT NULL,
    nonce         TEXT NOT NULL,
    acr_values    TEXT NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL,
    expires_at    TIMESTAMPTZ NOT NULL,
    used_at       TIMESTAMPTZ
);
