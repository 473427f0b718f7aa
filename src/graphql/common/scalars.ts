import { GraphQLError, GraphQLScalarType } from 'graphql';
import { DateTimeResolver } from 'graphql-scalars';
import { registerEnumType } from 'type-graphql';
import { ACCOUNT_SOURCES, ACCOUNT_STATUSES } from '../../domain/accounts';
import { COMPLIANCE_STATUSES, FINDING_REASONS } from '../../domain/finding';
import { FINDING_STATES, RESOLUTIONS } from '../../domain/lifecycle';
import { isoInstant } from './iso-instant';

// Enums come from the domain's const arrays so the schema cannot drift from the control.
const enumOf = <T extends readonly string[]>(values: T) => Object.fromEntries(values.map((v) => [v, v])) as { [K in T[number]]: K };

export const ComplianceStatusEnum = enumOf(COMPLIANCE_STATUSES);
registerEnumType(ComplianceStatusEnum, { name: 'ComplianceStatus', description: 'Outcome of a control for one access key or user.' });

export const FindingReasonEnum = enumOf(FINDING_REASONS);
registerEnumType(FindingReasonEnum, { name: 'FindingReason', description: 'Why a finding has its status; FAIL findings list every reason that holds.' });

export const ScanStatusEnum = enumOf(['QUEUED', 'RUNNING', 'COMPLETED', 'PARTIAL', 'FAILED', 'CANCELLED'] as const);
registerEnumType(ScanStatusEnum, {
  name: 'ScanStatus',
  description: 'QUEUED: waiting for a worker; PARTIAL: some users or keys could not be read (see errors); FAILED: nothing was recorded (see errors: ASSUME_ROLE_DENIED, INTERRUPTED, ...); CANCELLED: cancelled before it ran.',
});

export const ScanSourceEnum = enumOf(['CREDENTIAL_REPORT', 'PER_USER_API'] as const);
registerEnumType(ScanSourceEnum, { name: 'ScanSource' });

export const FindingStateEnum = enumOf(FINDING_STATES);
registerEnumType(FindingStateEnum, {
  name: 'FindingState',
  description: 'Where a finding is in its lifecycle (README, History: the lifecycle table).',
  valuesConfig: {
    OPEN: { description: 'It fails, or could not be read: it needs attention.' },
    RESOLVED: { description: 'An open period ended (see resolution), or an approved exception covers its failure (resolution EXCEPTED).' },
    NEVER_FAILED: { description: 'It has never needed attention since it was first seen: nothing was ever resolved.' },
  },
});

export const FindingChangeTypeEnum = enumOf(['OPENED', 'RESOLVED', 'REOPENED', 'EXCEPTED', 'UNEXCEPTED'] as const);
registerEnumType(FindingChangeTypeEnum, {
  name: 'FindingChangeType',
  description: 'A finding\'s lifecycle transition (README, History: the lifecycle table).',
  valuesConfig: {
    OPENED: { description: 'It failed (or could not be read) for the first time.' },
    RESOLVED: { description: 'An open finding stopped failing, or its key or user is gone: see resolution.' },
    REOPENED: { description: 'A resolved finding failed again.' },
    EXCEPTED: { description: 'An approved exception now covers its failure.' },
    UNEXCEPTED: { description: 'A finding an exception had resolved fails again: the exception ended, was revoked, or no longer covers it.' },
  },
});

export const ResolutionEnum = enumOf(RESOLUTIONS);
registerEnumType(ResolutionEnum, { name: 'Resolution', description: 'Why a finding was resolved.' });

export const FindingOrderFieldEnum = enumOf(['IDENTITY', 'FIRST_SEEN_AT', 'LAST_SEEN_AT', 'RESOLVED_AT'] as const);
registerEnumType(FindingOrderFieldEnum, { name: 'FindingOrderField', description: 'IDENTITY: account, control, user, key.' });

export const OrderDirectionEnum = enumOf(['ASC', 'DESC'] as const);
registerEnumType(OrderDirectionEnum, { name: 'OrderDirection' });

export const TrendIntervalEnum = enumOf(['HOUR', 'DAY', 'WEEK', 'MONTH'] as const);
registerEnumType(TrendIntervalEnum, { name: 'TrendInterval', description: 'Buckets in UTC; MONTH is a calendar month.' });

export const RemediationKindEnum = enumOf(['DEACTIVATE', 'REACTIVATE', 'DELETE'] as const);
registerEnumType(RemediationKindEnum, { name: 'RemediationKind' });

export const BulkRemediationEnum = enumOf(['DEACTIVATE', 'DELETE'] as const);
registerEnumType(BulkRemediationEnum, { name: 'BulkRemediation' });

export const RemediationStatusEnum = enumOf(['PENDING', 'SUCCEEDED', 'NO_CHANGE', 'DRY_RUN', 'REFUSED', 'FAILED'] as const);
registerEnumType(RemediationStatusEnum, {
  name: 'RemediationStatus',
  description: 'PENDING: written before the IAM call, completed after (a crash leaves it for reconcile). NO_CHANGE: already in the target state.',
});

export const AccountStatusEnum = enumOf(ACCOUNT_STATUSES);
registerEnumType(AccountStatusEnum, { name: 'AccountStatus', description: 'The account\'s State in AWS Organizations (ACTIVE for an account outside one). Only ACTIVE accounts are scanned.' });

export const AccountSourceEnum = enumOf(ACCOUNT_SOURCES);
registerEnumType(AccountSourceEnum, {
  name: 'AccountSource',
  description: 'ORGANIZATION: listed by `keywarden accounts sync`. CONFIGURED: added with `keywarden accounts add`. CREDENTIALS: the account Keywarden\'s own credentials act on, read directly.',
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
