import type { Logger } from 'pino';
import { JobQueue } from './adapters/queue/job-queue';
import { nextCronRun, type Config } from './config';
import type { PrismaClient } from './generated/prisma/client';
import type { ScanSetup } from './graphql/context';
import { RetentionService } from './services/retention.service';
import { ScanJobsService, type ScanAccounts } from './services/scan-jobs.service';
import type { ScanRequest } from './services/scan.service';

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
  /**
   * False for `serve --processes N`'s API processes: they only enqueue and cancel, and leave the queue's
   * maintenance and the schedule's timer to the primary (N of them would each poll for the same work).
   */
  background?: boolean;
}

export async function openScanFleet(options: ScanFleetOptions): Promise<ScanFleet> {
  const { config, logger } = options;
  const queue = await JobQueue.open({
    url: options.url,
    expireInSeconds: config.scanTimeoutSeconds,
    pollingIntervalSeconds: options.pollingIntervalSeconds,
    retryDelaySeconds: options.retryDelaySeconds ?? config.scanRetryDelaySeconds,
    logger,
    background: options.background,
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
  if (options.background !== false) await queue.setSchedule(cron);
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
        await jobs.runJob(job);
      });
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
