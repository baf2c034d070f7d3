-- Stored sync results become per caller, as HTTP Idempotency-Keys already were: a mutation id is
-- remembered under the scope 'sync:<actor>' instead of one shared 'sync' scope, so nobody is
-- handed another caller's result by sending their mutation id. Results stored before this
-- migration move to the scope of the actor who made the change (the change log names it, with
-- the mutation id as request_id); a temporary index keeps that lookup fast on a large log.
CREATE INDEX changes_by_request_tmp ON changes (request_id);
UPDATE idempotency_keys
SET scope = 'sync:' || COALESCE(
    (SELECT c.actor FROM changes c WHERE c.request_id = idempotency_keys.key ORDER BY c.seq LIMIT 1),
    'unknown')
WHERE scope = 'sync';
DROP INDEX changes_by_request_tmp;
