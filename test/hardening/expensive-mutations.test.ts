import { TokensService } from '../../src/auth/tokens.service';
import type { FixtureInput, FixtureUserInput } from '../../src/sandbox/fixture';
import { startStack, type Stack } from '../support/stack';

/**
 * Issue #13 item 4: aliases made one request run 30 full scans (360 IAM calls) or 30 bulk remediations
 * (180 audit rows, 300 IAM calls; 15,000 actions at 500 findings each). At most one expensive mutation
 * (startScan, remediateFindings) per request, refused before anything runs; concurrent scans of one account
 * wait in line and share the next scan instead of all reading IAM at once.
 */
const ACCOUNT = '464646464646';
const users: FixtureUserInput[] = Array.from({ length: 6 }, (_, i) => ({
  userName: `user-${i}`, createdAt: 'now-100d', loginProfile: { createdAt: 'now-100d' }, accessKeys: [{ status: 'Active' as const, createdAt: 'now-100d+1m' }],
}));
const FIXTURE: FixtureInput = { accountId: ACCOUNT, accountCreatedAt: 'now-900d', users };

describe('expensive mutations', () => {
  let stack: Stack;
  let scanner: string;
  let remediator: string;
  let findingIds: string[];

  beforeAll(async () => {
    stack = await startStack(FIXTURE);
    expect((await stack.scan()).status).toBe('COMPLETED');
    const tokens = new TokensService(stack.prisma);
    scanner = (await tokens.create({ name: 'scheduler', scopes: ['scans:write'], createdBy: 'test' })).token;
    remediator = (await tokens.create({ name: 'soar', scopes: ['remediation:write'], createdBy: 'test' })).token;
    findingIds = (await stack.gql('{ findings(filter: { status: [FAIL] }) { nodes { id } } }')).data.findings.nodes.map((n: any) => n.id);
    expect(findingIds).toHaveLength(6);
  });
  afterAll(() => stack.close());

  /** What one request made happen: scans stored, audit rows, IAM calls. */
  async function effects<T>(fn: () => Promise<T>) {
    const [scans, audit, iam] = [await stack.prisma.scan.count(), await stack.prisma.remediationAction.count(), stack.sandbox.calls().total];
    const result = await fn();
    return { result, scans: (await stack.prisma.scan.count()) - scans, audit: (await stack.prisma.remediationAction.count()) - audit, iam: stack.sandbox.calls().total - iam };
  }
  const expectRefused = (res: any) => {
    expect(res.status).toBe(400);
    expect(res.data).toBeUndefined();
    expect(res.errors[0].extensions.code).toBe('TOO_MANY_EXPENSIVE_MUTATIONS');
    expect(res.errors[0].message).toMatch(/at most one of startScan, remediateFindings per request/);
  };
  const bulk = (alias: string, key: string) =>
    `${alias}: remediateFindings(input: { findingIds: ${JSON.stringify(findingIds)}, action: DEACTIVATE, reason: "sweep", dryRun: true, idempotencyKey: "${key}" }) { results { action { status } } }`;

  it('30 aliased startScan from a scans:write token are refused before any scan or IAM call', async () => {
    const query = `mutation { ${Array.from({ length: 30 }, (_, i) => `s${i}: startScan { scans { id status } }`).join(' ')} }`;
    const { result, scans, iam } = await effects(() => stack.gql(query, {}, scanner));
    expectRefused(result);
    expect({ scans, iam }).toEqual({ scans: 0, iam: 0 });
  });

  it('30 aliased remediateFindings (dry run) are refused before any audit row or IAM call', async () => {
    const query = `mutation { ${Array.from({ length: 30 }, (_, i) => bulk(`b${i}`, `expensive-bulk-${i}`)).join(' ')} }`;
    const { result, audit, iam } = await effects(() => stack.gql(query, {}, remediator));
    expectRefused(result);
    expect({ audit, iam }).toEqual({ audit: 0, iam: 0 });
  });

  it('two through fragments, or one of each, are refused too', async () => {
    for (const query of [
      'mutation { ...Two } fragment Two on Mutation { a: startScan { scans { id } } b: startScan { scans { id } } }',
      'mutation { ... on Mutation { a: startScan { scans { id } } } b: startScan { scans { id } } }',
      `mutation { startScan { scans { id } } ${bulk('b', 'expensive-mixed-1')} }`,
    ]) {
      const { result, scans, audit, iam } = await effects(() => stack.gql(query));
      expectRefused(result);
      expect({ scans, audit, iam }).toEqual({ scans: 0, audit: 0, iam: 0 });
    }
  });

  it('one per request runs; the same field selected twice under one name is one field (GraphQL merges it)', async () => {
    const one = await effects(() => stack.gql('mutation { startScan { scans { id status } } startScan { scans { queuedAt } } }', {}, scanner));
    expect(one.result.errors).toBeUndefined();
    expect(one.result.data.startScan.scans[0].status).toBe('QUEUED');
    expect(one.scans).toBe(1);
    expect((await stack.scanEnded(one.result.data.startScan.scans[0].id)).status).toBe('COMPLETED');
    const dry = await effects(() => stack.gql(`mutation { ${bulk('b', 'expensive-single-1')} }`, {}, remediator));
    expect(dry.result.errors).toBeUndefined();
    expect(dry.result.data.b.results.map((r: any) => r.action.status)).toEqual(findingIds.map(() => 'DRY_RUN'));
  });

  it('concurrent startScan requests queue one scan of the account, never two at once: a burst while one runs adds one, not six', async () => {
    // ListUsers slow enough that the first scan is still running when the whole burst has been answered, even on
    // a loaded machine: the burst must find it RUNNING, not QUEUED (then they all share it) nor finished (then the
    // one they queue may start mid-burst, and a later request rightly queues another).
    stack.sandbox.setFaults([{ operation: 'ListUsers', latencyMs: 3_000 }]);
    try {
      const listUsers = stack.sandbox.calls().byOperation.ListUsers ?? 0;
      const first = await stack.gql('mutation { startScan { scans { id status } } }', {}, scanner);
      const firstId = first.data.startScan.scans[0].id;
      const running = async () => (await stack.gql('query($id: ID!) { scan(id: $id) { status } }', { id: firstId })).data.scan.status === 'RUNNING';
      for (const start = Date.now(); !(await running()) && Date.now() - start < 20_000;) await new Promise((r) => setTimeout(r, 50));
      expect(await running()).toBe(true);
      // While it runs, five more ask at once: they all get the one scan waiting behind it.
      const rest = await Promise.all(Array.from({ length: 5 }, () => stack.gql('mutation { startScan { scans { id status } } }', {}, scanner)));
      expect(await running()).toBe(true); // the burst was answered inside the first scan's run
      expect(rest.map((a) => a.errors)).toEqual(rest.map(() => undefined));
      const waiting = [...new Set(rest.map((a) => a.data.startScan.scans[0].id))];
      expect(waiting).toHaveLength(1);
      expect(waiting[0]).not.toBe(firstId);
      const [a, b] = [await stack.scanEnded(firstId), await stack.scanEnded(waiting[0])];
      expect([a.status, b.status]).toEqual(['COMPLETED', 'COMPLETED']);
      expect((stack.sandbox.calls().byOperation.ListUsers ?? 0) - listUsers).toBe(2);
      expect(b.startedAt!.getTime()).toBeGreaterThanOrEqual(a.finishedAt!.getTime()); // never two scans of one account at once
    } finally {
      stack.sandbox.setFaults([]);
    }
  });
});
