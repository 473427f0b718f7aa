/**
 * A synthetic 10,000-user account that lives a year, for bench:history. The inventories are built
 * directly (no IAM sandbox): the mix is that of src/sandbox/fixture-builder.ts, and between two daily
 * scans about 1% of the users change (a key used, a password used, a user added, deleted or renamed,
 * a key created, deleted or toggled) while a few failing keys are remediated (deactivated) and some of
 * those reactivated later, so findings resolve and reopen.
 */
import { FIRST, LAST, SERVICES } from '../src/sandbox/fixture-builder';
import type { AccessKeyLastUse, AccountInventory, DataSource, InventoryUser } from '../src/domain/inventory';
import { seededRandom } from '../src/sandbox/faults';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const SETUP_WINDOW_MS = 10 * 60_000;
const GRACE_MS = DAY;

type Category = 'console-setup-key' | 'console-later-key-used' | 'console-inactive-keys' | 'console-no-keys' | 'api-keys' | 'api-no-keys';

/** Shares as in src/sandbox/fixture-builder.ts (api-no-keys is the remainder). */
const MIX: [Category, number][] = [
  ['console-setup-key', 0.05],
  ['console-later-key-used', 0.05],
  ['console-inactive-keys', 0.02],
  ['console-no-keys', 0.25],
  ['api-keys', 0.6],
  ['api-no-keys', 0.03],
];

/** What happens to the ~1% of users that change each day, by weight. */
const CHANGE_KINDS = [
  ['key-used', 0.28],
  ['user-renamed', 0.05],
  ['password-used', 0.25],
  ['user-added', 0.08],
  ['user-deleted', 0.07],
  ['key-created', 0.1],
  ['key-deleted', 0.1],
  ['key-toggled', 0.07],
] as const;
export type ChangeKind = (typeof CHANGE_KINDS)[number][0] | 'remediated' | 'reactivated';

const TEAMS = ['payments', 'platform', 'data', 'sre', 'security', 'growth', 'mobile'];
const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

interface Key {
  id: string;
  status: 'Active' | 'Inactive';
  createdAt: Date;
  lastUsed: AccessKeyLastUse | null;
}

interface User {
  name: string;
  id: string;
  path: string;
  createdAt: Date;
  console: boolean;
  passwordLastUsedAt: Date | null;
  mfa: boolean;
  keys: Key[];
}

export interface DayChanges {
  /** Distinct users changed (added and deleted ones included). */
  users: number;
  byKind: Partial<Record<ChangeKind, number>>;
}

export class SyntheticAccount {
  private readonly rnd: () => number;
  private readonly users: User[] = [];
  private readonly index = new Map<string, number>();
  /** Keys deactivated as a remediation, candidates to be reactivated: [userName, keyId]. */
  private readonly remediated: [string, string][] = [];
  private serial = 0;
  readonly accountCreatedAt: Date;

  constructor(readonly accountId: string, size: number, seed: number, firstScanAt: Date) {
    this.rnd = seededRandom(seed);
    this.accountCreatedAt = new Date(firstScanAt.getTime() - 1600 * DAY);
    const categories: Category[] = [];
    for (const [cat, share] of MIX) categories.push(...Array<Category>(Math.round(share * size)).fill(cat));
    categories.length = Math.min(categories.length, size);
    while (categories.length < size) categories.push('api-no-keys');
    for (let i = categories.length - 1; i > 0; i--) {
      const j = Math.floor(this.rnd() * (i + 1));
      [categories[i], categories[j]] = [categories[j]!, categories[i]!];
    }
    for (const cat of categories) {
      const createdAt = new Date(firstScanAt.getTime() - this.int(30, 1500) * DAY - this.int(0, 86_399) * 1000);
      this.add(this.makeUser(cat, createdAt, firstScanAt));
    }
  }

  get userCount(): number {
    return this.users.length;
  }

  /**
   * The inventory a scan reading IAM at `at` would collect: through the credential report (which cannot name
   * the keys of users without a password, nor shows their status), or through the per-user API, as a scan
   * falls back to when the report is unavailable (no root row, no MFA).
   */
  inventory(at: Date, mode: 'CREDENTIAL_REPORT' | 'PER_USER_API' = 'CREDENTIAL_REPORT'): AccountInventory {
    const report = mode === 'CREDENTIAL_REPORT';
    const reportGeneratedAt = report ? new Date(at.getTime() - 10 * 60_000) : null;
    const source: DataSource = { kind: mode, asOf: reportGeneratedAt ?? at };
    const keysOf = (u: User) => u.keys.map((k) => ({ accessKeyId: k.id, status: k.status, createdAt: k.createdAt, lastUsed: k.lastUsed, lastUsedSource: source }));
    const users: InventoryUser[] = this.users.map((u) => ({
      userName: u.name,
      userId: u.id,
      arn: `arn:aws:iam::${this.accountId}:user${u.path}${u.name}`,
      path: u.path,
      createdAt: u.createdAt,
      hasConsolePassword: u.console,
      passwordLastUsedAt: u.passwordLastUsedAt,
      passwordSource: source,
      mfaActive: report ? u.mfa : null,
      tags: null, // scans skip tags by default
      accessKeys: u.console || !report ? keysOf(u) : u.keys.length > 0 ? null : [],
    }));
    return {
      accountId: this.accountId,
      source: mode,
      collectedAt: at,
      reportGeneratedAt,
      users,
      root: report ? { arn: `arn:aws:iam::${this.accountId}:root`, accountCreatedAt: this.accountCreatedAt, passwordEnabled: true, accessKeysActive: 0 } : null,
      errors: report ? [] : [{ severity: 'warning', scope: 'ACCOUNT', operation: 'GetCredentialReport', code: 'AccessDenied', message: 'credential report unavailable, collected through the per-user API instead' }],
    };
  }

  /** What happens between the scan at `at - 1 day` and the scan at `at`: `share` of the users change. */
  advance(at: Date, share: number, remediations: number, reactivateChance: number): DayChanges {
    const changed = new Set<string>();
    const byKind: Partial<Record<ChangeKind, number>> = {};
    const when = () => new Date(at.getTime() - this.int(1, 20) * HOUR - this.int(0, 3599) * 1000);
    const did = (kind: ChangeKind, name: string) => {
      changed.add(name);
      byKind[kind] = (byKind[kind] ?? 0) + 1;
    };
    const target = Math.round(share * this.users.length);
    for (let guard = 0; changed.size < target && guard < target * 20; guard++) {
      const kind = this.pickKind();
      const e = when();
      switch (kind) {
        case 'key-used': {
          const u = this.pickUser((x) => !changed.has(x.name) && x.keys.some((k) => k.status === 'Active'));
          if (!u) break;
          const k = this.pick(u.keys.filter((x) => x.status === 'Active'));
          k.lastUsed = this.use(e);
          did(kind, u.name);
          break;
        }
        case 'password-used': {
          const u = this.pickUser((x) => !changed.has(x.name) && x.console);
          if (!u) break;
          u.passwordLastUsedAt = e;
          did(kind, u.name);
          break;
        }
        case 'user-added': {
          const u = this.makeUser(this.pickCategory(), e, at);
          this.add(u);
          did(kind, u.name);
          break;
        }
        case 'user-renamed': {
          // IAM's UpdateUser: a new name (and path), the same user id and keys.
          const u = this.pickUser((x) => !changed.has(x.name));
          if (!u) break;
          this.remove(u.name);
          u.name = `${u.name.replace(/-renamed-\d+$/, '')}-renamed-${this.serial++}`;
          if (this.chance(0.5)) u.path = u.path === '/' ? '/moved/' : '/';
          this.add(u);
          did(kind, u.name);
          break;
        }
        case 'user-deleted': {
          const u = this.pickUser((x) => !changed.has(x.name));
          if (!u) break;
          this.remove(u.name);
          did(kind, u.name);
          break;
        }
        case 'key-created': {
          const u = this.pickUser((x) => !changed.has(x.name) && x.keys.length < 2 && (x.console ? x.keys.length > 0 : true));
          if (!u) break;
          // Used before the next scan four times out of five: an unused one of a console user fails after the grace period.
          const lastUsed = this.chance(0.8) ? this.use(new Date(Math.min(at.getTime() - 60_000, e.getTime() + this.int(1, 60) * 60_000))) : null;
          u.keys.push({ id: this.keyId(), status: 'Active', createdAt: e, lastUsed });
          did(kind, u.name);
          break;
        }
        case 'key-deleted': {
          const u = this.pickUser((x) => !changed.has(x.name) && x.keys.length > 0);
          if (!u) break;
          u.keys.splice(Math.floor(this.rnd() * u.keys.length), 1);
          did(kind, u.name);
          break;
        }
        case 'key-toggled': {
          const u = this.pickUser((x) => !changed.has(x.name) && !x.console && x.keys.length > 0);
          if (!u) break;
          const k = this.pick(u.keys);
          k.status = k.status === 'Active' ? 'Inactive' : 'Active';
          did(kind, u.name);
          break;
        }
      }
    }

    // Remediation: a failing key is deactivated (its finding resolves); now and then one comes back (it reopens).
    for (let r = 0; r < remediations; r++) {
      const failing = this.users.filter((u) => !changed.has(u.name) && this.failingKeys(u, at).length > 0);
      if (failing.length === 0) break;
      const u = this.pick(failing);
      const k = this.pick(this.failingKeys(u, at));
      k.status = 'Inactive';
      this.remediated.push([u.name, k.id]);
      did('remediated', u.name);
    }
    if (this.remediated.length > 0 && this.chance(reactivateChance)) {
      const [name, keyId] = this.remediated.splice(Math.floor(this.rnd() * this.remediated.length), 1)[0]!;
      const u = this.users[this.index.get(name) ?? -1];
      const k = u?.keys.find((x) => x.id === keyId);
      if (u && k && k.status === 'Inactive' && !changed.has(name)) {
        k.status = 'Active';
        did('reactivated', name);
      }
    }
    return { users: changed.size, byKind };
  }

  private failingKeys(u: User, at: Date): Key[] {
    if (!u.console) return [];
    return u.keys.filter(
      (k) =>
        k.status === 'Active' &&
        (Math.abs(k.createdAt.getTime() - u.createdAt.getTime()) <= SETUP_WINDOW_MS || (k.lastUsed === null && at.getTime() - k.createdAt.getTime() > GRACE_MS)),
    );
  }

  private makeUser(cat: Category, createdAt: Date, now: Date): User {
    const isConsole = cat.startsWith('console');
    const serial = String(this.serial++).padStart(5, '0');
    const name = isConsole
      ? this.chance(0.005)
        ? `ops,${this.pick(FIRST)}-${serial}`
        : `${this.pick(FIRST)}.${this.pick(LAST)}-${serial}`
      : `svc-${this.pick(TEAMS)}-${serial}`;
    const ageDays = Math.max(0, Math.floor((now.getTime() - createdAt.getTime()) / DAY));
    const setupKeyAt = () => new Date(createdAt.getTime() + this.int(1, 50) * 1000);
    // A later key: at least a day after the user and at least a day before now (for users old enough).
    const laterKeyAt = () =>
      ageDays >= 2
        ? new Date(createdAt.getTime() + this.int(1, ageDays - 1) * DAY)
        : new Date(Math.min(createdAt.getTime() + this.int(15, 60) * 60_000, now.getTime() - 10 * 60_000));
    const usedAfter = (created: Date) =>
      this.use(new Date(Math.min(now.getTime() - 60_000, created.getTime() + this.rnd() * Math.max(60_000, now.getTime() - HOUR - created.getTime()))));
    const keys: Key[] = [];
    const key = (status: Key['status'], created: Date, used: boolean) => keys.push({ id: this.keyId(), status, createdAt: created, lastUsed: used ? usedAfter(created) : null });
    switch (cat) {
      case 'console-setup-key':
        key('Active', setupKeyAt(), this.chance(0.6) && ageDays > 0);
        if (this.chance(0.2)) key('Active', laterKeyAt(), true);
        break;
      case 'api-keys': {
        const count = this.chance(0.7) ? 1 : 2;
        for (let k = 0; k < count; k++) {
          const atSetup = k === 0 && this.chance(0.8);
          key(this.chance(0.9) ? 'Active' : 'Inactive', atSetup ? setupKeyAt() : laterKeyAt(), this.chance(0.85));
        }
        break;
      }
      case 'console-later-key-used':
        key('Active', laterKeyAt(), true);
        break;
      case 'console-inactive-keys': {
        const count = this.chance(0.75) ? 1 : 2;
        for (let k = 0; k < count; k++) {
          const atSetup = k === 0 && this.chance(0.5);
          key('Inactive', atSetup ? setupKeyAt() : laterKeyAt(), this.chance(0.5));
        }
        break;
      }
      case 'console-no-keys':
      case 'api-no-keys':
        break;
    }
    let passwordLastUsedAt: Date | null = null;
    if (isConsole && this.chance(0.85)) {
      const span = Math.max(HOUR, Math.min(now.getTime() - createdAt.getTime() - HOUR, 180 * DAY));
      passwordLastUsedAt = new Date(now.getTime() - HOUR - this.rnd() * span);
      if (passwordLastUsedAt < createdAt) passwordLastUsedAt = null;
    }
    return {
      name,
      id: `AIDA${this.base32(17)}`,
      path: isConsole ? '/' : '/service/',
      createdAt,
      console: isConsole,
      passwordLastUsedAt,
      mfa: isConsole && this.chance(0.7),
      keys,
    };
  }

  private use(date: Date): AccessKeyLastUse {
    const [serviceName, region] = this.pick(SERVICES);
    return { date, serviceName, region };
  }

  private add(u: User): void {
    this.index.set(u.name, this.users.length);
    this.users.push(u);
  }

  /** Swap-remove: the inventory's user order changes a little, as ListUsers' order would not matter. */
  private remove(name: string): void {
    const i = this.index.get(name)!;
    const last = this.users.pop()!;
    this.index.delete(name);
    if (last.name !== name) {
      this.users[i] = last;
      this.index.set(last.name, i);
    }
  }

  private pickUser(ok: (u: User) => boolean): User | null {
    for (let tries = 0; tries < 200; tries++) {
      const u = this.users[Math.floor(this.rnd() * this.users.length)]!;
      if (ok(u)) return u;
    }
    return null;
  }

  private pickKind(): (typeof CHANGE_KINDS)[number][0] {
    let x = this.rnd();
    for (const [kind, w] of CHANGE_KINDS) if ((x -= w) < 0) return kind;
    return CHANGE_KINDS[0][0];
  }

  private pickCategory(): Category {
    let x = this.rnd();
    for (const [cat, w] of MIX) if ((x -= w) < 0) return cat;
    return 'api-no-keys';
  }

  private keyId(): string {
    return `AKIA${this.base32(16)}`;
  }

  private base32(n: number): string {
    let s = '';
    for (let i = 0; i < n; i++) s += BASE32[Math.floor(this.rnd() * 32)];
    return s;
  }

  private int(lo: number, hi: number): number {
    return lo + Math.floor(this.rnd() * (hi - lo + 1));
  }

  private chance(p: number): boolean {
    return this.rnd() < p;
  }

  private pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.rnd() * xs.length)]!;
  }
}
