import { ArgsType, Field, InputType, Int, ObjectType } from 'type-graphql';
import { Connection } from '../common/connection';
import { MAX_PAGE_SIZE } from '../common/pagination';
import { ComplianceStatusEnum, FindingChangeTypeEnum, FindingStateEnum, ResolutionEnum } from '../common/scalars';
import type { ComplianceStatus } from '../../domain/finding';
import type { FindingState, Resolution } from '../../domain/lifecycle';

export type FindingChangeType = keyof typeof FindingChangeTypeEnum;

@ObjectType({ description: 'One lifecycle transition of a finding, in the order the transactions that caused them committed.' })
export class FindingChange {
  @Field(() => FindingChangeTypeEnum, { description: 'What happened: OPENED, RESOLVED, REOPENED, EXCEPTED or UNEXCEPTED.' }) type!: FindingChangeType;
  @Field({ description: 'The instant the transition describes: when the scan that caused it read IAM.' }) occurredAt!: Date;
  @Field({ description: 'The finding\'s AWS account.' }) accountId!: string;
  @Field(() => FindingStateEnum, { description: 'The finding\'s state right after this transition.' }) state!: FindingState;
  @Field(() => FindingStateEnum, { nullable: true, description: 'Its state before; null for a finding seen for the first time.' }) previousState!: FindingState | null;
  @Field(() => ComplianceStatusEnum, { description: 'The control\'s result that caused the transition.' }) status!: ComplianceStatus;
  @Field(() => ResolutionEnum, { nullable: true, description: 'Why it was resolved (RESOLVED and EXCEPTED); null otherwise.' }) resolution!: Resolution | null;
  @Field(() => Int, { description: 'How often it had failed again after a resolution, this transition included.' }) reopenCount!: number;
  /** Internal: resolved into `finding` and `scan` by field resolvers. */
  findingId!: string;
  scanId!: string | null;
}

@ObjectType({
  description: 'A page of finding transitions. pageInfo.endCursor is where the next call resumes, also when the page is empty. ' +
    'totalCount counts the transitions from this page on, as visible now.',
})
export class FindingChangeConnection extends Connection(FindingChange, 'FindingChange') {}

@InputType({ description: 'Which transitions to list.' })
export class FindingChangeFilter {
  @Field(() => [String], { nullable: true, description: 'Only these accounts (at most 1,000); omitted: every account. An id without a completed scan is BAD_USER_INPUT.' })
  accountIds?: string[];
  @Field(() => [FindingChangeTypeEnum], { nullable: true, description: 'Only these transitions; omitted: all of them.' })
  types?: FindingChangeType[];
}

@ArgsType()
export class FindingChangesArgs {
  @Field(() => Int, { nullable: true, defaultValue: MAX_PAGE_SIZE, description: `Page size, at most ${MAX_PAGE_SIZE}.` })
  first?: number | null;

  @Field(() => String, { nullable: true, description: 'The endCursor of the previous call; omitted: from the oldest transition retention kept.' })
  after?: string;
}
