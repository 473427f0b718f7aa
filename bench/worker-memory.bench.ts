/**
 * npm run bench:worker-memory — the resident memory of one `keywarden worker` process (concurrency 1): idle after
 * start, then its peak (VmHWM) over a scan of a 500-user account and over a scan of a 10,000-user account (the
 * bench:scan mix; each on a fresh database, the sandbox in its own process, no IAM latency). WORKER_MEMORY_USERS=10000 measures
 * one account size only.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { AwsAccess } from '../src/adapters/aws/aws-access';
import { createPrismaClient } from '../src/adapters/db/prisma';
import { DEFAULT_CONTROL_SETTINGS } from '../src/controls/no-access-keys-at-setup/control';
import { openScanFleet } from '../src/scan-fleet';
import { AccountsService } from '../src/services/accounts.service';
import { withDatabase } from './database';
import { child, nextMessage } from './process';

const CLI = path.resolve(__dirname, '../src/cli.js');
const CREDENTIALS = { accessKeyId: 'AKIABENCHFLEETBASE00', secretAccessKey: 'bench' };

const memory = (pid: number) => {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0);
  return { rssMb: Math.round(kb('VmRSS') / 1024), peakMb: Math.round(kb('VmHWM') / 1024) };
};

async function main(): Promise<void> {
  const sizes = (process.env.WORKER_MEMORY_USERS ?? '500,10000').split(',').map(Number);
  for (const users of sizes) {
    const sandbox = child('fleet.sandbox.process.js');
    sandbox.send({ accounts: 1, usersPerAccount: users, seed: 42, iamLatencyMs: 0, assumeRoleLatencyMs: 0 });
    const { url } = await nextMessage<{ url: string }>(sandbox);
    try {
      await withDatabase(`keywarden_bench_worker_memory`, async (dbUrl) => {
        const prisma = createPrismaClient(dbUrl);
        const aws = new AwsAccess({ region: 'us-east-1', credentials: CREDENTIALS, endpoints: { iam: url, sts: url, organizations: url } });
        const accounts = new AccountsService(prisma, aws);
        const fleet = await openScanFleet({
          url: dbUrl, prisma, accounts, scanRequest: { collect: { mode: 'CREDENTIAL_REPORT' }, control: DEFAULT_CONTROL_SETTINGS },
          config: { scanSchedule: 'off', workerConcurrency: 1, scanTimeoutSeconds: 600, retentionDays: undefined }, logger: pino({ level: 'silent' }),
        });
        const worker = startWorker(dbUrl, url);
        try {
          await untilOutput(worker, 'scan worker running');
          await new Promise((r) => setTimeout(r, 3_000));
          if (users === sizes[0]) {
            const idle = memory(worker.pid!);
            console.log(`idle worker: RSS ${idle.rssMb} MB (peak so far ${idle.peakMb} MB)`);
          }
          await accounts.sync();
          const { runId } = await fleet.jobs.enqueue({ allAccounts: true, requestedBy: 'bench' });
          const started = Date.now();
          for (;;) {
            const scans = await prisma.scan.findMany({ where: { runId }, select: { status: true } });
            if (scans.every((s) => ['COMPLETED', 'PARTIAL', 'FAILED', 'CANCELLED'].includes(s.status))) {
              const m = memory(worker.pid!);
              console.log(`worker scanning one ${users}-user account: peak RSS ${m.peakMb} MB (RSS after ${m.rssMb} MB), ${((Date.now() - started) / 1000).toFixed(1)} s, ${scans.map((s) => s.status).join(', ')}`);
              break;
            }
            await new Promise((r) => setTimeout(r, 200));
          }
        } finally {
          worker.kill('SIGTERM');
          await fleet.close(5_000);
          await prisma.$disconnect();
        }
      });
    } finally {
      sandbox.disconnect();
    }
  }
}

function startWorker(dbUrl: string, sandboxUrl: string): ChildProcess & { output: string } {
  const proc = spawn(process.execPath, [CLI, 'worker', '--concurrency', '1'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      PATH: process.env.PATH, HOME: process.env.HOME, DATABASE_URL: dbUrl, NODE_ENV: 'production',
      AWS_ENDPOINT_URL_IAM: sandboxUrl, AWS_ENDPOINT_URL_STS: sandboxUrl, AWS_ENDPOINT_URL_ORGANIZATIONS: sandboxUrl, AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
      KEYWARDEN_SCAN_SCHEDULE: 'off', KEYWARDEN_LOG_LEVEL: 'warn',
      // To measure the worker under other V8 flags or with a profiler preloaded.
      ...(process.env.WORKER_NODE_OPTIONS ? { NODE_OPTIONS: process.env.WORKER_NODE_OPTIONS } : {}),
    },
  }) as ChildProcess & { output: string };
  proc.output = '';
  proc.stdout!.on('data', (d: Buffer) => (proc.output += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (proc.output += d.toString()));
  return proc;
}

async function untilOutput(proc: ChildProcess & { output: string }, text: string): Promise<void> {
  for (let i = 0; i < 600 && !proc.output.includes(text); i++) await new Promise((r) => setTimeout(r, 100));
  if (!proc.output.includes(text)) throw new Error(`worker did not start:\n${proc.output}`);
}

void main().catch((err) => {
  console.error(err);
  process.exit(1);
});
