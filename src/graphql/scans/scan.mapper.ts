import type { ScanView } from '../../services/scans.service';
import { toGlobalId } from '../common/node';
import type { Scan, ScanError } from './scan.type';

export function toScan(row: ScanView): Scan {
  const calls = (row.iamCalls ?? {}) as { total?: number; byOperation?: Record<string, number> };
  const settings = (row.settings ?? {}) as { setupWindowSeconds?: number; gracePeriodSeconds?: number };
  return {
    id: toGlobalId('Scan', row.id),
    accountId: row.accountId,
    status: row.status,
    queuedAt: row.queuedAt,
    startedAt: row.startedAt,
    requestedBy: row.requestedBy,
    progress: (row.progress ?? null) as Scan['progress'],
    finishedAt: row.finishedAt,
    source: row.source,
    reportGeneratedAt: row.reportGeneratedAt,
    observedAt: row.observedAt,
    counts: { pass: row.passCount, fail: row.failCount, notApplicable: row.notApplicableCount, error: row.errorCount, excepted: row.exceptedCount },
    opened: row.openedCount,
    resolved: row.resolvedCount,
    versionsWritten: row.versionsWritten,
    errors: (row.errors ?? []) as unknown as ScanError[],
    iamCalls: {
      total: calls.total ?? 0,
      byOperation: Object.entries(calls.byOperation ?? {}).map(([operation, count]) => ({ operation, count })),
    },
    setupWindowSeconds: settings.setupWindowSeconds ?? 0,
    gracePeriodSeconds: settings.gracePeriodSeconds ?? 0,
  };
}
