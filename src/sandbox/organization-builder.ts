/**
 * Large deterministic organizations for benchmarks: N accounts (the first is the management account), each
 * with buildLargeFixture's per-account mix. Accounts' IAM fixtures are functions, generated when the sandbox
 * first touches the account, so 200 accounts × 500 users cost nothing until scanned.
 */
import { seededRandom, type FaultRuleInput } from './faults';
import { buildLargeFixtureWithManifest, type LargeFixtureManifest } from './fixture-builder';
import type { AccountIamFixtureInput } from './fixture';
import type { OrganizationAccountFixtureInput, OrganizationFixtureInput } from './organization-fixture';

export interface OrganizationFixtureOptions {
  /** Accounts including the management account (at least 1). */
  accounts: number;
  usersPerAccount: number;
  seed: number;
  /** Default KeywardenAudit. */
  memberRoleName?: string;
  /** Every member account requires this ExternalId. */
  externalId?: string;
  /** How many member accounts are SUSPENDED (chosen by the seed). */
  suspendedAccounts?: number;
  /** How many active member accounts lack the member role (chosen by the seed). */
  roleMissingAccounts?: number;
  /** Latency of every IAM call (a `{ service: 'iam', operation: '*' }` rule), e.g. 25. */
  iamLatencyMs?: number;
  /** Latency of AssumeRole, e.g. 50. */
  assumeRoleLatencyMs?: number;
  credentialLifetimeSeconds?: number;
  generationDelayMs?: number;
}

export interface OrganizationManifest {
  managementAccountId: string;
  /** In ListAccounts order, the management account first. */
  accountIds: string[];
  suspended: string[];
  roleMissing: string[];
  /** Path of each account's OU. */
  parentOf: Record<string, string>;
  /** The account's users by category (generates the account's fixture again: a few ms). */
  usersOf(accountId: string): LargeFixtureManifest;
}

export const ORGANIZATION_OU_PATHS = ['Root/Engineering/Prod', 'Root/Engineering/Staging', 'Root/Data', 'Root/Sandbox'] as const;

const accountIdAt = (i: number): string => String(100_000_000_000 + i);

export function buildOrganizationFixtureWithManifest(opts: OrganizationFixtureOptions): {
  fixture: OrganizationFixtureInput;
  manifest: OrganizationManifest;
} {
  const n = opts.accounts;
  if (!Number.isInteger(n) || n < 1) throw new Error('accounts must be a positive integer');
  const rnd = seededRandom(opts.seed);
  const members = Array.from({ length: n - 1 }, (_, i) => i + 1);
  // A seeded shuffle picks which members are suspended and which lack the role.
  for (let i = members.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [members[i], members[j]] = [members[j]!, members[i]!];
  }
  const suspended = new Set(members.slice(0, opts.suspendedAccounts ?? 0));
  const roleMissing = new Set(members.slice(suspended.size, suspended.size + (opts.roleMissingAccounts ?? 0)));

  const accountSeed = (i: number): number => (Math.imul(opts.seed, 7919) + i) >>> 0;
  const iamOf = (i: number): AccountIamFixtureInput => {
    const { fixture } = buildLargeFixtureWithManifest({
      users: opts.usersPerAccount,
      seed: accountSeed(i),
      accountId: accountIdAt(i),
      ...(opts.generationDelayMs !== undefined ? { generationDelayMs: opts.generationDelayMs } : {}),
    });
    const { accountId: _omit, ...iam } = fixture;
    return iam;
  };

  const parentOf: Record<string, string> = {};
  const accounts: OrganizationAccountFixtureInput[] = Array.from({ length: n }, (_, i) => {
    const accountId = accountIdAt(i);
    const parent = i === 0 ? 'Root' : ORGANIZATION_OU_PATHS[Math.floor(rnd() * ORGANIZATION_OU_PATHS.length)]!;
    parentOf[accountId] = parent;
    return {
      accountId,
      name: i === 0 ? 'management' : `member-${String(i).padStart(4, '0')}`,
      email: `aws+${accountId}@example.com`,
      status: suspended.has(i) ? 'SUSPENDED' : 'ACTIVE',
      parent,
      ...(i > 0 && opts.externalId !== undefined ? { externalId: opts.externalId } : {}),
      ...(roleMissing.has(i) ? { roleMissing: true } : {}),
      // buildLargeFixture's accounts were created 1600 days ago.
      joinedAt: 'now-1600d',
      iam: () => iamOf(i),
    };
  });

  const faults: FaultRuleInput[] = [];
  if (opts.iamLatencyMs) faults.push({ service: 'iam', operation: '*', latencyMs: opts.iamLatencyMs });
  if (opts.assumeRoleLatencyMs) faults.push({ operation: 'AssumeRole', latencyMs: opts.assumeRoleLatencyMs });

  const fixture: OrganizationFixtureInput = {
    organization: {
      managementAccountId: accountIdAt(0),
      memberRoleName: opts.memberRoleName ?? 'KeywardenAudit',
      seed: opts.seed,
      ...(opts.credentialLifetimeSeconds !== undefined ? { credentialLifetimeSeconds: opts.credentialLifetimeSeconds } : {}),
      faults,
      ous: [
        { name: 'Engineering', parent: 'Root' },
        { name: 'Prod', parent: 'Root/Engineering' },
        { name: 'Staging', parent: 'Root/Engineering' },
        { name: 'Data', parent: 'Root' },
        { name: 'Sandbox', parent: 'Root' },
      ],
      accounts,
    },
  };
  const manifest: OrganizationManifest = {
    managementAccountId: accountIdAt(0),
    accountIds: accounts.map((a) => a.accountId),
    suspended: [...suspended].sort((a, b) => a - b).map(accountIdAt),
    roleMissing: [...roleMissing].sort((a, b) => a - b).map(accountIdAt),
    parentOf,
    usersOf: (accountId) => {
      const i = Number(accountId) - 100_000_000_000;
      if (!Number.isInteger(i) || i < 0 || i >= n) throw new Error(`no account ${accountId} in this organization`);
      return buildLargeFixtureWithManifest({ users: opts.usersPerAccount, seed: accountSeed(i), accountId }).manifest;
    },
  };
  return { fixture, manifest };
}

export function buildOrganizationFixture(opts: OrganizationFixtureOptions): OrganizationFixtureInput {
  return buildOrganizationFixtureWithManifest(opts).fixture;
}
