-- Likely duplicates the registry's duplicate check found when an individual was saved
-- (crates/registry/src/duplicates.rs), kept for staff: `record_id` was saved while
-- `candidate_id` was already registered. One row per pair; the record's next check replaces its
-- rows (a pair found again keeps when and for whom it was first flagged). Written in the same
-- statement as the record, so a stored record never lacks its flags.
CREATE TABLE duplicate_flags (
    record_id    TEXT NOT NULL REFERENCES records (id) ON DELETE CASCADE,
    candidate_id TEXT NOT NULL REFERENCES records (id) ON DELETE CASCADE,
    score        INTEGER NOT NULL CHECK (score BETWEEN 0 AND 100),
    reasons      TEXT NOT NULL CHECK (json_valid(reasons)),  -- [doorstep_domain::duplicates::Reason]
    flagged_at   TEXT NOT NULL,                              -- server time, RFC 3339 UTC
    flagged_for  TEXT NOT NULL,                              -- actor who saved the record and was told
    PRIMARY KEY (record_id, candidate_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX duplicate_flags_by_candidate ON duplicate_flags (candidate_id);
