/**
 * Sandbox fixture: the JSON description of a fake AWS account (users, keys, timestamps, faults).
 *
 * Time specs are ISO 8601 (a time of day needs a zone: `Z` or `+hh:mm`) or `now` followed by any
 * number of `+N`/`-N` terms with unit s|m|h|d (e.g. `now-400d+30s`), resolved against a given `now`.
 * All resolved times are truncated to whole seconds, because IAM stores and returns second precision.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { FaultRuleSchema, type FaultRule } from './faults';

// ---------------------------------------------------------------- time specs

const RELATIVE_SPEC = /^now((?:[+-]\d{1,9}[smhd])*)$/;
const RELATIVE_TERM = /([+-])(\d{1,9})([smhd])/g;
const ISO_SPEC = /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2}))?$/;
const UNIT_MS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };
// Dates JS can represent: ±8.64e15 ms.
const MAX_ABS_MS = 8.64e15;

const truncateToSecond = (ms: number): Date => new Date(Math.floor(ms / 1000) * 1000);

/** Resolves a time spec, or returns an error message. */
export function resolveTimeSpec(spec: string, now: Date): Date | string {
  const rel = RELATIVE_SPEC.exec(spec);
  if (rel) {
    let ms = now.getTime();
    for (const m of rel[1]!.matchAll(RELATIVE_TERM)) {
      ms += (m[1] === '-' ? -1 : 1) * Number(m[2]) * UNIT_MS[m[3]!]!;
    }
    if (!Number.isFinite(ms) || Math.abs(ms) > MAX_ABS_MS) return `time spec "${spec}" is out of range`;
    return truncateToSecond(ms);
  }
  if (ISO_SPEC.test(spec)) {
    const ms = Date.parse(spec);
    if (Number.isNaN(ms)) return `invalid date "${spec}"`;
    return truncateToSecond(ms);
  }
  return `invalid time spec "${spec}": expected ISO 8601 (e.g. 2022-04-17T14:59:38Z) or now[±N(s|m|h|d)]... (e.g. now-400d+30s)`;
}

export const TimeSpecSchema = z.string().superRefine((spec, ctx) => {
  const r = resolveTimeSpec(spec, new Date());
  if (typeof r === 'string') ctx.addIssue({ code: 'custom', message: r });
});

// ---------------------------------------------------------------- schemas (input form)

/** IAM user names: 1..64 of [\w+=,.@-]; commas are legal, so the credential report must quote them. */
export const USER_NAME_PATTERN = /^[\w+=,.@-]{1,64}$/;
// IAM tag key/value character set.
const TAG_CHARS = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;

export const UserNameSchema = z.string().superRefine((name, ctx) => {
  if (!USER_NAME_PATTERN.test(name)) {
    ctx.addIssue({
      code: 'custom',
      message: `invalid user name ${JSON.stringify(name)}: IAM allows 1 to 64 characters from [A-Za-z0-9_+=,.@-]`,
    });
  }
});

export const AccessKeyIdSchema = z
  .string()
  .regex(/^AKIA[A-Z0-9]{16}$/, { message: 'access key id must be AKIA followed by 16 characters [A-Z0-9]' });

export const FixtureAccessKeySchema = z.strictObject({
  /** Generated deterministically from the account, user and slot when absent. */
  accessKeyId: AccessKeyIdSchema.optional(),
  status: z.enum(['Active', 'Inactive']).default('Active'),
  createdAt: TimeSpecSchema,
  /** null/absent = never used. */
  lastUsed: z
    .strictObject({
      date: TimeSpecSchema,
      serviceName: z.string().min(1),
      region: z.string().min(1).default('N/A'),
    })
    .nullable()
    .optional(),
});

export const FixtureLoginProfileSchema = z.strictObject({
  createdAt: TimeSpecSchema,
  passwordResetRequired: z.boolean().default(false),
});

export const FixtureUserSchema = z.strictObject({
  userName: UserNameSchema,
  path: z
    .string()
    .max(512)
    .regex(/^(\/|\/[\u0021-\u007e]+\/)$/, { message: 'path must be "/" or start and end with "/"' })
    .default('/'),
  /** Generated deterministically (AIDA + 17 chars) when absent. */
  userId: z
    .string()
    .regex(/^AIDA[A-Z0-9]{12,124}$/, { message: 'user id must be AIDA followed by [A-Z0-9]' })
    .optional(),
  createdAt: TimeSpecSchema,
  passwordLastUsed: TimeSpecSchema.nullable().optional(),
  /** null/absent = no console password. */
  loginProfile: FixtureLoginProfileSchema.nullable().optional(),
  mfaActive: z.boolean().default(false),
  tags: z
    .record(
      z.string().min(1).max(128).regex(TAG_CHARS, { message: 'invalid tag key characters' }),
      z.string().max(256).regex(TAG_CHARS, { message: 'invalid tag value characters' }),
    )
    .default({})
    .refine((t) => Object.keys(t).length <= 50, { message: 'IAM allows at most 50 tags per user' }),
  accessKeys: z
    .array(FixtureAccessKeySchema)
    .max(2, { message: 'IAM allows at most 2 access keys per user' })
    .default([]),
});

export const FixtureRootSchema = z.strictObject({
  passwordEnabled: z.boolean().default(true),
  passwordLastUsed: TimeSpecSchema.nullable().optional(),
  mfaActive: z.boolean().default(false),
  /** A count (keys created with the account, Active, never used) or full key specs. */
  accessKeys: z
    .union([
      z.number().int().min(0).max(2),
      z.array(FixtureAccessKeySchema).max(2, { message: 'IAM allows at most 2 root access keys' }),
    ])
    .default(0),
});

const FixtureObjectSchema = z.strictObject({
  accountId: z.string().regex(/^\d{12}$/, { message: 'account id must be 12 digits' }),
  accountCreatedAt: TimeSpecSchema,
  /** User returned by GetUser (and used by ListAccessKeys etc.) when no UserName is given. */
  callerUserName: UserNameSchema.optional(),
  /** Seed for fault sampling. */
  seed: z.number().int().optional(),
  root: FixtureRootSchema.default({ passwordEnabled: true, mfaActive: false, accessKeys: 0 }),
  users: z.array(FixtureUserSchema).default([]),
  credentialReport: z
    .strictObject({
      generationDelayMs: z.number().int().min(0).max(3_600_000).default(0),
      /** Start with a COMPLETE report generated at this time (a snapshot of the fixture). */
      generatedAt: TimeSpecSchema.optional(),
    })
    .default({ generationDelayMs: 0 }),
  faults: z.array(FaultRuleSchema).default([]),
});

type FixtureWithoutAccountId = Omit<z.output<typeof FixtureObjectSchema>, 'accountId'>;

/** Rules across fields: unique names (case-insensitive) and key ids, a callerUserName that exists. */
function refineFixture(f: FixtureWithoutAccountId, ctx: z.RefinementCtx): void {
  // IAM user names are unique case-insensitively ("Alice" and "alice" cannot coexist).
  const seenNames = new Map<string, number>();
  const seenKeys = new Map<string, string>();
  const noteKey = (id: string | undefined, path: (string | number)[]) => {
    if (id === undefined) return;
    const prev = seenKeys.get(id);
    if (prev !== undefined) ctx.addIssue({ code: 'custom', path, message: `duplicate access key id ${id} (also at ${prev})` });
    else seenKeys.set(id, formatPath(path));
  };
  f.users.forEach((u, i) => {
    const lower = u.userName.toLowerCase();
    const prev = seenNames.get(lower);
    if (prev !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['users', i, 'userName'],
        message: `duplicate user name ${JSON.stringify(u.userName)} (same as users[${prev}]; IAM names are case-insensitive)`,
      });
    } else seenNames.set(lower, i);
    u.accessKeys.forEach((k, j) => noteKey(k.accessKeyId, ['users', i, 'accessKeys', j, 'accessKeyId']));
  });
  if (Array.isArray(f.root.accessKeys)) {
    f.root.accessKeys.forEach((k, j) => noteKey(k.accessKeyId, ['root', 'accessKeys', j, 'accessKeyId']));
  }
  if (f.callerUserName !== undefined && !seenNames.has(f.callerUserName.toLowerCase())) {
    ctx.addIssue({ code: 'custom', path: ['callerUserName'], message: `no user named ${JSON.stringify(f.callerUserName)}` });
  }
}

export const FixtureSchema = FixtureObjectSchema.superRefine(refineFixture);

/** An account's IAM inside an organization fixture: the single-account fixture without `accountId`. */
export const AccountIamFixtureSchema = FixtureObjectSchema.omit({ accountId: true }).superRefine(refineFixture);

export type FixtureInput = z.input<typeof FixtureSchema>;
export type AccountIamFixtureInput = z.input<typeof AccountIamFixtureSchema>;
export type FixtureUserInput = z.input<typeof FixtureUserSchema>;
export type FixtureAccessKeyInput = z.input<typeof FixtureAccessKeySchema>;

// ---------------------------------------------------------------- resolved form

export type AccessKeyStatus = 'Active' | 'Inactive';

export interface SandboxAccessKeyLastUsed {
  date: Date;
  serviceName: string;
  region: string;
}

export interface SandboxAccessKey {
  accessKeyId: string;
  status: AccessKeyStatus;
  createdAt: Date;
  lastUsed: SandboxAccessKeyLastUsed | null;
}

export interface SandboxLoginProfile {
  createdAt: Date;
  passwordResetRequired: boolean;
}

export interface SandboxTag {
  key: string;
  value: string;
}

export interface SandboxUserRecord {
  userName: string;
  path: string;
  userId: string;
  createdAt: Date;
  passwordLastUsed: Date | null;
  loginProfile: SandboxLoginProfile | null;
  mfaActive: boolean;
  tags: SandboxTag[];
  /** Ordered by CreateDate: that order defines the credential report's key slots 1 and 2. */
  accessKeys: SandboxAccessKey[];
}

export interface SandboxRoot {
  passwordEnabled: boolean;
  passwordLastUsed: Date | null;
  mfaActive: boolean;
  accessKeys: SandboxAccessKey[];
}

/** A validated fixture with every time resolved and every id filled in. */
export interface SandboxFixture {
  accountId: string;
  accountCreatedAt: Date;
  callerUserName?: string;
  seed?: number;
  root: SandboxRoot;
  users: SandboxUserRecord[];
  credentialReport: { generationDelayMs: number; generatedAt: Date | null };
  faults: FaultRule[];
}

export interface FixtureIssue {
  /** e.g. `users[2].accessKeys[0].createdAt` */
  path: string;
  message: string;
}

export class FixtureError extends Error {
  override readonly name = 'FixtureError';
  constructor(
    readonly issues: FixtureIssue[],
    title = 'Invalid sandbox fixture',
  ) {
    super(`${title}:\n${issues.map((i) => `  - ${i.path}: ${i.message}`).join('\n')}`);
  }
}

export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out === '' ? String(p) : `.${String(p)}`;
  }
  return out === '' ? '(root)' : out;
}

/** Flattens zod issues into `path: message` pairs (one per unknown field). */
export function issuesFromZod(error: z.ZodError): FixtureIssue[] {
  const out: FixtureIssue[] = [];
  for (const issue of error.issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) out.push({ path: formatPath([...issue.path, key]), message: 'unknown field' });
    } else {
      out.push({ path: formatPath(issue.path), message: issue.message });
    }
  }
  return out;
}

// ---------------------------------------------------------------- deterministic ids

// AWS ids use base32 ([A-Z2-7]) after the 4-letter prefix.
const ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

export function deterministicId(prefix: string, length: number, ...parts: string[]): string {
  const digest = createHash('sha256').update(parts.join('\u0000')).digest();
  let id = prefix;
  for (let i = 0; id.length < length; i++) id += ID_ALPHABET[digest[i % digest.length]! % 32];
  return id;
}

export const generateUserId = (accountId: string, userName: string): string =>
  deterministicId('AIDA', 21, accountId, 'user', userName.toLowerCase());

export const generateAccessKeyId = (accountId: string, owner: string, slot: number): string =>
  deterministicId('AKIA', 20, accountId, 'key', owner.toLowerCase(), String(slot));

// ---------------------------------------------------------------- resolution

type ParsedFixture = z.output<typeof FixtureSchema>;
type ParsedUser = z.output<typeof FixtureUserSchema>;
type ParsedKey = z.output<typeof FixtureAccessKeySchema>;

class Resolver {
  readonly issues: FixtureIssue[] = [];
  constructor(private readonly now: Date) {}

  time(spec: string, path: (string | number)[]): Date {
    const r = resolveTimeSpec(spec, this.now);
    if (typeof r === 'string') {
      this.issues.push({ path: formatPath(path), message: r });
      return new Date(0);
    }
    return r;
  }

  optionalTime(spec: string | null | undefined, path: (string | number)[]): Date | null {
    return spec == null ? null : this.time(spec, path);
  }

  key(accountId: string, owner: string, k: ParsedKey, slot: number, path: (string | number)[]): SandboxAccessKey {
    return {
      accessKeyId: k.accessKeyId ?? generateAccessKeyId(accountId, owner, slot),
      status: k.status,
      createdAt: this.time(k.createdAt, [...path, 'createdAt']),
      lastUsed: k.lastUsed
        ? {
            date: this.time(k.lastUsed.date, [...path, 'lastUsed', 'date']),
            serviceName: k.lastUsed.serviceName,
            region: k.lastUsed.region,
          }
        : null,
    };
  }

  user(accountId: string, u: ParsedUser, path: (string | number)[]): SandboxUserRecord {
    const keys = u.accessKeys.map((k, j) => this.key(accountId, u.userName, k, j, [...path, 'accessKeys', j]));
    return {
      userName: u.userName,
      path: u.path,
      userId: u.userId ?? generateUserId(accountId, u.userName),
      createdAt: this.time(u.createdAt, [...path, 'createdAt']),
      passwordLastUsed: this.optionalTime(u.passwordLastUsed, [...path, 'passwordLastUsed']),
      loginProfile: u.loginProfile
        ? {
            createdAt: this.time(u.loginProfile.createdAt, [...path, 'loginProfile', 'createdAt']),
            passwordResetRequired: u.loginProfile.passwordResetRequired,
          }
        : null,
      mfaActive: u.mfaActive,
      tags: Object.entries(u.tags).map(([key, value]) => ({ key, value })),
      accessKeys: sortKeys(keys),
    };
  }
}

/** Stable sort by CreateDate (IAM key slots follow creation order). */
export const sortKeys = (keys: SandboxAccessKey[]): SandboxAccessKey[] =>
  keys
    .map((k, i) => ({ k, i }))
    .sort((a, b) => a.k.createdAt.getTime() - b.k.createdAt.getTime() || a.i - b.i)
    .map((x) => x.k);

function resolveFixture(f: ParsedFixture, now: Date): SandboxFixture {
  const r = new Resolver(now);
  const accountCreatedAt = r.time(f.accountCreatedAt, ['accountCreatedAt']);
  const rootKeys = Array.isArray(f.root.accessKeys)
    ? f.root.accessKeys.map((k, j) => r.key(f.accountId, '<root>', k, j, ['root', 'accessKeys', j]))
    : Array.from({ length: f.root.accessKeys }, (_, j) => ({
        accessKeyId: generateAccessKeyId(f.accountId, '<root>', j),
        status: 'Active' as const,
        createdAt: accountCreatedAt,
        lastUsed: null,
      }));
  const fixture: SandboxFixture = {
    accountId: f.accountId,
    accountCreatedAt,
    ...(f.callerUserName !== undefined ? { callerUserName: f.callerUserName } : {}),
    ...(f.seed !== undefined ? { seed: f.seed } : {}),
    root: {
      passwordEnabled: f.root.passwordEnabled,
      passwordLastUsed: r.optionalTime(f.root.passwordLastUsed, ['root', 'passwordLastUsed']),
      mfaActive: f.root.mfaActive,
      accessKeys: sortKeys(rootKeys),
    },
    users: f.users.map((u, i) => r.user(f.accountId, u, ['users', i])),
    credentialReport: {
      generationDelayMs: f.credentialReport.generationDelayMs,
      generatedAt: r.optionalTime(f.credentialReport.generatedAt, ['credentialReport', 'generatedAt']),
    },
    faults: f.faults,
  };
  // Generated ids could in theory collide with explicit ones.
  const seen = new Set<string>();
  const allKeys = [
    ...fixture.root.accessKeys.map((k) => ({ k, where: 'root.accessKeys' })),
    ...fixture.users.flatMap((u, i) => u.accessKeys.map((k) => ({ k, where: `users[${i}].accessKeys` }))),
  ];
  for (const { k, where } of allKeys) {
    if (seen.has(k.accessKeyId)) r.issues.push({ path: where, message: `duplicate access key id ${k.accessKeyId}` });
    seen.add(k.accessKeyId);
  }
  if (r.issues.length > 0) throw new FixtureError(r.issues);
  return fixture;
}

/** A fixture given as an object, or as JSON text (a bad one is a FixtureError at the root). */
export function fixtureData(json: unknown): unknown {
  if (typeof json !== 'string') return json;
  try {
    return JSON.parse(json);
  } catch (e) {
    throw new FixtureError([{ path: '(root)', message: `invalid JSON: ${(e as Error).message}` }]);
  }
}

/**
 * Validates a fixture (object or JSON text) and resolves its time specs against `now`.
 * Throws FixtureError whose message names the path of each bad field.
 */
export function parseFixture(json: unknown, now: Date = new Date()): SandboxFixture {
  const parsed = FixtureSchema.safeParse(fixtureData(json));
  if (!parsed.success) throw new FixtureError(issuesFromZod(parsed.error));
  return resolveFixture(parsed.data, now);
}

/** Validates and resolves a single user (e.g. for SandboxState.addUser). */
export function parseFixtureUser(accountId: string, json: unknown, now: Date = new Date()): SandboxUserRecord {
  const parsed = FixtureUserSchema.safeParse(json);
  if (!parsed.success) throw new FixtureError(issuesFromZod(parsed.error));
  const r = new Resolver(now);
  const user = r.user(accountId, parsed.data, []);
  if (r.issues.length > 0) throw new FixtureError(r.issues);
  return user;
}

/** Validates and resolves a single access key spec. */
export function parseFixtureAccessKey(
  accountId: string,
  owner: string,
  slot: number,
  json: unknown,
  now: Date = new Date(),
): SandboxAccessKey {
  const parsed = FixtureAccessKeySchema.safeParse(json);
  if (!parsed.success) throw new FixtureError(issuesFromZod(parsed.error));
  const r = new Resolver(now);
  const key = r.key(accountId, owner, parsed.data, slot, []);
  if (r.issues.length > 0) throw new FixtureError(r.issues);
  return key;
}

export function loadFixture(path: string, now: Date = new Date()): SandboxFixture {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new FixtureError([{ path: '(root)', message: `cannot read fixture file ${path}: ${(e as Error).message}` }]);
  }
  try {
    return parseFixture(text, now);
  } catch (e) {
    if (e instanceof FixtureError) {
      throw new FixtureError(e.issues.map((i) => ({ ...i, message: `${i.message} (in ${path})` })));
    }
    throw e;
  }
}

/** A parsed fixture has Date objects where the input form has time-spec strings. */
export const isParsedFixture = (f: SandboxFixture | FixtureInput): f is SandboxFixture =>
  (f as SandboxFixture).accountCreatedAt instanceof Date;
