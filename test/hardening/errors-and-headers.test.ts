import { createPrismaClient } from '../../src/adapters/db/prisma';
import { generateToken } from '../../src/auth/token-format';
import { TokensService } from '../../src/auth/tokens.service';
import { startServer, type RunningServer } from '../../src/graphql/server';
import type { FixtureInput } from '../../src/sandbox/fixture';
import { memoryLogger, type MemoryLogger } from '../support/memory-logger';
import { startStack, TEST_ADMIN_TOKEN, type Stack } from '../support/stack';

/**
 * Unexpected errors are masked as INTERNAL_SERVER_ERROR with a request id that is also in the logs (and in
 * the x-request-id header); no body carries a stack trace, a file path or driver detail. Every response,
 * whatever its status, carries helmet's security headers and an x-request-id.
 */
const FIXTURE: FixtureInput = {
  accountId: '454545454545',
  accountCreatedAt: 'now-900d',
  users: [{ userName: 'alice', createdAt: 'now-100d', loginProfile: { createdAt: 'now-100d' }, accessKeys: [{ status: 'Active', createdAt: 'now-100d+1m' }] }],
};
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const LEAKS = /\n\s+at |stacktrace|node_modules|\/work\/|\/src\/|\.ts:\d+|\.js:\d+|ECONNREFUSED|127\.0\.0\.1:1\b|prisma|invocation|SELECT |jsonb_to_recordset|pg_/i;

function expectSecurityHeaders(res: Response, what: string) {
  const h = res.headers;
  const got = {
    what,
    csp: h.get('content-security-policy'),
    nosniff: h.get('x-content-type-options'),
    frame: h.get('x-frame-options'),
    hsts: h.get('strict-transport-security'),
    referrer: h.get('referrer-policy'),
    coop: h.get('cross-origin-opener-policy'),
    corp: h.get('cross-origin-resource-policy'),
    crossDomain: h.get('x-permitted-cross-domain-policies'),
    poweredBy: h.get('x-powered-by'),
    requestId: UUID.test(h.get('x-request-id') ?? ''),
  };
  expect(got).toEqual({
    what,
    // helmet's policy; express's own 404 page replaces it with the stricter `default-src 'none'`.
    csp: expect.stringMatching(/default-src '(self|none)'/),
    nosniff: 'nosniff',
    frame: 'SAMEORIGIN',
    hsts: expect.stringMatching(/max-age=\d+/),
    referrer: 'no-referrer',
    coop: 'same-origin',
    corp: 'same-origin',
    crossDomain: 'none',
    poweredBy: null,
    requestId: true,
  });
}

describe('masked errors, request ids and security headers', () => {
  let stack: Stack;
  let down: RunningServer;
  let downPrisma: ReturnType<typeof createPrismaClient>;
  let downLog: MemoryLogger;

  beforeAll(async () => {
    stack = await startStack(FIXTURE);
    expect((await stack.scan()).status).toBe('COMPLETED');
    // A server whose database is unreachable: every resolver that reads data fails for real.
    downPrisma = createPrismaClient('postgresql://postgres@127.0.0.1:1/nowhere');
    downLog = memoryLogger('info');
    down = await startServer({ prisma: downPrisma, logger: downLog.logger, port: 0, auth: { bootstrapToken: TEST_ADMIN_TOKEN }, remediation: { aws: stack.aws } });
  });
  afterAll(async () => {
    await down?.close().catch(() => undefined); // close() marks running scans FAILED, which needs the database
    await downPrisma?.$disconnect();
    await stack?.close();
  });

  const post = (url: string, query: string, token: string | null = TEST_ADMIN_TOKEN, variables?: unknown) =>
    fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) }, body: JSON.stringify({ query, variables }) });

  it('an unexpected error (database unreachable) is INTERNAL_SERVER_ERROR with a requestId that is in the logs and the header', async () => {
    const res = await post(down.url, '{ findings { totalCount nodes { id } } }');
    const text = await res.text();
    const body = JSON.parse(text);
    expect(body.data).toBeNull();
    expect(body.errors).toHaveLength(1);
    const [error] = body.errors;
    expect(error.extensions.code).toBe('INTERNAL_SERVER_ERROR');
    expect(error.extensions.requestId).toMatch(UUID);
    expect(error.message).toBe(`Internal server error (request ${error.extensions.requestId})`);
    expect(Object.keys(error.extensions).sort()).toEqual(['code', 'requestId']);
    expect(res.headers.get('x-request-id')).toBe(error.extensions.requestId);
    expect(text).not.toMatch(LEAKS);
    expectSecurityHeaders(res, 'masked 500');

    const lines = downLog.lines().filter((l) => l.requestId === error.extensions.requestId);
    const logged = lines.find((l) => l.msg === 'unexpected error in a GraphQL request');
    expect(logged).toBeDefined();
    expect(logged!.level).toBe(50);
    expect(JSON.stringify(logged!.err)).toMatch(/ECONNREFUSED|connect|reach/i); // the detail is in the log, not the body
    expect(lines.find((l) => l.msg === 'graphql request')).toMatchObject({ outcome: 'error', errorCodes: ['INTERNAL_SERVER_ERROR'], tokenId: 'bootstrap' });
  });

  it('each failing request gets its own request id; mutations and nested fields are masked the same way', async () => {
    const ids = new Set<string>();
    for (const query of [
      '{ scans { nodes { id } } }',
      '{ iamUsers { totalCount } }',
      '{ complianceSummary(accountId: "454545454545") { compliant } }',
      'mutation { revokeException(input: { id: "00000000-0000-4000-8000-000000000000" }) { userErrors { code } } }',
    ]) {
      const res = await post(down.url, query);
      const text = await res.text();
      const body = JSON.parse(text);
      expect(body.errors[0].extensions.code).toBe('INTERNAL_SERVER_ERROR');
      expect(text).not.toMatch(LEAKS);
      ids.add(body.errors[0].extensions.requestId);
      expect(downLog.text()).toContain(body.errors[0].extensions.requestId);
    }
    expect(ids.size).toBe(4);
  });

  it('with the database down, an API token that cannot be checked gets 503 and Retry-After, not 401', async () => {
    const res = await post(down.url, '{ findings { totalCount } }', generateToken());
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('5');
    const body: any = await res.json();
    expect(body.errors[0].extensions).toEqual({ code: 'SERVICE_UNAVAILABLE', requestId: res.headers.get('x-request-id') });
    expect(body.errors[0].message).toMatch(/retry/);
    expect(JSON.stringify(body)).not.toMatch(LEAKS);
    const logged = downLog.lines().find((l) => l.requestId === res.headers.get('x-request-id') && l.msg === 'token could not be checked');
    expect(JSON.stringify(logged?.err)).toMatch(/ECONNREFUSED|connect|reach/i);
    expectSecurityHeaders(res, 'token store down 503');
    // A token that is not one at all is still refused without asking the database.
    expect((await post(down.url, '{ findings { totalCount } }', 'kw_not-a-token')).status).toBe(401);
    expect((await post(down.url, '{ findings { totalCount } }', null)).status).toBe(401);
  });

  it('with the database down, /readyz is 503 and /healthz 200, both with security headers', async () => {
    const base = down.url.replace(/\/graphql$/, '');
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toEqual({ status: 'unavailable', reason: 'database unreachable' });
    expectSecurityHeaders(ready, '/readyz 503');
    const health = await fetch(`${base}/healthz`);
    expect(health.status).toBe(200);
    expectSecurityHeaders(health, '/healthz (database down)');
  });

  it('no stack trace in any error body of a healthy server either', async () => {
    const { token } = await new TokensService(stack.prisma).create({ name: 'reader', scopes: ['findings:read'], createdBy: 'test' });
    const bodies: string[] = [];
    const cases: [string, string | null][] = [
      ['{ findings(first: 1000) { totalCount } }', TEST_ADMIN_TOKEN],
      ['{ findings(after: "garbage") { totalCount } }', TEST_ADMIN_TOKEN],
      ['{ node(id: "bm9wZTox") { id } }', TEST_ADMIN_TOKEN],
      ['{ nope }', TEST_ADMIN_TOKEN],
      ['{ findings {', TEST_ADMIN_TOKEN],
      ['mutation { startScan { scans { id } } }', token],
      ['{ findings { totalCount } }', null],
    ];
    for (const [query, t] of cases) {
      const res = await post(stack.server.url, query, t);
      expect(res.status).toBeLessThan(500);
      bodies.push(await res.text());
    }
    for (const body of bodies) expect(body).not.toMatch(LEAKS);
  });

  it('security headers and x-request-id on every response: 200, 400, 401, 413, 404, CSRF refusal, /healthz, /readyz', async () => {
    const base = stack.server.url.replace(/\/graphql$/, '');
    const responses: [string, Promise<Response>][] = [
      ['graphql 200', post(stack.server.url, '{ controls { id } }')],
      ['graphql 400', post(stack.server.url, '{ nope }')],
      ['graphql 401', post(stack.server.url, '{ controls { id } }', null)],
      ['graphql 413', fetch(stack.server.url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${TEST_ADMIN_TOKEN}` }, body: JSON.stringify({ query: 'x'.repeat(200_000) }) })],
      ['graphql malformed JSON', fetch(stack.server.url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${TEST_ADMIN_TOKEN}` }, body: '{"query":' })],
      ['graphql CSRF refusal', fetch(stack.server.url, { method: 'POST', headers: { 'content-type': 'text/plain', authorization: `Bearer ${TEST_ADMIN_TOKEN}` }, body: '{}' })],
      ['graphql GET 401', fetch(`${stack.server.url}?query=%7Bcontrols%7Bid%7D%7D`)],
      ['unknown path 404', fetch(`${base}/nope`)],
      ['/healthz', fetch(`${base}/healthz`)],
      ['/readyz', fetch(`${base}/readyz`)],
    ];
    const ids = new Set<string>();
    for (const [what, pending] of responses) {
      const res = await pending;
      expectSecurityHeaders(res, what);
      ids.add(res.headers.get('x-request-id')!);
      const text = await res.text();
      expect(text).not.toMatch(/\n\s+at /);
    }
    expect(ids.size).toBe(responses.length);
  });

  it('results are compact JSON with dates as ISO strings, and carry no ETag', async () => {
    const res = await post(stack.server.url, '{ findings(first: 2) { nodes { userName firstSeenAt evidence { evaluatedAt } } pageInfo { endCursor } } }', TEST_ADMIN_TOKEN);
    expect(res.status).toBe(200);
    expect(res.headers.get('etag')).toBeNull();
    const text = await res.text();
    expect(text).not.toMatch(/\n/);
    const body = JSON.parse(text);
    expect(JSON.stringify(body)).toBe(text);
    expect(body.data.findings.nodes).toHaveLength(2);
    expect(body.data.findings.nodes[0].firstSeenAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(body.data.findings.nodes[0].evidence.evaluatedAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });
});
