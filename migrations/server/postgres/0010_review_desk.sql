-- Same columns and meaning as migrations/server/sqlite/0010_review_desk.sql.
ALTER TABLE records ADD COLUMN state TEXT COLLATE "C";
ALTER TABLE records ADD COLUMN state_since TIMESTAMPTZ;

UPDATE records
SET state = body->>'status',
    state_since = CASE
        WHEN jsonb_typeof(body->'status_history') = 'array'
             AND jsonb_array_length(body->'status_history') > 0
        THEN (body->'status_history'->-1->>'at')::timestamptz
    END
WHERE kind = 'application';

UPDATE records
SET state = COALESCE(body->>'verification_status', 'pending')
WHERE kind = 'document';

CREATE INDEX records_by_state ON records (kind, state, state_since, id) WHERE state IS NOT NULL;

INSERT INTO record_keys (key, record_id)
SELECT 'u:application:' || a.parent_id::text || ':' || a.owner_id::text, a.id
FROM records a
JOIN records p ON p.id = a.parent_id AND p.kind = 'programme'
WHERE a.kind = 'application' AND NOT a.deleted AND a.owner_id IS NOT NULL
  AND a.state <> 'rejected'
  AND COALESCE((p.body->>'allow_multiple_applications')::boolean, FALSE) = FALSE
  AND NOT EXISTS (
      SELECT 1 FROM records b
      WHERE b.kind = 'application' AND NOT b.deleted AND b.parent_id = a.parent_id
        AND b.owner_id = a.owner_id AND b.state <> 'rejected' AND b.id < a.id)
ON CONFLICT DO NOTHING;
