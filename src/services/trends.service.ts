import type { PrismaClient } from '../generated/prisma/client';
import { InvalidInputError } from './errors';
import { accountsCte, accountScope, assertKnownAccounts, resolveInstants } from './instants';
import type { Statement } from '../adapters/db/statement';

export type TrendInterval = 'HOUR' | 'DAY' | 'WEEK' | 'MONTH';

export interface TrendPointView {
  at: Date;
  endsAt: Date;
  scans: number;
  /** Accounts whose state the figures sum (one account's trend: 1 when the bucket has a scan). */
  accounts: number;
  pass: number | null;
  fail: number | null;
  notApplicable: number | null;
  error: number | null;
  opened: number | null;
  resolved: number | null;
  meanTimeToResolveSeconds: number | null;
}

export const MAX_BUCKETS = 10_000;

/**
 * One row per bucket, from the per-scan summaries. The buckets are generated here, not sent: as a JSON
 * parameter, 365 of them cost more in Prisma's engine than the query in PostgreSQL, and 10,000 HOUR
 * buckets made a 700 kB parameter. Bucket i starts at from + i × step, computed on UTC wall-clock time
 * so a MONTH step is a calendar month (clamped: Jan 31 + 1 month is Feb 28/29); the last ends at `to`.
 * Parameters: see trendStatement.
 */
const BUCKETS_CTE = `b AS (
    SELECT start_at, LEAST((($1::timestamptz AT TIME ZONE 'UTC') + $3::interval * (i + 1)) AT TIME ZONE 'UTC', $2::timestamptz) AS end_at
    FROM generate_series(0, $4::int - 1) AS i
    CROSS JOIN LATERAL (SELECT (($1::timestamptz AT TIME ZONE 'UTC') + $3::interval * i) AT TIME ZONE 'UTC' AS start_at) s
    WHERE start_at < $2::timestamptz)`;

const TREND_SQL = `WITH ${BUCKETS_CTE}
  SELECT b.start_at, b.end_at, count(s.id) AS scans,
         (array_agg(s.pass_count ORDER BY s.observed_at DESC))[1] AS pass,
         (array_agg(s.fail_count ORDER BY s.observed_at DESC))[1] AS fail,
         (array_agg(s.not_applicable_count ORDER BY s.observed_at DESC))[1] AS not_applicable,
         (array_agg(s.error_count ORDER BY s.observed_at DESC))[1] AS error,
         sum(s.opened_count) AS opened, sum(s.resolved_count) AS resolved,
         sum(s.resolve_seconds_total) / NULLIF(sum(s.resolved_count), 0) AS mttr
       FROM b
       LEFT JOIN scan s ON s.account_id = $5 AND s.status IN ('COMPLETED', 'PARTIAL')
         AND s.observed_at >= b.start_at AND s.observed_at < b.end_at
       GROUP BY b.start_at, b.end_at
       ORDER BY b.start_at`;

const STEP: Record<TrendInterval, string> = { HOUR: '1 hour', DAY: '1 day', WEEK: '7 days', MONTH: '1 month' };

/** TREND_SQL's parameters, after checking the range: at most MAX_BUCKETS buckets. */
export function trendStatement(accountId: string, from: Date, to: Date, interval: TrendInterval): Statement {
  return { sql: TREND_SQL, params: [from, to, STEP[interval], checkedBucketCount(from, to, interval), accountId] };
}

/**
 * Several accounts (or every account: null) summed per bucket. Each account counts with its state after
 * its last COMPLETED or PARTIAL scan before the bucket's end, carried forward through buckets where it
 * was not scanned; an account counts from its first scan on. Opened, resolved and the scan count sum the
 * scans inside the bucket.
 *
 * Every account by DAY, WEEK or MONTH is read from the rollup (orgRollupTrendStatement). Named accounts read
 * their scan summaries (orgScanTrendStatement), which cost what those accounts' scans in the range cost; so do HOUR
 * buckets: there the rollup reads a row per edge as the scans are read per scan, and measured no faster (a 20-day
 * HOUR trend over 200 accounts scanned every 6 hours: 42 against 40 ms p50 on a loaded 2-core machine).
 */
export function orgTrendStatement(accountIds: readonly string[] | null, from: Date, to: Date, interval: TrendInterval): Statement {
  return accountIds || interval === 'HOUR' ? orgScanTrendStatement(accountIds, from, to, interval) : orgRollupTrendStatement(from, to, interval);
}

/**
 * Every account's trend from org_hour (migration 20261130000000_account_day_rollup): a row per UTC hour with
 * scans, holding the hour's scans in order and the organization's running totals after each (the accounts'
 * states summed, and scans, opened, resolved and resolve seconds since the first scan). Triggers on scan
 * rewrite it in each writer's transaction, so it is never behind the scans.
 *
 * The totals at an instant are those of the last row at or before it: within that row, after the scans before
 * the instant (width_bucket counts elements at or before a value; `- 1 µs` makes that "before", exact since
 * timestamps are whole microseconds), or at the row's end when the row is of an earlier hour. A bucket's
 * states are the totals at its end; its sums are the totals at its end minus those at its start. So a trend
 * costs one index probe and one binary search per bucket edge, however many scans the range holds (a 90-day DAY
 * trend over 200 accounts scanned every 6 hours read 72,000 scan rows). Correct at any interval; HOUR is
 * routed to the scans for cost (see orgTrendStatement).
 */
export function orgRollupTrendStatement(from: Date, to: Date, interval: TrendInterval): Statement {
  return { sql: ORG_ROLLUP_TREND_SQL, params: [from, to, STEP[interval], checkedBucketCount(from, to, interval)] };
}

const ORG_ROLLUP_TREND_SQL = `WITH ${BUCKETS_CTE},
  edges AS (SELECT start_at AS at FROM b UNION SELECT end_at FROM b),
  totals AS (
    SELECT e.at, r.t[1][1] AS scans, r.t[1][2] AS accounts, r.t[1][3] AS pass, r.t[1][4] AS fail, r.t[1][5] AS not_applicable,
      r.t[1][6] AS error, r.t[1][7] AS opened, r.t[1][8] AS resolved, r.resolve_seconds
    FROM edges e
    LEFT JOIN LATERAL (
      -- One row of totals (one detoast of the hour's array): after the row's first k scans, or before the hour.
      SELECT CASE WHEN x.k = 0 THEN x.before ELSE x.totals[x.k:x.k] END AS t,
        CASE WHEN x.k = 0 THEN x.before_resolve_seconds ELSE x.resolve_seconds[x.k] END AS resolve_seconds
      FROM (
        -- k: how many of the row's scans are before the edge.
        SELECT d.totals, d.before, d.resolve_seconds, d.before_resolve_seconds,
          CASE WHEN d.hour = date_bin('1 hour', e.at, TIMESTAMPTZ 'epoch')
            THEN width_bucket(e.at - interval '1 microsecond', d.observed_at) ELSE cardinality(d.observed_at) END AS k
        FROM org_hour d WHERE d.hour <= e.at
        ORDER BY d.hour DESC LIMIT 1) x) r ON true)
  SELECT b.start_at, b.end_at, COALESCE(t1.scans, 0) - COALESCE(t0.scans, 0) AS scans, COALESCE(t1.accounts, 0) AS accounts,
    -- No state before any account's first scan (the totals there are zeros).
    CASE WHEN t1.accounts > 0 THEN t1.pass END AS pass, CASE WHEN t1.accounts > 0 THEN t1.fail END AS fail,
    CASE WHEN t1.accounts > 0 THEN t1.not_applicable END AS not_applicable, CASE WHEN t1.accounts > 0 THEN t1.error END AS error,
    COALESCE(t1.opened, 0) - COALESCE(t0.opened, 0) AS opened, COALESCE(t1.resolved, 0) - COALESCE(t0.resolved, 0) AS resolved,
    (COALESCE(t1.resolve_seconds, 0) - COALESCE(t0.resolve_seconds, 0)) / NULLIF(COALESCE(t1.resolved, 0) - COALESCE(t0.resolved, 0), 0) AS mttr
  FROM b JOIN totals t0 ON t0.at = b.start_at JOIN totals t1 ON t1.at = b.end_at
  ORDER BY b.start_at`;

/**
 * Named accounts' trend from their scan summaries in the range (and what the rollup is checked against in tests).
 *
 * Scans' states are summed as changes: a scan adds its counts minus its predecessor's (the account's last
 * scan before `from` for its first scan in the range), and a bucket's figures are the running sum of the
 * changes up to it, started from the accounts' states at `from`. So each scan row is read once, per
 * account in index order (no sort), and no (account × bucket) grid is built. With 200 accounts scanned every
 * 6 hours and 90 DAY buckets, a LATERAL per account and bucket made 18,000 index probes (about 60 ms on a
 * 2-core machine), and a window over all 72,000 scans of the range sorted them on disk (work_mem), about 90 ms.
 * Each row read here is a heap fetch, unless an index on scan (account_id, observed_at DESC) includes the
 * counts: then it is an index-only scan, about twice as fast.
 */
export function orgScanTrendStatement(accountIds: readonly string[] | null, from: Date, to: Date, interval: TrendInterval): Statement {
  const params: unknown[] = [from, to, STEP[interval], checkedBucketCount(from, to, interval)];
  const cte = accountsCte(accountIds ? `$${params.push([...accountIds])}` : null);
  // date_bin is exact integer arithmetic on the bucket grid; it cannot step by months, so MONTH buckets
  // (calendar months, clamped) are found by a binary search of their starts.
  const bucketOf = interval === 'MONTH'
    ? '(SELECT starts.a[width_bucket(s.observed_at, starts.a)] FROM starts)'
    : 'date_bin($3::interval, s.observed_at, $1::timestamptz)';
  return { sql: orgTrendSql(cte, bucketOf), params };
}

const orgTrendSql = (accountsCte: string, bucketOf: string) => `WITH RECURSIVE ${accountsCte},
  ${BUCKETS_CTE},
  starts AS (SELECT array_agg(start_at ORDER BY start_at) AS a FROM b),
  -- Each account's state at from: its last scan before it (none for an account first scanned later).
  base AS (
    SELECT a.account_id, p.observed_at IS NOT NULL AS known, p.pass_count, p.fail_count, p.not_applicable_count, p.error_count
    FROM accounts a LEFT JOIN LATERAL (
      SELECT p.observed_at, p.pass_count, p.fail_count, p.not_applicable_count, p.error_count FROM scan p
      WHERE p.account_id = a.account_id AND p.status IN ('COMPLETED', 'PARTIAL') AND p.observed_at < $1::timestamptz
      ORDER BY p.observed_at DESC LIMIT 1) p ON true),
  changes AS (
    SELECT '-infinity'::timestamptz AS bucket, 0 AS scans, 0 AS opened, 0 AS resolved, 0::float8 AS resolve_seconds,
      pass_count AS pass, fail_count AS fail, not_applicable_count AS not_applicable, error_count AS error, 1 AS known
    FROM base WHERE known
    UNION ALL
    SELECT d.bucket, 1, d.opened_count, d.resolved_count, d.resolve_seconds_total,
      d.pass_count - COALESCE(d.prev[1], base.pass_count, 0), d.fail_count - COALESCE(d.prev[2], base.fail_count, 0),
      d.not_applicable_count - COALESCE(d.prev[3], base.not_applicable_count, 0), d.error_count - COALESCE(d.prev[4], base.error_count, 0),
      (d.prev IS NULL AND NOT base.known)::int
    FROM base CROSS JOIN LATERAL (
      -- Newest first, as the index (account_id, observed_at DESC) is ordered: lead() is the scan before.
      SELECT ${bucketOf} AS bucket, s.opened_count, s.resolved_count, s.resolve_seconds_total,
        s.pass_count, s.fail_count, s.not_applicable_count, s.error_count,
        lead(ARRAY[s.pass_count, s.fail_count, s.not_applicable_count, s.error_count]) OVER (ORDER BY s.observed_at DESC) AS prev
      FROM scan s
      WHERE s.account_id = base.account_id AND s.status IN ('COMPLETED', 'PARTIAL')
        AND s.observed_at >= $1::timestamptz AND s.observed_at < $2::timestamptz) d),
  per_bucket AS (
    SELECT bucket, sum(scans) AS scans, sum(opened) AS opened, sum(resolved) AS resolved, sum(resolve_seconds) AS resolve_seconds,
      sum(pass) AS pass, sum(fail) AS fail, sum(not_applicable) AS not_applicable, sum(error) AS error, sum(known) AS known
    FROM changes GROUP BY bucket),
  running AS (
    SELECT k.bucket, p.scans, p.opened, p.resolved, p.resolve_seconds,
      (sum(p.pass) OVER w)::bigint AS pass, (sum(p.fail) OVER w)::bigint AS fail, (sum(p.not_applicable) OVER w)::bigint AS not_applicable,
      (sum(p.error) OVER w)::bigint AS error, COALESCE(sum(p.known) OVER w, 0)::bigint AS accounts
    FROM (SELECT '-infinity'::timestamptz AS bucket UNION ALL SELECT start_at FROM b) k
    LEFT JOIN per_bucket p ON p.bucket = k.bucket
    WINDOW w AS (ORDER BY k.bucket))
  SELECT b.start_at, b.end_at, COALESCE(r.scans, 0) AS scans, r.accounts,
    r.pass, r.fail, r.not_applicable, r.error,
    COALESCE(r.opened, 0) AS opened, COALESCE(r.resolved, 0) AS resolved,
    r.resolve_seconds / NULLIF(r.resolved, 0) AS mttr
  FROM b JOIN running r ON r.bucket = b.start_at
  ORDER BY b.start_at`;

function checkedBucketCount(from: Date, to: Date, interval: TrendInterval): number {
  if (!(from.getTime() < to.getTime())) {
    throw new InvalidInputError(`from (${from.toISOString()}) must be before to (${to.toISOString()})`, 'from');
  }
  const count = bucketCount(from, to, interval);
  if (count > MAX_BUCKETS) {
    throw new InvalidInputError(`${count} ${interval} buckets between from and to; at most ${MAX_BUCKETS}: narrow the range or use a longer interval`, 'interval');
  }
  return count;
}

const STEP_MS: Record<Exclude<TrendInterval, 'MONTH'>, number> = { HOUR: 3_600_000, DAY: 86_400_000, WEEK: 7 * 86_400_000 };

/** Which accounts a trend sums: one (`accountId`), several (`accountIds`), or every account (neither). */
export interface TrendScope {
  accountId?: string | null;
  accountIds?: readonly string[] | null;
}

/**
 * Compliance over time from the per-scan summaries (kept when retention prunes detail). Buckets are in
 * UTC; MONTH buckets are calendar months.
 * - One account (`accountId`): each bucket reports the state after its last scan and the transitions
 *   inside it; a bucket without a scan has null figures, not zeros.
 * - Several or every account: each bucket sums every account's state after its last scan before the
 *   bucket's end, carried forward when the account was not scanned inside the bucket; figures are null
 *   only before any of the accounts' first scans.
 */
export class TrendsService {
  constructor(private readonly prisma: PrismaClient) {}

  async trend(scope: TrendScope, from: Date, to: Date, interval: TrendInterval): Promise<TrendPointView[]> {
    const accounts = accountScope(scope.accountId, scope.accountIds);
    if (accounts?.field === 'accountId') return this.accountTrend(accounts.ids[0], from, to, interval);
    const { sql, params } = orgTrendStatement(accounts?.ids ?? null, from, to, interval);
    // A named account without a scan is an error, not a part missing from the sums; checked alongside.
    const [rows] = await Promise.all([this.prisma.$queryRawUnsafe<OrgTrendSqlRow[]>(sql, ...params), assertKnownAccounts(this.prisma, accounts)]);
    // A bucket no account had been scanned by yet has null figures.
    return rows.map((r) => toPoint(r, Number(r.accounts), Number(r.accounts) > 0));
  }

  private async accountTrend(accountId: string, from: Date, to: Date, interval: TrendInterval): Promise<TrendPointView[]> {
    const { sql, params } = trendStatement(accountId, from, to, interval);
    // An unknown account is an error, not an empty trend; checked alongside the trend query, not before it.
    const [rows] = await Promise.all([this.prisma.$queryRawUnsafe<TrendSqlRow[]>(sql, ...params), resolveInstants(this.prisma, accountId)]);
    // One account: a bucket without a scan has null figures.
    return rows.map((r) => toPoint(r, Number(r.scans) === 0 ? 0 : 1, Number(r.scans) > 0));
  }
}

/** A trend bucket's figures; null where the bucket has none to give (`present` false). */
function toPoint(r: TrendSqlRow | OrgTrendSqlRow, accounts: number, present: boolean): TrendPointView {
  const n = (v: number | bigint | null) => (!present || v === null ? null : Number(v));
  return {
    at: r.start_at,
    endsAt: r.end_at,
    scans: Number(r.scans),
    accounts,
    pass: n(r.pass),
    fail: n(r.fail),
    notApplicable: n(r.not_applicable),
    error: n(r.error),
    opened: n(r.opened),
    resolved: n(r.resolved),
    meanTimeToResolveSeconds: n(r.mttr),
  };
}

interface OrgTrendSqlRow {
  start_at: Date;
  end_at: Date;
  scans: bigint;
  accounts: bigint;
  pass: bigint | null;
  fail: bigint | null;
  not_applicable: bigint | null;
  error: bigint | null;
  opened: bigint;
  resolved: bigint;
  mttr: number | null;
}

interface TrendSqlRow {
  start_at: Date;
  end_at: Date;
  scans: bigint;
  pass: number | null;
  fail: number | null;
  not_applicable: number | null;
  error: number | null;
  opened: bigint | null;
  resolved: bigint | null;
  mttr: number | null;
}

/** How many buckets of `interval` cover [from, to): for MONTH, calendar months started (an upper bound TREND_SQL trims). */
export function bucketCount(from: Date, to: Date, interval: TrendInterval): number {
  return interval === 'MONTH'
    ? (to.getUTCFullYear() - from.getUTCFullYear()) * 12 + (to.getUTCMonth() - from.getUTCMonth()) + 1
    : Math.ceil((to.getTime() - from.getTime()) / STEP_MS[interval]);
}
