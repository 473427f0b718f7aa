import PgBoss from 'pg-boss';
import type { Logger } from 'pino';
import { settleJobOutcomes } from './job-outcome';

/** One account's scan, as the queue carries it. The scan row (QUEUED) exists before the job is sent. */
export interface AccountScanJob {
  scanId: string;
  accountId: string;
  runId: string;
}

/** The schedule's job: sync the organization's accounts, then enqueue a scan of each scannable one. */
export interface OrgScanJob {
  requestedBy: string;
}

/** One account's Security Hub push (README, "Security Hub"). */
export interface SecurityHubPushJob {
  accountId: string;
  /** What sent it: `scan <id>`, `catch-up`. */
  reason: string;
}

export const ACCOUNT_SCAN_QUEUE = 'keywarden-account-scan';
export const SECURITYHUB_PUSH_QUEUE = 'keywarden-securityhub-push';
/** The periodic catch-up: enqueues a push of every account with findings. */
export const SECURITYHUB_CATCH_UP_QUEUE = 'keywarden-securityhub-catch-up';
export const ORG_SCAN_QUEUE = 'keywarden-org-scan';
/**
 * One job walks one webhook endpoint's cursor. `short` by endpoint: at most one waits per endpoint. (`stately`
 * would also hold one active per endpoint, but pg-boss then fails every fetch while a queued job's endpoint is
 * busy, stalling every other endpoint behind it; the cursor's lease keeps one job per endpoint instead.)
 */
export const WEBHOOK_DELIVERY_QUEUE = 'keywarden-webhook-delivery';

/** A webhook endpoint whose deliveries are due. */
export interface WebhookDeliveryJob {
  endpointId: string;
}

export interface JobQueueOptions {
  url: string;
  /** Attempts after the first for a transient failure (throttling, network, a database blip). */
  retryLimit?: number;
  /** First retry delay; doubled at each attempt (pg-boss's backoff). */
  retryDelaySeconds?: number;
  /**
   * A job active longer than this is taken for lost (its worker died) and retried. It bounds a scan's
   * duration, so it is generous by default.
   */
  expireInSeconds?: number;
  pollingIntervalSeconds?: number;
  logger?: Logger;
  /** False: no maintenance (expiry, archiving) and no cron timer in this process: it only sends and cancels jobs. */
  background?: boolean;
}

export interface QueueDepth {
  queued: number;
  active: number;
  /** Age of the oldest job waiting, in seconds (0 when none). */
  oldestQueuedSeconds: number;
}

/**
 * Keywarden's job queue: pg-boss, in the same PostgreSQL (schema `pgboss`), created and migrated by
 * `keywarden migrate` (and on open). Account scans use the `stately` policy keyed by account: at most
 * one scan of an account is active and at most one waits behind it, whatever the number of workers.
 */
export class JobQueue {
  private constructor(
    readonly boss: PgBoss,
    private readonly options: JobQueueOptions,
  ) {}

  static async open(options: JobQueueOptions): Promise<JobQueue> {
    settleJobOutcomes();
    const boss = new PgBoss({
      connectionString: options.url,
      application_name: 'keywarden-queue',
      max: 4,
      // Expired jobs (a killed worker's) are noticed by the supervisor's maintenance.
      maintenanceIntervalSeconds: Math.max(1, Math.min(60, Math.floor((options.expireInSeconds ?? 3600) / 2))),
      ...(options.background === false ? { supervise: false, schedule: false } : {}),
    });
    boss.on('error', (err) => options.logger?.warn({ err: String(err) }, 'queue error'));
    await boss.start();
    const queue = new JobQueue(boss, options);
    await queue.ensureQueues();
    return queue;
  }

  private async ensureQueues(): Promise<void> {
    const common = {
      retryLimit: this.options.retryLimit ?? 3,
      retryDelay: this.options.retryDelaySeconds ?? 30,
      retryBackoff: true,
      expireInSeconds: this.options.expireInSeconds ?? 3600,
      retentionDays: 7,
    };
    const queues = [
      { name: ACCOUNT_SCAN_QUEUE, policy: 'stately' as const, ...common },
      { name: ORG_SCAN_QUEUE, policy: 'singleton' as const, ...common, retryLimit: 1 },
      // A job delivers for at most ~30 s plus one attempt's 10 s timeout; failed attempts are the job's own
      // business (the delivery rows), so the queue only retries a job that crashed. The dispatcher requeues.
      { name: WEBHOOK_DELIVERY_QUEUE, policy: 'short' as const, retryLimit: 1, retryDelay: 5, retryBackoff: false, expireInSeconds: 300, retentionDays: 1 },
      // Stately per account: one push runs, one waits (it reads the log from wherever the running one leaves it).
      // A failed push is retried with backoff; the catch-up sends one again at the latest.
      { name: SECURITYHUB_PUSH_QUEUE, policy: 'stately' as const, ...common, retryLimit: 5, retryDelay: this.options.retryDelaySeconds ?? 30, expireInSeconds: 900 },
      { name: SECURITYHUB_CATCH_UP_QUEUE, policy: 'singleton' as const, ...common, retryLimit: 0, expireInSeconds: 300 },
    ];
    for (const q of queues) {
      if (await this.boss.getQueue(q.name)) await this.boss.updateQueue(q.name, q);
      else await this.boss.createQueue(q.name, q);
    }
  }

  /** Null when a scan of that account already waits in the queue (stately: one queued per account). */
  enqueueAccountScan(job: AccountScanJob): Promise<string | null> {
    return this.boss.send(ACCOUNT_SCAN_QUEUE, job, { singletonKey: job.accountId });
  }

  enqueueOrgScan(job: OrgScanJob): Promise<string | null> {
    return this.boss.send(ORG_SCAN_QUEUE, job);
  }

  /** Null when a push of that account already waits (stately: it will read every change up to its start). */
  enqueueSecurityHubPush(job: SecurityHubPushJob): Promise<string | null> {
    return this.boss.send(SECURITYHUB_PUSH_QUEUE, job, { singletonKey: job.accountId });
  }

  async workSecurityHubPushes(handler: (job: PgBoss.Job<SecurityHubPushJob>) => Promise<void>, catchUp: () => Promise<void>): Promise<void> {
    const pollingIntervalSeconds = this.options.pollingIntervalSeconds ?? 1;
    await this.boss.work<SecurityHubPushJob>(SECURITYHUB_PUSH_QUEUE, { batchSize: 1, pollingIntervalSeconds }, async ([job]) => handler(job!));
    await this.boss.work(SECURITYHUB_CATCH_UP_QUEUE, { batchSize: 1, pollingIntervalSeconds }, async () => catchUp());
  }

  /** The catch-up push's cron in UTC; null removes it. */
  async setSecurityHubCatchUp(cron: string | null): Promise<void> {
    if (cron) await this.boss.schedule(SECURITYHUB_CATCH_UP_QUEUE, cron, {}, { tz: 'UTC' });
    else await this.boss.unschedule(SECURITYHUB_CATCH_UP_QUEUE);
  }

  async securityHubPushState(jobId: string): Promise<string | null> {
    return (await this.boss.getJobById(SECURITYHUB_PUSH_QUEUE, jobId, { includeArchive: true }))?.state ?? null;
  }

  /** Runs account scans, `concurrency` at a time in this process, until stop(). */
  async workAccountScans(concurrency: number, handler: (job: PgBoss.Job<AccountScanJob>) => Promise<void>): Promise<void> {
    const pollingIntervalSeconds = this.options.pollingIntervalSeconds ?? 1;
    for (let i = 0; i < concurrency; i++) {
      await this.boss.work<AccountScanJob>(ACCOUNT_SCAN_QUEUE, { batchSize: 1, pollingIntervalSeconds }, async ([job]) => handler(job!));
    }
  }

  async workOrgScans(handler: (job: PgBoss.Job<OrgScanJob>) => Promise<void>): Promise<void> {
    await this.boss.work<OrgScanJob>(ORG_SCAN_QUEUE, { batchSize: 1, pollingIntervalSeconds: this.options.pollingIntervalSeconds ?? 1 }, async ([job]) => handler(job!));
  }

  /** Null when a job for that endpoint already waits (`short`: one queued per endpoint). */
  enqueueWebhookDelivery(endpointId: string): Promise<string | null> {
    return this.boss.send(WEBHOOK_DELIVERY_QUEUE, { endpointId } satisfies WebhookDeliveryJob, { singletonKey: endpointId });
  }

  private readonly webhookWorkers: string[] = [];

  /** Runs webhook delivery jobs, `concurrency` endpoints at a time in this process, until stop(). */
  async workWebhookDeliveries(concurrency: number, handler: (job: PgBoss.Job<WebhookDeliveryJob>) => Promise<void>): Promise<void> {
    const pollingIntervalSeconds = this.options.pollingIntervalSeconds ?? 1;
    for (let i = 0; i < concurrency; i++) {
      this.webhookWorkers.push(await this.boss.work<WebhookDeliveryJob>(WEBHOOK_DELIVERY_QUEUE, { batchSize: 1, pollingIntervalSeconds }, async ([job]) => handler(job!)));
    }
  }

  /** This process's delivery workers fetch now rather than at their next poll (jobs were just queued here). */
  wakeWebhookWorkers(): void {
    for (const id of this.webhookWorkers) this.boss.notifyWorker(id);
  }

  cancel(jobId: string): Promise<void> {
    return this.boss.cancel(ACCOUNT_SCAN_QUEUE, jobId);
  }

  async jobState(jobId: string): Promise<string | null> {
    return (await this.boss.getJobById(ACCOUNT_SCAN_QUEUE, jobId, { includeArchive: true }))?.state ?? null;
  }

  /** `cron` in UTC; null removes the schedule. */
  async setSchedule(cron: string | null): Promise<void> {
    if (cron) await this.boss.schedule(ORG_SCAN_QUEUE, cron, { requestedBy: 'schedule' } satisfies OrgScanJob, { tz: 'UTC' });
    else await this.boss.unschedule(ORG_SCAN_QUEUE);
  }

  async depth(): Promise<QueueDepth> {
    const { rows } = await this.boss.getDb().executeSql(
      `SELECT count(*) FILTER (WHERE state IN ('created', 'retry'))::int AS queued, count(*) FILTER (WHERE state = 'active')::int AS active,
         COALESCE(EXTRACT(EPOCH FROM now() - min(created_on) FILTER (WHERE state IN ('created', 'retry'))), 0)::float AS oldest
       FROM pgboss.job WHERE name = $1`,
      [ACCOUNT_SCAN_QUEUE],
    );
    const row = rows[0] as { queued: number; active: number; oldest: number };
    return { queued: row.queued, active: row.active, oldestQueuedSeconds: row.oldest };
  }

  /** Stops fetching; waits up to `timeoutMs` for the handlers that run (their scans finish or are marked). */
  async stop(timeoutMs = 30_000): Promise<void> {
    await this.boss.stop({ graceful: true, wait: true, timeout: timeoutMs });
  }
}

/** Creates pg-boss's schema (keywarden migrate): opening a queue migrates it. */
export async function migrateQueue(url: string): Promise<void> {
  const queue = await JobQueue.open({ url });
  await queue.stop(5_000);
}
