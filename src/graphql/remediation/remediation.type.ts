import { Field, ID, InputType, Int, ObjectType } from 'type-graphql';
import { Node } from '../common/node';
import { PageInfo } from '../common/pagination';
import { BulkRemediationEnum, RemediationKindEnum, RemediationStatusEnum } from '../common/scalars';

@ObjectType({ description: 'An expected failure, as data: a stable code, the input field at fault, and what to change.' })
export class UserError {
  @Field({ description: 'INVALID_INPUT, ROOT_NOT_ALLOWED, ACCOUNT_MISMATCH, UNKNOWN_ACCOUNT, ASSUME_ROLE_DENIED, KEY_NOT_FOUND, KEY_BELONGS_TO_OTHER_USER, KEY_RECENTLY_USED, KEY_ACTIVE, IDEMPOTENCY_KEY_REQUIRED, IDEMPOTENCY_KEY_REUSED, FINDING_NOT_FOUND, FINDING_ALREADY_RESOLVED, FINDING_HAS_NO_KEY, TOO_MANY_FINDINGS, EXCEPTION_NOT_FOUND, IAM_ACCESS_DENIED, IAM_THROTTLED, IAM_LIMIT_EXCEEDED, IAM_ERROR' })
  code!: string;
  @Field(() => String, { nullable: true }) field!: string | null;
  @Field() message!: string;
}

@ObjectType({ description: 'An access key as IAM reported it live.' })
export class KeyState {
  @Field({ description: 'OWN (the named user\'s key), OTHER_USER or MISSING.' }) found!: string;
  @Field(() => String, { nullable: true }) status?: string | null;
  @Field(() => String, { nullable: true }) owner?: string | null;
  @Field(() => Date, { nullable: true }) createdAt?: Date | null;
  @Field(() => Date, { nullable: true }) lastUsedAt?: Date | null;
  @Field(() => String, { nullable: true }) lastUsedService?: string | null;
  @Field(() => String, { nullable: true }) lastUsedRegion?: string | null;
}

@ObjectType({ implements: Node, description: 'The audit record of one remediation request.' })
export class RemediationAction extends Node {
  @Field(() => RemediationKindEnum) kind!: string;
  @Field(() => RemediationStatusEnum) status!: string;
  @Field({ description: 'Who asked: the API token (id and name) or the JWT subject.' }) actor!: string;
  @Field(() => String, { nullable: true }) accountId!: string | null;
  @Field(() => String, { nullable: true }) userName!: string | null;
  @Field(() => String, { nullable: true }) accessKeyId!: string | null;
  @Field() reason!: string;
  @Field() dryRun!: boolean;
  @Field() force!: boolean;
  @Field(() => String, { nullable: true }) idempotencyKey!: string | null;
  @Field(() => String, { nullable: true, description: 'What was done, or for a dry run what would be.' }) plan!: string | null;
  @Field(() => KeyState, { nullable: true }) stateBefore!: KeyState | null;
  @Field(() => KeyState, { nullable: true }) stateAfter!: KeyState | null;
  @Field(() => String, { nullable: true }) iamRequestId!: string | null;
  @Field(() => String, { nullable: true }) errorCode!: string | null;
  @Field(() => String, { nullable: true }) errorMessage!: string | null;
  @Field() createdAt!: Date;
  @Field(() => Date, { nullable: true }) completedAt!: Date | null;
  /** Internal: resolved into `finding`. */
  findingLocalId!: string | null;
}

@InputType({ description: 'Names exactly one access key of one user; nothing else is ever touched.' })
export class AccessKeyActionInput {
  @Field() accountId!: string;
  @Field() userName!: string;
  @Field() accessKeyId!: string;
  @Field({ description: 'Why, for the audit trail. Required, not empty.' }) reason!: string;
  @Field({ defaultValue: false, description: 'Run every check, with the caller\'s authorization, and report the plan; write nothing to IAM.' }) dryRun!: boolean;
  @Field(() => String, { nullable: true, description: 'At most 200 characters, per caller: replaying your key with the same input returns the first answer and writes nothing; another input is refused.' })
  idempotencyKey?: string | null;
  @Field({ defaultValue: false, description: 'Act even on a key used within the recent-use window (and, for delete, an Active key).' }) force!: boolean;
}

@ObjectType()
export class RemediationPayload {
  @Field(() => RemediationAction, { nullable: true, description: 'The audit record of this request (refusals included), or of the first request its idempotency key replays.' })
  action!: RemediationAction | null;
  @Field(() => [UserError]) userErrors!: UserError[];
}

@InputType()
export class RemediateFindingsInput {
  @Field(() => [ID], { description: 'At most 500 findings.' }) findingIds!: string[];
  @Field(() => BulkRemediationEnum) action!: 'DEACTIVATE' | 'DELETE';
  @Field() reason!: string;
  @Field({ defaultValue: false }) dryRun!: boolean;
  @Field() idempotencyKey!: string;
}

@ObjectType()
export class FindingRemediationResult {
  @Field(() => ID) findingId!: string;
  @Field(() => RemediationAction, { nullable: true }) action!: RemediationAction | null;
  @Field(() => [UserError]) userErrors!: UserError[];
}

@ObjectType()
export class RemediateFindingsPayload {
  @Field(() => [FindingRemediationResult], { description: 'One result per finding, in the order given.' }) results!: FindingRemediationResult[];
  @Field(() => [UserError], { description: 'Errors about the request as a whole (nothing was done).' }) userErrors!: UserError[];
}

@InputType()
export class RemediationActionFilter {
  @Field(() => String, { nullable: true }) accountId?: string;
  @Field(() => String, { nullable: true }) accessKeyId?: string;
  @Field(() => [RemediationStatusEnum], { nullable: true }) status?: string[];
  @Field(() => RemediationKindEnum, { nullable: true }) kind?: string;
}

@ObjectType()
export class RemediationActionEdge {
  @Field() cursor!: string;
  @Field(() => RemediationAction) node!: RemediationAction;
}

@ObjectType()
export class RemediationActionConnection {
  @Field(() => [RemediationActionEdge]) edges!: RemediationActionEdge[];
  @Field(() => [RemediationAction]) nodes!: RemediationAction[];
  @Field(() => PageInfo) pageInfo!: PageInfo;
  @Field(() => Int) totalCount!: number;
}
