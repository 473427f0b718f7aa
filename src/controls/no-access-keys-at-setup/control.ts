import type { AccountInventory, InventoryAccessKey, InventoryUser, ReadError } from '../../domain/inventory';
import type { EvaluatedFinding, FindingEvidence, FindingReason } from '../../domain/finding';
import { NO_ACCESS_KEYS_AT_SETUP } from './control.metadata';

export interface ControlSettings {
  /** A key created this close to its user's creation was made "during initial setup". */
  setupWindowSeconds: number;
  /** A never-used Active key younger than this is not yet a finding. */
  gracePeriodSeconds: number;
}

/**
 * Defaults: the control text says "during initial user setup" without a number. Ten minutes covers
 * the console wizard and scripted provisioning (Steampipe uses 10 s and misses slow pipelines).
 * The grace period of 24 h keeps a key made a minute ago from failing the CIS audit procedure's
 * "password enabled and access key never used" test before anyone had a chance to use it.
 */
export const DEFAULT_CONTROL_SETTINGS: ControlSettings = {
  setupWindowSeconds: 10 * 60,
  gracePeriodSeconds: 24 * 60 * 60,
};

export const ROOT_USER_NAME = '<root_account>';

interface EvaluationContext {
  now: Date;
  settings: ControlSettings;
}

/** Pure: inventory + clock + settings → one finding per access key (or per user with no key in play). */
export function evaluateNoAccessKeysAtSetup(inventory: AccountInventory, ctx: EvaluationContext): EvaluatedFinding[] {
  const findings = inventory.users.flatMap((user) => evaluateUser(user, ctx));
  if (inventory.root) {
    const root = inventory.root;
    const asOf = inventory.reportGeneratedAt ?? inventory.collectedAt;
    findings.push({
      controlId: NO_ACCESS_KEYS_AT_SETUP.id,
      userId: null,
      userName: ROOT_USER_NAME,
      userArn: root.arn,
      accessKeyId: null,
      status: 'NOT_APPLICABLE',
      reasons: ['ROOT_ACCOUNT'],
      evidence: {
        ...emptyEvidence(ctx, inventory.source, asOf),
        userCreatedAt: root.accountCreatedAt,
        passwordEnabled: root.passwordEnabled,
      },
    });
  }
  return findings;
}

function evaluateUser(user: InventoryUser, ctx: EvaluationContext): EvaluatedFinding[] {
  const base = userEvidence(user, ctx);
  const userLevel = (status: EvaluatedFinding['status'], reason: FindingReason, error?: ReadError): EvaluatedFinding =>
    finding(user, null, status, [reason], { ...base, error: describe(error) });

  if (user.hasConsolePassword === null) return [userLevel('ERROR', 'USER_UNREADABLE', user.readError)];
  if (!user.hasConsolePassword) return [userLevel('NOT_APPLICABLE', 'NO_CONSOLE_PASSWORD')];
  if (user.accessKeys === null) return [userLevel('ERROR', 'USER_UNREADABLE', user.readError)];
  if (user.accessKeys.length === 0) return [userLevel('PASS', 'NO_ACCESS_KEYS')];

  return user.accessKeys.map((key) => {
    const secondsFromUserCreationToKey = (key.createdAt.getTime() - user.createdAt.getTime()) / 1000;
    const evidence: FindingEvidence = {
      ...base,
      accessKeyId: key.accessKeyId,
      accessKeyStatus: key.status,
      accessKeyCreatedAt: key.createdAt,
      accessKeyLastUsedAt: key.lastUsed?.date ?? null,
      accessKeyLastUsedService: key.lastUsed?.serviceName ?? null,
      accessKeyLastUsedRegion: key.lastUsed?.region ?? null,
      secondsFromUserCreationToKey,
      dataSource: key.lastUsedSource.kind,
      dataSourceAsOf: key.lastUsedSource.asOf,
      error: describe(key.readError),
    };
    const { status, reasons } = judgeKey(key, secondsFromUserCreationToKey, ctx);
    return finding(user, key.accessKeyId, status, reasons, evidence);
  });
}

function judgeKey(
  key: InventoryAccessKey,
  secondsFromUserCreationToKey: number,
  { now, settings }: EvaluationContext,
): Pick<EvaluatedFinding, 'status' | 'reasons'> {
  if (key.status === 'Inactive') return { status: 'PASS', reasons: ['KEY_INACTIVE'] };

  const reasons: FindingReason[] = [];
  // Abs: clock skew between IAM's user and key records can put the key a second "before" its user.
  if (Math.abs(secondsFromUserCreationToKey) <= settings.setupWindowSeconds) reasons.push('CREATED_AT_SETUP');

  if (key.readError) {
    // The setup test stands on its own; without last use we cannot say more, nor call it compliant.
    return reasons.length > 0 ? { status: 'FAIL', reasons } : { status: 'ERROR', reasons: ['ACCESS_KEY_UNREADABLE'] };
  }
  const ageSeconds = (now.getTime() - key.createdAt.getTime()) / 1000;
  if (key.lastUsed === null && ageSeconds > settings.gracePeriodSeconds) reasons.push('NEVER_USED');

  if (reasons.length > 0) return { status: 'FAIL', reasons };
  return { status: 'PASS', reasons: [key.lastUsed ? 'CREATED_AFTER_SETUP_AND_USED' : 'NOT_USED_WITHIN_GRACE_PERIOD'] };
}

function finding(
  user: InventoryUser,
  accessKeyId: string | null,
  status: EvaluatedFinding['status'],
  reasons: FindingReason[],
  evidence: FindingEvidence,
): EvaluatedFinding {
  return { controlId: NO_ACCESS_KEYS_AT_SETUP.id, userId: user.userId, userName: user.userName, userArn: user.arn, accessKeyId, status, reasons, evidence };
}

function userEvidence(user: InventoryUser, ctx: EvaluationContext): FindingEvidence {
  return {
    ...emptyEvidence(ctx, user.passwordSource.kind, user.passwordSource.asOf),
    userCreatedAt: user.createdAt,
    passwordEnabled: user.hasConsolePassword,
    passwordLastUsedAt: user.passwordLastUsedAt,
  };
}

function emptyEvidence(ctx: EvaluationContext, dataSource: string, dataSourceAsOf: Date): FindingEvidence {
  return {
    userCreatedAt: null,
    passwordEnabled: null,
    passwordLastUsedAt: null,
    accessKeyId: null,
    accessKeyStatus: null,
    accessKeyCreatedAt: null,
    accessKeyLastUsedAt: null,
    accessKeyLastUsedService: null,
    accessKeyLastUsedRegion: null,
    secondsFromUserCreationToKey: null,
    setupWindowSeconds: ctx.settings.setupWindowSeconds,
    gracePeriodSeconds: ctx.settings.gracePeriodSeconds,
    dataSource,
    dataSourceAsOf,
    evaluatedAt: ctx.now,
    error: null,
  };
}

function describe(error: ReadError | undefined): string | null {
  return error ? `${error.operation}: ${error.code}: ${error.message}` : null;
}
