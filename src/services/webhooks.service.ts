import crypto from 'node:crypto';
import type { Prisma, PrismaClient, WebhookDelivery, WebhookEndpoint } from '../generated/prisma/client';
import type { SecretBox } from '../adapters/webhooks/secret-box';
import type { SsrfGuard } from '../adapters/webhooks/ssrf-guard';
import { WebhookStore } from '../adapters/webhooks/webhook.store';
import { CHANGE_EVENT_TYPES } from '../adapters/store/change-log';
import { decodeCursor, encodeCursor, isStorableText, newestFirstPage, type CursorTag, type Page } from './page';

const DELIVERIES: CursorTag = { list: 'wd' };

/** What the change log records, and so what an endpoint may subscribe to. */
export const WEBHOOK_EVENTS = CHANGE_EVENT_TYPES;

export const MAX_DESCRIPTION_LENGTH = 500;

export interface WebhookUserError {
  code: 'INVALID_INPUT' | 'WEBHOOK_NOT_FOUND' | 'DELIVERY_NOT_FOUND' | 'WEBHOOK_DISABLED';
  field: string | null;
  message: string;
}

export interface WebhookInput {
  url?: string | null;
  events?: readonly string[] | null;
  description?: string | null;
  enabled?: boolean | null;
}

export interface WebhookResult {
  webhook: WebhookEndpoint | null;
  userErrors: WebhookUserError[];
}

/** A Standard Webhooks secret: whsec_ and 32 random bytes in base64 (what the standardwebhooks library reads). */
export function newWebhookSecret(): string {
  return `whsec_${crypto.randomBytes(32).toString('base64')}`;
}

/**
 * Webhook endpoints: created, listed, changed, deleted by admins; their deliveries listed and sent again.
 * The signing secret is generated here, returned once by create, and stored only sealed by the SecretBox.
 */
export class WebhooksService {
  private readonly store: WebhookStore;

  constructor(
    private readonly prisma: PrismaClient,
    private readonly secrets: SecretBox,
    private readonly guard: SsrfGuard,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.store = new WebhookStore(prisma);
  }

  /** Validates every field given; `creating` requires url and events. */
  private async validate(input: WebhookInput, creating: boolean): Promise<WebhookUserError[]> {
    const errors: WebhookUserError[] = [];
    const bad = (field: string, message: string) => errors.push({ code: 'INVALID_INPUT', field, message });
    if (input.url !== undefined && input.url !== null) {
      const problem = isStorableText(input.url) ? await this.guard.checkUrl(input.url) : 'is not a URL';
      if (problem) bad('url', `url ${problem}`);
    } else if (creating) bad('url', 'url is required');
    if (input.events !== undefined && input.events !== null) {
      if (input.events.length === 0) bad('events', `events must name at least one of ${WEBHOOK_EVENTS.join(', ')}`);
      const unknown = input.events.filter((e) => !(WEBHOOK_EVENTS as readonly string[]).includes(e));
      if (unknown.length > 0) {
        bad('events', `unknown event${unknown.length > 1 ? 's' : ''} ${unknown.slice(0, 5).map((e) => JSON.stringify(e.slice(0, 50))).join(', ')}; known: ${WEBHOOK_EVENTS.join(', ')}`);
      }
    } else if (creating) bad('events', 'events is required');
    if (input.description !== undefined && input.description !== null) {
      if (input.description.length > MAX_DESCRIPTION_LENGTH || !isStorableText(input.description)) bad('description', `description must be at most ${MAX_DESCRIPTION_LENGTH} characters of text`);
    }
    return errors;
  }

  async create(input: WebhookInput, actor: string): Promise<WebhookResult & { secret: string | null }> {
    const userErrors = await this.validate(input, true);
    if (userErrors.length > 0) return { webhook: null, secret: null, userErrors };
    const id = crypto.randomUUID();
    const secret = newWebhookSecret();
    const now = this.now();
    const webhook = await this.prisma.$transaction(async (tx) => {
      const row = await tx.webhookEndpoint.create({
        data: {
          id, url: input.url!, events: [...new Set(input.events!)], description: input.description ?? '',
          secretCiphertext: this.secrets.seal(secret, id), enabled: input.enabled ?? true, createdBy: actor, createdAt: now, updatedAt: now,
        },
      });
      await this.store.startCursor(id, tx);
      return row;
    });
    return { webhook, secret, userErrors: [] };
  }

  async update(id: string, input: WebhookInput, actor: string): Promise<WebhookResult> {
    const existing = await this.get(id);
    if (!existing) return notFound(id);
    const userErrors = await this.validate(input, false);
    if (userErrors.length > 0) return { webhook: null, userErrors };
    const now = this.now();
    const data: Prisma.WebhookEndpointUpdateInput = { updatedAt: now };
    if (input.url != null) data.url = input.url;
    if (input.events != null) data.events = [...new Set(input.events)];
    if (input.description != null) data.description = input.description;
    if (input.enabled === true) Object.assign(data, { enabled: true, disabledReason: null, disabledAt: null });
    if (input.enabled === false && existing.enabled) Object.assign(data, { enabled: false, disabledReason: `disabled by ${actor}`, disabledAt: now });
    return { webhook: await this.prisma.webhookEndpoint.update({ where: { id }, data }), userErrors: [] };
  }

  /** Its deliveries go with it. */
  async delete(id: string): Promise<WebhookResult> {
    const existing = await this.get(id);
    if (!existing) return notFound(id);
    await this.prisma.webhookEndpoint.deleteMany({ where: { id } });
    return { webhook: existing, userErrors: [] };
  }

  get(id: string): Promise<WebhookEndpoint | null> {
    return this.prisma.webhookEndpoint.findUnique({ where: { id } });
  }

  list(first: number, after?: string): Promise<Page<WebhookEndpoint>> {
    return newestFirstPage('w', this.prisma.webhookEndpoint, 'createdAt', {}, first, after);
  }

  /** An endpoint's deliveries, newest event first. */
  async deliveries(endpointId: string, first: number, after?: string): Promise<Page<WebhookDelivery>> {
    const cursor = decodeCursor(after, DELIVERIES, ['int', 'int']);
    const position = cursor ? { txid: BigInt(cursor[0]!), seq: BigInt(cursor[1]!) } : null;
    const where: Prisma.WebhookDeliveryWhereInput = { endpointId };
    const keyset: Prisma.WebhookDeliveryWhereInput | null = position
      ? { OR: [{ eventTxid: { lt: position.txid } }, { eventTxid: position.txid, eventSeq: { lt: position.seq } }] }
      : null;
    const [rows, totalCount] = await Promise.all([
      this.prisma.webhookDelivery.findMany({ where: keyset ? { AND: [where, keyset] } : where, orderBy: [{ eventTxid: 'desc' }, { eventSeq: 'desc' }], take: first + 1 }),
      this.prisma.webhookDelivery.count({ where }),
    ]);
    return { nodes: rows.slice(0, first), hasNextPage: rows.length > first, totalCount, cursorOf: (d) => encodeCursor(DELIVERIES, [String(d.eventTxid), String(d.eventSeq)]) };
  }

  delivery(id: string): Promise<WebhookDelivery | null> {
    return this.prisma.webhookDelivery.findUnique({ where: { id } });
  }

  /**
   * Sends a delivery again, whatever its state, under the same message id (a receiver that has it drops it),
   * with a new retry window. It goes out in its event's order, before later undelivered events.
   */
  async redeliver(id: string): Promise<{ delivery: WebhookDelivery | null; userErrors: WebhookUserError[] }> {
    const delivery = await this.delivery(id);
    if (!delivery) return { delivery: null, userErrors: [{ code: 'DELIVERY_NOT_FOUND', field: 'id', message: `no webhook delivery ${JSON.stringify(id)}` }] };
    const endpoint = await this.get(delivery.endpointId);
    if (!endpoint?.enabled) {
      return { delivery: null, userErrors: [{ code: 'WEBHOOK_DISABLED', field: 'id', message: 'its webhook is disabled: enable it first (updateWebhook with enabled: true)' }] };
    }
    const updated = await this.prisma.webhookDelivery.update({
      where: { id },
      data: { status: 'PENDING', nextAttemptAt: this.now(), retryUntil: null, error: null },
    });
    return { delivery: updated, userErrors: [] };
  }
}

function notFound(id: string): WebhookResult {
  return { webhook: null, userErrors: [{ code: 'WEBHOOK_NOT_FOUND', field: 'id', message: `no webhook ${JSON.stringify(id)}` }] };
}
