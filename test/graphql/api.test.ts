import { readFileSync } from 'node:fs';
import path from 'node:path';
import { printKeywardenSchema } from '../../src/graphql/schema';
import type { FixtureInput, FixtureUserInput } from '../../src/sandbox/fixture';
import { startStack, type Stack } from '../support/stack';

const users: FixtureUserInput[] = Array.from({ length: 120 }, (_, i) => ({
  userName: `user-${String(i).padStart(3, '0')}`,
  createdAt: 'now-100d',
  loginProfile: { createdAt: 'now-100d' },
  accessKeys: i % 10 === 0 ? [{ status: 'Active' as const, createdAt: 'now-100d+1m' }] : [],
}));
const FIXTURE: FixtureInput = { accountId: '777788889999', accountCreatedAt: 'now-900d', users };

describe('GraphQL API over HTTP', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack(FIXTURE);
    expect((await stack.scan()).status).toBe('COMPLETED');
  });
  afterAll(() => stack.close());

  const badInput = (res: any) => {
    expect(res.data?.findings ?? res.data?.iamUsers ?? null).toBeNull();
    expect(res.errors[0].extensions.code).toBe('BAD_USER_INPUT');
    return res.errors[0].message as string;
  };

  it('pages findings Relay-style: default 50, totalCount, cursors, no overlap', async () => {
    const first: any = await stack.gql('{ findings { totalCount edges { cursor node { id } } pageInfo { hasNextPage startCursor endCursor } } }');
    expect(first.data.findings.totalCount).toBe(121); // 120 users + root
    expect(first.data.findings.edges).toHaveLength(50);
    expect(first.data.findings.pageInfo.startCursor).toBe(first.data.findings.edges[0].cursor);
    expect(first.data.findings.pageInfo.endCursor).toBe(first.data.findings.edges[49].cursor);
    // Any edge's cursor resumes right after that edge.
    const fromTenth: any = await stack.gql('query($after: String) { findings(first: 2, after: $after) { nodes { id } } }', { after: first.data.findings.edges[9].cursor });
    expect(fromTenth.data.findings.nodes.map((n: any) => n.id)).toEqual(first.data.findings.edges.slice(10, 12).map((e: any) => e.node.id));
    const seen = new Set(first.data.findings.edges.map((e: any) => e.node.id));
    let after = first.data.findings.pageInfo.endCursor;
    for (;;) {
      const page: any = await stack.gql('query($after: String) { findings(first: 100, after: $after) { nodes { id } pageInfo { hasNextPage endCursor } } }', { after });
      for (const n of page.data.findings.nodes) {
        expect(seen.has(n.id)).toBe(false);
        seen.add(n.id);
      }
      if (!page.data.findings.pageInfo.hasNextPage) break;
      after = page.data.findings.pageInfo.endCursor;
    }
    expect(seen.size).toBe(121);
  });

  it('filters findings by status and user', async () => {
    const res: any = await stack.gql('{ findings(filter: { status: [FAIL], accountId: "777788889999" }) { totalCount nodes { userName reasons } } }');
    expect(res.data.findings.totalCount).toBe(12);
    expect(res.data.findings.nodes.every((n: any) => n.reasons.includes('CREATED_AT_SETUP'))).toBe(true);
    const one: any = await stack.gql('{ findings(filter: { userName: "user-010" }) { totalCount nodes { status } } }');
    expect(one.data.findings).toEqual({ totalCount: 1, nodes: [{ status: 'FAIL' }] });
  });

  it('refuses first above 100 or below 0, with BAD_USER_INPUT', async () => {
    expect(badInput(await stack.gql('{ findings(first: 101) { totalCount } }'))).toMatch(/first must be between 0 and 100/);
    badInput(await stack.gql('{ iamUsers(first: -1) { totalCount } }'));
  });

  it('refuses a cursor it did not issue', async () => {
    expect(badInput(await stack.gql('{ findings(after: "garbage") { totalCount } }'))).toMatch(/cursor/);
  });

  it('refuses an unknown account rather than answering empty', async () => {
    expect(badInput(await stack.gql('{ findings(filter: { accountId: "000000000000" }) { totalCount } }'))).toMatch(/000000000000/);
    const res: any = await stack.gql('{ complianceSummary(accountId: "000000000000") { compliant } }');
    expect(res.errors[0].extensions.code).toBe('BAD_USER_INPUT');
  });

  it('lists users with keys and findings, batched', async () => {
    const res: any = await stack.gql('{ iamUsers(first: 100) { totalCount nodes { userName hasConsolePassword accessKeys { accessKeyId status } findings { status } } } }');
    expect(res.errors).toBeUndefined();
    expect(res.data.iamUsers.totalCount).toBe(120);
    const u0 = res.data.iamUsers.nodes.find((n: any) => n.userName === 'user-000');
    expect(u0.accessKeys).toHaveLength(1);
    expect(u0.findings).toEqual([{ status: 'FAIL' }]);
  });

  it('summarises compliance for an account', async () => {
    const res: any = await stack.gql(`{ complianceSummary(accountId: "777788889999") {
      compliant failingUsers counts { pass fail notApplicable error } control { id severity mappings { framework version requirementId } } scan { status } } }`);
    const s = res.data.complianceSummary;
    expect(s).toMatchObject({ compliant: false, failingUsers: 12, counts: { pass: 108, fail: 12, notApplicable: 1, error: 0 }, scan: { status: 'COMPLETED' } });
    expect(s.control.severity).toBe('MEDIUM');
    expect(s.control.mappings).toContainEqual({ framework: 'CIS AWS Foundations Benchmark', version: '6.0.0', requirementId: '2.10' });
  });

  it('resolves global ids with node(id), and scans by global or raw id', async () => {
    const res: any = await stack.gql('{ findings(first: 1) { nodes { id scan { id } } } iamUsers(first: 1) { nodes { id userName } } }');
    const finding = res.data.findings.nodes[0];
    const node: any = await stack.gql('query($id: ID!) { node(id: $id) { __typename id ... on Finding { status } } }', { id: finding.id });
    expect(node.data.node).toMatchObject({ __typename: 'Finding', id: finding.id });
    const user: any = await stack.gql('query($id: ID!) { node(id: $id) { __typename ... on IamUser { userName } } }', { id: res.data.iamUsers.nodes[0].id });
    expect(user.data.node).toEqual({ __typename: 'IamUser', userName: res.data.iamUsers.nodes[0].userName });
    const scan: any = await stack.gql('query($id: ID!) { node(id: $id) { __typename ... on Scan { status } } scan(id: $id) { id } }', { id: finding.scan.id });
    expect(scan.data).toEqual({ node: { __typename: 'Scan', status: 'COMPLETED' }, scan: { id: finding.scan.id } });
    const bad: any = await stack.gql('{ node(id: "bm9wZTox") { id } }');
    expect(bad.errors[0].extensions.code).toBe('BAD_USER_INPUT');
  });

  it('never puts a stack trace in a response', async () => {
    const res: any = await stack.gql('{ findings(first: 1000) { totalCount } }');
    expect(JSON.stringify(res)).not.toMatch(/stacktrace|\.ts:\d+|\.js:\d+/);
  });
});

describe('schema.graphql', () => {
  it('is what the code emits (run `npm run schema` and commit it when this fails)', async () => {
    const committed = readFileSync(path.join(__dirname, '../../schema.graphql'), 'utf8');
    expect(committed).toBe(await printKeywardenSchema());
  });
});
