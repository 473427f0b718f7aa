import { TokensService } from '../../src/auth/tokens.service';
import { startServer, type RunningServer } from '../../src/graphql/server';
import type { FixtureInput } from '../../src/sandbox/fixture';
import { startJwks, type Jwks } from '../support/jwks';
import { memoryLogger, type MemoryLogger } from '../support/memory-logger';
import { startStack, TEST_ADMIN_TOKEN, type Stack } from '../support/stack';

/**
 * Rate limiting is per token (after authentication): the 6th request of one token in a minute with
 * `ratePerMinute: 5` is 429 with Retry-After and the draft-7 RateLimit headers, while other tokens
 * carry on. A 401 never spends a token's budget.
 */
const FIXTURE: FixtureInput = { accountId: '232323232323', accountCreatedAt: 'now-900d', users: [] };
const QUERY = JSON.stringify({ query: '{ controls { id } }' });

describe('rate limit per token', () => {
  let stack: Stack;
  let log: MemoryLogger;
  let a: { token: string; id: string };
  let b: { token: string; id: string };

  beforeAll(async () => {
    log = memoryLogger('info');
    stack = await startStack(FIXTURE, { logger: log.logger, limits: { ratePerMinute: 5 } });
    const tokens = new TokensService(stack.prisma);
    const ta = await tokens.create({ name: 'busy client', scopes: ['findings:read'], createdBy: 'test' });
    const tb = await tokens.create({ name: 'quiet client', scopes: ['findings:read'], createdBy: 'test' });
    a = { token: ta.token, id: ta.record.id };
    b = { token: tb.token, id: tb.record.id };
  });
  afterAll(() => stack.close());

  const post = (authorization?: string) =>
    fetch(stack.server.url, { method: 'POST', headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) }, body: QUERY });

  it('the 6th request of one token is 429 with Retry-After; another token is not limited', async () => {
    // 401s first: they are refused before the limiter and spend nothing.
    for (let i = 0; i < 3; i++) expect((await post(`Bearer ${a.token}x`)).status).toBe(401);

    const statuses: number[] = [];
    let last: Response | undefined;
    for (let i = 0; i < 5; i++) {
      last = await post(`Bearer ${a.token}`);
      statuses.push(last.status);
    }
    expect(statuses).toEqual([200, 200, 200, 200, 200]);
    expect(last!.headers.get('ratelimit-policy')).toMatch(/^5;\s*w=60$/);
    expect(last!.headers.get('ratelimit')).toMatch(/limit=5,\s*remaining=0,\s*reset=\d+/);

    const sixth = await post(`Bearer ${a.token}`);
    expect(sixth.status).toBe(429);
    const retryAfter = sixth.headers.get('retry-after');
    expect(retryAfter).toMatch(/^\d+$/);
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
    expect(Number(retryAfter)).toBeLessThanOrEqual(60);
    expect(sixth.headers.get('ratelimit')).toMatch(/limit=5,\s*remaining=0/);
    expect(sixth.headers.get('x-content-type-options')).toBe('nosniff');
    expect(sixth.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const body: any = await sixth.json();
    expect(body).toEqual({ errors: [{ message: 'rate limit: at most 5 requests a minute per token', extensions: { code: 'RATE_LIMITED' } }] });

    // Still limited, whatever is asked.
    expect((await post(`Bearer ${a.token}`)).status).toBe(429);

    // Another token, and the bootstrap token, have their own budgets.
    for (let i = 0; i < 5; i++) expect((await post(`Bearer ${b.token}`)).status).toBe(200);
    expect((await post(`Bearer ${TEST_ADMIN_TOKEN}`)).status).toBe(200);
    expect((await post(`Bearer ${b.token}`)).status).toBe(429);

    // And no token at all is still a 401, not a 429.
    expect((await post()).status).toBe(401);
  });

  it('the 429 is logged with the token id, never the token', async () => {
    const limited = log.lines().filter((l) => l.msg === 'rate limited');
    expect(limited.map((l) => l.tokenId)).toEqual(expect.arrayContaining([a.id, b.id]));
    expect(limited.every((l) => l.status === 429 && typeof l.requestId === 'string')).toBe(true);
    expect(log.text()).not.toContain(a.token);
    expect(log.text()).not.toContain(b.token);
  });
});

describe('one bucket per caller: a JWT sub cannot name another caller\'s bucket', () => {
  // The bucket was keyed by principal.id: the raw sub for a JWT, 'bootstrap' for the bootstrap token, the
  // row id for an API token. A JWT with sub "bootstrap" (or a token's id) spent that caller's budget.
  let stack: Stack;
  let jwks: Jwks;
  let server: RunningServer;
  let apiToken: { token: string; id: string };

  beforeAll(async () => {
    stack = await startStack(FIXTURE);
    jwks = await startJwks();
    server = await startServer({
      prisma: stack.prisma, logger: memoryLogger('info').logger, port: 0,
      auth: { bootstrapToken: TEST_ADMIN_TOKEN, jwt: jwks.settings },
      limits: { ratePerMinute: 3 },
      remediation: { aws: stack.aws },
    });
    const created = await new TokensService(stack.prisma).create({ name: 'victim', scopes: ['findings:read'], createdBy: 'test' });
    apiToken = { token: created.token, id: created.record.id };
  });
  afterAll(async () => {
    await server?.close();
    await jwks?.close();
    await stack?.close();
  });

  const post = (token: string) => fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: QUERY });
  const statuses = async (token: string, n: number) => {
    const out: number[] = [];
    for (let i = 0; i < n; i++) out.push((await post(token)).status);
    return out;
  };

  it('a JWT with sub "bootstrap" spends its own budget, not the bootstrap token\'s', async () => {
    const impostor = await jwks.sign({ sub: 'bootstrap', scope: 'findings:read' });
    expect(await statuses(impostor, 4)).toEqual([200, 200, 200, 429]);
    expect(await statuses(TEST_ADMIN_TOKEN, 3)).toEqual([200, 200, 200]);
    expect(await statuses(TEST_ADMIN_TOKEN, 1)).toEqual([429]);
  });

  it('a JWT whose sub is an API token\'s id spends its own budget, not that token\'s', async () => {
    const impostor = await jwks.sign({ sub: apiToken.id, scope: 'findings:read' });
    expect(await statuses(impostor, 4)).toEqual([200, 200, 200, 429]);
    expect(await statuses(apiToken.token, 4)).toEqual([200, 200, 200, 429]);
  });
});
