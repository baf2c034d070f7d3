-- Documents (encrypted files beside the database) and the device audit log.

-- One row per captured document. The file itself lives in the partition's docs/ folder,
-- encrypted with `file_key`; deleting the row destroys the only copy of that key.
CREATE TABLE documents (
    id           TEXT PRIMARY KEY NOT NULL,   -- UUIDv7; also the file name under docs/
    kind         TEXT NOT NULL,
    file_name    TEXT NOT NULL,               -- the name the person gave it, for display only
    mime_type    TEXT NOT NULL,               -- sniffed from the content, not from the name
    size_bytes   INTEGER NOT NULL CHECK (size_bytes >= 0),
    sha256       TEXT NOT NULL CHECK (length(sha256) = 64),
    record_id    TEXT,                        -- the record it belongs to, if any
    file_key     BLOB NOT NULL CHECK (length(file_key) = 32),
    captured_at  TEXT NOT NULL
) STRICT;

-- Append-only, hash-chained: each entry's hash covers the previous entry's hash, so removing or
-- editing any entry breaks every later hash. Triggers forbid UPDATE and DELETE.
CREATE TABLE audit_log (
    seq        INTEGER PRIMARY KEY,           -- 1, 2, 3, ... without gaps
    at         TEXT NOT NULL,
    actor      TEXT NOT NULL,
    action     TEXT NOT NULL,
    kind       TEXT NOT NULL,
    record_id  TEXT NOT NULL,
    detail     TEXT NOT NULL CHECK (json_valid(detail)),
    prev_hash  TEXT NOT NULL,
    hash       TEXT NOT NULL
) STRICT;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
