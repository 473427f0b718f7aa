-- A finding that never needed attention is NEVER_FAILED, not RESOLVED: RESOLVED said an open period ended (or an
-- exception covered a failure) and 14 of the sample account's 17 findings read RESOLVED with no resolution.
--
-- Which rows: a RESOLVED finding (or version) whose resolved_at is null was never opened, since every
-- resolution of an open period sets resolved_at. Among them a finding that was EXCEPTED from the first
-- time it failed stays RESOLVED, now with resolution EXCEPTED (what the lifecycle gives it from now on).
-- The others become NEVER_FAILED without a resolution (a gone key or user used to give them one).
--
-- A new enum value cannot be used in the transaction that adds it, so the type is replaced, and the
-- columns converted with their backfill in the same statement.
UPDATE finding SET resolution = CASE WHEN status = 'EXCEPTED' THEN 'EXCEPTED'::"Resolution" END
  WHERE state = 'RESOLVED' AND resolved_at IS NULL;
UPDATE finding_version SET resolution = CASE WHEN status = 'EXCEPTED' THEN 'EXCEPTED'::"Resolution" END
  WHERE state = 'RESOLVED' AND resolved_at IS NULL;

ALTER TYPE "FindingState" RENAME TO "FindingState_before_never_failed";
CREATE TYPE "FindingState" AS ENUM ('OPEN', 'RESOLVED', 'NEVER_FAILED');
ALTER TABLE finding ALTER COLUMN state TYPE "FindingState" USING (
  CASE WHEN state = 'RESOLVED' AND resolved_at IS NULL AND status <> 'EXCEPTED' THEN 'NEVER_FAILED' ELSE state::text END
)::"FindingState";
ALTER TABLE finding_version ALTER COLUMN state TYPE "FindingState" USING (
  CASE WHEN state = 'RESOLVED' AND resolved_at IS NULL AND status <> 'EXCEPTED' THEN 'NEVER_FAILED' ELSE state::text END
)::"FindingState";
DROP TYPE "FindingState_before_never_failed";

-- The change log's retention horizon, per account: the last (txid, seq) position retention deleted. A
-- findingChanges cursor below it may have missed pruned events, so it is refused (CURSOR_EXPIRED) rather
-- than continued past the gap. It lives beside pruned_before because retention prunes both together.
ALTER TABLE history_horizon ADD COLUMN changes_pruned_txid xid8, ADD COLUMN changes_pruned_seq BIGINT;
