import { Field, Float, InputType, Int, ObjectType } from 'type-graphql';
import { Node } from '../common/node';
import { Connection } from '../common/connection';
import { ComplianceStatusEnum, FindingOrderFieldEnum, FindingReasonEnum, FindingStateEnum, OrderDirectionEnum, ResolutionEnum } from '../common/scalars';
import type { FindingState, Resolution } from '../../domain/lifecycle';
import type { FindingOrderField } from '../../services/findings.service';
import type { ComplianceStatus, FindingReason } from '../../domain/finding';

@ObjectType({ description: 'What the control looked at to decide, as IAM reported it.' })
export class FindingEvidence {
  @Field(() => Date, { nullable: true }) userCreatedAt!: Date | null;
  @Field(() => Boolean, { nullable: true }) passwordEnabled!: boolean | null;
  @Field(() => Date, { nullable: true }) passwordLastUsedAt!: Date | null;
  @Field(() => String, { nullable: true }) accessKeyId!: string | null;
  @Field(() => String, { nullable: true }) accessKeyStatus!: string | null;
  @Field(() => Date, { nullable: true }) accessKeyCreatedAt!: Date | null;
  @Field(() => Date, { nullable: true }) accessKeyLastUsedAt!: Date | null;
  @Field(() => String, { nullable: true }) accessKeyLastUsedService!: string | null;
  @Field(() => String, { nullable: true }) accessKeyLastUsedRegion!: string | null;
  @Field(() => Float, { nullable: true, description: 'Key creation minus user creation.' }) secondsFromUserCreationToKey!: number | null;
  @Field(() => Int) setupWindowSeconds!: number;
  @Field(() => Int) gracePeriodSeconds!: number;
  @Field({ description: 'CREDENTIAL_REPORT or PER_USER_API.' }) dataSource!: string;
  @Field({ description: 'When that source was true: the report GeneratedTime, or the API call time.' }) dataSourceAsOf!: Date;
  @Field() evaluatedAt!: Date;
  @Field(() => String, { nullable: true, description: 'Why the user or key could not be read (ERROR findings).' }) error!: string | null;
  @Field(() => String, { nullable: true, description: 'The exception that made this finding EXCEPTED.' }) exceptionId?: string | null;
  @Field(() => Date, { nullable: true }) exceptionExpiresAt?: Date | null;
}

@ObjectType({ implements: Node, description: 'The control\'s result for one access key (or one user when no key is in play).' })
export class Finding extends Node {
  @Field() controlId!: string;
  @Field(() => ComplianceStatusEnum) status!: ComplianceStatus;
  @Field(() => [FindingReasonEnum]) reasons!: FindingReason[];
  @Field() userName!: string;
  @Field() userArn!: string;
  @Field(() => String, { nullable: true }) accessKeyId!: string | null;
  @Field() accountId!: string;
  @Field(() => FindingEvidence) evidence!: FindingEvidence;
  @Field(() => FindingStateEnum, { description: 'OPEN while it fails (or cannot be read); RESOLVED once it stopped failing (or an exception covers it); NEVER_FAILED while it has never needed attention.' }) state!: FindingState;
  @Field(() => Date, { nullable: true, description: 'When the last open period ended; null while open or if it never failed.' }) resolvedAt!: Date | null;
  @Field(() => ResolutionEnum, { nullable: true }) resolution!: Resolution | null;
  @Field(() => Int, { description: 'How often it failed again after being resolved.' }) reopenCount!: number;
  @Field() firstSeenAt!: Date;
  @Field({ description: 'The last scan that saw it (as of the instant asked about).' }) lastSeenAt!: Date;
  /** Internal: resolved into `scan` by a field resolver. */
  scanId!: string;
}

@InputType()
export class FindingFilter {
  @Field(() => String, { nullable: true, deprecationReason: 'Use accountIds: [id]. Not with accountIds.' }) accountId?: string;
  @Field(() => [String], { nullable: true, description: 'The accounts to list (at most 1,000); omitted: every account. An id without a completed scan is BAD_USER_INPUT.' })
  accountIds?: string[];
  @Field(() => [ComplianceStatusEnum], { nullable: true }) status?: ComplianceStatus[];
  @Field(() => String, { nullable: true }) userName?: string;
  @Field(() => String, { nullable: true }) controlId?: string;
  @Field(() => [FindingStateEnum], { nullable: true, description: 'RESOLVED and NEVER_FAILED include findings whose key or user is gone.' }) state?: FindingState[];
  @Field(() => Date, { nullable: true }) firstSeenAfter?: Date;
  @Field(() => Date, { nullable: true }) resolvedAfter?: Date;
}

@InputType()
export class FindingOrder {
  @Field(() => FindingOrderFieldEnum) field!: FindingOrderField;
  @Field(() => OrderDirectionEnum, { defaultValue: 'ASC' }) direction!: 'ASC' | 'DESC';
}

@ObjectType()
export class FindingConnection extends Connection(Finding, 'Finding') {}
