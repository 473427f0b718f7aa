import type { PrismaClient } from '../generated/prisma/client';

/** Accounts named in keywarden_findings; the rest are summed as account="other" (KEYWARDEN_METRICS_TOP_ACCOUNTS). */
export const DEFAULT_TOP_ACCOUNTS = 20;

interface LatestCounts {
  account_id: string;
  pass_count: number;
  fail_count: number;
  not_applicable_count: number;
  error_count: number;
  excepted_count: number;
}

const STATUSES = [
  ['PASS', 'pass_count'],
  ['FAIL', 'fail_count'],
  ['NOT_APPLICABLE', 'not_applicable_count'],
  ['ERROR', 'error_count'],
  ['EXCEPTED', 'excepted_count'],
] as const;

/**
 * Findings by status and account, as complianceSummary counts them (each account's latest COMPLETED or PARTIAL
 * scan's counts, one index scan per account), for the keywarden_findings gauge. An organization of thousands of
 * accounts would make thousands of series per status: the `top` accounts with the most failing findings are
 * named and the rest summed, so the series count is at most (top + 1) x 5.
 */
export function findingsByAccount(prisma: PrismaClient, top = DEFAULT_TOP_ACCOUNTS) {
  return async (): Promise<{ account: string; status: string; count: number }[]> => {
    const rows = await prisma.$queryRawUnsafe<LatestCounts[]>(
      `SELECT DISTINCT ON (account_id) account_id, pass_count, fail_count, not_applicable_count, error_count, excepted_count
       FROM scan WHERE account_id IS NOT NULL AND status IN ('COMPLETED', 'PARTIAL') AND observed_at IS NOT NULL
       ORDER BY account_id, observed_at DESC`,
    );
    rows.sort((a, b) => b.fail_count - a.fail_count || a.account_id.localeCompare(b.account_id));
    const out: { account: string; status: string; count: number }[] = [];
    const other = new Map<string, number>();
    rows.forEach((row, i) => {
      for (const [status, column] of STATUSES) {
        if (i < top) out.push({ account: row.account_id, status, count: row[column] });
        else other.set(status, (other.get(status) ?? 0) + row[column]);
      }
    });
    for (const [status, count] of other) out.push({ account: 'other', status, count });
    return out;
  };
}
