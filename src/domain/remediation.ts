/**
 * Remediation policy, as pure rules: each remediation declares its whole contract (what it does, the
 * IAM permissions it needs, its safety checks), and `decide` turns a request and the key's live state
 * into a refusal, a no-op, or the one IAM write to make. No SDK, no database.
 */

export type RemediationKind = 'DEACTIVATE' | 'REACTIVATE' | 'DELETE';

export interface RemediationContract {
  kind: RemediationKind;
  mutation: string;
  description: string;
  /** Every IAM permission the mutation needs, reads for the safety checks included. */
  permissions: string[];
  /** The key status it leads to; null: the key is gone. */
  target: 'Active' | 'Inactive' | null;
  /** Refused when the key was used within the recent-use window, unless forced. */
  refuseRecentlyUsed: boolean;
  /** Refused for an Active key unless forced (irreversible actions). */
  refuseActiveKey: boolean;
  idempotencyKeyRequired: boolean;
}

const LIVE_READS = ['iam:ListAccessKeys', 'iam:GetAccessKeyLastUsed', 'iam:GetUser', 'iam:GetLoginProfile'];

export const REMEDIATIONS: Record<RemediationKind, RemediationContract> = {
  DEACTIVATE: {
    kind: 'DEACTIVATE',
    mutation: 'deactivateAccessKey',
    description: 'Sets the key Inactive: the recommended first step, undone by reactivateAccessKey.',
    permissions: [...LIVE_READS, 'iam:UpdateAccessKey'],
    target: 'Inactive',
    refuseRecentlyUsed: true,
    refuseActiveKey: false,
    idempotencyKeyRequired: false,
  },
  REACTIVATE: {
    kind: 'REACTIVATE',
    mutation: 'reactivateAccessKey',
    description: 'Sets the key Active again: the backout plan when something broke after deactivation.',
    permissions: [...LIVE_READS, 'iam:UpdateAccessKey'],
    target: 'Active',
    refuseRecentlyUsed: false,
    refuseActiveKey: false,
    idempotencyKeyRequired: false,
  },
  DELETE: {
    kind: 'DELETE',
    mutation: 'deleteAccessKey',
    description: 'Deletes the key: irreversible, so refused for an Active key unless forced.',
    permissions: [...LIVE_READS, 'iam:DeleteAccessKey'],
    target: null,
    refuseRecentlyUsed: true,
    refuseActiveKey: true,
    idempotencyKeyRequired: true,
  },
};

/** Stable codes for expected failures, returned as userErrors. */
export type RemediationErrorCode =
  | 'INVALID_INPUT'
  | 'ROOT_NOT_ALLOWED'
  | 'ACCOUNT_MISMATCH'
  | 'UNKNOWN_ACCOUNT'
  | 'ASSUME_ROLE_DENIED'
  | 'KEY_NOT_FOUND'
  | 'KEY_BELONGS_TO_OTHER_USER'
  | 'KEY_RECENTLY_USED'
  | 'KEY_ACTIVE'
  | 'IDEMPOTENCY_KEY_REQUIRED'
  | 'IDEMPOTENCY_KEY_REUSED'
  | 'FINDING_NOT_FOUND'
  | 'FINDING_ALREADY_RESOLVED'
  | 'FINDING_HAS_NO_KEY'
  | 'TOO_MANY_FINDINGS'
  | 'EXCEPTION_NOT_FOUND'
  | 'IAM_ACCESS_DENIED'
  | 'IAM_THROTTLED'
  | 'IAM_LIMIT_EXCEEDED'
  | 'IAM_ERROR';

export interface UserErrorData {
  code: RemediationErrorCode;
  field: string | null;
  message: string;
}

/** How much of a caller's value a message quotes. */
export const QUOTED_LENGTH = 64;

/**
 * A value the caller sent, as a message quotes it: in JSON quotes (control characters escaped), and clipped to
 * QUOTED_LENGTH characters with its full length said (an id may be as long as the request body).
 */
export function quoted(value: string, max = QUOTED_LENGTH): string {
  if (value.length <= max) return JSON.stringify(value);
  // Never half a surrogate pair.
  const end = /[\uD800-\uDBFF]/.test(value[max - 1]) ? max - 1 : max;
  return `${JSON.stringify(`${value.slice(0, end)}…`)} (${value.length} characters)`;
}

/** What IAM says about the key right now. */
export type LiveKeyState =
  | { found: 'OWN'; status: 'Active' | 'Inactive'; createdAt: Date; lastUsed: { date: Date; serviceName: string | null; region: string | null } | null }
  | { found: 'OTHER_USER'; owner: string }
  | { found: 'MISSING' };

export type Decision =
  | { outcome: 'REFUSE'; error: UserErrorData }
  | { outcome: 'NO_CHANGE'; plan: string }
  | { outcome: 'WRITE'; plan: string };

export interface DecisionInput {
  userName: string;
  accessKeyId: string;
  force: boolean;
}

/** Default recent-use window: a key used in the last week is likely still needed by something. */
export const DEFAULT_RECENT_USE_DAYS = 7;

export function decide(contract: RemediationContract, input: DecisionInput, live: LiveKeyState, now: Date, recentUseDays = DEFAULT_RECENT_USE_DAYS): Decision {
  const key = `${input.accessKeyId} of ${input.userName}`;
  if (live.found === 'MISSING') {
    return refuse('KEY_NOT_FOUND', 'accessKeyId', `IAM has no access key ${key}: it was deleted or never existed; nothing was changed`);
  }
  if (live.found === 'OTHER_USER') {
    return refuse('KEY_BELONGS_TO_OTHER_USER', 'accessKeyId', `access key ${input.accessKeyId} belongs to ${live.owner}, not ${input.userName}; nothing was changed`);
  }
  if (contract.target !== null && live.status === contract.target) {
    return { outcome: 'NO_CHANGE', plan: `${key} is already ${live.status}: no IAM write` };
  }
  if (contract.refuseActiveKey && live.status === 'Active' && !input.force) {
    return refuse('KEY_ACTIVE', 'force', `${key} is Active: deactivate it first (the recommended, reversible step) or pass force: true to delete it anyway`);
  }
  if (contract.refuseRecentlyUsed && live.lastUsed && !input.force) {
    const ageMs = now.getTime() - live.lastUsed.date.getTime();
    if (ageMs < recentUseDays * 86_400_000) {
      const where = [live.lastUsed.serviceName && `by ${live.lastUsed.serviceName}`, live.lastUsed.region && `in ${live.lastUsed.region}`].filter(Boolean).join(' ');
      return refuse(
        'KEY_RECENTLY_USED',
        'force',
        `${key} was used ${live.lastUsed.date.toISOString()}${where ? ` ${where}` : ''}, within the last ${recentUseDays} days: ` +
          'something still depends on it; pass force: true to act anyway',
      );
    }
  }
  const action = contract.target === null ? 'delete' : `set ${contract.target}`;
  return { outcome: 'WRITE', plan: `${action} ${key} (now ${live.status})` };
}

function refuse(code: RemediationErrorCode, field: string | null, message: string): Decision {
  return { outcome: 'REFUSE', error: { code, field, message } };
}

export const ACCESS_KEY_ID_PATTERN = /^AKIA[A-Z0-9]{16}$/;
export const USER_NAME_PATTERN = /^[\w+=,.@-]{1,64}$/;
export const ACCOUNT_ID_PATTERN = /^\d{12}$/;

export interface KeyActionInput {
  accountId: string;
  userName: string;
  accessKeyId: string;
  reason: string;
  dryRun?: boolean | null;
  idempotencyKey?: string | null;
  force?: boolean | null;
}

/** What callers may send as an idempotencyKey; PostgreSQL's btree index holds far less than the 100 kB a body can. */
export const MAX_IDEMPOTENCY_KEY_LENGTH = 200;

export function invalidIdempotencyKey(key: string | null | undefined, max = MAX_IDEMPOTENCY_KEY_LENGTH): boolean {
  return key != null && (key.trim() === '' || key.length > max);
}

/**
 * Input checks that need nothing but the input. `maxKeyLength` is longer only for the keys remediateFindings
 * derives for each finding (`<its key>/<finding id>`).
 */
export function validateKeyAction(contract: RemediationContract, input: KeyActionInput, maxKeyLength = MAX_IDEMPOTENCY_KEY_LENGTH): UserErrorData[] {
  const errors: UserErrorData[] = [];
  const bad = (field: string, message: string, code: RemediationErrorCode = 'INVALID_INPUT') => errors.push({ code, field, message });
  if (!ACCOUNT_ID_PATTERN.test(input.accountId ?? '')) bad('accountId', 'accountId must be 12 digits');
  if (['<root_account>', 'root'].includes(input.userName)) bad('userName', 'the root account is never remediated by Keywarden', 'ROOT_NOT_ALLOWED');
  else if (!USER_NAME_PATTERN.test(input.userName ?? '')) bad('userName', 'userName must be 1-64 characters of letters, digits and +=,.@_-');
  if (!ACCESS_KEY_ID_PATTERN.test(input.accessKeyId ?? '')) bad('accessKeyId', 'accessKeyId must be AKIA followed by 16 upper-case letters or digits');
  if (!input.reason?.trim()) bad('reason', 'reason must not be empty: say why, for the audit trail');
  else if (input.reason.length > 1000) bad('reason', 'reason must be at most 1000 characters');
  if (invalidIdempotencyKey(input.idempotencyKey, maxKeyLength)) bad('idempotencyKey', `idempotencyKey must be 1-${MAX_IDEMPOTENCY_KEY_LENGTH} characters`);
  if (contract.idempotencyKeyRequired && !input.idempotencyKey) {
    bad('idempotencyKey', `${contract.mutation} is irreversible: an idempotencyKey is required so a retry can never act twice`, 'IDEMPOTENCY_KEY_REQUIRED');
  }
  return errors;
}
