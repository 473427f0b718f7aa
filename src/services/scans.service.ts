import type { Prisma, PrismaClient, Scan, ScanSource, ScanStatus } from '../generated/prisma/client';
import { InvalidInputError } from './errors';
import { detailPrunedStatement, resolveInstants, type AccountInstant } from './instants';
import { newestFirstPage, type Page, type PageFrom } from './page';
import type { Statement } from '../adapters/db/statement';

export type ScanView = Scan;

export interface ScanQuery {
  accountIds?: readonly string[] | null;
  statuses?: readonly ScanStatus[] | null;
  sources?: readonly ScanSource[] | null;
  startedAfter?: Date | null;
}

/**
 * Reads scan history, newest first: by when each scan was queued, which every scan has (a QUEUED or CANCELLED one
 * never started, and a null start would both break its cursor and sort above every started scan).
 */
export class ScansService {
  constructor(private readonly prisma: PrismaClient) {}

  /** `query` may still be one account id, as it was before scans took a filter. */
  list(query: ScanQuery | string | null | undefined, first: number, from?: PageFrom, direction: 'ASC' | 'DESC' = 'DESC'): Promise<Page<ScanView>> {
    const q: ScanQuery = typeof query === 'string' ? { accountIds: [query] } : (query ?? {});
    // "Any of these": a list given empty matches nothing, never everything.
    const where: Prisma.ScanWhereInput = {
      ...(q.accountIds ? { accountId: { in: [...q.accountIds] } } : {}),
      ...(q.statuses ? { status: { in: [...q.statuses] } } : {}),
      ...(q.sources ? { source: { in: [...q.sources] } } : {}),
      ...(q.startedAfter ? { startedAt: { gt: q.startedAfter } } : {}),
    };
    return newestFirstPage('s', this.prisma.scan, 'queuedAt', where, first, from, direction);
  }

  async byIds(ids: readonly string[]): Promise<(ScanView | null)[]> {
    const rows = await this.prisma.scan.findMany({ where: { id: { in: [...ids] } } });
    const byId = new Map(rows.map((r) => [r.id, r]));
    return ids.map((id) => byId.get(id) ?? null);
  }

  /** Per scan id: the retention horizon that pruned part of the state it recorded, or null when that state is whole. */
  async detailPrunedBefore(ids: readonly string[]): Promise<(Date | null)[]> {
    const { sql, params } = detailPrunedStatement(ids);
    const rows = await this.prisma.$queryRawUnsafe<{ id: string; pruned_before: Date }[]>(sql, ...params);
    const byId = new Map(rows.map((r) => [r.id, r.pruned_before]));
    return ids.map((id) => byId.get(id) ?? null);
  }

  async latest(accountId: string): Promise<{ scan: ScanView; instant: AccountInstant }> {
    // resolveInstants reads '' as "every account" and answers [] when there is none: no instant to read.
    if (!accountId) throw new InvalidInputError('accountId must not be empty', 'accountId');
    const [instant] = await resolveInstants(this.prisma, accountId);
    return { scan: (await this.prisma.scan.findUnique({ where: { id: instant.scanId } }))!, instant };
  }

  /** The latest COMPLETED or PARTIAL scan of a known account, or null when it has none yet (no error). */
  async latestCompleted(accountId: string): Promise<{ scan: ScanView; instant: AccountInstant } | null> {
    const scan = await this.prisma.scan.findFirst({ where: { accountId, status: { in: ['COMPLETED', 'PARTIAL'] } }, orderBy: { observedAt: 'desc' } });
    const instant = scan ? instantOf(scan) : null;
    return scan && instant ? { scan, instant } : null;
  }

  /** Per account id: its most recently started scan, whatever its status (a FAILED one says why), or null. */
  async latestOf(accountIds: readonly string[]): Promise<(ScanView | null)[]> {
    const { sql, params } = latestScanIdsStatement(accountIds);
    const ids = await this.prisma.$queryRawUnsafe<{ account_id: string; id: string }[]>(sql, ...params);
    const rows = new Map((await this.byIds(ids.map((r) => r.id))).filter((r): r is ScanView => r !== null).map((r) => [r.accountId, r]));
    return accountIds.map((id) => rows.get(id) ?? null);
  }
}

/** The newest scan id of each account (by queue time: every scan has one), one lateral lookup per account asked. */
export function latestScanIdsStatement(accountIds: readonly string[]): Statement {
  return {
    sql: `SELECT a.account_id, s.id::text FROM unnest($1::text[]) AS a(account_id)
      CROSS JOIN LATERAL (SELECT id FROM scan WHERE scan.account_id = a.account_id ORDER BY queued_at DESC, id DESC LIMIT 1) s`,
    params: [[...accountIds]],
  };
}

/** The instant a stored scan describes; null for a scan that recorded no state (RUNNING or FAILED). */
export function instantOf(scan: ScanView): AccountInstant | null {
  if (!scan.accountId || !scan.observedAt || (scan.status !== 'COMPLETED' && scan.status !== 'PARTIAL')) return null;
  return { accountId: scan.accountId, scanId: scan.id, at: scan.observedAt };
}

/**
 * The instant whose state scan { findings iamUsers } lists: null for a scan that recorded none. Refused,
 * rather than listing what is left, when retention pruned part of it (`prunedBefore`, from detailPrunedBefore).
 */
export function detailInstantOf(scan: ScanView, prunedBefore: Date | null): AccountInstant | null {
  const instant = instantOf(scan);
  if (instant && prunedBefore) {
    throw new InvalidInputError(
      `the findings and users of scan ${scan.id} (IAM read at ${instant.at.toISOString()}) were pruned by retention: account ${instant.accountId} ` +
        `keeps detailed history from ${prunedBefore.toISOString()} on; trends and counts still cover it. Ask findings(asOf:) or iamUsers(asOf:) at that instant or later`,
      'id',
    );
  }
  return instant;
}
