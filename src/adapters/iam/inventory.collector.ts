import {
  GetAccessKeyLastUsedCommand,
  GetLoginProfileCommand,
  GetUserCommand,
  paginateListAccessKeys,
  paginateListUserTags,
  paginateListUsers,
  type AccessKeyMetadata,
  type IAMClient,
  type User,
} from '@aws-sdk/client-iam';
import pLimit from 'p-limit';
import type {
  AccountInventory,
  DataSource,
  InventoryAccessKey,
  InventoryRoot,
  InventorySource,
  InventoryUser,
  LiveReads,
  ReadError,
  ScanError,
} from '../../domain/inventory';
import type { FetchReportOptions } from './credential-report.fetcher';
import type { CredentialReportKeySlot, CredentialReportRow } from './credential-report.parser';
import { readCredentialReport } from './credential-report.source';
import { errorCode, errorMessage, type CountingIamClient } from './iam-client';

export interface CollectOptions {
  /** CREDENTIAL_REPORT finds candidates cheaply and falls back to PER_USER_API when the report is unavailable. */
  mode: InventorySource;
  /** Parallel per-user requests; the SDK's adaptive retry slows down further on throttling. */
  concurrency?: number;
  /**
   * Tags cost one call per user and the control does not read them: off by default in both modes, so a
   * change of mode (or a fallback) is never a change of the users. Tags read once are carried over.
   */
  collectTags?: boolean;
  report?: FetchReportOptions;
  /** ListUsers MaxItems; IAM allows up to 1000 and may return fewer. */
  pageSize?: number;
  /**
   * The control's setup window: a user created less than this before the credential report was generated
   * may have received a setup key after it, which the report cannot show. Such users are read live.
   */
  setupWindowSeconds?: number;
  /** The control's grace period: a report older than this cannot vouch that a console user still has no key. */
  gracePeriodSeconds?: number;
  /**
   * What scans already stored read live after the report was generated (ScanStore.liveReadsSince). The report
   * is older than those reads: taken from it, a user's password (and what follows from it) would undo them.
   */
  liveReadsSince?: (accountId: string, since: Date) => Promise<LiveReads>;
  /** Told where the collection is (phase, users read of users listed); called often, cheaply. */
  onProgress?: (progress: { phase: 'REPORT' | 'LISTING_USERS' | 'READING_USERS'; usersTotal: number | null; usersDone: number }) => void;
  now?: () => Date;
}

/** The account itself could not be listed: nothing can be evaluated, the scan fails. */
export class AccountUnreadableError extends Error {
  override name = 'AccountUnreadableError';
}

/**
 * The SDK's credential chain found nothing (environment, profile, SSO, web identity, container, instance).
 * `Code` is what errorCode() reads first, as for AWS's own errors: a stable public code, not this class's name.
 */
export class NoCredentialsError extends AccountUnreadableError {
  static readonly CODE = 'NO_AWS_CREDENTIALS';
  override name = 'NoCredentialsError';
  readonly Code = NoCredentialsError.CODE;
  constructor() {
    super(
      'no AWS credentials found: set AWS_PROFILE (a profile in ~/.aws/config), or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, ' +
        'or run where a role provides them (instance profile, ECS task role, web identity); without --sandbox=false, Keywarden scans its built-in sandbox',
    );
  }
}

/** The account could not be read: no credentials at all says how to configure them, anything else names the call. */
function unreadable(what: string, err: unknown): AccountUnreadableError {
  if (errorCode(err) === 'CredentialsProviderError') return new NoCredentialsError();
  return new AccountUnreadableError(`${what}: ${errorCode(err)}: ${errorMessage(err)}`);
}

/** IAM answered for another account than the one asked about: storing the answer would rewrite that account. */
export class AccountMismatchError extends Error {
  override name = 'AccountMismatchError';
}

const ROOT_ROW = '<root_account>';
// From about this many users the report's XML (base64, ~300 bytes a user) is worth a worker thread.
const REPORT_THREAD_MIN_USERS = 2000;
// The report has second precision; the API's CreateDate too. A rotated key no longer matches.
const SAME_INSTANT_MS = 1000;
const NO_LIVE_READS: LiveReads = { allUsers: false, allUsersAt: null, userNames: new Set() };

/**
 * Reads a few users live (after a remediation): GetUser, then the per-user API. A user that no longer
 * exists is left out, so the store takes it for deleted. The account must be the one IAM answers for
 * (the users' ARNs, else the caller's): any other is refused with AccountMismatchError.
 */
export async function collectUsers(iam: CountingIamClient, accountId: string, userNames: string[], options: Omit<CollectOptions, 'mode'>): Promise<AccountInventory> {
  const collector = new Collector(iam, { ...options, mode: 'PER_USER_API' }, options.now ?? (() => new Date()));
  return collector.someUsers(accountId, userNames);
}

/** Collects the account's IAM inventory once. Per-user failures stay in the inventory as read errors. */
export async function collectInventory(iam: CountingIamClient, options: CollectOptions): Promise<AccountInventory> {
  const now = options.now ?? (() => new Date());
  const collector = new Collector(iam, options, now);
  return options.mode === 'CREDENTIAL_REPORT' ? collector.viaCredentialReport() : collector.viaPerUserApi();
}

class Collector {
  private readonly limit: ReturnType<typeof pLimit>;
  private readonly errors: ScanError[] = [];
  private readonly iam: IAMClient;
  /**
   * When this scan's reads began: the instant its inventory describes. Not when they ended: a scan whose
   * reads began earlier holds older state, however long one of its calls took (see ScanSupersededError).
   */
  private readonly readsBeganAt: Date;

  constructor(
    private readonly counting: CountingIamClient,
    private readonly options: CollectOptions,
    private readonly now: () => Date,
  ) {
    this.iam = counting.client;
    this.limit = pLimit(options.concurrency ?? 8);
    this.readsBeganAt = now();
  }

  async viaCredentialReport(): Promise<AccountInventory> {
    const users = await this.listUsers();
    this.options.onProgress?.({ phase: 'REPORT', usersTotal: null, usersDone: 0 });
    let report: { rows: CredentialReportRow[]; generatedAt: Date };
    try {
      // A small account's report is read in this thread: a worker thread's own heap (the SDK loaded again)
      // costs more than the report itself, and a worker process runs several account scans at once.
      report = await readCredentialReport(this.counting, { ...this.options.report, inProcess: users.length < REPORT_THREAD_MIN_USERS });
    } catch (err) {
      this.errors.push({
        severity: 'warning', scope: 'ACCOUNT', operation: 'GetCredentialReport', code: errorCode(err),
        message: `credential report unavailable, collected through the per-user API instead: ${errorMessage(err)}`,
      });
      return this.viaPerUserApi(users);
    }

    const rows = new Map(report.rows.map((r) => [r.user, r]));
    const rootRow = rows.get(ROOT_ROW);
    const accountId = accountOf(rootRow?.arn) ?? accountOf(users[0]?.Arn) ?? (await this.callerAccount());
    // IAM reuses a report for up to 4 hours, so a stored scan may have read users live since it was generated.
    // The report must not undo those reads (the finding would resolve, then reopen at the next per-user read):
    // a targeted re-scan's users (one after each remediation) are read live here; after a full per-user scan,
    // everyone is, through the per-user API. Reading them live, this scan is newer than the stored one, and
    // nothing is refused as superseded. (Per-user "last read" times would also do, but a targeted scan's scope
    // and a full scan's source, already on the scan rows, say the same without a new column.)
    const live = (await this.options.liveReadsSince?.(accountId, report.generatedAt)) ?? NO_LIVE_READS;
    if (live.allUsers) {
      this.errors.push({
        severity: 'warning', scope: 'ACCOUNT', operation: 'GetCredentialReport', code: 'CredentialReportOlderThanStoredScan',
        message: `the credential report (generated ${report.generatedAt.toISOString()}, reused by IAM for up to 4 hours) is older than ` +
          `a per-user scan already stored (${live.allUsersAt?.toISOString()}): collected through the per-user API instead`,
      });
      return this.viaPerUserApi(users);
    }
    const reportSource: DataSource = { kind: 'CREDENTIAL_REPORT', asOf: report.generatedAt };
    // A user created less than a setup window before the report may have got a setup key after it.
    const settledBefore = report.generatedAt.getTime() - (this.options.setupWindowSeconds ?? 0) * 1000;
    const done = this.counter(users.length);
    const inventoryUsers = await Promise.all(
      users.map((u) => {
        const row = rows.get(u.UserName!);
        // A row for a user deleted and re-created since the report describes someone else.
        const sameUser = row && row.userCreationTime && Math.abs(row.userCreationTime.getTime() - u.CreateDate!.getTime()) < SAME_INSTANT_MS;
        // A user created since the report was generated, or just before it, is read through the per-user API,
        // and so is one a stored scan read live since.
        return sameUser && u.CreateDate!.getTime() < settledBefore && !live.userNames.has(u.UserName!)
          ? this.limit(() => this.fromReportRow(u, row, reportSource)).then(done)
          : this.limit(() => this.readUserLive(u, this.options.collectTags ?? false)).then(done);
      }),
    );
    return this.inventory('CREDENTIAL_REPORT', inventoryUsers, report.generatedAt, rootRow ? toRoot(rootRow) : null, accountId);
  }

  async viaPerUserApi(listed?: User[]): Promise<AccountInventory> {
    const users = listed ?? (await this.listUsers());
    const done = this.counter(users.length);
    const inventoryUsers = await Promise.all(users.map((u) => this.limit(() => this.readUserLive(u, this.options.collectTags ?? false)).then(done)));
    return this.inventory('PER_USER_API', inventoryUsers, null, null, null);
  }

  async someUsers(accountId: string, userNames: string[]): Promise<AccountInventory> {
    const found = await Promise.all(
      userNames.map((userName) =>
        this.limit(async () => {
          try {
            return (await this.iam.send(new GetUserCommand({ UserName: userName }))).User ?? null;
          } catch (err) {
            if (errorCode(err) === 'NoSuchEntity') return null;
            throw new AccountUnreadableError(`GetUser ${userName} failed: ${errorCode(err)}: ${errorMessage(err)}`);
          }
        }),
      ),
    );
    const present = found.filter((u): u is User => u !== null);
    const proven = accountOf(present[0]?.Arn) ?? (await this.callerAccount());
    if (proven !== accountId || present.some((u) => accountOf(u.Arn) !== proven)) {
      throw new AccountMismatchError(`IAM answers for account ${proven}, not ${accountId}: nothing was read or stored for ${accountId}`);
    }
    const users = await Promise.all(present.map((u) => this.limit(() => this.readUserLive(u, this.options.collectTags ?? false))));
    return this.inventory('PER_USER_API', users, null, null, proven);
  }

  private async inventory(
    source: InventorySource,
    users: InventoryUser[],
    reportGeneratedAt: Date | null,
    root: InventoryRoot | null,
    accountId: string | null,
  ): Promise<AccountInventory> {
    const id = accountId ?? accountOf(users[0]?.arn) ?? (await this.callerAccount());
    return { accountId: id, source, collectedAt: this.readsBeganAt, reportGeneratedAt, users, root, errors: this.errors };
  }

  private async callerAccount(): Promise<string> {
    // Proven through STS for role credentials, under which GetUser without a user name is refused.
    if (this.counting.account) return this.counting.account;
    try {
      const caller = await this.iam.send(new GetUserCommand({}));
      const id = accountOf(caller.User?.Arn);
      if (id) return id;
    } catch (err) {
      throw unreadable('cannot tell which account this is (GetUser)', err);
    }
    throw new AccountUnreadableError('cannot tell which account this is: GetUser returned no ARN');
  }

  /** Counts users read, for progress; passes each user through. */
  private counter(usersTotal: number): <T>(user: T) => T {
    let usersDone = 0;
    this.options.onProgress?.({ phase: 'READING_USERS', usersTotal, usersDone });
    return (user) => {
      this.options.onProgress?.({ phase: 'READING_USERS', usersTotal, usersDone: ++usersDone });
      return user;
    };
  }

  private async listUsers(): Promise<User[]> {
    this.options.onProgress?.({ phase: 'LISTING_USERS', usersTotal: null, usersDone: 0 });
    const users: User[] = [];
    try {
      for await (const page of paginateListUsers({ client: this.iam, pageSize: this.options.pageSize ?? 1000 }, {})) users.push(...(page.Users ?? []));
    } catch (err) {
      throw unreadable('ListUsers failed', err);
    }
    return users;
  }

  /** The report answers password and last use; only console users holding keys need ListAccessKeys for the key ids. */
  private async fromReportRow(u: User, row: CredentialReportRow, source: DataSource): Promise<InventoryUser> {
    const user = baseUser(u, {
      hasConsolePassword: row.passwordEnabled ?? false,
      passwordLastUsedAt: u.PasswordLastUsed ?? row.passwordLastUsed,
      passwordSource: source,
      mfaActive: row.mfaActive,
    });
    const holdsKeys = row.accessKeys.some((s) => s.active || s.lastRotated);
    // Without a password the control does not apply and the report cannot name the keys: they are listed
    // only when the report shows none (then the user has none), so a deleted key's history still ends.
    if (!user.hasConsolePassword) return holdsKeys ? user : { ...user, accessKeys: [] };
    // A report older than the grace period cannot vouch that the user still has no key.
    const reportAgeMs = this.readsBeganAt.getTime() - source.asOf.getTime();
    if (!holdsKeys && reportAgeMs <= (this.options.gracePeriodSeconds ?? Number.POSITIVE_INFINITY) * 1000) return { ...user, accessKeys: [] };

    const keys = await this.listAccessKeys(user);
    if (!keys) return user;
    const unclaimed = [...row.accessKeys];
    user.accessKeys = await Promise.all(
      keys.map(async (k) => {
        const i = unclaimed.findIndex((s) => s.lastRotated && Math.abs(s.lastRotated.getTime() - k.CreateDate!.getTime()) < SAME_INSTANT_MS);
        if (i < 0) return this.readKeyLive(user, k); // made or rotated since the report: ask IAM
        const [slot] = unclaimed.splice(i, 1);
        return keyFromSlot(k, slot, source);
      }),
    );
    if (this.options.collectTags) user.tags = await this.listTags(user);
    return user;
  }

  private async readUserLive(u: User, withTags: boolean): Promise<InventoryUser> {
    const asOf = this.now();
    const user = baseUser(u, { hasConsolePassword: null, passwordLastUsedAt: u.PasswordLastUsed ?? null, passwordSource: { kind: 'PER_USER_API', asOf }, mfaActive: null });
    try {
      await this.iam.send(new GetLoginProfileCommand({ UserName: user.userName }));
      user.hasConsolePassword = true;
    } catch (err) {
      // IAM answers NoSuchEntity both for "no password" and for "no such user"; only the message tells.
      if (errorCode(err) === 'NoSuchEntity' && /login ?profile/i.test(errorMessage(err))) {
        user.hasConsolePassword = false;
      } else {
        return this.userError(user, 'GetLoginProfile', err);
      }
    }
    const keys = await this.listAccessKeys(user);
    if (!keys) return user;
    user.accessKeys = await Promise.all(keys.map((k) => this.readKeyLive(user, k)));
    if (withTags) user.tags = await this.listTags(user);
    return user;
  }

  private async listAccessKeys(user: InventoryUser): Promise<AccessKeyMetadata[] | null> {
    try {
      const keys: AccessKeyMetadata[] = [];
      for await (const page of paginateListAccessKeys({ client: this.iam }, { UserName: user.userName })) keys.push(...(page.AccessKeyMetadata ?? []));
      return keys;
    } catch (err) {
      this.userError(user, 'ListAccessKeys', err);
      return null;
    }
  }

  private async readKeyLive(user: InventoryUser, k: AccessKeyMetadata): Promise<InventoryAccessKey> {
    const key: InventoryAccessKey = {
      accessKeyId: k.AccessKeyId!,
      status: k.Status === 'Active' ? 'Active' : 'Inactive',
      createdAt: k.CreateDate!,
      lastUsed: null,
      lastUsedSource: { kind: 'PER_USER_API', asOf: this.now() },
    };
    try {
      const out = await this.iam.send(new GetAccessKeyLastUsedCommand({ AccessKeyId: key.accessKeyId }));
      const used = out.AccessKeyLastUsed;
      // A never-used key has no LastUsedDate and ServiceName/Region "N/A".
      if (used?.LastUsedDate) key.lastUsed = { date: used.LastUsedDate, serviceName: naToNull(used.ServiceName), region: naToNull(used.Region) };
    } catch (err) {
      key.readError = this.recordError('ACCESS_KEY', 'GetAccessKeyLastUsed', err, user.userName, key.accessKeyId);
    }
    return key;
  }

  private async listTags(user: InventoryUser): Promise<Record<string, string> | null> {
    try {
      const tags: Record<string, string> = {};
      for await (const page of paginateListUserTags({ client: this.iam }, { UserName: user.userName })) {
        for (const t of page.Tags ?? []) tags[t.Key!] = t.Value ?? '';
      }
      return tags;
    } catch (err) {
      // The control does not read tags: missing tags are worth a warning, not a PARTIAL scan.
      this.errors.push({ severity: 'warning', scope: 'USER', userName: user.userName, operation: 'ListUserTags', code: errorCode(err), message: errorMessage(err) });
      return null;
    }
  }

  private userError(user: InventoryUser, operation: string, err: unknown): InventoryUser {
    user.readError = this.recordError('USER', operation, err, user.userName);
    return user;
  }

  private recordError(scope: 'USER' | 'ACCESS_KEY', operation: string, err: unknown, userName: string, accessKeyId?: string): ReadError {
    const code = errorCode(err);
    let message = errorMessage(err);
    if (code === 'NoSuchEntity' && scope === 'USER') message = `user deleted during the scan (${message})`;
    this.errors.push({ severity: 'error', scope, userName, accessKeyId, operation, code, message });
    return { operation, code, message };
  }
}

function baseUser(
  u: User,
  fields: Pick<InventoryUser, 'hasConsolePassword' | 'passwordLastUsedAt' | 'passwordSource' | 'mfaActive'>,
): InventoryUser {
  return {
    userName: u.UserName!,
    userId: u.UserId ?? null,
    arn: u.Arn!,
    path: u.Path ?? null,
    createdAt: u.CreateDate!,
    tags: null,
    accessKeys: null,
    ...fields,
  };
}

function keyFromSlot(k: AccessKeyMetadata, slot: CredentialReportKeySlot, source: DataSource): InventoryAccessKey {
  return {
    accessKeyId: k.AccessKeyId!,
    // Status from ListAccessKeys is live; the report's may be hours old.
    status: k.Status === 'Active' ? 'Active' : 'Inactive',
    createdAt: k.CreateDate!,
    lastUsed: slot.lastUsedDate ? { date: slot.lastUsedDate, serviceName: slot.lastUsedService, region: slot.lastUsedRegion } : null,
    lastUsedSource: source,
  };
}

function toRoot(row: CredentialReportRow): InventoryRoot {
  return {
    arn: row.arn,
    accountCreatedAt: row.userCreationTime,
    passwordEnabled: row.passwordEnabled,
    accessKeysActive: row.accessKeys.filter((s) => s.active).length,
  };
}

function naToNull(v: string | undefined): string | null {
  return !v || v === 'N/A' ? null : v;
}

export function accountOf(arn: string | undefined): string | null {
  return arn?.match(/^arn:aws[\w-]*:iam::(\d{12}):/)?.[1] ?? null;
}
