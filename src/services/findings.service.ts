import type { PrismaClient, Finding as FindingRow } from '../generated/prisma/client';
import type { Prisma } from '../generated/prisma/client';
import type { ComplianceStatus, FindingEvidence, FindingReason } from '../domain/finding';
import { decodeCursor, encodeCursor, type Page } from './page';
import { latestScanIds } from './latest-scans';

export interface FindingView {
  localId: string;
  controlId: string;
  status: ComplianceStatus;
  reasons: FindingReason[];
  userName: string;
  userArn: string;
  accessKeyId: string | null;
  accountId: string;
  evidence: FindingEvidence;
  firstSeenAt: Date;
  lastSeenAt: Date;
  scanId: string;
  identity: string;
}

export interface FindingQuery {
  accountId?: string | null;
  status?: ComplianceStatus[] | null;
  userName?: string | null;
  controlId?: string | null;
}

/** Reads findings as the latest scan of each account left them. */
export class FindingsService {
  constructor(private readonly prisma: PrismaClient) {}

  async list(query: FindingQuery, first: number, after?: string): Promise<Page<FindingView>> {
    const scans = await latestScanIds(this.prisma, query.accountId);
    const where: Prisma.FindingWhereInput = {
      lastScanId: { in: [...scans.values()] },
      ...(query.status?.length ? { status: { in: query.status } } : {}),
      ...(query.userName ? { userName: query.userName } : {}),
      ...(query.controlId ? { controlId: query.controlId } : {}),
    };
    const cursor = decodeCursor(after, 1);
    // Keyset on the unique identity (account/control/user/key): stable order, no OFFSET on deep pages.
    const [rows, totalCount] = await Promise.all([
      this.prisma.finding.findMany({
        where: cursor ? { AND: [where, { identity: { gt: cursor[0] } }] } : where,
        orderBy: { identity: 'asc' },
        take: first + 1,
      }),
      this.prisma.finding.count({ where }),
    ]);
    return {
      nodes: rows.slice(0, first).map(toView),
      hasNextPage: rows.length > first,
      totalCount,
      cursorOf: (f) => encodeCursor([f.identity]),
    };
  }

  async failingUserCount(accountId: string, failCount: number): Promise<number> {
    if (failCount === 0) return 0;
    const scans = await latestScanIds(this.prisma, accountId);
    const users = await this.prisma.finding.groupBy({ by: ['userName'], where: { lastScanId: scans.get(accountId)!, status: 'FAIL' } });
    return users.length;
  }

  async byIds(ids: readonly string[]): Promise<(FindingView | null)[]> {
    const rows = await this.prisma.finding.findMany({ where: { id: { in: [...ids] } } });
    const byId = new Map(rows.map((r) => [r.id, toView(r)]));
    return ids.map((id) => byId.get(id) ?? null);
  }

  /** Findings the given scans recorded for the given users, batched for IamUser.findings. */
  async forUsers(keys: readonly { scanId: string; accountId: string; userName: string }[]): Promise<FindingView[][]> {
    const rows = await this.prisma.finding.findMany({
      where: { OR: keys.map((k) => ({ accountId: k.accountId, userName: k.userName, lastScanId: k.scanId })) },
      orderBy: { identity: 'asc' },
    });
    return keys.map((k) => rows.filter((r) => r.accountId === k.accountId && r.userName === k.userName).map(toView));
  }
}

function toView(r: FindingRow): FindingView {
  return {
    localId: r.id,
    identity: r.identity,
    controlId: r.controlId,
    status: r.status,
    reasons: r.reasons as FindingReason[],
    userName: r.userName,
    userArn: r.userArn,
    accessKeyId: r.accessKeyId,
    accountId: r.accountId,
    evidence: reviveEvidence(r.evidence),
    firstSeenAt: r.firstSeenAt,
    lastSeenAt: r.lastSeenAt,
    scanId: r.lastScanId,
  };
}

const EVIDENCE_DATES = ['userCreatedAt', 'passwordLastUsedAt', 'accessKeyCreatedAt', 'accessKeyLastUsedAt', 'dataSourceAsOf', 'evaluatedAt'] as const;

function reviveEvidence(json: unknown): FindingEvidence {
  const e = { ...(json as Record<string, unknown>) };
  for (const k of EVIDENCE_DATES) if (typeof e[k] === 'string') e[k] = new Date(e[k] as string);
  return e as unknown as FindingEvidence;
}
