import type { IamUserView } from '../../services/iam-users.service';
import { toGlobalId } from '../common/node';
import type { IamUser } from './iam-user.type';

/** A user's global id names the user (account + name), not one scan's snapshot of it. */
export function iamUserGlobalId(accountId: string, userName: string): string {
  return toGlobalId('IamUser', `${accountId}/${userName}`);
}

export function toIamUser(row: IamUserView): IamUser {
  const tags = row.tags;
  return {
    id: iamUserGlobalId(row.accountId, row.userName),
    accountId: row.accountId,
    userName: row.userName,
    arn: row.arn,
    userId: row.userId,
    createdAt: row.createdAt,
    hasConsolePassword: row.hasConsolePassword,
    passwordLastUsedAt: row.passwordLastUsedAt,
    mfaActive: row.mfaActive,
    tags: tags ? Object.entries(tags).map(([key, value]) => ({ key, value })) : null,
    readError: row.readError,
    asOf: row.at,
    scanId: row.scanId,
  };
}
