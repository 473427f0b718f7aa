import type { RetentionService } from './retention.service';
import type { ScanRequest, ScanService, ScanSummary } from './scan.service';

export interface FullScanSetup {
  scans: ScanService;
  retention: RetentionService;
  /** KEYWARDEN_RETENTION_DAYS; unset, nothing is pruned. */
  retentionDays?: number | null;
}

/**
 * A full scan of the account, then the steps that follow every stored scan (afterScan). The CLI's direct
 * `scan` comes through here; every queued scan (ScanJobsService.runJob) ends with afterScan too, so those
 * steps cannot drift apart again.
 */
export async function runFullScan({ scans, retention, retentionDays }: FullScanSetup, request: ScanRequest): Promise<ScanSummary> {
  const summary = await scans.run(request);
  await afterScan(summary, retention, retentionDays);
  return summary;
}

/** What follows every stored scan: retention when configured (a FAILED or CANCELLED scan recorded nothing and prunes nothing). */
export async function afterScan(summary: ScanSummary, retention: RetentionService, retentionDays?: number | null): Promise<void> {
  if (retentionDays && summary.status !== 'FAILED' && summary.status !== 'CANCELLED') await retention.prune(retentionDays);
}
