import type { Prisma, PrismaClient, RemediationAction, RemediationKind, RemediationStatus } from '../generated/prisma/client';
import { newestFirstPage, type Page, type PageFrom } from './page';

export interface RemediationActionQuery {
  accountId?: string | null;
  accessKeyId?: string | null;
  status?: string[] | null;
  /** Deprecated in the API in favour of kinds. */
  kind?: string | null;
  kinds?: readonly string[] | null;
  createdAfter?: Date | null;
}

/** Reads the remediation audit trail, newest first. */
export class RemediationActionsService {
  constructor(private readonly prisma: PrismaClient) {}

  async list(query: RemediationActionQuery, first: number, from?: PageFrom, direction: 'ASC' | 'DESC' = 'DESC'): Promise<Page<RemediationAction>> {
    const kinds = [...(query.kinds ?? []), ...(query.kind ? [query.kind] : [])];
    const where: Prisma.RemediationActionWhereInput = {
      ...(query.accountId ? { accountId: query.accountId } : {}),
      ...(query.accessKeyId ? { accessKeyId: query.accessKeyId } : {}),
      ...(query.status?.length ? { status: { in: query.status as RemediationStatus[] } } : {}),
      ...(kinds.length ? { kind: { in: kinds as RemediationKind[] } } : {}),
      ...(query.createdAfter ? { createdAt: { gt: query.createdAfter } } : {}),
    };
    return newestFirstPage('r', this.prisma.remediationAction, 'createdAt', where, first, from, direction);
  }

  async byIds(ids: readonly string[]): Promise<(RemediationAction | null)[]> {
    const rows = await this.prisma.remediationAction.findMany({ where: { id: { in: [...ids] } } });
    const byId = new Map(rows.map((r) => [r.id, r]));
    return ids.map((id) => byId.get(id) ?? null);
  }
}
