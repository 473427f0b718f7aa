import { Field, InputType, Int, ObjectType } from 'type-graphql';
import { UserError } from '../remediation/remediation.type';
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

@ObjectType({ description: 'Where a running scan is.' })
export class ScanProgress {
  @Field({ description: 'REPORT (generating the credential report), LISTING_USERS, READING_USERS or STORING.' }) phase!: string;
  @Field(() => Int, { nullable: true, description: 'Users listed; null until ListUsers has answered.' }) usersTotal!: number | null;
  @Field(() => Int, { description: 'Users read so far.' }) usersDone!: number;
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
  @Field({ description: 'When it was asked for.' }) queuedAt!: Date;
  @Field(() => Date, { nullable: true, description: 'When a worker began it; null while QUEUED.' }) startedAt!: Date | null;
  @Field(() => String, { nullable: true, description: 'Who asked: an API token, a JWT subject, the CLI or the schedule.' }) requestedBy!: string | null;
  @Field(() => ScanProgress, { nullable: true, description: 'Where a RUNNING scan is (written at most once a second); the last value once it ended.' })
  progress!: ScanProgress | null;
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


@InputType({ description: 'Which accounts to scan. With neither accountIds nor allAccounts: the account the base credentials act on.' })
export class StartScanInput {
  @Field(() => [String], { nullable: true, description: '12-digit account ids Keywarden knows (keywarden accounts add / sync); at most 1000.' })
  accountIds?: string[] | null;
  @Field(() => Boolean, { nullable: true, description: 'Every scannable account (ACTIVE, in the organization or configured).' })
  allAccounts?: boolean | null;
  @Field(() => ScanSourceEnum, { nullable: true, description: 'Collection mode; the server\'s configured mode when omitted.' })
  mode?: 'CREDENTIAL_REPORT' | 'PER_USER_API' | null;
  @Field(() => String, { nullable: true, description: 'The same key (per caller) and input return the same scans; at most 200 characters.' })
  idempotencyKey?: string | null;
}

@ObjectType({ description: 'Scans queued by startScan: one per account, each QUEUED (or the scan already waiting for that account).' })
export class StartScanPayload {
  @Field(() => [Scan]) scans!: Scan[];
  @Field(() => [SkippedAccount], { description: 'Accounts asked for (or in the organization) that are not scanned, and why.' }) skipped!: SkippedAccount[];
  @Field(() => [UserError]) userErrors!: UserError[];
}

@ObjectType({ description: 'An account not scanned, and why (suspended, closed, left the organization).' })
export class SkippedAccount {
  @Field() accountId!: string;
  @Field() reason!: string;
}

@InputType()
export class CancelScanInput {
  @Field(() => String, { description: 'The scan\'s global id.' }) scanId!: string;
}

@ObjectType()
export class CancelScanPayload {
  @Field(() => Scan, { nullable: true }) scan!: Scan | null;
  @Field(() => [UserError], { description: 'SCAN_NOT_FOUND, SCAN_NOT_CANCELLABLE (only a QUEUED scan can be cancelled).' }) userErrors!: UserError[];
}

@ObjectType({ description: 'When org-wide scans run by themselves.' })
export class ScanSchedule {
  @Field(() => String, { nullable: true, description: 'Cron, in UTC (KEYWARDEN_SCAN_SCHEDULE); null when off.' }) cron!: string | null;
  @Field(() => Date, { nullable: true, description: 'The next time it fires.' }) nextRunAt!: Date | null;
}
