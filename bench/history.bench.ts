/**
 * npm run bench:history — a year of daily scans of a 10,000-user account, ingested through ScanStore,
 * then: ingest times (first scan, 1% change, no change), the versioned store's size next to a naive
 * copy-every-scan layout of the same data, and the read queries (trend, finding pages, users as of
 * six months back) through HTTP GraphQL (the server in its own process, as deployed) and as raw SQL.
 * Prints the targets; exit code 1 if one is missed.
 * Storage goes to DATABASE_URL if set, else a throwaway database on 127.0.0.1:5432.
 *
 * Knobs (defaults are the benchmark): BENCH_USERS=10000 BENCH_DAYS=365 BENCH_RUNS=200
 * BENCH_VACUUM=daily|none (autovacuum stand-in after each scan, untimed; see vacuumAfterScan).
 */
import 'reflect-metadata';
import os from 'node:os';
import { Client } from 'pg';
import { createPrismaClient } from '../src/adapters/db/prisma';
import { ScanStore } from '../src/adapters/store/scan.store';
import type { PrismaClient } from '../src/generated/prisma/client';
import { withDatabase } from './database';
import { child, nextMessage } from './process';
import { gql as gqlAs } from './graphql.client';
import { SyntheticAccount, type DayChanges } from './history.account';
import { findingsPageSql, trendSql, usersPageSql, type SqlRun } from './history.sql';
import { ingest, type Ingested as IngestedScan } from './history.ingest';
import { loadAverage, reportTargets } from './report';

const USERS = Number(process.env.BENCH_USERS ?? 10_000);
const DAYS = Number(process.env.BENCH_DAYS ?? 365);
const RUNS = Number(process.env.BENCH_RUNS ?? 200);
const VACUUM = (process.env.BENCH_VACUUM ?? 'daily') as 'daily' | 'none';
const UNCHANGED_RESCANS = 5;
const CHANGE_SHARE = 0.01;
const REMEDIATIONS_PER_DAY = 1;
const REACTIVATE_CHANCE = 0.4;
const WARMUP = 10;
const PAGE = 100;
const DEEP_PAGE = 50;

// Servers with access control want a token and rate-limit each one (600/min by default): the bench
// brings its own bootstrap token and a limit its ~1,700 requests never reach. Older servers ignore both.
const BENCH_TOKEN = 'bench-history-bootstrap-token-0123456789abcdef';

const TARGETS = { storageShare: 0.15, noChangeMs: 1000, changeMs: 2000, firstMs: 5000, trendMs: 50, pageMs: 30, gqlOverSql: 3 };

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const PROJECT_TABLES = ['scan', 'iam_user_version', 'access_key_version', 'finding', 'finding_version', 'history_horizon'];
const VACUUMED_EACH_SCAN = ['scan', 'iam_user_version', 'access_key_version', 'finding', 'finding_version'];

const benchStart = performance.now();
const elapsed = () => `${((performance.now() - benchStart) / 1000).toFixed(0)} s`;
const gc = () => (globalThis as { gc?: () => void }).gc?.();

// ---------------------------------------------------------------------------------------------
// Statistics and formatting

function percentile(xs: number[], q: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
}
const p50 = (xs: number[]) => percentile(xs, 0.5);
const p99 = (xs: number[]) => percentile(xs, 0.99);
const ms = (x: number) => (x >= 100 ? x.toFixed(0) : x.toFixed(1));
const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);
const day = (d: Date) => d.toISOString().slice(0, 10);

// ---------------------------------------------------------------------------------------------
// Database


/**
 * This machine's PostgreSQL runs with autovacuum off. A production server's autovacuum would vacuum
 * `finding` after every daily scan (each scan updates every present finding's last_seen_at, far above
 * the 20% threshold), and analyze the growing version tables. With BENCH_VACUUM=daily the bench does
 * that itself between scans, outside the timed ingest.
 */
async function vacuumAfterScan(db: Client): Promise<number> {
  if (VACUUM !== 'daily') return 0;
  const t = performance.now();
  await db.query(`VACUUM (ANALYZE) ${VACUUMED_EACH_SCAN.join(', ')}`);
  return performance.now() - t;
}

interface TableSize {
  bytes: number;
  heap: number;
  indexes: number;
  rows: number;
}

async function tableSizes(db: Client, tables: string[]): Promise<Map<string, TableSize>> {
  const { rows } = await db.query<{ relname: string; bytes: string; heap: string; indexes: string; rows: string }>(
    `SELECT c.relname, pg_total_relation_size(c.oid) AS bytes, pg_table_size(c.oid) AS heap, pg_indexes_size(c.oid) AS indexes,
       GREATEST(c.reltuples, 0)::bigint AS rows
     FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r' AND c.relname = ANY($1)`,
    [tables],
  );
  const out = new Map<string, TableSize>();
  for (const t of tables) {
    const r = rows.find((x) => x.relname === t);
    out.set(t, { bytes: Number(r?.bytes ?? 0), heap: Number(r?.heap ?? 0), indexes: Number(r?.indexes ?? 0), rows: Number(r?.rows ?? 0) });
  }
  return out;
}

const sizeLine = (t: string, s: TableSize) =>
  `  ${t.padEnd(20)} ${mb(s.bytes).padStart(9)} MB ${String(s.rows).padStart(11)} rows   (table+TOAST ${mb(s.heap)} MB, indexes ${mb(s.indexes)} MB)`;

// ---------------------------------------------------------------------------------------------
// Ingest

interface Ingested extends IngestedScan {
  day: number;
  changes: DayChanges | null;
}

// ---------------------------------------------------------------------------------------------
// GraphQL

function gql<T>(url: string, query: string, variables: Record<string, unknown>): Promise<T> {
  return gqlAs<T>(url, BENCH_TOKEN, query, variables);
}

const TREND_QUERY = `query Trend($accountId: String!, $from: DateTime!, $to: DateTime!) {
  complianceTrend(accountId: $accountId, from: $from, to: $to, interval: DAY) {
    at endsAt scans pass fail notApplicable error opened resolved meanTimeToResolveSeconds
  }
}`;

const FINDINGS_QUERY = `query Findings($accountId: String!, $status: [ComplianceStatus!], $after: String) {
  findings(filter: { accountIds: [$accountId], status: $status }, first: ${PAGE}, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    nodes {
      id controlId userName accessKeyId status reasons state resolvedAt resolution reopenCount firstSeenAt lastSeenAt
      evidence { userCreatedAt passwordLastUsedAt accessKeyStatus accessKeyCreatedAt accessKeyLastUsedAt secondsFromUserCreationToKey }
    }
  }
}`;

const USERS_QUERY = `query Users($accountId: String!, $asOf: DateTime!) {
  iamUsers(filter: { accountIds: [$accountId] }, asOf: $asOf, first: ${PAGE}) {
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
  findings: {
    totalCount: number;
    pageInfo: { hasNextPage: boolean; endCursor: string | null };
    nodes: { controlId: string; userName: string; accessKeyId: string | null }[];
  };
}
interface UsersData {
  iamUsers: { totalCount: number; nodes: { userName: string; accessKeys: unknown[]; findings: unknown[] }[] };
}

interface Measured {
  label: string;
  gql: number[];
  sql: number[];
  statements: Record<string, number[]>;
}

/** Warm-up, then `runs` interleaved runs: GraphQL over HTTP, then the same SQL on a pg Client. */
async function measure(label: string, runs: number, viaGql: () => Promise<unknown>, viaSql: () => Promise<SqlRun<unknown>>): Promise<Measured> {
  for (let i = 0; i < WARMUP; i++) {
    await viaGql();
    await viaSql();
  }
  gc();
  const m: Measured = { label, gql: [], sql: [], statements: {} };
  for (let i = 0; i < runs; i++) {
    let t = performance.now();
    await viaGql();
    m.gql.push(performance.now() - t);
    t = performance.now();
    const run = await viaSql();
    m.sql.push(performance.now() - t);
    for (const [k, v] of Object.entries(run.statements)) (m.statements[k] ??= []).push(v);
  }
  return m;
}

function decodeIdentityCursor(cursor: string): string {
  // [tag, sort value, identity]: services/page.ts encodeCursor.
  const key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as string[];
  return key.at(-1)!;
}

// ---------------------------------------------------------------------------------------------
// Naive copy-every-scan layout

const NAIVE_TABLES = ['naive_user', 'naive_key', 'naive_finding'];

async function naiveLayout(db: Client, accountId: string): Promise<{ sizes: Map<string, TableSize>; seconds: number }> {
  const t = performance.now();
  await db.query(`DROP TABLE IF EXISTS ${NAIVE_TABLES.join(', ')}`);
  // Same column types as the version tables, without the version bookkeeping (content_hash, valid_*, first_scan_id).
  // UNLOGGED only spares the WAL while filling: the table and index files are the same size.
  await db.query(`CREATE UNLOGGED TABLE naive_user (
      id uuid NOT NULL, scan_id uuid NOT NULL, account_id text NOT NULL, user_name text NOT NULL, user_id text, arn text NOT NULL,
      path text, created_at timestamptz(3) NOT NULL, has_console_password boolean, password_last_used_at timestamptz(3),
      mfa_active boolean, tags jsonb, read_error text)`);
  await db.query(`CREATE UNLOGGED TABLE naive_key (
      id uuid NOT NULL, scan_id uuid NOT NULL, account_id text NOT NULL, user_name text NOT NULL, access_key_id text NOT NULL,
      status text NOT NULL, created_at timestamptz(3) NOT NULL, last_used_at timestamptz(3), last_used_service text, last_used_region text)`);
  await db.query(`CREATE UNLOGGED TABLE naive_finding (
      id uuid NOT NULL, scan_id uuid NOT NULL, identity text NOT NULL, status "ComplianceStatus" NOT NULL, reasons text[],
      evidence jsonb NOT NULL, state "FindingState" NOT NULL, resolved_at timestamptz(3), resolution "Resolution",
      reopen_count integer NOT NULL)`);
  const { rows: scans } = await db.query<{ id: string }>(
    `SELECT id::text FROM scan WHERE account_id = $1 AND status IN ('COMPLETED', 'PARTIAL') ORDER BY observed_at`,
    [accountId],
  );
  const fills = [
    `INSERT INTO naive_user SELECT gen_random_uuid(), s.id, u.account_id, u.user_name, u.user_id, u.arn, u.path, u.created_at,
       u.has_console_password, u.password_last_used_at, u.mfa_active, u.tags, u.read_error
     FROM scan s JOIN iam_user_version u ON u.account_id = s.account_id AND tstzrange(u.valid_from, u.valid_to) @> s.observed_at
     WHERE s.id = $1::uuid`,
    `INSERT INTO naive_key SELECT gen_random_uuid(), s.id, k.account_id, k.user_name, k.access_key_id, k.status, k.created_at,
       k.last_used_at, k.last_used_service, k.last_used_region
     FROM scan s JOIN access_key_version k ON k.account_id = s.account_id AND tstzrange(k.valid_from, k.valid_to) @> s.observed_at
     WHERE s.id = $1::uuid`,
    `INSERT INTO naive_finding SELECT gen_random_uuid(), s.id, f.identity, v.status, v.reasons, v.evidence, v.state, v.resolved_at,
       v.resolution, v.reopen_count
     FROM scan s JOIN finding_version v ON v.account_id = s.account_id AND tstzrange(v.valid_from, v.valid_to) @> s.observed_at
       JOIN finding f ON f.id = v.finding_id
     WHERE s.id = $1::uuid`,
  ];
  for (const [i, scan] of scans.entries()) {
    for (const sql of fills) await db.query(sql, [scan.id]);
    if ((i + 1) % 60 === 0 || i === scans.length - 1) console.log(`  naive layout: ${i + 1}/${scans.length} scans copied (${elapsed()})`);
  }
  // Indexes comparable to the versioned tables': a primary key per row and the lookup by scan.
  // Built after the fill, so they are as compact as a B-tree gets (the naive side is not penalised).
  for (const table of NAIVE_TABLES) {
    await db.query(`ALTER TABLE ${table} ADD PRIMARY KEY (id)`);
    await db.query(`CREATE INDEX ${table}_scan_id_idx ON ${table} (scan_id)`);
  }
  await db.query(`VACUUM ANALYZE ${NAIVE_TABLES.join(', ')}`);
  const sizes = await tableSizes(db, NAIVE_TABLES);
  await db.query(`DROP TABLE ${NAIVE_TABLES.join(', ')}`);
  return { sizes, seconds: (performance.now() - t) / 1000 };
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const now = Date.now();
  const lastScanAt = Math.floor((now - DAY) / DAY) * DAY + 6 * HOUR;
  const scanAt = (d: number) => new Date(lastScanAt - (DAYS - 1 - d) * DAY);
  const accountId = `4${String(process.pid).padStart(6, '0').slice(-6)}${String(now % 100_000).padStart(5, '0')}`;
  console.log(`account ${accountId}: ${USERS} users, ${DAYS} daily scans at 06:00 UTC from ${day(scanAt(0))} to ${day(scanAt(DAYS - 1))}`);
  console.log(`  each day ~${CHANGE_SHARE * 100}% of users change, ${REMEDIATIONS_PER_DAY} failing key remediated, one reactivated with p=${REACTIVATE_CHANCE}`);
  console.log(`  machine: ${os.cpus().length} CPUs, load average ${loadAverage()} at start`);
  console.log(`  vacuum: ${VACUUM === 'daily' ? 'VACUUM (ANALYZE) after each scan, untimed (autovacuum stand-in: autovacuum is off on this server)' : 'none'}\n`);

  const checks: [string, boolean][] = [];
  await withDatabase('keywarden_bench_hist', async (url) => {
    const prisma: PrismaClient = createPrismaClient(url);
    const db = new Client({ connectionString: url });
    await db.connect();
    const { rows: [settings] } = await db.query<{ autovacuum: string; jit: string; version: string }>(
      `SELECT current_setting('autovacuum') AS autovacuum, current_setting('jit') AS jit, current_setting('server_version') AS version`,
    );
    console.log(`PostgreSQL ${settings!.version}: autovacuum=${settings!.autovacuum}, jit=${settings!.jit}`);
    try {
      await prisma.$queryRawUnsafe('SELECT 1'); // the pool's first connection is not the first scan's cost
      const store = new ScanStore(prisma);

      // ---- a year of daily scans
      const account = new SyntheticAccount(accountId, USERS, 42, scanAt(0));
      const scans: Ingested[] = [];
      let vacuumMs = 0;
      for (let d = 0; d < DAYS; d++) {
        const at = scanAt(d);
        const changes = d === 0 ? null : account.advance(at, CHANGE_SHARE, REMEDIATIONS_PER_DAY, REACTIVATE_CHANCE);
        if (d === 0) gc();
        // One day in ten the credential report is unavailable and the scan falls back to the per-user API
        // (not the last day: a user first seen through the per-user API has no MFA reading until a report
        // shows it, and that first reading is a version, which the unchanged rescans below would count).
        const fallback = d % 10 === 9 && d !== DAYS - 1;
        const r = await ingest(store, account.inventory(at, fallback ? 'PER_USER_API' : 'CREDENTIAL_REPORT'));
        scans.push({ day: d, changes, ...r });
        vacuumMs += await vacuumAfterScan(db);
        if (d === 0) {
          console.log(
            `day   1 ${day(at)}: first full scan, ${account.userCount} users: ingest ${ms(r.ingestMs)} ms (evaluate ${ms(r.evaluateMs)} ms), ` +
              `${r.result.versionsWritten} versions; PASS ${r.result.counts.pass} FAIL ${r.result.counts.fail} N/A ${r.result.counts.notApplicable}`,
          );
        } else if ((d + 1) % 30 === 0 || d === DAYS - 1) {
          const window = scans.slice(-30).filter((s) => s.changes);
          const sum = (f: (s: Ingested) => number) => window.reduce((n, s) => n + f(s), 0);
          console.log(
            `day ${String(d + 1).padStart(3)} ${day(at)}: ${account.userCount} users; last 30 scans: ingest p50 ${ms(p50(window.map((s) => s.ingestMs)))} ms, ` +
              `max ${ms(Math.max(...window.map((s) => s.ingestMs)))} ms, ${sum((s) => s.changes!.users)} users changed, ` +
              `${sum((s) => s.result.versionsWritten)} versions, ${sum((s) => s.result.opened)} opened, ${sum((s) => s.result.resolved)} resolved; ` +
              `FAIL now ${r.result.counts.fail} (${elapsed()})`,
          );
        }
      }
      const unchanged: Ingested[] = [];
      for (let k = 1; k <= UNCHANGED_RESCANS; k++) {
        const at = new Date(scanAt(DAYS - 1).getTime() + k * 60_000);
        // Alternating modes: a fallback to the per-user API (and back) is no change either.
        unchanged.push({ day: DAYS - 1, changes: null, ...(await ingest(store, account.inventory(at, k % 2 === 0 ? 'PER_USER_API' : 'CREDENTIAL_REPORT'))) });
        vacuumMs += await vacuumAfterScan(db);
      }

      const first = scans[0]!;
      const daily = scans.slice(1);
      const kinds: Record<string, number> = {};
      for (const s of daily) for (const [k, n] of Object.entries(s.changes!.byKind)) kinds[k] = (kinds[k] ?? 0) + n;
      const changedUsers = daily.map((s) => s.changes!.users);
      console.log(`\ningest (startScan + completeScan; evaluation not included)`);
      console.log(`  first full scan          ${ms(first.ingestMs).padStart(7)} ms   ${first.result.versionsWritten} versions written`);
      console.log(
        `  rescan, ~1% change       ${ms(p50(daily.map((s) => s.ingestMs))).padStart(7)} ms p50, ${ms(p99(daily.map((s) => s.ingestMs)))} ms p99, ` +
          `max ${ms(Math.max(...daily.map((s) => s.ingestMs)))} ms over ${daily.length} scans; users changed per day p50 ${p50(changedUsers)} ` +
          `(${Math.min(...changedUsers)}-${Math.max(...changedUsers)}), versions written p50 ${p50(daily.map((s) => s.result.versionsWritten))}`,
      );
      console.log(
        `  rescan, no change        ${ms(p50(unchanged.map((s) => s.ingestMs))).padStart(7)} ms p50 over ${unchanged.length} ` +
          `(${unchanged.map((s) => ms(s.ingestMs)).join(', ')} ms), versions written ${unchanged.map((s) => s.result.versionsWritten).join(', ')}`,
      );
      console.log(`  evaluation (not ingest)  ${ms(p50(daily.map((s) => s.evaluateMs))).padStart(7)} ms p50`);
      console.log(`  changes over the year: ${JSON.stringify(kinds)}`);
      console.log(
        `  lifecycle over the year: ${daily.reduce((n, s) => n + s.result.opened, 0)} opened, ${daily.reduce((n, s) => n + s.result.resolved, 0)} resolved; ` +
          `last scan PASS ${unchanged.at(-1)!.result.counts.pass} FAIL ${unchanged.at(-1)!.result.counts.fail} N/A ${unchanged.at(-1)!.result.counts.notApplicable} ERROR ${unchanged.at(-1)!.result.counts.error}`,
      );
      if (VACUUM === 'daily') console.log(`  untimed VACUUM (ANALYZE) between scans: ${(vacuumMs / 1000).toFixed(1)} s in all`);
      console.log(`  (${elapsed()})`);

      // ---- storage of the versioned layout
      await db.query(`VACUUM ANALYZE ${PROJECT_TABLES.join(', ')}`);
      const versioned = await tableSizes(db, PROJECT_TABLES);
      const versionedBytes = [...versioned.values()].reduce((n, t) => n + t.bytes, 0);

      // ---- read queries through GraphQL and as SQL
      const graphqlServer = child('graphql.process.js');
      graphqlServer.send({ databaseUrl: url, token: BENCH_TOKEN });
      const server = await nextMessage<{ url: string }>(graphqlServer);
      console.log(`\nbench process heap: ${(process.memoryUsage().heapUsed / 1048576).toFixed(0)} MB used`);
      const measured: Measured[] = [];
      let failingTotal = 0;
      let deepPageNote = '';
      let deepPage = DEEP_PAGE;
      try {
        const to = new Date(Math.floor(now / DAY) * DAY);
        const from = new Date(to.getTime() - 365 * DAY);
        let asOfDate = new Date(now);
        asOfDate.setUTCMonth(asOfDate.getUTCMonth() - 6);
        // A shorter history (BENCH_DAYS) is asked about its middle instead.
        if (asOfDate < scanAt(0)) asOfDate = new Date(scanAt(Math.floor(DAYS / 2)).getTime() + HOUR);

        // Sanity: GraphQL and the reproduced SQL give the same answers.
        const trendG = await gql<{ complianceTrend: { scans: number }[] }>(server.url, TREND_QUERY, { accountId, from, to });
        const trendS = await trendSql(db, accountId, from, to);
        const trendScans = trendG.complianceTrend.reduce((n, p) => n + p.scans, 0);
        if (trendG.complianceTrend.length !== trendS.result.points || trendScans !== trendS.result.scans) throw new Error('trend: GraphQL and SQL disagree');
        console.log(`\nread queries (${RUNS} runs each after ${WARMUP} warm-up; GraphQL over HTTP to the server in its own process (NODE_ENV=${process.env.NODE_ENV ?? 'unset'}, request logs at info), SQL on one pg Client)`);
        console.log(`  (a) trend: ${trendG.complianceTrend.length} DAY points from ${day(from)} to ${day(to)}, ${trendScans} scans in them`);

        const failing = await gql<FindingsData>(server.url, FINDINGS_QUERY, { accountId, status: ['FAIL'] });
        failingTotal = failing.findings.totalCount;
        const deepStatus: 'FAIL'[] | null = failingTotal >= DEEP_PAGE * PAGE ? ['FAIL'] : null;
        // Smaller accounts (BENCH_USERS) have fewer pages: the deepest full page stands in for page 50.
        const deepTotal = deepStatus ? failingTotal : (await gql<FindingsData>(server.url, FINDINGS_QUERY, { accountId, status: null })).findings.totalCount;
        deepPage = Math.min(DEEP_PAGE, Math.max(2, Math.floor(deepTotal / PAGE)));
        if (!deepStatus) {
          deepPageNote = `only ${failingTotal} failing findings (< ${DEEP_PAGE * PAGE}): page ${deepPage} is of all the account's findings (no status filter), by identity`;
        }
        let cursor: string | null = null;
        for (let pg = 1; pg < deepPage; pg++) {
          const page: FindingsData = await gql<FindingsData>(server.url, FINDINGS_QUERY, { accountId, status: deepStatus, after: cursor });
          if (!page.findings.pageInfo.hasNextPage) throw new Error(`only ${pg} pages of findings`);
          cursor = page.findings.pageInfo.endCursor;
        }
        const afterIdentity = decodeIdentityCursor(cursor!);
        const deepG = await gql<FindingsData>(server.url, FINDINGS_QUERY, { accountId, status: deepStatus, after: cursor });
        const deepS = await findingsPageSql(db, accountId, deepStatus, cursor!, PAGE);
        const firstS = await findingsPageSql(db, accountId, ['FAIL'], undefined, PAGE);
        const identities = (d: FindingsData) => d.findings.nodes.map((n) => `${n.userName}/${n.accessKeyId ?? '-'}`);
        const same = (a: string[], b: string[]) => a.length === b.length && a.every((x, i) => x === b[i]);
        if (!same(identities(deepG), deepS.result.identities) || deepG.findings.totalCount !== deepS.result.totalCount) {
          throw new Error('deep findings page: GraphQL and SQL disagree');
        }
        if (!same(identities(failing), firstS.result.identities) || failingTotal !== firstS.result.totalCount) {
          throw new Error('first findings page: GraphQL and SQL disagree');
        }
        console.log(`  (b) failing findings: ${failingTotal}; first page of ${failing.findings.nodes.length}`);
        console.log(`  (c) ${deepPageNote || `page ${deepPage} of failing findings`}: ${deepG.findings.nodes.length} of ${deepG.findings.totalCount}, after ${afterIdentity}`);

        const usersG = await gql<UsersData>(server.url, USERS_QUERY, { accountId, asOf: asOfDate });
        const usersS = await usersPageSql(db, accountId, asOfDate, PAGE);
        const gKeys = usersG.iamUsers.nodes.reduce((n, u) => n + u.accessKeys.length, 0);
        const gFindings = usersG.iamUsers.nodes.reduce((n, u) => n + u.findings.length, 0);
        if (!same(usersG.iamUsers.nodes.map((u) => u.userName), usersS.result.userNames) || usersG.iamUsers.totalCount !== usersS.result.totalCount || gKeys !== usersS.result.keys || gFindings !== usersS.result.findings) {
          throw new Error('iamUsers page: GraphQL and SQL disagree');
        }
        console.log(`  (d) users as of ${asOfDate.toISOString()}: first ${usersG.iamUsers.nodes.length} of ${usersG.iamUsers.totalCount}, with ${gKeys} keys and ${gFindings} findings`);

        measured.push(await measure('(a) complianceTrend 365 d, DAY', RUNS, () => gql(server.url, TREND_QUERY, { accountId, from, to }), () => trendSql(db, accountId, from, to)));
        measured.push(
          await measure('(b) findings FAIL, first page', RUNS, () => gql(server.url, FINDINGS_QUERY, { accountId, status: ['FAIL'] }), () => findingsPageSql(db, accountId, ['FAIL'], undefined, PAGE)),
        );
        measured.push(
          await measure(
            `(c) findings${deepStatus ? ' FAIL' : ' (all)'}, page ${deepPage}`,
            RUNS,
            () => gql(server.url, FINDINGS_QUERY, { accountId, status: deepStatus, after: cursor }),
            () => findingsPageSql(db, accountId, deepStatus, cursor!, PAGE),
          ),
        );
        measured.push(
          await measure('(d) iamUsers asOf -6 months, first page', RUNS, () => gql(server.url, USERS_QUERY, { accountId, asOf: asOfDate }), () => usersPageSql(db, accountId, asOfDate, PAGE)),
        );
      } finally {
        graphqlServer.disconnect();
        await new Promise((resolve) => graphqlServer.once('exit', resolve));
      }
      console.log(`\n  ${'query'.padEnd(42)} ${'GraphQL p50'.padStart(11)} ${'p99'.padStart(7)}  ${'SQL p50'.padStart(8)} ${'p99'.padStart(7)}  GraphQL/SQL p50`);
      for (const m of measured) {
        console.log(
          `  ${m.label.padEnd(42)} ${ms(p50(m.gql)).padStart(8)} ms ${ms(p99(m.gql)).padStart(7)}  ${ms(p50(m.sql)).padStart(5)} ms ${ms(p99(m.sql)).padStart(7)}  ${(p50(m.gql) / p50(m.sql)).toFixed(2).padStart(6)}x`,
        );
        console.log(`      SQL p50 by statement: ${Object.entries(m.statements).map(([k, v]) => `${k} ${ms(p50(v))}`).join(', ')} ms`);
      }
      console.log(`  (${elapsed()})`);

      // ---- the naive layout, built from the same history
      console.log(`\nnaive copy-every-scan layout (one row per user, key and finding per scan)`);
      const naive = await naiveLayout(db, accountId);
      const naiveBytes = [...naive.sizes.values()].reduce((n, t) => n + t.bytes, 0) + versioned.get('scan')!.bytes;
      console.log(`\nstorage after VACUUM ANALYZE (pg_total_relation_size: heap + TOAST + indexes)`);
      for (const [t, s] of versioned) console.log(sizeLine(t, s));
      console.log(`  ${'versioned total'.padEnd(20)} ${mb(versionedBytes).padStart(9)} MB`);
      for (const [t, s] of naive.sizes) console.log(sizeLine(t, s));
      console.log(`  ${'naive total'.padEnd(20)} ${mb(naiveBytes).padStart(9)} MB   (naive_* + the same scan table; built in ${naive.seconds.toFixed(0)} s, then dropped)`);
      const share = versionedBytes / naiveBytes;
      console.log(`  versioned / naive    ${(share * 100).toFixed(1)}%  (naive is ${(naiveBytes / versionedBytes).toFixed(1)}x)`);

      // ---- targets
      const noChange = p50(unchanged.map((s) => s.ingestMs));
      const change = p50(daily.map((s) => s.ingestMs));
      checks.push([`storage ${(share * 100).toFixed(1)}% of naive <= ${TARGETS.storageShare * 100}%`, share <= TARGETS.storageShare]);
      checks.push([`rescan, no change ${ms(noChange)} ms p50 < ${TARGETS.noChangeMs} ms`, noChange < TARGETS.noChangeMs]);
      checks.push([`no-change rescans wrote 0 versions (${unchanged.map((s) => s.result.versionsWritten).join(', ')})`, unchanged.every((s) => s.result.versionsWritten === 0)]);
      checks.push([`rescan, ~1% change ${ms(change)} ms p50 < ${TARGETS.changeMs} ms`, change < TARGETS.changeMs]);
      checks.push([`first ${USERS}-user ingest ${ms(first.ingestMs)} ms < ${TARGETS.firstMs} ms`, first.ingestMs < TARGETS.firstMs]);
      const [trend, ...pages] = measured;
      checks.push([`trend p50 ${ms(p50(trend!.gql))} ms < ${TARGETS.trendMs} ms (GraphQL)`, p50(trend!.gql) < TARGETS.trendMs]);
      for (const m of pages) checks.push([`${m.label} p50 ${ms(p50(m.gql))} ms < ${TARGETS.pageMs} ms (GraphQL)`, p50(m.gql) < TARGETS.pageMs]);
      for (const m of measured) {
        const ratio = p50(m.gql) / p50(m.sql);
        checks.push([`${m.label}: GraphQL/SQL ${ratio.toFixed(2)}x <= ${TARGETS.gqlOverSql}x`, ratio <= TARGETS.gqlOverSql]);
      }
      if (deepPageNote) console.log(`\nnote: ${deepPageNote}`);
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
  console.error(`bench:history: ${err?.stack ?? err}`);
  process.exit(1);
});
