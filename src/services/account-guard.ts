import { errorCode, errorMessage, type CountingIamClient } from '../adapters/iam/iam-client';
import type { RemediationErrorCode, UserErrorData } from '../domain/remediation';
import { AccountMismatchError, AssumeRoleDeniedError, UnknownAccountError, type AccountsService } from './accounts.service';

const IAM_CODES: Record<string, RemediationErrorCode> = {
  AccessDenied: 'IAM_ACCESS_DENIED',
  Throttling: 'IAM_THROTTLED',
  NoSuchEntity: 'KEY_NOT_FOUND',
  LimitExceeded: 'IAM_LIMIT_EXCEEDED',
};

/** An IAM failure as the userError a mutation answers. */
export function iamUserError(err: unknown): UserErrorData {
  const code = errorCode(err);
  return { code: IAM_CODES[code] ?? 'IAM_ERROR', field: null, message: `IAM ${code}: ${errorMessage(err)}` };
}

/** IAM in the account a mutation names, or why it may not act there (and nothing may change). */
export type AccountAccess = { iam: CountingIamClient; refusal: null } | { iam: null; refusal: UserErrorData };

/**
 * The only way a mutation reaches IAM: in the account it names, through AccountsService.iamClientFor, whose
 * credentials are proven to act in that account (STS GetCallerIdentity) before anything is read. An account
 * Keywarden does not know is UNKNOWN_ACCOUNT; credentials that act elsewhere are ACCOUNT_MISMATCH. Without the
 * proof, Keywarden would read one account and store the answer under another.
 */
export class AccountGuard {
  constructor(private readonly accounts: AccountsService) {}

  /** `sessionName` says which action it is (`keywarden-remediate-<actionId>`): CloudTrail shows it in the account. */
  async access(accountId: string, sessionName: string): Promise<AccountAccess> {
    try {
      return { iam: await this.accounts.iamClientFor(accountId, sessionName), refusal: null };
    } catch (err) {
      return { iam: null, refusal: refusalOf(accountId, err) };
    }
  }
}

function refusalOf(accountId: string, err: unknown): UserErrorData {
  if (err instanceof UnknownAccountError) return { code: 'UNKNOWN_ACCOUNT', field: 'accountId', message: err.message };
  if (err instanceof AccountMismatchError) return { code: 'ACCOUNT_MISMATCH', field: 'accountId', message: err.message };
  if (err instanceof AssumeRoleDeniedError) return { code: 'ASSUME_ROLE_DENIED', field: null, message: `account ${accountId}: ${err.message}; nothing was changed` };
  return iamUserError(err);
}
