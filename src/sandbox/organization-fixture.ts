/**
 * Organization fixture: an AWS Organization of several accounts, each with its own IAM (the single-account
 * fixture without `accountId`). Validated like the single-account fixture: every error names its path, e.g.
 * `organization.accounts[3].iam.users[2].createdAt: …`.
 *
 * An account's `iam` may also be a function (generated fixtures, see organization-builder.ts): it is then
 * validated and resolved when the account's IAM is first used, against the time the organization was parsed.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { FaultRuleSchema, type FaultRule } from './faults';
import {
  AccountIamFixtureSchema,
  FixtureError,
  deterministicId,
  fixtureData,
  formatPath,
  issuesFromZod,
  parseFixture,
  resolveTimeSpec,
  TimeSpecSchema,
  type AccountIamFixtureInput,
  type FixtureInput,
  type FixtureIssue,
  type SandboxFixture,
} from './fixture';

/** What Organizations calls an account's State (its older Status has no CLOSED: a closed account shows SUSPENDED). */
export const ORGANIZATION_ACCOUNT_STATUSES = ['ACTIVE', 'SUSPENDED', 'PENDING_CLOSURE', 'CLOSED'] as const;
export type OrganizationAccountStatus = (typeof ORGANIZATION_ACCOUNT_STATUSES)[number];

/** OU paths are names from the root: `Root`, `Root/Engineering`, `Root/Engineering/Prod`. */
export const ROOT_PATH = 'Root';

/** IAM role names: 1..64 of [\w+=,.@-]. */
export const ROLE_NAME_PATTERN = /^[\w+=,.@-]{1,64}$/;

const AccountIdSchema = z.string().regex(/^\d{12}$/, { message: 'account id must be 12 digits' });

const OuPathSchema = z
  .string()
  .regex(/^Root(\/[^/]+)*$/, { message: 'a parent is a path of OU names from the root, e.g. "Root" or "Root/Engineering/Prod"' });

const OuSchema = z.strictObject({
  /** 1..128 characters; `/` separates path segments, so a name cannot contain it. */
  name: z
    .string()
    .min(1)
    .max(128)
    .regex(/^[^/]+$/, { message: 'an OU name cannot contain "/" (it separates OU paths)' }),
  parent: OuPathSchema.default(ROOT_PATH),
});

const OrganizationAccountSchema = z.strictObject({
  accountId: AccountIdSchema,
  name: z.string().min(1).max(50),
  email: z
    .string()
    .min(6)
    .max(64)
    .regex(/^[^\s@]+@[^\s@]+\.[^\s@]+$/, { message: 'email must look like name@example.com' }),
  status: z.enum(ORGANIZATION_ACCOUNT_STATUSES).default('ACTIVE'),
  parent: OuPathSchema.default(ROOT_PATH),
  /** When set, AssumeRole into this account must pass exactly this ExternalId. */
  externalId: z
    .string()
    .min(2)
    .max(1224)
    .regex(/^[\w+=,.@:/-]*$/, { message: 'external id characters are [\\w+=,.@:/-]' })
    .optional(),
  /** The member role does not exist in this account: AssumeRole is refused. */
  roleMissing: z.boolean().default(false),
  /** When the account joined (default: its IAM accountCreatedAt, or parse time for a generated account). */
  joinedAt: TimeSpecSchema.optional(),
  /** Validated separately (it may be a function), so its errors carry the full path. */
  iam: z.unknown(),
});

const OrganizationSchema = z
  .strictObject({
    /** o- followed by 10..32 lowercase letters or digits (default: derived from the management account). */
    id: z
      .string()
      .regex(/^o-[a-z0-9]{10,32}$/, { message: 'organization id must be o- followed by 10 to 32 lowercase letters or digits' })
      .optional(),
    managementAccountId: AccountIdSchema,
    /** The role AssumeRole may take in every account (AWS creates OrganizationAccountAccessRole by default). */
    memberRoleName: z
      .string()
      .regex(ROLE_NAME_PATTERN, { message: 'role name must be 1 to 64 characters from [A-Za-z0-9_+=,.@-]' })
      .default('OrganizationAccountAccessRole'),
    /** The account base (non-temporary) credentials act in; default the management account. */
    callerAccountId: AccountIdSchema.optional(),
    /** AssumeRole issues credentials lasting this long, whatever DurationSeconds asks (for expiry tests). */
    credentialLifetimeSeconds: z.number().int().min(1).max(43_200).optional(),
    /** Seed for fault sampling. */
    seed: z.number().int().optional(),
    /** Rules for every account (a rule's accountId narrows it); each account's iam.faults apply to that account. */
    faults: z.array(FaultRuleSchema).default([]),
    ous: z.array(OuSchema).default([]),
    accounts: z.array(OrganizationAccountSchema).min(1, { message: 'an organization has at least its management account' }),
  })
  .superRefine((o, ctx) => {
    const paths = new Set<string>([ROOT_PATH]);
    o.ous.forEach((ou, i) => {
      const path = `${ou.parent}/${ou.name}`;
      if (paths.has(path)) ctx.addIssue({ code: 'custom', path: ['ous', i, 'name'], message: `duplicate OU ${path}` });
      paths.add(path);
    });
    o.ous.forEach((ou, i) => {
      if (!paths.has(ou.parent)) ctx.addIssue({ code: 'custom', path: ['ous', i, 'parent'], message: `no OU ${ou.parent}` });
    });
    const ids = new Map<string, number>();
    const emails = new Map<string, number>();
    o.accounts.forEach((a, i) => {
      const prev = ids.get(a.accountId);
      if (prev !== undefined) {
        ctx.addIssue({ code: 'custom', path: ['accounts', i, 'accountId'], message: `duplicate account ${a.accountId} (also accounts[${prev}])` });
      } else ids.set(a.accountId, i);
      const email = a.email.toLowerCase();
      const prevEmail = emails.get(email);
      if (prevEmail !== undefined) {
        ctx.addIssue({ code: 'custom', path: ['accounts', i, 'email'], message: `duplicate email ${a.email} (also accounts[${prevEmail}])` });
      } else emails.set(email, i);
      if (!paths.has(a.parent)) ctx.addIssue({ code: 'custom', path: ['accounts', i, 'parent'], message: `no OU ${a.parent}` });
    });
    if (!ids.has(o.managementAccountId)) {
      ctx.addIssue({ code: 'custom', path: ['managementAccountId'], message: `no account ${o.managementAccountId} in accounts` });
    }
    if (o.callerAccountId !== undefined && !ids.has(o.callerAccountId)) {
      ctx.addIssue({ code: 'custom', path: ['callerAccountId'], message: `no account ${o.callerAccountId} in accounts` });
    }
  });

export const OrganizationFixtureSchema = z.strictObject({ organization: OrganizationSchema });

type OrganizationSchemaInput = z.input<typeof OrganizationSchema>;
type AccountSchemaInput = z.input<typeof OrganizationAccountSchema>;

export type OrganizationAccountFixtureInput = Omit<AccountSchemaInput, 'iam'> & {
  /** The account's IAM, or a function giving it on first use (memory-lean generated organizations). */
  iam: AccountIamFixtureInput | (() => AccountIamFixtureInput);
};

export interface OrganizationFixtureInput {
  organization: Omit<OrganizationSchemaInput, 'accounts'> & { accounts: OrganizationAccountFixtureInput[] };
}

// ---------------------------------------------------------------- resolved form

export interface SandboxOrganizationalUnitFixture {
  name: string;
  /** Path of the parent OU, e.g. `Root/Engineering`. */
  parent: string;
}

export interface SandboxOrganizationAccountFixture {
  accountId: string;
  name: string;
  email: string;
  status: OrganizationAccountStatus;
  parent: string;
  externalId?: string;
  roleMissing: boolean;
  joinedAt: Date;
  /** Resolved, or resolved on first use (a generated account); throws FixtureError with the account's path. */
  iam: SandboxFixture | (() => SandboxFixture);
}

export interface SandboxOrganizationFixture {
  organization: {
    id: string;
    managementAccountId: string;
    memberRoleName: string;
    callerAccountId: string;
    credentialLifetimeSeconds?: number;
    seed?: number;
    faults: FaultRule[];
    ous: SandboxOrganizationalUnitFixture[];
    accounts: SandboxOrganizationAccountFixture[];
    /** The `now` time specs were resolved against (and lazily generated accounts will be). */
    parsedAt: Date;
  };
}

const prefixed = (prefix: (string | number)[], issues: readonly FixtureIssue[]): FixtureIssue[] =>
  issues.map((i) => ({ path: i.path === '(root)' ? formatPath(prefix) : `${formatPath(prefix)}.${i.path}`, message: i.message }));

/** Resolves one account's IAM fixture, naming errors by the account's path. */
function resolveAccountIam(accountId: string, iam: unknown, path: (string | number)[], now: Date): SandboxFixture {
  if (typeof iam !== 'object' || iam === null || Array.isArray(iam)) {
    throw new FixtureError([{ path: formatPath(path), message: 'expected an object (the account fixture without accountId)' }]);
  }
  if ('accountId' in iam) {
    throw new FixtureError([{ path: formatPath([...path, 'accountId']), message: "unknown field (the account's id is its accountId)" }]);
  }
  // Checked without accountId first, so a problem is reported as it is written.
  const parsed = AccountIamFixtureSchema.safeParse(iam);
  if (!parsed.success) throw new FixtureError(prefixed(path, issuesFromZod(parsed.error)));
  try {
    return parseFixture({ ...(iam as Omit<FixtureInput, 'accountId'>), accountId }, now);
  } catch (e) {
    if (e instanceof FixtureError) throw new FixtureError(prefixed(path, e.issues));
    throw e;
  }
}

/** A stable organization id from the management account, when the fixture gives none. */
export const defaultOrganizationId = (managementAccountId: string): string =>
  `o-${deterministicId('', 10, managementAccountId, 'organization').toLowerCase()}`;

/**
 * Validates an organization fixture (object or JSON text) and resolves its time specs against `now`.
 * Accounts given as objects are resolved now (all their errors reported together); accounts given as
 * functions are resolved on first use.
 */
export function parseOrganizationFixture(json: unknown, now: Date = new Date()): SandboxOrganizationFixture {
  const data = fixtureData(json);
  const parsed = OrganizationFixtureSchema.safeParse(data);
  const issues: FixtureIssue[] = parsed.success ? [] : issuesFromZod(parsed.error);
  // Account IAM errors are reported with the organization's own, so one run shows every problem.
  const rawAccounts = (data as { organization?: { accounts?: unknown } } | null)?.organization?.accounts;
  const accounts: SandboxOrganizationAccountFixture[] = [];
  (Array.isArray(rawAccounts) ? (rawAccounts as Record<string, unknown>[]) : []).forEach((raw, i) => {
    const path = ['organization', 'accounts', i, 'iam'];
    const a = parsed.success ? parsed.data.organization.accounts[i]! : undefined;
    const accountId = typeof raw?.['accountId'] === 'string' ? (raw['accountId'] as string) : '000000000000';
    const rawIam = raw?.['iam'];
    let iam: SandboxFixture | (() => SandboxFixture);
    if (typeof rawIam === 'function') {
      // Not memoised: the sandbox keeps the account's state, and a second copy would double its memory.
      iam = () => resolveAccountIam(accountId, (rawIam as () => unknown)(), path, now);
    } else {
      try {
        iam = resolveAccountIam(accountId, rawIam, path, now);
      } catch (e) {
        if (!(e instanceof FixtureError)) throw e;
        issues.push(...e.issues);
        return;
      }
    }
    if (!a) return;
    let joinedAt: Date;
    if (a.joinedAt !== undefined) {
      const r = resolveTimeSpec(a.joinedAt, now);
      if (typeof r === 'string') {
        issues.push({ path: formatPath(['organization', 'accounts', i, 'joinedAt']), message: r });
        return;
      }
      joinedAt = r;
    } else {
      joinedAt = typeof iam === 'function' ? new Date(Math.floor(now.getTime() / 1000) * 1000) : iam.accountCreatedAt;
    }
    accounts.push({
      accountId: a.accountId,
      name: a.name,
      email: a.email,
      status: a.status,
      parent: a.parent,
      ...(a.externalId !== undefined ? { externalId: a.externalId } : {}),
      roleMissing: a.roleMissing,
      joinedAt,
      iam,
    });
  });
  if (!parsed.success || issues.length > 0) throw new FixtureError(issues, 'Invalid sandbox organization fixture');
  const o = parsed.data.organization;
  return {
    organization: {
      id: o.id ?? defaultOrganizationId(o.managementAccountId),
      managementAccountId: o.managementAccountId,
      memberRoleName: o.memberRoleName,
      callerAccountId: o.callerAccountId ?? o.managementAccountId,
      ...(o.credentialLifetimeSeconds !== undefined ? { credentialLifetimeSeconds: o.credentialLifetimeSeconds } : {}),
      ...(o.seed !== undefined ? { seed: o.seed } : {}),
      faults: o.faults,
      ous: o.ous.map((ou) => ({ name: ou.name, parent: ou.parent })),
      accounts,
      parsedAt: now,
    },
  };
}

/** An account's resolved IAM fixture (resolving a generated account now). */
export const accountIamFixture = (account: SandboxOrganizationAccountFixture): SandboxFixture =>
  typeof account.iam === 'function' ? account.iam() : account.iam;

/** Either kind of fixture, in input or parsed form. */
export type AnySandboxFixture = SandboxFixture | FixtureInput | SandboxOrganizationFixture | OrganizationFixtureInput;

/** An organization fixture (input or parsed) has a top-level `organization`; a single-account one has `accountId`. */
export const isOrganizationFixture = (f: unknown): f is SandboxOrganizationFixture | OrganizationFixtureInput =>
  typeof f === 'object' && f !== null && 'organization' in f;

export const isParsedOrganizationFixture = (f: SandboxOrganizationFixture | OrganizationFixtureInput): f is SandboxOrganizationFixture =>
  (f as SandboxOrganizationFixture).organization?.parsedAt instanceof Date;

/** Reads a fixture file of either kind (an organization when the JSON has a top-level `organization`). */
export function loadSandboxFixture(path: string, now: Date = new Date()): SandboxFixture | SandboxOrganizationFixture {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new FixtureError([{ path: '(root)', message: `cannot read fixture file ${path}: ${(e as Error).message}` }]);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new FixtureError([{ path: '(root)', message: `invalid JSON: ${(e as Error).message} (in ${path})` }]);
  }
  try {
    return isOrganizationFixture(data) ? parseOrganizationFixture(data, now) : parseFixture(data, now);
  } catch (e) {
    if (e instanceof FixtureError) {
      throw new FixtureError(e.issues.map((i) => ({ ...i, message: `${i.message} (in ${path})` })), e.message.split(':\n')[0]);
    }
    throw e;
  }
}
