import type { PrismaClient } from '../generated/prisma/client';
import { InvalidInputError } from './errors';
import { resolveInstants } from './instants';
import type { Statement } from './statement';

export type TrendInterval = 'HOUR' | 'DAY' | 'WEEK' | 'MONTH';

export interface TrendPointView {
  at: Date;
  endsAt: Date;
  scans: number;
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
const TREND_SQL = `WITH b AS (
    SELECT start_at, LEAST((($1::timestamptz AT TIME ZONE 'UTC') + $3::interval * (i + 1)) AT TIME ZONE 'UTC', $2::timestamptz) AS end_at
    FROM generate_series(0, $4::int - 1) AS i
    CROSS JOIN LATERAL (SELECT (($1::timestamptz AT TIME ZONE 'UTC') + $3::interval * i) AT TIME ZONE 'UTC' AS start_at) s
    WHERE start_at < $2::timestamptz)
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
  if (!(from.getTime() < to.getTime())) {
    throw new InvalidInputError(`from (${from.toISOString()}) must be before to (${to.toISOString()})`, 'from');
  }
  const count = bucketCount(from, to, interval);
  if (count > MAX_BUCKETS) {
    throw new InvalidInputError(`${count} ${interval} buckets between from and to; at most ${MAX_BUCKETS}: narrow the range or use a longer interval`, 'interval');
  }
  return { sql: TREND_SQL, params: [from, to, STEP[interval], count, accountId] };
}

const STEP_MS: Record<Exclude<TrendInterval, 'MONTH'>, number> = { HOUR: 3_600_000, DAY: 86_400_000, WEEK: 7 * 86_400_000 };

/**
 * Compliance over time from the per-scan summaries (kept when retention prunes detail). Each bucket
 * reports the state after its last scan and the transitions inside it; a bucket without a scan has
 * null figures, not zeros. Buckets are in UTC; MONTH buckets are calendar months.
 */
export class TrendsService {
  constructor(private readonly prisma: PrismaClient) {}

  async trend(accountId: string | null | undefined, from: Date, to: Date, interval: TrendInterval): Promise<TrendPointView[]> {
    if (!accountId) throw new InvalidInputError('accountId is required: trends are per account', 'accountId');
    const { sql, params } = trendStatement(accountId, from, to, interval);
    // An unknown account is an error, not an empty trend; checked alongside the trend query, not before it.
    const [rows] = await Promise.all([this.prisma.$queryRawUnsafe<TrendSqlRow[]>(sql, ...params), resolveInstants(this.prisma, accountId)]);
    return rows.map((r) => {
      const scans = Number(r.scans);
      const n = (v: number | bigint | null) => (scans === 0 || v === null ? null : Number(v));
      return {
        at: r.start_at,
        endsAt: r.end_at,
        scans,
        pass: n(r.pass),
        fail: n(r.fail),
        notApplicable: n(r.not_applicable),
        error: n(r.error),
        opened: n(r.opened),
        resolved: n(r.resolved),
        meanTimeToResolveSeconds: scans === 0 || r.mttr === null ? null : Number(r.mttr),
      };
    });
  }
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
