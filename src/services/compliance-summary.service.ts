import type { PrismaClient } from '../generated/prisma/client';
import type { StatusCounts } from '../domain/finding';
import { InvalidInputError } from './errors';
import type { FindingsService } from './findings.service';
import { accountsCte, accountScope, assertKnownAccounts } from './instants';
import { decodeCursor, encodeCursor, type CursorTag, type Page } from './page';
import type { ScansService, ScanView } from './scans.service';
import type { Statement } from '../adapters/db/statement';

/** One account's standing from its latest scan, or several accounts' summed from each one's latest scan. */
export interface ComplianceSummaryView {
  /** The account; null when the summary sums several. */
  accountId: string | null;
  /** Its latest COMPLETED or PARTIAL scan; null when the summary sums several. */
  lastScan: { id: string; status: string; observedAt: Date } | null;
  /** The scan's row, when the summary read it anyway (one account's summary). */
  scan?: ScanView;
  counts: StatusCounts;
  /** Nothing fails and nothing could not be read, in any of the accounts. */
  compliant: boolean;
  /** Users with a FAIL finding; users of different accounts are different users. */
  failingUsers: number;
  accounts: number;
  /** The oldest and newest of the accounts' latest scans (their observedAt). */
  scannedAt: { oldest: Date; newest: Date };
}

export interface SummaryScope {
  accountId?: string | null;
  accountIds?: readonly string[] | null;
}

export type AccountComplianceOrderField = 'FAIL_COUNT' | 'ERROR_COUNT' | 'LAST_SCAN_AT' | 'ACCOUNT_ID';
export interface AccountBreakdownQuery {
  orderBy: AccountComplianceOrderField;
  direction: 'ASC' | 'DESC';
  first: number;
  after?: string;
  /** Only these accounts; omitted: every account. */
  accountIds?: readonly string[] | null;
}

/** Which accounts are worst: the breakdown's default order. */
export const DEFAULT_BREAKDOWN_ORDER = { orderBy: 'FAIL_COUNT', direction: 'DESC' } as const;

/**
 * Compliance summaries: of one account (as before), of several or every account summed, and per account
 * for "which accounts are worst". Each account counts with its latest COMPLETED or PARTIAL scan.
 */
export class ComplianceSummaryService {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly scans: ScansService,
    private readonly findings: FindingsService,
  ) {}

  async summary(scope: SummaryScope): Promise<ComplianceSummaryView> {
    const accounts = accountScope(scope.accountId, scope.accountIds);
    if (accounts?.field === 'accountId') return this.accountSummary(accounts.ids[0]);
    const { sql, params } = summaryStatement(accounts?.ids ?? null);
    const [[row]] = await Promise.all([this.prisma.$queryRawUnsafe<SummarySqlRow[]>(sql, ...params), assertKnownAccounts(this.prisma, accounts)]);
    if (Number(row.accounts) === 0) throw new InvalidInputError('no account has a completed scan yet: run a scan first');
    return toView(row);
  }

  /** One account, exactly as complianceSummary(accountId) answered before accounts could be summed. */
  private async accountSummary(accountId: string): Promise<ComplianceSummaryView> {
    const { scan, instant } = await this.scans.latest(accountId);
    const counts = { pass: scan.passCount, fail: scan.failCount, notApplicable: scan.notApplicableCount, error: scan.errorCount, excepted: scan.exceptedCount };
    return {
      accountId,
      lastScan: { id: scan.id, status: scan.status, observedAt: instant.at },
      scan,
      counts,
      compliant: counts.fail === 0 && counts.error === 0,
      failingUsers: counts.fail === 0 ? 0 : await this.findings.failingUserCount(instant),
      accounts: 1,
      scannedAt: { oldest: instant.at, newest: instant.at },
    };
  }

  /** Every account's summary, in keyset pages. */
  async accountBreakdown(query: AccountBreakdownQuery): Promise<Page<ComplianceSummaryView>> {
    const { sql, params } = accountBreakdownStatement(query);
    const rows = await this.prisma.$queryRawUnsafe<(SummarySqlRow & { total: bigint })[]>(sql, ...params);
    const page = rows.filter((r) => r.account_id !== null);
    return {
      nodes: page.slice(0, query.first).map(toView),
      hasNextPage: page.length > query.first,
      totalCount: Number(rows[0]?.total ?? 0),
      cursorOf: (v) => encodeCursor(breakdownTag(query), [sortValue(query.orderBy, v), v.accountId!]),
    };
  }
}

/** Each account's latest COMPLETED or PARTIAL scan (`accounts` from accountsCte): one index probe per account. */
const LATEST_CTE = `latest AS (
    SELECT l.* FROM accounts a CROSS JOIN LATERAL (
      SELECT s.id, s.account_id, s.status, s.observed_at, s.pass_count, s.fail_count, s.not_applicable_count, s.error_count, s.excepted_count
      FROM scan s WHERE s.account_id = a.account_id AND s.status IN ('COMPLETED', 'PARTIAL')
      ORDER BY s.observed_at DESC LIMIT 1) l)`;

/**
 * Failing users counted from the current findings (the partial index of failing findings), which hold the
 * state of each account's latest scan: reading versions as of 200 instants would read each account's history.
 */
const failingUsersOf = (accounts: string) =>
  `SELECT count(*) FROM (SELECT DISTINCT f.account_id, f.user_name FROM finding f
    WHERE f.account_id IN (${accounts}) AND f.status = 'FAIL' AND f.present) u`;

/** Several accounts (or every account: null) summed, each from its latest scan. One row; `accounts` 0 when none has a scan. */
export function summaryStatement(accountIds: readonly string[] | null): Statement {
  const params: unknown[] = [];
  const cte = accountsCte(accountIds ? `$${params.push([...accountIds])}` : null);
  return {
    sql: `WITH RECURSIVE ${cte}, ${LATEST_CTE}
      SELECT count(*) AS accounts,
        CASE WHEN count(*) = 1 THEN min(account_id) END AS account_id,
        CASE WHEN count(*) = 1 THEN min(id::text) END AS id, CASE WHEN count(*) = 1 THEN min(status::text) END AS status,
        COALESCE(sum(pass_count), 0) AS pass_count, COALESCE(sum(fail_count), 0) AS fail_count,
        COALESCE(sum(not_applicable_count), 0) AS not_applicable_count, COALESCE(sum(error_count), 0) AS error_count,
        COALESCE(sum(excepted_count), 0) AS excepted_count, min(observed_at) AS oldest, max(observed_at) AS newest,
        (${failingUsersOf('SELECT account_id FROM latest')}) AS failing_users
      FROM latest`,
    params,
  };
}

const SORT_COLUMN: Record<AccountComplianceOrderField, string | null> = {
  FAIL_COUNT: 'fail_count',
  ERROR_COUNT: 'error_count',
  LAST_SCAN_AT: 'observed_at',
  ACCOUNT_ID: null,
};

/**
 * One page of per-account summaries, ordered by a count or the last scan's time (ties by account id,
 * ascending), or by account id. The cursor holds the order it was issued for, so that it is not read under
 * another. One row per account (first + 1), each with the total; a single row of nulls but the total when
 * the page is empty.
 */
export function accountBreakdownStatement(query: AccountBreakdownQuery): Statement {
  const params: unknown[] = [];
  const p = (value: unknown) => `$${params.push(value)}`;
  const column = SORT_COLUMN[query.orderBy];
  const dir = query.direction === 'ASC' ? 'ASC' : 'DESC';
  const after = breakdownCursor(query);
  let keyset = 'true';
  if (after && column === null) keyset = `l.account_id ${dir === 'ASC' ? '>' : '<'} ${p(after.accountId)}`;
  else if (after) {
    const value = `${p(after.value)}::${query.orderBy === 'LAST_SCAN_AT' ? 'timestamptz' : 'bigint'}`;
    keyset = `(l.${column} ${dir === 'ASC' ? '>' : '<'} ${value} OR (l.${column} = ${value} AND l.account_id > ${p(after.accountId)}))`;
  }
  const orderBy = column === null ? `l.account_id ${dir}` : `l.${column} ${dir}, l.account_id ASC`;
  const limit = p(query.first + 1);
  return {
    sql: `WITH RECURSIVE ${accountsCte(query.accountIds?.length ? p([...query.accountIds]) : null)}, ${LATEST_CTE}
      SELECT t.total, l.account_id, l.id::text AS id, l.status::text AS status, l.observed_at, l.observed_at AS oldest, l.observed_at AS newest,
        l.pass_count, l.fail_count, l.not_applicable_count, l.error_count, l.excepted_count, 1 AS accounts,
        (${failingUsersOf('l.account_id')}) AS failing_users
      FROM (SELECT count(*) AS total FROM latest) t
      LEFT JOIN LATERAL (SELECT * FROM latest l WHERE ${keyset} ORDER BY ${orderBy} LIMIT ${limit}) l ON true
      ORDER BY ${orderBy}`,
    params,
  };
}

const breakdownTag = (query: AccountBreakdownQuery): CursorTag => ({ list: 'ac', field: query.orderBy, direction: query.direction === 'ASC' ? 'ASC' : 'DESC' });

/**
 * A breakdown cursor: the sort value and the account id, tagged with the order it was issued for. Its value means
 * nothing under another order, so decodeCursor refuses a cursor of another order, saying which it was issued for.
 */
function breakdownCursor(query: AccountBreakdownQuery): { value: string; accountId: string } | null {
  const cursor = decodeCursor(query.after, breakdownTag(query), [query.orderBy === 'LAST_SCAN_AT' ? 'instant' : 'text', 'text']);
  if (!cursor) return null;
  const [value, accountId] = cursor as [string, string];
  if (query.orderBy !== 'LAST_SCAN_AT' && query.orderBy !== 'ACCOUNT_ID' && !/^\d{1,10}$/.test(value)) {
    throw new InvalidInputError('after is not a cursor returned by this API', 'after');
  }
  return { value, accountId };
}

interface SummarySqlRow {
  accounts: bigint | number;
  account_id: string | null;
  id: string | null;
  status: string | null;
  oldest: Date;
  newest: Date;
  pass_count: bigint | number;
  fail_count: bigint | number;
  not_applicable_count: bigint | number;
  error_count: bigint | number;
  excepted_count: bigint | number;
  failing_users: bigint;
}

function toView(r: SummarySqlRow): ComplianceSummaryView {
  const counts = {
    pass: Number(r.pass_count),
    fail: Number(r.fail_count),
    notApplicable: Number(r.not_applicable_count),
    error: Number(r.error_count),
    excepted: Number(r.excepted_count),
  };
  return {
    accountId: r.account_id,
    lastScan: r.id ? { id: r.id, status: r.status!, observedAt: r.newest } : null,
    counts,
    compliant: counts.fail === 0 && counts.error === 0,
    failingUsers: Number(r.failing_users),
    accounts: Number(r.accounts),
    scannedAt: { oldest: r.oldest, newest: r.newest },
  };
}

function sortValue(field: AccountComplianceOrderField, v: ComplianceSummaryView): string {
  switch (field) {
    case 'FAIL_COUNT':
      return String(v.counts.fail);
    case 'ERROR_COUNT':
      return String(v.counts.error);
    case 'LAST_SCAN_AT':
      return v.scannedAt.newest.toISOString();
    case 'ACCOUNT_ID':
      return '';
  }
}
