import type { WebhookDelivery as DeliveryRow, WebhookEndpoint } from '../../generated/prisma/client';
import type { Webhook, WebhookDelivery, WebhookDeliveryStatusEnum } from './webhook.type';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

// Opaque ids like the Node ids (base64url of `Type:uuid`); webhooks are admin objects, not reachable by node().
export function webhookGlobalId(type: 'Webhook' | 'WebhookDelivery', localId: string): string {
  return Buffer.from(`${type}:${localId}`).toString('base64url');
}

/** The row id of an id of that type (a raw UUID is accepted too), or null when it is not one. */
export function webhookLocalId(type: 'Webhook' | 'WebhookDelivery', id: string): string | null {
  if (UUID.test(id)) return id.toLowerCase();
  const decoded = Buffer.from(id, 'base64url').toString('utf8');
  const local = decoded.startsWith(`${type}:`) ? decoded.slice(type.length + 1) : '';
  return UUID.test(local) ? local.toLowerCase() : null;
}

export function toWebhook(row: WebhookEndpoint): Webhook {
  return {
    id: webhookGlobalId('Webhook', row.id), url: row.url, events: row.events, description: row.description, enabled: row.enabled,
    disabledReason: row.disabledReason, disabledAt: row.disabledAt, createdBy: row.createdBy, createdAt: row.createdAt, updatedAt: row.updatedAt,
  };
}

export function toWebhookDelivery(row: DeliveryRow): WebhookDelivery {
  return {
    id: webhookGlobalId('WebhookDelivery', row.id), webhookId: webhookGlobalId('Webhook', row.endpointId), messageId: row.messageId,
    eventType: row.eventType, occurredAt: row.occurredAt, status: row.status as WebhookDeliveryStatusEnum, attempts: row.attempts,
    responseStatus: row.responseStatus, error: row.error, nextAttemptAt: row.nextAttemptAt, lastAttemptAt: row.lastAttemptAt,
    deliveredAt: row.deliveredAt, payload: JSON.stringify(row.payload),
  };
}
