import type { PrismaClient } from '../generated/prisma/client';
import { InvalidInputError } from './errors';
import { resolveInstants } from './instants';

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

/** One row per bucket ($1: JSON of {start_at, end_at}; $2: account id), from the per-scan summaries. */
export const TREND_SQL = `SELECT b.start_at, b.end_at, count(s.id) AS scans,
         (array_agg(s.pass_count ORDER BY s.observed_at DESC))[1] AS pass,
         (array_agg(s.fail_count ORDER BY s.observed_at DESC))[1] AS fail,
         (array_agg(s.not_applicable_count ORDER BY s.observed_at DESC))[1] AS not_applicable,
         (array_agg(s.error_count ORDER BY s.observed_at DESC))[1] AS error,
         sum(s.opened_count) AS opened, sum(s.resolved_count) AS resolved,
         sum(s.resolve_seconds_total) / NULLIF(sum(s.resolved_count), 0) AS mttr
       FROM jsonb_to_recordset($1::jsonb) AS b(start_at timestamptz, end_at timestamptz)
       LEFT JOIN scan s ON s.account_id = $2 AND s.status IN ('COMPLETED', 'PARTIAL')
         AND s.observed_at >= b.start_at AND s.observed_at < b.end_at
       GROUP BY b.start_at, b.end_at
       ORDER BY b.start_at`;

const STEP_MS: Record<Exclude<TrendInterval, 'MONTH'>, number> = { HOUR: 3_600_000, DAY: 86_400_000, WEEK: 7 * 86_400_000 };

/**
 * Compliance over time from the per-scan summaries (kept when retention prunes detail). Each bucket
 * reports the state after its last scan and the transitions inside it; a bucket without a scan has
 * null figures, not zeros. Buckets are in UTC; MONTH buckets are calendar months.
 */
export class TrendsService {
  constructor(private readonly prisma: PrismaClient) {}

  async trend(accountId: string | null | undefined, from: Date, to: Date, interval: TrendInterval): Promise<TrendPointView[]> {
    if (!(from.getTime() < to.getTime())) {
      throw new InvalidInputError(`from (${from.toISOString()}) must be before to (${to.toISOString()})`, 'from');
    }
    const buckets = bucketsOf(from, to, interval);
    if (!accountId) throw new InvalidInputError('accountId is required: trends are per account', 'accountId');
    await resolveInstants(this.prisma, accountId); // an unknown account is an error, not an empty trend
    const rows = await this.prisma.$queryRawUnsafe<TrendSqlRow[]>(
      TREND_SQL,
      JSON.stringify(buckets.map(([start, end]) => ({ start_at: start.toISOString(), end_at: end.toISOString() }))),
      accountId,
    );
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

export function bucketsOf(from: Date, to: Date, interval: TrendInterval): [Date, Date][] {
  const count =
    interval === 'MONTH'
      ? (to.getUTCFullYear() - from.getUTCFullYear()) * 12 + (to.getUTCMonth() - from.getUTCMonth()) + 1
      : Math.ceil((to.getTime() - from.getTime()) / STEP_MS[interval]);
  if (count > MAX_BUCKETS) {
    throw new InvalidInputError(`${count} ${interval} buckets between from and to; at most ${MAX_BUCKETS}: narrow the range or use a longer interval`, 'interval');
  }
  const next = (d: Date) =>
    interval === 'MONTH'
      ? new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds(), d.getUTCMilliseconds()))
      : new Date(d.getTime() + STEP_MS[interval]);
  const buckets: [Date, Date][] = [];
  for (let start = from; start < to; ) {
    const end = next(start);
    buckets.push([start, end < to ? end : to]);
    start = end;
  }
  return buckets;
}
