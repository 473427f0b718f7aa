import pg from 'pg';
import { createScanService } from '../../src/app';
import { DEFAULT_CONTROL_SETTINGS } from '../../src/controls/no-access-keys-at-setup/control';
import type { FixtureInput } from '../../src/sandbox/fixture';
import { startIamSandbox, type IamSandbox } from '../../src/sandbox/iam-sandbox.server';
import { RetentionService } from '../../src/services/retention.service';
import { TokensService } from '../../src/auth/tokens.service';
import { sandboxIamClient, startStack, type Stack } from '../support/stack';

/**
 * findingChanges (issue #14, "Sync without polling everything") over HTTP GraphQL, against scans of the IAM
 * sandbox through the real SDK and real PostgreSQL: a client that keeps endCursor gets each transition once,
 * in order, across a reopen, an exception and a retention prune, and never passes over a transaction still open.
 */
const A = '717171717171';
const B = '727272727272';
const ALICE_KEY = 'AKIAALICESETUP000001';
const CAROL_KEY = 'AKIACAROLSETUP000001';
const DAN_KEY = 'AKIADANBSETUP0000001';
const DAY = 86_400_000;
const NOW = Date.now();
const day = (d: number) => new Date(NOW - d * DAY);

const consoleUser = (userName: string, keys: string[]) => ({
  userName, createdAt: 'now-400d', loginProfile: { createdAt: 'now-400d' },
  accessKeys: keys.map((accessKeyId) => ({ accessKeyId, status: 'Active' as const, createdAt: 'now-400d+30s' })),
});
const FIXTURE_A: FixtureInput = { accountId: A, accountCreatedAt: 'now-900d', users: [consoleUser('alice', [ALICE_KEY]), consoleUser('bob', []), consoleUser('carol', [CAROL_KEY])] };
const FIXTURE_B: FixtureInput = { accountId: B, accountCreatedAt: 'now-900d', users: [consoleUser('dan', [DAN_KEY])] };

const CHANGES = `query($after: String, $first: Int, $filter: FindingChangeFilter) {
  findingChanges(after: $after, first: $first, filter: $filter) {
    totalCount
    edges { cursor node { type occurredAt accountId state previousState status resolution reopenCount finding { id accessKeyId state } scan { id } } }
    pageInfo { hasNextPage endCursor }
  }
}`;

type Change = { type: string; occurredAt: string; accountId: string; state: string; previousState: string | null; status: string; resolution: string | null; reopenCount: number; finding: { id: string; accessKeyId: string | null; state: string }; scan: { id: string } | null };
type GqlError = { message: string; extensions?: Record<string, unknown> };

async function changes(stack: Stack, variables: Record<string, unknown> = {}, token?: string) {
  const res = await stack.gql(CHANGES, variables, token);
  if (res.errors) return { error: res.errors[0] as GqlError };
  const c = res.data.findingChanges;
  return { nodes: c.edges.map((e: any) => e.node) as Change[], cursors: c.edges.map((e: any) => e.cursor) as string[], ...c.pageInfo, totalCount: c.totalCount as number, error: undefined };
}

/** A client syncing: pages from `after` until an empty page, as a GRC platform would between two polls. */
async function sync(stack: Stack, after: string | null, first = 2): Promise<{ nodes: Change[]; endCursor: string }> {
  const nodes: Change[] = [];
  let cursor = after;
  for (;;) {
    const page = await changes(stack, { after: cursor, first });
    expect(page.error).toBeUndefined();
    expect(page.endCursor).toEqual(expect.any(String)); // even for an empty page
    nodes.push(...page.nodes!);
    cursor = page.endCursor;
    if (!page.hasNextPage) return { nodes, endCursor: cursor! };
  }
}

/**
 * Syncs until `count` transitions have come. A transition becomes visible once every write transaction that began
 * before it has ended, in the whole PostgreSQL cluster (transaction ids are cluster-wide): another database's long
 * transaction delays it, never loses it. A client just polls again from its endCursor, as this does.
 */
async function syncUntil(stack: Stack, after: string | null, count: number): Promise<{ nodes: Change[]; endCursor: string }> {
  const nodes: Change[] = [];
  let cursor = after;
  for (const start = Date.now(); ; await new Promise((r) => setTimeout(r, 100))) {
    const page = await sync(stack, cursor);
    nodes.push(...page.nodes);
    cursor = page.endCursor;
    if (nodes.length >= count) return { nodes, endCursor: cursor };
    if (Date.now() - start > 20_000) throw new Error(`only ${nodes.length} of ${count} transitions came within 20 s`);
  }
}

const brief = (c: Change) => [c.type, c.finding.accessKeyId, c.state, c.resolution, c.reopenCount];

describe('findingChanges', () => {
  let stack: Stack;
  let sandboxB: IamSandbox;
  const scanA = (at?: Date) => stack.scan({}, {}, at);
  const scanB = () =>
    createScanService(stack.prisma, sandboxIamClient(sandboxB)).run({
      collect: { mode: 'CREDENTIAL_REPORT', concurrency: 4, report: { deadlineMs: 5000, initialDelayMs: 10 } }, control: DEFAULT_CONTROL_SETTINGS,
    });
  let cursorAfterFirst: string;
  let head: string;

  beforeAll(async () => {
    stack = await startStack(FIXTURE_A, { worker: false });
    sandboxB = await startIamSandbox({ fixture: FIXTURE_B });
  });
  afterAll(async () => {
    await sandboxB.close();
    await stack.close();
  });

  it('a client keeping endCursor gets each transition once, in order, across a reopen and an exception; a finding that never failed has none', async () => {
    const empty = await sync(stack, null);
    expect(empty.nodes).toEqual([]);

    const opened = await scanA(day(40)); // alice and carol fail
    stack.sandbox.state.setKeyStatus(ALICE_KEY, 'Inactive');
    const resolved = await scanA(day(35));
    stack.sandbox.state.setKeyStatus(ALICE_KEY, 'Active');
    const reopened = await scanA(day(20));
    const first = await syncUntil(stack, empty.endCursor, 4);
    expect(first.nodes.map(brief)).toEqual([
      ['OPENED', ALICE_KEY, 'OPEN', null, 0],
      ['OPENED', CAROL_KEY, 'OPEN', null, 0],
      ['RESOLVED', ALICE_KEY, 'RESOLVED', 'PASSED', 0],
      ['REOPENED', ALICE_KEY, 'OPEN', null, 1],
    ]);
    expect(first.nodes.map((c) => c.occurredAt)).toEqual([day(40), day(40), day(35), day(20)].map((d) => d.toISOString()));
    const scanId = (id: string) => Buffer.from(`Scan:${id}`).toString('base64url');
    expect(first.nodes.map((c) => c.scan?.id)).toEqual([opened.scanId, opened.scanId, resolved.scanId, reopened.scanId].map(scanId));
    expect(first.nodes[2]).toMatchObject({ previousState: 'OPEN', status: 'PASS', accountId: A, finding: { state: 'OPEN' } }); // the finding as it is now

    // Nothing changed: an empty page, and the cursor still resumes.
    const idle = await changes(stack, { after: first.endCursor });
    expect([idle.nodes, idle.hasNextPage, idle.totalCount]).toEqual([[], false, 0]);
    await scanA(day(15));
    expect((await sync(stack, idle.endCursor)).nodes).toEqual([]);

    const created: any = await stack.gql(`mutation($input: CreateExceptionInput!) { createException(input: $input) { exception { id } userErrors { code } } }`, {
      input: { accountId: A, userName: 'alice', accessKeyId: ALICE_KEY, justification: 'vendor integration', expiresAt: new Date(NOW + 30 * DAY).toISOString() },
    });
    expect(created.data.createException.userErrors).toEqual([]);
    const revoked: any = await stack.gql(`mutation($id: ID!) { revokeException(input: { id: $id }) { userErrors { code message } } }`, { id: created.data.createException.exception.id });
    expect(revoked.data.revokeException.userErrors).toEqual([]);
    const second = await syncUntil(stack, idle.endCursor, 2);
    expect(second.nodes.map(brief)).toEqual([
      ['EXCEPTED', ALICE_KEY, 'RESOLVED', 'EXCEPTED', 1],
      ['UNEXCEPTED', ALICE_KEY, 'OPEN', null, 2],
    ]);
    expect(second.nodes[0].status).toBe('EXCEPTED');

    // Filters: one type, one account; an account without a scan is refused like findings refuses it.
    const reopens = await changes(stack, { filter: { types: ['REOPENED'], accountIds: [A] } });
    expect(reopens.nodes!.map(brief)).toEqual([['REOPENED', ALICE_KEY, 'OPEN', null, 1]]);
    expect((await changes(stack, { filter: { accountIds: ['999999999999'] } })).error).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', field: 'accountIds' } });
    expect((await changes(stack, { after: 'bm9wZQ' })).error).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', field: 'after' } });

    // Scan.openedFindings / resolvedFindings: what each scan changed, matching its counts.
    const byScan: any = await stack.gql(`query($a: ID!, $b: ID!) {
      a: scan(id: $a) { opened openedFindings { totalCount nodes { accessKeyId } } resolvedFindings { totalCount } }
      b: scan(id: $b) { resolved resolvedFindings { totalCount nodes { accessKeyId } } openedFindings { totalCount } } }`, { a: scanId(opened.scanId), b: scanId(resolved.scanId) });
    expect(byScan.data).toEqual({
      a: { opened: 2, openedFindings: { totalCount: 2, nodes: [{ accessKeyId: ALICE_KEY }, { accessKeyId: CAROL_KEY }] }, resolvedFindings: { totalCount: 0 } },
      b: { resolved: 1, resolvedFindings: { totalCount: 1, nodes: [{ accessKeyId: ALICE_KEY }] }, openedFindings: { totalCount: 0 } },
    });

    // bob never failed: no transition, and his finding reads NEVER_FAILED.
    const bob: any = await stack.gql(`{ findings(filter: { userName: "bob", state: [NEVER_FAILED] }) { nodes { state resolution resolvedAt } } }`);
    expect(bob.data.findings.nodes).toEqual([{ state: 'NEVER_FAILED', resolution: null, resolvedAt: null }]);

    cursorAfterFirst = (await changes(stack, { first: 1 })).endCursor;
    head = second.endCursor;
  });

  it('needs findings:read', async () => {
    const { token } = await new TokensService(stack.prisma).create({ name: 'scans only', scopes: ['scans:write'], createdBy: 'test' });
    expect((await changes(stack, {}, token)).error).toMatchObject({ extensions: { code: 'FORBIDDEN' } });
  });

  it('after a retention prune, a cursor older than what was kept is refused with CURSOR_EXPIRED, not continued past the gap', async () => {
    const [pruned] = await new RetentionService(stack.prisma).prune(30);
    expect(pruned.changeEvents).toBe(5); // the two OPENED at day 40, the RESOLVED at day 35, and those scans' scan.completed

    const expired = await changes(stack, { after: cursorAfterFirst });
    expect(expired.nodes).toBeUndefined();
    expect(expired.error).toMatchObject({ extensions: { code: 'CURSOR_EXPIRED', field: 'after' } });
    expect(expired.error!.message).toMatch(/Resync: read the current state from findings/);

    // A client that had read past what was pruned goes on; one without a cursor starts at what was kept.
    expect((await changes(stack, { after: head })).nodes).toEqual([]);
    expect((await sync(stack, null)).nodes.map((c) => c.type)).toEqual(['REOPENED', 'EXCEPTED', 'UNEXCEPTED']);
  });

  it('never passes over a transaction still open: its events come once it commits, before those of a scan that committed after it started', async () => {
    const start = await sync(stack, head);
    // Fault injection in the database: account A's change-log insert waits on an advisory lock this test holds,
    // so A's scan transaction (which has already written its versions) stays open while B's scan commits.
    const hold = new pg.Client({ connectionString: process.env.DATABASE_URL });
    await hold.connect();
    try {
      await hold.query(`CREATE OR REPLACE FUNCTION test_hold_change_event() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN PERFORM pg_advisory_xact_lock_shared(4242); RETURN NEW; END $$`);
      await hold.query(`CREATE TRIGGER test_hold BEFORE INSERT ON change_event FOR EACH ROW WHEN (NEW.account_id = '${A}') EXECUTE FUNCTION test_hold_change_event()`);
      await hold.query('SELECT pg_advisory_lock(4242)');
      stack.sandbox.state.setKeyStatus(CAROL_KEY, 'Inactive');
      const scanOfA = scanA();
      for (let i = 0; ; i++) {
        const { rows } = await hold.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND wait_event = 'advisory'`);
        if (rows[0].n > 0) break;
        if (i > 200) throw new Error('the scan of A never reached its change-log insert');
        await new Promise((r) => setTimeout(r, 50));
      }
      const b = await scanB(); // dan fails: OPENED, committed while A's transaction is open
      expect(b.status).toBe('COMPLETED');
      expect(await stack.prisma.changeEvent.count({ where: { accountId: B, type: 'finding.opened' } })).toBe(1); // committed

      const during = await changes(stack, { after: start.endCursor });
      expect([during.nodes, during.hasNextPage]).toEqual([[], false]);
      const duringB = await changes(stack, { after: start.endCursor, filter: { accountIds: [B] } });
      expect(duringB.nodes).toEqual([]); // B's own events wait too: A's open transaction began first

      await hold.query('SELECT pg_advisory_unlock(4242)');
      expect((await scanOfA).status).toBe('COMPLETED');
      const after = await syncUntil(stack, during.endCursor, 2);
      expect(after.nodes.map((c) => [c.accountId, c.type, c.finding.accessKeyId])).toEqual([
        [A, 'RESOLVED', CAROL_KEY],
        [B, 'OPENED', DAN_KEY],
      ]);
      // A client that resumed from duringB's cursor misses nothing of B either.
      expect((await syncUntil(stack, duringB.endCursor, 2)).nodes.filter((c) => c.accountId === B).map((c) => c.type)).toEqual(['OPENED']);
    } finally {
      await hold.query('DROP TRIGGER IF EXISTS test_hold ON change_event').catch(() => undefined);
      await hold.end();
    }
  });
});
