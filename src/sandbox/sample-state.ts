/**
 * The built-in sandbox's sample organization, kept between runs in `<data dir>/sandbox.json`, so that a key
 * deactivated through the API stays deactivated at the next `npm start`, and an account nobody changed reads
 * the same at every start (the same timestamps: no new history rows).
 *
 * The file holds the instant the sample's relative times (`now-400d`) were first resolved, and the IAM state
 * of each account that an IAM call changed since (users, keys, root), in the fixture's resolved form.
 * Accounts never changed are resolved again from the sample against that instant. Credential reports are
 * not kept: IAM generates a new one when asked. `keywarden sandbox reset` deletes the file.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { SandboxFixture, SandboxAccessKey, SandboxUserRecord } from './fixture';
import type { IamSandboxHooks } from './iam-sandbox.server';
import { parseOrganizationFixture, type SandboxOrganizationFixture } from './organization-fixture';
import { sampleOrganizationFixture } from './sample-organization';
import type { SandboxState } from './state';

const FORMAT = 1;

interface StoredSample {
  format: typeof FORMAT;
  /** ISO instant the sample's time specs are resolved against. */
  resolvedAt: string;
  /** Account id → its IAM state, dates as ISO strings. */
  accounts: Record<string, unknown>;
}

export interface PersistedSample {
  fixture: SandboxOrganizationFixture;
  /** Saves an account's state after each IAM call that changes it. */
  hooks: IamSandboxHooks;
  file: string;
  /** True when an earlier run's state was read (false: first run, or after a reset). */
  restored: boolean;
}

export const sampleStateFile = (dataDir: string): string => path.join(dataDir, 'sandbox.json');

/** Reads (or, the first time, creates) the sample organization's state under dataDir. */
export function persistedSampleOrganization(dataDir: string, now: Date = new Date()): PersistedSample {
  const file = sampleStateFile(dataDir);
  const stored = readStored(file);
  const doc: StoredSample = stored ?? { format: FORMAT, resolvedAt: new Date(Math.floor(now.getTime() / 1000) * 1000).toISOString(), accounts: {} };
  const fixture = parseOrganizationFixture(sampleOrganizationFixture, new Date(doc.resolvedAt));
  for (const account of fixture.organization.accounts) {
    const saved = doc.accounts[account.accountId];
    if (saved && typeof account.iam !== 'function') account.iam = reviveAccount(saved, account.iam);
  }
  if (!stored) write(file, doc);
  return {
    fixture,
    file,
    restored: stored !== null,
    hooks: {
      afterAction: (action, state) => {
        if (READ_ONLY.test(action)) return;
        doc.accounts[state.accountId] = storedAccount(state);
        write(file, doc);
      },
    },
  };
}

/** Deletes the saved state: the next run starts from the sample as shipped. Returns whether there was one. */
export function resetSampleState(dataDir: string): boolean {
  const file = sampleStateFile(dataDir);
  if (!fs.existsSync(file)) return false;
  fs.rmSync(file);
  return true;
}

// Reading IAM, or asking for a credential report (kept out of the file), changes nothing worth keeping.
const READ_ONLY = /^(Get|List|Generate)/;

function readStored(file: string): StoredSample | null {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  let doc: Partial<StoredSample>;
  try {
    doc = JSON.parse(text) as Partial<StoredSample>;
  } catch {
    doc = {};
  }
  if (doc.format !== FORMAT || typeof doc.resolvedAt !== 'string' || Number.isNaN(Date.parse(doc.resolvedAt)) || typeof doc.accounts !== 'object' || !doc.accounts) {
    throw new Error(`${file} is not the sandbox state this version writes: run \`npx keywarden sandbox reset\` to start the sandbox over`);
  }
  return doc as StoredSample;
}

/** Written whole to a temporary file, then renamed: a crash mid-write leaves the previous state. */
function write(file: string, doc: StoredSample): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(doc, null, 1) + '\n');
  fs.renameSync(tmp, file);
}

function storedAccount(state: SandboxState): Omit<SandboxFixture, 'credentialReport' | 'faults' | 'seed'> {
  return { accountId: state.accountId, accountCreatedAt: state.accountCreatedAt, callerUserName: state.callerUserName, root: state.root, users: state.listUsers() };
}

const date = (v: unknown): Date => new Date(v as string);
const optionalDate = (v: unknown): Date | null => (v == null ? null : new Date(v as string));

function reviveKey(k: SandboxAccessKey): SandboxAccessKey {
  return { ...k, createdAt: date(k.createdAt), lastUsed: k.lastUsed ? { ...k.lastUsed, date: date(k.lastUsed.date) } : null };
}

function reviveUser(u: SandboxUserRecord): SandboxUserRecord {
  return {
    ...u,
    createdAt: date(u.createdAt),
    passwordLastUsed: optionalDate(u.passwordLastUsed),
    loginProfile: u.loginProfile ? { ...u.loginProfile, createdAt: date(u.loginProfile.createdAt) } : null,
    tags: u.tags.map((t) => ({ ...t })),
    accessKeys: u.accessKeys.map(reviveKey),
  };
}

/** The saved state over the sample's own fixture (which keeps its seed, fault rules and report settings). */
function reviveAccount(saved: unknown, shipped: SandboxFixture): SandboxFixture {
  const s = saved as ReturnType<typeof storedAccount>;
  return {
    ...shipped,
    accountCreatedAt: date(s.accountCreatedAt),
    callerUserName: s.callerUserName,
    root: { ...s.root, passwordLastUsed: optionalDate(s.root.passwordLastUsed), accessKeys: s.root.accessKeys.map(reviveKey) },
    users: s.users.map(reviveUser),
  };
}
