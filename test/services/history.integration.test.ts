import { Client } from 'pg';
import type { FixtureInput } from '../../src/sandbox/fixture';
import { RetentionService } from '../../src/services/retention.service';
import { startStack, type Stack } from '../support/stack';

/**
 * A history of scans over days against the IAM sandbox, read back over HTTP GraphQL from real
 * PostgreSQL: lifecycle, point-in-time answers between scans, trends, storage that grows with change.
 */
const ACCOUNT = '222233334444';
const DAY = 86_400_000;
const NOW = Date.now();
// Scans read IAM at 10:00 UTC-ish on days -10 .. -3; instants between them are asked about.
const day = (d: number, hours = 0) => new Date(NOW - d * DAY + hours * 3_600_000);

const FIXTURE: FixtureInput = {
  accountId: ACCOUNT,
  accountCreatedAt: 'now-900d',
  users: [
    { userName: 'alice', createdAt: 'now-400d', loginProfile: { createdAt: 'now-400d' },
      accessKeys: [{ accessKeyId: 'AKIAALICESETUP000001', status: 'Active', createdAt: 'now-400d+30s' }] },
    { userName: 'bob', createdAt: 'now-300d', loginProfile: { createdAt: 'now-300d' },
      accessKeys: [{ accessKeyId: 'AKIABOBLATER00000001', status: 'Active', createdAt: 'now-100d', lastUsed: { date: 'now-20d', serviceName: 's3' } }] },
    { userName: 'carol', createdAt: 'now-200d', loginProfile: { createdAt: 'now-200d' } },
    { userName: 'dave', createdAt: 'now-200d', accessKeys: [{ accessKeyId: 'AKIADAVEAPI000000001', status: 'Active', createdAt: 'now-200d' }] },
    { userName: 'erin', createdAt: 'now-150d', loginProfile: { createdAt: 'now-150d' },
      accessKeys: [{ accessKeyId: 'AKIAERINSETUP0000001', status: 'Active', createdAt: 'now-150d+5s' }] },
  ],
};

const K1 = 'AKIAALICESETUP000001';

async function historyRows(stack: Stack) {
  const [users, keys, findings, versions] = await Promise.all([
    stack.prisma.iamUserVersion.count(),
    stack.prisma.accessKeyVersion.count(),
    stack.prisma.finding.count(),
    stack.prisma.findingVersion.count(),
  ]);
  return { users, keys, findings, versions };
}

const FINDING = `id status state resolvedAt resolution reopenCount firstSeenAt lastSeenAt userName accessKeyId`;

describe('history over a sequence of scans', () => {
  let stack: Stack;
  const scans: Record<string, { scanId: string; at: Date }> = {};
  const scanAt = async (name: string, at: Date, expected: string) => {
    const summary = await stack.scan({ mode: 'CREDENTIAL_REPORT' }, {}, at);
    expect([name, summary.status]).toEqual([name, expected]);
    scans[name] = { scanId: summary.scanId, at };
    return summary;
  };
  const findingOf = async (accessKeyId: string, asOf?: Date) => {
    const res: any = await stack.gql(`query($asOf: DateTime) { findings(filter: { accountId: "${ACCOUNT}", state: [OPEN, RESOLVED, NEVER_FAILED] }, asOf: $asOf, first: 100) { nodes { ${FINDING} } } }`, { asOf: asOf?.toISOString() });
    expect(res.errors).toBeUndefined();
    return res.data.findings.nodes.find((n: any) => n.accessKeyId === accessKeyId);
  };

  beforeAll(async () => {
    stack = await startStack(FIXTURE);
  });
  afterAll(() => stack.close());

  it('1. first scan: users appear, the setup key fails and opens its finding', async () => {
    const s = await scanAt('first', day(10), 'COMPLETED');
    expect(s.opened).toBe(2); // alice's and erin's setup keys
    const f = await findingOf(K1);
    expect(f).toMatchObject({ status: 'FAIL', state: 'OPEN', reopenCount: 0, resolvedAt: null, firstSeenAt: day(10).toISOString() });
  });

  it('2. a rescan of the unchanged account adds no user, key, finding or version rows', async () => {
    const before = await historyRows(stack);
    const s = await scanAt('unchanged', day(9), 'COMPLETED');
    expect(s.versionsWritten).toBe(0);
    expect(await historyRows(stack)).toEqual(before);
    expect(await findingOf(K1)).toMatchObject({ firstSeenAt: day(10).toISOString(), lastSeenAt: day(9).toISOString() });
  });

  it('3. a deactivated key passes: its finding resolves (PASSED) with the same identity', async () => {
    const { id } = await findingOf(K1);
    stack.sandbox.state.setKeyStatus(K1, 'Inactive');
    const s = await scanAt('deactivated', day(8), 'COMPLETED');
    expect([s.opened, s.resolved]).toEqual([0, 1]);
    expect(await findingOf(K1)).toMatchObject({ id, status: 'PASS', state: 'RESOLVED', resolution: 'PASSED', resolvedAt: day(8).toISOString() });
  });

  it('4. reactivated, it fails again: the same finding reopens and counts a reopen', async () => {
    const { id } = await findingOf(K1);
    stack.sandbox.state.setKeyStatus(K1, 'Active');
    const s = await scanAt('reactivated', day(7), 'COMPLETED');
    expect([s.opened, s.resolved]).toEqual([1, 0]);
    expect(await findingOf(K1)).toMatchObject({ id, status: 'FAIL', state: 'OPEN', reopenCount: 1, resolvedAt: null, resolution: null });
  });

  it('5. a deleted key resolves its finding (KEY_DELETED); it leaves the current list but stays among the resolved', async () => {
    stack.sandbox.state.deleteAccessKey(K1);
    const s = await scanAt('key-deleted', day(6), 'COMPLETED');
    expect(s.resolved).toBe(1);
    const current: any = await stack.gql(`{ findings(filter: { userName: "alice" }) { nodes { accessKeyId status reasons } } }`);
    expect(current.data.findings.nodes).toEqual([{ accessKeyId: null, status: 'PASS', reasons: ['NO_ACCESS_KEYS'] }]);
    const resolved: any = await stack.gql(`{ findings(filter: { userName: "alice", state: [RESOLVED], resolvedAfter: "${day(6.5).toISOString()}" }) { nodes { accessKeyId resolution resolvedAt reopenCount } } }`);
    expect(resolved.data.findings.nodes).toEqual([{ accessKeyId: K1, resolution: 'KEY_DELETED', resolvedAt: day(6).toISOString(), reopenCount: 1 }]);
  });

  it('6. a deleted user resolves its findings (USER_DELETED) and leaves the user list', async () => {
    stack.sandbox.state.deleteUser('erin');
    await scanAt('user-deleted', day(5), 'COMPLETED');
    expect(await findingOf('AKIAERINSETUP0000001')).toMatchObject({ state: 'RESOLVED', resolution: 'USER_DELETED', resolvedAt: day(5).toISOString() });
    const users: any = await stack.gql(`{ iamUsers(filter: { accountId: "${ACCOUNT}" }) { totalCount nodes { userName } } }`);
    expect(users.data.iamUsers.nodes.map((u: any) => u.userName)).toEqual(['alice', 'bob', 'carol', 'dave']);
  });

  it('7. a PARTIAL scan changes only what it could read', async () => {
    const bobBefore = await findingOf('AKIABOBLATER00000001');
    const versionsBefore = await stack.prisma.findingVersion.count({ where: { finding: { userName: 'bob', accessKeyId: { not: null } } } });
    stack.sandbox.setFaults([{ operation: 'ListAccessKeys', userName: 'bob', error: 'AccessDenied' }]);
    const s = await scanAt('partial', day(4), 'PARTIAL');
    stack.sandbox.setFaults([]);
    // bob's key finding is carried over untouched, and an ERROR says bob could not be read.
    expect(await findingOf('AKIABOBLATER00000001')).toEqual(bobBefore);
    expect(await stack.prisma.findingVersion.count({ where: { finding: { userName: 'bob', accessKeyId: { not: null } } } })).toBe(versionsBefore);
    expect(s.counts).toMatchObject({ error: 1, pass: 3 }); // bob's carried-over PASS counts
  });

  it('8. a FAILED scan changes nothing', async () => {
    const before = await historyRows(stack);
    const findingsBefore = await stack.prisma.finding.findMany({ orderBy: { identity: 'asc' } });
    stack.sandbox.setFaults([{ operation: 'ListUsers', error: 'ServiceFailure' }]);
    await scanAt('failed', day(3), 'FAILED');
    stack.sandbox.setFaults([]);
    expect(await historyRows(stack)).toEqual(before);
    expect(await stack.prisma.finding.findMany({ orderBy: { identity: 'asc' } })).toEqual(findingsBefore);
  });

  it('answers as of instants between scans, for findings, users and keys', async () => {
    expect(await findingOf(K1, day(9.5))).toMatchObject({ status: 'FAIL', state: 'OPEN', lastSeenAt: day(10).toISOString() });
    expect(await findingOf(K1, day(7.5))).toMatchObject({ status: 'PASS', state: 'RESOLVED', resolution: 'PASSED' });
    expect(await findingOf(K1, day(6.5))).toMatchObject({ status: 'FAIL', state: 'OPEN', reopenCount: 1 });
    // Its key deleted on day 6, it is listed among the resolved as the current read lists it: last seen on day 7.
    expect(await findingOf(K1, day(5.5))).toMatchObject({ status: 'FAIL', state: 'RESOLVED', resolution: 'KEY_DELETED', resolvedAt: day(6).toISOString(), lastSeenAt: day(7).toISOString() });
    const listed: any = await stack.gql(`query($asOf: DateTime) { findings(filter: { accountId: "${ACCOUNT}" }, asOf: $asOf) { nodes { accessKeyId } } }`, { asOf: day(5.5).toISOString() });
    expect(listed.data.findings.nodes.map((n: any) => n.accessKeyId)).not.toContain(K1);
    // The FAILED scan on day 3 answers nothing: as of day 2.5 is the PARTIAL scan of day 4.
    const q = `query($asOf: DateTime) { iamUsers(filter: { accountId: "${ACCOUNT}" }, asOf: $asOf) { nodes { userName asOf scan { id } } } }`;
    const late: any = await stack.gql(q, { asOf: day(2.5).toISOString() });
    expect(late.data.iamUsers.nodes[0].asOf).toBe(day(4).toISOString());
    const early: any = await stack.gql(q, { asOf: day(5.5).toISOString() });
    expect(early.data.iamUsers.nodes.map((u: any) => u.userName)).toContain('erin');
    const alice = `query($asOf: DateTime) { iamUser(accountId: "${ACCOUNT}", userName: "alice", asOf: $asOf) { accessKeys { accessKeyId status } findings { accessKeyId status } } }`;
    expect(((await stack.gql(alice, { asOf: day(9.5).toISOString() })) as any).data.iamUser).toEqual({
      accessKeys: [{ accessKeyId: K1, status: 'ACTIVE' }],
      findings: [{ accessKeyId: K1, status: 'FAIL' }],
    });
    expect(((await stack.gql(alice, { asOf: day(7.5).toISOString() })) as any).data.iamUser.accessKeys).toEqual([{ accessKeyId: K1, status: 'INACTIVE' }]);
  });

  it('lists exactly what one scan held with scan(id)', async () => {
    const res: any = await stack.gql(`query($id: ID!) { scan(id: $id) { status findings(first: 100) { totalCount nodes { accessKeyId status } } iamUsers { totalCount } } }`, { id: scans.deactivated.scanId });
    expect(res.data.scan.iamUsers.totalCount).toBe(5);
    expect(res.data.scan.findings.nodes).toContainEqual({ accessKeyId: K1, status: 'PASS' });
    const failed: any = await stack.gql(`query($id: ID!) { scan(id: $id) { status findings { totalCount } } }`, { id: scans.failed.scanId });
    expect(failed.data.scan).toEqual({ status: 'FAILED', findings: { totalCount: 0 } });
  });

  it('trends by day: the state at each bucket\'s end, the transitions inside it, null where no scan ran', async () => {
    const res: any = await stack.gql(`query($from: DateTime!, $to: DateTime!) { complianceTrend(accountId: "${ACCOUNT}", from: $from, to: $to, interval: DAY) {
      at scans pass fail notApplicable error opened resolved meanTimeToResolveSeconds } }`, { from: day(11, -12).toISOString(), to: day(1, -12).toISOString() });
    expect(res.errors).toBeUndefined();
    const points = res.data.complianceTrend;
    expect(points).toHaveLength(10);
    const [none, first, , deactivated, reactivated, keyDeleted] = points;
    expect(none).toMatchObject({ scans: 0, pass: null, fail: null, opened: null, resolved: null, meanTimeToResolveSeconds: null });
    expect(first).toMatchObject({ scans: 1, fail: 2, opened: 2, resolved: 0, meanTimeToResolveSeconds: null });
    expect(deactivated).toMatchObject({ scans: 1, fail: 1, resolved: 1, meanTimeToResolveSeconds: 2 * 86_400 });
    expect(reactivated).toMatchObject({ fail: 2, opened: 1 });
    expect(keyDeleted).toMatchObject({ fail: 1, resolved: 1, meanTimeToResolveSeconds: 86_400 });
    expect(points[8]).toMatchObject({ scans: 0, fail: null }); // day 3: only the FAILED scan ran, and it does not count
  });

  it('PostgreSQL itself refuses a version that overlaps another of the same user, key or finding', async () => {
    const db = new Client({ connectionString: process.env.DATABASE_URL });
    await db.connect();
    try {
      // Each statement copies a current version, closed an hour after it opened: it overlaps the original.
      const copies = {
        user: (name: string) => `INSERT INTO iam_user_version (id, account_id, user_name, arn, created_at, content_hash, valid_from, valid_to, first_scan_id)
          SELECT gen_random_uuid(), account_id, ${name}, arn, created_at, 'copy', valid_from, valid_from + interval '1 hour', first_scan_id
          FROM iam_user_version WHERE valid_to IS NULL AND user_name = 'bob'`,
        key: (id: string) => `INSERT INTO access_key_version (id, account_id, user_name, access_key_id, status, created_at, content_hash, valid_from, valid_to, first_scan_id)
          SELECT gen_random_uuid(), account_id, user_name, ${id}, status, created_at, 'copy', valid_from, valid_from + interval '1 hour', first_scan_id
          FROM access_key_version WHERE valid_to IS NULL AND access_key_id = 'AKIABOBLATER00000001'`,
        finding: (findingId: string) => `INSERT INTO finding_version (id, finding_id, account_id, user_name, user_arn, status, reasons, evidence, state, content_hash, valid_from, valid_to, first_scan_id)
          SELECT gen_random_uuid(), ${findingId}, v.account_id, v.user_name, v.user_arn, v.status, v.reasons, v.evidence, v.state, 'copy', v.valid_from, v.valid_from + interval '1 hour', v.first_scan_id
          FROM finding_version v JOIN finding f ON f.id = v.finding_id WHERE v.valid_to IS NULL AND f.access_key_id = 'AKIABOBLATER00000001'`,
      };
      await expect(db.query(copies.user('user_name'))).rejects.toMatchObject({ code: '23P01', constraint: 'iam_user_version_no_overlap' });
      await expect(db.query(copies.key('access_key_id'))).rejects.toMatchObject({ code: '23P01', constraint: 'access_key_version_no_overlap' });
      await expect(db.query(copies.finding('v.finding_id'))).rejects.toMatchObject({ code: '23P01', constraint: 'finding_version_no_overlap' });
      // The same instants for another user, key or finding are no conflict.
      await db.query('BEGIN');
      expect((await db.query(copies.user(`'bob2'`))).rowCount).toBe(1);
      expect((await db.query(copies.key(`'AKIABOBLATER00000002'`))).rowCount).toBe(1);
      const { rows: [other] } = await db.query(`INSERT INTO finding (id, identity, account_id, control_id, user_name, user_arn, access_key_id,
          status, reasons, evidence, state, present, first_seen_at, last_seen_at, last_scan_id)
        SELECT gen_random_uuid(), identity || '/copy', account_id, control_id, user_name, user_arn, access_key_id, status, reasons,
          evidence, state, present, first_seen_at, last_seen_at, last_scan_id
        FROM finding WHERE access_key_id = 'AKIABOBLATER00000001' RETURNING id`);
      expect((await db.query(copies.finding(`'${other.id}'::uuid`))).rowCount).toBe(1);
      await db.query('ROLLBACK');
    } finally {
      await db.end();
    }
  });

  it('cuts buckets in UTC: MONTH by calendar month from `from` (clamped to short months), the last one ending at `to`', async () => {
    const trend = async (from: string, to: string, interval: string) => {
      const res: any = await stack.gql(`query($from: DateTime!, $to: DateTime!) { complianceTrend(accountId: "${ACCOUNT}", from: $from, to: $to, interval: ${interval}) { at endsAt scans } }`, { from, to });
      expect(res.errors).toBeUndefined();
      return res.data.complianceTrend.map((p: any) => [p.at, p.endsAt]);
    };
    expect(await trend('2024-01-31T00:00:00.000Z', '2024-04-15T12:00:00.000Z', 'MONTH')).toEqual([
      ['2024-01-31T00:00:00.000Z', '2024-02-29T00:00:00.000Z'],
      ['2024-02-29T00:00:00.000Z', '2024-03-31T00:00:00.000Z'],
      ['2024-03-31T00:00:00.000Z', '2024-04-15T12:00:00.000Z'],
    ]);
    expect(await trend('2024-12-01T00:00:00.000Z', '2025-02-01T00:00:00.000Z', 'MONTH')).toEqual([
      ['2024-12-01T00:00:00.000Z', '2025-01-01T00:00:00.000Z'],
      ['2025-01-01T00:00:00.000Z', '2025-02-01T00:00:00.000Z'],
    ]);
    const hours = await trend('2024-03-10T00:30:00.000Z', '2024-03-10T03:00:00.000Z', 'HOUR');
    expect(hours).toEqual([
      ['2024-03-10T00:30:00.000Z', '2024-03-10T01:30:00.000Z'],
      ['2024-03-10T01:30:00.000Z', '2024-03-10T02:30:00.000Z'],
      ['2024-03-10T02:30:00.000Z', '2024-03-10T03:00:00.000Z'],
    ]);
    expect(await trend('2024-01-01T00:00:00.000Z', '2024-01-15T00:00:00.000Z', 'WEEK')).toHaveLength(2);
  });

  it('refuses bad ranges and instants with BAD_USER_INPUT saying what to change', async () => {
    const expectBad = async (query: string, pattern: RegExp) => {
      const res: any = await stack.gql(query);
      expect(res.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      expect(res.errors[0].message).toMatch(pattern);
    };
    await expectBad(`{ complianceTrend(accountId: "${ACCOUNT}", from: "${day(1).toISOString()}", to: "${day(2).toISOString()}", interval: DAY) { at } }`, /must be before/);
    await expectBad(`{ complianceTrend(accountId: "${ACCOUNT}", from: "2020-01-01T00:00:00Z", to: "2026-01-01T00:00:00Z", interval: HOUR) { at } }`, /at most 10000/);
    await expectBad(`{ complianceTrend(accountId: "000000000000", from: "${day(3).toISOString()}", to: "${day(1).toISOString()}", interval: DAY) { at } }`, /000000000000/);
    await expectBad(`{ findings(asOf: "${new Date(NOW + 3_600_000).toISOString()}") { totalCount } }`, /in the future/);
    await expectBad(`{ iamUsers(filter: { accountId: "${ACCOUNT}" }, asOf: "${day(30).toISOString()}") { totalCount } }`, /before the first scan/);
    await expectBad(`{ findings(filter: { accountId: "${ACCOUNT}" }, orderBy: { field: FIRST_SEEN_AT }, after: "nonsense") { totalCount } }`, /cursor/);
  });

  it('pages resolved findings by resolvedAt with keyset cursors', async () => {
    const q = `query($after: String) { findings(filter: { accountId: "${ACCOUNT}", state: [RESOLVED] }, orderBy: { field: RESOLVED_AT, direction: DESC }, first: 1, after: $after) { nodes { accessKeyId userName resolvedAt } pageInfo { hasNextPage endCursor } } }`;
    const seen: any[] = [];
    let after: string | null = null;
    for (let i = 0; i < 20; i++) {
      const res: any = await stack.gql(q, { after });
      seen.push(...res.data.findings.nodes);
      if (!res.data.findings.pageInfo.hasNextPage) break;
      after = res.data.findings.pageInfo.endCursor;
    }
    const resolvedAts = seen.map((n) => n.resolvedAt ?? '');
    expect([...resolvedAts].sort().reverse()).toEqual(resolvedAts);
    expect(new Set(seen.map((n) => `${n.userName}/${n.accessKeyId}`)).size).toBe(seen.length);
    expect(seen.slice(0, 2).map((n) => n.userName).sort()).toEqual(['alice', 'erin']);
  });
});

describe('two scans of one account', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack(FIXTURE);
  });
  afterAll(() => stack.close());

  it('never interleave: the second waits for the first one\'s lock', async () => {
    const holder = new Client({ connectionString: process.env.DATABASE_URL });
    await holder.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [ACCOUNT]);
      let done = false;
      const scan = stack.scan({}, {}, day(2)).then((s) => ((done = true), s));
      await new Promise((r) => setTimeout(r, 1500));
      expect(done).toBe(false);
      await holder.query('COMMIT');
      expect((await scan).status).toBe('COMPLETED');
    } finally {
      await holder.end();
    }
  });

  it('an older scan stored after a newer one is refused with a clear message, and changes nothing', async () => {
    const before = await historyRows(stack);
    const s = await stack.scan({}, {}, day(3));
    expect(s.status).toBe('FAILED');
    expect(s.errors[0].message).toMatch(/that read IAM at .* was stored first; this scan read it at .* and is not recorded/);
    expect(await historyRows(stack)).toEqual(before);
  });
});

describe('retention', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack(FIXTURE);
  });
  afterAll(() => stack.close());

  it('prunes detail older than N days, keeps trends, and refuses asOf before the horizon', async () => {
    await stack.scan({}, {}, day(40));
    stack.sandbox.state.setKeyStatus(K1, 'Inactive');
    await stack.scan({}, {}, day(35));
    await stack.scan({}, {}, day(2));
    const [pruned] = await new RetentionService(stack.prisma).prune(30);
    expect(pruned.findingVersions).toBeGreaterThan(0);
    const old: any = await stack.gql(`{ findings(filter: { accountId: "${ACCOUNT}" }, asOf: "${day(38).toISOString()}") { totalCount } }`);
    expect(old.errors[0].extensions.code).toBe('BAD_USER_INPUT');
    expect(old.errors[0].message).toMatch(/pruned by retention/);
    const recent: any = await stack.gql(`{ findings(filter: { accountId: "${ACCOUNT}" }, asOf: "${day(1).toISOString()}") { totalCount } }`);
    expect(recent.data.findings.totalCount).toBeGreaterThan(0);
    const trend: any = await stack.gql(`{ complianceTrend(accountId: "${ACCOUNT}", from: "${day(41).toISOString()}", to: "${day(0).toISOString()}", interval: WEEK) { scans fail resolved } }`);
    expect(trend.data.complianceTrend[0]).toMatchObject({ scans: 2, fail: 1, resolved: 1 });
  });
});
