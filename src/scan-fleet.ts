import type { Logger } from 'pino';
import { JobQueue } from './adapters/queue/job-queue';
import { nextCronRun, type Config } from './config';
import type { PrismaClient } from './generated/prisma/client';
import type { ScanSetup } from './graphql/context';
import { RetentionService } from './services/retention.service';
import { ScanJobsService, type ScanAccounts } from './services/scan-jobs.service';
import type { ScanRequest } from './services/scan.service';
import type { SecretBox } from './adapters/webhooks/secret-box';
import type { SsrfGuard } from './adapters/webhooks/ssrf-guard';
import { WebhookSender } from './adapters/webhooks/webhook.sender';
import { WebhookStore } from './adapters/webhooks/webhook.store';
import type { OutboxEvent } from './adapters/webhooks/webhook.store';
import { WebhookDeliveryService, type RetryPolicy } from './services/webhook-delivery.service';

/** What this process's worker needs to deliver webhooks. */
export interface WebhookWorkerOptions {
  secrets: SecretBox;
  guard: SsrfGuard;
  /** Endpoints delivered to at once in this process (each a job walking one endpoint's cursor). Default 4. */
  concurrency?: number;
  /** How often this worker looks for endpoints with work due (and after each scan it ran). Default 500 ms. */
  dispatchIntervalMs?: number;
  retry?: RetryPolicy;
  timeoutMs?: number;
  /** The clock retries are scheduled by (tests move it). */
  now?: () => Date;
}
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
  /** Webhook delivery, when the fleet was given webhooks: the worker runs its jobs and its dispatcher. */
  webhooks: WebhookDeliveryService | null;
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
  /** Deliver webhooks from this process's worker (the change log's events, as they commit). */
  webhooks?: WebhookWorkerOptions;
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
  const hooks = options.webhooks;
  // The sender signs with the real time (receivers refuse a webhook-timestamp 5 minutes off); `now` schedules retries.
  const sender = hooks ? new WebhookSender({ guard: hooks.guard, timeoutMs: hooks.timeoutMs }) : null;
  // The payloads use the GraphQL mappers (and so type-graphql, ~15 MB): loaded when a first event is to be sent,
  // so a worker with no webhook endpoint stays as small as before.
  let payloads: ((events: OutboxEvent[]) => Promise<unknown[]>) | undefined;
  const buildPayloads = (events: OutboxEvent[]) => {
    payloads ??= (require('./graphql/webhooks/webhook-event.payload') as typeof import('./graphql/webhooks/webhook-event.payload')).webhookPayloads(options.prisma);
    return payloads(events);
  };
  const webhooks = hooks && sender
    ? new WebhookDeliveryService({
      prisma: options.prisma, store: new WebhookStore(options.prisma), sender, secrets: hooks.secrets, payloads: buildPayloads,
      enqueue: (endpointId) => queue.enqueueWebhookDelivery(endpointId), retry: hooks.retry, logger, now: hooks.now,
    })
    : null;
  let dispatcher: NodeJS.Timeout | undefined;
  let dispatching = false;
  const dispatch = async () => {
    if (!webhooks || dispatching) return;
    dispatching = true;
    try {
      if ((await webhooks.dispatch()) > 0) queue.wakeWebhookWorkers();
    } catch (err) {
      logger.warn({ err: String(err) }, 'webhook dispatch failed; trying again at the next tick');
    } finally {
      dispatching = false;
    }
  };
  const cron = config.scanSchedule === 'off' ? null : config.scanSchedule;
  const catchUp = options.securityHub && options.securityHub.catchUp !== 'off' ? options.securityHub.catchUp : null;
  if (options.background !== false) {
    await queue.setSchedule(cron);
    await queue.setSecurityHubCatchUp(catchUp);
  }
  let sweeper: NodeJS.Timeout | undefined;
  const sweep = async () => {
    const interrupted = await jobs.reconcileInterrupted().catch(() => 0);
    if (interrupted > 0) logger.warn({ interrupted }, 'scans left RUNNING by a stopped worker are marked FAILED (INTERRUPTED)');
  };
  return {
    queue,
    jobs,
    setup: { jobs, schedule: () => ({ cron, nextRunAt: cron ? nextCronRun(cron) : null }) },
    webhooks,
    async startWorker(concurrency = config.workerConcurrency) {
      await sweep();
      // A worker that dies mid-scan leaves its scan RUNNING until the queue expires the job; then any worker marks it.
      sweeper = setInterval(() => void sweep(), Math.min(30, Math.max(1, config.scanTimeoutSeconds / 2)) * 1000);
      sweeper.unref();
      await queue.workAccountScans(concurrency, async (job) => {
        const summary = await jobs.runJob(job);
        // Its events are committed: send them now rather than at the next tick.
        void dispatch();
        // A stored scan (not FAILED) has changes to push. Enqueueing can fail: the catch-up covers it, and the scan stands.
        if (options.securityHub && summary && summary.status !== 'FAILED') {
          await queue
            .enqueueSecurityHubPush({ accountId: job.data.accountId, reason: `scan ${summary.scanId}` })
            .catch((err) => logger.warn({ err: String(err), accountId: job.data.accountId }, 'security hub push not enqueued; the catch-up will send it'));
        }
      });
      if (webhooks) {
        await queue.workWebhookDeliveries(hooks?.concurrency ?? 4, async (job) => {
          await webhooks.run(job.data.endpointId);
        });
        // Events committed by other processes (the API's remediations and exceptions), and retries falling due.
        dispatcher = setInterval(() => void dispatch(), hooks?.dispatchIntervalMs ?? 500);
        dispatcher.unref();
      }
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
      if (dispatcher) clearInterval(dispatcher);
      await queue.stop(timeoutMs);
      sender?.close();
    },
  };
}
