-- One person, several sign-in identities: eSignet gives each relying party its own pairwise
-- subject, and a person may sign in through more than one client (the app, a web portal) or
-- provider. Each identity whose provider vouches for the same national ID links to the same
-- record, so the one-identity-per-record rule of 0002 goes. A principal still links to at most
-- one record (the primary key).
CREATE TABLE citizen_links_new (
    principal     TEXT PRIMARY KEY NOT NULL,     -- "<issuer> <subject>"
    individual_id TEXT NOT NULL REFERENCES records (id),
    linked_at     TEXT NOT NULL
) STRICT, WITHOUT ROWID;
INSERT INTO citizen_links_new (principal, individual_id, linked_at)
    SELECT principal, individual_id, linked_at FROM citizen_links;
DROP TABLE citizen_links;
ALTER TABLE citizen_links_new RENAME TO citizen_links;
CREATE INDEX citizen_links_by_individual ON citizen_links (individual_id);
