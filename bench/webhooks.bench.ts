/**
 * npm run bench:webhooks — 10,000 change events delivered to one local webhook receiver (its own process,
 * verifying every signature with standardwebhooks) by a worker's delivery jobs in this process. Events are
 * appended with the change log's own writer (appendChanges), 100 per transaction, for findings of a real scan.
 * Prints delivered per second and the delay from each transaction's commit to the receipt of its events
 * (p50, p95): for a burst of 10,000, then for a steady 100 events/s (the delay an idle endpoint sees). Storage: DATABASE_URL or a throwaway database.
 */
import 'reflect-metadata';
import pino from 'pino';
import { createPrismaClient } from '../src/adapters/db/prisma';
import { createIamClient } from '../src/adapters/iam/iam-client';
import { appendChanges, type NewChange } from '../src/adapters/store/change-log';
import { SecretBox } from '../src/adapters/webhooks/secret-box';
import { SsrfGuard } from '../src/adapters/webhooks/ssrf-guard';
import { createScanService } from '../src/app';
import { DEFAULT_CONTROL_SETTINGS } from '../src/controls/no-access-keys-at-setup/control';
import type { PrismaClient } from '../src/generated/prisma/client';
import { startIamSandbox } from '../src/sandbox/iam-sandbox.server';
import { openScanFleet } from '../src/scan-fleet';
import { AccountsService } from '../src/services/accounts.service';
import { AwsAccess } from '../src/adapters/aws/aws-access';
import { WebhooksService } from '../src/services/webhooks.service';
import { withDatabase } from './database';
import { child, nextMessage } from './process';

const EVENTS = Number(process.env.BENCH_WEBHOOK_EVENTS ?? 10_000);
const PER_TRANSACTION = 100;
const STEADY_EVENTS = 1_000;
const STEADY_PER_SECOND = 100;
const ACCOUNT = '123456789012';
const USERS = 200;

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))] ?? 0;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  const sandbox = await startIamSandbox({
    fixture: {
      accountId: ACCOUNT, accountCreatedAt: 'now-900d',
      users: Array.from({ length: USERS }, (_, i) => ({ userName: `u${i}`, createdAt: 'now-300d', loginProfile: { createdAt: 'now-300d' }, accessKeys: [{ status: 'Active' as const, createdAt: 'now-300d+1m' }] })),
    },
  });
  const receiver = child('webhook-receiver.process.js');
  receiver.setMaxListeners(0); // one exit listener per question below
  const { url } = await nextMessage<{ url: string }>(receiver);
  try {
    await withDatabase('keywarden_bench_webhooks', async (dbUrl) => {
      const prisma = createPrismaClient(dbUrl);
      const credentials = { accessKeyId: 'AKIABENCHWEBHOOKS000', secretAccessKey: 'bench' };
      await createScanService(prisma, createIamClient({ endpoint: sandbox.url, region: 'us-east-1', credentials })).run({ collect: { mode: 'CREDENTIAL_REPORT' }, control: DEFAULT_CONTROL_SETTINGS });
      const findings = (await prisma.finding.findMany({ select: { id: true } })).map((f) => f.id);
      const secrets = new SecretBox('bench-webhooks-key-0123456789abcdefghijkl');
      const guard = new SsrfGuard({ allowPrivate: true });
      const created = await new WebhooksService(prisma, secrets, guard).create({ url, events: ['finding.opened'], description: 'bench' }, 'bench');
      receiver.send({ secret: created.secret });
      const fleet = await openScanFleet({
        url: dbUrl, prisma, accounts: new AccountsService(prisma, new AwsAccess({ region: 'us-east-1', credentials, endpoints: { iam: sandbox.url } })),
        scanRequest: { collect: { mode: 'CREDENTIAL_REPORT' }, control: DEFAULT_CONTROL_SETTINGS },
        config: { scanSchedule: 'off', workerConcurrency: 1, scanTimeoutSeconds: 600 }, logger: pino({ level: 'error' }), // the database is dropped under pg-boss's last connections at the end
        webhooks: { secrets, guard },
      });
      await fleet.startWorker();
      try {
        console.log(`webhooks: ${EVENTS} finding.opened events (${PER_TRANSACTION} per transaction, ${findings.length} real findings) to one receiver on loopback, verified with standardwebhooks`);
        const burst = await run(prisma, receiver, findings, EVENTS, PER_TRANSACTION, 0, 0);
        report('burst', burst);
        const steady = await run(prisma, receiver, findings, STEADY_EVENTS, 10, 1000 / (STEADY_PER_SECOND / 10), EVENTS / PER_TRANSACTION);
        report(`steady ${STEADY_PER_SECOND}/s`, steady);
      } finally {
        await fleet.close(10_000);
        await prisma.$disconnect();
      }
    });
  } finally {
    receiver.kill();
    await sandbox.close();
  }
}

interface RunResult {
  events: number;
  delivered: number;
  seconds: number;
  delaysMs: number[];
  rejected: number;
  duplicates: number;
  inOrder: boolean;
}

/** Appends `count` events in transactions of `perTx` (one every `everyMs`), and waits until the receiver has them all. */
async function run(prisma: PrismaClient, receiver: ReturnType<typeof child>, findings: string[], count: number, perTx: number, everyMs: number, firstTag: number): Promise<RunResult> {
  const base = await arrivalsSoFar(receiver);
  const commits = new Map<number, number>();
  const start = Date.now();
  for (let t = 0; t * perTx < count; t++) {
    const tag = firstTag + t;
    const changes: NewChange[] = Array.from({ length: Math.min(perTx, count - t * perTx) }, (_, i) => ({
      accountId: ACCOUNT, type: 'finding.opened', occurredAt: new Date(), findingId: findings[(t * perTx + i) % findings.length], payload: { bench: tag },
    }));
    await prisma.$transaction(async (tx) => appendChanges(tx, changes));
    commits.set(tag, Date.now());
    if (everyMs > 0) await sleep(Math.max(0, start + (t + 1) * everyMs - Date.now()));
  }
  let report = await receiverReport(receiver);
  for (const waitStart = Date.now(); report.arrivals.length - base < count && Date.now() - waitStart < 300_000; report = await receiverReport(receiver)) await sleep(200);
  const arrivals = report.arrivals.slice(base);
  const tags = arrivals.map(([, tag]) => tag);
  return {
    events: count,
    delivered: arrivals.length,
    seconds: (Math.max(...arrivals.map(([, , at]) => at)) - start) / 1000,
    delaysMs: arrivals.map(([, tag, at]) => at - commits.get(tag)!),
    rejected: report.rejected,
    duplicates: arrivals.length - new Set(arrivals.map(([id]) => id)).size,
    inOrder: tags.every((tag, i) => i === 0 || tag >= tags[i - 1]!),
  };
}

async function receiverReport(receiver: ReturnType<typeof child>) {
  receiver.send({ report: true });
  return nextMessage<{ arrivals: [string, number, number][]; rejected: number }>(receiver);
}

async function arrivalsSoFar(receiver: ReturnType<typeof child>): Promise<number> {
  return (await receiverReport(receiver)).arrivals.length;
}

function report(name: string, r: RunResult): void {
  console.log(
    `  ${name}: ${r.delivered}/${r.events} delivered in ${r.seconds.toFixed(1)} s = ${Math.round(r.delivered / r.seconds)} delivered/s; ` +
      `commit to receipt p50 ${pct(r.delaysMs, 0.5)} ms, p95 ${pct(r.delaysMs, 0.95)} ms; ${r.duplicates} duplicates, ${r.rejected} bad signatures, ${r.inOrder ? 'in commit order' : 'OUT OF ORDER'}`,
  );
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
