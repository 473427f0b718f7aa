import type { AccountRecord } from '../../services/accounts.service';
import { toGlobalId } from '../common/node';
import type { Account } from './account.type';

export function toAccount(a: AccountRecord): Account {
  return { ...a, id: toGlobalId('Account', a.accountId) };
}
