import { randomBytes } from 'node:crypto';
import type { FixtureInput } from '../../src/sandbox/fixture';
import { memoryLogger, type MemoryLogger } from '../support/memory-logger';
import { startStack, TEST_ADMIN_TOKEN, type Stack } from '../support/stack';

/**
 * The inputs fuzz.test.ts (and probing) found to cause an unexpected error, an HTTP 500 or a leaked
 * suggestion, each pinned as a plain example. Before the fixes, every one of these answered
 * INTERNAL_SERVER_ERROR (HTTP 200 or 500), or for the last one a "Did you mean" suggestion.
 */
const ACCOUNT = '676767676767';
const FIXTURE: FixtureInput = {
  accountId: ACCOUNT,
  accountCreatedAt: 'now-900d',
  users: ['alice', 'bob', 'carol'].map((userName, i) => ({
    userName, createdAt: 'now-100d', loginProfile: { createdAt: 'now-100d' }, accessKeys: [{ status: 'Active' as const, createdAt: `now-${90 - i}d` }],
  })),
};
const b64 = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');

describe('inputs that used to cause unexpected errors', () => {
  let stack: Stack;
  let log: MemoryLogger;

  beforeAll(async () => {
    log = memoryLogger('info');
    stack = await startStack(FIXTURE, { logger: log.logger });
    expect((await stack.scan()).status).toBe('COMPLETED');
  });
  afterAll(() => stack.close());

  const raw = async (body: Record<string, unknown>) => {
    const res = await fetch(stack.server.url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${TEST_ADMIN_TOKEN}` }, body: JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as any };
  };
  /** The first error of a request that must be refused as the caller's fault: a 4xx, or a 200 with a BAD_USER_INPUT. */
  const refused = async (query: string, variables?: unknown, operationName?: string) => {
    const { status, body } = await raw({ query, variables, operationName });
    expect(status).toBeLessThan(500);
    expect(JSON.stringify(body)).not.toContain('INTERNAL_SERVER_ERROR');
    expect(body.errors?.length).toBeGreaterThan(0);
    return { status, error: body.errors[0] as { message: string; extensions: { code: string; field?: string } } };
  };

  it('syntax errors and the token limit are 400 GRAPHQL_PARSE_FAILED (armor re-parsed in a plugin hook: HTTP 500)', async () => {
    expect(await refused('{ findings {')).toMatchObject({ status: 400, error: { extensions: { code: 'GRAPHQL_PARSE_FAILED' } } });
    expect(await refused('{ control(id: "\\uD800") { id } }')).toMatchObject({ status: 400, error: { extensions: { code: 'GRAPHQL_PARSE_FAILED' } } });
    const tooMany = await refused(`{ ${'controls { id } '.repeat(600)} }`);
    expect(tooMany).toMatchObject({ status: 400, error: { extensions: { code: 'GRAPHQL_PARSE_FAILED' } } });
    expect(tooMany.error.message).toMatch(/more th\w+ 2000 tokens/);
  });

  it('invalid variable values are 400 BAD_USER_INPUT (the cost estimate coerced them first and threw: HTTP 500)', async () => {
    for (const [query, variables] of [
      ['query($n: Int) { findings(first: $n) { totalCount } }', { n: 'ten' }],
      ['query($d: DateTime) { findings(asOf: $d) { totalCount } }', { d: '2020-02-30T00:00:00Z' }],
      ['query($s: [ComplianceStatus!]) { findings(filter: { status: $s }) { totalCount } }', { s: ['FAILL'] }],
      ['query($f: FindingFilter) { findings(filter: $f) { totalCount } }', { f: { nope: 1 } }],
    ] as const) {
      const { status, error } = await refused(query, variables);
      expect({ query, status, code: error.extensions.code }).toEqual({ query, status: 400, code: 'BAD_USER_INPUT' });
      expect(error.message).toMatch(/Variable "\$\w" got invalid value/);
      expect(error.message).not.toMatch(/did you mean/i);
    }
  });

  it('an anonymous operation sent with an operationName is 400 OPERATION_RESOLUTION_FAILURE (graphql-query-complexity crashed: HTTP 500)', async () => {
    expect(await refused('{ controls { id } }', undefined, 'Nope')).toMatchObject({ status: 400, error: { extensions: { code: 'OPERATION_RESOLUTION_FAILURE' } } });
    const { body } = await raw({ query: 'query Named { controls { id } }', operationName: 'Named' });
    expect(body.errors).toBeUndefined();
  });

  it('a subscription is refused at validation (it failed in execution: INTERNAL_SERVER_ERROR)', async () => {
    const { status, error } = await refused('subscription { findings { totalCount } }');
    expect(status).toBe(400);
    expect(error).toMatchObject({ message: 'this API has no subscription operations', extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } });
  });

  it('forged cursors of the right arity but the wrong shape are BAD_USER_INPUT (they reached PostgreSQL)', async () => {
    const cases: [string, unknown][] = [
      ['scans', ['garbage', 'x']],
      ['scans', ['2020-01-01T00:00:00.000Z', 'not-a-uuid']],
      ['scans', ['2020-02-30T00:00:00.000Z', '00000000-0000-4000-8000-000000000000']],
      ['scans', ['0000-01-01T00:00:00.000Z', '00000000-0000-4000-8000-000000000000']],
      ['remediationActions', ['garbage', 'x']],
      ['exceptions', ['garbage', 'x']],
      ['findings(orderBy: { field: FIRST_SEEN_AT })', ['garbage', 'x']],
      ['findings', ['', 'a\u0000b']],
      ['iamUsers', ['x\uD800', 'y']],
    ];
    for (const [field, key] of cases) {
      const { error } = await refused(`{ ${field.replace(/^(\w+)(\((.*)\))?$/, (_m, name, _p, args) => `${name}(${args ? `${args}, ` : ''}after: "${b64(key)}")`)} { totalCount } }`);
      expect({ field, key, code: error.extensions.code, message: error.message }).toEqual({ field, key, code: 'BAD_USER_INPUT', message: 'after is not a cursor returned by this API' });
    }
  });

  it('cursors the API issued still page correctly, sorted or not', async () => {
    for (const [field, order] of [['findings', ''], ['findings', 'orderBy: { field: FIRST_SEEN_AT, direction: DESC }, '], ['iamUsers', ''], ['scans', '']] as const) {
      const seen: string[] = [];
      let after: string | null = null;
      for (let page = 0; page < 10; page++) {
        const res: any = await stack.gql(`query($after: String) { ${field}(${order}first: 1, after: $after) { nodes { id } pageInfo { hasNextPage endCursor } } }`, { after });
        expect(res.errors).toBeUndefined();
        seen.push(...res.data[field].nodes.map((n: any) => n.id));
        if (!res.data[field].pageInfo.hasNextPage) break;
        after = res.data[field].pageInfo.endCursor;
      }
      expect(new Set(seen).size).toBe(seen.length);
      expect(seen.length).toBe(field === 'findings' ? 4 : field === 'iamUsers' ? 3 : 1);
    }
  });

  it('global ids whose local part is not a row id are BAD_USER_INPUT, or "not found" data in bulk (they reached the uuid cast)', async () => {
    for (const query of [
      `{ node(id: "${b64('Finding:junk')}") { id } }`,
      `{ node(id: "${b64('Scan:junk')}") { id } }`,
      `{ node(id: "${b64('RemediationAction:junk')}") { id } }`,
      `{ node(id: "${b64('AccessException:junk')}") { id } }`,
      `{ scan(id: "${b64('Scan:junk')}") { id } }`,
      `{ remediationAction(id: "${b64('RemediationAction:junk')}") { id } }`,
    ]) {
      const { error } = await refused(query);
      expect({ query, code: error.extensions.code }).toEqual({ query, code: 'BAD_USER_INPUT' });
      expect(error.message).toMatch(/^not a Keywarden id: /);
    }
    const bulk: any = await stack.gql(
      `mutation { remediateFindings(input: { findingIds: ["${b64('Finding:junk')}"], action: DEACTIVATE, reason: "r", idempotencyKey: "regression-bulk-junk-id" }) { results { userErrors { code } } userErrors { code } } }`,
    );
    expect(bulk.errors).toBeUndefined();
    expect(bulk.data.remediateFindings).toEqual({ results: [{ userErrors: [{ code: 'FINDING_NOT_FOUND' }] }], userErrors: [] });
    const revoke: any = await stack.gql(`mutation { revokeException(input: { id: "${b64('AccessException:junk')}" }) { userErrors { code } } }`);
    expect(revoke.data.revokeException.userErrors).toEqual([{ code: 'EXCEPTION_NOT_FOUND' }]);
    // Real ids still resolve.
    const real: any = await stack.gql('{ findings(first: 1) { nodes { id scan { id } } } }');
    const { id, scan } = real.data.findings.nodes[0];
    const node: any = await stack.gql(`{ a: node(id: "${id}") { id } b: scan(id: "${scan.id}") { id } }`);
    expect(node.data).toEqual({ a: { id }, b: { id: scan.id } });
  });

  it('NUL characters and unpaired surrogates in strings are 400 BAD_USER_INPUT, literal or variable (PostgreSQL / Prisma refused them)', async () => {
    const before = await stack.prisma.remediationAction.count();
    for (const [query, variables] of [
      ['{ complianceSummary(accountId: "a\\u0000b") { compliant } }', undefined],
      ['query($u: String) { findings(filter: { userName: $u }) { totalCount } }', { u: 'a\u0000' }],
      ['query($a: String!) { iamUser(accountId: $a, userName: "alice") { userName } }', { a: `${ACCOUNT}\u0000` }],
      ['query($a: String) { scans(accountId: $a) { totalCount } }', { a: 'x\uDA10' }],
      ['query($a: String!) { complianceSummary(accountId: $a) { compliant } }', { a: '\uDC00x' }],
      ['mutation($i: AccessKeyActionInput!) { deactivateAccessKey(input: $i) { userErrors { code } } }', { i: { accountId: '999999999999', userName: 'x', accessKeyId: 'AKIAAAAAAAAAAAAAAAAA', reason: 'a\u0000b' } }],
    ] as const) {
      const { status, error } = await refused(query, variables);
      expect({ query, status, code: error.extensions.code }).toEqual({ query, status: 400, code: 'BAD_USER_INPUT' });
      expect(error.message).toBe('strings must be valid Unicode text without NUL (U+0000) characters');
    }
    expect(await stack.prisma.remediationAction.count()).toBe(before); // refused before the resolver, like any other invalid argument
    // A well-formed surrogate pair (an emoji) is fine.
    const emoji: any = await stack.gql('query($u: String) { findings(filter: { userName: $u }) { totalCount } }', { u: '😀' });
    expect(emoji.errors).toBeUndefined();
  });

  it('DateTime outside 0001-01-01..9999-12-31 is refused as invalid input (year 0000 reached PostgreSQL, which refuses it)', async () => {
    for (const [query, variables, code] of [
      ['{ findings(filter: { firstSeenAfter: "0000-01-01T00:00:00Z" }) { totalCount } }', undefined, 'GRAPHQL_VALIDATION_FAILED'],
      ['{ findings(asOf: "0001-01-01T00:00:00+01:00") { totalCount } }', undefined, 'GRAPHQL_VALIDATION_FAILED'],
      ['query($d: DateTime) { iamUsers(asOf: $d) { totalCount } }', { d: '0000-06-01T00:00:00Z' }, 'BAD_USER_INPUT'],
      [`query($d: DateTime!) { complianceTrend(accountId: "${ACCOUNT}", from: $d, to: "0001-02-01T00:00:00Z", interval: DAY) { at } }`, { d: '0000-12-01T00:00:00Z' }, 'BAD_USER_INPUT'],
    ] as const) {
      const { status, error } = await refused(query, variables);
      expect({ query, status, code: error.extensions.code }).toEqual({ query, status: 400, code });
      expect(error.message).toMatch(/DateTime must be between 0001-01-01T00:00:00Z and 9999-12-31T23:59:59.999Z/);
    }
    // The bounds themselves are accepted and reach the resolvers.
    const trend: any = await stack.gql(`{ complianceTrend(accountId: "${ACCOUNT}", from: "0001-01-01T00:00:00Z", to: "0001-01-03T00:00:00Z", interval: DAY) { at scans } }`);
    expect(trend.errors).toBeUndefined();
    expect(trend.data.complianceTrend).toEqual([{ at: '0001-01-01T00:00:00.000Z', scans: 0 }, { at: '0001-01-02T00:00:00.000Z', scans: 0 }]);
    const late: any = await stack.gql('{ findings(filter: { firstSeenAfter: "9999-12-31T23:59:59.999Z" }) { totalCount } }');
    expect(late.data.findings.totalCount).toBe(0);
  });

  it('complianceSummary(accountId: "") is BAD_USER_INPUT (no instant was found and undefined was read)', async () => {
    const { error } = await refused('{ complianceSummary(accountId: "") { compliant } }');
    expect(error).toMatchObject({ message: 'accountId must not be empty', extensions: { code: 'BAD_USER_INPUT', field: 'accountId' } });
  });

  it('remediateFindings with an idempotency key already used for another request answers IDEMPOTENCY_KEY_REUSED (the resolver threw)', async () => {
    const bulk = (ids: string[]) =>
      stack.gql(`mutation($ids: [ID!]!) { remediateFindings(input: { findingIds: $ids, action: DEACTIVATE, reason: "r", dryRun: true, idempotencyKey: "regression-reused" }) { results { findingId } userErrors { code field } } }`, { ids });
    const first: any = await bulk(['00000000-0000-4000-8000-000000000001']);
    expect(first.errors).toBeUndefined();
    const other: any = await bulk(['00000000-0000-4000-8000-000000000002']);
    expect(other.errors).toBeUndefined();
    expect(other.data.remediateFindings).toEqual({ results: [], userErrors: [{ code: 'IDEMPOTENCY_KEY_REUSED', field: ['input', 'idempotencyKey'] }] });
  });

  it('an 8 kB account id or key id is INVALID_INPUT, audited with the value cut short (its insert failed on the btree index: INTERNAL_SERVER_ERROR, no audit row)', async () => {
    const junk = randomBytes(6000).toString('base64'); // does not compress below PostgreSQL's btree limit
    for (const field of ['accountId', 'accessKeyId', 'userName']) {
      const input = { accountId: ACCOUNT, userName: 'alice', accessKeyId: 'AKIAAAAAAAAAAAAAAAAA', reason: 'r', [field]: junk };
      const res: any = await stack.gql('mutation($i: AccessKeyActionInput!) { deactivateAccessKey(input: $i) { action { id status accountId accessKeyId } userErrors { code field } } }', { i: input });
      expect({ field, errors: res.errors }).toEqual({ field, errors: undefined });
      expect(res.data.deactivateAccessKey.userErrors[0]).toEqual({ code: 'INVALID_INPUT', field: ['input', field] });
      expect(res.data.deactivateAccessKey.action.status).toBe('REFUSED');
      const row = await stack.prisma.remediationAction.findFirstOrThrow({ where: { [field]: { startsWith: junk.slice(0, 200) } } });
      expect((row as Record<string, unknown>)[field]).toBe(`${junk.slice(0, 200)}… (8000 characters)`);
    }
  });

  it('an exception\'s justification is at most 1,000 characters, like a remediation\'s reason', async () => {
    const res: any = await stack.gql('mutation($i: CreateExceptionInput!) { createException(input: $i) { exception { id } userErrors { code field } } }', {
      i: { accountId: ACCOUNT, userName: 'alice', justification: 'j'.repeat(1001), expiresAt: new Date(Date.now() + 86_400_000).toISOString() },
    });
    expect(res.data.createException).toEqual({ exception: null, userErrors: [{ code: 'INVALID_INPUT', field: ['input', 'justification'] }] });
  });

  it('none of the above was logged as an unexpected error', () => {
    expect(log.lines().filter((l) => (l.level as number) >= 50)).toEqual([]);
  });
});
