import type { FixtureInput } from '../../src/sandbox/fixture';
import { startStack, type Stack } from '../support/stack';

/**
 * Review of issue #14 (the schema as a contract, findingChanges, paging): real HTTP GraphQL, real PostgreSQL,
 * scans of the IAM sandbox through the SDK.
 */
const A = '747474747474';
const ALICE_KEY = 'AKIAALICESETUP000001';
const CAROL_KEY = 'AKIACAROLSETUP000001';
const DAY = 86_400_000;
const NOW = Date.now();
const day = (d: number) => new Date(NOW - d * DAY);

const consoleUser = (userName: string, keys: string[]) => ({
  userName, createdAt: 'now-400d', loginProfile: { createdAt: 'now-400d' },
  accessKeys: keys.map((accessKeyId) => ({ accessKeyId, status: 'Active' as const, createdAt: 'now-400d+30s' })),
});
const FIXTURE: FixtureInput = { accountId: A, accountCreatedAt: 'now-900d', users: [consoleUser('alice', [ALICE_KEY]), consoleUser('bob', []), consoleUser('carol', [CAROL_KEY])] };

const CHANGES = `query($after: String, $first: Int) {
  findingChanges(after: $after, first: $first) {
    nodes { type finding { accessKeyId } }
    pageInfo { hasNextPage endCursor }
  }
}`;

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
const unb64 = (s: string) => JSON.parse(Buffer.from(s, 'base64url').toString('utf8'));

describe('review #14: contract, paging and findingChanges', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack(FIXTURE, { worker: false });
    await stack.scan({}, {}, day(10)); // alice and carol OPENED
  });
  afterAll(async () => {
    await stack.close();
  });

  async function syncAll(after: string | null) {
    const nodes: { type: string; finding: { accessKeyId: string | null } }[] = [];
    let cursor = after;
    for (let i = 0; i < 50; i++) {
      const res: any = await stack.gql(CHANGES, { after: cursor, first: 100 });
      if (res.errors) return { error: res.errors[0], nodes, endCursor: cursor };
      nodes.push(...res.data.findingChanges.nodes);
      cursor = res.data.findingChanges.pageInfo.endCursor;
      if (!res.data.findingChanges.pageInfo.hasNextPage) break;
    }
    return { error: undefined, nodes, endCursor: cursor };
  }

  it('findingChanges refuses a cursor positioned after the log\'s frontier (a txid not yet assigned) instead of silently skipping every later transition', async () => {
    const head = await syncAll(null);
    expect(head.error).toBeUndefined();
    const [tag, txid] = unb64(head.endCursor!);
    expect(tag).toBe('c');
    // A corrupted / forged cursor: well formed, but far ahead of any transaction this server has run.
    const ahead = b64(['c', String(BigInt(txid) + 1_000_000n), '0']);
    const first = await syncAll(ahead);
    if (first.error === undefined) {
      // Accepted: the client is now parked past the future. A real transition happens...
      stack.sandbox.state.setKeyStatus(CAROL_KEY, 'Inactive');
      await stack.scan({}, {}, day(5));
      const fromHead = await syncAll(head.endCursor);
      expect(fromHead.nodes.map((n) => n.type)).toEqual(['RESOLVED']); // a client with a genuine cursor sees it
      const fromAhead = await syncAll(first.endCursor);
      // ... and the client holding the accepted cursor never sees it: data silently lost. It should have been refused.
      expect(fromAhead.nodes.map((n) => n.type)).toEqual(['RESOLVED']);
    } else {
      expect(first.error).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', field: 'after' } });
    }
  });

  // Was a known defect (closing note of session 4): cursors now carry a tag of the list and order they came from.
  it('a scans cursor fed to findings is refused (BAD_USER_INPUT on after), not read as a findings position', async () => {
    const scans: any = await stack.gql(`{ scans(first: 1) { pageInfo { endCursor } } }`);
    expect(scans.errors).toBeUndefined();
    const scanCursor = scans.data.scans.pageInfo.endCursor;
    const res: any = await stack.gql(`query($after: String) { findings(first: 5, after: $after) { nodes { id } } }`, { after: scanCursor });
    expect(res.errors?.[0]).toMatchObject({ message: 'after was issued for scans, not findings: start again without after', extensions: { code: 'BAD_USER_INPUT', field: 'after' } });
  });

  // Was a known defect (closing note of session 4): cursors now carry a tag of the list and order they came from.
  it('an accounts cursor fed to Scan.openedFindings is refused, not read as a change-log position (a silently empty page)', async () => {
    // What `accounts` handed out as a cursor before cursors were tagged: a 12-digit account id, which a change-log seq parsed.
    const accountCursor = b64([A]);
    const scans: any = await stack.gql(`{ scans(first: 10, orderBy: { field: QUEUED_AT, direction: ASC }) { nodes { id opened } } }`);
    const firstScan = scans.data.scans.nodes[0];
    expect(firstScan.opened).toBe(2);
    const res: any = await stack.gql(`query($id: ID!, $after: String) { scan(id: $id) { openedFindings(after: $after) { totalCount nodes { accessKeyId } } } }`, { id: firstScan.id, after: accountCursor });
    expect(res.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', field: 'after' } });
    // Nor is a resolvedFindings cursor: the same change log, another list.
    const opened: any = await stack.gql(`query($id: ID!) { scan(id: $id) { openedFindings(first: 1) { pageInfo { endCursor } } } }`, { id: firstScan.id });
    const openedCursor = opened.data.scan.openedFindings.pageInfo.endCursor;
    const resolved: any = await stack.gql(`query($id: ID!, $after: String) { scan(id: $id) { resolvedFindings(after: $after) { totalCount } } }`, { id: firstScan.id, after: openedCursor });
    expect(resolved.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', field: 'after' } });
    const again: any = await stack.gql(`query($id: ID!, $after: String) { scan(id: $id) { openedFindings(after: $after) { nodes { accessKeyId } } } }`, { id: firstScan.id, after: openedCursor });
    expect(again.errors).toBeUndefined();
    expect(again.data.scan.openedFindings.nodes).toHaveLength(1);
  });

  it('scans lists a QUEUED scan (startedAt null) with its page cursors, forward and back', async () => {
    const started: any = await stack.gql(`mutation { startScan { scans { id status startedAt } userErrors { code message } } }`);
    expect(started.errors).toBeUndefined();
    expect(started.data.startScan.userErrors).toEqual([]);
    const queued = started.data.startScan.scans[0];
    expect(queued).toMatchObject({ status: 'QUEUED', startedAt: null });

    // The usual poll of a client: nodes and pageInfo.
    const polled: any = await stack.gql(`{ scans(first: 10) { nodes { id status } pageInfo { startCursor endCursor hasNextPage } } }`);
    expect(polled.errors).toBeUndefined();
    const page: any = await stack.gql(`{ scans(first: 10) { totalCount edges { cursor node { id status } } pageInfo { endCursor hasNextPage } } }`);
    expect(page.errors).toBeUndefined();
    expect(page.data.scans.edges.map((e: any) => e.node.id)).toContain(queued.id);

    const filtered: any = await stack.gql(`{ scans(first: 5, filter: { statuses: [QUEUED] }) { nodes { id } pageInfo { startCursor endCursor } } }`);
    expect(filtered.errors).toBeUndefined();
    expect(filtered.data.scans.nodes).toEqual([{ id: queued.id }]);
  });

  it('a cancelled scan (startedAt null for good) neither breaks scans paging nor sits above every newer scan in "newest first"', async () => {
    const started: any = await stack.gql(`mutation { startScan { scans { id status } userErrors { code message } } }`);
    const queuedId = started.data.startScan.scans[0].id; // the QUEUED one of the test above, or a new one
    const cancelled: any = await stack.gql(`mutation($id: String!) { cancelScan(input: { scanId: $id }) { scan { id status startedAt } userErrors { code message } } }`, { id: queuedId });
    expect(cancelled.data.cancelScan).toMatchObject({ scan: { status: 'CANCELLED', startedAt: null }, userErrors: [] });
    await stack.scan(); // a newer, completed scan

    const cancelledOnly: any = await stack.gql(`{ scans(first: 5, filter: { statuses: [CANCELLED] }) { nodes { id } pageInfo { endCursor } } }`);
    expect(cancelledOnly.errors).toBeUndefined(); // today: INTERNAL_SERVER_ERROR at pageInfo.endCursor, for as long as the scan is kept
    const newest: any = await stack.gql(`{ scans(first: 1) { nodes { id status } } }`);
    expect(newest.data.scans.nodes[0].status).toBe('COMPLETED'); // newest first: the scan that just ran, not the cancelled one
  });

  it.each([
    ['scans(filter: { accountIds: [] })', `{ scans(first: 100, filter: { accountIds: [] }) { totalCount } }`, 'scans'],
    ['scans(filter: { statuses: [] })', `{ scans(first: 100, filter: { statuses: [] }) { totalCount } }`, 'scans'],
    ['findings(filter: { status: [] })', `{ findings(first: 100, filter: { status: [] }) { totalCount } }`, 'findings'],
  ])('%s does not silently list everything (findings refuses accountIds: [], findingChanges types: [])', async (_name, query, field) => {
    const res: any = await stack.gql(query);
    // "Any of these ...": of none, nothing; or BAD_USER_INPUT, as findings(filter: { accountIds: [] }) answers.
    if (res.errors) expect(res.errors[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT' } });
    else expect(res.data[field].totalCount).toBe(0);
  });

  // Was a known defect (closing note of session 4): cursors now carry a tag of the list and order they came from.
  it('a findings cursor from one orderBy fed to another is refused (accountCompliance carries its order in the cursor), not answered with an empty page', async () => {
    const byIdentity: any = await stack.gql(`{ findings(first: 1, orderBy: { field: IDENTITY, direction: ASC }) { pageInfo { endCursor hasNextPage } } }`);
    expect(byIdentity.data.findings.pageInfo.hasNextPage).toBe(true);
    const cursor = byIdentity.data.findings.pageInfo.endCursor;
    const res: any = await stack.gql(`query($c: String) { findings(first: 5, after: $c, orderBy: { field: LAST_SEEN_AT, direction: DESC }) { totalCount nodes { id } } }`, { c: cursor });
    if (!res.errors) {
      // Accepted: then it must at least not lose the rest of the list silently.
      expect(res.data.findings.nodes.length).toBeGreaterThan(0);
    }
    expect(res.errors?.[0]).toMatchObject({
      message: 'after was issued for orderBy { field: IDENTITY, direction: ASC }: ask that order, or start again without after',
      extensions: { code: 'BAD_USER_INPUT', field: 'after' },
    });
    // Paging back names its own argument; the cursor still pages the order it came from.
    const back: any = await stack.gql(`query($c: String) { findings(last: 5, before: $c, orderBy: { field: FIRST_SEEN_AT, direction: ASC }) { totalCount } }`, { c: cursor });
    expect(back.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', field: 'before' } });
    const same: any = await stack.gql(`query($c: String) { findings(first: 5, after: $c, orderBy: { field: IDENTITY, direction: ASC }) { nodes { id } } }`, { c: cursor });
    expect(same.errors).toBeUndefined();
    expect(same.data.findings.nodes.length).toBeGreaterThan(0);
  });
});
