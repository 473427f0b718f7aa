import path from 'node:path';
import type { Logger } from 'pino';
import { createIamClient, type CountingIamClient } from './adapters/iam/iam-client';
import { EMBEDDED_PG_MAJOR, startEmbeddedPostgres } from './adapters/db/embedded-postgres';
import { ensureDatabase } from './adapters/db/ensure-database';
import { migrateDatabase } from './adapters/db/migrate';
import { createPrismaClient } from './adapters/db/prisma';
import { ScanStore } from './adapters/store/scan.store';
import type { Config } from './config';
import type { PrismaClient } from './generated/prisma/client';
import { runFullScan } from './services/full-scan';
import { RetentionService, type PruneResult } from './services/retention.service';
import { ScanService, type ScanSummary } from './services/scan.service';
import type { AwsAccess } from './adapters/aws/aws-access';
import type { AccountsService } from './services/accounts.service';
import { FindingsService } from './services/findings.service';
import type { SecurityHubPushService, PushResult } from './services/securityhub/securityhub-push.service';

export interface Database {
  prisma: PrismaClient;
  /**
   * The connection URL, with its credentials, for clients beside Prisma (pg-boss opens its own pool
   * with it). Never log it: `description` is the loggable form.
   */
  url: string;
  /** Where it lives, without credentials, for messages. */
  description: string;
  close(): Promise<void>;
}

/**
 * DATABASE_URL when given, else the embedded PostgreSQL under the data dir (started, or the one
 * another Keywarden process already runs there); migrated before use.
 */
export async function openDatabase(config: Config, logger: Logger, { migrate = true } = {}): Promise<Database> {
  if (config.databaseUrl) {
    if (migrate && (await ensureDatabase(config.databaseUrl))) logger.info({ database: describeUrl(config.databaseUrl) }, 'created the database DATABASE_URL names');
    if (migrate) await migrateDatabase(config.databaseUrl);
    const prisma = createPrismaClient(config.databaseUrl);
    return { prisma, url: config.databaseUrl, description: describeUrl(config.databaseUrl), close: () => prisma.$disconnect() };
  }
  const pgdata = path.join(config.dataDir, 'pgdata');
  const embedded = await startEmbeddedPostgres({ pgdata, port: config.embeddedPgPort, log: logger });
  try {
    if (migrate) await migrateDatabase(embedded.url);
  } catch (err) {
    await embedded.stop();
    throw err;
  }
  // A real server: Prisma's usual pool (pg's default, 10), and room for pg-boss's beside it.
  const prisma = createPrismaClient(embedded.url);
  const where = `127.0.0.1:${embedded.port}${embedded.owner ? '' : `, run by process ${embedded.ownerPid}`}`;
  return {
    prisma,
    url: embedded.url,
    description: `embedded PostgreSQL ${EMBEDDED_PG_MAJOR} in ${pgdata} (${where})`,
    close: async () => {
      await prisma.$disconnect();
      await embedded.stop();
    },
  };
}

export function createScanService(prisma: PrismaClient, iam: CountingIamClient = createIamClient(), now?: () => Date): ScanService {
  return new ScanService({ store: new ScanStore(prisma), iam, now });
}

/** One full scan as the CLI configures it, then the post-scan steps (afterScan, shared with every queued scan). */
export function scanAndPrune(config: Config, prisma: PrismaClient, iam: CountingIamClient): Promise<ScanSummary> {
  return runFullScan({ scans: createScanService(prisma, iam), retention: new RetentionService(prisma), retentionDays: config.retentionDays }, scanRequest(config));
}

export function scanRequest(config: Config) {
  const mode = config.scanMode === 'per-user-api' ? ('PER_USER_API' as const) : ('CREDENTIAL_REPORT' as const);
  return {
    collect: {
      mode,
      concurrency: config.scanConcurrency,
      collectTags: config.collectTags,
      report: { deadlineMs: config.reportDeadlineSeconds * 1000 },
    },
    control: { setupWindowSeconds: config.setupWindowSeconds, gracePeriodSeconds: config.gracePeriodSeconds },
  };
}

export function formatScanSummary(s: ScanSummary): string {
  const lines = [
    `scan ${s.scanId} ${s.status}${s.accountId ? ` for account ${s.accountId}` : ''}`,
    `  users: ${s.users}`,
    `  findings: PASS ${s.counts.pass}, FAIL ${s.counts.fail}, NOT_APPLICABLE ${s.counts.notApplicable}, ERROR ${s.counts.error}, EXCEPTED ${s.counts.excepted}`,
    `  changes: ${s.opened} opened, ${s.resolved} resolved, ${s.versionsWritten} history rows written`,
    `  duration: ${(s.durationMs / 1000).toFixed(2)} s`,
    `  IAM calls: ${s.iamCalls.total} (${Object.entries(s.iamCalls.byOperation).map(([op, n]) => `${op} ${n}`).join(', ') || 'none'})`,
  ];
  const errors = s.errors.filter((e) => e.severity === 'error');
  const warnings = s.errors.filter((e) => e.severity === 'warning');
  for (const e of errors.slice(0, 10)) lines.push(`  error: ${e.userName ? `${e.userName}: ` : ''}${e.operation}: ${e.code}: ${e.message}`);
  if (errors.length > 10) lines.push(`  ... and ${errors.length - 10} more errors`);
  for (const w of warnings.slice(0, 5)) lines.push(`  warning: ${w.userName ? `${w.userName}: ` : ''}${w.operation}: ${w.message}`);
  if (warnings.length > 5) lines.push(`  ... and ${warnings.length - 5} more warnings`);
  return lines.join('\n');
}

/** One line per account: what this prune deleted, and the horizon in force (it never moves back). */
export function formatPruneResult(r: PruneResult): string {
  const deleted = `deleted ${r.userVersions} user, ${r.keyVersions} key, ${r.findingVersions} finding versions that ended before ${r.cutoff.toISOString()} ` +
    `and ${r.changeEvents} change events from before it`;
  const horizon = r.horizon > r.cutoff ? `${r.horizon.toISOString()}, kept from an earlier prune that reached further` : r.horizon.toISOString();
  return `account ${r.accountId}: ${deleted}; history horizon ${horizon} (asOf from there on is answered in full)`;
}

/**
 * The Security Hub push when KEYWARDEN_SECURITYHUB_REGION is set, else null. Each account's findings are imported
 * with that account's own credentials (the base credentials, or the member role scans use): with the default
 * product ARN, BatchImportFindings accepts a finding only from the account named in its AwsAccountId.
 */
export function createSecurityHubPush(config: Config, prisma: PrismaClient, aws: AwsAccess, accounts: AccountsService, logger?: Logger): SecurityHubPushService | null {
  const region = config.securityHubRegion;
  if (!region) return null;
  // Required only when pushing: the service loads the Security Hub SDK, which a worker without a region never needs.
  const { SecurityHubPushService: Service } = require('./services/securityhub/securityhub-push.service') as typeof import('./services/securityhub/securityhub-push.service');
  return new Service({
    prisma,
    findings: new FindingsService(prisma),
    region,
    logger,
    clientFor: async (accountId) => aws.securityHubClient(await accounts.credentialsFor(accountId, `keywarden-securityhub-${Date.now()}`), region),
  });
}

export function formatPushResult(r: PushResult): string {
  const failed = r.failed.length > 0 ? `, ${r.failed.length} refused (kept, sent again by the next push): ${r.failed.slice(0, 5).map((f) => `${f.id} ${f.code}`).join('; ')}` : '';
  return `account ${r.accountId}: ${r.imported} findings imported${r.everything ? ' (every current finding)' : ' (changes since the last push)'} in ${r.requests} BatchImportFindings requests${failed}`;
}

function describeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `PostgreSQL at ${u.hostname}:${u.port || 5432}${u.pathname}`;
  } catch {
    return 'PostgreSQL';
  }
}
