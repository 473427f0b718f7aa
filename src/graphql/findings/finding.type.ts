import { Field, Float, ID, InputType, Int, ObjectType } from 'type-graphql';
import { Node } from '../common/node';
import { Connection } from '../common/connection';
import {
  AccessKeyStatusEnum,
  ComplianceStatusEnum,
  FindingOrderFieldEnum,
  FindingReasonEnum,
  FindingStateEnum,
  OrderDirectionEnum,
  ResolutionEnum,
  ScanSourceEnum,
  SeverityEnum,
  type AccessKeyStatus,
  type ScanSource,
  type Severity,
} from '../common/scalars';
import type { FindingState, Resolution } from '../../domain/lifecycle';
import type { FindingOrderField } from '../../services/findings.service';
import type { ComplianceStatus, FindingReason } from '../../domain/finding';

@ObjectType({ description: 'What the control looked at to decide, as IAM reported it.' })
export class FindingEvidence {
  @Field(() => Date, { nullable: true, description: 'When the user was created; null when it could not be read.' }) userCreatedAt!: Date | null;
  @Field(() => Boolean, { nullable: true, description: 'Whether the user has a console password; null when it could not be read.' }) passwordEnabled!: boolean | null;
  @Field(() => Date, { nullable: true, description: 'When the console password was last used; null if never.' }) passwordLastUsedAt!: Date | null;
  @Field(() => String, { nullable: true, description: 'The access key; null for a user-level finding.' }) accessKeyId!: string | null;
  @Field(() => AccessKeyStatusEnum, { nullable: true, description: 'The key\'s status when evaluated.' }) accessKeyStatus!: AccessKeyStatus | null;
  @Field(() => Date, { nullable: true, description: 'When the key was created.' }) accessKeyCreatedAt!: Date | null;
  @Field(() => Date, { nullable: true, description: 'When the key was last used; null if never.' }) accessKeyLastUsedAt!: Date | null;
  @Field(() => String, { nullable: true, description: 'The AWS service the key was last used with.' }) accessKeyLastUsedService!: string | null;
  @Field(() => String, { nullable: true, description: 'The AWS region the key was last used in.' }) accessKeyLastUsedRegion!: string | null;
  @Field(() => Float, { nullable: true, description: 'Key creation minus user creation.' }) secondsFromUserCreationToKey!: number | null;
  @Field(() => Int, { description: 'The setup window applied, in seconds.' }) setupWindowSeconds!: number;
  @Field(() => Int, { description: 'The grace period applied, in seconds.' }) gracePeriodSeconds!: number;
  @Field(() => ScanSourceEnum, { description: 'Where the key\'s last use came from.' }) dataSource!: ScanSource;
  @Field({ description: 'When that source was true: the report GeneratedTime, or the API call time.' }) dataSourceAsOf!: Date;
  @Field({ description: 'When the control evaluated it.' }) evaluatedAt!: Date;
  @Field(() => String, { nullable: true, description: 'Why the user or key could not be read (ERROR findings).' }) error!: string | null;
  @Field(() => ID, { nullable: true, description: 'The global id of the exception that made this finding EXCEPTED.', deprecationReason: 'Use exception { id }.' })
  exceptionId?: string | null;
  @Field(() => Date, { nullable: true, description: 'When that exception expires.' }) exceptionExpiresAt?: Date | null;
  /** Internal: the exception's row id, resolved into `exception` (here and on Finding). */
  exceptionLocalId?: string | null;
}

@ObjectType({ implements: Node, description: 'The control\'s result for one access key (or one user when no key is in play).' })
export class Finding extends Node {
  @Field({ description: 'The control evaluated (Control.controlId).' }) controlId!: string;
  @Field(() => ComplianceStatusEnum, { description: 'The control\'s outcome.' }) status!: ComplianceStatus;
  @Field(() => [FindingReasonEnum], { description: 'Why it has that status; FAIL lists every reason that holds.' }) reasons!: FindingReason[];
  @Field({ description: 'The IAM user\'s name (as of the instant asked about).' }) userName!: string;
  @Field({ description: 'The IAM user\'s ARN.' }) userArn!: string;
  @Field(() => String, { nullable: true, description: 'The access key; null for a user-level finding (no keys, not applicable, unreadable).' }) accessKeyId!: string | null;
  @Field({ description: 'The AWS account (12 digits).' }) accountId!: string;
  @Field(() => FindingEvidence, { description: 'What the control looked at.' }) evidence!: FindingEvidence;
  @Field(() => FindingStateEnum, { description: 'OPEN while it fails (or cannot be read); RESOLVED once it stopped failing (or an exception covers it); NEVER_FAILED while it has never needed attention.' }) state!: FindingState;
  @Field(() => Date, { nullable: true, description: 'When the last open period ended; null while open or if it never failed.' }) resolvedAt!: Date | null;
  @Field(() => ResolutionEnum, { nullable: true, description: 'Why it was resolved; null while open or if it never failed.' }) resolution!: Resolution | null;
  @Field(() => Int, { description: 'How often it failed again after being resolved.' }) reopenCount!: number;
  @Field({ description: 'When a scan first saw it.' }) firstSeenAt!: Date;
  @Field({ description: 'The last scan that saw it (as of the instant asked about).' }) lastSeenAt!: Date;
  /** Internal: resolved into `scan` by a field resolver. */
  scanId!: string;
}

@InputType({ description: 'Which findings to list; every condition given must hold.' })
export class FindingFilter {
  @Field(() => String, { nullable: true, description: 'One account.', deprecationReason: 'Use accountIds: [id]. Not with accountIds.' }) accountId?: string;
  @Field(() => [String], { nullable: true, description: 'The accounts to list (at most 1,000); omitted: every account. An id without a completed scan is BAD_USER_INPUT.' })
  accountIds?: string[];
  @Field(() => [ComplianceStatusEnum], { nullable: true, description: 'Any of these statuses.' }) status?: ComplianceStatus[];
  @Field(() => String, { nullable: true, description: 'One IAM user, by name.' }) userName?: string;
  @Field(() => String, { nullable: true, description: 'One access key.' }) accessKeyId?: string;
  @Field(() => String, { nullable: true, description: 'One control.' }) controlId?: string;
  @Field(() => [SeverityEnum], { nullable: true, description: 'Findings of controls of any of these severities.' }) severity?: Severity[];
  @Field(() => [FindingReasonEnum], { nullable: true, description: 'Findings with at least one of these reasons.' }) reasons?: FindingReason[];
  @Field(() => [FindingStateEnum], { nullable: true, description: 'RESOLVED and NEVER_FAILED include findings whose key or user is gone.' }) state?: FindingState[];
  @Field(() => Date, { nullable: true, description: 'First seen after this instant.' }) firstSeenAfter?: Date;
  @Field(() => Date, { nullable: true, description: 'Resolved after this instant.' }) resolvedAfter?: Date;
}

@InputType({ description: 'The order of findings.' })
export class FindingOrder {
  @Field(() => FindingOrderFieldEnum, { description: 'What to order by.' }) field!: FindingOrderField;
  @Field(() => OrderDirectionEnum, { defaultValue: 'ASC', description: 'ASC (the default) or DESC.' }) direction!: 'ASC' | 'DESC';
}

@ObjectType({ description: 'A page of findings.' })
export class FindingConnection extends Connection(Finding, 'Finding') {}
