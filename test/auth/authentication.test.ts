import { crc32 } from 'node:zlib';
import { TokensService } from '../../src/auth/tokens.service';
import { generateToken, hasValidChecksum, TOKEN_PATTERN } from '../../src/auth/token-format';
import { keywardenSchema } from '../../src/graphql/schema';
import type { FixtureInput } from '../../src/sandbox/fixture';
import { rootOperations, type RootOperation } from '../support/operations';
import { startStack, TEST_ADMIN_TOKEN, type Stack } from '../support/stack';

/**
 * Authentication happens before GraphQL: without a valid token every operation is HTTP 401 with
 * `WWW-Authenticate: Bearer`. The operations are generated from the built schema, so a root field added
 * later is covered without editing this file. Only /healthz and /readyz answer without a token.
 */
const FIXTURE: FixtureInput = {
  accountId: '121212121212',
  accountCreatedAt: 'now-900d',
  users: [{ userName: 'alice', createdAt: 'now-100d', loginProfile: { createdAt: 'now-100d' }, accessKeys: [{ status: 'Active', createdAt: 'now-100d+1m' }] }],
};

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
/** The documented checksum (6 base62 characters of CRC32 of the 30 random ones), recomputed here. */
function withChecksum(body30: string): string {
  let n = crc32(Buffer.from(body30));
  let sum = '';
  for (let i = 0; i < 6; i++) {
    sum = BASE62[n % 62] + sum;
    n = Math.floor(n / 62);
  }
  return `kw_${body30}${sum}`;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('authentication: no valid token, no GraphQL', () => {
  let stack: Stack;
  let operations: RootOperation[];
  let tokens: TokensService;

  beforeAll(async () => {
    stack = await startStack(FIXTURE);
    expect((await stack.scan()).status).toBe('COMPLETED');
    operations = rootOperations(await keywardenSchema());
    tokens = new TokensService(stack.prisma);
  });
  afterAll(() => stack.close());

  const post = (body: unknown, authorization?: string) =>
    fetch(stack.server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(authorization !== undefined ? { authorization } : {}) },
      body: JSON.stringify(body),
    });

  const expect401 = async (res: Response) => {
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer');
    const body: any = await res.json();
    expect(body.data).toBeUndefined();
    expect(body.errors).toHaveLength(1);
    expect(body.errors[0].extensions.code).toBe('UNAUTHENTICATED');
    return body;
  };

  it('generates an operation for every root field of the schema (the list the next tests walk)', () => {
    const fields = operations.map((o) => `${o.kind}.${o.field}`);
    // A sanity floor, not the list itself: the list comes from the schema.
    expect(fields).toEqual(expect.arrayContaining(['query.findings', 'query.iamUsers', 'query.scans', 'query.complianceTrend', 'mutation.deactivateAccessKey', 'mutation.startScan']));
    expect(operations.filter((o) => o.kind === 'query').length).toBeGreaterThanOrEqual(13);
    expect(operations.filter((o) => o.kind === 'mutation').length).toBeGreaterThanOrEqual(7);
  });

  it('every generated operation is valid and runs with the admin token (so a 401 below is about the token alone)', async () => {
    for (const op of operations) {
      if (op.kind !== 'query') continue; // mutations would act; their validity is shown by the FORBIDDEN walk in scopes.test.ts
      const res = await stack.gql(op.document);
      const codes = (res.errors ?? []).map((e) => e.extensions?.code);
      expect({ op: op.field, codes: codes.filter((c) => c === 'GRAPHQL_VALIDATION_FAILED' || c === 'UNAUTHENTICATED' || c === 'FORBIDDEN' || c === 'INTERNAL_SERVER_ERROR') }).toEqual({ op: op.field, codes: [] });
    }
  });

  it('no token: 401 UNAUTHENTICATED with WWW-Authenticate: Bearer for EVERY query and mutation (POST)', async () => {
    expect(operations.length).toBeGreaterThan(0);
    const scansBefore = await stack.prisma.scan.count();
    for (const op of operations) {
      const body = await expect401(await post({ query: op.document }));
      expect(body.errors[0].message).toMatch(/Authorization: Bearer/);
    }
    expect(await stack.prisma.scan.count()).toBe(scansBefore); // startScan did not run
  });

  it('no token: 401 for every query sent as GET too', async () => {
    for (const op of operations.filter((o) => o.kind === 'query')) {
      const res = await fetch(`${stack.server.url}?query=${encodeURIComponent(op.document)}`, { headers: { 'apollo-require-preflight': 'true' } });
      await expect401(res);
    }
  });

  it('a token in the query string or another header is not a token: 401', async () => {
    const { token } = await tokens.create({ name: 'elsewhere', scopes: ['admin'], createdBy: 'test' });
    await expect401(await fetch(`${stack.server.url}?access_token=${token}&query=${encodeURIComponent('{ controls { id } }')}`, { headers: { 'apollo-require-preflight': 'true' } }));
    await expect401(await fetch(stack.server.url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': token }, body: JSON.stringify({ query: '{ controls { id } }' }) }));
    await expect401(await post({ query: '{ controls { id } }', extensions: { token } }));
    // The same token in the right place works.
    expect((await post({ query: '{ controls { id } }' }, `Bearer ${token}`)).status).toBe(200);
  });

  it('malformed Authorization headers: 401', async () => {
    const { token } = await tokens.create({ name: 'malformed-variants', scopes: ['findings:read'], createdBy: 'test' });
    const malformed = [
      '',
      'Bearer',
      'Bearer ',
      token, // no scheme
      `Basic ${Buffer.from(`user:${token}`).toString('base64')}`,
      `Token ${token}`,
      `Bearer ${token} ${token}`,
      `Bearer ${token}x`,
      `Bearer ${token.slice(0, -1)}`,
      `Bearer ${token.toUpperCase()}`,
      'Bearer kw_',
      'Bearer kw_short',
      `Bearer kw_${'!'.repeat(36)}`,
      `Bearer ${'a'.repeat(5000)}`,
      'Bearer null',
      'Bearer undefined',
      'Bearer a.b.c', // looks like a JWT; this server has no JWT settings
      `Bearer ${TEST_ADMIN_TOKEN.slice(0, -1)}`,
    ];
    for (const authorization of malformed) await expect401(await post({ query: '{ controls { id } }' }, authorization));
    // The scheme is case-insensitive (RFC 7235); the token itself is not.
    expect((await post({ query: '{ controls { id } }' }, `bearer ${token}`)).status).toBe(200);
  });

  it('bad checksum: a kw_ token whose last characters do not match its CRC32 is refused (no database lookup needed)', async () => {
    const { token } = await tokens.create({ name: 'checksum', scopes: ['findings:read'], createdBy: 'test' });
    expect(hasValidChecksum(token)).toBe(true);
    const flipped = token.slice(0, -1) + (token.endsWith('A') ? 'B' : 'A');
    expect(TOKEN_PATTERN.test(flipped)).toBe(true);
    expect(hasValidChecksum(flipped)).toBe(false);
    await expect401(await post({ query: '{ controls { id } }' }, `Bearer ${flipped}`));
    // A random body with a wrong checksum, and a typo in the body.
    const typo = token.slice(0, 10) + (token[10] === 'a' ? 'b' : 'a') + token.slice(11);
    await expect401(await post({ query: '{ controls { id } }' }, `Bearer ${typo}`));
  });

  it('well-formed tokens that were never issued are refused: random, and one sharing a real token\'s lookup prefix', async () => {
    const { token } = await tokens.create({ name: 'prefix-twin', scopes: ['admin'], createdBy: 'test' });
    const unknown = generateToken();
    expect(hasValidChecksum(unknown)).toBe(true);
    await expect401(await post({ query: '{ controls { id } }' }, `Bearer ${unknown}`));
    // Same `kw_` + 8 lookup prefix (finds the real row), valid checksum, different secret: the hash comparison refuses it.
    const body = token.slice(3, 11) + 'Z'.repeat(22);
    const twin = withChecksum(body);
    expect(twin.slice(0, 11)).toBe(token.slice(0, 11));
    expect(hasValidChecksum(twin)).toBe(true);
    await expect401(await post({ query: '{ controls { id } }' }, `Bearer ${twin}`));
    expect((await post({ query: '{ controls { id } }' }, `Bearer ${token}`)).status).toBe(200);
  });

  it('a revoked token is refused at once: by id, and by its visible prefix', async () => {
    const a = await tokens.create({ name: 'revoke-by-id', scopes: ['findings:read'], createdBy: 'test' });
    const b = await tokens.create({ name: 'revoke-by-prefix', scopes: ['findings:read'], createdBy: 'test' });
    for (const t of [a, b]) expect((await stack.gql('{ findings { totalCount } }', {}, t.token)).status).toBe(200);
    await tokens.revoke(a.record.id);
    await tokens.revoke(b.record.prefix);
    for (const t of [a, b]) await expect401(await post({ query: '{ findings { totalCount } }' }, `Bearer ${t.token}`));
    expect((await stack.prisma.apiToken.findUniqueOrThrow({ where: { id: a.record.id } })).revokedAt).not.toBeNull();
  });

  it('an expired token is refused: one that expires while in use, and one expired in the database', async () => {
    const expiresAt = new Date(Date.now() + 1500);
    const soon = await tokens.create({ name: 'expires-soon', scopes: ['findings:read'], expiresAt, createdBy: 'test' });
    const before = await stack.gql('{ findings { totalCount } }', {}, soon.token);
    expect(Date.now()).toBeLessThan(expiresAt.getTime()); // the first request really was before expiry
    expect(before.status).toBe(200);
    expect(before.errors).toBeUndefined();
    await sleep(expiresAt.getTime() - Date.now() + 50);
    await expect401(await post({ query: '{ findings { totalCount } }' }, `Bearer ${soon.token}`));

    const old = await tokens.create({ name: 'expired-in-db', scopes: ['admin'], createdBy: 'test' });
    expect((await post({ query: '{ controls { id } }' }, `Bearer ${old.token}`)).status).toBe(200);
    await stack.prisma.$executeRawUnsafe(`UPDATE api_token SET expires_at = now() - interval '1 second' WHERE id = $1::uuid`, old.record.id);
    await expect401(await post({ query: '{ controls { id } }' }, `Bearer ${old.token}`));
  });

  it('/healthz and /readyz answer 200 without a token', async () => {
    const base = stack.server.url.replace(/\/graphql$/, '');
    for (const path of ['/healthz', '/readyz']) {
      const res = await fetch(base + path);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ status: 'ok' });
    }
  });
});
