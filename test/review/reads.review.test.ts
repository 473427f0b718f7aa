import { getIntrospectionQuery } from 'graphql';
import type { FixtureInput } from '../../src/sandbox/fixture';
import { executeInterpreted } from '../support/interpreted';
import { memoryLogger } from '../support/memory-logger';
import { startStack, type Stack } from '../support/stack';

const ACCOUNT = '515151515151';
const FIXTURE: FixtureInput = {
  accountId: ACCOUNT,
  accountCreatedAt: 'now-900d',
  users: Array.from({ length: 24 }, (_, i) => ({
    userName: `rv-${String(i).padStart(2, '0')}`,
    createdAt: `now-${100 - i}d`,
    loginProfile: i % 3 === 0 ? undefined : { createdAt: `now-${100 - i}d` },
    accessKeys: i % 2 === 0 ? [{ status: 'Active' as const, createdAt: `now-${100 - i}d+1m`, lastUsed: i % 4 === 0 ? { date: 'now-2d', serviceName: 'iam' } : undefined }] : [],
  })),
};

// Review of the read path that landed 2026-11-28 (graphql-jit, one-statement pages, request ids, cost cache).
describe('review: GraphQL reads (graphql-jit) answer what graphql-js answers', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack(FIXTURE);
    expect((await stack.scan()).status).toBe('COMPLETED');
  });
  afterAll(() => stack.close());

  const interpreted = (query: string, variables?: Record<string, unknown>, operationName?: string) => executeInterpreted(stack.prisma, query, variables, operationName);
  const overHttp = async (query: string, variables?: Record<string, unknown>, operationName?: string) => {
    const res = await fetch(stack.server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer test-bootstrap-token-0123456789abcdef' },
      body: JSON.stringify({ query, variables, operationName }),
    });
    return (await res.json()) as { data?: unknown; errors?: { message: string; path?: unknown[]; extensions?: Record<string, unknown> }[] };
  };
  const same = async (query: string, variables?: Record<string, unknown>, operationName?: string) => {
    const http = await overHttp(query, variables, operationName);
    const js = await interpreted(query, variables, operationName);
    expect(JSON.stringify(http.data ?? null)).toBe(JSON.stringify(js.data ?? null));
    expect((http.errors ?? []).map((e) => [e.path ?? null, e.message])).toEqual((js.errors ?? []).map((e) => [e.path ?? null, e.message]));
    return http;
  };

  const PAGE = `nodes { id __typename userName status state firstSeenAt lastSeenAt evidence { __typename accessKeyId error exceptionId exceptionExpiresAt accessKeyCreatedAt } }`;

  it('@include/@skip with variables', async () => {
    const q = `query Q($a: Boolean!, $b: Boolean!) { findings(first: 3) { totalCount @include(if: $a) pageInfo @skip(if: $b) { hasNextPage } nodes { id userName @include(if: $b) } } }`;
    for (const a of [true, false]) for (const b of [true, false]) await same(q, { a, b });
  });

  it('fragments and inline fragments on Node, __typename everywhere', async () => {
    const first: any = await overHttp(`{ findings(first: 2) { nodes { id } } }`);
    const ids = first.data.findings.nodes.map((n: any) => n.id);
    await same(
      `query N($ids: [ID!]!, $id: ID!) { __typename nodes(ids: $ids) { __typename id ...F ... on Node { id } } node(id: $id) { __typename ... on Finding { userName evidence { __typename } } } }
       fragment F on Finding { __typename userName control { __typename controlId } scan { __typename id status } }`,
      { ids, id: ids[0] },
    );
  });

  it('aliases of the same field with different arguments', async () => {
    await same(`{ a: findings(first: 2) { ${PAGE} } b: findings(first: 3, orderBy: { field: FIRST_SEEN_AT }) { ${PAGE} } c: findings(first: 2, filter: { status: [FAIL] }) { totalCount ${PAGE} } }`);
  });

  it('introspection', async () => {
    await same(`{ __schema { queryType { name } types { name kind } } __type(name: "FindingOrder") { inputFields { name defaultValue } } }`);
  });

  it('the full introspection query (GraphiQL, codegen), and __type with a variable and includeDeprecated', async () => {
    await same(getIntrospectionQuery({ descriptions: true, specifiedByUrl: true, directiveIsRepeatable: true, schemaDescription: true, inputValueDeprecation: true }));
    await same(`query T($n: String!, $d: Boolean) { __type(name: $n) { name fields(includeDeprecated: $d) { name isDeprecated deprecationReason args(includeDeprecated: true) { name defaultValue isDeprecated } } } }`, { n: 'Query', d: true });
    await same(`query T($n: String!) { __type(name: $n) { name inputFields(includeDeprecated: true) { name defaultValue isDeprecated } } }`, { n: 'FindingFilter' });
  });

  it('input object defaults: literal, variable, document default, nested in the filter, DateTime variables', async () => {
    await same(`query O($o: FindingOrder = { field: LAST_SEEN_AT }) { findings(first: 4, orderBy: $o) { ${PAGE} } }`);
    await same(`query O($o: FindingOrder = { field: LAST_SEEN_AT }) { findings(first: 4, orderBy: $o) { ${PAGE} } }`, { o: { field: 'FIRST_SEEN_AT' } });
    await same(`query O($f: OrderDirection = DESC) { findings(first: 4, orderBy: { field: FIRST_SEEN_AT, direction: $f }) { ${PAGE} } }`);
    await same(`query O($f: FindingFilter, $o: FindingOrder) { findings(first: 4, filter: $f, orderBy: $o) { totalCount ${PAGE} } }`, {
      f: { firstSeenAfter: '2000-01-01T00:00:00Z', accountIds: [ACCOUNT], status: ['FAIL', 'PASS'] },
      o: { field: 'FIRST_SEEN_AT' },
    });
    await same(`query O($d: DateTime) { findings(first: 4, filter: { firstSeenAfter: $d }) { totalCount ${PAGE} } }`, { d: '2000-01-01T00:00:00.000Z' });
  });

  it('a single value given for a list variable (list input coercion), top level and nested', async () => {
    await same(`query S($s: [ComplianceStatus!]) { findings(first: 3, filter: { status: $s }) { totalCount ${PAGE} } }`, { s: 'FAIL' });
    await same(`query S($f: FindingFilter) { findings(first: 3, filter: $f) { totalCount ${PAGE} } }`, { f: { status: 'FAIL', accountIds: ACCOUNT } });
    await same(`query S($a: [String!], $st: [FindingState!]) { findings(first: 3, filter: { accountIds: $a, state: $st }) { totalCount ${PAGE} } }`, { a: ACCOUNT, st: 'OPEN' });
    await same(`query S($f: FindingFilter) { findings(first: 3, filter: $f) { totalCount ${PAGE} } }`, { f: { firstSeenAfter: null, userName: null, status: null } });
  });

  it('a failing field deep in lists bubbles to the same nullable parent, with the same paths', async () => {
    const q = `{ controls { controlId } scans(first: 2) { nodes { id status findings(first: 2) { totalCount nodes { id userName } } } } }`;
    await stack.prisma.$executeRawUnsafe('ALTER TABLE finding_version RENAME TO finding_version_bubble');
    try {
      const http = await overHttp(q);
      const js = await interpreted(q);
      expect(js.errors?.length).toBeGreaterThan(0);
      expect(JSON.stringify(http.data ?? null)).toBe(JSON.stringify(js.data ?? null));
      expect((http.errors ?? []).map((e) => e.path)).toEqual((js.errors ?? []).map((e) => e.path));
    } finally {
      await stack.prisma.$executeRawUnsafe('ALTER TABLE finding_version_bubble RENAME TO finding_version');
    }
  });

  it('field argument defaults when a variable is absent or null; order inputs of other types without direction', async () => {
    const q = `query D($n: Int, $l: Int, $so: ScanOrder, $uo: IamUserOrder) { findings(first: $n, last: $l) { totalCount ${PAGE} } iamUsers(first: $n, orderBy: $uo) { totalCount nodes { id userName } }
      scans(first: $n, orderBy: $so) { totalCount nodes { id status } } }`;
    await same(q, {});
    await same(q, { n: null });
    await same(q, { l: 3 });
    await same(q, { l: 3, n: null });
    await same(q, { so: { field: 'QUEUED_AT' }, uo: { field: 'IDENTITY' }, n: 3 });
  });

  it('two operations in one document, chosen by operationName; the same text under each name', async () => {
    const doc = `query A { findings(first: 2) { totalCount } } query B { controls { controlId } }`;
    await same(doc, undefined, 'A');
    await same(doc, undefined, 'B');
    await same(doc, undefined, 'A');
    await same(doc, undefined, 'C');
  });

  it('resolver errors keep code, message and path (inside lists, on nullable fields)', async () => {
    const http = await same(`{ a: node(id: "not-an-id") { id } b: nodes(ids: ["Zm9v", "not"]) { id } findings(first: 1) { totalCount } }`);
    const js = await interpreted(`{ a: node(id: "not-an-id") { id } b: nodes(ids: ["Zm9v", "not"]) { id } findings(first: 1) { totalCount } }`);
    expect((http.errors ?? []).map((e) => e.extensions?.code)).toEqual((js.errors ?? []).map((e) => e.extensions?.code));
  });
});

const OTHER = '525252525252'; // findings copied in, its only scan FAILED
const NONE = '535353535353'; // no scan, no findings

describe('review: findings pages (one statement, pg values)', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ ...FIXTURE, accountId: ACCOUNT });
    expect((await stack.scan()).status).toBe('COMPLETED');
    // Resolved findings (gone from IAM) with a few resolved at the same instant, some never failed, spread first seen.
    await stack.prisma.$executeRawUnsafe(`UPDATE finding SET state = 'RESOLVED', present = false, resolution = 'KEY_DELETED',
      resolved_at = TIMESTAMPTZ '2026-01-01' + ((substr(user_name, 4)::int % 3) * INTERVAL '1 day')
      WHERE account_id = $1 AND user_name LIKE 'rv-%' AND substr(user_name, 4)::int % 4 = 1`, ACCOUNT);
    await stack.prisma.$executeRawUnsafe(`UPDATE finding SET first_seen_at = TIMESTAMPTZ '2025-06-01' + ((substr(user_name, 4)::int % 5) * INTERVAL '1 hour')
      WHERE account_id = $1 AND user_name LIKE 'rv-%'`, ACCOUNT);
    const scanId = '00000000-0000-4000-8000-000000000052';
    await stack.prisma.$executeRawUnsafe(`INSERT INTO scan (id, account_id, status, source, started_at, finished_at, observed_at) VALUES ($1::uuid, $2, 'FAILED', 'CREDENTIAL_REPORT', now(), now(), now())`, scanId, OTHER);
    await stack.prisma.$executeRawUnsafe(`INSERT INTO finding (id, identity, account_id, control_id, user_name, user_arn, access_key_id, status, reasons, evidence, state, present, opened_at, resolved_at, resolution, reopen_count, first_seen_at, last_seen_at, last_scan_id, user_id)
      SELECT gen_random_uuid(), replace(identity, $1, $2), $2, control_id, user_name, replace(user_arn, $1, $2), access_key_id, status, reasons, evidence, state, present, opened_at, resolved_at, resolution, reopen_count, first_seen_at, last_seen_at, $3::uuid, user_id
      FROM finding WHERE account_id = $1`, ACCOUNT, OTHER, scanId);
  });
  afterAll(() => stack.close());

  const PAGE = `totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } nodes { id userName state resolvedAt firstSeenAt lastSeenAt }`;
  const ids = (r: any) => r.data.findings.nodes.map((n: any) => n.id);

  it('an account whose only scan FAILED, alone or beside a scanned one: BAD_USER_INPUT naming it, never a page', async () => {
    for (const filter of [{ accountId: OTHER }, { accountIds: [OTHER] }, { accountIds: [ACCOUNT, OTHER] }, { accountIds: [OTHER, ACCOUNT] }, { accountIds: [ACCOUNT, NONE] }, { accountIds: [ACCOUNT, ACCOUNT, OTHER] }]) {
      const r: any = await stack.gql(`query($f: FindingFilter) { findings(filter: $f, first: 5) { ${PAGE} } }`, { f: filter });
      expect(r.data?.findings ?? null).toBeNull();
      expect(r.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      expect(r.errors[0].message).toContain(filter.accountIds?.find((a) => a !== ACCOUNT) ?? OTHER);
    }
  });

  it('duplicated accountIds do not duplicate findings', async () => {
    const one: any = await stack.gql(`{ findings(filter: { accountIds: ["${ACCOUNT}"] }, first: 100) { ${PAGE} } }`);
    const twice: any = await stack.gql(`{ findings(filter: { accountIds: ["${ACCOUNT}", "${ACCOUNT}"] }, first: 100) { ${PAGE} } }`);
    expect(twice.data.findings.totalCount).toBe(one.data.findings.totalCount);
    expect(ids(twice)).toEqual(ids(one));
  });

  for (const field of ['IDENTITY', 'FIRST_SEEN_AT', 'LAST_SEEN_AT', 'RESOLVED_AT']) {
    for (const direction of ['ASC', 'DESC']) {
      for (const filter of [{ accountId: ACCOUNT }, { accountIds: [ACCOUNT], state: ['RESOLVED', 'NEVER_FAILED', 'OPEN'] }, { state: ['RESOLVED'] }, {}]) {
        it(`pages by ${field} ${direction} (${JSON.stringify(filter)}) forward and back: no duplicates or gaps, totals right past the end`, async () => {
          const q = `query($f: FindingFilter, $o: FindingOrder, $first: Int, $after: String, $last: Int, $before: String) { findings(filter: $f, orderBy: $o, first: $first, after: $after, last: $last, before: $before) { ${PAGE} } }`;
          const o = { field, direction };
          const all: any = await stack.gql(q, { f: filter, o, first: 100 });
          expect(all.errors).toBeUndefined();
          const expected = ids(all);
          const total = all.data.findings.totalCount;
          expect(total).toBe(expected.length);
          expect(total).toBeGreaterThan(0);
          const forward: string[] = [];
          let after: string | null = null;
          let last: any;
          for (let i = 0; i < 50; i++) {
            last = await stack.gql(q, { f: filter, o, first: 4, after });
            expect(last.errors).toBeUndefined();
            expect(last.data.findings.totalCount).toBe(total);
            forward.push(...ids(last));
            if (!last.data.findings.pageInfo.hasNextPage) break;
            after = last.data.findings.pageInfo.endCursor;
          }
          expect(forward).toEqual(expected);
          // Past the end: an empty page, the total still right.
          const past: any = await stack.gql(q, { f: filter, o, first: 4, after: last.data.findings.pageInfo.endCursor });
          expect(past.errors).toBeUndefined();
          expect(ids(past)).toEqual([]);
          expect(past.data.findings.totalCount).toBe(total);
          // Back from the end.
          const backward: string[] = [];
          let before: string | null = last.data.findings.pageInfo.endCursor;
          const lastId = expected[expected.length - 1];
          for (let i = 0; i < 50; i++) {
            const page: any = await stack.gql(q, { f: filter, o, last: 3, before });
            expect(page.errors).toBeUndefined();
            expect(page.data.findings.totalCount).toBe(total);
            backward.unshift(...ids(page));
            if (!page.data.findings.pageInfo.hasPreviousPage) break;
            before = page.data.findings.pageInfo.startCursor;
          }
          expect([...backward, lastId]).toEqual(expected);
        });
      }
    }
  }
});

describe('review: request ids, cost cache, security headers', () => {
  let stack: Stack;
  const memory = memoryLogger('info');
  beforeAll(async () => {
    stack = await startStack(FIXTURE, { logger: memory.logger, limits: { maxCost: 500 } });
    expect((await stack.scan()).status).toBe('COMPLETED');
  });
  afterAll(() => stack.close());

  it('the cost estimate of the same text with a larger `first` is not a cached smaller one; refused stays refused', async () => {
    const q = `query C($n: Int) { findings(first: $n) { nodes { id userName status state firstSeenAt lastSeenAt evidence { accessKeyId error } } } }`;
    const small: any = await stack.gql(q, { n: 2 });
    expect(small.errors).toBeUndefined();
    const big: any = await stack.gql(q, { n: 100 });
    expect(big.errors?.[0]?.extensions?.code).toBe('QUERY_TOO_COSTLY');
    const again: any = await stack.gql(q, { n: 100 });
    expect(again.errors?.[0]?.extensions?.code).toBe('QUERY_TOO_COSTLY');
    // Omitted: the default page (50 × 10 + 1 = 501 > 500).
    const defaulted: any = await stack.gql(q, {});
    expect(defaulted.errors?.[0]?.extensions?.code).toBe('QUERY_TOO_COSTLY');
    const smallAgain: any = await stack.gql(q, { n: 2 });
    expect(smallAgain.errors).toBeUndefined();
  });

  it('masked internal errors carry their own request id (header, body, log), concurrently', async () => {
    await stack.prisma.$executeRawUnsafe('ALTER TABLE finding_version RENAME TO finding_version_review');
    try {
      const results = await Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          stack.gql(`query R${i}($at: DateTime) { findings(asOf: $at, first: ${1 + i}) { totalCount nodes { id } } controls { controlId } }`, { at: new Date().toISOString() }),
        ),
      );
      for (const r of results) {
        const header = r.headers.get('x-request-id');
        expect(header).toBeTruthy();
        expect(r.errors?.[0]?.extensions?.code).toBe('INTERNAL_SERVER_ERROR');
        expect(r.errors![0]!.extensions!.requestId).toBe(header);
        expect(r.errors![0]!.message).toContain(header!);
        const logged = memory.lines().filter((l) => l.msg === 'unexpected error in a GraphQL request' && l.requestId === header);
        expect(logged.length).toBeGreaterThan(0);
      }
    } finally {
      await stack.prisma.$executeRawUnsafe('ALTER TABLE finding_version_review RENAME TO finding_version');
    }
  });

  it('errors raised before execution (cost, validation, parse, bad variables) are logged under the response\'s request id', async () => {
    const cases: [string, Record<string, unknown> | undefined, string][] = [
      [`{ findings(first: 100) { nodes { id userName status state firstSeenAt lastSeenAt evidence { accessKeyId error } } } }`, undefined, 'QUERY_TOO_COSTLY'],
      [`{ findings { nope } }`, undefined, 'GRAPHQL_VALIDATION_FAILED'],
      [`{ findings {`, undefined, 'GRAPHQL_PARSE_FAILED'],
      [`query($n: Int) { findings(first: $n) { totalCount } }`, { n: 'x' }, 'BAD_USER_INPUT'],
    ];
    const results = await Promise.all(cases.map(([q, v]) => stack.gql(q, v)));
    results.forEach((r, i) => {
      const header = r.headers.get('x-request-id');
      expect(r.errors?.[0]?.extensions?.code).toBe(cases[i]![2]);
      const logged = memory.lines().filter((l) => l.msg === 'graphql request' && l.requestId === header);
      expect(logged).toHaveLength(1);
      expect(logged[0]!.errorCodes).toEqual([cases[i]![2]]);
    });
  });

  it('security headers on every route, 401/404/413 included', async () => {
    const base = stack.server.url.replace(/\/graphql$/, '');
    const responses = [
      await fetch(`${base}/healthz`),
      await fetch(`${base}/nope`),
      await fetch(stack.server.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query":"{ controls { id } }"}' }),
      await fetch(stack.server.url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer test-bootstrap-token-0123456789abcdef' }, body: JSON.stringify({ query: `{ controls { id } }`, pad: 'x'.repeat(200_000) }) }),
      await fetch(stack.server.url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer test-bootstrap-token-0123456789abcdef' }, body: '{"query":"{ controls { id } }"}' }),
    ];
    expect(responses.map((r) => r.status)).toEqual([200, 404, 401, 413, 200]);
    for (const r of responses) {
      expect(r.headers.get('x-content-type-options')).toBe('nosniff');
      expect(r.headers.get('strict-transport-security')).toBeTruthy();
      expect(r.headers.get('x-frame-options')).toBeTruthy();
      expect(r.headers.get('x-request-id')).toBeTruthy();
    }
  });
});
