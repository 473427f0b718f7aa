import type { ScanError as StoredScanError } from '../../domain/inventory';
import type { ScanView } from '../../services/scans.service';
import { toGlobalId } from '../common/node';
import { IamOperationEnum, type ScanErrorCodeEnum } from '../common/scalars';
import type { OperationCount, Scan, ScanError } from './scan.type';

type ScanErrorCode = keyof typeof ScanErrorCodeEnum;

// Scans store the code they met: an AWS error name (AccessDenied, Throttling), a network code, or one of
// Keywarden's error class names. The API answers a stable enum instead; the raw code stays in the database and
// its text in `message`. First match wins.
const CODE_PATTERNS: [RegExp, ScanErrorCode][] = [
  [/^ASSUME_ROLE_DENIED$/, 'ASSUME_ROLE_DENIED'],
  [/^UNKNOWN_ACCOUNT$/, 'UNKNOWN_ACCOUNT'],
  [/^ACCOUNT_MISMATCH$|^AccountMismatch/, 'ACCOUNT_MISMATCH'],
  [/^interrupted$/i, 'INTERRUPTED'],
  [/^AccountUnreadable/, 'ACCOUNT_UNREADABLE'],
  [/^CredentialReport/, 'CREDENTIAL_REPORT_UNAVAILABLE'],
  [/^(AccessDenied|UnauthorizedOperation|AuthorizationError)/, 'ACCESS_DENIED'],
  [/^(NO_AWS_CREDENTIALS|InvalidClientTokenId|SignatureDoesNotMatch|ExpiredToken|UnrecognizedClient|CredentialsProviderError|InvalidAccessKeyId)/, 'CREDENTIALS_INVALID'],
  [/Throttl|TooManyRequests|RequestLimitExceeded/, 'THROTTLED'],
  [/^NoSuchEntity/, 'NOT_FOUND'],
  [/^LimitExceeded/, 'LIMIT_EXCEEDED'],
  [/^(ServiceFailure|ServiceUnavailable|InternalError|InternalFailure)/, 'IAM_SERVICE_FAILURE'],
  [/^(TimeoutError|ECONN|ETIMEDOUT|EAI_AGAIN|ENOTFOUND|EPIPE|RequestTimeout|NetworkingError)/, 'NETWORK_ERROR'],
  [/DatabaseUnavailable|^P10\d\d$/, 'DATABASE_UNAVAILABLE'],
];

export function toScanErrorCode(stored: string): ScanErrorCode {
  return CODE_PATTERNS.find(([pattern]) => pattern.test(stored))?.[1] ?? 'OTHER';
}

function toScanError(e: StoredScanError): ScanError {
  return {
    severity: e.severity === 'warning' ? 'WARNING' : 'ERROR',
    scope: e.scope,
    userName: e.userName ?? null,
    accessKeyId: e.accessKeyId ?? null,
    operation: e.operation,
    code: toScanErrorCode(e.code),
    message: e.message,
  };
}

/** `ListAccessKeys` → LIST_ACCESS_KEYS; operations outside the enum are summed as OTHER. Most calls first. */
export function toOperationCounts(byOperation: Record<string, number>): OperationCount[] {
  const sums = new Map<OperationCount['operation'], number>();
  for (const [name, count] of Object.entries(byOperation)) {
    const upper = name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();
    const operation = upper in IamOperationEnum ? (upper as OperationCount['operation']) : 'OTHER';
    sums.set(operation, (sums.get(operation) ?? 0) + count);
  }
  return [...sums].map(([operation, count]) => ({ operation, count })).sort((a, b) => b.count - a.count || a.operation.localeCompare(b.operation));
}

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
    errors: ((row.errors ?? []) as unknown as StoredScanError[]).map(toScanError),
    iamCalls: {
      total: calls.total ?? 0,
      byOperation: toOperationCounts(calls.byOperation ?? {}),
    },
    setupWindowSeconds: settings.setupWindowSeconds ?? 0,
    gracePeriodSeconds: settings.gracePeriodSeconds ?? 0,
  };
}
