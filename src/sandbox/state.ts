/**
 * In-memory account behind the IAM sandbox. Lookups are O(1) (maps), listing is O(page) (a name-sorted
 * array plus binary search), and credential report generation is O(users).
 */
import { buildCredentialReportCsv } from './credential-report';
import { IamError, noSuchUser } from './errors';
import {
  generateUserId,
  parseFixtureAccessKey,
  parseFixtureUser,
  sortKeys,
  type AccessKeyStatus,
  type FixtureAccessKeyInput,
  type FixtureUserInput,
  type SandboxAccessKey,
  type SandboxAccessKeyLastUsed,
  type SandboxFixture,
  type SandboxLoginProfile,
  type SandboxRoot,
  type SandboxUserRecord,
} from './fixture';

/** GetUser without UserName answers this user when the fixture has no `callerUserName`. Not listed by ListUsers. */
export const SYNTHETIC_CALLER_USER_NAME = 'keywarden-scanner';

/** IAM reuses a credential report younger than 4 hours instead of generating a new one. */
export const CREDENTIAL_REPORT_REUSE_MS = 4 * 3_600_000;

export type CredentialReportState = 'STARTED' | 'INPROGRESS' | 'COMPLETE';

interface ReportSnapshot {
  csv: string;
  generatedAt: Date;
  completesAt: Date;
  expired: boolean;
}

export interface AccessKeyRef {
  /** null for a root access key. */
  user: SandboxUserRecord | null;
  /** IAM answers "root" as UserName for root keys. */
  userName: string;
  key: SandboxAccessKey;
}

const cloneKey = (k: SandboxAccessKey): SandboxAccessKey => ({ ...k, lastUsed: k.lastUsed ? { ...k.lastUsed } : null });

const cloneUser = (u: SandboxUserRecord): SandboxUserRecord => ({
  ...u,
  loginProfile: u.loginProfile ? { ...u.loginProfile } : null,
  tags: u.tags.map((t) => ({ ...t })),
  accessKeys: u.accessKeys.map(cloneKey),
});

const lower = (s: string): string => s.toLowerCase();
const truncateToSecond = (ms: number): Date => new Date(Math.floor(ms / 1000) * 1000);

export class SandboxState {
  accountId = '';
  accountCreatedAt = new Date(0);
  root: SandboxRoot = { passwordEnabled: true, passwordLastUsed: null, mfaActive: false, accessKeys: [] };
  callerUserName: string | undefined;
  generationDelayMs = 0;

  // Keyed by lower-cased name: IAM user names are case-insensitive.
  private readonly byName = new Map<string, SandboxUserRecord>();
  // Parallel arrays sorted by lower-cased name; ListUsers pages through them.
  private sortedNames: string[] = [];
  private sortedUsers: SandboxUserRecord[] = [];
  private readonly keyIndex = new Map<string, AccessKeyRef>();
  private report: ReportSnapshot | null = null;

  constructor(
    fixture: SandboxFixture,
    readonly now: () => Date = () => new Date(),
  ) {
    this.load(fixture);
  }

  /** Replaces the whole account (users, keys, root, credential report) with a copy of the fixture. */
  load(fixture: SandboxFixture): void {
    this.accountId = fixture.accountId;
    this.accountCreatedAt = fixture.accountCreatedAt;
    this.callerUserName = fixture.callerUserName;
    this.generationDelayMs = fixture.credentialReport.generationDelayMs;
    this.root = { ...fixture.root, accessKeys: fixture.root.accessKeys.map(cloneKey) };
    this.byName.clear();
    this.keyIndex.clear();
    const users = fixture.users.map(cloneUser);
    for (const u of users) this.byName.set(lower(u.userName), u);
    users.sort((a, b) => cmp(lower(a.userName), lower(b.userName)));
    this.sortedUsers = users;
    this.sortedNames = users.map((u) => lower(u.userName));
    for (const key of this.root.accessKeys) this.keyIndex.set(key.accessKeyId, { user: null, userName: 'root', key });
    for (const u of users) this.indexKeys(u);
    this.report = null;
    if (fixture.credentialReport.generatedAt) {
      const at = fixture.credentialReport.generatedAt;
      this.report = { csv: this.buildCredentialReportCsv(), generatedAt: at, completesAt: at, expired: false };
    }
  }

  // ------------------------------------------------------------ users

  /** Users keyed by lower-cased user name. Mutate them through the methods below to keep indexes right. */
  get users(): ReadonlyMap<string, SandboxUserRecord> {
    return this.byName;
  }

  get userCount(): number {
    return this.sortedUsers.length;
  }

  /** Case-insensitive, like IAM. */
  getUser(userName: string): SandboxUserRecord | undefined {
    return this.byName.get(lower(userName));
  }

  /** Throws NoSuchEntity like IAM. */
  requireUser(userName: string): SandboxUserRecord {
    const u = this.getUser(userName);
    if (!u) throw noSuchUser(userName);
    return u;
  }

  /** All users in ListUsers order (by name, case-insensitive). */
  listUsers(): SandboxUserRecord[] {
    return [...this.sortedUsers];
  }

  userArn(u: Pick<SandboxUserRecord, 'path' | 'userName'>): string {
    return `arn:aws:iam::${this.accountId}:user${u.path}${u.userName}`;
  }

  /** The identity making calls when no UserName is given (see SYNTHETIC_CALLER_USER_NAME). */
  callerUser(): SandboxUserRecord {
    if (this.callerUserName !== undefined) {
      const u = this.getUser(this.callerUserName);
      if (u) return u;
    }
    return {
      userName: SYNTHETIC_CALLER_USER_NAME,
      path: '/',
      userId: generateUserId(this.accountId, SYNTHETIC_CALLER_USER_NAME),
      createdAt: this.accountCreatedAt,
      passwordLastUsed: null,
      loginProfile: null,
      mfaActive: false,
      tags: [],
      accessKeys: [],
    };
  }

  /**
   * One page of users after the (lower-cased) name `after`, optionally filtered by path prefix.
   * Keyed by name rather than index so a user deleted between pages does not shift the next page.
   */
  pageUsers(
    after: string | undefined,
    maxItems: number,
    pathPrefix?: string,
  ): { users: SandboxUserRecord[]; isTruncated: boolean } {
    let i = after === undefined ? 0 : upperBound(this.sortedNames, after);
    const out: SandboxUserRecord[] = [];
    const n = this.sortedUsers.length;
    const matches = (u: SandboxUserRecord) => pathPrefix === undefined || u.path.startsWith(pathPrefix);
    for (; i < n && out.length < maxItems; i++) {
      const u = this.sortedUsers[i]!;
      if (matches(u)) out.push(u);
    }
    let isTruncated = false;
    for (; i < n; i++) {
      if (matches(this.sortedUsers[i]!)) {
        isTruncated = true;
        break;
      }
    }
    return { users: out, isTruncated };
  }

  /** Adds a user from fixture form (validated, times resolved against now()) or an already resolved record. */
  addUser(input: FixtureUserInput | SandboxUserRecord): SandboxUserRecord {
    const user =
      input.createdAt instanceof Date
        ? cloneUser(input as SandboxUserRecord)
        : parseFixtureUser(this.accountId, input, this.now());
    const key = lower(user.userName);
    if (this.byName.has(key)) throw new Error(`user ${user.userName} already exists`);
    user.accessKeys = sortKeys(user.accessKeys);
    for (const k of user.accessKeys) {
      if (this.keyIndex.has(k.accessKeyId)) throw new Error(`access key ${k.accessKeyId} already exists`);
    }
    this.byName.set(key, user);
    const at = upperBound(this.sortedNames, key);
    this.sortedNames.splice(at, 0, key);
    this.sortedUsers.splice(at, 0, user);
    this.indexKeys(user);
    return user;
  }

  deleteUser(userName: string): boolean {
    const key = lower(userName);
    const u = this.byName.get(key);
    if (!u) return false;
    this.byName.delete(key);
    const at = lowerBound(this.sortedNames, key);
    this.sortedNames.splice(at, 1);
    this.sortedUsers.splice(at, 1);
    for (const k of u.accessKeys) this.keyIndex.delete(k.accessKeyId);
    return true;
  }

  /** IAM's UpdateUser: a new name and/or path; the user id, keys and everything else stay. */
  updateUser(userName: string, change: { newUserName?: string; newPath?: string }): SandboxUserRecord {
    const user = this.requireUser(userName);
    const newName = change.newUserName ?? user.userName;
    if (lower(newName) !== lower(userName) && this.byName.has(lower(newName))) throw new Error(`user ${newName} already exists`);
    this.deleteUser(userName);
    return this.addUser({ ...cloneUser(user), userName: newName, path: change.newPath ?? user.path });
  }

  setLoginProfile(userName: string, profile: SandboxLoginProfile | null): void {
    this.requireUser(userName).loginProfile = profile ? { ...profile } : null;
  }

  // ------------------------------------------------------------ access keys

  findAccessKey(accessKeyId: string): AccessKeyRef | undefined {
    return this.keyIndex.get(accessKeyId);
  }

  setKeyStatus(accessKeyId: string, status: AccessKeyStatus): void {
    this.requireKey(accessKeyId).key.status = status;
  }

  setKeyLastUsed(accessKeyId: string, lastUsed: SandboxAccessKeyLastUsed | null): void {
    this.requireKey(accessKeyId).key.lastUsed = lastUsed ? { ...lastUsed } : null;
  }

  deleteAccessKey(accessKeyId: string): boolean {
    const ref = this.keyIndex.get(accessKeyId);
    if (!ref) return false;
    const owner = ref.user ?? this.root;
    owner.accessKeys = owner.accessKeys.filter((k) => k.accessKeyId !== accessKeyId);
    this.keyIndex.delete(accessKeyId);
    return true;
  }

  /** Adds a key to a user (fixture form, times resolved against now()). IAM's limit of 2 keys applies. */
  addAccessKey(userName: string, input: FixtureAccessKeyInput): SandboxAccessKey {
    const u = this.requireUser(userName);
    if (u.accessKeys.length >= 2) throw new IamError('LimitExceeded', 'Cannot exceed quota for AccessKeysPerUser: 2');
    let slot = u.accessKeys.length;
    let key = parseFixtureAccessKey(this.accountId, u.userName, slot, input, this.now());
    // A generated id may repeat one of a deleted key's; move to another slot seed.
    while (input.accessKeyId === undefined && this.keyIndex.has(key.accessKeyId)) {
      slot += 2;
      key = parseFixtureAccessKey(this.accountId, u.userName, slot, input, this.now());
    }
    if (this.keyIndex.has(key.accessKeyId)) throw new Error(`access key ${key.accessKeyId} already exists`);
    u.accessKeys = sortKeys([...u.accessKeys, key]);
    this.keyIndex.set(key.accessKeyId, { user: u, userName: u.userName, key });
    return key;
  }

  private requireKey(accessKeyId: string): AccessKeyRef {
    const ref = this.keyIndex.get(accessKeyId);
    if (!ref) throw new Error(`no access key ${accessKeyId}`);
    return ref;
  }

  private indexKeys(u: SandboxUserRecord): void {
    for (const key of u.accessKeys) this.keyIndex.set(key.accessKeyId, { user: u, userName: u.userName, key });
  }

  // ------------------------------------------------------------ credential report

  /** The CSV for the current state (what a report generated now would contain). */
  buildCredentialReportCsv(): string {
    return buildCredentialReportCsv({
      accountId: this.accountId,
      accountCreatedAt: this.accountCreatedAt,
      root: this.root,
      users: this.sortedUsers,
      userArn: (u) => this.userArn(u),
    });
  }

  /** GenerateCredentialReport semantics, including IAM's 4-hour reuse. */
  generateCredentialReport(): { state: CredentialReportState; description?: string } {
    const now = this.now();
    const r = this.report;
    if (r && !r.expired) {
      if (now.getTime() < r.completesAt.getTime()) {
        return { state: 'INPROGRESS', description: 'Report generation in progress.' };
      }
      if (now.getTime() - r.generatedAt.getTime() < CREDENTIAL_REPORT_REUSE_MS) return { state: 'COMPLETE' };
    }
    const generatedAt = truncateToSecond(now.getTime());
    // The report is a snapshot of the account at generation time.
    this.report = {
      csv: this.buildCredentialReportCsv(),
      generatedAt,
      completesAt: new Date(now.getTime() + this.generationDelayMs),
      expired: false,
    };
    return {
      state: 'STARTED',
      description: r && !r.expired
        ? 'Report is older than 4 hours. Starting a new report generation task'
        : 'No report exists. Starting a new report generation task',
    };
  }

  /** GetCredentialReport semantics; throws ReportNotPresent / ReportExpired / ReportInProgress. */
  getCredentialReport(): { csv: string; generatedAt: Date } {
    const r = this.report;
    if (!r) throw new IamError('ReportNotPresent');
    if (r.expired) throw new IamError('ReportExpired');
    if (this.now().getTime() < r.completesAt.getTime()) throw new IamError('ReportInProgress');
    return { csv: r.csv, generatedAt: r.generatedAt };
  }

  /** The current report's generation time, or null when there is none. */
  credentialReportGeneratedAt(): Date | null {
    return this.report ? this.report.generatedAt : null;
  }

  /** Drops the report: GetCredentialReport answers ReportNotPresent until the next Generate. */
  invalidateCredentialReport(): void {
    this.report = null;
  }

  /** GetCredentialReport answers ReportExpired until the next Generate (which starts a new report). */
  expireCredentialReport(): void {
    if (this.report) this.report.expired = true;
  }

  /** Makes the existing report look `ageMs` old (and complete), e.g. 3 h to test the 4-hour reuse. */
  setCredentialReportAge(ageMs: number): void {
    if (!this.report) throw new Error('no credential report to age; call GenerateCredentialReport first');
    const generatedAt = truncateToSecond(this.now().getTime() - ageMs);
    this.report.generatedAt = generatedAt;
    this.report.completesAt = generatedAt;
  }
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** First index whose value is > x. */
function upperBound(arr: readonly string[], x: string): number {
  let lo = 0;
  let hi = arr.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (arr[mid]! <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** First index whose value is >= x. */
function lowerBound(arr: readonly string[], x: string): number {
  let lo = 0;
  let hi = arr.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (arr[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
