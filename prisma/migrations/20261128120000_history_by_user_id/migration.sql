-- History follows IAM's user id, not the user name (issue #12, defects 9 and 10):
-- - a finding's identity becomes account/control/<user id>/<key id>, so a renamed user keeps its findings
--   and a user deleted and re-created under the same name (a new user id) gets new ones;
-- - each finding version records the user's name and ARN as they were, so an answer as of an instant
--   shows the name and ARN of that instant, not today's;
-- - each scan records the findings it carried over without reading them (users or keys it could not
--   read), so lastSeenAt as of an instant is the last scan that really saw the finding.

ALTER TABLE finding ADD COLUMN user_id TEXT;
ALTER TABLE finding_version ADD COLUMN user_name TEXT, ADD COLUMN user_arn TEXT;
ALTER TABLE scan ADD COLUMN carried_identities TEXT[] DEFAULT ARRAY[]::TEXT[];

-- Past versions get the name and ARN the finding holds now: the best that was stored.
UPDATE finding_version v SET user_name = f.user_name, user_arn = f.user_arn FROM finding f WHERE f.id = v.finding_id;
ALTER TABLE finding_version ALTER COLUMN user_name SET NOT NULL, ALTER COLUMN user_arn SET NOT NULL;

-- Findings move to the user id of the latest user of their name (a name-based identity could not tell a
-- re-created user from the first one, so its findings belong to the latest). Names with no stored user
-- version keep their name-based identity.
UPDATE finding f SET
  user_id = u.user_id,
  identity = f.account_id || '/' || f.control_id || '/' || u.user_id || '/' || COALESCE(f.access_key_id, '-')
FROM (
  SELECT DISTINCT ON (account_id, user_name) account_id, user_name, user_id FROM iam_user_version
  WHERE user_id IS NOT NULL ORDER BY account_id, user_name, valid_from DESC
) u
WHERE u.account_id = f.account_id AND u.user_name = f.user_name;

CREATE INDEX finding_account_id_user_id_idx ON finding (account_id, user_id);
