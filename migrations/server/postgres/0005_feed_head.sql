-- The change feed's head in a row of its own. A writer reads it together with the records it
-- checks, and its writing statement moves it on only if it is still what was read: `seq` is the
-- newest change, `writes` counts writing statements (one that stores only an idempotent answer
-- adds no change, yet another writer must notice it). Every writer takes this row's lock, so
-- changes commit in seq order. See crates/registry/src/storage/sql.rs.
CREATE TABLE feed_head (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    seq BIGINT NOT NULL,
    writes BIGINT NOT NULL
);
INSERT INTO feed_head (id, seq, writes) SELECT 1, COALESCE(MAX(seq), 0), 0 FROM changes;
