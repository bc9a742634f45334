-- Jobs are claimed under a lease: the worker that holds the token may advance, finish or fail the
-- job until the lease expires; then any worker may requeue it. A job running under no lease (from
-- before this migration) counts as expired.
ALTER TABLE jobs ADD COLUMN lease_owner TEXT;
ALTER TABLE jobs ADD COLUMN lease_token TEXT;
ALTER TABLE jobs ADD COLUMN lease_expires_at TEXT;
CREATE INDEX jobs_lease ON jobs (status, lease_expires_at);
