import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { cloneFindings } from '../../bench/export.seed';
import { startServer, type RunningServer } from '../../src/graphql/server';
import { memoryLogger, type MemoryLogger } from '../support/memory-logger';
import { startStack, TEST_ADMIN_TOKEN, type Stack } from '../support/stack';

/**
 * The export streams from the store's keyset with backpressure: a client that stops reading holds the server at
 * the page it has read, and one that disconnects stops the reads. The CLI writes the same export to a file.
 */
const ACCOUNT = '123456789012';
const CLONES = 6_000;
const PAGE = 50;
const ROOT = path.resolve(__dirname, '../..');

const setupKeyUser = (userName: string, n: number) => ({
  userName, createdAt: 'now-400d', loginProfile: { createdAt: 'now-400d' }, accessKeys: [{ accessKeyId: `AKIASTREAM${String(n).padStart(10, '0')}`, status: 'Active' as const, createdAt: 'now-400d+30s' }],
});

describe('streamed exports', () => {
  let stack: Stack;
  let server: RunningServer;
  let log: MemoryLogger;
  let total: number;

  beforeAll(async () => {
    stack = await startStack({
      accountId: ACCOUNT, accountCreatedAt: 'now-900d',
      users: [setupKeyUser('alice', 1), setupKeyUser('bob', 2), { userName: 'ci', createdAt: 'now-100d', accessKeys: [] }],
    });
    expect((await stack.scan()).status).toBe('COMPLETED');
    expect(await cloneFindings(stack.prisma, ACCOUNT, CLONES)).toBe(CLONES);
    total = await stack.prisma.finding.count({ where: { present: true } });
    log = memoryLogger('debug');
    server = await startServer({ prisma: stack.prisma, logger: log.logger, port: 0, auth: { bootstrapToken: TEST_ADMIN_TOKEN }, exports: { pageSize: PAGE } });
  }, 60_000);
  afterAll(async () => {
    await server?.close();
    await stack?.close();
  });

  const pagesRead = () => log.lines().filter((l) => l.msg === 'export page read').length;
  const until = async (what: () => boolean, ms = 5_000) => {
    for (const start = Date.now(); !what(); await new Promise((r) => setTimeout(r, 20))) if (Date.now() - start > ms) throw new Error('timed out');
  };

  it('a whole export reads every page once, in identity order', async () => {
    const before = pagesRead();
    const res = await fetch(server.url.replace(/graphql$/, 'exports/findings?format=jsonl'), { headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` } });
    const records = (await res.text()).split('\n').filter(Boolean).map((l) => JSON.parse(l));
    expect(records).toHaveLength(total);
    const ids = records.map((r) => r.identity);
    expect(ids).toEqual([...ids].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
    expect(new Set(ids).size).toBe(total);
    await until(() => log.lines().some((l) => l.msg === 'findings export' && l.outcome === 'completed'));
    expect(pagesRead() - before).toBe(Math.ceil(total / PAGE));
  });

  it('a client that stops reading holds the server a few pages ahead; one that disconnects stops the reads', async () => {
    const before = pagesRead();
    const allPages = Math.ceil(total / PAGE);
    const url = new URL(server.url.replace(/graphql$/, 'exports/findings?format=ocsf'));
    const req = http.get(url, { headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` } });
    const res = await new Promise<http.IncomingMessage>((resolve) => req.once('response', resolve));
    expect(res.statusCode).toBe(200);
    // Take one chunk, then stop reading: socket buffers fill, `drain` never comes, the server stops reading pages.
    await new Promise((resolve) => res.once('data', resolve));
    res.pause();
    // Until the buffers are full the server reads on; on a loaded machine that takes a while. Then it holds.
    let whilePaused = -1;
    for (const start = Date.now(); Date.now() - start < 10_000; ) {
      const seen = pagesRead() - before;
      await new Promise((r) => setTimeout(r, 300));
      if (pagesRead() - before === seen) {
        whilePaused = seen;
        break;
      }
    }
    await new Promise((r) => setTimeout(r, 500));
    expect(pagesRead() - before).toBe(whilePaused); // held, not reading on into memory
    expect(whilePaused).toBeLessThan(allPages / 2);
    req.destroy();
    await until(() => log.lines().some((l) => l.msg === 'findings export' && l.outcome === 'aborted by client'));
    const atAbort = pagesRead() - before;
    await new Promise((r) => setTimeout(r, 700));
    expect(pagesRead() - before).toBe(atAbort);
    expect(atAbort).toBeLessThanOrEqual(whilePaused + 1); // at most the page in flight when the client left
    const line = log.lines().find((l) => l.msg === 'findings export' && l.outcome === 'aborted by client')!;
    expect(line).toMatchObject({ format: 'ocsf', pages: atAbort });
  });

  it('keywarden export findings writes the same export to a file, and names a bad flag', () => {
    const cli = path.join(ROOT, 'dist/src/cli.js');
    if (!fs.existsSync(cli)) throw new Error('run `npm run build` first: this test runs the built CLI');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kw-export-'));
    const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir, DATABASE_URL: process.env.DATABASE_URL!, KEYWARDEN_DATA_DIR: path.join(dir, 'data') };
    const out = path.join(dir, 'findings.csv');
    const run = spawnSync(process.execPath, [cli, 'export', 'findings', '--format', 'csv', '--status', 'FAIL', '--out', out], { env, encoding: 'utf8', timeout: 30_000 });
    expect([run.status, run.stderr.trim().split('\n').pop()]).toEqual([0, expect.stringMatching(/^\d+ findings written to /)]);
    const rows = fs.readFileSync(out, 'utf8').replace(/^\uFEFF/, '').trim().split('\r\n');
    expect(rows[0].startsWith('identity,finding_id,account_id')).toBe(true);
    expect(rows.length - 1).toBe(Number(/^(\d+)/.exec(run.stderr.trim().split('\n').pop()!)![1]));
    expect(rows.slice(1).every((r) => r.includes(',FAIL,'))).toBe(true);
    const bad = spawnSync(process.execPath, [cli, 'export', 'findings', '--format', 'csv', '--status', 'BROKEN'], { env, encoding: 'utf8', timeout: 30_000 });
    expect([bad.status, bad.stdout, bad.stderr.trim()]).toEqual([1, '', expect.stringMatching(/^keywarden: --status: status "BROKEN" is not one of/)]);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
