import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { Client } from 'pg';
import { createPrismaClient } from '../../src/adapters/db/prisma';
import { TokensService } from '../../src/auth/tokens.service';
import { makeTempDir, testDatabaseName } from '../support/test-resources';

/**
 * Issue #14, "The first hour": what a new user meets in the built CLI (dist/src/cli.js), as a child process
 * with a minimal environment (no AWS_*, an empty HOME). Its own database, which `migrate` must create.
 */

const ROOT = path.resolve(__dirname, '../..');
const CLI = path.join(ROOT, 'dist/src/cli.js');
if (!fs.existsSync(CLI)) throw new Error('dist/src/cli.js is missing: run `npm run build` first (this test runs the built CLI)');

const ADMIN_URL = process.env.TEST_DATABASE_ADMIN_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
const database = testDatabaseName(`first_hour_${process.pid}`);
let databaseUrl: string;
let home: string;

function env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, KEYWARDEN_DATA_DIR: path.join(home, 'data'), DATABASE_URL: databaseUrl, KEYWARDEN_SCAN_SCHEDULE: 'off', ...extra };
}

function cli(args: string[], extra: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: home, env: env(extra), encoding: 'utf8', timeout: 30_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const lines = (text: string) => text.split('\n').filter((l) => l.trim() !== '');

async function admin(sql: string): Promise<void> {
  const client = new Client({ connectionString: ADMIN_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

async function count(sql: string): Promise<number> {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    return Number((await client.query<{ count: string }>(sql)).rows[0]!.count);
  } finally {
    await client.end();
  }
}

beforeAll(async () => {
  home = makeTempDir('kw-first-hour-');
  const url = new URL(ADMIN_URL);
  url.pathname = `/${database}`;
  databaseUrl = url.toString();
  await admin(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
});

afterAll(async () => {
  await admin(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
});

it('migrate creates the database DATABASE_URL names when it does not exist (item 13)', () => {
  const r = cli(['migrate']);
  expect({ code: r.code, stdout: r.stdout }).toEqual({ code: 0, stdout: expect.stringContaining(`migrations applied to PostgreSQL at 127.0.0.1:5432/${database}`) });
  expect(r.stderr).toContain('created the database DATABASE_URL names');
});

it('the sample organization keeps its state: an unchanged account writes no history rows on the next run, until sandbox reset (item 7)', () => {
  const first = cli(['scan']);
  expect(first.code).toBe(0);
  expect(first.stdout).toMatch(/^ {2}findings: PASS 7, FAIL 5, NOT_APPLICABLE 5, ERROR 0, EXCEPTED 0$/m); // item 8: EXCEPTED shown
  expect(first.stdout).toMatch(/^ {2}changes: 5 opened, 0 resolved, \d+ history rows written$/m);
  expect(fs.existsSync(path.join(home, 'data', 'sandbox.json'))).toBe(true);

  const second = cli(['scan']);
  expect(second.stdout).toMatch(/^ {2}changes: 0 opened, 0 resolved, 0 history rows written$/m);

  const reset = cli(['sandbox', 'reset']);
  expect({ code: reset.code, stdout: reset.stdout }).toEqual({ code: 0, stdout: expect.stringMatching(/^sandbox state .*sandbox\.json removed/) });
  expect(fs.existsSync(path.join(home, 'data', 'sandbox.json'))).toBe(false);
  expect(cli(['sandbox', 'reset']).stdout).toMatch(/^nothing to reset/);
});

it('token revoke takes the whole token, its name, and says what it accepts (item 5)', async () => {
  const prisma = createPrismaClient(databaseUrl);
  try {
    const tokens = new TokensService(prisma);
    const { token } = await tokens.create({ name: 'leaked', scopes: ['findings:read'], createdBy: 'test' });
    // The same prefix without this token's hash is not it, and a whole token is never echoed.
    const forged = `${token.slice(0, 11)}${'A'.repeat(token.length - 11)}`;
    const refused = tokens.revoke(forged);
    await expect(refused).rejects.toThrow(
      `no token ${token.slice(0, 11)}…: give a token's id, its prefix (kw_ + 8 characters, as \`token list\` shows them), the whole token, or its name`,
    );
    const revoked = cli(['token', 'revoke', token]);
    expect({ code: revoked.code, stdout: revoked.stdout }).toEqual({ code: 0, stdout: expect.stringMatching(/^token [0-9a-f-]{36} "leaked" revoked$/m) });
    expect(revoked.stdout + revoked.stderr).not.toContain(token);
    expect(await tokens.authenticate(token)).toBeNull();

    const byName = await tokens.create({ name: 'by-name', scopes: ['findings:read'], createdBy: 'test' });
    expect((await tokens.revoke('by-name')).id).toBe(byName.record.id);
    await tokens.create({ name: 'twice', scopes: ['admin'], createdBy: 'test' });
    await tokens.create({ name: 'twice', scopes: ['admin'], createdBy: 'test' });
    await expect(tokens.revoke('twice')).rejects.toThrow('more than one token is named "twice"');
  } finally {
    await prisma.$disconnect();
  }
});

it('no AWS credentials with --sandbox=false: one line, a public code stored, how to configure them (item 9)', async () => {
  const r = cli(['scan', '--sandbox=false']);
  expect(r.code).toBe(1);
  expect(r.stdout).toBe('');
  const [line, ...more] = lines(r.stderr).filter((l) => !l.startsWith('{'));
  expect(more).toEqual([]);
  expect(line).toMatch(/^keywarden: scan [0-9a-f-]{36} failed: no AWS credentials found: set AWS_PROFILE .*AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY/);
  const scanId = /scan ([0-9a-f-]{36}) failed/.exec(line!)![1];
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ errors: { code: string }[] }>('SELECT errors FROM scan WHERE id = $1', [scanId]);
    expect(rows[0]!.errors.map((e) => e.code)).toEqual(['NO_AWS_CREDENTIALS']);
  } finally {
    await client.end();
  }
  // start reaches the credentials first through STS (the account's identity): the same line, and its code.
  const start = cli(['start', '--sandbox=false'], { PORT: '0' });
  expect(start.code).toBe(1);
  expect(lines(start.stderr).filter((l) => !l.startsWith('{'))).toEqual([expect.stringMatching(/^keywarden: no AWS credentials found: set AWS_PROFILE .*\(NO_AWS_CREDENTIALS\)$/)]);
});

it('bad numbers say what was given; reconcile --help shows its default once and no scan options (item 10)', () => {
  expect(lines(cli(['scan', '--setup-window', 'abc']).stderr)).toEqual(['keywarden: invalid --setup-window: "abc" is not a number: expected a whole number']);
  expect(lines(cli(['scan'], { KEYWARDEN_GRACE_PERIOD_SECONDS: '-1' }).stderr)).toEqual(['keywarden: invalid KEYWARDEN_GRACE_PERIOD_SECONDS: "-1" is below the minimum, 0']);
  const help = cli(['reconcile', '--help']).stdout;
  expect(help.match(/default/g)).toHaveLength(2); // --older-than's 60, and --sandbox's choice
  expect(help).toContain('(default 60');
  expect(help).not.toMatch(/--setup-window|--mode|--concurrency|--grace-period|--with-tags/);
});

it('start with the port taken stops first, names PORT, and creates nothing: no database, no token (item 6)', async () => {
  const blocker = net.createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  const port = (blocker.address() as net.AddressInfo).port;
  try {
    const tokensBefore = await count('SELECT count(*) FROM api_token');
    // No DATABASE_URL: were the port checked late, the embedded PostgreSQL would be made under data/pgdata.
    const r = cli(['start'], { PORT: String(port), DATABASE_URL: '' });
    expect(r.code).toBe(1);
    expect(lines(r.stderr)).toEqual([`keywarden: port ${port} on 127.0.0.1 is already in use (another Keywarden?): stop what listens there, or set another port: PORT=${port + 1} (or --port ${port + 1})`]);
    expect(r.stdout).toBe('');
    expect(await count('SELECT count(*) FROM api_token')).toBe(tokensBefore);
    expect(fs.existsSync(path.join(home, 'data', 'pgdata'))).toBe(false);
  } finally {
    blocker.close();
  }
});

it('serve logs JSON off a terminal with the real path, pretty lines when asked, and says it is shutting down (item 12)', async () => {
  const bootstrap = 'kw-first-hour-bootstrap-token-0123456789';
  for (const format of ['json', 'pretty'] as const) {
    const child = spawn(process.execPath, [CLI, 'serve'], {
      cwd: home, env: env({ PORT: '0', KEYWARDEN_BOOTSTRAP_TOKEN: bootstrap, ...(format === 'pretty' ? { KEYWARDEN_LOG_FORMAT: 'pretty' } : {}) }), stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
    for (const t = Date.now(); !/GraphQL API at (\S+)/.test(stdout); await new Promise((r) => setTimeout(r, 100))) {
      if (Date.now() - t > 20_000 || child.exitCode !== null) throw new Error(`serve did not start:\n${stdout}\n${stderr}`);
    }
    const url = /GraphQL API at (\S+)/.exec(stdout)![1]!;
    expect((await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query":"{ __typename }"}' })).status).toBe(401);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    const logLines = lines(stderr);
    if (format === 'json') {
      const entries = logLines.map((l) => JSON.parse(l) as { msg: string; path?: string; signal?: string });
      expect(entries).toContainEqual(expect.objectContaining({ msg: 'unauthenticated request refused', path: '/graphql' }));
      expect(entries).toContainEqual(expect.objectContaining({ msg: expect.stringMatching(/^shutting down/), signal: 'SIGTERM' }));
    } else {
      expect(logLines.some((l) => l.startsWith('{'))).toBe(false);
      expect(stderr).toMatch(/INFO.*unauthenticated request refused/);
      expect(stderr).toMatch(/path: "\/graphql"/);
      expect(stderr).toMatch(/INFO.*shutting down/);
    }
  }
});
