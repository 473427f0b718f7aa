-- A finding whose key or user is gone (or that no longer applies) keeps being listed among the resolved ones
-- (finding.present = false). Its version ended at that scan and none followed, so answers as of that scan or later
-- (findings(asOf:), scan(id) { findings }) left out what the current read lists. From now on the disappearance
-- opens a version of its own, present = false. A constant default adds the column without rewriting the table.
ALTER TABLE "finding_version" ADD COLUMN "present" BOOLEAN NOT NULL DEFAULT true;

-- Findings already gone get that version: the finding row's content (what the current read shows of them), from
-- the end of their last version, which the disappearance closed. Where retention deleted every version, the
-- disappearance was before the horizon: the version starts at the latest scan at or before the horizon, the one
-- that answers an asOf at the horizon (the finding was gone by then). Its content hash is never compared: a
-- finding seen again always opens a version (scan.store.ts). first_scan_id is the scan that last read it, as for
-- the versions the scans write.
INSERT INTO finding_version (id, finding_id, account_id, user_name, user_arn, status, reasons, evidence, state, resolved_at,
  resolution, reopen_count, content_hash, valid_from, first_scan_id, present)
SELECT gen_random_uuid(), f.id, f.account_id, f.user_name, f.user_arn, f.status, f.reasons, f.evidence, f.state, f.resolved_at,
  f.resolution, f.reopen_count, 'gone',
  COALESCE(
    (SELECT max(v.valid_to) FROM finding_version v WHERE v.finding_id = f.id),
    (SELECT max(s.observed_at) FROM scan s JOIN history_horizon h ON h.account_id = s.account_id
      WHERE s.account_id = f.account_id AND s.status IN ('COMPLETED', 'PARTIAL') AND s.observed_at <= h.pruned_before),
    f.last_seen_at),
  f.last_scan_id, false
FROM finding f
WHERE NOT f.present AND NOT EXISTS (SELECT 1 FROM finding_version v WHERE v.finding_id = f.id AND v.valid_to IS NULL);
