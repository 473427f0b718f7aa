import fs from 'node:fs';
import pino from 'pino';
import type { PrismaClient } from '../../src/generated/prisma/client';
import { startIamSandbox, type IamSandbox } from '../../src/sandbox/iam-sandbox.server';
import { openScanFleet, type ScanFleet } from '../../src/scan-fleet';
import { AwsAccess } from '../../src/adapters/aws/aws-access';
import { AccountsService } from '../../src/services/accounts.service';
import { DEFAULT_CONTROL_SETTINGS } from '../../src/controls/no-access-keys-at-setup/control';
import { killAllWorkers, startWorker, until, type WorkerProcess } from '../support/workers';
import { resetDatabase, testPrisma } from '../support/stack';
import { makeTempDir } from '../support/test-resources';

/**
 * `keywarden worker` processes (the BUILT CLI) sharing the test database: a worker SIGKILLed mid-scan leaves
 * no half-written scan; its scan is FAILED (INTERRUPTED) and the job runs again on the other worker.
 */
const ACCOUNT = '555566667777';

let tmp: string;
let sandbox: IamSandbox;
let prisma: PrismaClient;
let fleet: ScanFleet;

function worker(): WorkerProcess {
  return startWorker(tmp, 1, {
    AWS_ENDPOINT_URL_IAM: sandbox.url, AWS_ENDPOINT_URL_STS: sandbox.url, AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'AKIATESTTESTTESTTEST', AWS_SECRET_ACCESS_KEY: 'test',
    KEYWARDEN_SCAN_TIMEOUT_SECONDS: '6', KEYWARDEN_SCAN_RETRY_DELAY_SECONDS: '1', KEYWARDEN_LOG_LEVEL: 'warn',
  });
}

beforeAll(async () => {
  tmp = makeTempDir('kw-worker-');
  prisma = testPrisma();
  await resetDatabase(prisma);
  sandbox = await startIamSandbox({
    fixture: {
      accountId: ACCOUNT, accountCreatedAt: 'now-900d',
      users: Array.from({ length: 8 }, (_, i) => ({ userName: `u${i}`, createdAt: 'now-300d', loginProfile: { createdAt: 'now-300d' }, accessKeys: [{ status: 'Active' as const, createdAt: 'now-300d+1m' }] })),
    },
  });
  const aws = new AwsAccess({ region: 'us-east-1', credentials: { accessKeyId: 'AKIATESTTESTTESTTEST', secretAccessKey: 'test' }, endpoints: { iam: sandbox.url, sts: sandbox.url } });
  // This process only enqueues (no worker here): the scans run in the CLI workers.
  fleet = await openScanFleet({
    url: process.env.DATABASE_URL!, prisma, accounts: new AccountsService(prisma, aws),
    scanRequest: { collect: { mode: 'PER_USER_API' }, control: DEFAULT_CONTROL_SETTINGS },
    config: { scanSchedule: 'off', workerConcurrency: 1, scanTimeoutSeconds: 6, scanRetryDelaySeconds: 1, retentionDays: undefined }, logger: pino({ level: 'silent' }),
  });
});

afterAll(async () => {
  killAllWorkers();
  await fleet?.close(2_000);
  await sandbox?.close();
  await prisma?.$disconnect();
  fs.rmSync(tmp, { recursive: true, force: true });
});

it('a worker SIGKILLed mid-scan: its scan is FAILED (INTERRUPTED), the job runs again on the other worker, and one scan completes', async () => {
  // Each GetLoginProfile takes 600 ms: one account scan takes about 5 s, long enough to kill its worker mid-way.
  sandbox.setFaults([{ operation: 'GetLoginProfile', latencyMs: 600 }]);
  const first = worker();
  await until('the first worker to start', async () => first.output().includes('scan worker running'));
  const { scans: [queued] } = await fleet.jobs.enqueue({ requestedBy: 'test' });
  const running = await until('the scan to run on the first worker', async () => {
    const scan = await prisma.scan.findUnique({ where: { id: queued.id } });
    return scan?.status === 'RUNNING' && (scan.progress as { usersDone?: number } | null)?.usersDone != null ? scan : null;
  });
  expect(running.status).toBe('RUNNING');
  first.kill('SIGKILL');
  sandbox.setFaults([]);
  const second = worker();

  const interrupted = await until('the killed scan to be marked', async () => {
    const scan = await prisma.scan.findUnique({ where: { id: queued.id } });
    return scan?.status === 'FAILED' ? scan : null;
  });
  expect((interrupted.errors as { code: string }[])[0].code).toBe('INTERRUPTED');
  const completed = await until('the job to run again and complete', async () =>
    prisma.scan.findFirst({ where: { jobId: queued.jobId, status: 'COMPLETED' } }),
  );
  expect(completed.id).not.toBe(queued.id);
  const attempts = await prisma.scan.findMany({ where: { jobId: queued.jobId }, orderBy: { queuedAt: 'asc' } });
  expect(attempts.map((s) => s.status)).toEqual(['FAILED', 'COMPLETED']);
  // Nothing half-written: the interrupted scan stored no state, and the account has exactly one completed scan.
  expect(interrupted.observedAt).toBeNull();
  expect(await prisma.scan.count({ where: { accountId: ACCOUNT, status: 'COMPLETED' } })).toBe(1);
  second.kill('SIGTERM');
}, 90_000);
