import type { PrismaClient } from '../generated/prisma/client';
import { pruneChangesStatement } from '../adapters/store/change-log';
import { InvalidInputError } from './errors';
import { advanceHorizonStatement } from './instants';

export interface PruneResult {
  accountId: string;
  /** This prune's cutoff: versions that ended before it were deleted. */
  cutoff: Date;
  /** The horizon in force afterwards: the latest cutoff any prune reached, never earlier than before. */
  horizon: Date;
  userVersions: number;
  keyVersions: number;
  findingVersions: number;
  /** Change-log events (findingChanges, webhooks) about changes before the cutoff. */
  changeEvents: number;
}

/**
 * Retention: deletes detailed history (versions that ended before the cutoff, and change-log events about
 * changes before it: a findingChanges cursor older than them is then refused) and keeps every scan's
 * summary, so trends still cover the whole period. Answers as of an instant before the horizon are
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
      const advance = advanceHorizonStatement(id, cutoff);
      // After the horizon row exists: the change log's pruned-through position is kept beside it.
      const changes = pruneChangesStatement(id, cutoff);
      const [userVersions, keyVersions, findingVersions, [{ pruned_before: horizon }], [{ count: changeEvents }]] = await this.prisma.$transaction([
        this.prisma.iamUserVersion.deleteMany({ where: { accountId: id, validTo: { lt: cutoff } } }),
        this.prisma.accessKeyVersion.deleteMany({ where: { accountId: id, validTo: { lt: cutoff } } }),
        this.prisma.findingVersion.deleteMany({ where: { accountId: id, validTo: { lt: cutoff } } }),
        this.prisma.$queryRawUnsafe<{ pruned_before: Date }[]>(advance.sql, ...advance.params),
        this.prisma.$queryRawUnsafe<{ count: number }[]>(changes.sql, ...changes.params),
      ]);
      results.push({
        accountId: id, cutoff, horizon, userVersions: userVersions.count, keyVersions: keyVersions.count, findingVersions: findingVersions.count, changeEvents,
      });
    }
    // Webhook deliveries of events before the cutoff, once settled (a PENDING one is still to be sent).
    await this.prisma.webhookDelivery.deleteMany({ where: { status: { not: 'PENDING' }, occurredAt: { lt: cutoff } } });
    return results;
  }
}
