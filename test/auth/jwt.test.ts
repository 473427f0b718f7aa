import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { TokensService } from '../../src/auth/tokens.service';
import { DEFAULT_CONTROL_SETTINGS } from '../../src/controls/no-access-keys-at-setup/control';
import { startServer, type RunningServer } from '../../src/graphql/server';
import type { FixtureInput } from '../../src/sandbox/fixture';
import { memoryLogger, type MemoryLogger } from '../support/memory-logger';
import { startStack, type Stack } from '../support/stack';

/**
 * OIDC/JWT bearer tokens against a real JWKS endpoint (plain node http on 127.0.0.1): the signature is
 * checked against the published key, with issuer, audience and expiry; scopes come from the token; the
 * audit trail names the subject as `jwt:<sub>`.
 */
type Jose = typeof import('jose', { with: { 'resolution-mode': 'import' } });
type PrivateKey = Awaited<ReturnType<Jose['generateKeyPair']>>['privateKey'];

const ACCOUNT = '787878787878';
const KEY = 'AKIAJWTTESTSETUPKEY1';
const FIXTURE: FixtureInput = {
  accountId: ACCOUNT,
  accountCreatedAt: 'now-900d',
  users: [{ userName: 'alice', createdAt: 'now-100d', loginProfile: { createdAt: 'now-100d' }, accessKeys: [{ accessKeyId: KEY, status: 'Active', createdAt: 'now-100d+1m' }] }],
};
const ISSUER = 'https://idp.example.test/';
const AUDIENCE = 'keywarden-api';
const KID = 'test-key-1';
const SUB = 'grc-platform-client';

describe('JWT bearer tokens verified against a JWKS', () => {
  let jose: Jose;
  let stack: Stack;
  let server: RunningServer;
  let jwks: http.Server;
  let jwksFetches = 0;
  let log: MemoryLogger;
  let signingKey: PrivateKey;
  let otherKey: PrivateKey;

  beforeAll(async () => {
    jose = await import('jose');
    const pair = await jose.generateKeyPair('RS256');
    signingKey = pair.privateKey;
    otherKey = (await jose.generateKeyPair('RS256')).privateKey;
    const publicJwk = { ...(await jose.exportJWK(pair.publicKey)), kid: KID, alg: 'RS256', use: 'sig' };
    jwks = http.createServer((req, res) => {
      jwksFetches++;
      if (req.url !== '/.well-known/jwks.json') {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [publicJwk] }));
    });
    await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
    const jwksUrl = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/.well-known/jwks.json`;

    stack = await startStack(FIXTURE);
    expect((await stack.scan()).status).toBe('COMPLETED');
    log = memoryLogger('info');
    server = await startServer({
      prisma: stack.prisma,
      logger: log.logger,
      port: 0,
      auth: { jwt: { jwksUrl, issuer: ISSUER, audience: AUDIENCE } },
      remediation: { aws: stack.aws, scanRequest: { collect: { mode: 'CREDENTIAL_REPORT' }, control: DEFAULT_CONTROL_SETTINGS }, recentUseDays: 7 },
    });
  });
  afterAll(async () => {
    await server?.close();
    await new Promise((resolve) => jwks?.close(resolve));
    await stack?.close();
  });

  interface Claims {
    scope?: string;
    scp?: string[];
    sub?: string | null;
    iss?: string;
    aud?: string;
    exp?: number;
    nbf?: number;
  }
  const now = () => Math.floor(Date.now() / 1000);
  async function jwt(claims: Claims = {}, key: PrivateKey = signingKey, kid = KID): Promise<string> {
    const { sub = SUB, iss = ISSUER, aud = AUDIENCE, exp = now() + 300, nbf, scope = 'findings:read', scp } = claims;
    let builder = new jose.SignJWT({ ...(scope !== undefined && !scp ? { scope } : {}), ...(scp ? { scp } : {}) })
      .setProtectedHeader({ alg: 'RS256', kid, typ: 'JWT' })
      .setIssuer(iss)
      .setAudience(aud)
      .setIssuedAt()
      .setExpirationTime(exp);
    if (sub !== null) builder = builder.setSubject(sub);
    if (nbf !== undefined) builder = builder.setNotBefore(nbf);
    return builder.sign(key);
  }

  const gql = async (query: string, variables: Record<string, unknown> | undefined, token: string) => {
    const res = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query, variables }),
    });
    return { status: res.status, headers: res.headers, ...((await res.json()) as any) };
  };
  const FINDINGS = `{ findings(filter: { accountId: "${ACCOUNT}" }) { totalCount nodes { accessKeyId status } } }`;
  const expect401 = (res: any) => {
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer');
    expect(res.errors[0].extensions.code).toBe('UNAUTHENTICATED');
    expect(res.data).toBeUndefined();
  };

  it('a correctly signed token with scope findings:read and a sub reads findings', async () => {
    const res = await gql(FINDINGS, undefined, await jwt());
    expect(res.status).toBe(200);
    expect(res.errors).toBeUndefined();
    expect(res.data.findings.totalCount).toBe(2);
    expect(res.data.findings.nodes).toContainEqual({ accessKeyId: KEY, status: 'FAIL' });
    expect(jwksFetches).toBeGreaterThanOrEqual(1);
  });

  it('scopes as an `scp` array (Entra ID style) work too', async () => {
    const res = await gql(FINDINGS, undefined, await jwt({ scope: undefined, scp: ['findings:read'] }));
    expect(res.errors).toBeUndefined();
    expect(res.data.findings.totalCount).toBe(2);
  });

  it('wrong issuer → 401', async () => expect401(await gql(FINDINGS, undefined, await jwt({ iss: 'https://evil.example.test/' }))));
  it('wrong audience → 401', async () => expect401(await gql(FINDINGS, undefined, await jwt({ aud: 'someone-else' }))));
  it('wrong signature (another key, same kid) → 401', async () => expect401(await gql(FINDINGS, undefined, await jwt({}, otherKey))));
  it('another key under a kid the JWKS does not publish → 401', async () => expect401(await gql(FINDINGS, undefined, await jwt({}, otherKey, 'unknown-kid'))));
  it('expired (exp in the past) → 401', async () => expect401(await gql(FINDINGS, undefined, await jwt({ exp: now() - 60 }))));
  it('not yet valid (nbf in the future) → 401', async () => expect401(await gql(FINDINGS, undefined, await jwt({ nbf: now() + 600 }))));
  it('no sub → 401', async () => expect401(await gql(FINDINGS, undefined, await jwt({ sub: null }))));

  /** Signs exactly the claims given, nothing added (jwt() always sets exp and iat). */
  const signed = (claims: Record<string, unknown>) =>
    new jose.SignJWT({ scope: 'findings:read', sub: SUB, iss: ISSUER, aud: AUDIENCE, ...claims }).setProtectedHeader({ alg: 'RS256', kid: KID, typ: 'JWT' }).sign(signingKey);
  const YEAR = 365 * 86_400;

  it('no exp, iat ten years ago (accepted forever before) → 401', async () => expect401(await gql(FINDINGS, undefined, await signed({ iat: now() - 10 * YEAR }))));
  it('no exp, issued now → 401: exp is required', async () => expect401(await gql(FINDINGS, undefined, await signed({ iat: now() }))));
  it('no iat (its age cannot be bounded) → 401', async () => expect401(await gql(FINDINGS, undefined, await signed({ exp: now() + 300 }))));
  it('exp ten years ahead but issued two days ago (older than the 24 h bound) → 401', async () =>
    expect401(await gql(FINDINGS, undefined, await signed({ iat: now() - 2 * 86_400, exp: now() + 10 * YEAR }))));
  it('issued in the future → 401', async () => expect401(await gql(FINDINGS, undefined, await signed({ iat: now() + 3600, exp: now() + 7200 }))));
  it('a sub longer than OIDC\'s 255 characters → 401', async () => expect401(await gql(FINDINGS, undefined, await jwt({ sub: 's'.repeat(256) }))));
  it('exp, iat an hour ago and a 255-character sub: accepted', async () => {
    const res = await gql(FINDINGS, undefined, await signed({ iat: now() - 3600, exp: now() + 300, sub: 's'.repeat(255) }));
    expect(res.status).toBe(200);
    expect(res.errors).toBeUndefined();
  });

  describe('a sub that cannot name the caller in the audit trail → 401 at authentication, nothing written', () => {
    // The actor `jwt:<sub>` is stored (idempotency_record.principal, remediation_action.actor,
    // access_exception.createdBy): PostgreSQL text refuses U+0000, Prisma cannot carry a lone surrogate, and
    // a control character in an audit name hides or forges what a reader sees. These were masked 500s.
    const DEACTIVATE = `mutation($i: AccessKeyActionInput!) { deactivateAccessKey(input: $i) { action { status actor } userErrors { code } } }`;
    const EXCEPTION = `mutation($i: CreateExceptionInput!) { createException(input: $i) { exception { id createdBy } userErrors { code } } }`;
    const deactivate = { accountId: ACCOUNT, userName: 'alice', accessKeyId: KEY, reason: 'jwt sub', dryRun: true, idempotencyKey: 'jwt-sub-dry-run' };
    const exception = { accountId: ACCOUNT, userName: 'alice', justification: 'jwt sub', expiresAt: new Date(Date.now() + 86_400_000).toISOString() };
    const rows = async () => [await stack.prisma.remediationAction.count(), await stack.prisma.accessException.count(), await stack.prisma.idempotencyRecord.count()];
    const token = (sub: unknown) => signed({ iat: now(), exp: now() + 300, sub, scope: 'remediation:write' });

    it.each([
      ['U+0000', 'grc\u0000client'],
      ['a lone high surrogate', 'grc\uD800client'],
      ['a lone low surrogate', 'grc\uDC00client'],
      ['a C0 control (newline)', 'grc\nclient'],
      ['DEL', 'grc\u007Fclient'],
      ['a C1 control (U+0085)', 'grc\u0085client'],
      ['a number, not a string', 12345],
    ])('%s', async (_what, sub) => {
      const before = await rows();
      expect401(await gql(DEACTIVATE, { i: deactivate }, await token(sub)));
      expect401(await gql(EXCEPTION, { i: exception }, await token(sub)));
      expect(await rows()).toEqual(before);
      expect(stack.sandbox.state.findAccessKey(KEY)?.key.status).toBe('Active');
    });

    it('a printable sub beyond ASCII (an accent, an emoji as a surrogate pair) is accepted and audited as given', async () => {
      const sub = 'grc-clïent-😀';
      const res = await gql(DEACTIVATE, { i: { ...deactivate, idempotencyKey: 'jwt-sub-printable' } }, await token(sub));
      expect(res.status).toBe(200);
      expect(res.errors).toBeUndefined();
      expect(res.data.deactivateAccessKey).toEqual({ action: { status: 'DRY_RUN', actor: `jwt:${sub}` }, userErrors: [] });
    });
  });

  it('a payload changed after signing (scope raised to admin) → 401', async () => {
    const [header, , signature] = (await jwt()).split('.');
    const payload = Buffer.from(JSON.stringify({ scope: 'admin', sub: SUB, iss: ISSUER, aud: AUDIENCE, exp: now() + 300 })).toString('base64url');
    expect401(await gql(FINDINGS, undefined, `${header}.${payload}.${signature}`));
  });

  it('an unsigned token (alg: none) and an HS256 token → 401', async () => {
    const claims = { scope: 'admin', sub: SUB, iss: ISSUER, aud: AUDIENCE, exp: now() + 300 };
    const none = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.x`;
    expect401(await gql(FINDINGS, undefined, none));
    const hs = await new jose.SignJWT(claims).setProtectedHeader({ alg: 'HS256', kid: KID }).sign(new TextEncoder().encode('a-shared-secret-of-32-bytes-long!!'));
    expect401(await gql(FINDINGS, undefined, hs));
  });

  it('a valid JWT without remediation:write is FORBIDDEN on a mutation, naming the scope; nothing is written', async () => {
    const before = await stack.prisma.remediationAction.count();
    const res = await gql(
      `mutation { deactivateAccessKey(input: { accountId: "${ACCOUNT}", userName: "alice", accessKeyId: "${KEY}", reason: "jwt" }) { action { id } } }`,
      undefined,
      await jwt({ scope: 'findings:read scans:write' }),
    );
    expect(res.status).toBe(200);
    expect(res.errors[0]).toMatchObject({ extensions: { code: 'FORBIDDEN', requiredScopes: ['remediation:write'] } });
    expect(res.errors[0].message).toContain('remediation:write');
    expect(await stack.prisma.remediationAction.count()).toBe(before);
    expect(stack.sandbox.state.findAccessKey(KEY)?.key.status).toBe('Active');
  });

  it('scopes the server does not know are ignored: a JWT claiming only "superuser root" reads nothing', async () => {
    const res = await gql(FINDINGS, undefined, await jwt({ scope: 'superuser root admin:all' }));
    expect(res.errors[0].extensions.code).toBe('FORBIDDEN');
    expect(res.errors[0].message).toMatch(/the token has none$/);
  });

  it('with remediation:write the JWT deactivates the key, and the audit actor is jwt:<sub>', async () => {
    const res = await gql(
      `mutation($i: AccessKeyActionInput!) { deactivateAccessKey(input: $i) { action { id status actor } userErrors { code message } } }`,
      { i: { accountId: ACCOUNT, userName: 'alice', accessKeyId: KEY, reason: 'jwt remediation' } },
      await jwt({ scope: 'remediation:write' }),
    );
    expect(res.errors).toBeUndefined();
    expect(res.data.deactivateAccessKey).toMatchObject({ userErrors: [], action: { status: 'SUCCEEDED', actor: `jwt:${SUB}` } });
    expect(stack.sandbox.state.findAccessKey(KEY)?.key.status).toBe('Inactive');
    const row = await stack.prisma.remediationAction.findFirstOrThrow({ where: { accessKeyId: KEY, status: 'SUCCEEDED' }, orderBy: { createdAt: 'desc' } });
    expect(row.actor).toBe(`jwt:${SUB}`);
  });

  it('a JWKS that cannot be reached means 401, not a 5xx and not a hang', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve)); // nothing listens there now
    const orphan = await startServer({
      prisma: stack.prisma, logger: memoryLogger('info').logger, port: 0,
      auth: { jwt: { jwksUrl: `http://127.0.0.1:${port}/jwks.json`, issuer: ISSUER, audience: AUDIENCE } },
      remediation: { aws: stack.aws },
    });
    try {
      const started = Date.now();
      const res = await fetch(orphan.url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${await jwt()}` }, body: JSON.stringify({ query: FINDINGS }) });
      expect(res.status).toBe(401);
      expect(Date.now() - started).toBeLessThan(10_000);
    } finally {
      await orphan.close();
    }
  });

  it('API tokens keep working on a server that also accepts JWTs; no JWT lands in the logs', async () => {
    const { token } = await new TokensService(stack.prisma).create({ name: 'beside-jwt', scopes: ['findings:read'], createdBy: 'test' });
    const res = await gql(FINDINGS, undefined, token);
    expect(res.errors).toBeUndefined();
    const sample = await jwt();
    await gql(FINDINGS, undefined, sample);
    const text = log.text();
    expect(text).toContain('"principal":"jwt"');
    expect(text).not.toContain(sample.split('.')[2]); // no signature
    expect(text).not.toContain(sample.split('.')[1]); // no payload
    expect(text).not.toContain(token);
    expect(text).not.toMatch(/bearer|authorization/i);
  });
});
