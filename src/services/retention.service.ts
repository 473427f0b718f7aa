import type { PrismaClient } from '../generated/prisma/client';
import { InvalidInputError } from './errors';

export interface PruneResult {
  accountId: string;
  prunedBefore: Date;
  userVersions: number;
  keyVersions: number;
  findingVersions: number;
}

/**
 * Retention: deletes detailed history (versions that ended before the cutoff) and keeps every scan's
 * summary, so trends still cover the whole period. Answers as of an instant before the cutoff are
 * refused from then on. Nothing is pruned unless a retention is configured.
 */
export class RetentionService {
  constructor(private readonly prisma: PrismaClient) {}

  async prune(retentionDays: number, now = new Date()): Promise<PruneResult[]> {
    if (!Number.isInteger(retentionDays) || retentionDays < 1) throw new InvalidInputError('retention must be a whole number of days, at least 1', 'retentionDays');
    const cutoff = new Date(now.getTime() - retentionDays * 86_400_000);
    const accounts = await this.prisma.scan.findMany({ where: { accountId: { not: null } }, distinct: ['accountId'], select: { accountId: true } });
    const results: PruneResult[] = [];
    for (const { accountId } of accounts) {
      const id = accountId!;
      const [userVersions, keyVersions, findingVersions] = await this.prisma.$transaction([
        this.prisma.iamUserVersion.deleteMany({ where: { accountId: id, validTo: { lt: cutoff } } }),
        this.prisma.accessKeyVersion.deleteMany({ where: { accountId: id, validTo: { lt: cutoff } } }),
        this.prisma.findingVersion.deleteMany({ where: { accountId: id, validTo: { lt: cutoff } } }),
        this.prisma.historyHorizon.upsert({ where: { accountId: id }, create: { accountId: id, prunedBefore: cutoff }, update: { prunedBefore: cutoff } }),
      ]);
      results.push({ accountId: id, prunedBefore: cutoff, userVersions: userVersions.count, keyVersions: keyVersions.count, findingVersions: findingVersions.count });
    }
    return results;
  }
}
