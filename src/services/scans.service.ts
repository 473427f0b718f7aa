import type { PrismaClient, Scan } from '../generated/prisma/client';
import { InvalidInputError } from './errors';
import { resolveInstants, type AccountInstant } from './instants';
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
