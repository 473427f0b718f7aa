/**
 * npm run bench:fleet — an organization of 200 accounts x 500 users (the bench:scan mix per account) in the
 * sandbox, in its own process, with 25 ms per IAM call and 50 ms per AssumeRole. An org-wide scan, then an
 * unchanged rescan, through one `keywarden worker` process and then two (each 4 accounts at a time), each
 * on a fresh database. Then 90 days of org history (a scan of every account every 6 hours) and the
 * org-wide trend and summary over HTTP GraphQL. Figures and targets are printed; a missed target exits 1.
 * BENCH_FLEET_PART=reads runs only the reads (the organization synced, no scans).
 */
import 'reflect-metadata';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { Client } from 'pg';
import { AwsAccess } from '../src/adapters/aws/aws-access';
import { createPrismaClient } from '../src/adapters/db/prisma';
import { DEFAULT_CONTROL_SETTINGS } from '../src/controls/no-access-keys-at-setup/control';
import { openScanFleet } from '../src/scan-fleet';
import { AccountsService } from '../src/services/accounts.service';
import { withDatabase } from './database';
import { child, nextMessage } from './process';
import { gql } from './graphql.client';
import { reportTargets } from './report';

const ACCOUNTS = Number(process.env.BENCH_ACCOUNTS ?? 200);
const USERS = Number(process.env.BENCH_USERS_PER_ACCOUNT ?? 500);
const WORKER_CONCURRENCY = 4;
const CLI = path.resolve(__dirname, '../src/cli.js');
const CREDENTIALS = { accessKeyId: 'AKIABENCHFLEETBASE00', secretAccessKey: 'bench' };
const TOKEN = 'bench-bootstrap-token-0123456789abcdef';

interface Run {
  wallMs: number;
  iamCalls: number;
  assumeRoles: number;
  queueLatencyP50Ms: number;
  peakRssMb: number[];
  statuses: Record<string, number>;
}

const p50 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

async function main(): Promise<void> {
  const sandbox = child('fleet.sandbox.process.js');
  sandbox.send({ accounts: ACCOUNTS, usersPerAccount: USERS, seed: 42, iamLatencyMs: 25, assumeRoleLatencyMs: 50 });
  sandbox.setMaxListeners(0); // one exit listener per question below
  const { url, budget } = await nextMessage<{ url: string; budget: number }>(sandbox);
  const sandboxCalls = async () => {
    sandbox.send({ calls: true });
    return nextMessage<{ calls: number; assumeRole: number }>(sandbox);
  };
  console.log(`organization: ${ACCOUNTS} accounts x ${USERS} users; 25 ms per IAM call, 50 ms per AssumeRole; workers run ${WORKER_CONCURRENCY} accounts at a time`);
  console.log(`  IAM call budget: sum of per-account budgets ${budget} + ${ACCOUNTS} AssumeRole + Organizations pages\n`);
  if (process.env.BENCH_FLEET_PART === 'reads') return readsOnly(url, () => sandbox.disconnect());
  const results: Record<string, { first: Run; rescan: Run }> = {};
  try {
    for (const workers of [1, 2]) {
      results[workers] = await withDatabase(`keywarden_bench_fleet${workers}`, async (dbUrl) => {
        const prisma = createPrismaClient(dbUrl);
        const aws = new AwsAccess({ region: 'us-east-1', credentials: CREDENTIALS, endpoints: { iam: url, sts: url, organizations: url } });
        const accounts = new AccountsService(prisma, aws);
        const fleet = await openScanFleet({
          url: dbUrl, prisma, accounts, scanRequest: { collect: { mode: 'CREDENTIAL_REPORT' }, control: DEFAULT_CONTROL_SETTINGS },
          config: { scanSchedule: 'off', workerConcurrency: WORKER_CONCURRENCY, scanTimeoutSeconds: 600, retentionDays: undefined }, logger: pino({ level: 'silent' }),
        });
        const procs = Array.from({ length: workers }, () => startWorker(dbUrl, url));
        try {
          await Promise.all(procs.map((p) => untilOutput(p, 'scan worker running')));
          const before = await sandboxCalls();
          await accounts.sync();
          const first = await orgScan(prisma, fleet, procs, before.calls, sandboxCalls);
          const rescan = await orgScan(prisma, fleet, procs, (await sandboxCalls()).calls, sandboxCalls);
          print(`${workers} worker${workers > 1 ? 's' : ''}: first org-wide scan`, first);
          print(`${workers} worker${workers > 1 ? 's' : ''}: unchanged rescan`, rescan);
          if (workers === 2) await readBench(dbUrl);
          return { first, rescan };
        } finally {
          for (const p of procs) p.kill('SIGTERM');
          await fleet.close(5_000);
          await prisma.$disconnect();
        }
      });
    }
  } finally {
    sandbox.disconnect();
  }
  const ratio = results[2]!.first.wallMs / results[1]!.first.wallMs;
  const checks: [string, boolean][] = [
    [`first scan, one worker ${(results[1]!.first.wallMs / 1000).toFixed(1)} s < 120 s`, results[1]!.first.wallMs < 120_000],
    [`IAM calls ${results[1]!.first.iamCalls} <= budget ${budget} + ${ACCOUNTS} AssumeRole + pages`, results[1]!.first.iamCalls <= budget + ACCOUNTS + Math.ceil(ACCOUNTS / 20) * 4 + 10],
    [`peak RSS per worker ${Math.max(...results[1]!.first.peakRssMb, ...results[2]!.first.peakRssMb)} MB < 300 MB`, Math.max(...results[1]!.first.peakRssMb, ...results[2]!.first.peakRssMb) < 300],
    [`two workers / one worker wall ${ratio.toFixed(2)} <= 0.65`, ratio <= 0.65],
    ...readChecks,
  ];
  console.log('\ntargets:');
  reportTargets(checks);
}

/** BENCH_FLEET_PART=reads: only the org-wide reads, over the synced organization's synthetic 90-day history. */
async function readsOnly(sandboxUrl: string, done: () => void): Promise<void> {
  try {
    await withDatabase('keywarden_bench_fleet_reads', async (dbUrl) => {
      const prisma = createPrismaClient(dbUrl);
      const aws = new AwsAccess({ region: 'us-east-1', credentials: CREDENTIALS, endpoints: { iam: sandboxUrl, sts: sandboxUrl, organizations: sandboxUrl } });
      await new AccountsService(prisma, aws).sync();
      await prisma.$disconnect();
      await readBench(dbUrl);
    });
  } finally {
    done();
  }
  console.log('\ntargets:');
  reportTargets(readChecks);
}

function startWorker(dbUrl: string, sandboxUrl: string): ChildProcess & { output: string } {
  const proc = spawn(process.execPath, [CLI, 'worker', '--concurrency', String(WORKER_CONCURRENCY)], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      PATH: process.env.PATH, HOME: process.env.HOME, DATABASE_URL: dbUrl, NODE_ENV: 'production',
      AWS_ENDPOINT_URL_IAM: sandboxUrl, AWS_ENDPOINT_URL_STS: sandboxUrl, AWS_ENDPOINT_URL_ORGANIZATIONS: sandboxUrl, AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
      KEYWARDEN_SCAN_SCHEDULE: 'off', KEYWARDEN_LOG_LEVEL: 'warn',
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

/** Peak resident memory of a process so far (VmHWM), in MB. */
function peakRssMb(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Math.round(Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024);
}

async function orgScan(
  prisma: ReturnType<typeof createPrismaClient>,
  fleet: Awaited<ReturnType<typeof openScanFleet>>,
  procs: ChildProcess[],
  callsBefore: number,
  sandboxCalls: () => Promise<{ calls: number; assumeRole: number }>,
): Promise<Run> {
  const assumeBefore = (await sandboxCalls()).assumeRole;
  const started = Date.now();
  const { runId } = await fleet.jobs.enqueue({ allAccounts: true, requestedBy: 'bench' });
  let scans;
  for (;;) {
    scans = await prisma.scan.findMany({ where: { runId }, select: { status: true, queuedAt: true, startedAt: true, finishedAt: true } });
    if (scans.every((s) => ['COMPLETED', 'PARTIAL', 'FAILED', 'CANCELLED'].includes(s.status))) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  const lastFinished = Math.max(...scans.map((s) => s.finishedAt?.getTime() ?? 0));
  const after = await sandboxCalls();
  const statuses: Record<string, number> = {};
  for (const s of scans) statuses[s.status] = (statuses[s.status] ?? 0) + 1;
  return {
    wallMs: lastFinished - started,
    iamCalls: after.calls - callsBefore,
    assumeRoles: after.assumeRole - assumeBefore,
    queueLatencyP50Ms: p50(scans.filter((s) => s.startedAt).map((s) => s.startedAt!.getTime() - s.queuedAt.getTime())),
    peakRssMb: procs.map((p) => peakRssMb(p.pid!)),
    statuses,
  };
}

function print(what: string, r: Run): void {
  console.log(
    `${what}: ${(r.wallMs / 1000).toFixed(1)} s wall, ${r.iamCalls} sandbox calls (${r.assumeRoles} AssumeRole), queue latency p50 ${(r.queueLatencyP50Ms / 1000).toFixed(1)} s, ` +
      `peak RSS per worker ${r.peakRssMb.join(', ')} MB, ${JSON.stringify(r.statuses)}`,
  );
}

const readChecks: [string, boolean][] = [];

/** 90 days of history for every account (a summary row every 6 hours), then the org-wide reads over HTTP. */
async function readBench(dbUrl: string): Promise<void> {
  const db = new Client({ connectionString: dbUrl });
  await db.connect();
  try {
    const { rowCount } = await db.query(`
      INSERT INTO scan (id, account_id, status, source, queued_at, started_at, finished_at, observed_at, pass_count, fail_count,
        not_applicable_count, error_count, opened_count, resolved_count, resolve_seconds_total, settings)
      SELECT gen_random_uuid(), a.account_id, 'COMPLETED', 'CREDENTIAL_REPORT', t, t, t + interval '20 seconds', t,
        300 + (h % 7), 25 + (h % 5), 170, 0, h % 3, h % 2, (h % 2) * 3600, '{}'
      FROM account a CROSS JOIN generate_series(now() - interval '90 days' - interval '1 day', now() - interval '1 day', interval '6 hours') WITH ORDINALITY AS g(t, h)`);
    // The rollup (org_hour) was rewritten by the insert's trigger, in its transaction.
    await db.query('VACUUM ANALYZE scan, org_hour');
    console.log(`\norg history: ${rowCount} scan summaries (every account every 6 hours over 90 days)`);
  } finally {
    await db.end();
  }
  // The server in its own process, as deployed (bench:history does the same), called over one keep-alive connection.
  const graphqlServer = child('graphql.process.js');
  graphqlServer.send({ databaseUrl: dbUrl, token: TOKEN });
  const server = await nextMessage<{ url: string }>(graphqlServer);
  try {
    const time = async (query: string, variables: Record<string, unknown>) => {
      const ms: number[] = [];
      for (let i = 0; i < 60; i++) {
        const t = performance.now();
        await gql(server.url, TOKEN, query, variables);
        if (i >= 10) ms.push(performance.now() - t);
      }
      return p50(ms);
    };
    const now = Date.now();
    const trend = await time('query($from: DateTime!, $to: DateTime!) { complianceTrend(from: $from, to: $to, interval: DAY) { at pass fail error opened resolved } }', {
      from: new Date(now - 90 * 86_400_000).toISOString(), to: new Date(now).toISOString(),
    });
    const summary = await time('{ complianceSummary { accounts counts { pass fail notApplicable error } compliant failingUsers } }', {});
    console.log(`org-wide complianceTrend 90 d by DAY p50 ${trend.toFixed(1)} ms; org-wide complianceSummary p50 ${summary.toFixed(1)} ms (GraphQL over HTTP)`);
    readChecks.push([`org-wide complianceTrend 90 d DAY p50 ${trend.toFixed(1)} ms < 50 ms`, trend < 50], [`org-wide complianceSummary p50 ${summary.toFixed(1)} ms < 20 ms`, summary < 20]);
  } finally {
    graphqlServer.disconnect();
  }
}

void main().catch((err) => {
  console.error(err);
  process.exit(1);
});
