import type { PrismaClient, Scan } from '../generated/prisma/client';
import { decodeCursor, encodeCursor, type Page } from './page';
import { latestScanIds } from './latest-scans';

export type ScanView = Scan;

/** Reads scan history, newest first. */
export class ScansService {
  constructor(private readonly prisma: PrismaClient) {}

  async list(accountId: string | null | undefined, first: number, after?: string): Promise<Page<ScanView>> {
    const where = accountId ? { accountId } : {};
    const cursor = decodeCursor(after, 2);
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

  async latest(accountId: string): Promise<ScanView> {
    const scans = await latestScanIds(this.prisma, accountId);
    return (await this.prisma.scan.findUnique({ where: { id: scans.get(accountId)! } }))!;
  }
}
