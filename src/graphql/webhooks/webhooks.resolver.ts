import { Arg, Args, Authorized, Ctx, ID, Mutation, Query, Resolver } from 'type-graphql';
import type { Context } from '../context';
import { ServiceUnavailableError } from '../common/errors';
import { PageArgs, pageSize, toConnection } from '../common/pagination';
import { toUserErrors } from '../common/user-errors';
import type { WebhooksService } from '../../services/webhooks.service';
import { toWebhook, toWebhookDelivery, webhookLocalId } from './webhook.mapper';
import {
  CreateWebhookInput,
  CreateWebhookPayload,
  RedeliverWebhookDeliveryPayload,
  UpdateWebhookInput,
  Webhook,
  WebhookConnection,
  WebhookDeliveriesArgs,
  WebhookDeliveryConnection,
  WebhookPayload,
  WebhookUserErrorCodeEnum,
} from './webhook.type';

function webhooksOf({ services }: Context): WebhooksService {
  if (!services.webhooks) throw new ServiceUnavailableError('webhooks are not configured on this server');
  return services.webhooks;
}

const notFound = (what: 'webhook' | 'webhook delivery', id: string) => [
  { code: what === 'webhook' ? 'WEBHOOK_NOT_FOUND' : 'DELIVERY_NOT_FOUND', field: 'id', message: `no ${what} ${JSON.stringify(id.slice(0, 100))}` },
];

/** userErrors of mutations that take `input`: the field named from inside it. */
const inputErrors = (errors: readonly { code: string; field?: string | null; message: string }[]) => toUserErrors(errors, WebhookUserErrorCodeEnum, 'INVALID_INPUT');

/** userErrors of mutations that take a bare `id` argument: its path is ["id"], not under input. */
const idErrors = (errors: readonly { code: string; field?: string | null; message: string }[]) =>
  inputErrors(errors).map((e) => (e.field?.join('.') === 'input.id' ? { ...e, field: ['id'] } : e));

@Authorized('admin')
@Resolver(() => Webhook)
export class WebhooksResolver {
  @Mutation(() => CreateWebhookPayload, { description: 'Creates a webhook; its whsec_ signing secret is in this answer only.' })
  async createWebhook(@Arg('input', () => CreateWebhookInput, { description: 'The receiver and the events it wants.' }) input: CreateWebhookInput, @Ctx() ctx: Context): Promise<CreateWebhookPayload> {
    const r = await webhooksOf(ctx).create(input, ctx.actor);
    return { webhook: r.webhook ? toWebhook(r.webhook) : null, secret: r.secret, userErrors: inputErrors(r.userErrors) };
  }

  @Mutation(() => WebhookPayload, { description: 'Changes a webhook\'s URL, events, description, or whether it is enabled.' })
  async updateWebhook(@Arg('input', () => UpdateWebhookInput, { description: 'The webhook and what changes.' }) input: UpdateWebhookInput, @Ctx() ctx: Context): Promise<WebhookPayload> {
    const id = webhookLocalId('Webhook', input.id);
    if (!id) return { webhook: null, userErrors: inputErrors(notFound('webhook', input.id)) };
    const r = await webhooksOf(ctx).update(id, input, ctx.actor);
    return { webhook: r.webhook ? toWebhook(r.webhook) : null, userErrors: inputErrors(r.userErrors) };
  }

  @Mutation(() => WebhookPayload, { description: 'Deletes a webhook and its deliveries; nothing more is sent to it.' })
  async deleteWebhook(@Arg('id', () => ID, { description: 'The webhook to delete.' }) rawId: string, @Ctx() ctx: Context): Promise<WebhookPayload> {
    const id = webhookLocalId('Webhook', rawId);
    if (!id) return { webhook: null, userErrors: idErrors(notFound('webhook', rawId)) };
    const r = await webhooksOf(ctx).delete(id);
    return { webhook: r.webhook ? toWebhook(r.webhook) : null, userErrors: idErrors(r.userErrors) };
  }

  @Mutation(() => RedeliverWebhookDeliveryPayload, { description: 'Sends a delivery again (same message id, a new 24-hour retry window), in its event\'s order.' })
  async redeliverWebhookDelivery(@Arg('id', () => ID, { description: 'The delivery to send again.' }) rawId: string, @Ctx() ctx: Context): Promise<RedeliverWebhookDeliveryPayload> {
    const id = webhookLocalId('WebhookDelivery', rawId);
    if (!id) return { delivery: null, userErrors: idErrors(notFound('webhook delivery', rawId)) };
    const r = await webhooksOf(ctx).redeliver(id);
    return { delivery: r.delivery ? toWebhookDelivery(r.delivery) : null, userErrors: idErrors(r.userErrors) };
  }

  @Query(() => WebhookConnection, { description: 'Webhooks, newest first.' })
  async webhooks(@Args(() => PageArgs) { first, after }: PageArgs, @Ctx() ctx: Context): Promise<WebhookConnection> {
    return toConnection(await webhooksOf(ctx).list(pageSize(first), after), toWebhook);
  }

  @Query(() => WebhookDeliveryConnection, { description: 'A webhook\'s deliveries, newest event first: status, attempts, the latest response or error.' })
  async webhookDeliveries(@Args(() => WebhookDeliveriesArgs) { webhookId, first, after }: WebhookDeliveriesArgs, @Ctx() ctx: Context): Promise<WebhookDeliveryConnection> {
    const size = pageSize(first);
    const id = webhookLocalId('Webhook', webhookId);
    const page = id ? await webhooksOf(ctx).deliveries(id, size, after) : { nodes: [], hasNextPage: false, totalCount: 0, cursorOf: () => '' };
    return toConnection(page, toWebhookDelivery);
  }
}
