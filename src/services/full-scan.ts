import type { RetentionService } from './retention.service';
import type { ScanRequest, ScanService, ScanSummary } from './scan.service';

export interface FullScanSetup {
  scans: ScanService;
  retention: RetentionService;
  /** KEYWARDEN_RETENTION_DAYS; unset, nothing is pruned. */
  retentionDays?: number | null;
}

/**
 * A full scan of the account, then the steps that follow every stored scan: retention when configured (a
 * FAILED scan recorded nothing and prunes nothing). CLI `scan` and `start` and GraphQL `startScan` all
 * come through here, so those steps cannot drift apart again.
 */
export async function runFullScan({ scans, retention, retentionDays }: FullScanSetup, request: ScanRequest): Promise<ScanSummary> {
  const summary = await scans.run(request);
  if (retentionDays && summary.status !== 'FAILED') await retention.prune(retentionDays);
  return summary;
}
