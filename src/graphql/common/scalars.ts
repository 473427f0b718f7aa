import { GraphQLError, GraphQLScalarType } from 'graphql';
import { DateTimeResolver } from 'graphql-scalars';
import { registerEnumType } from 'type-graphql';
import { ACCOUNT_SOURCES, ACCOUNT_STATUSES } from '../../domain/accounts';
import { COMPLIANCE_STATUSES, FINDING_REASONS } from '../../domain/finding';
import { FINDING_STATES, RESOLUTIONS } from '../../domain/lifecycle';
import { isoInstant } from './iso-instant';

// Enums come from the domain's const arrays so the schema cannot drift from the control. Every value carries its
// description (the schema linter in `npm test` requires one): `values` says what each means.
const enumOf = <T extends readonly string[]>(values: T) => Object.fromEntries(values.map((v) => [v, v])) as { [K in T[number]]: K };
type Described<T extends Record<string, string>> = { [K in keyof T]: string };
function registerEnum<T extends Record<string, string>>(e: T, name: string, description: string, values: Described<T>): void {
  registerEnumType(e, { name, description, valuesConfig: Object.fromEntries(Object.entries(values).map(([k, d]) => [k, { description: d }])) as never });
}

export const ComplianceStatusEnum = enumOf(COMPLIANCE_STATUSES);
registerEnum(ComplianceStatusEnum, 'ComplianceStatus', 'Outcome of a control for one access key or user.', {
  PASS: 'The key (or the user without keys) meets the control.',
  FAIL: 'The key breaks the control: created at the user\'s setup, or never used past the grace period.',
  NOT_APPLICABLE: 'The control does not apply: the user has no console password, or it is the root account.',
  ERROR: 'The user or key could not be read; never counted as PASS.',
  EXCEPTED: 'It would FAIL, and an approved, unexpired exception covers it.',
});

export const FindingReasonEnum = enumOf(FINDING_REASONS);
registerEnum(FindingReasonEnum, 'FindingReason', 'Why a finding has its status; FAIL findings list every reason that holds.', {
  CREATED_AT_SETUP: 'FAIL: an Active key of a user with a console password, created within the setup window after the user (default 10 minutes).',
  NEVER_USED: 'FAIL: an Active key of a user with a console password, never used and older than the grace period (default 24 hours): the CIS audit procedure\'s test.',
  KEY_INACTIVE: 'PASS: the key is Inactive.',
  CREATED_AFTER_SETUP_AND_USED: 'PASS: an Active key created after the setup window, and used.',
  NOT_USED_WITHIN_GRACE_PERIOD: 'PASS: an Active key created after the setup window, not used yet, younger than the grace period.',
  NO_ACCESS_KEYS: 'PASS: a user with a console password and no access keys (one finding for the user).',
  NO_CONSOLE_PASSWORD: 'NOT_APPLICABLE: the user has no console password.',
  ROOT_ACCOUNT: 'NOT_APPLICABLE: the root account (another CIS control covers root keys).',
  USER_UNREADABLE: 'ERROR: the user could not be read (see evidence.error).',
  ACCESS_KEY_UNREADABLE: 'ERROR: the access key could not be read (see evidence.error).',
});

export const ScanStatusEnum = enumOf(['QUEUED', 'RUNNING', 'COMPLETED', 'PARTIAL', 'FAILED', 'CANCELLED'] as const);
registerEnum(ScanStatusEnum, 'ScanStatus', 'Where a scan is in its life; COMPLETED and PARTIAL scans recorded the account\'s state.', {
  QUEUED: 'Waiting for a worker.',
  RUNNING: 'A worker is reading IAM (see progress).',
  COMPLETED: 'Everything was read and recorded.',
  PARTIAL: 'Recorded, but some users or keys could not be read (see errors); their previous state is carried over.',
  FAILED: 'Nothing was recorded (see errors: ASSUME_ROLE_DENIED, INTERRUPTED, ...).',
  CANCELLED: 'Cancelled before it ran.',
});

export const ScanSourceEnum = enumOf(['CREDENTIAL_REPORT', 'PER_USER_API'] as const);
export type ScanSource = keyof typeof ScanSourceEnum;
registerEnum(ScanSourceEnum, 'ScanSource', 'How IAM was read.', {
  CREDENTIAL_REPORT: 'IAM\'s credential report (one request for every user; it can be up to four hours old), with live reads where it cannot tell.',
  PER_USER_API: 'IAM\'s per-user API (GetLoginProfile, ListAccessKeys, GetAccessKeyLastUsed): live, more requests.',
});

export const FindingStateEnum = enumOf(FINDING_STATES);
registerEnum(FindingStateEnum, 'FindingState', 'Where a finding is in its lifecycle (README, History: the lifecycle table).', {
  OPEN: 'It fails, or could not be read: it needs attention.',
  RESOLVED: 'An open period ended (see resolution), or an approved exception covers its failure (resolution EXCEPTED).',
  NEVER_FAILED: 'It has never needed attention since it was first seen: nothing was ever resolved.',
});

export const FindingChangeTypeEnum = enumOf(['OPENED', 'RESOLVED', 'REOPENED', 'EXCEPTED', 'UNEXCEPTED'] as const);
registerEnum(FindingChangeTypeEnum, 'FindingChangeType', 'A finding\'s lifecycle transition (README, History: the lifecycle table).', {
  OPENED: 'It failed (or could not be read) for the first time.',
  RESOLVED: 'An open finding stopped failing, or its key or user is gone: see resolution.',
  REOPENED: 'A resolved finding failed again.',
  EXCEPTED: 'An approved exception now covers its failure.',
  UNEXCEPTED: 'A finding an exception had resolved fails again: the exception ended, was revoked, or no longer covers it.',
});

export const ResolutionEnum = enumOf(RESOLUTIONS);
registerEnum(ResolutionEnum, 'Resolution', 'Why a finding was resolved.', {
  PASSED: 'A later scan found the key compliant.',
  KEY_DELETED: 'The key is gone.',
  USER_DELETED: 'The user is gone.',
  NO_LONGER_APPLICABLE: 'The control no longer applies (the console password was removed).',
  REMEDIATED: 'A Keywarden remediation (deactivation or deletion) fixed it.',
  EXCEPTED: 'An approved exception covers it.',
});

export const FindingOrderFieldEnum = enumOf(['IDENTITY', 'FIRST_SEEN_AT', 'LAST_SEEN_AT', 'RESOLVED_AT'] as const);
registerEnum(FindingOrderFieldEnum, 'FindingOrderField', 'What findings are ordered by; ties in IDENTITY order.', {
  IDENTITY: 'Account, control, user, key: a stable order.',
  FIRST_SEEN_AT: 'When the finding was first seen.',
  LAST_SEEN_AT: 'When a scan last read it.',
  RESOLVED_AT: 'When its last open period ended (never-resolved findings first in ASC).',
});

export const OrderDirectionEnum = enumOf(['ASC', 'DESC'] as const);
registerEnum(OrderDirectionEnum, 'OrderDirection', 'The direction of an order.', {
  ASC: 'Smallest (oldest) first.',
  DESC: 'Largest (newest) first.',
});

export const TrendIntervalEnum = enumOf(['HOUR', 'DAY', 'WEEK', 'MONTH'] as const);
registerEnum(TrendIntervalEnum, 'TrendInterval', 'Buckets in UTC; MONTH is a calendar month.', {
  HOUR: 'Buckets of one hour from `from`.',
  DAY: 'Buckets of one day from `from`.',
  WEEK: 'Buckets of seven days from `from`.',
  MONTH: 'Buckets of one calendar month from `from`.',
});

export const RemediationKindEnum = enumOf(['DEACTIVATE', 'REACTIVATE', 'DELETE'] as const);
registerEnum(RemediationKindEnum, 'RemediationKind', 'What a remediation does to one access key.', {
  DEACTIVATE: 'Set the key Inactive (deactivateAccessKey): reversible.',
  REACTIVATE: 'Set the key Active again (reactivateAccessKey): the backout of a deactivation.',
  DELETE: 'Delete the key (deleteAccessKey): irreversible.',
});

export const BulkRemediationEnum = enumOf(['DEACTIVATE', 'DELETE'] as const);
registerEnum(BulkRemediationEnum, 'BulkRemediation', 'What remediateFindings does to each finding\'s key.', {
  DEACTIVATE: 'Set each key Inactive.',
  DELETE: 'Delete each key (refused for an Active key).',
});

export const RemediationStatusEnum = enumOf(['PENDING', 'SUCCEEDED', 'NO_CHANGE', 'DRY_RUN', 'REFUSED', 'FAILED'] as const);
registerEnum(RemediationStatusEnum, 'RemediationStatus', 'The outcome of one remediation request.', {
  PENDING: 'Written before the IAM call, completed after (a crash leaves it for reconcile).',
  SUCCEEDED: 'IAM made the change.',
  NO_CHANGE: 'The key was already in the target state: no IAM write.',
  DRY_RUN: 'Checked and planned; nothing written to IAM.',
  REFUSED: 'A safety check or the input refused it (see errorCode).',
  FAILED: 'IAM refused or failed (see errorCode).',
});

export const AccountStatusEnum = enumOf(ACCOUNT_STATUSES);
registerEnum(AccountStatusEnum, 'AccountStatus', 'The account\'s State in AWS Organizations (ACTIVE for an account outside one). Only ACTIVE accounts are scanned.', {
  ACTIVE: 'Usable; scanned.',
  SUSPENDED: 'Suspended by AWS; not scanned.',
  PENDING_CLOSURE: 'Being closed; not scanned.',
  CLOSED: 'Closed; not scanned.',
  PENDING_ACTIVATION: 'Not yet active; not scanned.',
});

export const AccountSourceEnum = enumOf(ACCOUNT_SOURCES);
registerEnum(AccountSourceEnum, 'AccountSource', 'How Keywarden knows an account.', {
  ORGANIZATION: 'Listed by `keywarden accounts sync`.',
  CONFIGURED: 'Added with `keywarden accounts add`.',
  CREDENTIALS: 'The account Keywarden\'s own credentials act on, read directly.',
});

export const SeverityEnum = enumOf(['LOW', 'MEDIUM', 'HIGH', 'CRITICAL'] as const);
export type Severity = keyof typeof SeverityEnum;
registerEnum(SeverityEnum, 'Severity', 'How serious a control\'s failure is.', {
  LOW: 'Low.',
  MEDIUM: 'Medium.',
  HIGH: 'High.',
  CRITICAL: 'Critical.',
});

export const AccessKeyStatusEnum = enumOf(['ACTIVE', 'INACTIVE', 'EXPIRED'] as const);
registerEnum(AccessKeyStatusEnum, 'AccessKeyStatus', 'An access key\'s status in IAM (IAM spells them Active, Inactive and Expired).', {
  ACTIVE: 'The key can sign requests.',
  INACTIVE: 'The key is disabled; it can be reactivated.',
  EXPIRED: 'The key has expired.',
});

export type AccessKeyStatus = keyof typeof AccessKeyStatusEnum;
/** IAM's `Active`/`Inactive` (as stored in findings, snapshots and audit records) in the API's casing. */
export function toAccessKeyStatus(status: string | null | undefined): AccessKeyStatus | null {
  if (!status) return null;
  const upper = status.toUpperCase();
  return upper === 'ACTIVE' || upper === 'EXPIRED' ? upper : 'INACTIVE';
}

export const KeyOwnershipEnum = enumOf(['OWN', 'OTHER_USER', 'MISSING'] as const);
registerEnum(KeyOwnershipEnum, 'KeyOwnership', 'Whether IAM knows the key, and whose it is.', {
  OWN: 'The named user\'s key.',
  OTHER_USER: 'Another user\'s key (see owner): nothing is changed.',
  MISSING: 'IAM has no such key.',
});

export const ScanPhaseEnum = enumOf(['REPORT', 'LISTING_USERS', 'READING_USERS', 'STORING'] as const);
registerEnum(ScanPhaseEnum, 'ScanPhase', 'What a running scan is doing.', {
  REPORT: 'Generating and reading the credential report.',
  LISTING_USERS: 'Listing the account\'s users.',
  READING_USERS: 'Reading each user (usersDone of usersTotal).',
  STORING: 'Recording the findings and history.',
});

export const ScanErrorSeverityEnum = enumOf(['ERROR', 'WARNING'] as const);
registerEnum(ScanErrorSeverityEnum, 'ScanErrorSeverity', 'Whether a scan error left data missing.', {
  ERROR: 'Data is missing: the scan is PARTIAL (or FAILED).',
  WARNING: 'Worth knowing, nothing missing (for example a fallback to the per-user API).',
});

export const ScanErrorScopeEnum = enumOf(['ACCOUNT', 'USER', 'ACCESS_KEY'] as const);
registerEnum(ScanErrorScopeEnum, 'ScanErrorScope', 'What a scan error concerns.', {
  ACCOUNT: 'The whole account (see operation).',
  USER: 'One user (see userName).',
  ACCESS_KEY: 'One access key (see userName and accessKeyId).',
});

export const ScanErrorCodeEnum = enumOf([
  'ACCESS_DENIED', 'CREDENTIALS_INVALID', 'THROTTLED', 'NOT_FOUND', 'LIMIT_EXCEEDED', 'IAM_SERVICE_FAILURE', 'CREDENTIAL_REPORT_UNAVAILABLE',
  'ACCOUNT_UNREADABLE', 'ACCOUNT_MISMATCH', 'ASSUME_ROLE_DENIED', 'UNKNOWN_ACCOUNT', 'INTERRUPTED', 'NETWORK_ERROR', 'DATABASE_UNAVAILABLE', 'OTHER',
] as const);
registerEnum(ScanErrorCodeEnum, 'ScanErrorCode', 'Why a scan could not read something: a stable code to switch on; message says more.', {
  ACCESS_DENIED: 'IAM (or STS) refused the call: the credentials lack a permission (see Control.requiredPermissions).',
  CREDENTIALS_INVALID: 'No usable AWS credentials: missing, expired or not recognised.',
  THROTTLED: 'IAM throttled the calls after every retry.',
  NOT_FOUND: 'The user or key disappeared during the scan.',
  LIMIT_EXCEEDED: 'An IAM limit was exceeded.',
  IAM_SERVICE_FAILURE: 'IAM failed (ServiceFailure, ServiceUnavailable): transient.',
  CREDENTIAL_REPORT_UNAVAILABLE: 'The credential report could not be generated or read, or is older than a per-user scan already stored (a WARNING: the per-user API was used instead).',
  ACCOUNT_UNREADABLE: 'The account\'s users could not be listed: nothing could be evaluated.',
  ACCOUNT_MISMATCH: 'The credentials act in another account than the one asked for: nothing was stored.',
  ASSUME_ROLE_DENIED: 'Keywarden could not assume its role in the member account.',
  UNKNOWN_ACCOUNT: 'Keywarden does not know the account (keywarden accounts add / sync).',
  INTERRUPTED: 'The worker running the scan stopped before it finished; the job runs again as a new scan.',
  NETWORK_ERROR: 'IAM could not be reached (timeout, connection refused or reset).',
  DATABASE_UNAVAILABLE: 'Keywarden\'s database could not be reached while storing.',
  OTHER: 'Anything else: message says what.',
});

export const IamOperationEnum = enumOf([
  'LIST_USERS', 'GET_USER', 'GET_LOGIN_PROFILE', 'LIST_ACCESS_KEYS', 'GET_ACCESS_KEY_LAST_USED', 'LIST_USER_TAGS',
  'GENERATE_CREDENTIAL_REPORT', 'GET_CREDENTIAL_REPORT', 'UPDATE_ACCESS_KEY', 'DELETE_ACCESS_KEY', 'OTHER',
] as const);
registerEnum(IamOperationEnum, 'IamOperation', 'An IAM API operation Keywarden calls.', {
  LIST_USERS: 'iam:ListUsers.',
  GET_USER: 'iam:GetUser.',
  GET_LOGIN_PROFILE: 'iam:GetLoginProfile.',
  LIST_ACCESS_KEYS: 'iam:ListAccessKeys.',
  GET_ACCESS_KEY_LAST_USED: 'iam:GetAccessKeyLastUsed.',
  LIST_USER_TAGS: 'iam:ListUserTags.',
  GENERATE_CREDENTIAL_REPORT: 'iam:GenerateCredentialReport.',
  GET_CREDENTIAL_REPORT: 'iam:GetCredentialReport.',
  UPDATE_ACCESS_KEY: 'iam:UpdateAccessKey.',
  DELETE_ACCESS_KEY: 'iam:DeleteAccessKey.',
  OTHER: 'Any other operation, summed.',
});

const MIN_STORABLE = Date.parse('0001-01-01T00:00:00.000Z');
const MAX_STORABLE = Date.parse('9999-12-31T23:59:59.999Z');

function storable(value: Date): Date {
  const t = value.getTime();
  if (!(t >= MIN_STORABLE && t <= MAX_STORABLE)) {
    throw new GraphQLError(`DateTime must be between 0001-01-01T00:00:00Z and 9999-12-31T23:59:59.999Z; got ${Number.isNaN(t) ? 'an invalid date' : value.toISOString()}`);
  }
  return value;
}

/**
 * graphql-scalars' DateTime (same name, description and SDL), restricted to instants PostgreSQL accepts
 * as Keywarden sends them: RFC 3339 allows year 0000, which PostgreSQL refuses, so such an argument
 * made the query fail as an INTERNAL_SERVER_ERROR instead of a validation error. Results carry the
 * ISO string itself (graphql-scalars returns the Date for JSON.stringify to convert, far slower).
 */
export const DateTimeScalar = new GraphQLScalarType<Date, string>({
  ...DateTimeResolver.toConfig(),
  serialize: (value) => isoInstant(DateTimeResolver.serialize(value)),
  parseValue: (value) => storable(DateTimeResolver.parseValue(value)),
  parseLiteral: (ast, variables) => storable(DateTimeResolver.parseLiteral(ast, variables)),
});
