import { ArgsType, Field, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { Connection } from '../common/connection';
import { PageArgs } from '../common/pagination';
import { UserErrorOf } from '../common/user-errors';
import { WEBHOOK_EVENTS } from '../../services/webhooks.service';

export const WebhookUserErrorCodeEnum = {
  INVALID_INPUT: 'INVALID_INPUT',
  WEBHOOK_NOT_FOUND: 'WEBHOOK_NOT_FOUND',
  DELIVERY_NOT_FOUND: 'DELIVERY_NOT_FOUND',
  WEBHOOK_DISABLED: 'WEBHOOK_DISABLED',
} as const;
export type WebhookUserErrorCode = keyof typeof WebhookUserErrorCodeEnum;
registerEnumType(WebhookUserErrorCodeEnum, {
  name: 'WebhookUserErrorCode',
  description: 'Why a webhook mutation did nothing.',
  valuesConfig: {
    INVALID_INPUT: { description: 'An input field is wrong (a URL that is not https or resolves to a refused address, an unknown event): field names it.' },
    WEBHOOK_NOT_FOUND: { description: 'No webhook has that id.' },
    DELIVERY_NOT_FOUND: { description: 'No webhook delivery has that id.' },
    WEBHOOK_DISABLED: { description: 'The delivery\'s webhook is disabled: enable it first (updateWebhook with enabled: true).' },
  },
});

@ObjectType({ description: 'Why a webhook mutation did nothing: a code to switch on, the input field at fault, a message.' })
export class WebhookUserError extends UserErrorOf(WebhookUserErrorCodeEnum) {}

export enum WebhookDeliveryStatusEnum {
  PENDING = 'PENDING',
  SUCCEEDED = 'SUCCEEDED',
  FAILED = 'FAILED',
}
registerEnumType(WebhookDeliveryStatusEnum, {
  name: 'WebhookDeliveryStatus',
  description: 'Where a delivery stands.',
  valuesConfig: {
    PENDING: { description: 'Not delivered yet: waiting for its turn (events go out in order) or for its next attempt.' },
    SUCCEEDED: { description: 'The receiver answered 2xx.' },
    FAILED: { description: 'Every attempt failed for 24 hours: the webhook was disabled. redeliverWebhookDelivery sends it again.' },
  },
});

const EVENTS = `Event names: ${WEBHOOK_EVENTS.join(', ')}.`;

@ObjectType({ description: 'A receiver of change events, signed per the Standard Webhooks specification. Its secret is shown only by createWebhook.' })
export class Webhook {
  @Field(() => ID, { description: 'The webhook\'s id.' }) id!: string;
  @Field({ description: 'Where events are POSTed: https (http and private addresses only with KEYWARDEN_WEBHOOK_ALLOW_PRIVATE=true).' }) url!: string;
  @Field(() => [String], { description: `The events it receives. ${EVENTS}` }) events!: string[];
  @Field({ description: 'What it is for, as its creator said.' }) description!: string;
  @Field({ description: 'False: nothing is sent; its events wait behind its cursor until it is enabled again.' }) enabled!: boolean;
  @Field(() => String, { nullable: true, description: 'Why it is disabled: by whom, or the failures that disabled it after 24 hours of retries.' })
  disabledReason!: string | null;
  @Field(() => Date, { nullable: true, description: 'When it was disabled.' }) disabledAt!: Date | null;
  @Field({ description: 'Who created it, as the audit trail names callers.' }) createdBy!: string;
  @Field({ description: 'When it was created.' }) createdAt!: Date;
  @Field({ description: 'When it was last changed.' }) updatedAt!: Date;
}

@ObjectType({ description: 'One event sent (or to be sent) to one webhook, with its latest attempt.' })
export class WebhookDelivery {
  @Field(() => ID, { description: 'The delivery\'s id (for redeliverWebhookDelivery).' }) id!: string;
  @Field(() => ID, { description: 'The webhook it is for.' }) webhookId!: string;
  @Field({ description: 'The webhook-id header: the same on every attempt and redelivery, so receivers can drop duplicates.' }) messageId!: string;
  @Field({ description: `The event. ${EVENTS}` }) eventType!: string;
  @Field({ description: 'When the change it reports was committed.' }) occurredAt!: Date;
  @Field(() => WebhookDeliveryStatusEnum, { description: 'Where it stands.' }) status!: WebhookDeliveryStatusEnum;
  @Field(() => Int, { description: 'Attempts made so far.' }) attempts!: number;
  @Field(() => Int, { nullable: true, description: 'The HTTP status of the latest attempt, when a response came.' }) responseStatus!: number | null;
  @Field(() => String, { nullable: true, description: 'Why the latest attempt failed (timeout, connection, HTTP status, a refused address).' }) error!: string | null;
  @Field(() => Date, { nullable: true, description: 'When the next attempt is due (PENDING only).' }) nextAttemptAt!: Date | null;
  @Field(() => Date, { nullable: true, description: 'When the latest attempt was made.' }) lastAttemptAt!: Date | null;
  @Field(() => Date, { nullable: true, description: 'When the receiver accepted it.' }) deliveredAt!: Date | null;
  @Field({ description: 'The JSON body sent, exactly as signed.' }) payload!: string;
}

@ObjectType({ description: 'Webhooks, newest first.' })
export class WebhookConnection extends Connection(Webhook) {}

@ObjectType({ description: 'A webhook\'s deliveries, newest event first.' })
export class WebhookDeliveryConnection extends Connection(WebhookDelivery) {}

@InputType({ description: 'A new webhook.' })
export class CreateWebhookInput {
  @Field({ description: 'https URL of the receiver; it must not resolve to loopback, private, link-local or metadata addresses.' }) url!: string;
  @Field(() => [String], { description: `The events to send, at least one. ${EVENTS}` }) events!: string[];
  @Field(() => String, { nullable: true, description: 'What it is for (at most 500 characters).' }) description?: string | null;
}

@InputType({ description: 'Changes to a webhook: only the fields given change.' })
export class UpdateWebhookInput {
  @Field(() => ID, { description: 'The webhook to change.' }) id!: string;
  @Field(() => String, { nullable: true, description: 'A new receiver URL (the same rules as createWebhook).' }) url?: string | null;
  @Field(() => [String], { nullable: true, description: `The events to send from now on. ${EVENTS}` }) events?: string[] | null;
  @Field(() => String, { nullable: true, description: 'A new description.' }) description?: string | null;
  @Field(() => Boolean, { nullable: true, description: 'false disables it (events wait); true enables it again and clears the reason.' }) enabled?: boolean | null;
}

@ObjectType({ description: 'The webhook created, and its signing secret: shown here only, never again.' })
export class CreateWebhookPayload {
  @Field(() => Webhook, { nullable: true, description: 'The webhook, or null when userErrors says why not.' }) webhook!: Webhook | null;
  @Field(() => String, { nullable: true, description: 'The whsec_ signing secret for the standardwebhooks library: store it now, it is not shown again.' })
  secret!: string | null;
  @Field(() => [WebhookUserError], { description: 'INVALID_INPUT, naming the field (url, events, description).' }) userErrors!: WebhookUserError[];
}

@ObjectType({ description: 'The webhook changed or deleted.' })
export class WebhookPayload {
  @Field(() => Webhook, { nullable: true, description: 'The webhook (as it was, for deleteWebhook), or null when userErrors says why not.' }) webhook!: Webhook | null;
  @Field(() => [WebhookUserError], { description: 'INVALID_INPUT naming the field, or WEBHOOK_NOT_FOUND.' }) userErrors!: WebhookUserError[];
}

@ObjectType({ description: 'The delivery queued again.' })
export class RedeliverWebhookDeliveryPayload {
  @Field(() => WebhookDelivery, { nullable: true, description: 'The delivery, PENDING again, or null when userErrors says why not.' }) delivery!: WebhookDelivery | null;
  @Field(() => [WebhookUserError], { description: 'DELIVERY_NOT_FOUND, or WEBHOOK_DISABLED (enable the webhook first).' }) userErrors!: WebhookUserError[];
}

@ArgsType()
export class WebhookDeliveriesArgs extends PageArgs {
  @Field(() => ID, { description: 'The webhook whose deliveries to list.' }) webhookId!: string;
}
