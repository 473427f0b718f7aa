import fs from 'node:fs';
import pino from 'pino';
import { AwsAccess } from '../../src/adapters/aws/aws-access';
import type { PrismaClient } from '../../src/generated/prisma/client';
import { startIamSandbox, type IamSandbox } from '../../src/sandbox/iam-sandbox.server';
import { buildOrganizationFixtureWithManifest, type OrganizationManifest } from '../../src/sandbox/organization-builder';
import { openScanFleet, type ScanFleet } from '../../src/scan-fleet';
import { AccountsService } from '../../src/services/accounts.service';
import { ASSUME_ROLE_DENIED } from '../../src/services/scan-jobs.service';
import { DEFAULT_CONTROL_SETTINGS } from '../../src/controls/no-access-keys-at-setup/control';
import { killAllWorkers, startWorker, until, type WorkerProcess } from '../support/workers';
import { resetDatabase, testPrisma } from '../support/stack';
import { makeTempDir } from '../support/test-resources';

/**
 * An organization-wide scan through two `keywarden worker` processes (the BUILT CLI) sharing the test
 * database, against the sandbox's organization over HTTP (IAM, STS AssumeRole, Organizations): each
 * account is scanned exactly once, its findings land in its own account, and one account whose role is
 * missing FAILs alone (ASSUME_ROLE_DENIED).
 */
const CREDENTIALS = { accessKeyId: 'AKIAFLEETTESTBASE000', secretAccessKey: 'test' };

let tmp: string;
let sandbox: IamSandbox;
let manifest: OrganizationManifest;
let prisma: PrismaClient;
let fleet: ScanFleet;
let accounts: AccountsService;

function worker(): WorkerProcess {
  return startWorker(tmp, 2, {
    AWS_ENDPOINT_URL_IAM: sandbox.url, AWS_ENDPOINT_URL_STS: sandbox.url, AWS_ENDPOINT_URL_ORGANIZATIONS: sandbox.url, AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
    KEYWARDEN_LOG_LEVEL: 'info', KEYWARDEN_SCAN_MODE: 'per-user-api',
  });
}

beforeAll(async () => {
  tmp = makeTempDir('kw-fleet-');
  prisma = testPrisma();
  await resetDatabase(prisma);
  // 7 accounts of 6 users: one suspended (kept, not scanned), one without the member role (AssumeRole denied).
  const built = buildOrganizationFixtureWithManifest({ accounts: 7, usersPerAccount: 6, seed: 7, suspendedAccounts: 1, roleMissingAccounts: 1, iamLatencyMs: 40 });
  manifest = built.manifest;
  sandbox = await startIamSandbox({ fixture: built.fixture });
  const aws = new AwsAccess({ region: 'us-east-1', credentials: CREDENTIALS, endpoints: { iam: sandbox.url, sts: sandbox.url, organizations: sandbox.url } });
  accounts = new AccountsService(prisma, aws);
  // This process syncs and enqueues only: the two CLI workers run the scans.
  fleet = await openScanFleet({
    url: process.env.DATABASE_URL!, prisma, accounts, scanRequest: { collect: { mode: 'PER_USER_API' }, control: DEFAULT_CONTROL_SETTINGS },
    config: { scanSchedule: 'off', workerConcurrency: 2, scanTimeoutSeconds: 60, retentionDays: undefined }, logger: pino({ level: 'silent' }),
  });
});

afterAll(async () => {
  killAllWorkers();
  await fleet?.close(2_000);
  await sandbox?.close();
  await prisma?.$disconnect();
  fs.rmSync(tmp, { recursive: true, force: true });
});

it('accounts sync lists every account with its OU path; a suspended one is kept and not scanned', async () => {
  const synced = await accounts.sync();
  expect(synced.total).toBe(7);
  const rows = await prisma.account.findMany({ orderBy: { accountId: 'asc' } });
  expect(rows.map((r) => r.accountId).sort()).toEqual([...manifest.accountIds].sort());
  // The OU path by the OUs' names (ListParents up to the root, DescribeOrganizationalUnit for each name).
  for (const r of rows) expect([r.accountId, r.organizationalUnitPath]).toEqual([r.accountId, manifest.parentOf[r.accountId]]);
  const [suspended] = manifest.suspended;
  const record = await accounts.get(suspended);
  expect(record).toMatchObject({ status: 'SUSPENDED', skipReason: expect.stringMatching(/SUSPENDED/i) });
  expect((await accounts.scannable()).map((a) => a.accountId)).not.toContain(suspended);
});

it('an org-wide scan through two worker processes scans each account exactly once, into its own account; a denied role FAILs only its account', async () => {
  const workers = [worker(), worker()];
  await until('both workers to start', async () => workers.every((w) => w.output().includes('scan worker running')));
  const { runId, scans, skipped } = await fleet.jobs.enqueue({ allAccounts: true, requestedBy: 'test' });
  const scannable = manifest.accountIds.filter((id) => !manifest.suspended.includes(id));
  expect(scans.map((s) => s.accountId).sort()).toEqual([...scannable].sort());
  expect(skipped).toEqual([]); // suspended accounts are not scannable: not asked for at all

  const ended = await until('every scan of the run to end', async () => {
    const rows = await prisma.scan.findMany({ where: { runId } });
    return rows.every((r) => ['COMPLETED', 'PARTIAL', 'FAILED', 'CANCELLED'].includes(r.status)) ? rows : null;
  });
  // Exactly one scan per account for the run, and no account scanned twice at once.
  expect(ended.map((s) => s.accountId).sort()).toEqual([...scannable].sort());
  const [denied] = manifest.roleMissing;
  for (const scan of ended) {
    if (scan.accountId === denied) {
      expect(scan.status).toBe('FAILED');
      expect((scan.errors as { code: string; message: string }[])[0]).toMatchObject({ code: ASSUME_ROLE_DENIED, message: expect.stringMatching(/role|trust/i) });
    } else {
      expect([scan.accountId, scan.status]).toEqual([scan.accountId, 'COMPLETED']);
    }
  }
  // Per-key findings in the right accounts: every finding of an account names one of that account's users.
  for (const accountId of scannable.filter((id) => id !== denied)) {
    const users = new Set(Object.values(manifest.usersOf(accountId).byCategory).flat());
    const findings = await prisma.finding.findMany({ where: { accountId }, select: { userName: true } });
    expect(findings.length).toBeGreaterThan(0);
    expect(findings.filter((f) => f.userName !== '<root_account>' && !users.has(f.userName))).toEqual([]);
  }
  expect(await prisma.finding.count({ where: { accountId: denied } })).toBe(0);
  // The member accounts were read through AssumeRole, in sessions named after their scans.
  const sessions = sandbox.assumeRoleCalls().filter((c) => c.outcome === 'Issued').map((c) => c.sessionName);
  for (const scan of ended.filter((s) => s.accountId !== manifest.managementAccountId && s.accountId !== denied)) {
    expect(sessions).toContain(`keywarden-scan-${scan.id}`);
  }
  // Both workers took part.
  for (const w of workers) expect(w.output()).toMatch(/account scan ended/);
  for (const w of workers) w.kill('SIGTERM');
}, 120_000);
