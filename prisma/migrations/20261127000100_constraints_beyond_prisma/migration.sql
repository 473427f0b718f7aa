-- What Prisma's schema language cannot express: an extension, exclusion constraints over time
-- ranges, partial unique indexes and a table storage parameter.

CREATE EXTENSION IF NOT EXISTS btree_gist;

-- At most one version of a user, an access key or a finding is valid at any instant. The GiST
-- indexes behind these constraints also serve point-in-time reads
-- (`tstzrange(valid_from, valid_to) @> instant`).
ALTER TABLE iam_user_version ADD CONSTRAINT iam_user_version_no_overlap
  EXCLUDE USING gist (account_id WITH =, user_name WITH =, tstzrange(valid_from, valid_to) WITH &&);
ALTER TABLE access_key_version ADD CONSTRAINT access_key_version_no_overlap
  EXCLUDE USING gist (account_id WITH =, access_key_id WITH =, tstzrange(valid_from, valid_to) WITH &&);
ALTER TABLE finding_version ADD CONSTRAINT finding_version_no_overlap
  EXCLUDE USING gist (account_id WITH =, finding_id WITH =, tstzrange(valid_from, valid_to) WITH &&);

-- The current version of each row, found without reading history.
CREATE UNIQUE INDEX iam_user_version_current ON iam_user_version (account_id, user_name) WHERE valid_to IS NULL;
CREATE UNIQUE INDEX access_key_version_current ON access_key_version (account_id, access_key_id) WHERE valid_to IS NULL;
CREATE UNIQUE INDEX finding_version_current ON finding_version (finding_id) WHERE valid_to IS NULL;

-- Keyset pages of findings by the orders the API offers (identity breaks ties).
CREATE INDEX finding_by_first_seen ON finding (account_id, first_seen_at, identity);
CREATE INDEX finding_by_resolved ON finding (account_id, resolved_at, identity) WHERE resolved_at IS NOT NULL;
CREATE INDEX finding_failing ON finding (account_id, identity) WHERE status = 'FAIL' AND present;

-- Every scan moves last_seen_at of the findings it saw. Free space in each page lets PostgreSQL
-- update in place (HOT), so an unchanged rescan does not grow the table.
ALTER TABLE finding SET (fillfactor = 70);

-- At most one remediation in flight per access key: a concurrent request waits for it, then finds the
-- key already in the target state, so concurrent calls make one IAM write.
CREATE UNIQUE INDEX remediation_action_one_pending_per_key ON remediation_action (access_key_id)
  WHERE status = 'PENDING' AND NOT dry_run;
