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
  userName: string;
  userArn: string;
  accessKeyId: string | null;
  status: ComplianceStatus;
  reasons: FindingReason[];
  evidence: FindingEvidence;
}

/** A finding's stable identity: key 1 and key 2 of one user are separate findings with separate histories. */
export function findingIdentity(accountId: string, f: Pick<EvaluatedFinding, 'controlId' | 'userName' | 'accessKeyId'>): string {
  return `${accountId}/${f.controlId}/${f.userName}/${f.accessKeyId ?? '-'}`;
}

export interface StatusCounts {
  pass: number;
  fail: number;
  notApplicable: number;
  error: number;
  excepted: number;
}
