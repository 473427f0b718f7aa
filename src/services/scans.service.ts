import type { PrismaClient, Scan } from '../generated/prisma/client';
import { InvalidInputError } from './errors';
import { resolveInstants, type AccountInstant } from './instants';
import { decodeCursor, encodeCursor, type Page } from './page';

export type ScanView = Scan;

/** Reads scan history, newest first. */
export class ScansService {
  constructor(private readonly prisma: PrismaClient) {}

  async list(accountId: string | null | undefined, first: number, after?: string): Promise<Page<ScanView>> {
    const where = accountId ? { accountId } : {};
    const cursor = decodeCursor(after, 2, ['instant', 'uuid']);
    const keyset = cursor
      ? { OR: [{ startedAt: { lt: new Date(cursor[0]) } }, { startedAt: new Date(cursor[0]), id: { lt: cursor[1] } }] }
      : undefined;
    const [rows, totalCount] = await Promise.all([
      this.prisma.scan.findMany({
        where: keyset ? { AND: [where, keyset] } : where,
        orderBy: [{ startedAt: 'desc' }, { id: 'desc' }],
        take: first + 1,
      }),
      this.prisma.scan.count({ where }),
    ]);
    return {
      nodes: rows.slice(0, first),
      hasNextPage: rows.length > first,
      totalCount,
      cursorOf: (s) => encodeCursor([s.startedAt.toISOString(), s.id]),
    };
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
