-- Same table and meaning as migrations/server/sqlite/0006_duplicate_flags.sql.
CREATE TABLE duplicate_flags (
    record_id    UUID NOT NULL REFERENCES records (id) ON DELETE CASCADE,
    candidate_id UUID NOT NULL REFERENCES records (id) ON DELETE CASCADE,
    score        INTEGER NOT NULL CHECK (score BETWEEN 0 AND 100),
    reasons      JSONB NOT NULL,
    flagged_at   TIMESTAMPTZ NOT NULL,
    flagged_for  TEXT NOT NULL,
    PRIMARY KEY (record_id, candidate_id)
);
CREATE INDEX duplicate_flags_by_candidate ON duplicate_flags (candidate_id);
