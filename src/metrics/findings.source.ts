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
 * scan's counts, one index probe per account), for the keywarden_findings gauge. An organization of thousands of
 * accounts would make thousands of series per status: the `top` accounts with the most failing findings are
 * named and the rest summed, so the series count is at most (top + 1) x 5.
 */
export function findingsByAccount(prisma: PrismaClient, top = DEFAULT_TOP_ACCOUNTS) {
  return async (): Promise<{ account: string; status: string; count: number }[]> => {
    // A skip scan over the partial index scan_summary_by_account: each next account id, then that account's latest
    // scan, one index probe each (DISTINCT ON read every stored scan at every scrape).
    const rows = await prisma.$queryRawUnsafe<LatestCounts[]>(
      `WITH RECURSIVE accounts AS (
         (SELECT account_id FROM scan WHERE account_id IS NOT NULL AND status IN ('COMPLETED', 'PARTIAL') ORDER BY account_id LIMIT 1)
         UNION ALL
         SELECT (SELECT s.account_id FROM scan s WHERE s.account_id > a.account_id AND s.status IN ('COMPLETED', 'PARTIAL') ORDER BY s.account_id LIMIT 1)
         FROM accounts a WHERE a.account_id IS NOT NULL)
       SELECT l.account_id, l.pass_count, l.fail_count, l.not_applicable_count, l.error_count, l.excepted_count
       FROM accounts a CROSS JOIN LATERAL (
         SELECT s.account_id, s.pass_count, s.fail_count, s.not_applicable_count, s.error_count, s.excepted_count FROM scan s
         WHERE s.account_id = a.account_id AND s.status IN ('COMPLETED', 'PARTIAL') AND s.observed_at IS NOT NULL
         ORDER BY s.observed_at DESC LIMIT 1) l
       WHERE a.account_id IS NOT NULL`,
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
