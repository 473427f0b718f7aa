import type { Logger } from 'pino';
import { JobQueue } from './adapters/queue/job-queue';
import { nextCronRun, type Config } from './config';
import type { PrismaClient } from './generated/prisma/client';
import type { ScanSetup } from './graphql/context';
import { RetentionService } from './services/retention.service';
import { ScanJobsService, type ScanAccounts } from './services/scan-jobs.service';
import type { ScanRequest } from './services/scan.service';
import type { SecurityHubPushService } from './services/securityhub/securityhub-push.service';

/** The queue, the scan jobs on it, and (once started) this process's worker. */
export interface ScanFleet {
  queue: JobQueue;
  jobs: ScanJobsService;
  /** For the GraphQL server: startScan/cancelScan and scanSchedule. */
  setup: ScanSetup;
  /** Runs account scans (and scheduled org-wide runs) in this process; marks scans a dead worker left RUNNING. */
  startWorker(concurrency?: number): Promise<void>;
  /** Stops fetching jobs and waits for the scans this process runs (up to `timeoutMs`). */
  close(timeoutMs?: number): Promise<void>;
}

export interface ScanFleetOptions {
  /** The database the queue lives in (the same as Prisma's). */
  url: string;
  prisma: PrismaClient;
  accounts: ScanAccounts & { sync?: () => Promise<unknown> };
  scanRequest: ScanRequest;
  config: Pick<Config, 'scanSchedule' | 'workerConcurrency' | 'scanTimeoutSeconds' | 'retentionDays'> & Partial<Pick<Config, 'scanRetryDelaySeconds'>>;
  logger: Logger;
  /** Seconds between polls of the queue (tests poll faster). */
  pollingIntervalSeconds?: number;
  retryDelaySeconds?: number;
  now?: () => Date;
  /** KEYWARDEN_SECURITYHUB_REGION set: each stored scan enqueues a push of its account, and the catch-up runs on `catchUp`. */
  securityHub?: { push: SecurityHubPushService; catchUp: string | 'off' } | null;
}

export async function openScanFleet(options: ScanFleetOptions): Promise<ScanFleet> {
  const { config, logger } = options;
  const queue = await JobQueue.open({
    url: options.url,
    expireInSeconds: config.scanTimeoutSeconds,
    pollingIntervalSeconds: options.pollingIntervalSeconds,
    retryDelaySeconds: options.retryDelaySeconds ?? config.scanRetryDelaySeconds,
    logger,
  });
  const jobs = new ScanJobsService({
    prisma: options.prisma,
    queue,
    accounts: options.accounts,
    scanRequest: options.scanRequest,
    retention: { service: new RetentionService(options.prisma), days: config.retentionDays },
    logger,
    now: options.now,
  });
  const cron = config.scanSchedule === 'off' ? null : config.scanSchedule;
  await queue.setSchedule(cron);
  const catchUp = options.securityHub && options.securityHub.catchUp !== 'off' ? options.securityHub.catchUp : null;
  await queue.setSecurityHubCatchUp(catchUp);
  let sweeper: NodeJS.Timeout | undefined;
  const sweep = async () => {
    const interrupted = await jobs.reconcileInterrupted().catch(() => 0);
    if (interrupted > 0) logger.warn({ interrupted }, 'scans left RUNNING by a stopped worker are marked FAILED (INTERRUPTED)');
  };
  return {
    queue,
    jobs,
    setup: { jobs, schedule: () => ({ cron, nextRunAt: cron ? nextCronRun(cron) : null }) },
    async startWorker(concurrency = config.workerConcurrency) {
      await sweep();
      // A worker that dies mid-scan leaves its scan RUNNING until the queue expires the job; then any worker marks it.
      sweeper = setInterval(() => void sweep(), Math.min(30, Math.max(1, config.scanTimeoutSeconds / 2)) * 1000);
      sweeper.unref();
      await queue.workAccountScans(concurrency, async (job) => {
        const summary = await jobs.runJob(job);
        // A stored scan (not FAILED) has changes to push. Enqueueing can fail: the catch-up covers it, and the scan stands.
        if (options.securityHub && summary && summary.status !== 'FAILED') {
          await queue
            .enqueueSecurityHubPush({ accountId: job.data.accountId, reason: `scan ${summary.scanId}` })
            .catch((err) => logger.warn({ err: String(err), accountId: job.data.accountId }, 'security hub push not enqueued; the catch-up will send it'));
        }
      });
      if (options.securityHub) {
        const { push } = options.securityHub;
        await queue.workSecurityHubPushes(
          async (job) => {
            try {
              await push.push(job.data.accountId);
            } catch (err) {
              // Thrown again: pg-boss retries it with backoff. The cursor did not move, so nothing is lost.
              logger.warn({ accountId: job.data.accountId, reason: job.data.reason, err: String(err) }, 'security hub push failed; retried later');
              throw err;
            }
          },
          async () => {
            for (const accountId of await push.accountsWithFindings()) await queue.enqueueSecurityHubPush({ accountId, reason: 'catch-up' });
          },
        );
      }
      await queue.workOrgScans(async (job) => {
        // The schedule's run: the organization's accounts first (new, suspended, left), then every scannable one.
        if (options.accounts.sync) await options.accounts.sync();
        const { scans, skipped } = await jobs.enqueue({ allAccounts: true, requestedBy: job.data.requestedBy, skipBusy: true });
        logger.info({ queued: scans.length, skipped: skipped.length }, 'scheduled org-wide scan queued');
      });
    },
    close: async (timeoutMs) => {
      if (sweeper) clearInterval(sweeper);
      await queue.stop(timeoutMs);
    },
  };
}
