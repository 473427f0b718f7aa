import { formatPruneResult } from '../../src/app';
import { toGlobalId } from '../../src/graphql/common/node';
import type { FixtureInput } from '../../src/sandbox/fixture';
import { RetentionService } from '../../src/services/retention.service';
import { startStack, type StackOptions } from '../support/stack';

/**
 * Retention against a history of scans over days: the IAM sandbox read through the real SDK at fixed
 * clocks, real PostgreSQL, answers read back over HTTP GraphQL. The guarantee protected here: the horizon
 * only moves forward, every asOf at or after it is answered completely, and nothing older is ever
 * answered in part.
 */
const ACCOUNT = '333344445555';
const DAY = 86_400_000;
const NOW = Date.now();
const day = (d: number) => new Date(NOW - d * DAY);

// alice's key was made with her console password: FAIL while Active, PASS while Inactive. bob has no key (PASS).
const K1 = 'AKIAALICESETUP000001';
const FIXTURE: FixtureInput = {
  accountId: ACCOUNT,
  accountCreatedAt: 'now-900d',
  users: [
    { userName: 'alice', createdAt: 'now-400d', loginProfile: { createdAt: 'now-400d' },
      accessKeys: [{ accessKeyId: K1, status: 'Active', createdAt: 'now-400d+30s' }] },
    { userName: 'bob', createdAt: 'now-300d', loginProfile: { createdAt: 'now-300d' } },
  ],
};

type GqlError = { message: string; extensions?: Record<string, unknown> };

async function withStack(options: StackOptions = {}) {
  const stack = await startStack(FIXTURE, options);
  const scanAt = async (daysAgo: number, keyStatus: 'Active' | 'Inactive') => {
    stack.sandbox.state.setKeyStatus(K1, keyStatus);
    const summary = await stack.scan({}, {}, day(daysAgo));
    expect([daysAgo, summary.status]).toEqual([daysAgo, 'COMPLETED']);
    return summary;
  };
  const findingsAsOf = async (asOf: Date): Promise<{ nodes?: { accessKeyId: string | null; userName: string; status: string }[]; error?: GqlError }> => {
    const res = await stack.gql(
      `query($asOf: DateTime) { findings(filter: { accountId: "${ACCOUNT}", state: [OPEN, RESOLVED, NEVER_FAILED] }, asOf: $asOf) { nodes { userName accessKeyId status } } }`,
      { asOf: asOf.toISOString() },
    );
    return res.errors ? { error: res.errors[0] } : { nodes: res.data.findings.nodes };
  };
  return { stack, scanAt, findingsAsOf };
}

const expectPrunedRefusal = (error: GqlError | undefined) => {
  expect(error?.extensions?.code).toBe('BAD_USER_INPUT');
  expect(error?.message).toMatch(/pruned by retention/);
};

describe('the retention horizon', () => {
  let t: Awaited<ReturnType<typeof withStack>>;
  beforeAll(async () => {
    t = await withStack();
  });
  afterAll(() => t.stack.close());

  it('only moves forward: a later prune with a shorter retention keeps it, so asOf before it is refused rather than answered without the pruned FAIL', async () => {
    // K1's finding: FAIL [d40, d35), PASS [d35, d20), FAIL [d20, d10), PASS [d10, now).
    await t.scanAt(40, 'Active');
    await t.scanAt(35, 'Inactive');
    await t.scanAt(20, 'Active');
    await t.scanAt(10, 'Inactive');
    const retention = new RetentionService(t.stack.prisma);
    const [first] = await retention.prune(1); // deletes FAIL [d20, d10)
    const [second] = await retention.prune(30);

    // Before the fix the horizon went back to d30, and as of d12 K1 was silently missing.
    const asOfD12 = await t.findingsAsOf(day(12));
    expect(asOfD12.nodes?.find((n) => n.accessKeyId === K1)).toBeUndefined();
    expectPrunedRefusal(asOfD12.error);
    expect(second.horizon).toEqual(first.horizon);
    expect(second.cutoff.getTime()).toBeLessThan(second.horizon.getTime());
    expect((await t.stack.prisma.historyHorizon.findUniqueOrThrow({ where: { accountId: ACCOUNT } })).prunedBefore).toEqual(first.horizon);
    // What `keywarden prune --days 30` prints: the horizon in force, not the shorter cutoff.
    expect(formatPruneResult(second)).toContain(`history horizon ${first.horizon.toISOString()}, kept from an earlier prune that reached further`);

    // Every asOf at or after the horizon is complete: the horizon itself, and instants after it.
    for (const asOf of [first.horizon, new Date(first.horizon.getTime() + 3_600_000)]) {
      const { nodes, error } = await t.findingsAsOf(asOf);
      expect(error).toBeUndefined();
      expect(nodes).toEqual(expect.arrayContaining([
        { userName: 'alice', accessKeyId: K1, status: 'PASS' },
        { userName: 'bob', accessKeyId: null, status: 'PASS' },
      ]));
    }
    // A later cutoff still wins.
    const [third] = await retention.prune(1, new Date(Date.now() + 3_600_000));
    expect(third.horizon.getTime()).toBeGreaterThan(first.horizon.getTime());
  });
});

describe('asOf inside the retention horizon', () => {
  let t: Awaited<ReturnType<typeof withStack>>;
  beforeAll(async () => {
    t = await withStack();
  });
  afterAll(() => t.stack.close());

  it('is answered from the versions still stored, the very instant the refusal suggests included', async () => {
    await t.scanAt(40, 'Active');
    await t.scanAt(35, 'Inactive');
    await t.scanAt(2, 'Inactive');
    const [{ horizon }] = await new RetentionService(t.stack.prisma).prune(30);

    const refused = await t.findingsAsOf(day(38));
    expectPrunedRefusal(refused.error);
    const suggested = new Date(refused.error!.message.match(/Ask about (\S+) or later/)![1]);

    // The horizon lies between the scans of d35 and d2: the d35 scan answers, and its versions are stored.
    for (const asOf of [suggested, day(20)]) {
      const { nodes, error } = await t.findingsAsOf(asOf);
      expect(error).toBeUndefined();
      // Findings come in identity order (by IAM user id), so compare them as a set.
      expect(nodes).toHaveLength(3);
      expect(nodes).toEqual(expect.arrayContaining([
        { userName: '<root_account>', accessKeyId: null, status: 'NOT_APPLICABLE' },
        { userName: 'alice', accessKeyId: K1, status: 'PASS' },
        { userName: 'bob', accessKeyId: null, status: 'PASS' },
      ]));
    }
    const alice: any = await t.stack.gql(
      `query($asOf: DateTime) { iamUser(accountId: "${ACCOUNT}", userName: "alice", asOf: $asOf) { asOf accessKeys { accessKeyId status } findings { accessKeyId status } } }`,
      { asOf: suggested.toISOString() },
    );
    expect(alice.errors).toBeUndefined();
    expect(alice.data.iamUser).toEqual({
      asOf: day(35).toISOString(),
      accessKeys: [{ accessKeyId: K1, status: 'Inactive' }],
      findings: [{ accessKeyId: K1, status: 'PASS' }],
    });
    expect(suggested).toEqual(horizon);
  });
});

describe('scan(id) of a scan older than the retention horizon', () => {
  let t: Awaited<ReturnType<typeof withStack>>;
  const ids: Record<number, string> = {};
  beforeAll(async () => {
    t = await withStack();
    for (const [daysAgo, status] of [[40, 'Active'], [35, 'Inactive'], [2, 'Inactive']] as const) ids[daysAgo] = (await t.scanAt(daysAgo, status)).scanId;
    await new RetentionService(t.stack.prisma).prune(30);
  });
  afterAll(() => t.stack.close());
  const scanQuery = (fields: string) => `query($id: ID!) { scan(id: $id) { ${fields} } }`;
  const globalId = (localId: string) => toGlobalId('Scan', localId);

  it('says its detail was pruned instead of listing part of it; counts still say what it found', async () => {
    const scanId = (await t.stack.gql(`{ scans(accountId: "${ACCOUNT}", first: 10) { nodes { id observedAt } } }`)).data.scans.nodes
      .find((n: any) => n.observedAt === day(40).toISOString()).id;
    expect(scanId).toBe(globalId(ids[40]));

    // Before the fix: counts said 1 FAIL and the list held only bob's PASS, with no error.
    const findings = await t.stack.gql(scanQuery('counts { fail } findings { nodes { accessKeyId status } }'), { id: scanId });
    expect(findings.data?.scan?.findings?.nodes?.some((n: any) => n.status === 'FAIL') ?? false).toBe(false);
    expectPrunedRefusal(findings.errors?.[0]);
    expect(findings.errors![0].message).toMatch(/trends and counts still cover it/);
    expectPrunedRefusal((await t.stack.gql(scanQuery('iamUsers { nodes { userName accessKeys { status } } }'), { id: scanId })).errors?.[0]);

    const summary = await t.stack.gql(scanQuery('detailPruned counts { fail pass }'), { id: scanId });
    expect(summary.errors).toBeUndefined();
    expect(summary.data.scan).toEqual({ detailPruned: true, counts: { fail: 1, pass: 1 } });
  });

  it('lists a scan whose successor read IAM at or after the horizon in full, though it read IAM before the horizon', async () => {
    // The d35 scan read IAM before the d30 horizon, but every version valid then ended at d2 or later.
    const res = await t.stack.gql(scanQuery('detailPruned counts { fail pass } findings { nodes { accessKeyId status } } iamUsers { nodes { userName accessKeys { status } } }'), { id: globalId(ids[35]) });
    expect(res.errors).toBeUndefined();
    expect(res.data.scan.findings.nodes).toHaveLength(3);
    expect(res.data.scan).toEqual({
      detailPruned: false,
      counts: { fail: 0, pass: 2 },
      findings: { nodes: expect.arrayContaining([{ accessKeyId: null, status: 'NOT_APPLICABLE' }, { accessKeyId: K1, status: 'PASS' }, { accessKeyId: null, status: 'PASS' }]) },
      iamUsers: { nodes: [{ userName: 'alice', accessKeys: [{ status: 'Inactive' }] }, { userName: 'bob', accessKeys: [] }] },
    });
    const latest = await t.stack.gql(scanQuery('detailPruned'), { id: globalId(ids[2]) });
    expect(latest.data.scan).toEqual({ detailPruned: false });
  });
});

describe('startScan over GraphQL with a retention configured', () => {
  let t: Awaited<ReturnType<typeof withStack>>;
  beforeAll(async () => {
    t = await withStack({ retentionDays: 30 });
  });
  afterAll(() => t.stack.close());
  const startScan = async () => {
    const res = await t.stack.gql('mutation { startScan { scans { id status } } }');
    expect(res.errors).toBeUndefined();
    expect(res.data.startScan.scans[0].status).toBe('QUEUED');
    // The job, not only the scan row: retention runs after the scan has been stored as ended.
    return (await t.stack.jobEnded(res.data.startScan.scans[0].id)).status as string;
  };

  it('applies the retention after the scan, as the CLI does (a FAILED scan prunes nothing)', async () => {
    await t.scanAt(40, 'Active');
    await t.scanAt(35, 'Inactive');
    const endedBeforeCutoff = () => t.stack.prisma.findingVersion.count({ where: { accountId: ACCOUNT, validTo: { lt: new Date(Date.now() - 30 * DAY) } } });
    expect(await endedBeforeCutoff()).toBe(1); // K1's FAIL [d40, d35)

    // AccessDenied: not retried, so no later attempt prunes behind the test's back.
    t.stack.sandbox.setFaults([{ operation: 'ListUsers', error: 'AccessDenied' }]);
    expect(await startScan()).toBe('FAILED');
    t.stack.sandbox.setFaults([]);
    expect(await endedBeforeCutoff()).toBe(1);

    const before = Date.now();
    expect(await startScan()).toBe('COMPLETED');
    expect(await endedBeforeCutoff()).toBe(0);
    const horizon = await t.stack.prisma.historyHorizon.findUnique({ where: { accountId: ACCOUNT } });
    expect(horizon?.prunedBefore.getTime()).toBeGreaterThanOrEqual(before - 30 * DAY);
    expectPrunedRefusal((await t.findingsAsOf(day(38))).error);
  });
});
