import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import type { PrismaClient } from '../../src/generated/prisma/client';
import { startIamSandbox, type IamSandbox } from '../../src/sandbox/iam-sandbox.server';
import { openScanFleet, type ScanFleet } from '../../src/scan-fleet';
import { AwsAccess } from '../../src/adapters/aws/aws-access';
import { AccountsService } from '../../src/services/accounts.service';
import { DEFAULT_CONTROL_SETTINGS } from '../../src/controls/no-access-keys-at-setup/control';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy';
import { killAllWorkers, startWorker, until, type WorkerProcess } from '../support/workers';
import { resetDatabase, testPrisma } from '../support/stack';

/**
 * The database goes away under a running `keywarden worker` (the BUILT CLI) for a few seconds: a TCP proxy between
 * the worker and the real PostgreSQL resets every connection, and refuses new ones, while the worker's scan is
 * reading IAM and when it comes to store it. Once the database is back: no scan is left RUNNING, the job runs again
 * and the account gets one new completed scan (no attempt stored twice), the same worker process goes on to run
 * the next scan, and nothing crashed or went unhandled. This test process reaches the database directly.
 */
const ACCOUNT = '555566668888';
const OUTAGE_MS = 5_000;

let tmp: string;
let sandbox: IamSandbox;
let prisma: PrismaClient;
let fleet: ScanFleet;
let proxy: TcpProxy;
let worker: WorkerProcess;

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kw-outage-'));
  prisma = testPrisma();
  await resetDatabase(prisma);
  sandbox = await startIamSandbox({
    fixture: {
      accountId: ACCOUNT, accountCreatedAt: 'now-900d',
      users: Array.from({ length: 6 }, (_, i) => ({ userName: `u${i}`, createdAt: 'now-300d', loginProfile: { createdAt: 'now-300d' }, accessKeys: [{ status: 'Active' as const, createdAt: 'now-300d+1m' }] })),
    },
  });
  const aws = new AwsAccess({ region: 'us-east-1', credentials: { accessKeyId: 'AKIATESTTESTTESTTEST', secretAccessKey: 'test' }, endpoints: { iam: sandbox.url, sts: sandbox.url } });
  fleet = await openScanFleet({
    url: process.env.DATABASE_URL!, prisma, accounts: new AccountsService(prisma, aws),
    scanRequest: { collect: { mode: 'PER_USER_API' }, control: DEFAULT_CONTROL_SETTINGS },
    config: { scanSchedule: 'off', workerConcurrency: 1, scanTimeoutSeconds: 60, scanRetryDelaySeconds: 1, retentionDays: undefined }, logger: pino({ level: 'silent' }),
  });
  const db = new URL(process.env.DATABASE_URL!);
  proxy = await startTcpProxy({ host: db.hostname, port: Number(db.port || 5432) });
  worker = startWorker(tmp, 1, {
    DATABASE_URL: proxy.urlFor(process.env.DATABASE_URL!),
    AWS_ENDPOINT_URL_IAM: sandbox.url, AWS_ENDPOINT_URL_STS: sandbox.url, AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'AKIATESTTESTTESTTEST', AWS_SECRET_ACCESS_KEY: 'test',
    // A job is taken for lost after 60 s: the recovery below must not wait for that.
    KEYWARDEN_SCAN_TIMEOUT_SECONDS: '60', KEYWARDEN_SCAN_RETRY_DELAY_SECONDS: '1', KEYWARDEN_LOG_LEVEL: 'warn',
  });
  await until('the worker to start', async () => worker.output().includes('scan worker running'));
});

afterAll(async () => {
  killAllWorkers();
  await fleet?.close(2_000);
  await proxy?.close();
  await sandbox?.close();
  await prisma?.$disconnect();
  fs.rmSync(tmp, { recursive: true, force: true });
});

it('a database outage mid-scan: no scan stays RUNNING, the job is scanned again once, and the worker goes on', async () => {
  // Each GetLoginProfile takes 500 ms: the scan reads IAM for about 3 s, so it comes to store during the outage.
  sandbox.setFaults([{ operation: 'GetLoginProfile', latencyMs: 500 }]);
  const { scans: [queued] } = await fleet.jobs.enqueue({ requestedBy: 'test' });
  await until('the scan to run', async () => {
    const scan = await prisma.scan.findUnique({ where: { id: queued.id } });
    return scan?.status === 'RUNNING' && (scan.progress as { usersDone?: number } | null)?.usersDone != null;
  });
  proxy.cut();
  await new Promise((r) => setTimeout(r, OUTAGE_MS));
  proxy.restore();
  sandbox.setFaults([]);
  expect(proxy.resets).toBeGreaterThan(0);

  const completed = await until('the job to run again and complete', async () =>
    prisma.scan.findFirst({ where: { jobId: queued.jobId, status: 'COMPLETED' } }), 25_000).catch(async (err: Error) => {
    const scans = await prisma.scan.findMany({ select: { status: true, errors: true } });
    throw new Error(`${err.message}; scans: ${JSON.stringify(scans)}; worker (exit ${worker.exitCode}):\n${worker.output()}`);
  });
  const attempts = await prisma.scan.findMany({ where: { jobId: queued.jobId }, orderBy: { queuedAt: 'asc' } });
  // The attempt the outage broke is FAILED, not RUNNING, and stored nothing; one later attempt completed.
  expect(attempts.map((s) => s.status)).toEqual(['FAILED', 'COMPLETED']);
  expect(attempts[0]!.observedAt).toBeNull();
  // It says what happened (the database closed the connection), written once the database was back.
  expect((attempts[0]!.errors as { message: string }[])[0]!.message).toMatch(/closed the connection|ECONNRESET|terminated|reach database/i);
  expect(completed.id).toBe(attempts[1]!.id);
  expect(await prisma.scan.count({ where: { accountId: ACCOUNT, status: { in: ['COMPLETED', 'PARTIAL'] } } })).toBe(1);
  expect(await prisma.scan.count({ where: { status: 'RUNNING' } })).toBe(0);

  // The same worker process runs the next scan.
  const { scans: [next] } = await fleet.jobs.enqueue({ requestedBy: 'test' });
  const ended = await until('the next scan to complete', async () => {
    const scan = await prisma.scan.findUnique({ where: { id: next.id } });
    return scan && scan.status !== 'QUEUED' && scan.status !== 'RUNNING' ? scan : null;
  }, 20_000);
  expect(ended.status).toBe('COMPLETED');
  expect(worker.exitCode).toBeNull();
  expect(worker.output()).not.toMatch(/unhandled|uncaught|TypeError|ReferenceError/i);
}, 60_000);
