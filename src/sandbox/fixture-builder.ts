/**
 * Large deterministic sandbox accounts for benchmarks. Category shares are exact (rounded) and
 * assigned in a seeded shuffle; the manifest says which users are in which category.
 */
import { seededRandom, type FaultRuleInput } from './faults';
import type { FixtureAccessKeyInput, FixtureInput, FixtureUserInput } from './fixture';

export const LARGE_FIXTURE_CATEGORIES = {
  /** Console password + Active key(s) created at setup (within a minute of the user): the CIS failures. */
  'console-setup-key': 0.05,
  /** No console password, 1–2 keys. */
  'api-keys': 0.6,
  /** Console password, no keys. */
  'console-no-keys': 0.25,
  /** Console password, key created long after the user, used. */
  'console-later-key-used': 0.05,
  /** Console password, only Inactive keys. */
  'console-inactive-keys': 0.02,
  /** No console password, no keys (the remainder). */
  'api-no-keys': 0,
} as const;

export type LargeFixtureCategory = keyof typeof LARGE_FIXTURE_CATEGORIES;

export interface LargeFixtureOptions {
  users: number;
  seed: number;
  accountId?: string;
  /** Adds a `{ operation: '*', latencyMs }` fault rule. */
  latencyMs?: number;
  generationDelayMs?: number;
}

export interface LargeFixtureManifest {
  byCategory: Record<LargeFixtureCategory, string[]>;
}

/** Name parts and services for generated accounts (the history benchmark uses them too). */
export const FIRST = ['ana', 'ben', 'chen', 'dara', 'eli', 'fatima', 'goran', 'hana', 'ines', 'jon', 'kofi', 'lena', 'mateo', 'nia', 'omar', 'priya', 'quinn', 'rosa', 'sven', 'tariq', 'uma', 'vik', 'wen', 'yusuf', 'zoe'];
export const LAST = ['adams', 'baker', 'costa', 'diaz', 'evans', 'fischer', 'garcia', 'haddad', 'ito', 'jensen', 'kim', 'lopez', 'meyer', 'nguyen', 'okafor', 'patel', 'rossi', 'silva', 'tanaka', 'weber'];
export const SERVICES: ReadonlyArray<[string, string]> = [
  ['s3', 'N/A'],
  ['ec2', 'us-east-1'],
  ['sts', 'us-east-1'],
  ['dynamodb', 'eu-west-1'],
  ['lambda', 'us-west-2'],
  ['ecr', 'eu-central-1'],
  ['cloudwatch', 'ap-southeast-2'],
];
const TEAMS = ['payments', 'platform', 'data', 'sre', 'security', 'growth', 'mobile'];

export function buildLargeFixtureWithManifest(opts: LargeFixtureOptions): { fixture: FixtureInput; manifest: LargeFixtureManifest } {
  const n = opts.users;
  if (!Number.isInteger(n) || n < 0) throw new Error('users must be a non-negative integer');
  const rnd = seededRandom(opts.seed);
  const int = (lo: number, hi: number): number => lo + Math.floor(rnd() * (hi - lo + 1));
  const chance = (p: number): boolean => rnd() < p;
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;

  // Exact counts per category, shuffled deterministically.
  const categories: LargeFixtureCategory[] = [];
  for (const [cat, share] of Object.entries(LARGE_FIXTURE_CATEGORIES) as [LargeFixtureCategory, number][]) {
    if (cat !== 'api-no-keys') categories.push(...Array<LargeFixtureCategory>(Math.round(share * n)).fill(cat));
  }
  categories.length = Math.min(categories.length, n);
  while (categories.length < n) categories.push('api-no-keys');
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [categories[i], categories[j]] = [categories[j]!, categories[i]!];
  }

  const byCategory = Object.fromEntries(Object.keys(LARGE_FIXTURE_CATEGORIES).map((c) => [c, [] as string[]])) as Record<
    LargeFixtureCategory,
    string[]
  >;
  const users: FixtureUserInput[] = [];

  categories.forEach((cat, i) => {
    const isConsole = cat.startsWith('console');
    const id = String(i).padStart(5, '0');
    // Names stay unique through the index; ~0.5% contain a comma, which IAM allows.
    const userName = isConsole
      ? chance(0.005)
        ? `ops,${pick(FIRST)}-${id}`
        : `${pick(FIRST)}.${pick(LAST)}-${id}`
      : `svc-${pick(TEAMS)}-${id}`;
    const ageDays = int(30, 1500);
    const ageSec = int(0, 86_399);
    const created = `now-${ageDays}d-${ageSec}s`;
    const setupKeyTime = () => `${created}+${int(1, 50)}s`;
    // A later key: at least a day after the user, at least a day before now.
    const laterKeyAgeDays = () => int(1, Math.max(1, ageDays - 1));
    const used = (keyAgeDays: number): FixtureAccessKeyInput['lastUsed'] => {
      const [serviceName, region] = pick(SERVICES);
      return { date: `now-${int(0, Math.max(0, keyAgeDays * 24 - 1))}h`, serviceName, region };
    };
    const keys: FixtureAccessKeyInput[] = [];

    switch (cat) {
      case 'console-setup-key':
        keys.push({ status: 'Active', createdAt: setupKeyTime(), lastUsed: chance(0.6) ? used(ageDays) : null });
        if (chance(0.2)) {
          const d = laterKeyAgeDays();
          keys.push({ status: 'Active', createdAt: `now-${d}d`, lastUsed: used(d) });
        }
        break;
      case 'api-keys': {
        const count = chance(0.7) ? 1 : 2;
        for (let k = 0; k < count; k++) {
          const atSetup = k === 0 && chance(0.8);
          const d = atSetup ? ageDays : laterKeyAgeDays();
          keys.push({
            status: chance(0.9) ? 'Active' : 'Inactive',
            createdAt: atSetup ? setupKeyTime() : `now-${d}d`,
            lastUsed: chance(0.85) ? used(d) : null,
          });
        }
        break;
      }
      case 'console-later-key-used': {
        const d = laterKeyAgeDays();
        keys.push({ status: 'Active', createdAt: `now-${d}d`, lastUsed: used(d) });
        break;
      }
      case 'console-inactive-keys': {
        const count = chance(0.75) ? 1 : 2;
        for (let k = 0; k < count; k++) {
          const atSetup = k === 0 && chance(0.5);
          const d = atSetup ? ageDays : laterKeyAgeDays();
          keys.push({ status: 'Inactive', createdAt: atSetup ? setupKeyTime() : `now-${d}d`, lastUsed: chance(0.5) ? used(d) : null });
        }
        break;
      }
      case 'console-no-keys':
      case 'api-no-keys':
        break;
    }

    const user: FixtureUserInput = { userName, createdAt: created, mfaActive: isConsole && chance(0.7) };
    if (!isConsole) user.path = '/service/';
    if (isConsole) {
      user.loginProfile = { createdAt: created, passwordResetRequired: chance(0.03) };
      if (chance(0.85)) user.passwordLastUsed = `now-${int(0, Math.min(ageDays * 24 - 1, 24 * 180))}h`;
    }
    if (chance(0.3)) user.tags = { team: pick(TEAMS), ...(chance(0.5) ? { env: pick(['prod', 'staging', 'dev']) } : {}) };
    if (keys.length > 0) user.accessKeys = keys;
    users.push(user);
    byCategory[cat].push(userName);
  });

  const faults: FaultRuleInput[] = opts.latencyMs ? [{ operation: '*', latencyMs: opts.latencyMs }] : [];
  const fixture: FixtureInput = {
    accountId: opts.accountId ?? '210987654321',
    accountCreatedAt: 'now-1600d',
    seed: opts.seed,
    root: { passwordEnabled: true, passwordLastUsed: 'now-90d', mfaActive: true, accessKeys: 0 },
    users,
    credentialReport: { generationDelayMs: opts.generationDelayMs ?? 0 },
    faults,
  };
  return { fixture, manifest: { byCategory } };
}

export function buildLargeFixture(opts: LargeFixtureOptions): FixtureInput {
  return buildLargeFixtureWithManifest(opts).fixture;
}
