import { Field, ID, InputType, ObjectType, registerEnumType } from 'type-graphql';
import type { RemediationErrorCode } from '../../domain/remediation';
import { Connection } from '../common/connection';
import { Node } from '../common/node';
import { UserErrorOf } from '../common/user-errors';
import {
  AccessKeyStatusEnum,
  BulkRemediationEnum,
  KeyOwnershipEnum,
  OrderDirectionEnum,
  RemediationKindEnum,
  RemediationStatusEnum,
  type AccessKeyStatus,
} from '../common/scalars';

export const RemediationActionOrderFieldEnum = { CREATED_AT: 'CREATED_AT' } as const;
registerEnumType(RemediationActionOrderFieldEnum, {
  name: 'RemediationActionOrderField',
  description: 'What remediation records are ordered by.',
  valuesConfig: { CREATED_AT: { description: 'When it was asked for (ties in id order).' } },
});

const REMEDIATION_USER_ERROR_CODES: Record<RemediationErrorCode, string> = {
  INVALID_INPUT: 'An input field is malformed (see field and message).',
  ROOT_NOT_ALLOWED: 'The root account is never remediated by Keywarden.',
  ACCOUNT_MISMATCH: 'The credentials act in another account than the one named: nothing was changed.',
  UNKNOWN_ACCOUNT: 'Keywarden does not know the account (keywarden accounts add / sync).',
  ASSUME_ROLE_DENIED: 'Keywarden could not assume its role in the account: nothing was changed.',
  KEY_NOT_FOUND: 'IAM has no such access key (deleted, or never existed).',
  KEY_BELONGS_TO_OTHER_USER: 'The access key belongs to another user than the one named.',
  KEY_RECENTLY_USED: 'The key was used within the recent-use window: pass force to act anyway.',
  KEY_ACTIVE: 'deleteAccessKey refuses an Active key: deactivate it first, or pass force.',
  IDEMPOTENCY_KEY_REQUIRED: 'An irreversible action needs an idempotencyKey.',
  IDEMPOTENCY_KEY_REUSED: 'The idempotencyKey was used for a different request: use a new key.',
  FINDING_NOT_FOUND: 'No finding has this id.',
  FINDING_ALREADY_RESOLVED: 'The finding is resolved: nothing to remediate.',
  FINDING_HAS_NO_KEY: 'The finding is about a user without keys: nothing to remediate.',
  TOO_MANY_FINDINGS: 'More findings than remediateFindings takes at once (500).',
  EXCEPTION_NOT_FOUND: 'No exception has this id.',
  IAM_ACCESS_DENIED: 'IAM refused the call: the credentials lack a permission the mutation lists.',
  IAM_THROTTLED: 'IAM throttled the call after every retry: try again later.',
  IAM_LIMIT_EXCEEDED: 'An IAM limit was exceeded.',
  IAM_ERROR: 'IAM failed otherwise (see message).',
};
export const RemediationUserErrorCodeEnum = Object.fromEntries(Object.keys(REMEDIATION_USER_ERROR_CODES).map((k) => [k, k])) as { [K in RemediationErrorCode]: K };
registerEnumType(RemediationUserErrorCodeEnum, {
  name: 'RemediationUserErrorCode',
  description: 'Why a remediation mutation (deactivateAccessKey, reactivateAccessKey, deleteAccessKey, remediateFindings) refused or failed.',
  valuesConfig: Object.fromEntries(Object.entries(REMEDIATION_USER_ERROR_CODES).map(([k, description]) => [k, { description }])),
});

export const RemediationActionErrorCodeEnum = { ...RemediationUserErrorCodeEnum, INTERRUPTED: 'INTERRUPTED' } as const;
registerEnumType(RemediationActionErrorCodeEnum, {
  name: 'RemediationActionErrorCode',
  description: 'Why a recorded remediation was REFUSED or FAILED: the userError code it answered, or INTERRUPTED.',
  valuesConfig: {
    ...Object.fromEntries(Object.entries(REMEDIATION_USER_ERROR_CODES).map(([k, description]) => [k, { description }])),
    INTERRUPTED: { description: 'The process stopped before the IAM write took effect; reconcile recorded it.' },
  },
});
export type RemediationActionErrorCode = keyof typeof RemediationActionErrorCodeEnum;

@ObjectType({ description: 'An expected failure of a remediation mutation, as data: a stable code, the input field at fault, and what to change.' })
export class RemediationUserError extends UserErrorOf(RemediationUserErrorCodeEnum) {}

/**
 * The untyped userError this API had before each mutation family got its own (RemediationUserError,
 * ScanUserError, ExceptionUserError). Kept for code that still builds one; a new family declares its own with
 * UserErrorOf and its code enum.
 */
@ObjectType({ description: 'An expected failure, as data: a code, the input field at fault, and what to change.' })
export class UserError {
  @Field({ description: 'A stable code to switch on.' }) code!: string;
  @Field(() => [String], { nullable: true, description: 'The path of the input field at fault; null when the request as a whole is at fault.' }) field!: string[] | null;
  @Field({ description: 'What went wrong and what to change, for a person.' }) message!: string;
}

@ObjectType({ description: 'An access key as IAM reported it live.' })
export class KeyState {
  @Field(() => KeyOwnershipEnum, { description: 'Whether IAM knows the key, and whose it is.' }) found!: keyof typeof KeyOwnershipEnum;
  @Field(() => AccessKeyStatusEnum, { nullable: true, description: 'The key\'s status; null unless found is OWN.' }) status?: AccessKeyStatus | null;
  @Field(() => String, { nullable: true, description: 'The user the key belongs to, when found is OTHER_USER.' }) owner?: string | null;
  @Field(() => Date, { nullable: true, description: 'When the key was created.' }) createdAt?: Date | null;
  @Field(() => Date, { nullable: true, description: 'When the key was last used; null if never.' }) lastUsedAt?: Date | null;
  @Field(() => String, { nullable: true, description: 'The AWS service it was last used with.' }) lastUsedService?: string | null;
  @Field(() => String, { nullable: true, description: 'The AWS region it was last used in.' }) lastUsedRegion?: string | null;
}

@ObjectType({ implements: Node, description: 'The audit record of one remediation request.' })
export class RemediationAction extends Node {
  @Field(() => RemediationKindEnum, { description: 'What was asked.' }) kind!: string;
  @Field(() => RemediationStatusEnum, { description: 'Its outcome.' }) status!: string;
  @Field({ description: 'Who asked: the API token (id and name) or the JWT subject.' }) actor!: string;
  @Field(() => String, { nullable: true, description: 'The account named; null when the input had none.' }) accountId!: string | null;
  @Field(() => String, { nullable: true, description: 'The user named.' }) userName!: string | null;
  @Field(() => String, { nullable: true, description: 'The access key named.' }) accessKeyId!: string | null;
  @Field({ description: 'Why, as the caller said.' }) reason!: string;
  @Field({ description: 'True for a dry run: nothing was written to IAM.' }) dryRun!: boolean;
  @Field({ description: 'Whether the caller forced it past the safety checks.' }) force!: boolean;
  @Field(() => String, { nullable: true, description: 'The caller\'s idempotency key.' }) idempotencyKey!: string | null;
  @Field(() => String, { nullable: true, description: 'What was done, or for a dry run what would be.' }) plan!: string | null;
  @Field(() => KeyState, { nullable: true, description: 'The key as IAM reported it before; null when it was not read.' }) stateBefore!: KeyState | null;
  @Field(() => KeyState, { nullable: true, description: 'The key as IAM reported it after the write; null when nothing was written.' }) stateAfter!: KeyState | null;
  @Field(() => String, { nullable: true, description: 'The request id IAM gave the write, for CloudTrail.' }) iamRequestId!: string | null;
  @Field(() => RemediationActionErrorCodeEnum, { nullable: true, description: 'Why it was REFUSED or FAILED; null otherwise.' }) errorCode!: RemediationActionErrorCode | null;
  @Field(() => String, { nullable: true, description: 'What errorCode means here, for a person.' }) errorMessage!: string | null;
  @Field({ description: 'When it was asked for.' }) createdAt!: Date;
  @Field(() => Date, { nullable: true, description: 'When it ended; null while PENDING.' }) completedAt!: Date | null;
  /** Internal: resolved into `finding`. */
  findingLocalId!: string | null;
}

@InputType({ description: 'Names exactly one access key of one user; nothing else is ever touched.' })
export class AccessKeyActionInput {
  @Field({ description: 'The account (12 digits).' }) accountId!: string;
  @Field({ description: 'The IAM user the key belongs to.' }) userName!: string;
  @Field({ description: 'The access key id (AKIA…).' }) accessKeyId!: string;
  @Field({ description: 'Why, for the audit trail. Required, not empty.' }) reason!: string;
  @Field({ defaultValue: false, description: 'Run every check, with the caller\'s authorization, and report the plan; write nothing to IAM.' }) dryRun!: boolean;
  @Field(() => String, { nullable: true, description: 'At most 200 characters, per caller: replaying your key with the same input returns the first answer and writes nothing; another input is refused.' })
  idempotencyKey?: string | null;
  @Field({ defaultValue: false, description: 'Act even on a key used within the recent-use window (and, for delete, an Active key).' }) force!: boolean;
}

@ObjectType({ description: 'What deactivateAccessKey, reactivateAccessKey and deleteAccessKey answer.' })
export class RemediationPayload {
  @Field(() => RemediationAction, { nullable: true, description: 'The audit record of this request (refusals included), or of the first request its idempotency key replays.' })
  action!: RemediationAction | null;
  @Field(() => [RemediationUserError], { description: 'Why it was refused or failed; empty when it succeeded.' }) userErrors!: RemediationUserError[];
}

@InputType({ description: 'Which findings\' keys to remediate, and how.' })
export class RemediateFindingsInput {
  @Field(() => [ID], { description: 'At most 500 findings.' }) findingIds!: string[];
  @Field(() => BulkRemediationEnum, { description: 'What to do to each finding\'s key.' }) action!: 'DEACTIVATE' | 'DELETE';
  @Field({ description: 'Why, for the audit trail. Required, not empty.' }) reason!: string;
  @Field({ defaultValue: false, description: 'Run every check and report each plan; write nothing to IAM.' }) dryRun!: boolean;
  @Field({ description: 'Required: replaying it with the same input returns the first answer and writes nothing.' }) idempotencyKey!: string;
}

@ObjectType({ description: 'The outcome for one finding of remediateFindings.' })
export class FindingRemediationResult {
  @Field(() => ID, { description: 'The finding, as the request spelt its id.' }) findingId!: string;
  @Field(() => RemediationAction, { nullable: true, description: 'The audit record of its action; null when none was made (see userErrors).' }) action!: RemediationAction | null;
  @Field(() => [RemediationUserError], { description: 'Why this finding was refused or failed.' }) userErrors!: RemediationUserError[];
}

@ObjectType({ description: 'What remediateFindings answers.' })
export class RemediateFindingsPayload {
  @Field(() => [FindingRemediationResult], { description: 'One result per finding, in the order given.' }) results!: FindingRemediationResult[];
  @Field(() => [RemediationUserError], { description: 'Errors about the request as a whole (nothing was done).' }) userErrors!: RemediationUserError[];
}

@InputType({ description: 'Which remediation records to list; every condition given must hold.' })
export class RemediationActionFilter {
  @Field(() => String, { nullable: true, description: 'One account.' }) accountId?: string;
  @Field(() => String, { nullable: true, description: 'One access key.' }) accessKeyId?: string;
  @Field(() => [RemediationStatusEnum], { nullable: true, description: 'Any of these outcomes.' }) status?: string[];
  @Field(() => RemediationKindEnum, { nullable: true, description: 'One kind.', deprecationReason: 'Use kinds: [kind]. Not with kinds.' }) kind?: string;
  @Field(() => [RemediationKindEnum], { nullable: true, description: 'Any of these kinds.' }) kinds?: string[];
  @Field(() => Date, { nullable: true, description: 'Asked for after this instant.' }) createdAfter?: Date;
}

@InputType({ description: 'The order of remediation records.' })
export class RemediationActionOrder {
  @Field(() => RemediationActionOrderFieldEnum, { description: 'What to order by.' }) field!: 'CREATED_AT';
  @Field(() => OrderDirectionEnum, { defaultValue: 'DESC', description: 'DESC (the default): newest first.' }) direction!: 'ASC' | 'DESC';
}

@ObjectType({ description: 'A page of remediation records.' })
export class RemediationActionConnection extends Connection(RemediationAction) {}
