import { loadConfig } from '../../src/config';
import { createScanService } from '../../src/app';
import { DEFAULT_CONTROL_SETTINGS } from '../../src/controls/no-access-keys-at-setup/control';
import { toGlobalId } from '../../src/graphql/common/node';
import type { FixtureInput } from '../../src/sandbox/fixture';
import { startIamSandbox } from '../../src/sandbox/iam-sandbox.server';
import { RetentionService } from '../../src/services/retention.service';
import { sandboxIamClient, startStack, TEST_ADMIN_TOKEN, type Stack } from '../support/stack';

/**
 * Hostile review of issue #12's fixes (history an auditor can trust): variants the regression tests in
 * test/services/history-*.integration.test.ts do not cover, through the IAM sandbox (faults, reused reports,
 * shifted clocks), real PostgreSQL and the HTTP GraphQL endpoint. Attacks that held stay as regression tests.
 */
const ACCOUNT = '616161616161';
const OTHER = '626262626262';
const DAY = 86_400_000;
const NOW = Date.now();
const day = (d: number) => new Date(NOW - d * DAY);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const PER_USER = { mode: 'PER_USER_API' as const };

type Keys = NonNullable<FixtureInput['users']>[number]['accessKeys'];
const consoleUser = (userName: string, createdAt: string, accessKeys: Keys = []) => ({ userName, createdAt, loginProfile: { createdAt }, accessKeys });

const FINDING = 'id status reasons state resolution resolvedAt reopenCount userName userArn accessKeyId lastSeenAt scan { id } evidence { accessKeyStatus passwordEnabled }';
const ALL_STATES = 'state: [OPEN, RESOLVED, NEVER_FAILED]';

async function findings(stack: Stack, filter = ALL_STATES, asOf?: Date, accountId = ACCOUNT): Promise<any[]> {
  const res: any = await stack.gql(
    `query($asOf: DateTime) { findings(filter: { accountId: "${accountId}", ${filter} }, asOf: $asOf, first: 100) { nodes { ${FINDING} } } }`,
    { asOf: asOf?.toISOString() },
  );
  expect(res.errors).toBeUndefined();
  return res.data.findings.nodes;
}
const keyFinding = async (stack: Stack, accessKeyId: string, asOf?: Date, accountId = ACCOUNT) =>
  (await findings(stack, ALL_STATES, asOf, accountId)).find((f) => f.accessKeyId === accessKeyId);
const localScanId = (globalId: string) => Buffer.from(globalId, 'base64url').toString().replace(/^Scan:/, '');
const byId = (rows: any[]) => [...rows].sort((a, b) => (a.id < b.id ? -1 : 1));
const byKey = (rows: any[]) => [...rows].sort((a, b) => String(a.accessKeyId).localeCompare(String(b.accessKeyId)));

describe('review #12: what a scan stores', () => {
  let stack: Stack | undefined;
  afterEach(async () => {
    await stack?.close();
    stack = undefined;
  });

  // Was a defect: a finding resolved because its key or user is gone (KEY_DELETED, USER_DELETED) got no version:
  // planChanges closed its last version at the scan and wrote none (present=false lived on the finding row only). So
  // findings(asOf:, state: [RESOLVED]) at or after that scan, and scan(id) { findings } of that scan, omitted it, while
  // findings() without asOf listed it. Now the disappearance opens a version with present=false (migration
  // 20261130500000), and the asOf reads ask `v.present` where the current read asks `f.present`.
  it('asOf the latest scan answers what the current read answers, resolved findings of deleted keys and users included', async () => {
    stack = await startStack({
      accountId: ACCOUNT, accountCreatedAt: 'now-900d',
      users: [
        consoleUser('amy', 'now-300d', [{ accessKeyId: 'AKIAAMYSETUP00000001', status: 'Active', createdAt: 'now-300d+1m' }]),
        consoleUser('ben', 'now-300d', [{ accessKeyId: 'AKIABENSETUP00000001', status: 'Active', createdAt: 'now-300d+1m' }]),
        consoleUser('cal', 'now-300d'),
      ],
    });
    await stack.scan({}, {}, day(3));
    stack.sandbox.state.deleteAccessKey('AKIAAMYSETUP00000001');
    stack.sandbox.state.deleteUser('ben');
    stack.sandbox.state.invalidateCredentialReport();
    const last = await stack.scan({}, {}, day(2));
    expect(last.resolved).toBe(2);
    const current = await findings(stack);
    expect(current.map((f) => [f.userName, f.resolution])).toEqual(expect.arrayContaining([['amy', 'KEY_DELETED'], ['ben', 'USER_DELETED']]));
    // Every field, lastSeenAt and scan included (the scan that last read the gone key, not the one that found it gone).
    const gone = current.filter((f) => f.resolution === 'KEY_DELETED' || f.resolution === 'USER_DELETED');
    expect(gone.map((f) => f.lastSeenAt)).toEqual([day(3).toISOString(), day(3).toISOString()]);
    for (const asOf of [day(2), day(1)]) {
      expect(byId(await findings(stack, ALL_STATES, asOf))).toEqual(byId(current));
      // The default list leaves them out, as without asOf.
      expect(byId(await findings(stack, '', asOf))).toEqual(byId(await findings(stack, '')));
    }
    // scan(id) of that scan lists what it held: the resolutions it made among them.
    const held: any = await stack.gql(`query($id: ID!) { scan(id: $id) { findings(first: 50, filter: { ${ALL_STATES} }) { nodes { accessKeyId state resolution } } } }`, { id: toGlobalId('Scan', last.scanId) });
    expect(held.errors).toBeUndefined();
    expect(held.data.scan.findings.nodes).toEqual(expect.arrayContaining([{ accessKeyId: 'AKIAAMYSETUP00000001', state: 'RESOLVED', resolution: 'KEY_DELETED' }]));
  });

  // A gone finding keeps the FAIL it last had (the current read shows it so, among the resolved): as of any instant
  // it must count nowhere a present FAIL counts, and a finding seen again is present again from that scan only.
  it('a gone finding counts nowhere asOf (FAIL filters, totals, failingUsers, IamUser.findings, exports), and one seen again is present again from that scan', async () => {
    const [AMY, BEN] = ['AKIAAMYSETUP00000002', 'AKIABENSETUP00000002'];
    stack = await startStack({
      accountId: ACCOUNT, accountCreatedAt: 'now-900d',
      users: [
        consoleUser('amy', 'now-300d', [{ accessKeyId: AMY, status: 'Active', createdAt: 'now-300d+1m' }]),
        consoleUser('ben', 'now-300d', [{ accessKeyId: BEN, status: 'Active', createdAt: 'now-300d+1m' }]),
        consoleUser('cal', 'now-300d'),
      ],
    });
    const s = stack;
    const base = s.server.url.replace(/\/graphql$/, '');
    const ACC = `accountId: "${ACCOUNT}"`;
    const keys = 'totalCount nodes { accessKeyId state resolution }';
    const reads = async (asOf?: Date) => {
      const res: any = await s.gql(
        `query($asOf: DateTime) {
          failing: findings(filter: { ${ACC}, status: [FAIL] }, asOf: $asOf) { ${keys} }
          everything: findings(filter: { ${ACC} }, asOf: $asOf) { ${keys} }
          failingResolved: findings(filter: { ${ACC}, status: [FAIL], state: [RESOLVED] }, asOf: $asOf) { ${keys} }
          amy: iamUser(${ACC}, userName: "amy", asOf: $asOf) { findings { accessKeyId state } }
        }`,
        { asOf: asOf?.toISOString() },
      );
      expect(res.errors).toBeUndefined();
      const exported = async (query: string) => {
        const r = await fetch(`${base}/exports/findings?format=jsonl&accountIds=${ACCOUNT}&${query}${asOf ? `&asOf=${encodeURIComponent(asOf.toISOString())}` : ''}`, {
          headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` },
        });
        expect(r.status).toBe(200);
        return (await r.text()).split('\n').filter(Boolean).map((l) => JSON.parse(l)).map((x) => [x.identity.split('/').at(-1), x.status, x.state]);
      };
      return { ...res.data, exportFailing: await exported('status=FAIL'), exportResolved: await exported('state=RESOLVED') };
    };
    const failingUsers = async () => {
      const res: any = await s.gql(`{ one: complianceSummary(${ACC}) { failingUsers } summed: complianceSummary(accountIds: ["${ACCOUNT}"]) { failingUsers } }`);
      expect(res.errors).toBeUndefined();
      return [res.data.one.failingUsers, res.data.summed.failingUsers];
    };
    const heldFailing = async (scanId: string) => {
      const res: any = await s.gql(`query($id: ID!) { scan(id: $id) { findings(filter: { status: [FAIL] }) { totalCount } } }`, { id: toGlobalId('Scan', scanId) });
      expect(res.errors).toBeUndefined();
      return res.data.scan.findings.totalCount;
    };

    await s.scan({}, {}, day(4));
    expect(await failingUsers()).toEqual([2, 2]);
    // ben is deleted; amy loses her console password, so her key's finding no longer applies (gone too).
    s.sandbox.state.deleteUser('ben');
    s.sandbox.state.setLoginProfile('amy', null);
    s.sandbox.state.invalidateCredentialReport();
    const goneScan = await s.scan({}, {}, day(3));
    const then = await reads();
    expect(then.failing).toEqual({ totalCount: 0, nodes: [] });
    expect(then.everything.nodes.filter((f: any) => f.accessKeyId !== null)).toEqual([]); // no key is there to list
    expect(byKey(then.failingResolved.nodes)).toEqual([
      { accessKeyId: AMY, state: 'RESOLVED', resolution: 'NO_LONGER_APPLICABLE' },
      { accessKeyId: BEN, state: 'RESOLVED', resolution: 'USER_DELETED' },
    ]);
    expect(then.amy.findings).toEqual([{ accessKeyId: null, state: 'NEVER_FAILED' }]);
    expect(then.exportFailing).toEqual([]);
    expect(then.exportResolved).toEqual([[AMY, 'FAIL', 'RESOLVED'], [BEN, 'FAIL', 'RESOLVED']]);
    expect(await failingUsers()).toEqual([0, 0]);
    expect(await heldFailing(goneScan.scanId)).toBe(0);

    // amy's password is back: her key's finding is seen again, present and failing, from this scan on.
    s.sandbox.state.setLoginProfile('amy', { createdAt: day(300), passwordResetRequired: false });
    s.sandbox.state.invalidateCredentialReport();
    const backScan = await s.scan({}, {}, day(2));
    const now = await reads();
    expect(now.failing.nodes).toEqual([{ accessKeyId: AMY, state: 'OPEN', resolution: null }]);
    expect(await failingUsers()).toEqual([1, 1]);
    expect(await heldFailing(backScan.scanId)).toBe(1);
    expect(await heldFailing(goneScan.scanId)).toBe(0);
    // Each instant answers what the current read answered then.
    expect(await reads(day(3))).toEqual(then);
    expect(await reads(day(2.5))).toEqual(then);
    expect(await reads(day(2))).toEqual(now);
    expect(await reads(day(1))).toEqual(now);
  });

  // Fixed (branch report-live): the report path took a user's password (and, without it, the absence of kept keys)
  // from a reused report generated before the previous per-user scan read that user live. The older report overrode
  // the newer live read, so the key's finding resolved as NO_LONGER_APPLICABLE / opened and flapped on every change
  // of mode (reopenCount and MTTR inflated), like defect 4 of #12. Now a report scan reads live the users stored
  // scans read live after the report was generated: all of them (the per-user API) after a full per-user scan.
  it('a console password added after a reused credential report: report and per-user scans agree, and the finding never flaps', async () => {
    const KEY = 'AKIAHALSETUP00000002';
    // hal is an API-only user whose key was made with the user; a console password turns it into a setup key.
    stack = await startStack({
      accountId: ACCOUNT, accountCreatedAt: 'now-900d',
      users: [{ userName: 'hal', createdAt: 'now-300d', accessKeys: [{ accessKeyId: KEY, status: 'Active', createdAt: 'now-300d+1m' }] }],
    });
    expect((await stack.scan()).status).toBe('COMPLETED'); // generates the report: hal has no password
    stack.sandbox.state.setLoginProfile('hal', { createdAt: new Date(), passwordResetRequired: false });
    const seen: string[] = [];
    for (const mode of ['PER_USER_API', 'CREDENTIAL_REPORT', 'PER_USER_API'] as const) {
      const s = await stack.scan({ mode });
      expect(s.status).toBe('COMPLETED');
      const f = await keyFinding(stack, KEY);
      seen.push(`${mode}: ${f?.status} ${f?.state} reopened ${f?.reopenCount}`);
    }
    expect(seen).toEqual(['PER_USER_API: FAIL OPEN reopened 0', 'CREDENTIAL_REPORT: FAIL OPEN reopened 0', 'PER_USER_API: FAIL OPEN reopened 0']);
    // The report scan after the full per-user scan fell back to the per-user API, and says why.
    const reportScan: any = await stack.gql(`{ scans(first: 2) { nodes { source errors { severity code message } } } }`);
    expect(reportScan.data.scans.nodes[1]).toMatchObject({
      source: 'PER_USER_API',
      errors: [{ severity: 'WARNING', code: 'CREDENTIAL_REPORT_UNAVAILABLE', message: expect.stringContaining('older than a per-user scan already stored') }],
    });
  });

  // Fixed (branch report-live): the report path took a user's password (and, without it, the absence of kept keys)
  // from a reused report generated before the previous per-user scan read that user live. The older report overrode
  // the newer live read, so the key's finding resolved as NO_LONGER_APPLICABLE / opened and flapped on every change
  // of mode (reopenCount and MTTR inflated), like defect 4 of #12. Now a report scan reads live the users stored
  // scans read live after the report was generated: all of them (the per-user API) after a full per-user scan.
  it('a console password removed after a reused credential report: report and per-user scans agree, and the finding never flaps', async () => {
    const KEY = 'AKIAIDASETUP00000002';
    stack = await startStack({
      accountId: ACCOUNT, accountCreatedAt: 'now-900d',
      users: [consoleUser('ida', 'now-300d', [{ accessKeyId: KEY, status: 'Active', createdAt: 'now-300d+1m' }])],
    });
    expect((await stack.scan()).status).toBe('COMPLETED');
    stack.sandbox.state.setLoginProfile('ida', null);
    const seen: string[] = [];
    for (const mode of ['PER_USER_API', 'CREDENTIAL_REPORT', 'PER_USER_API'] as const) {
      const s = await stack.scan({ mode });
      expect(s.status).toBe('COMPLETED');
      const f = await keyFinding(stack, KEY);
      seen.push(`${mode}: ${f?.state} ${f?.resolution} opened ${s.opened} resolved ${s.resolved}`);
    }
    expect(seen).toEqual([
      'PER_USER_API: RESOLVED NO_LONGER_APPLICABLE opened 0 resolved 1',
      'CREDENTIAL_REPORT: RESOLVED NO_LONGER_APPLICABLE opened 0 resolved 0',
      'PER_USER_API: RESOLVED NO_LONGER_APPLICABLE opened 0 resolved 0',
    ]);
  });

  // The targeted re-scan after a remediation reads one user live, after the (reused) report: report scans on that
  // report read that user live too, and only that user, so a remediation does not cost a per-user scan of everyone.
  it('a remediation\'s re-scan of one user after a reused credential report: report scans read that user live, only that user, and nothing flaps', async () => {
    const SETUP = 'AKIAHALSETUP00000004';
    const LATER = 'AKIAHALLATER00000004';
    const DAN = 'AKIADANLATER00000004';
    stack = await startStack({
      accountId: ACCOUNT, accountCreatedAt: 'now-900d',
      users: [
        // hal is API-only: its key made with the user is not a setup key until it gets a console password.
        { userName: 'hal', createdAt: 'now-300d', accessKeys: [
          { accessKeyId: SETUP, status: 'Active', createdAt: 'now-300d+1m' },
          { accessKeyId: LATER, status: 'Active', createdAt: 'now-100d', lastUsed: { date: 'now-2d', serviceName: 's3', region: 'us-east-1' } },
        ] },
        consoleUser('dan', 'now-300d', [{ accessKeyId: DAN, status: 'Active', createdAt: 'now-200d', lastUsed: { date: 'now-3d', serviceName: 's3', region: 'us-east-1' } }]),
        consoleUser('cal', 'now-300d'),
        { userName: 'eve', createdAt: 'now-300d', accessKeys: [] },
      ],
    });
    const first = await stack.scan(); // generates the report: hal has no password
    expect(first.status).toBe('COMPLETED');
    expect((await findings(stack)).filter((f) => f.userName === 'hal').map((f) => f.status)).toEqual(['NOT_APPLICABLE']);
    stack.sandbox.state.setLoginProfile('hal', { createdAt: new Date(), passwordResetRequired: false });
    const deactivated: any = await stack.gql(
      `mutation($i: AccessKeyActionInput!) { deactivateAccessKey(input: $i) { action { status } userErrors { code } } }`,
      { i: { accountId: ACCOUNT, userName: 'hal', accessKeyId: LATER, reason: 'review: re-scan after a reused report', force: true } },
    );
    expect(deactivated.data.deactivateAccessKey).toEqual({ action: { status: 'SUCCEEDED' }, userErrors: [] });
    const rescan = await stack.prisma.scan.findFirstOrThrow({ where: { accountId: ACCOUNT }, orderBy: { observedAt: 'desc' } });
    expect(rescan.settings).toMatchObject({ scope: ['hal'] }); // the remediation's targeted re-scan read hal live
    expect(await keyFinding(stack, SETUP)).toMatchObject({ status: 'FAIL', state: 'OPEN', reopenCount: 0 });

    const seen: string[] = [];
    for (const mode of ['CREDENTIAL_REPORT', 'CREDENTIAL_REPORT', 'PER_USER_API'] as const) {
      stack.sandbox.resetCalls();
      const s = await stack.scan({ mode });
      expect(s.status).toBe('COMPLETED');
      expect(s.errors).toEqual([]); // no fallback warning: the report was used
      const f = await keyFinding(stack, SETUP);
      seen.push(`${mode}: ${f?.status} ${f?.state} reopened ${f?.reopenCount} opened ${s.opened} resolved ${s.resolved}`);
      if (mode === 'CREDENTIAL_REPORT') {
        const stored = await stack.prisma.scan.findUniqueOrThrow({ where: { id: s.scanId } });
        expect(stored.source).toBe('CREDENTIAL_REPORT');
        expect(stored.reportGeneratedAt?.getTime()).toBe((await stack.prisma.scan.findUniqueOrThrow({ where: { id: first.scanId } })).reportGeneratedAt?.getTime());
        // hal alone is read live (GetLoginProfile, both keys' last use); dan's key is matched to its report slot.
        expect(stack.sandbox.calls().succeededByOperation).toEqual({
          GenerateCredentialReport: 1, GetCredentialReport: 1, ListUsers: 1,
          GetLoginProfile: 1, ListAccessKeys: 2, GetAccessKeyLastUsed: 2,
        });
      }
    }
    expect(seen).toEqual([
      'CREDENTIAL_REPORT: FAIL OPEN reopened 0 opened 0 resolved 0',
      'CREDENTIAL_REPORT: FAIL OPEN reopened 0 opened 0 resolved 0',
      'PER_USER_API: FAIL OPEN reopened 0 opened 0 resolved 0',
    ]);
    expect((await keyFinding(stack, LATER))?.status).toBe('PASS');
  });

  it('two PARTIAL scans in a row for the same unreadable user, then a complete one: one ERROR opened and resolved, the FAIL untouched, counts and changes exact', async () => {
    const KEY = 'AKIAJOESETUP00000003';
    stack = await startStack({
      accountId: ACCOUNT, accountCreatedAt: 'now-900d',
      users: [consoleUser('joe', 'now-300d', [{ accessKeyId: KEY, status: 'Active', createdAt: 'now-300d+1m' }]), consoleUser('kim', 'now-300d')],
    });
    const first = await stack.scan(PER_USER, {}, day(4));
    const failing = await keyFinding(stack, KEY);
    stack.sandbox.setFaults([{ operation: 'GetLoginProfile', userName: 'joe', error: 'AccessDenied' }]);
    const p1 = await stack.scan(PER_USER, {}, day(3));
    const p2 = await stack.scan(PER_USER, {}, day(2));
    stack.sandbox.setFaults([]);
    const healed = await stack.scan(PER_USER, {}, day(1));
    expect([first, p1, p2, healed].map((s) => [s.status, s.counts.fail, s.counts.pass, s.counts.error, s.opened, s.resolved])).toEqual([
      ['COMPLETED', 1, 1, 0, 1, 0],
      ['PARTIAL', 1, 1, 1, 1, 0],
      ['PARTIAL', 1, 1, 1, 0, 0],
      ['COMPLETED', 1, 1, 0, 0, 1],
    ]);
    expect(await keyFinding(stack, KEY)).toMatchObject({ id: failing.id, state: 'OPEN', reopenCount: 0, resolvedAt: null, lastSeenAt: day(1).toISOString() });
    // As of the second PARTIAL scan, the FAIL was last seen by the first scan (both PARTIAL scans carried it).
    const carried = await keyFinding(stack, KEY, day(1.5));
    expect([carried.lastSeenAt, localScanId(carried.scan.id)]).toEqual([day(4).toISOString(), first.scanId]);
    const error = (await findings(stack)).find((f) => f.status === 'ERROR');
    expect(error).toMatchObject({ userName: 'joe', state: 'RESOLVED', resolution: 'NO_LONGER_APPLICABLE', reopenCount: 0 });

    const changes: any = await stack.gql(`{ findingChanges(first: 50) { nodes { type occurredAt finding { id } } } }`);
    expect(changes.data.findingChanges.nodes.map((c: any) => [c.type, c.finding.id === failing.id ? 'FAIL' : c.finding.id === error.id ? 'ERROR' : 'other', c.occurredAt])).toEqual([
      ['OPENED', 'FAIL', day(4).toISOString()],
      ['OPENED', 'ERROR', day(3).toISOString()],
      ['RESOLVED', 'ERROR', day(1).toISOString()],
    ]);
    const trend: any = await stack.gql(`query($from: DateTime!, $to: DateTime!) { complianceTrend(accountId: "${ACCOUNT}", from: $from, to: $to, interval: DAY) { fail error opened resolved meanTimeToResolveSeconds scans } }`,
      { from: new Date(day(5).setUTCHours(0, 0, 0, 0)).toISOString(), to: new Date(NOW).toISOString() });
    const buckets = trend.data.complianceTrend.filter((b: any) => b.scans > 0);
    expect(buckets.map((b: any) => [b.fail, b.error, b.opened, b.resolved])).toEqual([[1, 0, 1, 0], [1, 1, 1, 0], [1, 1, 0, 0], [1, 0, 0, 1]]);
    expect(buckets[3].meanTimeToResolveSeconds).toBe(2 * 86_400);
  });

  it('a PARTIAL scan that could not read a user renamed since files its carried findings under the new name, not the name another user now has', async () => {
    const KEY = 'AKIALEASETUP00000004';
    stack = await startStack({
      accountId: ACCOUNT, accountCreatedAt: 'now-900d',
      users: [consoleUser('lea', 'now-300d', [{ accessKeyId: KEY, status: 'Active', createdAt: 'now-300d+1m' }])],
    });
    const first = await stack.scan(PER_USER, {}, day(3));
    stack.sandbox.state.updateUser('lea', { newUserName: 'leah' });
    stack.sandbox.state.addUser({ userName: 'lea', userId: 'AIDANEWLEA0000000004', createdAt: 'now-1h', loginProfile: { createdAt: 'now-1h' } });
    stack.sandbox.setFaults([{ operation: 'ListAccessKeys', userName: 'leah', error: 'AccessDenied' }]);
    expect((await stack.scan(PER_USER, {}, day(2))).status).toBe('PARTIAL');
    stack.sandbox.setFaults([]);
    // The user lea now is someone else, without keys: none of her findings is the FAIL of leah's key.
    const lea = await findings(stack, `${ALL_STATES}, userName: "lea"`);
    expect(lea.map((f) => [f.accessKeyId, f.status])).toEqual([[null, 'PASS']]);
    const leah: any = await stack.gql(`{ iamUser(accountId: "${ACCOUNT}", userName: "leah") { userName arn findings { userName userArn accessKeyId status } } }`);
    expect(leah.data.iamUser.findings).toEqual(expect.arrayContaining([
      { userName: 'leah', userArn: leah.data.iamUser.arn, accessKeyId: KEY, status: 'FAIL' },
    ]));
    // As of then too: the new name, and last seen by the scan that last read it, not the PARTIAL one that carried it.
    const then = await keyFinding(stack, KEY, day(1.5));
    expect([then.userName, then.userArn, then.lastSeenAt, localScanId(then.scan.id)]).toEqual(['leah', leah.data.iamUser.arn, day(3).toISOString(), first.scanId]);
    expect(await keyFinding(stack, KEY, day(2.5))).toMatchObject({ userName: 'lea', lastSeenAt: day(3).toISOString() });
    expect((await findings(stack, `${ALL_STATES}, userName: "lea"`, day(1.5))).map((f) => f.accessKeyId)).toEqual([null]);
    // Read again, it is seen again under its name.
    const healed = await stack.scan(PER_USER, {}, day(1));
    expect([healed.status, healed.opened, healed.resolved]).toEqual(['COMPLETED', 0, 1]); // the read error
    expect(await keyFinding(stack, KEY)).toMatchObject({ userName: 'leah', state: 'OPEN', reopenCount: 0, lastSeenAt: day(1).toISOString() });
  });

  it('a rename and a key deletion in one scan resolve the key as KEY_DELETED under the new name; asOf before shows the old name', async () => {
    const KEY = 'AKIAMAXSETUP00000005';
    stack = await startStack({
      accountId: ACCOUNT, accountCreatedAt: 'now-900d',
      users: [consoleUser('max', 'now-300d', [{ accessKeyId: KEY, status: 'Active', createdAt: 'now-300d+1m' }])],
    });
    await stack.scan({}, {}, day(3));
    const before = await keyFinding(stack, KEY);
    stack.sandbox.state.updateUser('max', { newUserName: 'maxine', newPath: '/ops/' });
    stack.sandbox.state.deleteAccessKey(KEY);
    stack.sandbox.state.invalidateCredentialReport();
    const s = await stack.scan({}, {}, day(2));
    expect([s.opened, s.resolved]).toEqual([0, 1]); // maxine's "no keys" PASS is new but never failed: only the key resolves
    expect(await keyFinding(stack, KEY)).toMatchObject({ id: before.id, state: 'RESOLVED', resolution: 'KEY_DELETED' });
    expect(await keyFinding(stack, KEY, day(2.5))).toMatchObject({ id: before.id, userName: 'max', userArn: `arn:aws:iam::${ACCOUNT}:user/max`, status: 'FAIL', state: 'OPEN' });
    const user = async (name: string, asOf?: Date) =>
      ((await stack!.gql(`query($asOf: DateTime) { iamUser(accountId: "${ACCOUNT}", userName: "${name}", asOf: $asOf) { userName arn accessKeys { accessKeyId } } }`, { asOf: asOf?.toISOString() })) as any).data.iamUser;
    expect(await user('max', day(2.5))).toEqual({ userName: 'max', arn: `arn:aws:iam::${ACCOUNT}:user/max`, accessKeys: [{ accessKeyId: KEY }] });
    expect(await user('maxine')).toEqual({ userName: 'maxine', arn: `arn:aws:iam::${ACCOUNT}:user/ops/maxine`, accessKeys: [] });
    expect(await user('max')).toBeNull();
    expect(await user('maxine', day(2.5))).toBeNull();
  });

  it.each(['PER_USER_API', 'CREDENTIAL_REPORT'] as const)('%s: two users swapping names keep their own findings and keys; iamUser(name) asOf answers who had the name then', async (mode) => {
    const A = 'AKIANIASETUP00000006';
    const B = 'AKIAOLIVERLATER00006';
    stack = await startStack({
      accountId: ACCOUNT, accountCreatedAt: 'now-900d',
      users: [
        consoleUser('nia', 'now-300d', [{ accessKeyId: A, status: 'Active', createdAt: 'now-300d+1m' }]),
        consoleUser('oli', 'now-200d', [{ accessKeyId: B, status: 'Active', createdAt: 'now-100d', lastUsed: { date: 'now-2d', serviceName: 's3' } }]),
      ],
    });
    await stack.scan({ mode }, {}, day(3));
    const [fa, fb] = [await keyFinding(stack, A), await keyFinding(stack, B)];
    stack.sandbox.state.updateUser('nia', { newUserName: 'tmp' });
    stack.sandbox.state.updateUser('oli', { newUserName: 'nia' });
    stack.sandbox.state.updateUser('tmp', { newUserName: 'oli' });
    // Deliberately not invalidated: a reused report names the users by their old names.
    const s = await stack.scan({ mode }, {}, day(2));
    expect([s.status, s.opened, s.resolved]).toEqual(['COMPLETED', 0, 0]);
    expect(await keyFinding(stack, A)).toMatchObject({ id: fa.id, userName: 'oli', status: 'FAIL', state: 'OPEN', reopenCount: 0 });
    expect(await keyFinding(stack, B)).toMatchObject({ id: fb.id, userName: 'nia', status: 'PASS' });
    const user = async (name: string, asOf?: Date) =>
      ((await stack!.gql(`query($asOf: DateTime) { iamUser(accountId: "${ACCOUNT}", userName: "${name}", asOf: $asOf) { accessKeys { accessKeyId } findings { accessKeyId userName } } }`, { asOf: asOf?.toISOString() })) as any).data.iamUser;
    expect(await user('nia', day(2.5))).toEqual({ accessKeys: [{ accessKeyId: A }], findings: [{ accessKeyId: A, userName: 'nia' }] });
    expect(await user('nia')).toEqual({ accessKeys: [{ accessKeyId: B }], findings: [{ accessKeyId: B, userName: 'nia' }] });
    expect(await user('oli')).toEqual({ accessKeys: [{ accessKeyId: A }], findings: [{ accessKeyId: A, userName: 'oli' }] });
    // The failing-user filter, as of each instant, follows the key, not the name.
    const failing = async (asOf?: Date) => (await findings(stack!, 'status: [FAIL]', asOf)).map((f) => f.userName);
    expect([await failing(day(2.5)), await failing()]).toEqual([['nia'], ['oli']]);
  });

  it('every field of an asOf answer is from that instant: key status, evidence, lastSeenAt and scan, path and ARN', async () => {
    const KEY = 'AKIAPIASETUP00000007';
    stack = await startStack({
      accountId: ACCOUNT, accountCreatedAt: 'now-900d',
      users: [consoleUser('pia', 'now-300d', [{ accessKeyId: KEY, status: 'Active', createdAt: 'now-300d+1m' }])],
    });
    const s1 = await stack.scan(PER_USER, {}, day(4));
    const s2 = await stack.scan(PER_USER, {}, day(3));
    stack.sandbox.state.setKeyStatus(KEY, 'Inactive');
    stack.sandbox.state.updateUser('pia', { newPath: '/x/' });
    const s3 = await stack.scan(PER_USER, {}, day(2));
    expect(s1.status).toBe('COMPLETED');
    const then = await keyFinding(stack, KEY, day(2.5));
    expect(then).toMatchObject({
      status: 'FAIL', state: 'OPEN', resolvedAt: null, userArn: `arn:aws:iam::${ACCOUNT}:user/pia`, lastSeenAt: day(3).toISOString(),
      evidence: { accessKeyStatus: 'ACTIVE', passwordEnabled: true },
    });
    expect(localScanId(then.scan.id)).toBe(s2.scanId);
    const now = await keyFinding(stack, KEY);
    expect(now).toMatchObject({ status: 'PASS', state: 'RESOLVED', userArn: `arn:aws:iam::${ACCOUNT}:user/x/pia`, evidence: { accessKeyStatus: 'INACTIVE' } });
    expect(localScanId(now.scan.id)).toBe(s3.scanId);
    const user: any = await stack.gql(`query($asOf: DateTime) { iamUser(accountId: "${ACCOUNT}", userName: "pia", asOf: $asOf) { arn asOf accessKeys { status } } }`, { asOf: day(2.5).toISOString() });
    expect(user.data.iamUser).toEqual({ arn: `arn:aws:iam::${ACCOUNT}:user/pia`, asOf: day(3).toISOString(), accessKeys: [{ status: 'ACTIVE' }] });
  });
});

describe('review #12: scans out of order', () => {
  let stack: Stack | undefined;
  afterEach(async () => {
    await stack?.close();
    stack = undefined;
  });

  it('a queued scan whose reads began before a CLI scan stored is refused as superseded, and history does not roll back', async () => {
    const KEY = 'AKIAQUINNSETUP000008';
    stack = await startStack({
      accountId: ACCOUNT, accountCreatedAt: 'now-900d',
      users: [consoleUser('quinn', 'now-300d', [{ accessKeyId: KEY, status: 'Active', createdAt: 'now-300d+1m' }]), consoleUser('ray', 'now-300d')],
    });
    expect((await stack.scan()).status).toBe('COMPLETED');
    stack.sandbox.setFaults([{ operation: 'ListAccessKeys', userName: 'ray', latencyMs: 2500, times: 1 }]);
    stack.sandbox.state.invalidateCredentialReport();
    const queued: any = await stack.gql('mutation { startScan(input: { mode: PER_USER_API }) { scans { id status } } }');
    expect(queued.errors).toBeUndefined();
    const id = queued.data.startScan.scans[0].id;
    for (let i = 0; i < 100 && (await stack.prisma.scan.findUnique({ where: { id: localScanId(id) } }))?.status !== 'RUNNING'; i++) await sleep(50);
    await sleep(500);
    stack.sandbox.state.setKeyStatus(KEY, 'Inactive');
    const cli = await stack.scan(PER_USER);
    expect([cli.status, cli.resolved]).toEqual(['COMPLETED', 1]);
    const late = await stack.scanEnded(id);
    expect(late.status).toBe('FAILED');
    expect(JSON.stringify(late.errors)).toMatch(/was stored first/);
    expect(await keyFinding(stack, KEY)).toMatchObject({ status: 'PASS', state: 'RESOLVED', reopenCount: 0 });
  });

  it('a report-mode scan and a per-user scan with overlapping reads: the one whose reads began later wins, whichever stores first', async () => {
    const KEY = 'AKIASAMSETUP00000009';
    stack = await startStack({
      accountId: ACCOUNT, accountCreatedAt: 'now-900d',
      users: [consoleUser('sam', 'now-300d', [{ accessKeyId: KEY, status: 'Active', createdAt: 'now-300d+1m' }]), consoleUser('tia', 'now-300d', [{ accessKeyId: 'AKIATIALATER00000009', status: 'Active', createdAt: 'now-100d', lastUsed: { date: 'now-1d', serviceName: 's3' } }])],
    });
    expect((await stack.scan()).status).toBe('COMPLETED');
    // The per-user scan begins first and is slow on tia; the report scan begins later, sees sam's key Inactive, stores first.
    stack.sandbox.setFaults([{ operation: 'GetLoginProfile', userName: 'tia', latencyMs: 2000, times: 1 }]);
    const perUser = stack.scan(PER_USER);
    await sleep(400);
    stack.sandbox.state.setKeyStatus(KEY, 'Inactive');
    const report = await stack.scan();
    expect([report.status, report.resolved]).toEqual(['COMPLETED', 1]);
    expect((await perUser).status).toBe('FAILED');
    expect(await keyFinding(stack, KEY)).toMatchObject({ status: 'PASS', state: 'RESOLVED', reopenCount: 0 });
  });
});

describe('review #12: identity across accounts', () => {
  let stack: Stack | undefined;
  afterEach(async () => {
    await stack?.close();
    stack = undefined;
  });

  it('one access key id in two accounts of one database: separate findings, keys and histories', async () => {
    const KEY = 'AKIASHAREDKEY0000010';
    stack = await startStack({ accountId: ACCOUNT, accountCreatedAt: 'now-900d', users: [consoleUser('uma', 'now-300d', [{ accessKeyId: KEY, status: 'Active', createdAt: 'now-300d+1m' }])] });
    const other = await startIamSandbox({ fixture: { accountId: OTHER, accountCreatedAt: 'now-900d', users: [consoleUser('uma', 'now-200d', [{ accessKeyId: KEY, status: 'Active', createdAt: 'now-100d', lastUsed: { date: 'now-1d', serviceName: 's3' } }])] } });
    try {
      const scanOther = (at: Date) =>
        createScanService(stack!.prisma, sandboxIamClient(other), () => at).run({ collect: { mode: 'CREDENTIAL_REPORT', concurrency: 4, report: { deadlineMs: 5000, initialDelayMs: 10 } }, control: DEFAULT_CONTROL_SETTINGS });
      await stack.scan({}, {}, day(3));
      expect((await scanOther(day(3))).status).toBe('COMPLETED');
      stack.sandbox.state.setKeyStatus(KEY, 'Inactive');
      other.state.deleteAccessKey(KEY);
      other.state.invalidateCredentialReport();
      await stack.scan({}, {}, day(2));
      expect((await scanOther(day(2))).status).toBe('COMPLETED');
      expect(await keyFinding(stack, KEY)).toMatchObject({ status: 'PASS', state: 'RESOLVED', resolution: 'PASSED' });
      expect(await keyFinding(stack, KEY, undefined, OTHER)).toMatchObject({ status: 'PASS', state: 'NEVER_FAILED' });
      expect(await keyFinding(stack, KEY, day(2.5))).toMatchObject({ status: 'FAIL', state: 'OPEN' });
      expect(await keyFinding(stack, KEY, day(2.5), OTHER)).toMatchObject({ status: 'PASS' });
      const keys = async (accountId: string, asOf?: Date) =>
        ((await stack!.gql(`query($asOf: DateTime) { iamUser(accountId: "${accountId}", userName: "uma", asOf: $asOf) { accessKeys { accessKeyId status } } }`, { asOf: asOf?.toISOString() })) as any).data.iamUser.accessKeys;
      expect([await keys(ACCOUNT), await keys(OTHER), await keys(OTHER, day(2.5))]).toEqual([
        [{ accessKeyId: KEY, status: 'INACTIVE' }], [], [{ accessKeyId: KEY, status: 'ACTIVE' }],
      ]);
      const both: any = await stack.gql(`{ findings(filter: { accessKeyId: "${KEY}", ${ALL_STATES} }) { nodes { accountId status } } }`);
      expect(both.data.findings.nodes).toHaveLength(2);
    } finally {
      await other.close();
    }
  });
});

describe('review #12: retention', () => {
  it('retention of 0 or fewer days is refused in configuration and by prune', async () => {
    for (const days of ['0', '-3', '1.5']) expect(() => loadConfig({ KEYWARDEN_RETENTION_DAYS: days } as NodeJS.ProcessEnv)).toThrow(/KEYWARDEN_RETENTION_DAYS/);
    expect(() => loadConfig({} as NodeJS.ProcessEnv, { retentionDays: '0' })).toThrow(/--days/);
    const stack = await startStack({ accountId: ACCOUNT, accountCreatedAt: 'now-900d', users: [] });
    try {
      for (const days of [0, -1]) await expect(new RetentionService(stack.prisma).prune(days)).rejects.toThrow(/at least 1/);
    } finally {
      await stack.close();
    }
  });

  describe('a horizon inside a finding\'s open interval, and on a scan\'s own instant', () => {
    const KEY = 'AKIAVICSETUP00000011';
    let stack: Stack;
    const ids: Record<number, string> = {};
    beforeAll(async () => {
      stack = await startStack({
        accountId: ACCOUNT, accountCreatedAt: 'now-900d',
        users: [consoleUser('vic', 'now-400d', [{ accessKeyId: KEY, status: 'Active', createdAt: 'now-400d+1m' }]), consoleUser('wes', 'now-400d')],
      });
      // vic's key: FAIL [d40 .. d20), opened at d40 and still open at d35; PASS from d20; FAIL again from d10.
      for (const [d, status] of [[40, 'Active'], [35, 'Active'], [20, 'Inactive'], [10, 'Active']] as const) {
        stack.sandbox.state.setKeyStatus(KEY, status);
        ids[d] = (await stack.scan({}, {}, day(d))).scanId;
      }
    });
    afterAll(() => stack.close());
    const gqlAsOf = (asOf: Date) => stack.gql(`query($asOf: DateTime) { findings(filter: { accountId: "${ACCOUNT}", ${ALL_STATES} }, asOf: $asOf) { nodes { accessKeyId status state lastSeenAt openedAt: firstSeenAt } } }`, { asOf: asOf.toISOString() });
    const scanDetail = (id: string) => stack.gql(`query($id: ID!) { scan(id: $id) { detailPruned counts { fail } findings(first: 10) { nodes { accessKeyId status } } } }`, { id: toGlobalId('Scan', id) });

    it('at the horizon exactly (a scan\'s instant) asOf and scan(id) answer in full; a millisecond before, both say pruned', async () => {
      // A cutoff exactly at the d35 scan: the FAIL version [d40, d20) ended after it and stays; nothing valid at d40 ended before d35.
      const [{ horizon }] = await new RetentionService(stack.prisma).prune(30, new Date(day(35).getTime() + 30 * DAY));
      expect(horizon).toEqual(day(35));
      const at = await gqlAsOf(horizon);
      expect(at.errors).toBeUndefined();
      expect(at.data.findings.nodes.find((n: any) => n.accessKeyId === KEY)).toMatchObject({ status: 'FAIL', state: 'OPEN', lastSeenAt: day(35).toISOString() });
      const before = await gqlAsOf(new Date(horizon.getTime() - 1));
      expect(before.errors?.[0]?.message).toMatch(/pruned by retention/);
      for (const d of [40, 35]) {
        const detail = await scanDetail(ids[d]);
        expect(detail.errors).toBeUndefined();
        expect(detail.data.scan.detailPruned).toBe(false);
        expect(detail.data.scan.findings.nodes).toEqual(expect.arrayContaining([{ accessKeyId: KEY, status: 'FAIL' }]));
      }
    });

    it('a horizon in the middle of the open interval keeps the open FAIL answerable; trends on both sides still count it', async () => {
      const [{ horizon }] = await new RetentionService(stack.prisma).prune(30, new Date(day(30).getTime() + 30 * DAY)); // cutoff d30
      expect(horizon).toEqual(day(30));
      for (const asOf of [horizon, day(25), new Date(day(20).getTime() - 1)]) {
        const res = await gqlAsOf(asOf);
        expect(res.errors).toBeUndefined();
        expect(res.data.findings.nodes.find((n: any) => n.accessKeyId === KEY)).toMatchObject({ status: 'FAIL', state: 'OPEN' });
      }
      expect((await gqlAsOf(day(20))).data.findings.nodes.find((n: any) => n.accessKeyId === KEY)).toMatchObject({ status: 'PASS', state: 'RESOLVED' });
      // d35's successor (d20) read IAM after the horizon: whole. d40's successor (d35) read it before: said pruned.
      expect((await scanDetail(ids[35])).data.scan).toMatchObject({ detailPruned: false, counts: { fail: 1 } });
      const d40 = await scanDetail(ids[40]);
      expect(d40.errors?.[0]?.message).toMatch(/pruned by retention/);
      const trend: any = await stack.gql(`query($from: DateTime!, $to: DateTime!) { complianceTrend(accountId: "${ACCOUNT}", from: $from, to: $to, interval: WEEK) { fail pass opened resolved scans } }`,
        { from: day(45).toISOString(), to: new Date(NOW).toISOString() });
      expect(trend.errors).toBeUndefined();
      const scanned = trend.data.complianceTrend.filter((b: any) => b.scans > 0);
      expect(scanned.reduce((n: number, b: any) => n + b.scans, 0)).toBe(4);
      expect(scanned.reduce((n: number, b: any) => n + b.opened, 0)).toBe(2);
      expect(scanned.reduce((n: number, b: any) => n + b.resolved, 0)).toBe(1);
    });
  });

  it('a prune while a scan is being stored: both succeed, and the scan\'s history is whole afterwards', async () => {
    const KEY = 'AKIAXENSETUP00000012';
    const stack = await startStack({
      accountId: ACCOUNT, accountCreatedAt: 'now-900d',
      users: [consoleUser('xen', 'now-300d', [{ accessKeyId: KEY, status: 'Active', createdAt: 'now-300d+1m' }]), consoleUser('yui', 'now-300d')],
    });
    try {
      await stack.scan({}, {}, day(3));
      stack.sandbox.state.setKeyStatus(KEY, 'Inactive');
      await stack.scan({}, {}, day(2));
      stack.sandbox.state.setKeyStatus(KEY, 'Active');
      stack.sandbox.setFaults([{ operation: 'GetLoginProfile', userName: 'yui', latencyMs: 800, times: 1 }]);
      const scan = stack.scan(PER_USER);
      await sleep(300);
      // The cutoff (1 day ago) lies after both stored scans: the FAIL [d3, d2) goes, the PASS from d2 stays.
      const [pruned] = await new RetentionService(stack.prisma).prune(1);
      const s = await scan;
      expect([s.status, s.opened]).toEqual(['COMPLETED', 1]);
      expect(pruned.findingVersions).toBe(1);
      expect(await keyFinding(stack, KEY)).toMatchObject({ status: 'FAIL', state: 'OPEN', reopenCount: 1 });
      const asOf = await findings(stack, ALL_STATES, pruned.horizon);
      expect(asOf.find((f) => f.accessKeyId === KEY)).toMatchObject({ status: 'PASS', state: 'RESOLVED' });
    } finally {
      await stack.close();
    }
  });
});
