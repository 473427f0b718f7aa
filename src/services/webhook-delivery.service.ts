import type { Logger } from 'pino';
import type { PrismaClient, WebhookDelivery, WebhookEndpoint } from '../generated/prisma/client';
import type { SecretBox } from '../adapters/webhooks/secret-box';
import type { SendResult, WebhookSender } from '../adapters/webhooks/webhook.sender';
import type { NewDelivery, OutboxEvent, WebhookStore } from '../adapters/webhooks/webhook.store';

/** Builds each event's payload (the finding, scan or action as the GraphQL API shapes it), in order. */
export type PayloadBuilder = (events: OutboxEvent[]) => Promise<unknown[]>;

export interface RetryPolicy {
  /** The wait after the first failed attempt; doubled after each further one. */
  firstDelayMs: number;
  /** How long after the first failure retries go on; then the endpoint is disabled (the 24 hours). */
  windowMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { firstDelayMs: 5_000, windowMs: 24 * 3600_000 };

export interface WebhookDeliveryOptions {
  prisma: PrismaClient;
  store: WebhookStore;
  sender: WebhookSender;
  secrets: SecretBox;
  payloads: PayloadBuilder;
  /** Queues one delivery job for an endpoint (at most one waits per endpoint). */
  enqueue: (endpointId: string) => Promise<unknown>;
  retry?: RetryPolicy;
  logger: Logger;
  now?: () => Date;
  /** Events read per step of the cursor. */
  batchSize?: number;
  /** A job hands the endpoint back to the queue after this long (another endpoint's job may run meanwhile). */
  jobBudgetMs?: number;
}

/** When the attempt after `attempts` failed ones is due: first delay × 2^(attempts−1), never past the window. */
export function nextAttemptAt(now: Date, attempts: number, retryUntil: Date, policy: RetryPolicy): Date {
  const delay = policy.firstDelayMs * 2 ** Math.min(30, Math.max(0, attempts - 1));
  return new Date(Math.min(now.getTime() + delay, retryUntil.getTime()));
}

/**
 * Delivers change events to webhook endpoints, one job per endpoint at a time, so each endpoint receives its
 * events in (txid, seq) order: its first undelivered delivery blocks the ones behind it until it succeeds or,
 * after the retry window, fails for good and disables the endpoint with the reason. A failing endpoint costs
 * its own job one attempt (at most the sender's timeout) and is then put aside until its next attempt is due.
 */
export class WebhookDeliveryService {
  private readonly retry: RetryPolicy;
  private readonly now: () => Date;
  private readonly batchSize: number;
  private readonly jobBudgetMs: number;

  constructor(private readonly options: WebhookDeliveryOptions) {
    this.retry = options.retry ?? DEFAULT_RETRY;
    this.now = options.now ?? (() => new Date());
    this.batchSize = options.batchSize ?? 200;
    this.jobBudgetMs = options.jobBudgetMs ?? 30_000;
  }

  /** Queues a job for every endpoint with work due; returns how many were queued. */
  async dispatch(): Promise<number> {
    const due = await this.options.store.dueEndpoints(this.now());
    let queued = 0;
    for (const id of due) if (await this.options.enqueue(id)) queued++;
    return queued;
  }

  /** One job: delivers the endpoint's due deliveries in order, reading further events as it goes. */
  async run(endpointId: string): Promise<void> {
    const { store } = this.options;
    // Budget, one attempt's timeout and a margin: the lease outlives the job unless its worker died.
    const lease = await store.lease(endpointId, Math.ceil(this.jobBudgetMs / 1000) + 60);
    if (lease === null) return;
    try {
      await this.deliver(endpointId);
    } finally {
      await store.release(endpointId, lease);
    }
  }

  private async deliver(endpointId: string): Promise<void> {
    const started = Date.now();
    const { prisma, store } = this.options;
    const endpoint = await prisma.webhookEndpoint.findUnique({ where: { id: endpointId } });
    if (!endpoint || !endpoint.enabled) return;
    let secret: string;
    try {
      secret = this.options.secrets.open(endpoint.secretCiphertext, endpoint.id);
    } catch (err) {
      // Another key than the one that sealed it (KEYWARDEN_SECRET_KEY changed, or differs between processes):
      // nothing can be signed, so the endpoint is disabled with the reason rather than retried for ever.
      const now = this.now();
      const reason = `${(err as Error).message}: set the key it was created with, or delete and recreate the webhook`;
      await prisma.webhookEndpoint.update({ where: { id: endpoint.id }, data: { enabled: false, disabledReason: reason, disabledAt: now, updatedAt: now } });
      this.options.logger.error({ webhookId: endpoint.id }, 'webhook secret does not decrypt: endpoint disabled');
      return;
    }
    // Successes are recorded a batch at a time (one statement), always before the next read and before a
    // failure is recorded: a worker that dies in between sends those again (at least once; the message id
    // lets receivers drop them).
    const accepted: { id: string; status: number; at: Date }[] = [];
    const flush = async () => {
      await store.markDelivered(accepted);
      accepted.length = 0;
    };
    try {
      while (Date.now() - started < this.jobBudgetMs) {
        const pending = await store.pending(endpointId, this.batchSize);
        if (pending.length === 0) {
          if (!(await this.readEvents(endpoint))) return;
          continue;
        }
        for (const delivery of pending) {
          if (delivery.nextAttemptAt && delivery.nextAttemptAt.getTime() > this.now().getTime()) return;
          const result = await this.options.sender.send({ url: endpoint.url, secret, messageId: delivery.messageId, body: JSON.stringify(delivery.payload) });
          if (result.ok) {
            accepted.push({ id: delivery.id, status: result.status!, at: this.now() });
          } else {
            await flush();
            await this.recordFailure(endpoint, delivery, result);
            return;
          }
          if (Date.now() - started >= this.jobBudgetMs) break;
        }
        await flush();
      }
    } finally {
      await flush();
    }
    // Out of time with work left: the dispatcher queues the endpoint again, behind other endpoints' jobs.
  }

  /** Moves the cursor over the next events, recording a delivery for each (of the types the endpoint wants). */
  private async readEvents(endpoint: WebhookEndpoint): Promise<boolean> {
    const { events, end, expired } = await this.options.store.nextEvents(endpoint.id, endpoint.events, this.batchSize);
    if (expired) this.options.logger.warn({ webhookId: endpoint.id }, 'webhook cursor was older than the change log\'s retention: events before the horizon were never sent');
    const payloads = events.length > 0 ? await this.options.payloads(events) : [];
    const deliveries: NewDelivery[] = events.map((event, i) => ({ event, payload: payloads[i] }));
    await this.options.store.advance(endpoint.id, deliveries, end, this.now());
    return events.length > 0;
  }

  /** Records a failed attempt: the next one is due later, or, past the retry window, the endpoint is disabled. */
  private async recordFailure(endpoint: WebhookEndpoint, delivery: WebhookDelivery, result: SendResult): Promise<void> {
    const now = this.now();
    const { prisma } = this.options;
    const attempts = delivery.attempts + 1;
    const retryUntil = delivery.retryUntil ?? new Date(now.getTime() + this.retry.windowMs);
    const common = { attempts, responseStatus: result.status, error: result.error, lastAttemptAt: now, retryUntil };
    if (now.getTime() >= retryUntil.getTime()) {
      const reason = `deliveries failed for ${Math.round(this.retry.windowMs / 3600_000 * 10) / 10} h (${attempts} attempts of ${delivery.messageId}); last error: ${result.error}`;
      await prisma.$transaction([
        prisma.webhookDelivery.updateMany({ where: { id: delivery.id, status: 'PENDING' }, data: { ...common, status: 'FAILED', nextAttemptAt: null } }),
        prisma.webhookEndpoint.update({ where: { id: endpoint.id }, data: { enabled: false, disabledReason: reason, disabledAt: now, updatedAt: now } }),
      ]);
      this.options.logger.warn({ webhookId: endpoint.id, messageId: delivery.messageId, attempts }, 'webhook endpoint disabled after its retry window');
      return;
    }
    await prisma.webhookDelivery.updateMany({
      where: { id: delivery.id, status: 'PENDING' },
      data: { ...common, nextAttemptAt: nextAttemptAt(now, attempts, retryUntil, this.retry) },
    });
    this.options.logger.info({ webhookId: endpoint.id, messageId: delivery.messageId, attempts, error: result.error }, 'webhook delivery failed; will retry');
  }
}
