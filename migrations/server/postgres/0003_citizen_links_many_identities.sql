-- One person, several sign-in identities: eSignet gives each relying party its own pairwise
-- subject, and a person may sign in through more than one client (the app, a web portal) or
-- provider. Each identity whose provider vouches for the same national ID links to the same
-- record, so the one-identity-per-record rule of 0002 goes. A principal still links to at most
-- one record (the primary key).
ALTER TABLE citizen_links DROP CONSTRAINT citizen_links_individual_id_key;
CREATE INDEX citizen_links_by_individual ON citizen_links (individual_id);
