import { createScanService } from '../../src/app';
import { DEFAULT_CONTROL_SETTINGS } from '../../src/controls/no-access-keys-at-setup/control';
import type { FixtureInput, FixtureUserInput } from '../../src/sandbox/fixture';
import { startIamSandbox, type IamSandbox } from '../../src/sandbox/iam-sandbox.server';
import type { ScanSummary } from '../../src/services/scan.service';
import { sandboxIamClient, startStack, type Stack } from '../support/stack';

/**
 * Organisation-wide reads (issue #9) over HTTP GraphQL: three accounts scanned into one database at
 * different times. A is scanned every day; B on days 1 and 3 only (so it is not scanned in the last
 * buckets); C on days 2 and 5 (first scanned inside the trend's range; PARTIAL on day 5; FAILED on day 6).
 */
const A = '100000000001';
const B = '200000000002';
const C = '300000000003';
const UNKNOWN = '999999999999';

const DAY = 86_400_000;
const D0 = Math.floor((Date.now() - 20 * DAY) / DAY) * DAY; // a UTC midnight 20 days ago
const at = (day: number, hour = 10) => new Date(D0 + day * DAY + hour * 3_600_000);

const setupKeyUser = (userName: string, accessKeyId: string): FixtureUserInput => ({
  userName, createdAt: 'now-400d', loginProfile: { createdAt: 'now-400d' }, accessKeys: [{ accessKeyId, status: 'Active', createdAt: 'now-400d+30s' }],
});
const consoleOnly = (userName: string): FixtureUserInput => ({ userName, createdAt: 'now-300d', loginProfile: { createdAt: 'now-300d' } });
const apiOnly = (userName: string, accessKeyId: string): FixtureUserInput => ({
  userName, createdAt: 'now-300d', accessKeys: [{ accessKeyId, status: 'Active', createdAt: 'now-300d' }],
});
const fixture = (accountId: string, users: FixtureUserInput[]): FixtureInput => ({ accountId, accountCreatedAt: 'now-900d', users });

// A: 2 FAIL throughout. B: 3 FAIL, then 2 once b3's key is deactivated (day 3). C: 1 FAIL, and an ERROR from day 5.
const FIXTURE_A = fixture(A, [setupKeyUser('a1', 'AKIAORGREADSA1000001'), setupKeyUser('a2', 'AKIAORGREADSA2000001'), consoleOnly('a3'), apiOnly('a4', 'AKIAORGREADSA4000001')]);
const FIXTURE_B = fixture(B, [setupKeyUser('b1', 'AKIAORGREADSB1000001'), setupKeyUser('b2', 'AKIAORGREADSB2000001'), setupKeyUser('b3', 'AKIAORGREADSB3000001')]);
const FIXTURE_C = fixture(C, [setupKeyUser('c1', 'AKIAORGREADSC1000001'), consoleOnly('c2'), consoleOnly('c3')]);

const SUMMARY = 'accountId accounts compliant failingUsers counts { pass fail notApplicable error excepted } scannedAt { oldest newest } scan { id observedAt }';
const POINT = 'at endsAt scans accounts pass fail notApplicable error opened resolved meanTimeToResolveSeconds';

interface Stored {
  accountId: string;
  at: Date;
  summary: ScanSummary;
}

describe('organisation-wide reads before any account is scanned', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack(FIXTURE_A);
  });
  afterAll(() => stack.close());

  it('the summary says to run a scan first; the trend has null figures; the breakdown is empty', async () => {
    const summary: any = await stack.gql('{ complianceSummary { accounts } }');
    expect(summary.errors[0]).toMatchObject({ message: 'no account has a completed scan yet: run a scan first', extensions: { code: 'BAD_USER_INPUT' } });
    const trend: any = await stack.gql(`{ complianceTrend(from: "${at(0, 0).toISOString()}", to: "${at(2, 0).toISOString()}", interval: DAY) { scans accounts fail opened } }`);
    expect(trend.data.complianceTrend).toEqual([{ scans: 0, accounts: 0, fail: null, opened: null }, { scans: 0, accounts: 0, fail: null, opened: null }]);
    const breakdown: any = await stack.gql('{ accountCompliance { totalCount nodes { accountId } pageInfo { hasNextPage } } }');
    expect(breakdown.data.accountCompliance).toEqual({ totalCount: 0, nodes: [], pageInfo: { hasNextPage: false } });
  });
});

describe('organisation-wide reads over three accounts', () => {
  let stack: Stack;
  let sandboxB: IamSandbox;
  let sandboxC: IamSandbox;
  const stored: Stored[] = [];

  const scan = async (accountId: string, sandbox: IamSandbox, day: number, hour = 10, expected = 'COMPLETED') => {
    const when = at(day, hour);
    const summary = await createScanService(stack.prisma, sandboxIamClient(sandbox), () => when).run({
      collect: { mode: 'CREDENTIAL_REPORT', concurrency: 4, report: { deadlineMs: 5000, initialDelayMs: 10 } },
      control: DEFAULT_CONTROL_SETTINGS,
    });
    expect([accountId, day, summary.status]).toEqual([accountId, day, expected]);
    if (expected !== 'FAILED') stored.push({ accountId, at: when, summary });
  };
  const ok = async (query: string, variables?: Record<string, unknown>) => {
    const res: any = await stack.gql(query, variables);
    expect(res.errors).toBeUndefined();
    return res.data;
  };
  const refused = async (query: string, variables?: Record<string, unknown>) => {
    const res: any = await stack.gql(query, variables);
    expect(res.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    return res.errors[0] as { message: string; extensions: { field?: string } };
  };

  beforeAll(async () => {
    stack = await startStack(FIXTURE_A);
    sandboxB = await startIamSandbox({ fixture: FIXTURE_B });
    sandboxC = await startIamSandbox({ fixture: FIXTURE_C });
    await scan(A, stack.sandbox, 0);
    await scan(A, stack.sandbox, 1);
    await scan(B, sandboxB, 1);
    await scan(A, stack.sandbox, 2);
    await scan(C, sandboxC, 2);
    sandboxB.state.setKeyStatus('AKIAORGREADSB3000001', 'Inactive');
    await scan(A, stack.sandbox, 3);
    await scan(B, sandboxB, 3);
    await scan(A, stack.sandbox, 4);
    sandboxC.setFaults([{ operation: 'ListAccessKeys', userName: 'c1', error: 'AccessDenied' }]);
    await scan(C, sandboxC, 5, 10, 'PARTIAL');
    await scan(A, stack.sandbox, 5, 12);
    sandboxC.setFaults([{ operation: 'ListUsers', error: 'AccessDenied' }]);
    await scan(C, sandboxC, 6, 10, 'FAILED');
    sandboxC.setFaults([]);
  });
  afterAll(async () => {
    await stack?.close();
    await sandboxB?.close();
    await sandboxC?.close();
  });

  it('the accounts end as set up: A fails 2, B fails 2 (3 before day 3), C fails 1 with 1 ERROR', () => {
    const last = (id: string) => stored.filter((s) => s.accountId === id).at(-1)!.summary.counts;
    expect([last(A).fail, last(B).fail, last(C).fail, last(C).error]).toEqual([2, 2, 1, 1]);
    expect(stored.find((s) => s.accountId === B)!.summary.counts.fail).toBe(3);
  });

  it('complianceSummary without accountId sums every account\'s latest scan (an omitted accountId is no longer an error)', async () => {
    const org = (await ok(`{ complianceSummary { ${SUMMARY} } }`)).complianceSummary;
    const each = await Promise.all([A, B, C].map(async (id) => (await ok(`query($id: String) { complianceSummary(accountId: $id) { ${SUMMARY} } }`, { id })).complianceSummary));
    const sum = (pick: (s: any) => number) => each.reduce((n, s) => n + pick(s), 0);
    expect(org.counts).toEqual({
      pass: sum((s) => s.counts.pass), fail: sum((s) => s.counts.fail), notApplicable: sum((s) => s.counts.notApplicable),
      error: sum((s) => s.counts.error), excepted: sum((s) => s.counts.excepted),
    });
    expect(org.failingUsers).toBe(sum((s) => s.failingUsers));
    expect(org).toMatchObject({ accountId: null, scan: null, accounts: 3, compliant: false, failingUsers: 5, counts: { fail: 5, error: 1 } });
    // B was last scanned on day 3, A last on day 5 at 12:00.
    expect(org.scannedAt).toEqual({ oldest: at(3).toISOString(), newest: at(5, 12).toISOString() });
    // One account's answer is as before, with accounts 1 and its scan's time as the range.
    expect(each[1]).toMatchObject({ accountId: B, accounts: 1, scannedAt: { oldest: at(3).toISOString(), newest: at(3).toISOString() }, scan: { observedAt: at(3).toISOString() } });
  });

  it('complianceSummary(accountIds:) sums the listed accounts; a list of one answers as that account does', async () => {
    const ab = (await ok(`{ complianceSummary(accountIds: ["${A}", "${B}", "${A}"]) { ${SUMMARY} } }`)).complianceSummary;
    expect(ab).toMatchObject({ accountId: null, accounts: 2, failingUsers: 4, counts: { fail: 4, error: 0 }, compliant: false });
    const viaList = (await ok(`{ complianceSummary(accountIds: ["${C}"]) { ${SUMMARY} } }`)).complianceSummary;
    const viaId = (await ok(`{ complianceSummary(accountId: "${C}") { ${SUMMARY} } }`)).complianceSummary;
    expect(viaList).toEqual(viaId);
    expect(viaList).toMatchObject({ accountId: C, accounts: 1, counts: { fail: 1, error: 1 }, scan: { observedAt: at(5).toISOString() } });
  });

  it('complianceTrend without accountId carries each account\'s last state forward, from its first scan on', async () => {
    const points = (await ok(`query($from: DateTime!, $to: DateTime!) { complianceTrend(from: $from, to: $to, interval: DAY) { ${POINT} } }`,
      { from: at(-1, 0).toISOString(), to: at(7, 0).toISOString() })).complianceTrend;
    expect(points).toHaveLength(8);
    const [before, d0, d1, d2, d3, d4, d5, d6] = points;
    // Before any account's first scan: null figures, as one account's trend has.
    expect(before).toMatchObject({ scans: 0, accounts: 0, pass: null, fail: null, error: null, opened: null, resolved: null, meanTimeToResolveSeconds: null });
    expect(d0).toMatchObject({ scans: 1, accounts: 1, fail: 2, opened: 2 });
    expect(d1).toMatchObject({ scans: 2, accounts: 2, fail: 5, opened: 3 }); // B joins with 3
    expect(d2).toMatchObject({ scans: 2, accounts: 3, fail: 6, opened: 1 }); // C joins with 1
    expect(d3).toMatchObject({ scans: 2, accounts: 3, fail: 5, resolved: 1 }); // B resolved one
    expect(d4).toMatchObject({ scans: 1, accounts: 3, fail: 5, error: 0 }); // B and C carried, not zero
    expect(d5).toMatchObject({ scans: 2, accounts: 3, fail: 5, error: 1 }); // C's PARTIAL scan
    // Day 6: only C's FAILED scan, which changes nothing: every account carried, nothing opened or resolved.
    expect(d6).toMatchObject({ scans: 0, accounts: 3, fail: 5, error: 1, opened: 0, resolved: 0, meanTimeToResolveSeconds: null });

    // Every bucket equals the sum, over the accounts, of each one's last stored scan before the bucket's end.
    for (const p of points) {
      const end = Date.parse(p.endsAt);
      const lastOf = (id: string) => stored.filter((s) => s.accountId === id && s.at.getTime() < end).at(-1)?.summary;
      const lasts = [A, B, C].map(lastOf).filter((s) => s !== undefined);
      const inside = stored.filter((s) => s.at.getTime() >= Date.parse(p.at) && s.at.getTime() < end);
      const sum = (pick: (s: ScanSummary) => number) => (lasts.length ? lasts.reduce((n, s) => n + pick(s!), 0) : null);
      expect({ at: p.at, scans: p.scans, accounts: p.accounts, pass: p.pass, fail: p.fail, notApplicable: p.notApplicable, error: p.error }).toEqual({
        at: p.at, scans: inside.length, accounts: lasts.length,
        pass: sum((s) => s.counts.pass), fail: sum((s) => s.counts.fail), notApplicable: sum((s) => s.counts.notApplicable), error: sum((s) => s.counts.error),
      });
      if (lasts.length) expect([p.opened, p.resolved]).toEqual([inside.reduce((n, s) => n + s.summary.opened, 0), inside.reduce((n, s) => n + s.summary.resolved, 0)]);
    }
  });

  it('one account\'s trend keeps null figures where it was not scanned; accountIds: [it] carries its state forward instead', async () => {
    const range = { from: at(3, 0).toISOString(), to: at(6, 0).toISOString() };
    const one = (await ok(`query($from: DateTime!, $to: DateTime!) { complianceTrend(accountId: "${B}", from: $from, to: $to, interval: DAY) { scans accounts fail } }`, range)).complianceTrend;
    expect(one).toEqual([{ scans: 1, accounts: 1, fail: 2 }, { scans: 0, accounts: 0, fail: null }, { scans: 0, accounts: 0, fail: null }]);
    const listed = (await ok(`query($from: DateTime!, $to: DateTime!) { complianceTrend(accountIds: ["${B}"], from: $from, to: $to, interval: DAY) { scans accounts fail } }`, range)).complianceTrend;
    expect(listed).toEqual([{ scans: 1, accounts: 1, fail: 2 }, { scans: 0, accounts: 1, fail: 2 }, { scans: 0, accounts: 1, fail: 2 }]);
    // Of B and C by WEEK: one bucket, their states at its end, every scan of theirs inside it.
    const week = (await ok(`{ complianceTrend(accountIds: ["${B}", "${C}"], from: "${at(0, 0).toISOString()}", to: "${at(7, 0).toISOString()}", interval: WEEK) { ${POINT} } }`)).complianceTrend;
    const ofBC = stored.filter((s) => s.accountId !== A);
    expect(week).toEqual([expect.objectContaining({
      scans: 4, accounts: 2, fail: 3, error: 1,
      opened: ofBC.reduce((n, s) => n + s.summary.opened, 0), resolved: ofBC.reduce((n, s) => n + s.summary.resolved, 0),
    })]);
  });

  it('findings(filter: { accountIds }) lists exactly those accounts\' findings, paged across them', async () => {
    const count = async (filter: string) => (await ok(`{ findings(filter: ${filter}) { totalCount } }`)).findings.totalCount;
    const [b, c, all] = await Promise.all([count(`{ accountId: "${B}" }`), count(`{ accountIds: ["${C}"] }`), count('{}')]);
    const q = `query($after: String) { findings(filter: { accountIds: ["${B}", "${C}"] }, first: 2, after: $after) { totalCount nodes { id accountId } pageInfo { hasNextPage endCursor } } }`;
    const seen: { id: string; accountId: string }[] = [];
    let after: string | null = null;
    for (let i = 0; i < 20; i++) {
      const page: any = (await ok(q, { after })).findings;
      expect(page.totalCount).toBe(b + c);
      seen.push(...page.nodes);
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    expect(seen).toHaveLength(b + c);
    expect(new Set(seen.map((f) => f.id)).size).toBe(b + c);
    expect(new Set(seen.map((f) => f.accountId))).toEqual(new Set([B, C]));
    expect(all).toBeGreaterThan(b + c);
    const failing = (await ok(`{ findings(filter: { accountIds: ["${A}", "${C}"], status: [FAIL] }) { nodes { accountId userName } } }`)).findings.nodes;
    expect(failing.map((f: any) => `${f.accountId}/${f.userName}`).sort()).toEqual([`${A}/a1`, `${A}/a2`, `${C}/c1`]);
  });

  it('findings(filter: { accountIds }, asOf:) answers each account as of the instant, and refuses an instant before one\'s first scan', async () => {
    const then = (await ok(`{ findings(filter: { accountIds: ["${A}", "${B}"], status: [FAIL] }, asOf: "${at(2, 12).toISOString()}") { totalCount } }`)).findings;
    expect(then.totalCount).toBe(5); // A's 2 and B's 3, before b3's key was deactivated
    const error = await refused(`{ findings(filter: { accountIds: ["${A}", "${B}"] }, asOf: "${at(0, 12).toISOString()}") { totalCount } }`);
    expect(error.message).toMatch(new RegExp(`before the first scan of account ${B}`));
  });

  it('iamUsers(filter: { accountIds }) lists those accounts\' users', async () => {
    const users = (await ok(`{ iamUsers(filter: { accountIds: ["${A}", "${C}"] }, first: 100) { totalCount nodes { accountId userName } } }`)).iamUsers;
    expect(users.nodes.map((u: any) => `${u.accountId}/${u.userName}`)).toEqual([`${A}/a1`, `${A}/a2`, `${A}/a3`, `${A}/a4`, `${C}/c1`, `${C}/c2`, `${C}/c3`]);
    expect(users.totalCount).toBe(7);
    const deprecated = (await ok(`{ iamUsers(filter: { accountId: "${B}" }) { totalCount } }`)).iamUsers;
    expect(deprecated.totalCount).toBe(3);
  });

  it('accountCompliance orders accounts by failing findings (worst first by default), errors, last scan or id; each node is the account\'s summary', async () => {
    const order = async (orderBy?: string) =>
      (await ok(`{ accountCompliance${orderBy ? `(orderBy: ${orderBy})` : ''} { totalCount nodes { accountId } } }`)).accountCompliance;
    const ids = async (orderBy?: string) => (await order(orderBy)).nodes.map((n: any) => n.accountId);
    expect((await order()).totalCount).toBe(3);
    expect(await ids()).toEqual([A, B, C]); // A and B fail 2 each (ties by account id), C fails 1
    expect(await ids('{ field: FAIL_COUNT, direction: ASC }')).toEqual([C, A, B]);
    expect(await ids('{ field: ERROR_COUNT }')).toEqual([C, A, B]);
    expect(await ids('{ field: LAST_SCAN_AT, direction: ASC }')).toEqual([B, C, A]);
    expect(await ids('{ field: LAST_SCAN_AT, direction: DESC }')).toEqual([A, C, B]);
    expect(await ids('{ field: ACCOUNT_ID, direction: DESC }')).toEqual([C, B, A]);
    // Each node is what complianceSummary(accountId:) answers for its account.
    const nodes = (await ok(`{ accountCompliance { nodes { ${SUMMARY} scan { status } } } }`)).accountCompliance.nodes;
    for (const node of nodes) {
      const single = (await ok(`{ complianceSummary(accountId: "${node.accountId}") { ${SUMMARY} scan { status } } }`)).complianceSummary;
      expect(node).toEqual(single);
    }
    expect(nodes.find((n: any) => n.accountId === C).scan.status).toBe('PARTIAL');
  });

  it('accountCompliance pages by keyset cursors, in every order', async () => {
    for (const orderBy of ['{ field: FAIL_COUNT }', '{ field: ERROR_COUNT, direction: ASC }', '{ field: LAST_SCAN_AT }', '{ field: ACCOUNT_ID, direction: ASC }']) {
      const whole = (await ok(`{ accountCompliance(orderBy: ${orderBy}) { nodes { accountId } } }`)).accountCompliance.nodes;
      const q = `query($after: String) { accountCompliance(orderBy: ${orderBy}, first: 1, after: $after) { totalCount nodes { accountId } edges { cursor } pageInfo { hasNextPage endCursor } } }`;
      const paged: string[] = [];
      let after: string | null = null;
      for (let i = 0; i < 5; i++) {
        const page: any = (await ok(q, { after })).accountCompliance;
        expect(page.totalCount).toBe(3);
        paged.push(...page.nodes.map((n: any) => n.accountId));
        if (!page.pageInfo.hasNextPage) break;
        expect(page.edges[0].cursor).toBe(page.pageInfo.endCursor);
        after = page.pageInfo.endCursor;
      }
      expect({ orderBy, paged }).toEqual({ orderBy, paged: whole.map((n: any) => n.accountId) });
    }
    const empty = (await ok('{ accountCompliance(first: 0) { totalCount nodes { accountId } pageInfo { hasNextPage endCursor } } }')).accountCompliance;
    expect(empty).toEqual({ totalCount: 3, nodes: [], pageInfo: { hasNextPage: true, endCursor: null } });
  });

  it('refuses unknown accounts (naming them), both accountId and accountIds, an empty list, and foreign cursors with BAD_USER_INPUT', async () => {
    const range = `from: "${at(0).toISOString()}", to: "${at(3).toISOString()}", interval: DAY`;
    for (const query of [
      `{ complianceSummary(accountIds: ["${A}", "${UNKNOWN}"]) { accounts } }`,
      `{ complianceTrend(accountIds: ["${UNKNOWN}", "${B}"], ${range}) { at } }`,
      `{ findings(filter: { accountIds: ["${UNKNOWN}"] }) { totalCount } }`,
      `{ iamUsers(filter: { accountIds: ["${C}", "${UNKNOWN}"] }) { totalCount } }`,
    ]) {
      const error = await refused(query);
      expect({ query, message: error.message, field: error.extensions.field }).toEqual({ query, message: expect.stringContaining(UNKNOWN), field: 'accountIds' });
      expect(error.message).not.toContain(A);
    }
    const two = await refused(`{ complianceTrend(accountIds: ["${UNKNOWN}", "888888888888"], ${range}) { at } }`);
    expect(two.message).toMatch(/accounts 999999999999, 888888888888/);
    expect((await refused(`{ complianceSummary(accountId: "${UNKNOWN}") { accounts } }`)).message).toMatch(/no completed scan of account 999999999999/);
    expect((await refused(`{ complianceSummary(accountId: "${A}", accountIds: ["${B}"]) { accounts } }`)).message).toMatch(/not both/);
    expect((await refused(`{ findings(filter: { accountId: "${A}", accountIds: ["${B}"] }) { totalCount } }`)).message).toMatch(/not both/);
    expect((await refused(`{ complianceTrend(accountIds: [], ${range}) { at } }`)).message).toMatch(/at least one account/);
    expect((await refused(`{ iamUsers(filter: { accountIds: [""] }) { totalCount } }`)).message).toMatch(/empty/);
    const { accountCompliance } = await ok('{ accountCompliance(first: 1) { pageInfo { endCursor } } }');
    const foreign = await refused(`{ accountCompliance(orderBy: { field: LAST_SCAN_AT }, after: "${accountCompliance.pageInfo.endCursor}") { totalCount } }`);
    expect(foreign).toMatchObject({ message: expect.stringMatching(/issued for orderBy \{ field: FAIL_COUNT, direction: DESC \}/), extensions: { field: 'after' } });
    expect((await refused('{ accountCompliance(after: "garbage") { totalCount } }')).message).toMatch(/cursor/);
    const forged = (key: unknown[]) => Buffer.from(JSON.stringify(key)).toString('base64url');
    for (const key of [['constructor', 'DESC', '1', A], ['FAIL_COUNT', 'DESC', '1e99', A], ['LAST_SCAN_AT', 'DESC', '2020-02-30T00:00:00.000Z', A]]) {
      const error = await refused(`{ accountCompliance(orderBy: { field: ${key[0] === 'LAST_SCAN_AT' ? 'LAST_SCAN_AT' : 'FAIL_COUNT'} }, after: "${forged(key)}") { totalCount } }`);
      expect({ key, message: error.message }).toEqual({ key, message: 'after is not a cursor returned by this API' });
    }
    expect((await refused('{ accountCompliance(first: 101) { totalCount } }')).message).toMatch(/first must be between 0 and 100/);
  });
});
