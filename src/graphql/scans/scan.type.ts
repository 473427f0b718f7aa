import { Field, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { Connection } from '../common/connection';
import { Node } from '../common/node';
import { RequiresScope } from '../common/requires-scope';
import {
  IamOperationEnum,
  OrderDirectionEnum,
  ScanErrorCodeEnum,
  ScanErrorScopeEnum,
  ScanErrorSeverityEnum,
  ScanPhaseEnum,
  ScanSourceEnum,
  ScanStatusEnum,
} from '../common/scalars';
import { UserErrorOf } from '../common/user-errors';

const SCAN_USER_ERROR_CODES = {
  INVALID_INPUT: 'An input field is malformed (see field and message).',
  UNKNOWN_ACCOUNT: 'Keywarden does not know an account asked for (keywarden accounts add / sync).',
  IDEMPOTENCY_KEY_REUSED: 'The idempotencyKey was used for a different request: use a new key.',
  SCAN_NOT_FOUND: 'No scan has this id.',
  SCAN_NOT_CANCELLABLE: 'Only a QUEUED scan can be cancelled.',
} as const;
export const ScanUserErrorCodeEnum = Object.fromEntries(Object.keys(SCAN_USER_ERROR_CODES).map((k) => [k, k])) as { [K in keyof typeof SCAN_USER_ERROR_CODES]: K };
registerEnumType(ScanUserErrorCodeEnum, {
  name: 'ScanUserErrorCode',
  description: 'Why startScan or cancelScan refused.',
  valuesConfig: Object.fromEntries(Object.entries(SCAN_USER_ERROR_CODES).map(([k, description]) => [k, { description }])),
});

export const ScanOrderFieldEnum = { QUEUED_AT: 'QUEUED_AT', STARTED_AT: 'STARTED_AT' } as const;
registerEnumType(ScanOrderFieldEnum, {
  name: 'ScanOrderField',
  description: 'What scans are ordered by.',
  valuesConfig: {
    QUEUED_AT: { description: 'When it was queued, which every scan has (ties in id order).' },
    STARTED_AT: {
      description: 'Ordered as QUEUED_AT.',
      deprecationReason: 'A QUEUED or CANCELLED scan has no start: scans are ordered by QUEUED_AT, which this now means too.',
    },
  },
});

@ObjectType({ description: 'An expected failure of startScan or cancelScan, as data: a stable code, the input field at fault, and what to change.' })
export class ScanUserError extends UserErrorOf(ScanUserErrorCodeEnum) {}

@ObjectType({ description: 'How many findings have each status.' })
export class StatusCounts {
  @Field(() => Int, { description: 'PASS findings.' }) pass!: number;
  @Field(() => Int, { description: 'FAIL findings (not excepted).' }) fail!: number;
  @Field(() => Int, { description: 'NOT_APPLICABLE findings.' }) notApplicable!: number;
  @Field(() => Int, { description: 'ERROR findings: users or keys that could not be read.' }) error!: number;
  @Field(() => Int, { description: 'Failing findings covered by an approved exception.' }) excepted!: number;
}

@ObjectType({ description: 'Where a running scan is.' })
export class ScanProgress {
  @Field(() => ScanPhaseEnum, { description: 'What it is doing.' }) phase!: keyof typeof ScanPhaseEnum;
  @Field(() => Int, { nullable: true, description: 'Users listed; null until ListUsers has answered.' }) usersTotal!: number | null;
  @Field(() => Int, { description: 'Users read so far.' }) usersDone!: number;
}

@ObjectType({ description: 'Something a scan could not read, or a warning about how it read it.' })
export class ScanError {
  @Field(() => ScanErrorSeverityEnum, { description: 'ERROR: data is missing (scan PARTIAL or FAILED); WARNING: nothing missing.' }) severity!: keyof typeof ScanErrorSeverityEnum;
  @Field(() => ScanErrorScopeEnum, { description: 'What it concerns.' }) scope!: keyof typeof ScanErrorScopeEnum;
  @Field(() => String, { nullable: true, description: 'The user, for USER and ACCESS_KEY errors.' }) userName?: string | null;
  @Field(() => String, { nullable: true, description: 'The access key, for ACCESS_KEY errors.' }) accessKeyId?: string | null;
  @Field({ description: 'The IAM operation that failed (GetLoginProfile, ListUsers, ...), or `scan` for the scan as a whole.' }) operation!: string;
  @Field(() => ScanErrorCodeEnum, { description: 'Why: a stable code to switch on.' }) code!: keyof typeof ScanErrorCodeEnum;
  @Field({ description: 'What happened, as AWS or Keywarden said it.' }) message!: string;
}

@ObjectType({ description: 'Requests a scan sent for one IAM operation.' })
export class OperationCount {
  @Field(() => IamOperationEnum, { description: 'The IAM operation.' }) operation!: keyof typeof IamOperationEnum;
  @Field(() => Int, { description: 'Requests sent, retries included.' }) count!: number;
}

@ObjectType({ description: 'IAM requests a scan sent, retries included.' })
export class IamCalls {
  @Field(() => Int, { description: 'Every request.' }) total!: number;
  @Field(() => [OperationCount], { description: 'Per operation, most first.' }) byOperation!: OperationCount[];
}

/**
 * What a scans:write token alone sees of a scan (what startScan returns): how it ran (id, status, source, times,
 * progress, IAM calls, settings). Which account, who asked (startScan can hand back a scan another caller queued),
 * and what it found (counts, changes, errors naming users and keys) need findings:read.
 */
@ObjectType({ implements: Node, description: 'One run of the scanner against one AWS account. Fields marked "findings:read" need that scope.' })
export class Scan extends Node {
  @RequiresScope('findings:read')
  @Field(() => String, { nullable: true, description: 'findings:read. Null only when the scan failed before it learnt the account.' })
  accountId!: string | null;
  @Field(() => ScanStatusEnum, { description: 'Where it is in its life.' }) status!: string;
  @Field({ description: 'When it was asked for.' }) queuedAt!: Date;
  @Field(() => Date, { nullable: true, description: 'When a worker began it; null while QUEUED.' }) startedAt!: Date | null;
  @RequiresScope('findings:read')
  @Field(() => String, { nullable: true, description: 'findings:read. Who asked: an API token, a JWT subject, the CLI or the schedule (startScan can return a scan another caller queued).' })
  requestedBy!: string | null;
  @Field(() => ScanProgress, { nullable: true, description: 'Where a RUNNING scan is (written at most once a second); the last value once it ended.' })
  progress!: ScanProgress | null;
  @Field(() => Date, { nullable: true, description: 'When it ended; null until then.' }) finishedAt!: Date | null;
  @Field(() => ScanSourceEnum, { description: 'How it read IAM.' }) source!: string;
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
  @Field(() => IamCalls, { description: 'IAM requests it sent.' }) iamCalls!: IamCalls;
  @Field(() => Int, { description: 'Setup window applied, in seconds.' }) setupWindowSeconds!: number;
  @Field(() => Int, { description: 'Grace period applied, in seconds.' }) gracePeriodSeconds!: number;
}

@ObjectType({ description: 'A page of scans.' })
export class ScanConnection extends Connection(Scan) {}

@InputType({ description: 'Which scans to list; every condition given must hold.' })
export class ScanFilter {
  @Field(() => [String], { nullable: true, description: 'Any of these accounts (12 digits each).' }) accountIds?: string[];
  @Field(() => [ScanStatusEnum], { nullable: true, description: 'Any of these statuses.' }) statuses?: (keyof typeof ScanStatusEnum)[];
  @Field(() => [ScanSourceEnum], { nullable: true, description: 'Any of these collection modes.' }) sources?: (keyof typeof ScanSourceEnum)[];
  @Field(() => Date, { nullable: true, description: 'Started after this instant.' }) startedAfter?: Date;
}

@InputType({ description: 'The order of scans.' })
export class ScanOrder {
  @Field(() => ScanOrderFieldEnum, { description: 'What to order by.' }) field!: 'QUEUED_AT' | 'STARTED_AT';
  @Field(() => OrderDirectionEnum, { defaultValue: 'DESC', description: 'DESC (the default): newest first.' }) direction!: 'ASC' | 'DESC';
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
  @Field(() => [Scan], { description: 'One per account, QUEUED (or the scan already waiting).' }) scans!: Scan[];
  @Field(() => [SkippedAccount], { description: 'Accounts asked for (or in the organization) that are not scanned, and why.' }) skipped!: SkippedAccount[];
  @Field(() => [ScanUserError], { description: 'Why nothing was queued; empty when it was.' }) userErrors!: ScanUserError[];
}

@ObjectType({ description: 'An account not scanned, and why (suspended, closed, left the organization).' })
export class SkippedAccount {
  @RequiresScope('findings:read')
  @Field({ description: 'findings:read. The account (12 digits).' }) accountId!: string;
  @Field({ description: 'Why it is not scanned.' }) reason!: string;
}

@InputType({ description: 'The scan to cancel.' })
export class CancelScanInput {
  @Field(() => String, { description: 'The scan\'s global id.' }) scanId!: string;
}

@ObjectType({ description: 'What cancelScan answers.' })
export class CancelScanPayload {
  @Field(() => Scan, { nullable: true, description: 'The scan as it now is; null when there is none.' }) scan!: Scan | null;
  @Field(() => [ScanUserError], { description: 'SCAN_NOT_FOUND, SCAN_NOT_CANCELLABLE (only a QUEUED scan can be cancelled).' }) userErrors!: ScanUserError[];
}

@ObjectType({ description: 'When org-wide scans run by themselves.' })
export class ScanSchedule {
  @Field(() => String, { nullable: true, description: 'Cron, in UTC (KEYWARDEN_SCAN_SCHEDULE); null when off.' }) cron!: string | null;
  @Field(() => Date, { nullable: true, description: 'The next time it fires.' }) nextRunAt!: Date | null;
}
