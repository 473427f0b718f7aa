import { CONTROLS } from '../../src/controls/registry';
import { toGlobalId } from '../../src/graphql/common/node';
import type { FixtureInput } from '../../src/sandbox/fixture';
import { executeInterpreted } from '../support/interpreted';
import { startStack, type Stack } from '../support/stack';

const FIXTURE: FixtureInput = {
  accountId: '616161616161',
  accountCreatedAt: 'now-900d',
  users: Array.from({ length: 30 }, (_, i) => ({
    userName: `jit-${String(i).padStart(2, '0')}`,
    createdAt: `now-${100 - i}d`,
    loginProfile: i % 3 === 0 ? undefined : { createdAt: `now-${100 - i}d` },
    accessKeys: i % 2 === 0 ? [{ status: 'Active' as const, createdAt: `now-${100 - i}d+1m`, lastUsed: i % 4 === 0 ? { date: 'now-2d', serviceName: 'iam' } : undefined }] : [],
  })),
};

// Queries run compiled (graphql-jit); these are the shapes clients send: pages with evidence, nested objects, the
// Node interface, variables with input object fields left to their defaults, errors with their paths.
const CASES: { name: string; query: string; variables?: Record<string, unknown> }[] = [
  {
    name: 'a failing page with evidence, control and scan',
    query: `query Page($accountId: String!, $status: [ComplianceStatus!]) {
      findings(filter: { accountId: $accountId, status: $status }, first: 10) {
        totalCount pageInfo { hasNextPage endCursor }
        nodes { id controlId userName accessKeyId status reasons state resolvedAt firstSeenAt lastSeenAt severity
          evidence { userCreatedAt passwordLastUsedAt accessKeyStatus accessKeyCreatedAt accessKeyLastUsedAt secondsFromUserCreationToKey }
          control { id controlId title severity } scan { id status } }
      }
    }`,
    variables: { accountId: '616161616161', status: ['FAIL'] },
  },
  {
    name: 'an order given as a variable without its direction (an input field default)',
    query: `query Ordered($order: FindingOrder) { findings(orderBy: $order, first: 5) { nodes { userName firstSeenAt } } }`,
    variables: { order: { field: 'FIRST_SEEN_AT' } },
  },
  {
    name: 'users with their keys and findings, and node() over the interface',
    query: `query Users($ids: [ID!]!) { iamUsers(first: 5) { totalCount nodes { id userName hasConsolePassword accessKeys { accessKeyId status } findings { status reasons } } }
      controls { id controlId title } nodes(ids: $ids) { __typename id ... on Control { title } } }`,
    variables: { ids: [toGlobalId('Control', CONTROLS[0]!.id), toGlobalId('Account', '616161616161')] },
  },
  {
    name: 'an error: answered as graphql-js answers it, with its path',
    query: `query Broken { findings(filter: { accountId: "000000000000" }) { totalCount } controls { controlId } }`,
  },
];

describe('compiled query execution (graphql-jit) answers what graphql-js answers', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack(FIXTURE);
    expect((await stack.scan()).status).toBe('COMPLETED');
  });
  afterAll(() => stack.close());

  it.each(CASES)('$name', async ({ query, variables }) => {
    const overHttp = await stack.gql(query, variables);
    const interpreted = await executeInterpreted(stack.prisma, query, variables);
    // Same data, key for key and in order (JSON text compares order too); errors by message and path.
    expect(JSON.stringify(overHttp.data ?? null)).toBe(JSON.stringify(interpreted.data ?? null));
    expect((overHttp.errors ?? []).map((e: any) => [e.extensions?.code, e.path])).toEqual((interpreted.errors ?? []).map((e) => ['BAD_USER_INPUT', e.path]));
    if (query.includes('Page(')) expect((overHttp.data as any).findings.nodes.length).toBeGreaterThan(0);
  });
});
