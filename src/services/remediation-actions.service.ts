import type { Prisma, PrismaClient, RemediationAction, RemediationKind, RemediationStatus } from '../generated/prisma/client';
import { newestFirstPage, type Page } from './page';

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
    return newestFirstPage(this.prisma.remediationAction, 'createdAt', where, first, after);
  }

  async byIds(ids: readonly string[]): Promise<(RemediationAction | null)[]> {
    const rows = await this.prisma.remediationAction.findMany({ where: { id: { in: [...ids] } } });
    const byId = new Map(rows.map((r) => [r.id, r]));
    return ids.map((id) => byId.get(id) ?? null);
  }
}
