import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { PrismaClient } from '../../src/generated/prisma/client';
import type { FixtureInput } from '../../src/sandbox/fixture';
import { startIamSandbox, type IamSandbox } from '../../src/sandbox/iam-sandbox.server';
import { createScanService, scanRequest } from '../../src/app';
import { loadConfig } from '../../src/config';
import { resetDatabase, sandboxIamClient, testPrisma } from '../support/stack';
import { startFakeAws, type FakeAws } from '../support/fake-aws';
import { makeTempDir } from '../support/test-resources';

/**
 * The BUILT CLI (dist/src/cli.js) as a child process, with real parts only: the IAM sandbox over
 * HTTP, the real AWS SDK, the test PostgreSQL database, the embedded PostgreSQL 17, HTTP.
 *
 * Children get a minimal environment (PATH, an empty HOME, what the test sets): nothing from the
 * developer's shell (AWS_*, ~/.aws) leaks in, and NODE_ENV is unset as in production (jest sets
 * NODE_ENV=test, which among other things switches off Apollo Server's own signal handlers).
 */

const ROOT = path.resolve(__dirname, '../..');
const CLI = path.join(ROOT, 'dist/src/cli.js');

// Fail loudly rather than test a missing or stale build.
if (!fs.existsSync(CLI)) {
  throw new Error(`${path.relative(ROOT, CLI)} is missing: run \`npm run build\` first (this test runs the built CLI)`);
}
for (const file of ['cli.ts', 'app.ts', 'config.ts']) {
  const src = path.join(ROOT, 'src', file);
  const built = path.join(ROOT, 'dist/src', file.replace(/\.ts$/, '.js'));
  if (!fs.existsSync(built) || fs.statSync(built).mtimeMs < fs.statSync(src).mtimeMs) {
    throw new Error(`${path.relative(ROOT, built)} is older than src/${file}: run \`npm run build\` first (this test runs the built CLI)`);
  }
}

// ---------------------------------------------------------------- child process helpers

interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

const children = new Set<ChildProcessWithoutNullStreams>();
let tmpRoot: string;
/** An empty HOME: no ~/.aws/credentials or config for the SDK or awsCredentialsConfigured(). */
let emptyHome: string;

function baseEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: emptyHome,
    // Never the default ./.keywarden under the working directory.
    KEYWARDEN_DATA_DIR: path.join(tmpRoot, 'unused-data-dir'),
    // serve forks one API process per CPU by default; these tests are about the CLI (serve.e2e.test.ts covers the cluster).
    KEYWARDEN_PROCESSES: '1',
    ...extra,
  };
}

function spawnCli(args: string[], env: NodeJS.ProcessEnv): ChildProcessWithoutNullStreams {
  const child = spawn(process.execPath, [CLI, ...args], { cwd: tmpRoot, env, stdio: ['pipe', 'pipe', 'pipe'] });
  child.stdin.end();
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

function describeRun(args: string[], r: Pick<RunResult, 'stdout' | 'stderr'>): string {
  return `keywarden ${args.join(' ')}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;
}

/** Runs the CLI to completion; fails (after SIGKILL) if it has not exited within timeoutMs. */
function runCli(args: string[], env: NodeJS.ProcessEnv, timeoutMs = 15_000): Promise<RunResult> {
  const started = Date.now();
  const child = spawnCli(args, env);
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`did not exit within ${timeoutMs} ms: ${describeRun(args, { stdout, stderr })}`));
    }, timeoutMs);
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, ms: Date.now() - started });
    });
  });
}

interface Server {
  /** The GraphQL URL the CLI printed. */
  url: string;
  stdout(): string;
  stderr(): string;
  /** Sends the signal and waits for the exit (SIGKILL and failure after timeoutMs). */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }>;
}

/** Starts a long-running command and waits for its "GraphQL API at <url>" line. */
function startCli(args: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<Server> {
  const child = spawnCli(args, env);
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('close', (code, signal) => resolve({ code, signal })),
  );
  const server: Server = {
    url: '',
    stdout: () => stdout,
    stderr: () => stderr,
    stop: async (signal = 'SIGTERM', stopTimeoutMs = 5_000) => {
      const sent = Date.now();
      child.kill(signal);
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          child.kill('SIGKILL');
          reject(new Error(`did not exit within ${stopTimeoutMs} ms of ${signal}: ${describeRun(args, { stdout, stderr })}`));
        }, stopTimeoutMs);
      });
      try {
        const r = await Promise.race([exited, timeout]);
        return { ...r, ms: Date.now() - sent };
      } finally {
        clearTimeout(timer);
      }
    },
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`no "GraphQL API at" line within ${timeoutMs} ms: ${describeRun(args, { stdout, stderr })}`));
    }, timeoutMs);
    child.stdout.on('data', () => {
      const m = /GraphQL API at (http:\/\/\S+)/.exec(stdout);
      if (m && !server.url) {
        clearTimeout(timer);
        server.url = m[1]!;
        resolve(server);
      }
    });
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      if (!server.url) reject(new Error(`exited (code ${code}, signal ${signal}) before serving: ${describeRun(args, { stdout, stderr })}`));
    });
  });
}

async function gql<T = any>(url: string, query: string, token: string | null): Promise<{ status: number; data?: T; errors?: unknown[] }> {
  const headers: Record<string, string> = { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) };
  const res = await fetch(url, { method: 'POST', headers, body: JSON.stringify({ query }) });
  return { status: res.status, ...((await res.json()) as object) };
}

const lines = (text: string): string[] => text.split('\n').filter((l) => l.trim() !== '');
const STACK_FRAME = /^\s+at \S/m;

// ---------------------------------------------------------------- fixtures

/** One console user with a setup key (FAIL), one without keys (PASS), one API-only user (NOT_APPLICABLE); root is NOT_APPLICABLE. */
const FIXTURE: FixtureInput = {
  accountId: '111122223333',
  accountCreatedAt: 'now-900d',
  root: { passwordEnabled: true, mfaActive: true, accessKeys: 0 },
  users: [
    {
      userName: 'console-setup-key',
      createdAt: 'now-300d',
      passwordLastUsed: 'now-1d',
      loginProfile: { createdAt: 'now-300d' },
      accessKeys: [{ createdAt: 'now-300d+20s', lastUsed: { date: 'now-2d', serviceName: 's3' } }],
    },
    { userName: 'console-no-keys', createdAt: 'now-200d', passwordLastUsed: 'now-1d', loginProfile: { createdAt: 'now-200d' } },
    { userName: 'api-only', createdAt: 'now-100d', accessKeys: [{ createdAt: 'now-100d+10s', lastUsed: { date: 'now-1h', serviceName: 'sts' } }] },
  ],
};

const SECRET = 'kwTestSecret/9Zq+doNotPrintMe';

// ---------------------------------------------------------------- suite

let databaseUrl: string;
let prisma: PrismaClient;
let sandbox: IamSandbox;

beforeAll(async () => {
  databaseUrl = process.env.DATABASE_URL ?? '';
  if (!databaseUrl) throw new Error('DATABASE_URL is not set: run the tests through jest (global-setup creates the database)');
  tmpRoot = makeTempDir('keywarden-cli-e2e-');
  emptyHome = path.join(tmpRoot, 'home');
  fs.mkdirSync(emptyHome);
  prisma = testPrisma();
  sandbox = await startIamSandbox({ fixture: FIXTURE });
});

beforeEach(async () => {
  await resetDatabase(prisma);
  sandbox.setFaults([]);
  sandbox.resetCalls();
});

afterEach(() => {
  for (const child of children) child.kill('SIGKILL');
  children.clear();
});

afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  await sandbox?.close();
  await prisma?.$disconnect();
  if (tmpRoot) fs.rmSync(tmpRoot, { recursive: true, force: true });
});

describe('usage', () => {
  it('--help and each command --help exit 0 and name the commands', async () => {
    const [top, scan, serve, migrate] = await Promise.all([
      runCli(['--help'], baseEnv()),
      runCli(['scan', '--help'], baseEnv()),
      runCli(['serve', '--help'], baseEnv()),
      runCli(['migrate', '--help'], baseEnv()),
    ]);
    expect(top.code).toBe(0);
    expect(top.stdout).toMatch(/^Usage: keywarden \[options\] \[command\]/);
    for (const cmd of ['migrate', 'scan', 'serve', 'start', 'sandbox', 'schema']) expect(top.stdout).toMatch(new RegExp(`^  ${cmd} `, 'm'));
    expect(scan.code).toBe(0);
    expect(scan.stdout).toMatch(/^Usage: keywarden scan \[options\]/);
    for (const opt of ['--mode', '--concurrency', '--sandbox', '--sandbox-fixture', '--json']) expect(scan.stdout).toContain(opt);
    expect(serve.code).toBe(0);
    expect(serve.stdout).toMatch(/^Usage: keywarden serve \[options\]/);
    expect(serve.stdout).toContain('--port');
    expect(migrate.code).toBe(0);
    expect(migrate.stdout).toMatch(/^Usage: keywarden migrate/);
    for (const r of [top, scan, serve, migrate]) expect(r.stderr).toBe('');
  });

  it('no command: usage on stderr and a non-zero exit (a script with an empty command must not pass)', async () => {
    const r = await runCli([], baseEnv());
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^Usage: keywarden/);
  });

  it('an unknown command or a bad option value: non-zero exit, the reason on one line, no stack trace', async () => {
    const cases: [string[], RegExp][] = [
      [['frobnicate'], /^keywarden: unknown command 'frobnicate' \(see --help\)$/],
      [['scan', '--sandbox=maybe'], /^keywarden: option '--sandbox \[bool\]' argument 'maybe' is invalid\. expected true or false \(see --help\)$/],
      [['scan', '--no-such-option'], /^keywarden: unknown option '--no-such-option' \(see --help\)$/],
      [['serve', 'extra'], /^keywarden: too many arguments for 'serve'\. Expected 0 arguments but got 1\. \(see --help\)$/],
    ];
    const results = await Promise.all(cases.map(([args]) => runCli(args, baseEnv({ DATABASE_URL: databaseUrl }))));
    results.forEach((r, i) => {
      const [args, reason] = cases[i]!;
      expect({ args, code: r.code, stdout: r.stdout, stderr: lines(r.stderr) }).toEqual({ args, code: 1, stdout: '', stderr: [expect.stringMatching(reason)] });
      expect(r.stderr).not.toMatch(STACK_FRAME);
    });
  });

  it('scan --concurrency 0 fails config validation before touching the database or IAM', async () => {
    // Port 1: reaching the database would give a different error.
    const r = await runCli(['scan', '--concurrency', '0'], baseEnv({ DATABASE_URL: 'postgresql://postgres@127.0.0.1:1/none' }));
    expect(r.code).toBe(1);
    expect(lines(r.stderr)).toEqual(["keywarden: invalid --concurrency: \"0\" is below the minimum, 1"]);
    expect(r.stdout).toBe('');
  });
});

describe('migrate', () => {
  it('applies the migrations to DATABASE_URL (idempotent on the already migrated test database)', async () => {
    const r = await runCli(['migrate'], baseEnv({ DATABASE_URL: databaseUrl }));
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    expect(r.stdout).toMatch(/^migrations applied to PostgreSQL at 127\.0\.0\.1:5432\/\w+ \(and the job queue's schema, pgboss\)\n$/);
  });

  it('an unreachable database: non-zero exit, one "keywarden:" line, no password', async () => {
    const r = await runCli(['migrate'], baseEnv({ DATABASE_URL: 'postgresql://keywarden:hunter2pw@127.0.0.1:1/keywarden' }));
    expect(r.code).not.toBe(0);
    expect(r.stdout).toBe('');
    expect(lines(r.stderr)).toEqual([expect.stringMatching(/^keywarden: migration failed: .*127\.0\.0\.1:1/)]);
    expect(r.stderr).not.toContain('hunter2pw');
  });
});

describe('scan against the IAM sandbox through the SDK standard environment', () => {
  const awsEnv = (extra: Record<string, string> = {}) =>
    baseEnv({
      AWS_ENDPOINT_URL_IAM: sandbox.url,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE',
      AWS_SECRET_ACCESS_KEY: SECRET,
      DATABASE_URL: databaseUrl,
      ...extra,
    });

  it('prints the summary, stores the scan, and its IAM call counts match what IAM received', async () => {
    const r = await runCli(['scan', '--sandbox=false'], awsEnv());
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    const out = r.stdout;
    const scanId = /^scan ([0-9a-f-]{36}) COMPLETED for account 111122223333$/m.exec(out)?.[1];
    expect(scanId).toBeDefined();
    expect(out).toMatch(/^ {2}users: 3$/m);
    expect(out).toMatch(/^ {2}findings: PASS 1, FAIL 1, NOT_APPLICABLE 2, ERROR 0, EXCEPTED 0$/m);
    expect(out).toMatch(/^ {2}duration: \d+\.\d{2} s$/m);
    const calls = /^ {2}IAM calls: (\d+) \((.+)\)$/m.exec(out);
    expect(calls).not.toBeNull();
    const byOperation = Object.fromEntries(calls![2]!.split(', ').map((p) => [p.split(' ')[0], Number(p.split(' ')[1])]));
    expect(byOperation).toMatchObject({ ListUsers: 1, GetCredentialReport: expect.any(Number) });
    expect(Number(calls![1])).toBe(Object.values(byOperation).reduce((a, b) => a + b, 0));
    // The sandbox received exactly what the CLI counted: the endpoint came from AWS_ENDPOINT_URL_IAM
    // (and the credentials from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY: HOME is empty, nothing else to find).
    expect(sandbox.calls().byOperation).toEqual(byOperation);
    expect(out + r.stderr).not.toContain(SECRET);

    const row = await prisma.scan.findUniqueOrThrow({ where: { id: scanId! } });
    expect(row).toMatchObject({ status: 'COMPLETED', accountId: '111122223333', passCount: 1, failCount: 1, notApplicableCount: 2, errorCount: 0 });
    expect(row.iamCalls).toEqual({ total: Number(calls![1]), byOperation });
  });

  it('--json prints parseable JSON on stdout (logs, even at trace, go to stderr)', async () => {
    const r = await runCli(['scan', '--sandbox=false', '--json'], awsEnv({ KEYWARDEN_LOG_LEVEL: 'trace' }));
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.stdout) as {
      scanId: string;
      status: string;
      accountId: string;
      users: number;
      counts: Record<string, number>;
      iamCalls: { total: number; byOperation: Record<string, number> };
    };
    expect(summary).toMatchObject({
      scanId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      status: 'COMPLETED',
      accountId: '111122223333',
      users: 3,
      counts: { pass: 1, fail: 1, notApplicable: 2, error: 0 },
    });
    expect(summary.iamCalls.total).toBe(Object.values(summary.iamCalls.byOperation).reduce((a, b) => a + b, 0));
    expect(summary.iamCalls.byOperation.ListUsers).toBe(1);
    expect(r.stdout + r.stderr).not.toContain(SECRET);
    expect(await prisma.scan.findUnique({ where: { id: summary.scanId } })).toMatchObject({ status: 'COMPLETED' });
  });

  it('an account that cannot be listed: non-zero exit, one line naming AccessDenied, a FAILED scan stored', async () => {
    sandbox.setFaults([{ operation: 'ListUsers', error: 'AccessDenied' }]);
    const r = await runCli(['scan', '--sandbox=false'], awsEnv());
    expect(r.code).toBe(1);
    expect(lines(r.stderr)).toEqual([expect.stringMatching(/^keywarden: scan [0-9a-f-]{36} failed: .*AccessDenied/)]);
    expect(r.stderr).not.toMatch(STACK_FRAME);
    expect(r.stdout + r.stderr).not.toContain(SECRET);
    const scanId = /^keywarden: scan ([0-9a-f-]{36}) failed/m.exec(r.stderr)?.[1];
    expect(scanId).toBeDefined();
    const rows = await prisma.scan.findMany();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ id: scanId, status: 'FAILED' });
  });
});

describe('scan --sandbox-fixture', () => {
  const writeFixture = (name: string, content: string): string => {
    const file = path.join(tmpRoot, name);
    fs.writeFileSync(file, content);
    return file;
  };
  const tooManyKeys = {
    ...FIXTURE,
    users: [{ userName: 'keys3', createdAt: 'now-10d', accessKeys: [{ createdAt: 'now-9d' }, { createdAt: 'now-8d' }, { createdAt: 'now-7d' }] }],
  };

  it('malformed fixture files: non-zero exit, one line naming the bad field path, nothing stored', async () => {
    const cases: [string, string | null, RegExp][] = [
      ['three-keys.json', JSON.stringify(tooManyKeys), /^keywarden: Invalid sandbox fixture: users\[0\]\.accessKeys: IAM allows at most 2 access keys per user \(in .*three-keys\.json\)$/],
      ['unknown-field.json', JSON.stringify({ ...FIXTURE, users: [{ ...FIXTURE.users![1], nickname: 'x' }] }), /^keywarden: Invalid sandbox fixture: users\[0\]\.nickname: unknown field \(in .*unknown-field\.json\)$/],
      ['broken.json', '{"accountId": ', /^keywarden: Invalid sandbox fixture: \(root\): invalid JSON: .*\(in .*broken\.json\)$/],
      ['absent.json', null, /^keywarden: Invalid sandbox fixture: \(root\): cannot read fixture file .*absent\.json/],
    ];
    // In parallel: each run migrates the database first (~2 s).
    const results = await Promise.all(
      cases.map(([name, content]) => {
        const file = content === null ? path.join(tmpRoot, name) : writeFixture(name, content);
        return runCli(['scan', '--sandbox-fixture', file], baseEnv({ DATABASE_URL: databaseUrl }));
      }),
    );
    results.forEach((r, i) => {
      const [name, , reason] = cases[i]!;
      expect({ name, code: r.code, stdout: r.stdout, stderr: lines(r.stderr) }).toEqual({ name, code: 1, stdout: '', stderr: [expect.stringMatching(reason)] });
    });
    expect(await prisma.scan.count()).toBe(0);
  });

  it('a valid fixture file is scanned in the built-in sandbox', async () => {
    const file = writeFixture('fixture.json', JSON.stringify(FIXTURE));
    const r = await runCli(['scan', '--sandbox-fixture', file, '--json'], baseEnv({ DATABASE_URL: databaseUrl }));
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    expect(JSON.parse(r.stdout)).toMatchObject({ status: 'COMPLETED', accountId: '111122223333', users: 3, counts: { pass: 1, fail: 1, notApplicable: 2 } });
    expect(sandbox.calls().total).toBe(0); // its own sandbox, not ours
  });
});

describe('serve', () => {
  it('PORT=0 prints the real URL, answers GraphQL and /healthz, and exits 0 on SIGTERM', async () => {
    // A stored scan to read back, made in-process against the same database.
    const seeded = await createScanService(prisma, sandboxIamClient(sandbox)).run(scanRequest(loadConfig({})));
    expect(seeded.status).toBe('COMPLETED');

    const bootstrap = 'cli-test-bootstrap-token-0123456789';
    const server = await startCli(['serve'], baseEnv({ DATABASE_URL: databaseUrl, PORT: '0', KEYWARDEN_BOOTSTRAP_TOKEN: bootstrap }), 15_000);
    const url = new URL(server.url);
    expect(url.pathname).toBe('/graphql');
    expect(Number(url.port)).toBeGreaterThan(0);
    expect(server.stdout()).toMatch(/^GraphQL API at http:\/\/127\.0\.0\.1:\d+\/graphql \(database: PostgreSQL at 127\.0\.0\.1:5432\/\w+\); every request needs Authorization: Bearer <token>$/m);

    expect((await gql(server.url, '{ findings { totalCount } }', null)).status).toBe(401);
    const res = await gql(server.url, '{ findings { totalCount } }', bootstrap);
    expect(res).toEqual({ status: 200, data: { findings: { totalCount: 4 } } });
    const health = await fetch(new URL('/healthz', url));
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });

    const exit = await server.stop('SIGTERM', 5_000);
    expect({ code: exit.code, signal: exit.signal }).toEqual({ code: 0, signal: null });
    // Structured logs on stderr: one JSON line per request, never the token.
    const logLines = lines(server.stderr()).map((l) => JSON.parse(l));
    expect(logLines.some((l) => l.msg === 'graphql request' && l.tokenId === 'bootstrap')).toBe(true);
    expect(server.stderr()).not.toContain(bootstrap);
  });
});

describe('remediation across a real crash: serve killed with SIGKILL mid-request', () => {
  const ACCOUNT = '444455556666';
  const ALICE_KEY = 'AKIAALICECRASH000001';
  const CAROL_KEY = 'AKIACAROLCRASH000001';
  const consoleUserWithSetupKey = (userName: string, accessKeyId: string) => ({
    userName, createdAt: 'now-400d', loginProfile: { createdAt: 'now-400d' }, accessKeys: [{ accessKeyId, status: 'Active' as const, createdAt: 'now-400d+30s' }],
  });
  type Stage = 'before-write' | 'after-write';
  /** While set, the IAM call of that stage hangs (after applying the write, for after-write) until released. */
  let hold: { stage: Stage; reached: () => void; released: Promise<void> } | null = null;
  let iam: IamSandbox;
  // A mutation acts only in an account whose credentials STS proves (issue #9): GetCallerIdentity.
  let sts: FakeAws;

  beforeAll(async () => {
    iam = await startIamSandbox({
      fixture: { accountId: ACCOUNT, accountCreatedAt: 'now-900d', users: [consoleUserWithSetupKey('alice', ALICE_KEY), consoleUserWithSetupKey('carol', CAROL_KEY)] },
      hooks: {
        beforeAction: async (action, params, state) => {
          const h = hold;
          if (h?.stage === 'before-write' && action === 'ListAccessKeys') {
            h.reached();
            await h.released;
          } else if (h?.stage === 'after-write' && action === 'UpdateAccessKey') {
            state.setKeyStatus(params.AccessKeyId!, params.Status as 'Active' | 'Inactive'); // IAM applied it...
            h.reached();
            await h.released; // ...and the answer never reaches the process
          }
        },
      },
    });
  });
  beforeAll(async () => {
    sts = await startFakeAws({ identities: { AKIAIOSFODNN7EXAMPLE: { account: ACCOUNT, arn: `arn:aws:iam::${ACCOUNT}:user/keywarden` } } });
  });
  afterAll(async () => {
    await iam?.close();
    await sts?.close();
  });

  it('leaves a PENDING audit row that `keywarden reconcile` settles against live IAM: not applied, or applied', async () => {
    expect((await createScanService(prisma, sandboxIamClient(iam)).run(scanRequest(loadConfig({})))).status).toBe('COMPLETED');
    const bootstrap = 'cli-crash-bootstrap-token-0123456789';
    const env = baseEnv({
      AWS_ENDPOINT_URL_IAM: iam.url, AWS_ENDPOINT_URL_STS: sts.url, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE', AWS_SECRET_ACCESS_KEY: SECRET,
      DATABASE_URL: databaseUrl, PORT: '0', KEYWARDEN_BOOTSTRAP_TOKEN: bootstrap,
    });
    const crashes: [Stage, string, string][] = [['before-write', 'alice', ALICE_KEY], ['after-write', 'carol', CAROL_KEY]];
    for (const [stage, userName, accessKeyId] of crashes) {
      let reached!: () => void;
      let release!: () => void;
      const atStage = new Promise<void>((resolve) => (reached = resolve));
      hold = { stage, reached, released: new Promise<void>((resolve) => (release = resolve)) };
      const server = await startCli(['serve'], env, 15_000);
      const request = fetch(server.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${bootstrap}` },
        body: JSON.stringify({
          query: 'mutation($input: AccessKeyActionInput!) { deactivateAccessKey(input: $input) { action { id status } } }',
          variables: { input: { accountId: ACCOUNT, userName, accessKeyId, reason: 'CIS: key created at initial setup' } },
        }),
      }).then(() => 'answered', () => 'connection lost');
      await atStage;
      expect(await prisma.remediationAction.findMany({ where: { accessKeyId }, select: { status: true } })).toEqual([{ status: 'PENDING' }]);
      expect((await server.stop('SIGKILL')).signal).toBe('SIGKILL');
      expect(await request).toBe('connection lost');
      hold = null;
      release();
    }
    expect(iam.state.findAccessKey(ALICE_KEY)?.key.status).toBe('Active');
    expect(iam.state.findAccessKey(CAROL_KEY)?.key.status).toBe('Inactive');

    const r = await runCli(['reconcile', '--older-than', '0'], env);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    expect(r.stdout).toMatch(/^2 pending remediation action\(s\) reconciled$/m);
    // The audit trail outlives test files (resetDatabase keeps it), and another file uses this account: this test's keys only.
    const rows = await prisma.remediationAction.findMany({ where: { accountId: ACCOUNT, accessKeyId: { in: [ALICE_KEY, CAROL_KEY] } }, orderBy: { createdAt: 'asc' } });
    expect(rows.map((a) => [a.accessKeyId, a.status, a.errorCode])).toEqual([
      [ALICE_KEY, 'FAILED', 'INTERRUPTED'],
      [CAROL_KEY, 'SUCCEEDED', null],
    ]);
    // The write that took effect is re-evaluated at once: carol's finding resolves as remediated.
    expect(await prisma.finding.findFirst({ where: { accessKeyId: CAROL_KEY }, select: { state: true, resolution: true } })).toEqual({ state: 'RESOLVED', resolution: 'REMEDIATED' });
    expect(await prisma.finding.findFirst({ where: { accessKeyId: ALICE_KEY }, select: { state: true } })).toEqual({ state: 'OPEN' });
  });
});

describe('start with the embedded database', () => {
  let dataDir: string;
  const serverPids = (): number[] =>
    spawnSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' })
      .stdout.split('\n')
      .filter((line) => line.includes(` -D ${dataDir}/pgdata`))
      .map((line) => Number.parseInt(line.trim(), 10));

  beforeAll(() => {
    dataDir = path.join(tmpRoot, 'data');
    // mkdtemp made tmpRoot 0700; as root the server runs as the postgres user, which must get through it.
    fs.chmodSync(tmpRoot, 0o755);
  });

  afterAll(() => {
    // A failed test SIGKILLs the CLI: its detached server would outlive it.
    for (const pid of serverPids()) process.kill(pid, 'SIGKILL');
  });

  it('first run: embedded PostgreSQL, built-in sandbox, a scan, the API; token create attaches meanwhile; SIGTERM stops the server; a second run keeps the data', async () => {
    // No DATABASE_URL, no AWS_*, an empty HOME: everything built in.
    const env = baseEnv({ KEYWARDEN_DATA_DIR: dataDir, PORT: '0' });
    expect(Object.keys(env).filter((k) => k.startsWith('AWS_') || k === 'DATABASE_URL')).toEqual([]);
    const stateFile = path.join(dataDir, 'pgdata.state.json');

    const first = await startCli(['start'], env, 30_000);
    const out = first.stdout();
    expect(out).toMatch(new RegExp(`^database: embedded PostgreSQL 17 in ${dataDir}/pgdata \\(127\\.0\\.0\\.1:\\d+\\)$`, 'm'));
    expect(out).toMatch(/^IAM: built-in sandbox at http:\/\/127\.0\.0\.1:\d+ \(sample organization of 3 accounts, management account 123456789012;/m);
    expect(out).toMatch(/^scan [0-9a-f-]{36} COMPLETED for account 123456789012 in [\d.]+ s: PASS 7, FAIL 5, NOT_APPLICABLE 5, ERROR 0, EXCEPTED 0;/m);
    const state = JSON.parse(fs.readFileSync(stateFile, 'utf8')) as { ownerPid: number; postmasterPid: number; port: number };
    expect(serverPids()).toEqual([state.postmasterPid]);

    // No token, no answer; `start` made a local admin token and printed it once.
    expect((await gql(first.url, '{ scans { totalCount } }', null)).status).toBe(401);
    const printed = first.stdout(); // the token lines follow the URL line
    const token = /^\s+(kw_[0-9A-Za-z]{36})$/m.exec(printed)?.[1];
    expect(token).toBeDefined();
    expect(printed).toContain('a local admin token was created');
    const fails = await gql<{ findings: { totalCount: number; nodes: { userName: string; reasons: string[] }[] } }>(
      first.url,
      '{ findings(filter: {status: [FAIL]}) { totalCount nodes { userName reasons } } }',
      token!,
    );
    expect(fails.status).toBe(200);
    // The sample organization's three accounts, scanned through the queue: 5 failing keys in the management account.
    expect(fails.data?.findings.totalCount).toBe(8);
    const management = await gql<{ findings: { totalCount: number } }>(first.url, '{ findings(filter: {status: [FAIL], accountIds: ["123456789012"]}) { totalCount } }', token!);
    expect(management.data?.findings.totalCount).toBe(5);
    expect(first.stdout().match(/^scan [0-9a-f-]{36} COMPLETED for account \d{12}/gm)).toHaveLength(3);
    expect(fails.data?.findings.nodes).toContainEqual({ userName: 'alice', reasons: ['CREATED_AT_SETUP', 'NEVER_USED'] });

    // Issue #14 item 4: another command on the same data dir uses the running server (no lock refusal).
    const created = await runCli(['token', 'create', '--name', 'while-start-runs', '--scope', 'findings:read'], env);
    expect({ code: created.code, stderr: created.stderr }).toEqual({ code: 0, stderr: '' });
    const second = /^(kw_[0-9A-Za-z]{36})$/m.exec(created.stdout)?.[1];
    expect((await gql(first.url, '{ findings { totalCount } }', second!)).status).toBe(200);
    expect(serverPids()).toEqual([state.postmasterPid]); // still the one server

    const firstExit = await first.stop('SIGTERM', 5_000);
    expect({ code: firstExit.code, signal: firstExit.signal }).toEqual({ code: 0, signal: null });
    // A clean shutdown stops the server: no postgres process on this data dir, no state file.
    expect(serverPids()).toEqual([]);
    expect(fs.existsSync(stateFile)).toBe(false);
    expect(first.stderr()).not.toContain(token!);
    const password = fs.readFileSync(path.join(dataDir, 'pgdata.password'), 'utf8').trim();
    expect(first.stdout() + first.stderr() + created.stdout).not.toContain(password);

    const again = await startCli(['start'], env, 30_000);
    expect(again.stdout()).not.toMatch(/kw_[0-9A-Za-z]{36}/); // shown once, not again
    const scans = await gql<{ scans: { totalCount: number } }>(again.url, '{ scans { totalCount } }', token!);
    expect(scans).toEqual({ status: 200, data: { scans: { totalCount: 6 } } }); // two runs of three accounts
    const againExit = await again.stop('SIGINT', 5_000);
    expect({ code: againExit.code, signal: againExit.signal }).toEqual({ code: 0, signal: null });
    expect(again.stderr()).not.toContain(token!);
    expect(serverPids()).toEqual([]);
  }, 90_000);
});
