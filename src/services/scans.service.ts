import type { PrismaClient, Scan } from '../generated/prisma/client';
import { InvalidInputError } from './errors';
import { detailPrunedStatement, resolveInstants, type AccountInstant } from './instants';
import { newestFirstPage, type Page } from './page';

export type ScanView = Scan;

/** Reads scan history, newest first. */
export class ScansService {
  constructor(private readonly prisma: PrismaClient) {}

  list(accountId: string | null | undefined, first: number, after?: string): Promise<Page<ScanView>> {
    return newestFirstPage(this.prisma.scan, 'startedAt', accountId ? { accountId } : {}, first, after);
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
