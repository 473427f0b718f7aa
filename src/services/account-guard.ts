import { GetUserCommand } from '@aws-sdk/client-iam';
import { errorCode, errorMessage, type CountingIamClient } from '../adapters/iam/iam-client';
import { accountOf } from '../adapters/iam/inventory.collector';
import type { RemediationErrorCode, UserErrorData } from '../domain/remediation';

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

/**
 * The one account a mutation may act on: the account Keywarden's IAM credentials read, proven by IAM's
 * own answer (the caller's ARN from GetUser), never taken from the request. An `accountId` naming any
 * other account would have Keywarden read its own account and store the answer under the other one.
 */
export class AccountGuard {
  private account: Promise<string> | undefined;

  constructor(private readonly iam: CountingIamClient) {}

  /** The credentials' account, read once per process (a failed read is retried next time). */
  credentialsAccount(): Promise<string> {
    this.account ??= this.iam.client.send(new GetUserCommand({})).then((out) => {
      const id = accountOf(out.User?.Arn);
      if (!id) throw new Error('GetUser returned no account ARN');
      return id;
    });
    this.account.catch(() => (this.account = undefined));
    return this.account;
  }

  /** Null when `accountId` is the credentials' account; otherwise the refusal to answer (nothing may change). */
  async refusal(accountId: string): Promise<UserErrorData | null> {
    let account: string;
    try {
      account = await this.credentialsAccount();
    } catch (err) {
      return iamUserError(err);
    }
    if (account === accountId) return null;
    return { code: 'ACCOUNT_MISMATCH', field: 'accountId', message: `Keywarden's IAM credentials are for account ${account}, not ${accountId}; nothing was changed` };
  }
}
