import type { AwsAccess, CallerIdentity } from '../adapters/aws/aws-access';
import { readOrganizationAccounts } from '../adapters/aws/organizations.reader';
import { errorCode, errorMessage, type AwsCredentials, type CountingIamClient } from '../adapters/iam/iam-client';
import { AccountMismatchError } from '../adapters/iam/inventory.collector';
import {
  accountIdError,
  memberRoleArn,
  partitionOf,
  roleSessionName,
  skipReasonOf,
  validateAccountInput,
  type AccountSource,
  type AccountStatus,
} from '../domain/accounts';
import type { Account, Prisma, PrismaClient } from '../generated/prisma/client';
import { InvalidInputError } from './errors';
import { decodeCursor, encodeCursor, pageOf, readPageFrom, type CursorTag, type Page, type PageFrom } from './page';

export type { AccountSource, AccountStatus };
export { AccountMismatchError };

export interface AccountRecord {
  accountId: string;
  name: string | null;
  email: string | null;
  organizationalUnitPath: string | null;
  status: AccountStatus;
  source: AccountSource;
  roleArn: string | null;
  inOrganization: boolean;
  /** why it is not scanned, null when it is */
  skipReason: string | null;
  syncedAt: Date | null;
  createdAt: Date;
}

export interface AccountFilter {
  status?: AccountStatus[] | null;
  source?: AccountSource[] | null;
  accountIds?: string[] | null;
}

export interface SyncResult {
  added: string[];
  updated: string[];
  left: string[];
  /** Accounts the organization lists. */
  total: number;
}

/** An account Keywarden does not know (never synced, added, or the base credentials' own): the userError UNKNOWN_ACCOUNT. */
export class UnknownAccountError extends Error {
  override name = 'UnknownAccountError';
  constructor(readonly accountId: string, message: string) {
    super(message);
  }
}

/** AssumeRole was refused (AccessDenied): not retried; `message` says what to fix (trust policy, role name, external id). */
export class AssumeRoleDeniedError extends Error {
  override name = 'AssumeRoleDeniedError';
}

// A sync's writes are one transaction: a large organization is thousands of rows.
const SYNC_TRANSACTION_MS = 120_000;

/**
 * The accounts Keywarden reads: the base credentials' own account (read directly), the organization's accounts
 * (`sync`) and configured ones (`add`), each read through an assumed role. Accounts are never deleted by a sync:
 * one that leaves the organization or stops being ACTIVE is kept with its history and says why it is not scanned.
 */
export class AccountsService {
  private base: Promise<CallerIdentity> | undefined;

  constructor(
    private readonly prisma: PrismaClient,
    private readonly aws: AwsAccess,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** The account the base credentials act on (STS GetCallerIdentity, cached per process), recorded as source CREDENTIALS. */
  async baseAccountId(): Promise<string> {
    return (await this.baseIdentity()).account;
  }

  async get(accountId: string): Promise<AccountRecord | null> {
    const invalid = accountIdError(accountId);
    if (invalid) throw new InvalidInputError(invalid.message, invalid.field);
    const row = await this.prisma.account.findUnique({ where: { accountId } });
    return row ? toRecord(row) : null;
  }

  /** Scannable accounts: ACTIVE, in the org (or configured), plus the base account. In account id order. */
  async scannable(): Promise<AccountRecord[]> {
    const base = await this.baseAccountId();
    const rows = await this.prisma.account.findMany({ orderBy: { accountId: 'asc' } });
    return rows.map(toRecord).filter((a) => a.accountId === base || a.skipReason === null);
  }

  /** A keyset page in account id order (DESC: reversed); paging back reads the keyset the other way round. */
  async list(filter: AccountFilter, first: number, from?: PageFrom, direction: 'ASC' | 'DESC' = 'ASC'): Promise<Page<AccountRecord>> {
    for (const [i, id] of (filter.accountIds ?? []).entries()) {
      const invalid = accountIdError(id, 'accountId');
      if (invalid) throw new InvalidInputError(invalid.message.replace(/^accountId/, `filter.accountIds[${i}]`), 'filter.accountIds');
    }
    const { cursor: raw, argument, backward } = readPageFrom(from);
    const tag: CursorTag = { list: 'a', direction };
    const cursor = decodeCursor(raw, tag, ['text'], argument);
    const order = (direction === 'ASC') !== backward ? 'asc' : 'desc';
    const where: Prisma.AccountWhereInput = {
      ...(filter.status?.length ? { status: { in: filter.status } } : {}),
      ...(filter.source?.length ? { source: { in: filter.source } } : {}),
      ...(filter.accountIds ? { accountId: { in: filter.accountIds } } : {}),
    };
    const [rows, totalCount] = await Promise.all([
      this.prisma.account.findMany({
        where: cursor ? { AND: [where, { accountId: { [order === 'asc' ? 'gt' : 'lt']: cursor[0] } }] } : where,
        orderBy: { accountId: order },
        take: first + 1,
      }),
      this.prisma.account.count({ where }),
    ]);
    const page = pageOf(rows, first, from);
    return { ...page, nodes: page.nodes.map(toRecord), totalCount, cursorOf: (a) => encodeCursor(tag, [a.accountId]) };
  }

  /**
   * Organizations ListAccounts (all pages) and ListParents, with the base credentials (the management account or a
   * delegated administrator). New accounts are added, listed ones updated, and accounts no longer listed are kept,
   * marked as having left. All or nothing: a sync that cannot read the whole organization changes nothing.
   */
  async sync(): Promise<SyncResult> {
    const listed = await readOrganizationAccounts(this.aws.organizationsClient());
    // Organizations always lists at least the management account: an empty answer is not an organization.
    if (listed.length === 0) throw new Error('Organizations listed no accounts; nothing was changed');
    const at = this.now();
    return this.prisma.$transaction(async (tx) => {
      const known = new Map((await tx.account.findMany()).map((a) => [a.accountId, a]));
      const result: SyncResult = { added: [], updated: [], left: [], total: listed.length };
      const toCreate: Prisma.AccountCreateManyInput[] = [];
      for (const a of listed) {
        const org = { name: a.name, email: a.email, organizationalUnitPath: a.organizationalUnitPath, status: a.status };
        const row = known.get(a.accountId);
        known.delete(a.accountId);
        if (!row) {
          toCreate.push({ accountId: a.accountId, ...org, source: 'ORGANIZATION', inOrganization: true, syncedAt: at });
          result.added.push(a.accountId);
          continue;
        }
        const changed = !row.inOrganization || (Object.keys(org) as (keyof typeof org)[]).some((k) => row[k] !== org[k]);
        await tx.account.update({ where: { accountId: a.accountId }, data: { ...org, inOrganization: true, syncedAt: at, leftAt: null } });
        if (changed) result.updated.push(a.accountId);
      }
      if (toCreate.length > 0) await tx.account.createMany({ data: toCreate });
      const gone = [...known.values()].filter((a) => a.inOrganization).map((a) => a.accountId);
      if (gone.length > 0) await tx.account.updateMany({ where: { accountId: { in: gone } }, data: { inOrganization: false, leftAt: at } });
      result.left.push(...gone);
      return result;
    }, { timeout: SYNC_TRANSACTION_MS });
  }

  /**
   * An account outside the organization (or any account, when Organizations is not readable), read through
   * `roleArn`. Adding an account the organization lists makes its role explicit; it stays in the organization.
   */
  async add(input: { accountId: string; roleArn: string; externalId?: string; name?: string }): Promise<AccountRecord> {
    const [invalid] = validateAccountInput(input);
    if (invalid) throw new InvalidInputError(invalid.message, invalid.field);
    const existing = await this.prisma.account.findUnique({ where: { accountId: input.accountId } });
    if (existing?.source === 'CREDENTIALS') {
      throw new InvalidInputError(`account ${input.accountId} is the account Keywarden's own credentials act on: it is read directly, with no role; nothing was changed`, 'accountId');
    }
    const configured = { source: 'CONFIGURED' as const, roleArn: input.roleArn, externalId: input.externalId ?? null, ...(input.name ? { name: input.name } : {}) };
    const row = await this.prisma.account.upsert({
      where: { accountId: input.accountId },
      create: { accountId: input.accountId, status: 'ACTIVE', ...configured },
      update: configured,
    });
    return toRecord(row);
  }

  /**
   * Undoes `add`: a configured account outside the organization is forgotten (its scans and findings stay); one
   * the organization lists goes back to being read through the member role. False when Keywarden does not know it.
   */
  async remove(accountId: string): Promise<boolean> {
    const invalid = accountIdError(accountId);
    if (invalid) throw new InvalidInputError(invalid.message, invalid.field);
    const row = await this.prisma.account.findUnique({ where: { accountId } });
    if (!row) return false;
    if (row.source === 'CREDENTIALS') {
      throw new InvalidInputError(`account ${accountId} is the account Keywarden's own credentials act on: it is recorded again on first use; nothing was changed`, 'accountId');
    }
    if (row.inOrganization) {
      if (row.source === 'ORGANIZATION') {
        throw new InvalidInputError(`account ${accountId} is in the organization: \`keywarden accounts sync\` keeps it; remove it from the organization, or suspend it there, to stop scanning it. Nothing was changed`, 'accountId');
      }
      await this.prisma.account.update({ where: { accountId }, data: { source: 'ORGANIZATION', roleArn: null, externalId: null } });
      return true;
    }
    await this.prisma.account.delete({ where: { accountId } });
    return true;
  }

  /**
   * An IAM client acting in the account: the base credentials for the base account, else AssumeRole through the
   * SDK's fromTemporaryCredentials (RoleSessionName e.g. `keywarden-scan-<scanId>`, made STS-safe and ≤ 64
   * characters). The role's credentials are resolved here, once, and the account they act in proven with STS
   * GetCallerIdentity, so a refusal is known before any IAM call: UnknownAccountError for an account Keywarden
   * does not know, AssumeRoleDeniedError when STS refuses the role, AccountMismatchError when the credentials act
   * in another account. The client refreshes its credentials itself before they expire.
   */
  async iamClientFor(accountId: string, sessionName: string): Promise<CountingIamClient> {
    const invalid = accountIdError(accountId);
    if (invalid) throw new UnknownAccountError(String(accountId), invalid.message);
    const base = await this.baseIdentity();
    if (accountId === base.account) {
      const iam = this.aws.baseIamClient();
      iam.account = base.account;
      return iam;
    }
    const row = await this.prisma.account.findUnique({ where: { accountId } });
    if (!row) {
      throw new UnknownAccountError(accountId, `Keywarden does not know account ${accountId}: list it with \`keywarden accounts sync\` (organizations) or \`keywarden accounts add ${accountId} --role-arn <arn>\`; nothing was changed`);
    }
    const roleArn = row.roleArn ?? memberRoleArn(accountId, partitionOf(base.arn), this.aws.memberRoleName);
    const externalId = row.externalId ?? this.aws.externalId;
    const iam = this.aws.assumedIamClient({ roleArn, externalId, sessionName: roleSessionName(sessionName) });
    let credentials;
    try {
      credentials = await iam.client.config.credentials();
    } catch (err) {
      if (errorCode(err) !== 'AccessDenied') throw err;
      throw new AssumeRoleDeniedError(
        `STS refused AssumeRole of ${roleArn} for ${base.arn} (${errorMessage(err)}): check that the role exists in account ${accountId}` +
          `${row.roleArn ? '' : ` under the name ${this.aws.memberRoleName} (KEYWARDEN_MEMBER_ROLE_NAME)`}, that its trust policy allows ${base.arn} sts:AssumeRole` +
          `${externalId ? ` with sts:ExternalId equal to the external id Keywarden sends (${row.externalId ? 'the account\'s --external-id' : 'KEYWARDEN_EXTERNAL_ID'})` : ', and whether it requires an sts:ExternalId (set KEYWARDEN_EXTERNAL_ID, or --external-id)'}`,
      );
    }
    const proven = await this.aws.identityOf(credentials);
    if (proven.account !== accountId) {
      throw new AccountMismatchError(`the role ${roleArn} gave credentials for account ${proven.account}, not ${accountId}: nothing was read or changed in ${accountId}`);
    }
    iam.account = accountId;
    return iam;
  }

  /**
   * Credentials acting in the account, by the same way in as its scans (the base credentials for the base account, the
   * member role otherwise, proven by STS): for the other AWS services Keywarden calls there, e.g. Security Hub.
   */
  async credentialsFor(accountId: string, sessionName: string): Promise<AwsCredentials> {
    const iam = await this.iamClientFor(accountId, sessionName);
    // The client's provider memoizes (and refreshes) the role session; the IAM client itself is not needed.
    const credentials = iam.client.config.credentials;
    iam.client.destroy();
    return credentials;
  }

  /** Cached per process (a failed read is tried again next time); the first success records the account. */
  private baseIdentity(): Promise<CallerIdentity> {
    this.base ??= this.aws.baseIdentity().then(async (identity) => {
      await this.recordBase(identity.account);
      return identity;
    });
    this.base.catch(() => (this.base = undefined));
    return this.base;
  }

  /**
   * The base account becomes CREDENTIALS. One that was the base account of earlier credentials goes back to
   * what else Keywarden knows of it: configured (it has a role) or the organization's.
   */
  private async recordBase(accountId: string): Promise<void> {
    // Usually already recorded: then nothing is written (every process start would rewrite the row otherwise).
    const [row, earlier] = await Promise.all([
      this.prisma.account.findUnique({ where: { accountId } }),
      this.prisma.account.count({ where: { source: 'CREDENTIALS', accountId: { not: accountId } } }),
    ]);
    if (row?.source === 'CREDENTIALS' && earlier === 0) return;
    await this.prisma.$transaction([
      this.prisma.account.updateMany({ where: { source: 'CREDENTIALS', accountId: { not: accountId }, roleArn: { not: null } }, data: { source: 'CONFIGURED' } }),
      this.prisma.account.updateMany({ where: { source: 'CREDENTIALS', accountId: { not: accountId } }, data: { source: 'ORGANIZATION' } }),
      this.prisma.account.upsert({ where: { accountId }, create: { accountId, source: 'CREDENTIALS', status: 'ACTIVE' }, update: { source: 'CREDENTIALS' } }),
    ]);
  }
}

export function toRecord(row: Account): AccountRecord {
  return {
    accountId: row.accountId,
    name: row.name,
    email: row.email,
    organizationalUnitPath: row.organizationalUnitPath,
    status: row.status,
    source: row.source,
    roleArn: row.roleArn,
    inOrganization: row.inOrganization,
    skipReason: skipReasonOf(row),
    syncedAt: row.syncedAt,
    createdAt: row.createdAt,
  };
}
