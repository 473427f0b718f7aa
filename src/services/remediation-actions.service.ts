import type { Prisma, PrismaClient, RemediationAction, RemediationKind, RemediationStatus } from '../generated/prisma/client';
import { decodeCursor, encodeCursor, type Page } from './page';

export interface RemediationActionQuery {
  accountId?: string | null;
  accessKeyId?: string | null;
  status?: string[] | null;
  kind?: string | null;
}

/** Reads the remediation audit trail, newest first. */
export class RemediationActionsService {
  constructor(private readonly prisma: PrismaClient) {}

  async list(query: RemediationActionQuery, first: number, after?: string): Promise<Page<RemediationAction>> {
    const where: Prisma.RemediationActionWhereInput = {
      ...(query.accountId ? { accountId: query.accountId } : {}),
      ...(query.accessKeyId ? { accessKeyId: query.accessKeyId } : {}),
      ...(query.status?.length ? { status: { in: query.status as RemediationStatus[] } } : {}),
      ...(query.kind ? { kind: query.kind as RemediationKind } : {}),
    };
    const cursor = decodeCursor(after, 2, ['instant', 'uuid']);
    const keyset = cursor ? { OR: [{ createdAt: { lt: new Date(cursor[0]) } }, { createdAt: new Date(cursor[0]), id: { lt: cursor[1] } }] } : undefined;
    const [rows, totalCount] = await Promise.all([
      this.prisma.remediationAction.findMany({ where: keyset ? { AND: [where, keyset] } : where, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }], take: first + 1 }),
      this.prisma.remediationAction.count({ where }),
    ]);
    return { nodes: rows.slice(0, first), hasNextPage: rows.length > first, totalCount, cursorOf: (r) => encodeCursor([r.createdAt.toISOString(), r.id]) };
  }

  async byIds(ids: readonly string[]): Promise<(RemediationAction | null)[]> {
    const rows = await this.prisma.remediationAction.findMany({ where: { id: { in: [...ids] } } });
    const byId = new Map(rows.map((r) => [r.id, r]));
    return ids.map((id) => byId.get(id) ?? null);
  }
}
