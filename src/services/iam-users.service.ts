import type { AccessKeySnapshot, IamUserSnapshot, Prisma, PrismaClient } from '../generated/prisma/client';
import { InvalidInputError } from './errors';
import { decodeCursor, encodeCursor, type Page } from './page';
import { latestScanIds } from './latest-scans';

export type IamUserView = IamUserSnapshot;
export type AccessKeyView = AccessKeySnapshot;

export interface IamUserQuery {
  accountId?: string | null;
  userName?: string | null;
  hasConsolePassword?: boolean | null;
}

/** Reads IAM users as the latest scan of each account saw them. */
export class IamUsersService {
  constructor(private readonly prisma: PrismaClient) {}

  async list(query: IamUserQuery, first: number, after?: string): Promise<Page<IamUserView>> {
    const scans = await latestScanIds(this.prisma, query.accountId);
    const where: Prisma.IamUserSnapshotWhereInput = {
      scanId: { in: [...scans.values()] },
      ...(query.userName ? { userName: query.userName } : {}),
      ...(query.hasConsolePassword != null ? { hasConsolePassword: query.hasConsolePassword } : {}),
    };
    const cursor = decodeCursor(after, 2);
    const keyset: Prisma.IamUserSnapshotWhereInput | undefined = cursor
      ? { OR: [{ accountId: { gt: cursor[0] } }, { accountId: cursor[0], userName: { gt: cursor[1] } }] }
      : undefined;
    const [rows, totalCount] = await Promise.all([
      this.prisma.iamUserSnapshot.findMany({
        where: keyset ? { AND: [where, keyset] } : where,
        orderBy: [{ accountId: 'asc' }, { userName: 'asc' }],
        take: first + 1,
      }),
      this.prisma.iamUserSnapshot.count({ where }),
    ]);
    return {
      nodes: rows.slice(0, first),
      hasNextPage: rows.length > first,
      totalCount,
      cursorOf: (u) => encodeCursor([u.accountId, u.userName]),
    };
  }

  async get(accountId: string, userName: string): Promise<IamUserView | null> {
    if (!accountId) throw new InvalidInputError('accountId must not be empty', 'accountId');
    if (!userName) throw new InvalidInputError('userName must not be empty', 'userName');
    const scans = await latestScanIds(this.prisma, accountId);
    return this.prisma.iamUserSnapshot.findUnique({ where: { scanId_userName: { scanId: scans.get(accountId)!, userName } } });
  }

  async byIds(ids: readonly string[]): Promise<(IamUserView | null)[]> {
    const rows = await this.prisma.iamUserSnapshot.findMany({ where: { id: { in: [...ids] } } });
    const byId = new Map(rows.map((r) => [r.id, r]));
    return ids.map((id) => byId.get(id) ?? null);
  }

  async accessKeysOf(userSnapshotIds: readonly string[]): Promise<AccessKeyView[][]> {
    const rows = await this.prisma.accessKeySnapshot.findMany({
      where: { userSnapshotId: { in: [...userSnapshotIds] } },
      orderBy: [{ createdAt: 'asc' }, { accessKeyId: 'asc' }],
    });
    return userSnapshotIds.map((id) => rows.filter((r) => r.userSnapshotId === id));
  }
}
