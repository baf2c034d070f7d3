-- A registrant's first liveness check is due one interval after they were registered (issue 18):
-- the scheduler pages through live individuals by the server time they were first recorded
-- (`Store::never_checked`), looking only at those registered long enough ago.
CREATE INDEX records_individuals_by_created ON records (created_at, id)
    WHERE kind = 'individual' AND deleted = 0;
