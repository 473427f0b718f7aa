import { createHash } from 'node:crypto';
import { PrismaPg } from '@prisma/adapter-pg';
import { parse } from 'pg-connection-string';
import { DEFAULT_CONTROL_SETTINGS } from '../../src/controls/no-access-keys-at-setup/control';
import { PrismaClient } from '../../src/generated/prisma/client';
import { getIntrospectionQuery } from 'graphql';
import { unsizedLists } from '../../src/graphql/common/query-cost';
import { keywardenSchema } from '../../src/graphql/schema';
import { DEFAULT_LIMITS, startServer, type RunningServer } from '../../src/graphql/server';
import type { FixtureInput, FixtureUserInput } from '../../src/sandbox/fixture';
import { memoryLogger } from '../support/memory-logger';
import { startStack, TEST_ADMIN_TOKEN, type Stack } from '../support/stack';

/**
 * Query limits are enforced before execution: a query over the depth, alias, token, directive or cost
 * limit is refused and no resolver runs.
 *
 * How "no resolver ran" is shown: the server under test gets its own PrismaClient, built like
 * src/adapters/db/prisma.ts but with Prisma's query events on (`log: [{ emit: 'event', level: 'query' }]`,
 * which @prisma/adapter-pg supports). Every resolver that reads data goes through that client, and the
 * test authenticates with the bootstrap token, which needs no database. So the number of SQL statements
 * the server sent is a direct count of data work: a control query shows the counter moves, and each refused
 * query must leave it where it was. (The IAM sandbox's call counter is checked too, for the mutations.)
 */
const users: FixtureUserInput[] = Array.from({ length: 5 }, (_, i) => ({
  userName: `user-${i}`,
  createdAt: 'now-100d',
  loginProfile: { createdAt: 'now-100d' },
  accessKeys: [{ status: 'Active' as const, createdAt: 'now-100d+1m' }],
}));
const FIXTURE: FixtureInput = { accountId: '909090909090', accountCreatedAt: 'now-900d', users };

function queryLoggingPrisma(url: string): { prisma: PrismaClient; statements: () => number } {
  const c = parse(url);
  const prisma = new PrismaClient({
    adapter: new PrismaPg({ host: c.host || '127.0.0.1', port: c.port ? Number(c.port) : 5432, user: c.user || undefined, password: c.password || undefined, database: c.database || undefined }),
    log: [{ emit: 'event', level: 'query' }],
  });
  let n = 0;
  prisma.$on('query', () => {
    n++;
  });
  return { prisma, statements: () => n };
}

/**
 * A valid selection at least `depth` fields deep: scans → nodes → (findings → nodes → scan →)* id,
 * with pages of 1 so that only depth, not cost, is at stake.
 */
function nested(depth: number): string {
  let selection = 'id';
  let levels = 3; // scans, nodes, id
  while (levels < depth) {
    selection = `findings(first: 1) { nodes { scan { ${selection} } } }`;
    levels += 3;
  }
  return `{ scans(first: 1) { nodes { ${selection} } } }`;
}

describe('limits refuse before any resolver runs', () => {
  let stack: Stack;
  let server: RunningServer;
  let counted: ReturnType<typeof queryLoggingPrisma>;

  beforeAll(async () => {
    stack = await startStack(FIXTURE);
    expect((await stack.scan()).status).toBe('COMPLETED');
    counted = queryLoggingPrisma(process.env.DATABASE_URL!);
    server = await startServer({
      prisma: counted.prisma,
      logger: memoryLogger('info').logger,
      port: 0,
      auth: { bootstrapToken: TEST_ADMIN_TOKEN },
      remediation: { aws: stack.aws, scanRequest: { collect: { mode: 'CREDENTIAL_REPORT' }, control: DEFAULT_CONTROL_SETTINGS }, recentUseDays: 7 },
    });
  });
  afterAll(async () => {
    await server?.close();
    await counted?.prisma.$disconnect();
    await stack?.close();
  });

  const send = async (body: string, headers: Record<string, string> = {}) => {
    const res = await fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${TEST_ADMIN_TOKEN}`, ...headers }, body });
    const text = await res.text();
    return { status: res.status, text, json: JSON.parse(text) as any };
  };
  const gql = (query: string, variables?: unknown) => send(JSON.stringify({ query, variables }));

  /** Runs `fn`, returns how many SQL statements and IAM calls the server made meanwhile. */
  async function work<T>(fn: () => Promise<T>): Promise<{ result: T; sql: number; iam: number }> {
    const sql = counted.statements();
    const iam = stack.sandbox.calls().total;
    const result = await fn();
    await new Promise((r) => setTimeout(r, 50)); // query events are emitted after the statement returns
    return { result, sql: counted.statements() - sql, iam: stack.sandbox.calls().total - iam };
  }

  const noStack = (text: string) => {
    expect(text).not.toMatch(/\n\s+at |stacktrace|node_modules|\/src\/|\.ts:\d+|\.js:\d+/);
  };

  it('control: an ordinary query does reach the database (the counter works)', async () => {
    const { result, sql } = await work(() => gql(nested(6)));
    expect(result.status).toBe(200);
    expect(result.json.errors).toBeUndefined();
    expect(sql).toBeGreaterThanOrEqual(2);
  });

  it('a depth-50 query is refused at validation; no SQL', async () => {
    const query = nested(50);
    const { result, sql, iam } = await work(() => gql(query));
    expect(result.status).toBe(400);
    expect(result.json.data).toBeUndefined();
    expect(result.json.errors[0].extensions.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(result.json.errors[0].message).toMatch(new RegExp(`depth limit of ${DEFAULT_LIMITS.maxDepth}`, 'i'));
    expect({ sql, iam }).toEqual({ sql: 0, iam: 0 });
    noStack(result.text);
  });

  it('a 1,000-alias query is refused (token limit at parse); 31 aliases are refused by the alias limit; no SQL', async () => {
    const thousand = `{ ${Array.from({ length: 1000 }, (_, i) => `a${i}: scans(first: 1) { totalCount }`).join(' ')} }`;
    const big = await work(() => gql(thousand));
    expect(big.result.status).toBe(400);
    expect(big.result.json.data).toBeUndefined();
    expect(['GRAPHQL_PARSE_FAILED', 'GRAPHQL_VALIDATION_FAILED']).toContain(big.result.json.errors[0].extensions.code);
    expect(big.result.json.errors[0].message).toMatch(/token|alias/i);
    expect({ sql: big.sql, iam: big.iam }).toEqual({ sql: 0, iam: 0 });
    noStack(big.result.text);

    const justOver = `{ ${Array.from({ length: DEFAULT_LIMITS.maxAliases + 1 }, (_, i) => `a${i}: scans(first: 1) { totalCount }`).join(' ')} }`;
    const over = await work(() => gql(justOver));
    expect(over.result.status).toBe(400);
    expect(over.result.json.errors[0].message).toMatch(new RegExp(`aliases limit of ${DEFAULT_LIMITS.maxAliases}`, 'i'));
    expect(over.sql).toBe(0);

    const atLimit = `{ ${Array.from({ length: DEFAULT_LIMITS.maxAliases }, (_, i) => `a${i}: scans(first: 1) { totalCount }`).join(' ')} }`;
    const ok = await work(() => gql(atLimit));
    expect(ok.result.json.errors).toBeUndefined();
    expect(ok.sql).toBeGreaterThan(0);
  });

  it('first: 100 nested three deep is QUERY_TOO_COSTLY before execution; no SQL, no IAM', async () => {
    const query = '{ scans(first: 100) { nodes { findings(first: 100) { nodes { scan { iamUsers(first: 100) { totalCount } } } } } } }';
    const { result, sql, iam } = await work(() => gql(query));
    expect(result.status).toBe(400);
    expect(result.json.data).toBeUndefined();
    expect(result.json.errors[0].extensions).toMatchObject({ code: 'QUERY_TOO_COSTLY', maxCost: DEFAULT_LIMITS.maxCost });
    expect(result.json.errors[0].extensions.cost).toBeGreaterThan(DEFAULT_LIMITS.maxCost);
    expect({ sql, iam }).toEqual({ sql: 0, iam: 0 });
    // The same shape with `first` given by variables is estimated the same way.
    const viaVars = await work(() => gql('query($n: Int) { scans(first: $n) { nodes { findings(first: $n) { nodes { scan { iamUsers(first: $n) { totalCount } } } } } } }', { n: 100 }));
    expect(viaVars.result.json.errors[0].extensions.code).toBe('QUERY_TOO_COSTLY');
    expect(viaVars.sql).toBe(0);
    // Small pages of the same shape are fine.
    const small = await work(() => gql('{ scans(first: 2) { nodes { findings(first: 2) { nodes { scan { iamUsers(first: 2) { totalCount } } } } } } }'));
    expect(small.result.json.errors).toBeUndefined();
  });

  const YEAR = { from: '2025-01-01T00:00:00Z', to: '2026-01-01T00:00:00Z' };
  const TREND_FIELDS = 'at endsAt scans pass fail notApplicable error opened resolved meanTimeToResolveSeconds';
  const trend = (alias: string, interval: string, fields = TREND_FIELDS) =>
    `${alias}: complianceTrend(accountId: "${FIXTURE.accountId}", from: "${YEAR.from}", to: "${YEAR.to}", interval: ${interval}) { ${fields} }`;

  it('complianceTrend costs its buckets: 30 aliases of a year of HOUR buckets (59 MB before) are QUERY_TOO_COSTLY before any SQL', async () => {
    const attack = await work(() => gql(`{ ${Array.from({ length: DEFAULT_LIMITS.maxAliases }, (_, i) => trend(`a${i}`, 'HOUR')).join(' ')} }`));
    expect(attack.result.status).toBe(400);
    expect(attack.result.json.data).toBeUndefined();
    expect(attack.result.json.errors[0].extensions).toMatchObject({ code: 'QUERY_TOO_COSTLY', maxCost: DEFAULT_LIMITS.maxCost });
    expect(attack.result.json.errors[0].extensions.cost).toBeGreaterThan(30 * 8760 * 10);
    expect(attack.result.text.length).toBeLessThan(2000);
    expect({ sql: attack.sql, iam: attack.iam }).toEqual({ sql: 0, iam: 0 });
    // One year of HOUR buckets with every field is refused too; with two fields, or as DAY buckets, it runs.
    const oneHourly = await work(() => gql(`{ ${trend('t', 'HOUR')} }`));
    expect(oneHourly.result.json.errors[0].extensions.code).toBe('QUERY_TOO_COSTLY');
    expect(oneHourly.sql).toBe(0);
    const narrow = await gql(`{ ${trend('t', 'HOUR', 'at pass')} }`);
    expect(narrow.json.errors).toBeUndefined();
    expect(narrow.json.data.t).toHaveLength(8760);
    const daily = await gql(`{ ${trend('t', 'DAY')} }`);
    expect(daily.json.errors).toBeUndefined();
    expect(daily.json.data.t).toHaveLength(365);
  });

  it('lists without `first` are costed by their size: every list of objects in the schema has one, and a scan\'s errors count', async () => {
    const schema = await keywardenSchema();
    expect(unsizedLists(schema)).toEqual([]);
    // 100 scans of their errors (estimated 50 each) with every field: refused, though each scan is one row.
    const errors = await work(() => gql('{ scans(first: 100) { nodes { errors { severity scope userName accessKeyId operation code message } } } }'));
    expect(errors.result.json.errors[0].extensions.code).toBe('QUERY_TOO_COSTLY');
    expect(errors.sql).toBe(0);
    // 30 aliases of every control with every mapping are well within: the registry's real sizes.
    const controls = await gql(`{ ${Array.from({ length: 30 }, (_, i) => `c${i}: controls { id mappings { framework version requirementId title source } }`).join(' ')} }`);
    expect(controls.json.errors).toBeUndefined();
  });

  it('introspection is costed by the schema\'s sizes: the standard query (GraphiQL, codegen) runs, 30 aliased copies of it are refused', async () => {
    const standard = await gql(getIntrospectionQuery());
    expect(standard.json.errors).toBeUndefined();
    expect(standard.json.data.__schema.types.length).toBeGreaterThan(50);
    const full = getIntrospectionQuery();
    const fragments = full.slice(full.indexOf('fragment FullType'));
    const copies = `{ ${Array.from({ length: 30 }, (_, i) => `a${i}: __schema { types { ...FullType } }`).join(' ')} } ${fragments}`;
    const { result, sql } = await work(() => gql(copies));
    expect(result.json.errors[0].extensions.code).toBe('QUERY_TOO_COSTLY');
    expect(sql).toBe(0);
  });

  it('a response larger than maxResponseBytes is replaced by RESPONSE_TOO_LARGE, with its request id; a smaller one is sent', async () => {
    const small = await startServer({
      prisma: counted.prisma, logger: memoryLogger('info').logger, port: 0, auth: { bootstrapToken: TEST_ADMIN_TOKEN }, limits: { maxResponseBytes: 20_000 },
      remediation: { aws: stack.aws, scanRequest: { collect: { mode: 'CREDENTIAL_REPORT' }, control: DEFAULT_CONTROL_SETTINGS }, recentUseDays: 7 },
    });
    try {
      const post = async (query: string) => {
        const res = await fetch(small.url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${TEST_ADMIN_TOKEN}` }, body: JSON.stringify({ query }) });
        const text = await res.text();
        return { text, json: JSON.parse(text), requestId: res.headers.get('x-request-id') };
      };
      const big = await post(`{ ${trend('t', 'DAY')} }`); // 365 buckets, about 60 kB
      expect(big.text.length).toBeLessThan(1000);
      expect(big.json.data).toBeNull();
      expect(big.json.errors).toEqual([expect.objectContaining({ extensions: { code: 'RESPONSE_TOO_LARGE', maxBytes: 20_000, requestId: big.requestId } })]);
      const fits = await post(`{ ${trend('t', 'MONTH')} }`);
      expect(fits.json.errors).toBeUndefined();
      expect(fits.json.data.t).toHaveLength(12);
    } finally {
      await small.close();
    }
  });

  it('a costly mutation selection is refused before the mutation runs', async () => {
    const { result, sql, iam } = await work(() =>
      gql('mutation { startScan { scans { findings(first: 100) { nodes { scan { findings(first: 100) { nodes { scan { iamUsers(first: 100) { totalCount } } } } } } } } } }'),
    );
    expect(result.json.errors[0].extensions.code).toBe('QUERY_TOO_COSTLY');
    expect({ sql, iam }).toEqual({ sql: 0, iam: 0 });
  });

  it('more than 20 directives are refused; no SQL', async () => {
    const { result, sql } = await work(() => gql(`{ scans(first: 1) ${'@include(if: true) '.repeat(21)} { totalCount } }`));
    expect(result.status).toBe(400);
    expect(result.json.errors[0].message).toMatch(/directives limit/i);
    expect(sql).toBe(0);
  });

  it(`a body over ${DEFAULT_LIMITS.maxBodyBytes} bytes is 413 in GraphQL's error shape, no stack trace; just under is accepted`, async () => {
    const pad = (bytes: number) => JSON.stringify({ query: '{ scans(first: 1) { totalCount } }', variables: { pad: 'x'.repeat(bytes) } });
    const over = await work(() => send(pad(DEFAULT_LIMITS.maxBodyBytes)));
    expect(over.result.status).toBe(413);
    expect(over.result.json).toEqual({ errors: [{ message: `request body larger than ${DEFAULT_LIMITS.maxBodyBytes} bytes`, extensions: { code: 'BAD_REQUEST' } }] });
    expect(over.sql).toBe(0);
    noStack(over.result.text);
    const huge = await send(JSON.stringify({ query: `{ scans { totalCount } } #${'x'.repeat(5_000_000)}` }));
    expect(huge.status).toBe(413);
    noStack(huge.text);
    const under = await send(pad(DEFAULT_LIMITS.maxBodyBytes - 200));
    expect(under.status).toBe(200);
    expect(under.json.errors).toBeUndefined();
  });

  it('a batched request (JSON array) is refused; nothing runs', async () => {
    const { result, sql } = await work(() => send(JSON.stringify([{ query: '{ scans(first: 1) { totalCount } }' }, { query: '{ findings(first: 1) { totalCount } }' }])));
    expect(result.status).toBe(400);
    expect(result.json.data).toBeUndefined();
    expect(result.text).toMatch(/batch/i);
    expect(sql).toBe(0);
    noStack(result.text);
  });

  it('automatic persisted queries are refused, with and without the query text; nothing runs', async () => {
    const query = '{ scans(first: 1) { totalCount } }';
    const sha256Hash = createHash('sha256').update(query).digest('hex');
    for (const body of [{ extensions: { persistedQuery: { version: 1, sha256Hash } } }, { query, extensions: { persistedQuery: { version: 1, sha256Hash } } }]) {
      const { result, sql } = await work(() => send(JSON.stringify(body)));
      // Apollo answers APQ refusals with HTTP 200 on purpose (its APQ protocol: the client falls back to sending the query).
      expect(result.status).toBe(200);
      expect(result.json.data).toBeUndefined();
      expect(result.json.errors).toHaveLength(1);
      expect(result.json.errors[0].extensions.code).toBe('PERSISTED_QUERY_NOT_SUPPORTED');
      expect(sql).toBe(0);
    }
    const viaGet = await fetch(`${server.url}?extensions=${encodeURIComponent(JSON.stringify({ persistedQuery: { version: 1, sha256Hash } }))}`, {
      headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}`, 'apollo-require-preflight': '1' },
    });
    expect(((await viaGet.json()) as any).errors[0].extensions.code).toBe('PERSISTED_QUERY_NOT_SUPPORTED');
  });

  it('field suggestions ("Did you mean") never appear: fields, arguments, enum values, input fields, types', async () => {
    const typos = [
      '{ findingz { totalCount } }',
      '{ findings { totalCont } }',
      '{ findings(frist: 1) { totalCount } }',
      '{ findings(filter: { status: [FAILL] }) { totalCount } }',
      '{ findings(filter: { acountId: "1" }) { totalCount } }',
      '{ findings(orderBy: { field: IDENTITI }) { totalCount } }',
      '{ findings { nodes { ... on Findng { id } } } }',
      'query($s: ComplianceStatu) { findings { totalCount } }',
      'mutation { deactivateAcessKey(input: {}) { userErrors { code } } }',
      '{ node(id: "x") { ... on Scan { statsu } } }',
      '{ __type(name: "Finding") { nme } }',
    ];
    for (const query of typos) {
      const { result, sql } = await work(() => gql(query));
      expect(result.status).toBe(400);
      expect(result.json.errors.length).toBeGreaterThan(0);
      expect(result.text).not.toMatch(/did you mean/i);
      expect(sql).toBe(0);
    }
    // Variables with a misspelt enum value are refused without a suggestion too.
    const variable = await gql('query($s: [ComplianceStatus!]) { findings(filter: { status: $s }) { totalCount } }', { s: ['FAILL'] });
    expect(variable.status).toBe(400);
    expect(variable.text).not.toMatch(/did you mean/i);
  });
});
