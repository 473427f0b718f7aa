import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { TokensService } from '../../src/auth/tokens.service';
import type { FixtureInput } from '../../src/sandbox/fixture';
import { dumpDatabase } from '../support/db-snapshot';
import { memoryLogger, type MemoryLogger } from '../support/memory-logger';
import { startStack, TEST_ADMIN_TOKEN, type Stack } from '../support/stack';
import { makeTempDir } from '../support/test-resources';

/**
 * A token's plaintext is shown once and kept nowhere: not in any column of any table (only its SHA-256
 * and the `kw_` + 8 lookup prefix are stored), not in the logs at level info, whatever happens to the
 * request it came with (success, GraphQL error, FORBIDDEN, 401, 413, malformed JSON, a remediation that
 * writes an audit row naming the token).
 */
const ACCOUNT = '565656565656';
const KEY = 'AKIASECRETSTESTKEY01';
const FIXTURE: FixtureInput = {
  accountId: ACCOUNT,
  accountCreatedAt: 'now-900d',
  users: [{ userName: 'alice', createdAt: 'now-100d', loginProfile: { createdAt: 'now-100d' }, accessKeys: [{ accessKeyId: KEY, status: 'Active', createdAt: 'now-100d+1m' }] }],
};

const ROOT = path.resolve(__dirname, '../..');
const CLI = path.join(ROOT, 'dist/src/cli.js');

/** The part of a kw_ token that is never stored: everything after the lookup prefix. */
const secretPart = (token: string) => token.slice('kw_'.length + 8);

describe('token plaintext is never stored or logged', () => {
  let stack: Stack;
  let log: MemoryLogger;
  let token: string;
  let tokenId: string;
  const otherAuthorizations = ['Bearer this-is-not-a-token-but-must-not-be-logged', 'Basic dXNlcjpzM2NyZXQtcGFzc3dvcmQ=', 'Bearer kw_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'];

  beforeAll(async () => {
    log = memoryLogger('info');
    stack = await startStack(FIXTURE, { logger: log.logger });
    expect((await stack.scan()).status).toBe('COMPLETED');
    const created = await new TokensService(stack.prisma).create({ name: 'secrets-probe', scopes: ['findings:read', 'remediation:write'], createdBy: 'test' });
    token = created.token;
    tokenId = created.record.id;
  });
  afterAll(() => stack.close());

  const send = (init: { body?: string | Uint8Array; contentType?: string; authorization?: string; method?: string; query?: string }) =>
    fetch(`${stack.server.url}${init.query ?? ''}`, {
      method: init.method ?? 'POST',
      headers: { ...(init.contentType ? { 'content-type': init.contentType } : {}), ...(init.authorization ? { authorization: init.authorization } : {}), 'apollo-require-preflight': '1' },
      body: init.body,
    });

  it('uses the token in requests that succeed and that fail, in every way', async () => {
    const auth = `Bearer ${token}`;
    const json = 'application/json';
    const statuses: number[] = [];
    const gql = async (query: string, variables?: unknown, authorization = auth) =>
      statuses.push((await send({ body: JSON.stringify({ query, variables }), contentType: json, authorization })).status);

    await gql('{ findings { totalCount nodes { id status } } }'); // success
    await gql(`{ iamUsers(filter: { accountId: "${ACCOUNT}" }) { nodes { userName } } }`);
    await gql('{ findings(first: 1000) { totalCount } }'); // BAD_USER_INPUT
    await gql('{ findingz { id } }'); // validation error
    await gql('{ findings { '); // syntax error
    await gql('mutation { startScan { scans { id } } }'); // FORBIDDEN
    await gql(`mutation($i: AccessKeyActionInput!) { deactivateAccessKey(input: $i) { action { actor status } userErrors { code } } }`, {
      i: { accountId: ACCOUNT, userName: 'alice', accessKeyId: KEY, reason: 'secrets test' },
    }); // succeeds and audits, naming the token
    await gql(`mutation($i: AccessKeyActionInput!) { deleteAccessKey(input: $i) { action { actor status } userErrors { code } } }`, {
      i: { accountId: ACCOUNT, userName: 'alice', accessKeyId: 'not-a-key', reason: 'secrets test' },
    }); // refused and audited
    statuses.push((await send({ body: '{"query": ', contentType: json, authorization: auth })).status); // malformed JSON
    statuses.push((await send({ body: JSON.stringify({ query: `{ controls { id } } # ${'x'.repeat(120_000)}` }), contentType: json, authorization: auth })).status); // 413
    statuses.push((await send({ method: 'GET', query: `?query=${encodeURIComponent('{ controls { id } }')}`, authorization: auth })).status); // GET
    statuses.push((await send({ body: JSON.stringify({ query: '{ controls { id } }' }), contentType: 'text/plain', authorization: auth })).status); // CSRF refusal
    // The token where it does not belong, and broken variants of it: 401s.
    statuses.push((await send({ body: JSON.stringify({ query: '{ controls { id } }', variables: { token } }), contentType: json, authorization: `Bearer ${token}x` })).status);
    statuses.push((await send({ body: JSON.stringify({ query: '{ controls { id } }' }), contentType: json, authorization: token })).status);
    statuses.push((await send({ body: JSON.stringify({ query: '{ controls { id } }' }), contentType: json, authorization: `Bearer ${token.slice(0, -1)}${token.endsWith('Q') ? 'R' : 'Q'}` })).status); // one character changed (a token ending in Q was left valid)
    statuses.push((await send({ method: 'GET', query: `?access_token=${token}` })).status);
    for (const authorization of otherAuthorizations) {
      statuses.push((await send({ body: JSON.stringify({ query: '{ controls { id } }' }), contentType: json, authorization })).status);
    }
    await gql('{ controls { id } }', undefined, `Bearer ${TEST_ADMIN_TOKEN}`); // the bootstrap token

    expect(statuses).toEqual([200, 200, 200, 400, 400, 200, 200, 200, 400, 413, 200, 400, 401, 401, 401, 401, 401, 401, 401, 200]);
    expect(stack.sandbox.state.findAccessKey(KEY)?.key.status).toBe('Inactive');
  });

  it('the database holds the hash and the lookup prefix, never the plaintext (every column of every table)', async () => {
    const dump = await dumpDatabase(stack.prisma);
    expect(dump).toContain('-- api_token');
    expect(dump).toContain('-- remediation_action');
    // The audit trail names the token by id and name: the request that used it was recorded.
    const actor = `token:secrets-probe (${tokenId})`;
    expect(dump).toContain(actor);
    expect(dump).toContain(createHash('sha256').update(token).digest('hex'));
    expect(dump).toContain(token.slice(0, 11)); // the documented lookup prefix
    expect(dump).not.toContain(token);
    expect(dump).not.toContain(secretPart(token));
    expect(dump).not.toContain(TEST_ADMIN_TOKEN);
    const row = await stack.prisma.apiToken.findUniqueOrThrow({ where: { id: tokenId } });
    expect(row.lastUsedAt).not.toBeNull();
    expect(Object.values(row).map(String).join('\n')).not.toContain(secretPart(token));
  });

  it('the logs (level info) never hold the token, the bootstrap token or any Authorization header value', async () => {
    const text = log.text();
    const lines = log.lines();
    // The stream did receive the server's request logs, about this very token.
    expect(lines.filter((l) => l.msg === 'graphql request' && l.tokenId === tokenId).length).toBeGreaterThanOrEqual(6);
    expect(lines.filter((l) => l.msg === 'unauthenticated request refused').length).toBeGreaterThanOrEqual(7);
    expect(text).not.toContain(token);
    expect(text).not.toContain(secretPart(token));
    expect(text).not.toContain(token.slice(0, 11)); // not even the prefix
    expect(text).not.toContain(TEST_ADMIN_TOKEN);
    for (const value of otherAuthorizations) {
      expect(text).not.toContain(value);
      expect(text).not.toContain(value.split(' ')[1]);
    }
    expect(text).not.toMatch(/authorization/i);
    expect(text).not.toMatch(/bearer/i);
  });

  it('the CLI prints a new token once; `token list` never prints it; `token revoke <prefix>` makes it 401', async () => {
    for (const file of ['cli.ts', 'auth/tokens.service.ts']) {
      const built = path.join(ROOT, 'dist/src', file.replace(/\.ts$/, '.js'));
      if (!fs.existsSync(built) || fs.statSync(built).mtimeMs < fs.statSync(path.join(ROOT, 'src', file)).mtimeMs) {
        throw new Error(`${path.relative(ROOT, built)} is missing or older than src/${file}: run \`npm run build\` first`);
      }
    }
    const home = makeTempDir('kw-secrets-');
    const cli = (...args: string[]) =>
      promisify(execFile)(process.execPath, [CLI, ...args], {
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, DATABASE_URL: process.env.DATABASE_URL!, KEYWARDEN_DATA_DIR: path.join(home, 'unused') },
        timeout: 20_000,
      });
    try {
      const created = await cli('token', 'create', '--name', 'cli-made', '--scope', 'findings:read');
      const printed = created.stdout.match(/^(kw_[0-9A-Za-z]{36})$/m)?.[1];
      expect(printed).toBeDefined();
      expect(created.stderr).not.toContain(printed!);
      expect((await stack.gql('{ findings { totalCount } }', {}, printed!)).status).toBe(200);

      const listed = await cli('token', 'list');
      expect(listed.stdout).toContain('cli-made');
      expect(listed.stdout).toContain(`${printed!.slice(0, 11)}…`);
      expect(listed.stdout + listed.stderr).not.toContain(printed!);
      expect(listed.stdout + listed.stderr).not.toContain(secretPart(printed!));
      expect(listed.stdout).not.toContain(token);

      const revoked = await cli('token', 'revoke', printed!.slice(0, 11));
      expect(revoked.stdout).toMatch(/revoked/);
      expect((await stack.gql('{ findings { totalCount } }', {}, printed!)).status).toBe(401);
      expect(await dumpDatabase(stack.prisma)).not.toContain(secretPart(printed!));
    } finally {
      fs.rmSync(home, { recursive: true, force: true });
    }
  }, 60_000);
});
