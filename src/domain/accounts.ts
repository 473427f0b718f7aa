/**
 * Accounts as pure rules: what an account id, a role ARN, an external id and a role session name look like,
 * which role a member account is read through, and why an account is not scanned. No SDK, no database.
 */
import { ACCOUNT_ID_PATTERN } from './remediation';

/**
 * Organizations' account `State` (its `Status` was retired on 2026-09-09). PENDING_ACTIVATION is an account
 * being created: not scannable yet, and neither suspended nor closed.
 */
export const ACCOUNT_STATUSES = ['ACTIVE', 'SUSPENDED', 'PENDING_CLOSURE', 'CLOSED', 'PENDING_ACTIVATION'] as const;
export type AccountStatus = (typeof ACCOUNT_STATUSES)[number];

/** ORGANIZATION: listed by sync. CONFIGURED: added with `accounts add`. CREDENTIALS: the base credentials' own account. */
export const ACCOUNT_SOURCES = ['ORGANIZATION', 'CONFIGURED', 'CREDENTIALS'] as const;
export type AccountSource = (typeof ACCOUNT_SOURCES)[number];

export { ACCOUNT_ID_PATTERN };

/** IAM's role ARN (partition aws, aws-cn, aws-us-gov, ...; the path is part of the name's 512). */
export const ROLE_ARN_PATTERN = /^arn:aws[-a-z]*:iam::(\d{12}):role\/[\w+=,.@/-]{1,512}$/;
/** IAM role names: 64 characters at most. */
export const ROLE_NAME_PATTERN = /^[\w+=,.@-]{1,64}$/;
/** STS AssumeRole's ExternalId: 2-1224 characters of `[\w+=,.@:/-]`. */
export const EXTERNAL_ID_PATTERN = /^[\w+=,.@:/-]{2,1224}$/;
/** Organizations allows account names of at most 50 characters. */
export const MAX_ACCOUNT_NAME_LENGTH = 50;
/** STS RoleSessionName: 2-64 characters of `[\w+=,.@-]`. */
export const MAX_ROLE_SESSION_NAME_LENGTH = 64;

/** The default member role name, and where it comes from: the README's trust and read-only policies name it. */
export const DEFAULT_MEMBER_ROLE_NAME = 'KeywardenAudit';

export interface AccountInput {
  accountId: string;
  roleArn: string;
  externalId?: string | null;
  name?: string | null;
}

export interface AccountInputError {
  field: 'accountId' | 'roleArn' | 'externalId' | 'name';
  message: string;
}

const shown = (value: unknown) => JSON.stringify(String(value ?? '')).slice(0, 80);

export function accountIdError(accountId: unknown, field: AccountInputError['field'] = 'accountId'): AccountInputError | null {
  if (typeof accountId === 'string' && ACCOUNT_ID_PATTERN.test(accountId)) return null;
  return { field, message: `${field} must be an AWS account id, 12 digits; got ${shown(accountId)}` };
}

/** Every problem with an `accounts add` input, each naming its field; empty when it is valid. */
export function validateAccountInput(input: AccountInput): AccountInputError[] {
  const errors: AccountInputError[] = [];
  const idError = accountIdError(input.accountId);
  if (idError) errors.push(idError);
  const arn = typeof input.roleArn === 'string' ? input.roleArn.match(ROLE_ARN_PATTERN) : null;
  if (!arn) {
    errors.push({ field: 'roleArn', message: `roleArn must be an IAM role ARN, arn:aws:iam::<12-digit account>:role/<name>; got ${shown(input.roleArn)}` });
  } else if (!idError && arn[1] !== input.accountId) {
    errors.push({ field: 'roleArn', message: `roleArn ${input.roleArn} is a role of account ${arn[1]}, not of ${input.accountId}: the role must be in the account it reads` });
  }
  if (input.externalId != null && !EXTERNAL_ID_PATTERN.test(input.externalId)) {
    errors.push({ field: 'externalId', message: 'externalId must be 2-1224 characters of letters, digits and +=,.@:/-_ (what STS accepts)' });
  }
  if (input.name != null && (input.name.trim() === '' || input.name.length > MAX_ACCOUNT_NAME_LENGTH || /[\u0000-\u001f]/.test(input.name))) {
    errors.push({ field: 'name', message: `name must be 1-${MAX_ACCOUNT_NAME_LENGTH} printable characters (as Organizations allows)` });
  }
  return errors;
}

/** The role a member account is read through when it names none: the member role name in that account. */
export function memberRoleArn(accountId: string, partition: string, roleName: string): string {
  return `arn:${partition}:iam::${accountId}:role/${roleName}`;
}

/** The partition of an ARN (`aws`, `aws-cn`, `aws-us-gov`): member roles live in the caller's partition. */
export function partitionOf(arn: string): string {
  return arn.match(/^arn:(aws[-a-z]*):/)?.[1] ?? 'aws';
}

/**
 * A RoleSessionName STS accepts, from what the caller means (`keywarden-scan-<scanId>`): characters STS
 * refuses become `-`, and it is cut to 64. CloudTrail in the member account shows it beside every call.
 */
export function roleSessionName(wanted: string): string {
  const cleaned = wanted.replace(/[^\w+=,.@-]/g, '-').slice(0, MAX_ROLE_SESSION_NAME_LENGTH);
  return cleaned.length >= 2 ? cleaned : `keywarden-${cleaned}`;
}

export interface AccountState {
  status: AccountStatus;
  source: AccountSource;
  inOrganization: boolean;
  leftAt: Date | null;
}

/**
 * Why an account is not scanned, or null when it is. The base credentials' account is always read; a
 * configured account is read while ACTIVE, in the organization or not; an organization account while the
 * latest sync lists it ACTIVE. Accounts that left or stopped being ACTIVE keep their history.
 */
export function skipReasonOf(account: AccountState): string | null {
  if (account.source === 'CREDENTIALS') return null;
  if (account.status !== 'ACTIVE') {
    return `the organization reports it ${account.status}: only ACTIVE accounts are scanned (its history is kept)`;
  }
  if (account.source === 'ORGANIZATION' && !account.inOrganization) {
    return account.leftAt
      ? `it left the organization: the sync of ${account.leftAt.toISOString()} no longer listed it (its history is kept; \`keywarden accounts add\` scans it anyway)`
      : 'it is not in the organization and was not added with `keywarden accounts add`';
  }
  return null;
}

/** Organizations' `State` (or the retired `Status`) as an AccountStatus; null for a value this build does not know. */
export function accountStatusOf(state: string | undefined, status: string | undefined): AccountStatus | null {
  const value = state ?? status;
  return (ACCOUNT_STATUSES as readonly string[]).includes(value ?? '') ? (value as AccountStatus) : null;
}
