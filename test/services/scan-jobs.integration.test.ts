import type { FixtureInput } from '../../src/sandbox/fixture';
import { loadConfig, nextCronRun } from '../../src/config';
import { startStack, type Stack } from '../support/stack';

/** Scans as queued jobs (issue #9): startScan returns at once, a worker runs the scan, progress shows while it runs. */
const ACCOUNT = '444455556666';
const FIXTURE: FixtureInput = {
  accountId: ACCOUNT,
  accountCreatedAt: 'now-900d',
  users: Array.from({ length: 6 }, (_, i) => ({
    userName: `user${i}`, createdAt: 'now-300d', loginProfile: { createdAt: 'now-300d' },
    accessKeys: [{ status: 'Active' as const, createdAt: 'now-300d+1m' }],
  })),
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const SCAN = 'id status queuedAt startedAt finishedAt requestedBy progress { phase usersTotal usersDone } counts { fail }';

async function poll(stack: Stack, id: string, until: (scan: any) => boolean, timeoutMs = 20_000): Promise<any[]> {
  const seen: any[] = [];
  for (const start = Date.now(); Date.now() - start < timeoutMs; await sleep(100)) {
    const res: any = await stack.gql(`query($id: ID!) { scan(id: $id) { ${SCAN} } }`, { id });
    seen.push(res.data.scan);
    if (until(res.data.scan)) return seen;
  }
  throw new Error(`scan ${id} never reached the expected state; last: ${JSON.stringify(seen.at(-1))}`);
}

describe('scans are queued jobs', () => {
  let stack: Stack;
  afterEach(() => stack?.close());

  it('startScan returns a QUEUED scan at once; polling shows it RUNNING with progress, then COMPLETED', async () => {
    stack = await startStack(FIXTURE);
    stack.sandbox.setFaults([{ operation: 'GetLoginProfile', latencyMs: 700 }]);
    const res: any = await stack.gql(`mutation { startScan(input: { mode: PER_USER_API }) { scans { ${SCAN} } skipped { accountId } userErrors { code } } }`);
    expect(res.data.startScan.userErrors).toEqual([]);
    const [queued] = res.data.startScan.scans;
    expect(queued).toMatchObject({ status: 'QUEUED', startedAt: null, // it does not wait for the scan
      requestedBy: expect.stringContaining('bootstrap') });
    const seen = await poll(stack, queued.id, (s) => s.status === 'COMPLETED');
    const running = seen.filter((s) => s.status === 'RUNNING');
    expect(running.length).toBeGreaterThan(0);
    expect(running.some((s) => s.progress?.phase === 'READING_USERS' && s.progress.usersTotal === 6 && s.progress.usersDone < 6)).toBe(true);
    expect(seen.at(-1)).toMatchObject({ status: 'COMPLETED', counts: { fail: 6 }, startedAt: expect.any(String), finishedAt: expect.any(String) });
  });

  it('cancelScan stops a queued scan: it never runs, and a running or finished one cannot be cancelled', async () => {
    stack = await startStack(FIXTURE, { worker: false });
    const res: any = await stack.gql(`mutation { startScan { scans { id status } } }`);
    const [queued] = res.data.startScan.scans;
    const again: any = await stack.gql(`mutation { startScan { scans { id status } } }`);
    expect(again.data.startScan.scans).toEqual([queued]); // never two waiting for one account
    const cancelled: any = await stack.gql(`mutation($id: String!) { cancelScan(input: { scanId: $id }) { scan { id status finishedAt } userErrors { code } } }`, { id: queued.id });
    expect(cancelled.data.cancelScan).toMatchObject({ scan: { id: queued.id, status: 'CANCELLED' }, userErrors: [] });
    await stack.fleet.startWorker();
    await sleep(1500);
    expect(await stack.prisma.scan.findMany({ select: { status: true } })).toEqual([{ status: 'CANCELLED' }]);
    expect(stack.sandbox.calls().byOperation.ListUsers ?? 0).toBe(0); // nothing was scanned

    const next: any = await stack.gql(`mutation { startScan { scans { id } } }`);
    const done = await poll(stack, next.data.startScan.scans[0].id, (s) => s.status === 'COMPLETED');
    const refused: any = await stack.gql(`mutation($id: String!) { cancelScan(input: { scanId: $id }) { scan { status } userErrors { code field } } }`, { id: done.at(-1).id });
    expect(refused.data.cancelScan.userErrors).toEqual([{ code: 'SCAN_NOT_CANCELLABLE', field: ['input', 'scanId'] }]);
  });

  it('twenty requests for a scan of one account at once leave one scan waiting, and all of them are handed it', async () => {
    // Each request used to find none waiting, create one, and let the queue's singleton pick a winner; a loser
    // could then hand back another loser's row in the moment before that row was deleted.
    stack = await startStack(FIXTURE, { worker: false });
    for (let round = 0; round < 3; round++) {
      const results = await Promise.all(Array.from({ length: 20 }, (_, i) => stack.fleet.jobs.enqueue({ requestedBy: `caller-${i}` })));
      const ids = new Set(results.map((r) => r.scans[0]!.id));
      const waiting = await stack.prisma.scan.findMany({ where: { status: 'QUEUED' } });
      expect({ handedOut: ids.size, waiting: waiting.length }).toEqual({ handedOut: 1, waiting: 1 });
      expect([...ids]).toEqual([waiting[0]!.id]);
      expect(waiting[0]!.jobId).not.toBeNull();
      expect((await stack.fleet.jobs.cancel(waiting[0]!.id)).error).toBeNull();
    }
  });

  it('refuses bad input with a userError naming the field, and enqueues nothing', async () => {
    stack = await startStack(FIXTURE, { worker: false });
    const cases: [string, string, string][] = [
      ['accountIds: []', 'INVALID_INPUT', 'accountIds'],
      ['accountIds: ["12345"]', 'INVALID_INPUT', 'accountIds'],
      ['accountIds: ["999999999999"]', 'UNKNOWN_ACCOUNT', 'accountIds'],
      [`accountIds: ["${ACCOUNT}"], allAccounts: true`, 'INVALID_INPUT', 'accountIds'],
      [`idempotencyKey: "${'k'.repeat(201)}"`, 'INVALID_INPUT', 'idempotencyKey'],
    ];
    for (const [input, code, field] of cases) {
      const res: any = await stack.gql(`mutation { startScan(input: { ${input} }) { scans { id } userErrors { code field message } } }`);
      expect([input, res.data.startScan.scans, res.data.startScan.userErrors[0]?.code, res.data.startScan.userErrors[0]?.field]).toEqual([input, [], code, ['input', field]]);
    }
    expect(await stack.prisma.scan.count()).toBe(0);
  });

  it('the same idempotency key returns the same scans; with another input it is refused', async () => {
    stack = await startStack(FIXTURE, { worker: false });
    const ask = (input: string) => stack.gql(`mutation { startScan(input: { ${input} }) { scans { id } userErrors { code } } }`) as Promise<any>;
    const first = await ask('idempotencyKey: "ticket-42"');
    await stack.prisma.scan.updateMany({ data: { status: 'CANCELLED' } }); // so a second request would queue anew
    const replay = await ask('idempotencyKey: "ticket-42"');
    expect(replay.data.startScan.scans).toEqual(first.data.startScan.scans);
    const other = await ask(`idempotencyKey: "ticket-42", accountIds: ["${ACCOUNT}"], mode: PER_USER_API`);
    expect(other.data.startScan.userErrors).toEqual([{ code: 'IDEMPOTENCY_KEY_REUSED' }]);
    expect(await stack.prisma.scan.count()).toBe(1);
  });
});

describe('the schedule', () => {
  let stack: Stack;
  afterEach(() => stack?.close());

  it('a scheduled run leaves an account whose scan is queued or running to it: runs never stack', async () => {
    stack = await startStack(FIXTURE, { worker: false });
    const first = await stack.fleet.jobs.enqueue({ allAccounts: true, requestedBy: 'schedule', skipBusy: true });
    expect(first.scans).toHaveLength(1);
    const second = await stack.fleet.jobs.enqueue({ allAccounts: true, requestedBy: 'schedule', skipBusy: true });
    expect(second.scans).toEqual([]);
    expect(second.skipped).toEqual([{ accountId: ACCOUNT, reason: expect.stringContaining(`already queued (${first.scans[0].id})`) }]);
    expect(await stack.prisma.scan.count()).toBe(1);
  });

  it('KEYWARDEN_SCAN_SCHEDULE is a cron in UTC or off, checked at start-up; scanSchedule says when it next fires', async () => {
    expect(() => loadConfig({ KEYWARDEN_SCAN_SCHEDULE: 'every day' })).toThrow(/invalid KEYWARDEN_SCAN_SCHEDULE: not a cron expression/);
    expect(() => loadConfig({ KEYWARDEN_SCAN_SCHEDULE: '61 * * * *' })).toThrow(/KEYWARDEN_SCAN_SCHEDULE/);
    expect(loadConfig({}).scanSchedule).toBe('0 */6 * * *');
    expect(nextCronRun('0 */6 * * *', new Date('2026-11-28T07:30:00Z'))).toEqual(new Date('2026-11-28T12:00:00Z'));
    expect(nextCronRun('off')).toBeNull();
    stack = await startStack(FIXTURE, { worker: false });
    const res: any = await stack.gql('{ scanSchedule { cron nextRunAt } }');
    expect(res.data.scanSchedule).toEqual({ cron: null, nextRunAt: null }); // the test stack runs no schedule
  });
});
