import { Field, Int, ObjectType } from 'type-graphql';
import { Node } from '../common/node';
import { RequiresScope } from '../common/requires-scope';
import { PageInfo } from '../common/pagination';
import { ScanSourceEnum, ScanStatusEnum } from '../common/scalars';

@ObjectType()
export class StatusCounts {
  @Field(() => Int) pass!: number;
  @Field(() => Int) fail!: number;
  @Field(() => Int) notApplicable!: number;
  @Field(() => Int) error!: number;
  @Field(() => Int, { description: 'Failing findings covered by an approved exception.' }) excepted!: number;
}

@ObjectType({ description: 'Something a scan could not read, or a warning about how it read it.' })
export class ScanError {
  @Field({ description: '`error`: data is missing (scan PARTIAL or FAILED); `warning`: nothing missing.' }) severity!: string;
  @Field() scope!: string;
  @Field(() => String, { nullable: true }) userName?: string | null;
  @Field(() => String, { nullable: true }) accessKeyId?: string | null;
  @Field() operation!: string;
  @Field() code!: string;
  @Field() message!: string;
}

@ObjectType()
export class OperationCount {
  @Field() operation!: string;
  @Field(() => Int) count!: number;
}

@ObjectType({ description: 'IAM requests a scan sent, retries included.' })
export class IamCalls {
  @Field(() => Int) total!: number;
  @Field(() => [OperationCount]) byOperation!: OperationCount[];
}

/**
 * What a scans:write token alone sees of a scan (what startScan returns): how it ran (id, status, source, times,
 * IAM calls, settings). Which account, and what it found (counts, changes, errors naming users and keys), need
 * findings:read.
 */
@ObjectType({ implements: Node, description: 'One run of the scanner against one AWS account. Fields marked "findings:read" need that scope.' })
export class Scan extends Node {
  @RequiresScope('findings:read')
  @Field(() => String, { nullable: true, description: 'findings:read. Null only when the scan failed before it learnt the account.' })
  accountId!: string | null;
  @Field(() => ScanStatusEnum) status!: string;
  @Field() startedAt!: Date;
  @Field(() => Date, { nullable: true }) finishedAt!: Date | null;
  @Field(() => ScanSourceEnum) source!: string;
  @Field(() => Date, { nullable: true, description: 'GeneratedTime of the credential report used; it can be up to four hours old.' })
  reportGeneratedAt!: Date | null;
  @Field(() => Date, { nullable: true, description: 'When the scan read IAM: the instant its state describes.' }) observedAt!: Date | null;
  @RequiresScope('findings:read')
  @Field(() => StatusCounts, { description: 'findings:read. The account\'s state after this scan; a PARTIAL scan carries over what it could not read.' }) counts!: StatusCounts;
  @RequiresScope('findings:read')
  @Field(() => Int, { description: 'findings:read. Findings this scan opened or reopened.' }) opened!: number;
  @RequiresScope('findings:read')
  @Field(() => Int, { description: 'findings:read. Findings this scan resolved.' }) resolved!: number;
  @RequiresScope('findings:read')
  @Field(() => Int, { description: 'findings:read. History rows this scan wrote: zero when nothing changed.' }) versionsWritten!: number;
  @RequiresScope('findings:read')
  @Field(() => [ScanError], { description: 'findings:read. What the scan could not read: they name users and keys.' }) errors!: ScanError[];
  @Field(() => IamCalls) iamCalls!: IamCalls;
  @Field(() => Int, { description: 'Setup window applied, in seconds.' }) setupWindowSeconds!: number;
  @Field(() => Int, { description: 'Grace period applied, in seconds.' }) gracePeriodSeconds!: number;
}

@ObjectType()
export class ScanEdge {
  @Field() cursor!: string;
  @Field(() => Scan) node!: Scan;
}

@ObjectType()
export class ScanConnection {
  @Field(() => [ScanEdge]) edges!: ScanEdge[];
  @Field(() => [Scan]) nodes!: Scan[];
  @Field(() => PageInfo) pageInfo!: PageInfo;
  @Field(() => Int) totalCount!: number;
}

