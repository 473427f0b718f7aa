import type { RemediationAction as Row } from '../../generated/prisma/client';
import { toGlobalId } from '../common/node';
import { toAccessKeyStatus } from '../common/scalars';
import { RemediationActionErrorCodeEnum, type KeyState, type RemediationAction, type RemediationActionErrorCode } from './remediation.type';

export function toRemediationAction(row: Row): RemediationAction {
  return {
    id: toGlobalId('RemediationAction', row.id),
    kind: row.kind,
    status: row.status,
    actor: row.actor,
    accountId: row.accountId,
    userName: row.userName,
    accessKeyId: row.accessKeyId,
    reason: row.reason,
    dryRun: row.dryRun,
    force: row.force,
    idempotencyKey: row.idempotencyKey,
    plan: row.plan,
    stateBefore: keyState(row.stateBefore),
    stateAfter: keyState(row.stateAfter),
    iamRequestId: row.iamRequestId,
    errorCode: actionErrorCode(row.errorCode),
    errorMessage: row.errorMessage,
    createdAt: row.createdAt,
    completedAt: row.completedAt,
    findingLocalId: row.findingId,
  };
}

function keyState(json: unknown): KeyState | null {
  if (!json || typeof json !== 'object') return null;
  const s = json as Record<string, string | null>;
  const date = (v: string | null | undefined) => (v ? new Date(v) : null);
  const found = s.found === 'OWN' || s.found === 'OTHER_USER' ? s.found : 'MISSING';
  return { ...s, found, status: toAccessKeyStatus(s.status), createdAt: date(s.createdAt), lastUsedAt: date(s.lastUsedAt) };
}

/** A stored code outside the enum (none is written today) reads as IAM_ERROR rather than failing the record. */
function actionErrorCode(code: string | null): RemediationActionErrorCode | null {
  if (!code) return null;
  return code in RemediationActionErrorCodeEnum ? (code as RemediationActionErrorCode) : 'IAM_ERROR';
}
