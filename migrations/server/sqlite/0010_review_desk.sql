-- The review desk (issue 17). Two indexed facts of a record's workflow, written with every write
-- from the record's body (crates/registry/src/resources.rs, `state_of`): `state` (an
-- application's status, a document's verification status) and `state_since` (server time of an
-- application's last status change, RFC 3339 UTC with microseconds, so it sorts as text). The
-- queue (GET /v1/review/queue) pages through them oldest first without reading every body, and
-- counts each applicant's documents pending verification in one statement.
ALTER TABLE records ADD COLUMN state TEXT;
ALTER TABLE records ADD COLUMN state_since TEXT;

UPDATE records
SET state = json_extract(body, '$.status'),
    state_since = CASE
        WHEN json_array_length(body, '$.status_history') > 0
        THEN strftime('%Y-%m-%dT%H:%M:%f', json_extract(body, '$.status_history[#-1].at')) || '000Z'
    END
WHERE kind = 'application';

UPDATE records
SET state = COALESCE(json_extract(body, '$.verification_status'), 'pending')
WHERE kind = 'document';

CREATE INDEX records_by_state ON records (kind, state, state_since, id) WHERE state IS NOT NULL;

-- One application per person per programme (unless the programme allows several): a live
-- application that is not rejected holds the unique key `u:application:<programme>:<applicant>`
-- (storage/plan.rs refuses a second holder in the writing transaction). Existing ones get it
-- here; where one person already had several open applications to such a programme, the oldest
-- holds it (a reviewer settles the others).
INSERT INTO record_keys (key, record_id)
SELECT 'u:application:' || a.parent_id || ':' || a.owner_id, a.id
FROM records a
JOIN records p ON p.id = a.parent_id AND p.kind = 'programme'
WHERE a.kind = 'application' AND a.deleted = 0 AND a.owner_id IS NOT NULL
  AND a.state <> 'rejected'
  AND COALESCE(json_extract(p.body, '$.allow_multiple_applications'), 0) = 0
  AND NOT EXISTS (
      SELECT 1 FROM records b
      WHERE b.kind = 'application' AND b.deleted = 0 AND b.parent_id = a.parent_id
        AND b.owner_id = a.owner_id AND b.state <> 'rejected' AND b.id < a.id)
ON CONFLICT DO NOTHING;
