/** What a control concludes, per access key (or per user where no key is involved). */

/** EXCEPTED: it would FAIL, and an approved exception covers it (the control's "unless specifically required"). */
export const COMPLIANCE_STATUSES = ['PASS', 'FAIL', 'NOT_APPLICABLE', 'ERROR', 'EXCEPTED'] as const;
export type ComplianceStatus = (typeof COMPLIANCE_STATUSES)[number];

export const FINDING_REASONS = [
  // FAIL
  'CREATED_AT_SETUP',
  'NEVER_USED',
  // PASS
  'KEY_INACTIVE',
  'CREATED_AFTER_SETUP_AND_USED',
  'NOT_USED_WITHIN_GRACE_PERIOD',
  'NO_ACCESS_KEYS',
  // NOT_APPLICABLE
  'NO_CONSOLE_PASSWORD',
  'ROOT_ACCOUNT',
  // ERROR
  'USER_UNREADABLE',
  'ACCESS_KEY_UNREADABLE',
] as const;
export type FindingReason = (typeof FINDING_REASONS)[number];

export interface FindingEvidence {
  userCreatedAt: Date | null;
  passwordEnabled: boolean | null;
  passwordLastUsedAt: Date | null;
  accessKeyId: string | null;
  accessKeyStatus: string | null;
  accessKeyCreatedAt: Date | null;
  accessKeyLastUsedAt: Date | null;
  accessKeyLastUsedService: string | null;
  accessKeyLastUsedRegion: string | null;
  /** Seconds between user creation and key creation, when both are known. */
  secondsFromUserCreationToKey: number | null;
  setupWindowSeconds: number;
  gracePeriodSeconds: number;
  dataSource: string;
  dataSourceAsOf: Date;
  evaluatedAt: Date;
  error: string | null;
  /** The approved exception that makes a failing key EXCEPTED. */
  exceptionId?: string | null;
  exceptionExpiresAt?: Date | null;
}

export interface EvaluatedFinding {
  controlId: string;
  /** IAM's user id (null for the root account): what a finding's history follows across renames. */
  userId: string | null;
  userName: string;
  userArn: string;
  accessKeyId: string | null;
  status: ComplianceStatus;
  reasons: FindingReason[];
  evidence: FindingEvidence;
}

/**
 * A finding's stable identity. Key 1 and key 2 of one user are separate findings with separate histories.
 * It follows IAM's user id, not the name: a renamed user keeps its findings, and a user deleted and
 * re-created under the same name (a new id) starts new ones. A read error is a finding of its own beside
 * the last known result of what could not be read, which is carried over untouched.
 */
export function findingIdentity(accountId: string, f: Pick<EvaluatedFinding, 'controlId' | 'userId' | 'userName' | 'accessKeyId' | 'status'>): string {
  const subject = subjectIdentity(accountId, f.controlId, f.userId ?? f.userName, f.accessKeyId);
  return f.status === 'ERROR' ? `${subject}${UNREADABLE_SUFFIX}` : subject;
}

/** The identity of the result for a user (accessKeyId null) or one of its keys. */
export function subjectIdentity(accountId: string, controlId: string, user: string, accessKeyId: string | null): string {
  return `${accountId}/${controlId}/${user}/${accessKeyId ?? '-'}`;
}

export const UNREADABLE_SUFFIX = '/unreadable';

export interface StatusCounts {
  pass: number;
  fail: number;
  notApplicable: number;
  error: number;
  excepted: number;
}
