import { randomUUID } from 'node:crypto';
import type { FixtureInput } from '../../src/sandbox/fixture';
import { startStack, type Stack } from '../support/stack';

/**
 * The change log's writers (issue #14, #10's events): each transition and each scan and remediation outcome
 * is appended in the transaction that caused it. Real IAM sandbox over the SDK, real PostgreSQL, mutations
 * over HTTP GraphQL.
 */
const ACCOUNT = '616161616161';
const ALICE_KEY = 'AKIAALICESETUP000001';
const CAROL_KEY = 'AKIACAROLSETUP000001';
const DAY = 86_400_000;
const NOW = Date.now();
const day = (d: number) => new Date(NOW - d * DAY);

const consoleUser = (userName: string, keys: string[]) => ({
  userName, createdAt: 'now-400d', loginProfile: { createdAt: 'now-400d' },
  accessKeys: keys.map((accessKeyId) => ({ accessKeyId, status: 'Active' as const, createdAt: 'now-400d+30s' })),
});
const FIXTURE: FixtureInput = {
  accountId: ACCOUNT,
  accountCreatedAt: 'now-900d',
  users: [consoleUser('alice', [ALICE_KEY]), consoleUser('bob', []), consoleUser('carol', [CAROL_KEY])],
};

interface Event {
  type: string;
  txid: string;
  finding_id: string | null;
  scan_id: string | null;
  remediation_action_id: string | null;
  occurred_at: Date;
  payload: Record<string, any>;
}

const events = (stack: Stack, where = 'true', params: unknown[] = []) =>
  stack.prisma.$queryRawUnsafe<Event[]>(
    `SELECT type, txid::text, finding_id::text, scan_id::text, remediation_action_id::text, occurred_at, payload FROM change_event WHERE ${where} ORDER BY txid, seq`,
    ...params,
  );

describe('the change log writers', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack(FIXTURE, { worker: false });
  });
  afterAll(() => stack.close());

  it('a stored scan appends its finding transitions and scan.completed in its own transaction; a finding that never failed has none', async () => {
    const first = await stack.scan({}, {}, day(3));
    const written = await events(stack, 'scan_id = $1::uuid', [first.scanId]);
    expect(written.map((e) => [e.type, e.payload.accessKeyId ?? null])).toEqual([
      ['finding.opened', ALICE_KEY],
      ['finding.opened', CAROL_KEY],
      ['scan.completed', null],
    ]);
    expect(new Set(written.map((e) => e.txid)).size).toBe(1); // one transaction
    expect(written[0].occurred_at).toEqual(day(3)); // when the scan read IAM
    expect(Object.keys(written[0].payload).sort()).toEqual(
      ['accessKeyId', 'controlId', 'identity', 'previousState', 'reasons', 'reopenCount', 'resolution', 'state', 'status', 'userId', 'userName'],
    );
    expect(written[0].payload).toMatchObject({ state: 'OPEN', status: 'FAIL', previousState: null, reopenCount: 0, userName: 'alice', reasons: expect.arrayContaining(['CREATED_AT_SETUP']) });
    expect(written[2].payload).toEqual({
      status: 'COMPLETED', counts: { pass: 1, fail: 2, notApplicable: 1, error: 0, excepted: 0 }, opened: 2, resolved: 0,
      observedAt: day(3).toISOString(), errors: 0,
    });
    // bob has no key: his finding never failed, and reads so.
    expect(await stack.prisma.finding.findFirstOrThrow({ where: { userName: 'bob' }, select: { state: true, resolution: true } })).toEqual({ state: 'NEVER_FAILED', resolution: null });

    // An unchanged account: only scan.completed.
    const again = await stack.scan({}, {}, day(2.5));
    expect((await events(stack, 'scan_id = $1::uuid', [again.scanId])).map((e) => e.type)).toEqual(['scan.completed']);
  });

  it('resolving and reopening a finding append finding.resolved then finding.reopened, with the state before', async () => {
    stack.sandbox.state.setKeyStatus(ALICE_KEY, 'Inactive');
    const resolved = await stack.scan({}, {}, day(2));
    stack.sandbox.state.setKeyStatus(ALICE_KEY, 'Active');
    const reopened = await stack.scan({}, {}, day(1));
    const alice = await events(stack, `payload->>'accessKeyId' = $1 AND scan_id = ANY($2::uuid[])`, [ALICE_KEY, [resolved.scanId, reopened.scanId]]);
    expect(alice.map((e) => [e.type, e.payload.previousState, e.payload.state, e.payload.resolution, e.payload.reopenCount])).toEqual([
      ['finding.resolved', 'OPEN', 'RESOLVED', 'PASSED', 0],
      ['finding.reopened', 'RESOLVED', 'OPEN', null, 1],
    ]);
  });

  it('a FAILED scan (superseded: its transaction rolled back) appends scan.failed and no finding event', async () => {
    stack.sandbox.state.setKeyStatus(CAROL_KEY, 'Inactive'); // would resolve carol's finding if it were stored
    const before = await stack.prisma.changeEvent.count();
    const failed = await stack.scan({}, {}, day(5)); // read IAM before the last stored scan
    expect(failed.status).toBe('FAILED');
    expect(await stack.prisma.changeEvent.count()).toBe(before + 1);
    const [only] = await events(stack, 'scan_id = $1::uuid', [failed.scanId]);
    expect(only).toMatchObject({ type: 'scan.failed', payload: { status: 'FAILED', counts: null, errors: 1 } });
    stack.sandbox.state.setKeyStatus(CAROL_KEY, 'Active');
  });

  it('an exception appends finding.excepted, its revocation finding.unexcepted; a remediation appends remediation.completed with its outcome', async () => {
    const created: any = await stack.gql(`mutation($input: CreateExceptionInput!) { createException(input: $input) { exception { id } userErrors { code } } }`, {
      input: { accountId: ACCOUNT, userName: 'carol', accessKeyId: CAROL_KEY, justification: 'vendor needs it', expiresAt: new Date(Date.now() + 30 * DAY).toISOString() },
    });
    expect(created.data.createException.userErrors).toEqual([]);
    const revoked: any = await stack.gql(`mutation($id: ID!) { revokeException(input: { id: $id }) { userErrors { code } } }`, { id: created.data.createException.exception.id });
    expect(revoked.data.revokeException.userErrors).toEqual([]);
    const done: any = await stack.gql(`mutation($input: AccessKeyActionInput!) { deactivateAccessKey(input: $input) { action { id status } userErrors { code } } }`, {
      input: { accountId: ACCOUNT, userName: 'carol', accessKeyId: CAROL_KEY, reason: 'CIS: created at setup' },
    });
    expect(done.data.deactivateAccessKey.action.status).toBe('SUCCEEDED');

    const carol = await events(stack, `(payload->>'accessKeyId' = $1 AND type <> 'finding.opened') OR type = 'remediation.completed'`, [CAROL_KEY]);
    expect(carol.map((e) => [e.type, e.payload.state, e.payload.status, e.payload.resolution])).toEqual([
      ['finding.excepted', 'RESOLVED', 'EXCEPTED', 'EXCEPTED'],
      ['finding.unexcepted', 'OPEN', 'FAIL', null],
      ['remediation.completed', undefined, undefined, undefined],
      ['finding.resolved', 'RESOLVED', 'PASS', 'REMEDIATED'],
    ]);
    expect(carol[2]).toMatchObject({
      remediation_action_id: Buffer.from(done.data.deactivateAccessKey.action.id, 'base64url').toString().replace('RemediationAction:', ''),
      payload: { kind: 'DEACTIVATE', accessKeyId: CAROL_KEY, userName: 'carol', outcome: 'SUCCEEDED', errorCode: null, actor: expect.stringContaining('bootstrap') },
    });
    // A dry run changes nothing and appends nothing.
    const before = await stack.prisma.changeEvent.count();
    await stack.gql(`mutation($input: AccessKeyActionInput!) { reactivateAccessKey(input: $input) { action { status } } }`, {
      input: { accountId: ACCOUNT, userName: 'carol', accessKeyId: CAROL_KEY, reason: 'check', dryRun: true },
    });
    expect(await stack.prisma.changeEvent.count()).toBe(before);
  });

  it('an exception that expires is noticed by the next scan: finding.unexcepted, dated by that scan', async () => {
    stack.sandbox.state.setKeyStatus(CAROL_KEY, 'Active');
    await stack.scan();
    const created: any = await stack.gql(`mutation($input: CreateExceptionInput!) { createException(input: $input) { userErrors { code } } }`, {
      input: { accountId: ACCOUNT, userName: 'carol', accessKeyId: CAROL_KEY, justification: 'one more second', expiresAt: new Date(Date.now() + 1500).toISOString() },
    });
    expect(created.data.createException.userErrors).toEqual([]);
    await new Promise((r) => setTimeout(r, 1600));
    const next = await stack.scan();
    const last = await stack.prisma.$queryRawUnsafe<Event[]>(
      `SELECT type, scan_id::text, occurred_at, payload FROM change_event WHERE payload->>'accessKeyId' = $1 ORDER BY txid DESC, seq DESC LIMIT 2`, CAROL_KEY,
    );
    expect(last.reverse().map((e) => e.type)).toEqual(['finding.excepted', 'finding.unexcepted']);
    expect(last[1]).toMatchObject({ scan_id: next.scanId, payload: { state: 'OPEN', status: 'FAIL' } });
    stack.sandbox.state.setKeyStatus(CAROL_KEY, 'Inactive');
    await stack.scan();
  });

  it('a retried job does not append a scan\'s events twice; an interrupted attempt appends scan.failed once', async () => {
    const runJob = (scan: { id: string; jobId: string | null; runId: string | null }) =>
      stack.fleet.jobs.runJob({ id: scan.jobId!, name: 'account-scan', data: { scanId: scan.id, accountId: ACCOUNT, runId: scan.runId! } } as any);
    stack.sandbox.state.setKeyStatus(ALICE_KEY, 'Inactive');
    const [queued] = (await stack.fleet.jobs.enqueue({ accountIds: [ACCOUNT], requestedBy: 'test' })).scans;
    expect((await runJob(queued))?.status).toBe('COMPLETED');
    const once = await events(stack, 'scan_id = $1::uuid', [queued.id]);
    expect(once.map((e) => e.type)).toEqual(['finding.resolved', 'scan.completed']);
    // The queue hands the same job out again (its worker died after the commit): nothing is run or written.
    expect(await runJob(queued)).toBeNull();
    expect(await events(stack, 'scan_id = $1::uuid', [queued.id])).toEqual(once);

    // A worker died mid-scan: the retry fails that scan (INTERRUPTED, scan.failed once) and runs a new one.
    const second = await stack.prisma.scan.create({
      data: { status: 'RUNNING', source: 'CREDENTIAL_REPORT', accountId: ACCOUNT, runId: randomUUID(), jobId: randomUUID(), startedAt: new Date() },
    });
    const retried = await runJob(second);
    expect(retried?.status).toBe('COMPLETED');
    await runJob(second);
    await runJob(second);
    expect((await events(stack, 'scan_id = $1::uuid', [second.id])).map((e) => [e.type, e.payload.errors])).toEqual([['scan.failed', 1]]);
    expect((await events(stack, 'scan_id = $1::uuid', [retried!.scanId])).map((e) => e.type)).toEqual(['scan.completed']);
    // Every scan has one outcome event, every finding transition one event.
    const all = await events(stack);
    const outcomes = all.filter((e) => e.type.startsWith('scan.')).map((e) => e.scan_id);
    expect(new Set(outcomes).size).toBe(outcomes.length);
  });
});
