/**
 * npm run bench:load — the API under sustained load, as deployed (`keywarden serve`, one API process per CPU),
 * with autocannon: 64 connections of a mix of the four bench:history reads against a year of history of a
 * 10,000-user account, first idle, then while 10,000-user scans ingest (fresh accounts, one after another, in
 * their own process); then the 50-finding FAIL page of a 2,000-user account at 16 connections; the server's
 * RSS after 1 and after 5 minutes of load; and the same statements as raw SQL over 64 connections, for the ratio.
 * Prints the targets; exit code 1 if one is missed. BENCH_SHORT=1: 2,000 users, 30 days, 10 s phases, RSS at 20 s
 * and 60 s (a smoke run: its figures are not the benchmark's).
 * Storage goes to DATABASE_URL if set, else a throwaway database on 127.0.0.1:5432.
 */
import 'reflect-metadata';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import { Client } from 'pg';
import { createPrismaClient } from '../src/adapters/db/prisma';
import { ScanStore } from '../src/adapters/store/scan.store';
import { withDatabase } from './database';
import { gql } from './graphql.client';
import { SyntheticAccount } from './history.account';
import { ingest } from './history.ingest';
import { findingsPageSql, trendSql, usersPageSql } from './history.sql';
import { child } from './process';
import { loadAverage, reportTargets } from './report';

const SHORT = process.env.BENCH_SHORT === '1';
const USERS = Number(process.env.BENCH_USERS ?? (SHORT ? 2_000 : 10_000));
const DAYS = Number(process.env.BENCH_DAYS ?? (SHORT ? 30 : 365));
const SCAN_USERS = Number(process.env.BENCH_SCAN_USERS ?? 10_000);
const PHASE_S = Number(process.env.BENCH_PHASE_SECONDS ?? (SHORT ? 10 : 60));
const PAGE_PHASE_S = SHORT ? 10 : 30;
const RSS_EARLY_S = SHORT ? 20 : 60;
const RSS_LATE_S = SHORT ? 60 : 300;
const CONNECTIONS = 64;
const PAGE_CONNECTIONS = 16;
const PROCESSES = Number(process.env.BENCH_PROCESSES ?? os.availableParallelism());
const PAGE = 100;
const TOKEN = 'bench-load-bootstrap-token-0123456789abcdef';
const TARGETS = { non2xx: 0, rssGrowth: 0.1, scanP99Ratio: 3, overSql: 0.5, page50Rps: 600 };

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const CLI = path.join(__dirname, '../src/cli.js');
const benchStart = performance.now();
const elapsed = () => `${((performance.now() - benchStart) / 1000).toFixed(0)} s`;
const mb = (bytes: number) => (bytes / 1048576).toFixed(0);

const TREND_QUERY = `query Trend($accountId: String!, $from: DateTime!, $to: DateTime!) {
  complianceTrend(accountId: $accountId, from: $from, to: $to, interval: DAY) { at endsAt scans pass fail notApplicable error opened resolved meanTimeToResolveSeconds }
}`;
const findingsQuery = (first: number) => `query Findings($accountId: String!, $status: [ComplianceStatus!], $after: String) {
  findings(filter: { accountId: $accountId, status: $status }, first: ${first}, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    nodes {
      id controlId userName accessKeyId status reasons state resolvedAt resolution reopenCount firstSeenAt lastSeenAt
      evidence { userCreatedAt passwordLastUsedAt accessKeyStatus accessKeyCreatedAt accessKeyLastUsedAt secondsFromUserCreationToKey }
    }
  }
}`;
const USERS_QUERY = `query Users($accountId: String!, $asOf: DateTime!) {
  iamUsers(filter: { accountId: $accountId }, asOf: $asOf, first: ${PAGE}) {
    totalCount
    pageInfo { hasNextPage endCursor }
    nodes {
      id userName arn createdAt hasConsolePassword passwordLastUsedAt mfaActive asOf
      accessKeys { accessKeyId status createdAt lastUsedAt lastUsedService }
      findings { id status reasons state }
    }
  }
}`;

interface FindingsData {
  findings: { totalCount: number; pageInfo: { hasNextPage: boolean; endCursor: string | null }; nodes: unknown[] };
}

interface Server {
  url: string;
  pids: number[];
  proc: ChildProcess;
}

/** `keywarden serve --processes N` from the build, as deployed: NODE_ENV=production, request logs at info (to /dev/null). */
async function startServer(databaseUrl: string): Promise<Server> {
  const proc = spawn(process.execPath, [CLI, 'serve', '--processes', String(PROCESSES)], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env, NODE_ENV: 'production', DATABASE_URL: databaseUrl, PORT: '0', KEYWARDEN_BOOTSTRAP_TOKEN: TOKEN,
      KEYWARDEN_RATE_LIMIT_PER_MINUTE: '1000000', KEYWARDEN_SCAN_SCHEDULE: 'off', KEYWARDEN_LOG_LEVEL: 'info',
    },
  });
  let out = '';
  let errors = '';
  proc.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  // Request logs (info, as deployed) are read and dropped; the lines of a failed start are kept.
  proc.stderr!.setEncoding('utf8').on('data', (d: string) => {
    if (!out.includes('GraphQL API at')) errors = (errors + d).slice(-4000);
  });
  for (const start = Date.now(); Date.now() - start < 60_000; await new Promise((r) => setTimeout(r, 100))) {
    const url = /GraphQL API at (http:\/\/\S+)/.exec(out)?.[1];
    if (url) {
      const workers = /pids ([\d, ]+)\)/.exec(out)?.[1]?.split(', ').map(Number) ?? [];
      return { url, pids: [proc.pid!, ...workers], proc };
    }
    if (proc.exitCode !== null) break;
  }
  proc.kill('SIGKILL');
  throw new Error(`keywarden serve did not start (exit ${proc.exitCode}): ${out}\n${errors}`);
}

/** The server's resident memory: the primary and every API process. */
function serverRss(pids: number[]): number {
  let total = 0;
  for (const pid of pids) {
    try {
      const kb = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
      total += Number(kb ?? 0) * 1024;
    } catch {
      // exited
    }
  }
  return total;
}

interface Run {
  label: string;
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
  total: number;
}

type Body = { query: string; variables: Record<string, unknown> };

async function cannon(label: string, url: string, bodies: Body[], connections: number, seconds: number): Promise<Run> {
  const u = new URL(url);
  const result = await autocannon({
    url: u.origin,
    connections,
    duration: seconds,
    requests: bodies.map((b) => ({ method: 'POST' as const, path: u.pathname, headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` }, body: JSON.stringify(b) })),
  });
  const run = { label, rps: result.requests.total / result.duration, p50: result.latency.p50, p99: result.latency.p99, non2xx: result.non2xx, errors: result.errors + result.timeouts, total: result.requests.total };
  console.log(`  ${label.padEnd(44)} ${run.rps.toFixed(0).padStart(6)} req/s  p50 ${String(run.p50).padStart(4)} ms  p99 ${String(run.p99).padStart(5)} ms  non-2xx ${run.non2xx}  errors/timeouts ${run.errors}  (${run.total} requests; load average ${loadAverage()})`);
  return run;
}

/** The four reads as raw SQL (history.sql.ts: the services' own statement builders) on `connections` pg clients, for `seconds`. */
async function rawSql(url: string, reads: ((db: Client) => Promise<unknown>)[], connections: number, seconds: number): Promise<number> {
  const clients = await Promise.all(Array.from({ length: connections }, async () => {
    const c = new Client({ connectionString: url });
    await c.connect();
    return c;
  }));
  let done = 0;
  const deadline = performance.now() + seconds * 1000;
  const started = performance.now();
  await Promise.all(clients.map(async (c, i) => {
    for (let k = i; performance.now() < deadline; k++) {
      await reads[k % reads.length]!(c);
      done++;
    }
  }));
  const rps = done / ((performance.now() - started) / 1000);
  await Promise.all(clients.map((c) => c.end()));
  return rps;
}

async function main(): Promise<void> {
  const now = Date.now();
  const lastScanAt = Math.floor((now - DAY) / DAY) * DAY + 6 * HOUR;
  const scanAt = (d: number) => new Date(lastScanAt - (DAYS - 1 - d) * DAY);
  const tag = `${String(process.pid).padStart(6, '0').slice(-6)}`;
  const accountId = `4${tag}00001`;
  const pageAccountId = `4${tag}00002`;
  console.log(`bench:load${SHORT ? ' (BENCH_SHORT: a smoke run, not the benchmark)' : ''}: ${USERS} users x ${DAYS} daily scans; ${PROCESSES} API processes; ${os.cpus().length} CPUs, load average ${loadAverage()} at start`);
  console.log('  the machine is shared with other engineers\' builds and tests: figures move with their load (load averages printed beside them)\n');

  const checks: [string, boolean][] = [];
  await withDatabase('keywarden_bench_load', async (url) => {
    const prisma = createPrismaClient(url);
    const db = new Client({ connectionString: url });
    await db.connect();
    try {
      const store = new ScanStore(prisma);
      const account = new SyntheticAccount(accountId, USERS, 42, scanAt(0));
      for (let d = 0; d < DAYS; d++) {
        if (d > 0) account.advance(scanAt(d), 0.01, 1, 0.4);
        await ingest(store, account.inventory(scanAt(d), d % 10 === 9 && d !== DAYS - 1 ? 'PER_USER_API' : 'CREDENTIAL_REPORT'));
        if ((d + 1) % 30 === 0) await db.query('VACUUM (ANALYZE) scan, iam_user_version, access_key_version, finding, finding_version');
        if ((d + 1) % 60 === 0 || d === DAYS - 1) console.log(`  history: ${d + 1}/${DAYS} scans of ${accountId} (${elapsed()})`);
      }
      const small = new SyntheticAccount(pageAccountId, 2_000, 43, scanAt(DAYS - 1));
      await ingest(store, small.inventory(scanAt(DAYS - 1)));
      await db.query('VACUUM (ANALYZE) scan, iam_user_version, access_key_version, finding, finding_version');

      const server = await startServer(url);
      console.log(`  server: ${server.url}, pids ${server.pids.join(', ')} (${elapsed()})`);
      let scanner: ChildProcess | null = null;
      try {
        // ---- the requests: bench:history's four reads
        const to = new Date(Math.floor(now / DAY) * DAY);
        const from = new Date(to.getTime() - 365 * DAY);
        let asOf = new Date(now);
        asOf.setUTCMonth(asOf.getUTCMonth() - 6);
        if (asOf < scanAt(0)) asOf = new Date(scanAt(Math.floor(DAYS / 2)).getTime() + HOUR);
        const failing = await gql<FindingsData>(server.url, TOKEN, findingsQuery(PAGE), { accountId, status: ['FAIL'] });
        const deepStatus = failing.findings.totalCount >= 50 * PAGE ? ['FAIL'] : null;
        const deepTotal = deepStatus ? failing.findings.totalCount : (await gql<FindingsData>(server.url, TOKEN, findingsQuery(PAGE), { accountId, status: null })).findings.totalCount;
        const deepPage = Math.min(50, Math.max(2, Math.floor(deepTotal / PAGE)));
        let cursor: string | null = null;
        for (let pg = 1; pg < deepPage; pg++) cursor = (await gql<FindingsData>(server.url, TOKEN, findingsQuery(PAGE), { accountId, status: deepStatus, after: cursor })).findings.pageInfo.endCursor;
        const mix: Body[] = [
          { query: TREND_QUERY, variables: { accountId, from, to } },
          { query: findingsQuery(PAGE), variables: { accountId, status: ['FAIL'] } },
          { query: findingsQuery(PAGE), variables: { accountId, status: deepStatus, after: cursor } },
          { query: USERS_QUERY, variables: { accountId, asOf } },
        ];
        const page50: Body = { query: findingsQuery(50), variables: { accountId: pageAccountId, status: ['FAIL'] } };
        for (const b of [...mix, page50]) await gql(server.url, TOKEN, b.query, b.variables); // each answers without errors
        const page50Count = (await gql<FindingsData>(server.url, TOKEN, page50.query, page50.variables)).findings.nodes.length;
        console.log(`  mix: (a) trend 365 d by DAY, (b) ${failing.findings.totalCount} failing findings' first page of ${PAGE}, (c) page ${deepPage} of ${deepStatus ? 'failing' : 'all'} findings, (d) users as of ${asOf.toISOString().slice(0, 10)}`);
        console.log(`  50-finding page: ${page50Count} failing findings with evidence of the 2,000-user account ${pageAccountId}\n`);

        // ---- RSS over the whole load
        const rss: { t: number; bytes: number }[] = [];
        const loadStart = performance.now();
        const sampler = setInterval(() => rss.push({ t: (performance.now() - loadStart) / 1000, bytes: serverRss(server.pids) }), 1000);
        const rssAt = (s: number) => rss.find((x) => x.t >= s)?.bytes ?? NaN;

        const idle = await cannon(`mix, idle, ${CONNECTIONS} connections, ${PHASE_S} s`, server.url, mix, CONNECTIONS, PHASE_S);
        scanner = child('load.scan.process.js');
        const scans: { status: string; durationMs: number }[] = [];
        scanner.on('message', (m) => scans.push(m as { status: string; durationMs: number }));
        scanner.send({ databaseUrl: url, users: SCAN_USERS });
        await new Promise((r) => setTimeout(r, 1500)); // its sandbox's fixture is built before the first scan starts
        const during = await cannon(`mix, ${SCAN_USERS.toLocaleString('en')}-user scans ingesting`, server.url, mix, CONNECTIONS, PHASE_S);
        scanner.disconnect();
        await new Promise((r) => scanner!.once('exit', r));
        const scanned = scans.map((s) => `${s.status} ${(s.durationMs / 1000).toFixed(1)} s`).join(', ');
        console.log(`      scans that ended meanwhile (each ${SCAN_USERS} users, a fresh account): ${scanned || 'none'} (and the one the phase ended in)`);
        const page = await cannon(`50-finding FAIL page, ${PAGE_CONNECTIONS} connections, ${PAGE_PHASE_S} s`, server.url, [page50], PAGE_CONNECTIONS, PAGE_PHASE_S);
        const sinceLoad = (performance.now() - loadStart) / 1000;
        if (sinceLoad < RSS_LATE_S + 1) await cannon(`mix, idle, until ${RSS_LATE_S} s of load`, server.url, mix, CONNECTIONS, Math.ceil(RSS_LATE_S + 1 - sinceLoad));
        clearInterval(sampler);
        const early = rssAt(RSS_EARLY_S);
        const late = rssAt(RSS_LATE_S);
        console.log(`  server RSS (all ${server.pids.length} processes): ${mb(early)} MB after ${RSS_EARLY_S} s of load, ${mb(late)} MB after ${RSS_LATE_S} s, peak ${mb(Math.max(...rss.map((x) => x.bytes)))} MB`);

        server.proc.kill('SIGTERM');
        await new Promise((r) => server.proc.once('exit', r));
        const sqlRps = await rawSql(url, [
          (c) => trendSql(c, accountId, from, to),
          (c) => findingsPageSql(c, accountId, ['FAIL'], undefined, PAGE),
          (c) => findingsPageSql(c, accountId, deepStatus as ['FAIL'] | null, cursor!, PAGE),
          (c) => usersPageSql(c, accountId, asOf, PAGE),
        ], CONNECTIONS, PHASE_S);
        console.log(`  raw SQL, the same four reads' statements on ${CONNECTIONS} pg connections, ${PHASE_S} s: ${sqlRps.toFixed(0)} reads/s (load average ${loadAverage()})`);

        const runs = [idle, during, page];
        const non2xx = runs.reduce((n, r) => n + r.non2xx, 0);
        const failed = runs.reduce((n, r) => n + r.errors, 0);
        checks.push([`non-2xx responses: ${non2xx} == ${TARGETS.non2xx}`, non2xx === TARGETS.non2xx]);
        checks.push([`connection errors and timeouts (no answer within autocannon's 10 s): ${failed} == 0`, failed === 0]);
        const growth = late / early - 1;
        checks.push([`RSS ${mb(early)} MB -> ${mb(late)} MB: ${(growth * 100).toFixed(1)}% <= ${TARGETS.rssGrowth * 100}%`, Math.abs(growth) <= TARGETS.rssGrowth]);
        const ratio = during.p99 / idle.p99;
        checks.push([`p99 during scans / idle ${during.p99} / ${idle.p99} ms = ${ratio.toFixed(2)}x <= ${TARGETS.scanP99Ratio}x`, ratio <= TARGETS.scanP99Ratio]);
        const overSql = idle.rps / sqlRps;
        checks.push([`GraphQL / raw SQL requests/s ${idle.rps.toFixed(0)} / ${sqlRps.toFixed(0)} = ${overSql.toFixed(2)}x >= ${TARGETS.overSql}x`, overSql >= TARGETS.overSql]);
        checks.push([`50-finding page ${page.rps.toFixed(0)} req/s >= ${TARGETS.page50Rps} at ${PAGE_CONNECTIONS} connections`, page.rps >= TARGETS.page50Rps]);
      } finally {
        if (scanner?.connected) scanner.disconnect();
        if (server.proc.exitCode === null) server.proc.kill('SIGKILL');
      }
    } finally {
      await db.end();
      await prisma.$disconnect();
    }
  });
  console.log('\ntargets:');
  reportTargets(checks);
  console.log(`\nbench wall time ${elapsed()}; load average ${loadAverage()} at the end`);
}

main().catch((err) => {
  console.error(`bench:load: ${err?.stack ?? err}`);
  process.exit(1);
});
