import fc from 'fast-check';
import { createScanService } from '../../src/app';
import { DEFAULT_CONTROL_SETTINGS } from '../../src/controls/no-access-keys-at-setup/control';
import type { PrismaClient } from '../../src/generated/prisma/client';
import type { FixtureInput } from '../../src/sandbox/fixture';
import { RetentionService } from '../../src/services/retention.service';
import { orgRollupTrendStatement, orgScanTrendStatement, orgTrendStatement, type TrendInterval } from '../../src/services/trends.service';
import { resetDatabase, startStack, testPrisma, type Stack } from '../support/stack';

/**
 * The organization-wide trend reads the rollup (org_hour, kept by triggers on scan); it must answer exactly
 * as the per-scan computation it replaced (orgScanTrendStatement) on any history: scans stored out of order,
 * PARTIAL and FAILED ones, gaps, several a day, scans on bucket edges and at midnight, removed accounts, deleted or
 * re-statused rows, retention prunes.
 */
const DAY = 86_400_000;
const D0 = Date.UTC(2026, 0, 31); // a 31st: MONTH buckets from it are clamped (Feb 28)
const t = (day: number, hour = 0, minute = 0) => new Date(D0 + day * DAY + hour * 3_600_000 + minute * 60_000);

type Status = 'COMPLETED' | 'PARTIAL' | 'FAILED' | 'RUNNING' | 'QUEUED' | 'CANCELLED';
interface Row {
  id?: string;
  account: string;
  at: Date;
  status?: Status;
  pass?: number;
  fail?: number;
  notApplicable?: number;
  error?: number;
  opened?: number;
  resolved?: number;
  resolveSeconds?: number;
}

async function insert(prisma: PrismaClient, rows: Row[]): Promise<void> {
  if (rows.length === 0) return;
  await prisma.$executeRawUnsafe(
    `INSERT INTO scan (id, account_id, status, source, queued_at, started_at, finished_at, observed_at, pass_count, fail_count,
       not_applicable_count, error_count, opened_count, resolved_count, resolve_seconds_total, settings)
     SELECT COALESCE(x.id, gen_random_uuid()), x.account, x.status::"ScanStatus", 'CREDENTIAL_REPORT', x.at, x.at, x.at, x.at, x.pass, x.fail,
       x.not_applicable, x.error, x.opened, x.resolved, x.resolve_seconds, '{}'
     FROM jsonb_to_recordset($1::jsonb) AS x(id uuid, account text, status text, at timestamptz, pass int, fail int, not_applicable int, error int,
       opened int, resolved int, resolve_seconds float8)`,
    JSON.stringify(rows.map((r) => ({
      id: r.id ?? null, account: r.account, status: r.status ?? 'COMPLETED', at: r.at.toISOString(), pass: r.pass ?? 0, fail: r.fail ?? 0,
      not_applicable: r.notApplicable ?? 0, error: r.error ?? 0, opened: r.opened ?? 0, resolved: r.resolved ?? 0, resolve_seconds: r.resolveSeconds ?? 0,
    }))),
  );
}

/** A trend's rows, comparable: numbers as numbers, the mean time to resolve to a microsecond. */
async function run(prisma: PrismaClient, statement: { sql: string; params: unknown[] }) {
  const rows = await prisma.$queryRawUnsafe<any[]>(statement.sql, ...statement.params);
  const n = (v: unknown) => (v === null ? null : Number(v));
  return rows.map((r) => ({
    at: r.start_at.toISOString(), endsAt: r.end_at.toISOString(), scans: n(r.scans), accounts: n(r.accounts),
    pass: n(r.pass), fail: n(r.fail), notApplicable: n(r.not_applicable), error: n(r.error), opened: n(r.opened), resolved: n(r.resolved),
    mttr: r.mttr === null ? null : Math.round(Number(r.mttr) * 1e6) / 1e6,
  }));
}

/** The rollup's answer next to the per-scan one, for every account. */
async function both(prisma: PrismaClient, from: Date, to: Date, interval: TrendInterval) {
  return { rollup: await run(prisma, orgRollupTrendStatement(from, to, interval)), scans: await run(prisma, orgScanTrendStatement(null, from, to, interval)) };
}

const RANGES: [string, Date, Date, TrendInterval][] = [
  ['DAY from a midnight', t(0), t(12), 'DAY'],
  ['DAY from mid-day, to mid-day', t(0, 10, 30), t(11, 15), 'DAY'],
  ['DAY from a bucket edge that is a scan instant', t(2, 6), t(9, 6), 'DAY'],
  ['DAY over a gap and after the last scan', t(-3, 23), t(20, 1), 'DAY'],
  ['WEEK from a Wednesday evening', t(-4, 19), t(30), 'WEEK'],
  ['MONTH from the 31st (clamped months)', t(0, 12), t(120), 'MONTH'],
  ['HOUR across midnights', t(3, 20), t(5, 4), 'HOUR'],
  ['DAY entirely before the first scan', t(-30), t(-20), 'DAY'],
];

describe('the organization trend rollup', () => {
  const prisma = testPrisma();
  beforeEach(() => resetDatabase(prisma));
  afterAll(() => prisma.$disconnect());

  it('answers as the per-scan computation on a tricky history, however it was written', async () => {
    const A = '100000000001', B = '200000000002', C = '300000000003', D = '400000000004', E = '500000000005';
    // D's scans are stored newest first (out of order); its day-3 scan is RUNNING first, then completed; one is deleted.
    const running = '0b3c3a5e-1111-4b7a-9d6e-000000000001';
    const deleted = '0b3c3a5e-1111-4b7a-9d6e-000000000002';
    await insert(prisma, [
      { account: D, at: t(8, 12), pass: 9, fail: 4, opened: 2, resolved: 1, resolveSeconds: 7200.5 },
      { account: D, at: t(6, 0), pass: 8, fail: 5, notApplicable: 1 },
      { id: deleted, account: D, at: t(5, 23, 59), pass: 100, fail: 100 },
      { id: running, account: D, at: t(3, 7), status: 'RUNNING', pass: 50 },
      { account: D, at: t(1, 9), pass: 7, fail: 6, opened: 6 },
    ]);
    await insert(prisma, [
      // A: several scans a day, at midnight and on the edges of the mid-day ranges, a PARTIAL, FAILED ones in between.
      { account: A, at: t(-1, 22), pass: 1, fail: 3, opened: 3 },
      { account: A, at: t(0), pass: 2, fail: 2, resolved: 1, resolveSeconds: 3600 },
      { account: A, at: t(0, 10, 30), pass: 2, fail: 3, opened: 1 },
      { account: A, at: t(0, 10, 30, ), status: 'FAILED', pass: 99 },
      { account: A, at: t(0, 18), status: 'PARTIAL', pass: 2, fail: 2, error: 1, resolved: 1, resolveSeconds: 1800.25 },
      { account: A, at: t(2, 6), pass: 3, fail: 1, resolved: 1, resolveSeconds: 60 },
      { account: A, at: t(2, 6, 1), status: 'CANCELLED', pass: 77 },
      { account: A, at: t(9, 6), pass: 3, fail: 1 },
      { account: A, at: t(11, 14, 59), pass: 0, fail: 4, opened: 3 },
      { account: A, at: t(11, 15), pass: 5, fail: 0, resolved: 4, resolveSeconds: 4 * 86_400 },
      // B: scanned before every range, then nothing for days (carried forward), then once more.
      { account: B, at: t(-10, 5), pass: 10, fail: 10, opened: 10 },
      { account: B, at: t(7, 12), pass: 15, fail: 5, resolved: 5, resolveSeconds: 5 * 3600 },
      // C: first scanned inside the ranges, only PARTIAL, and a QUEUED row.
      { account: C, at: t(4, 23, 30), status: 'PARTIAL', pass: 1, error: 2 },
      { account: C, at: t(12), status: 'QUEUED' },
      // E: an account removed later (its scans stay, as the per-scan path keeps counting them).
      { account: E, at: t(1, 1), pass: 4, fail: 4 },
    ]);
    await prisma.$executeRawUnsafe(`UPDATE scan SET status = 'COMPLETED' WHERE id = $1::uuid`, running);
    await prisma.$executeRawUnsafe('DELETE FROM scan WHERE id = $1::uuid', deleted);
    // A scan whose counts are corrected after the fact, and a FAILED one given an instant: both rewrite the days.
    await prisma.$executeRawUnsafe(`UPDATE scan SET fail_count = 6 WHERE account_id = $1 AND observed_at = $2`, B, t(7, 12));
    await prisma.$executeRawUnsafe(`UPDATE scan SET status = 'FAILED' WHERE account_id = $1 AND observed_at = $2 AND status = 'COMPLETED'`, A, t(9, 6));

    for (const [what, from, to, interval] of RANGES) {
      const { rollup, scans } = await both(prisma, from, to, interval);
      expect([what, rollup]).toEqual([what, scans]);
    }
    // The history is not trivial: the ranges see carried-forward accounts and sums that the old path also sees.
    const day = await run(prisma, orgRollupTrendStatement(t(0, 10, 30), t(11, 15), 'DAY'));
    expect(day[0]).toMatchObject({ scans: 4, accounts: 4, pass: 2 + 10 + 7 + 4 });
    expect(day.at(-1)).toMatchObject({ accounts: 5 });

    // Retention prunes versions, never scan summaries: the trend does not move. TRUNCATE empties the rollup too.
    const before = await run(prisma, orgRollupTrendStatement(t(-3, 23), t(20, 1), 'DAY'));
    await new RetentionService(prisma).prune(1, t(30));
    expect(await run(prisma, orgRollupTrendStatement(t(-3, 23), t(20, 1), 'DAY'))).toEqual(before);
    await resetDatabase(prisma);
    expect(await prisma.$queryRawUnsafe<{ n: bigint }[]>('SELECT count(*) AS n FROM org_hour')).toEqual([{ n: 0n }]);
  });

  it('every account by DAY, WEEK or MONTH reads the rollup; HOUR and named accounts read the scans', () => {
    const [from, to] = [t(0), t(3)];
    expect(orgTrendStatement(null, from, to, 'DAY').sql).toBe(orgRollupTrendStatement(from, to, 'DAY').sql);
    expect(orgTrendStatement(null, from, to, 'MONTH').sql).toBe(orgRollupTrendStatement(from, to, 'MONTH').sql);
    expect(orgTrendStatement(null, from, to, 'HOUR').sql).toBe(orgScanTrendStatement(null, from, to, 'HOUR').sql);
    expect(orgTrendStatement(['100000000001'], from, to, 'DAY').sql).toBe(orgScanTrendStatement(['100000000001'], from, to, 'DAY').sql);
  });

  it('answers as the per-scan computation on random histories written in random order and batches', async () => {
    const scanArb = fc.record({
      account: fc.constantFrom('100000000001', '200000000002', '300000000003'),
      // Minutes over 12 days, on a coarse grid so that ties with bucket edges and midnights are common.
      minute: fc.integer({ min: 0, max: 12 * 96 }).map((q) => q * 15),
      status: fc.constantFrom<Status>('COMPLETED', 'COMPLETED', 'COMPLETED', 'PARTIAL', 'FAILED', 'RUNNING'),
      pass: fc.integer({ min: 0, max: 50 }),
      fail: fc.integer({ min: 0, max: 50 }),
      error: fc.integer({ min: 0, max: 3 }),
      opened: fc.integer({ min: 0, max: 5 }),
      resolved: fc.integer({ min: 0, max: 5 }),
    });
    const rangeArb = fc.record({
      fromMinute: fc.integer({ min: -2 * 96, max: 10 * 96 }).map((q) => q * 15),
      lengthMinutes: fc.integer({ min: 1, max: 14 * 96 }).map((q) => q * 15),
      interval: fc.constantFrom<TrendInterval>('DAY', 'DAY', 'WEEK', 'MONTH', 'HOUR'),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(scanArb, { maxLength: 40 }), fc.integer({ min: 1, max: 4 }), fc.array(rangeArb, { minLength: 1, maxLength: 3 }), async (scans, batches, ranges) => {
        await prisma.$executeRawUnsafe('DELETE FROM scan'); // through the delete trigger: the rollup empties
        // Distinct instants per account, as the store keeps them (a tie between two scans of one account has no order).
        const seen = new Set<string>();
        const rows = scans.filter((s) => !seen.has(`${s.account}@${s.minute}`) && seen.add(`${s.account}@${s.minute}`))
          .map((s) => ({ ...s, at: new Date(D0 + s.minute * 60_000), resolveSeconds: s.resolved * 90.125 }));
        const size = Math.ceil(rows.length / batches);
        for (let i = 0; i < rows.length; i += size) await insert(prisma, rows.slice(i, i + size));
        for (const r of ranges) {
          const from = new Date(D0 + r.fromMinute * 60_000);
          const to = new Date(from.getTime() + r.lengthMinutes * 60_000);
          const { rollup, scans: expected } = await both(prisma, from, to, r.interval);
          expect(rollup).toEqual(expected);
        }
      }),
      { numRuns: 30 },
    );
  });
});

/** Through the scan store: real scans over HTTP GraphQL, one of them refused because a later one was stored first. */
describe('the organization trend over stored scans', () => {
  const ACCOUNT = '123456789012';
  const FIXTURE: FixtureInput = {
    accountId: ACCOUNT, accountCreatedAt: 'now-900d',
    users: [{ userName: 'alice', createdAt: 'now-400d', loginProfile: { createdAt: 'now-400d' }, accessKeys: [{ accessKeyId: 'AKIAROLLUPALICE00001', status: 'Active', createdAt: 'now-400d+30s' }] }],
  };
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack(FIXTURE, { worker: false });
  });
  afterAll(() => stack?.close());

  it('equals the per-scan answer (accountIds naming every account) with a refused out-of-order scan', async () => {
    const now = Date.now();
    const scanAt = (daysAgo: number) => createScanService(stack.prisma, stack.iam, () => new Date(now - daysAgo * DAY)).run({
      collect: { mode: 'CREDENTIAL_REPORT', concurrency: 4, report: { deadlineMs: 5000, initialDelayMs: 10 } }, control: DEFAULT_CONTROL_SETTINGS,
    });
    const first = await scanAt(5);
    expect([first.status, first.errors]).toEqual(['COMPLETED', []]);
    expect((await scanAt(2)).status).toBe('COMPLETED');
    const late = await scanAt(3); // read IAM before the stored day-2 scan: refused
    expect(late.status).toBe('FAILED');
    const range = { from: new Date(now - 7 * DAY).toISOString(), to: new Date(now).toISOString() };
    const fields = 'at endsAt scans accounts pass fail notApplicable error opened resolved meanTimeToResolveSeconds';
    const org: any = await stack.gql(`query($from: DateTime!, $to: DateTime!) { complianceTrend(from: $from, to: $to, interval: DAY) { ${fields} } }`, range);
    const named: any = await stack.gql(`query($from: DateTime!, $to: DateTime!) { complianceTrend(accountIds: ["${ACCOUNT}"], from: $from, to: $to, interval: DAY) { ${fields} } }`, range);
    expect(org.errors).toBeUndefined();
    expect(org.data.complianceTrend).toEqual(named.data.complianceTrend);
    expect(org.data.complianceTrend.reduce((n: number, p: any) => n + p.scans, 0)).toBe(2);
    expect(org.data.complianceTrend.at(-1)).toMatchObject({ accounts: 1, fail: 1 });
  });
});
