import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { Client } from 'pg';
import { embeddedPostgresFiles, startEmbeddedPostgres, type EmbeddedPostgres } from '../../../src/adapters/db/embedded-postgres';
import { migrateDatabase } from '../../../src/adapters/db/migrate';
import { createPrismaClient } from '../../../src/adapters/db/prisma';
import { openDatabase } from '../../../src/app';
import { loadConfig } from '../../../src/config';
import { memoryLogger } from '../../support/memory-logger';
import { COMMITTED_MIGRATIONS } from '../../support/migrations';
import { makeTempDir } from '../../support/test-resources';

/**
 * The embedded PostgreSQL 17 for real: initdb, a server process, other processes attaching to it.
 * Other processes run the BUILT adapter (dist/), as the CLI does.
 */

jest.setTimeout(30_000);

const ROOT = path.resolve(__dirname, '../../..');
const BUILT = path.join(ROOT, 'dist/src/adapters/db/embedded-postgres.js');
for (const file of ['embedded-postgres.ts', 'postgres-process.ts', 'startup-lock.ts']) {
  const built = path.join(ROOT, 'dist/src/adapters/db', file.replace(/\.ts$/, '.js'));
  if (!fs.existsSync(built) || fs.statSync(built).mtimeMs < fs.statSync(path.join(ROOT, 'src/adapters/db', file)).mtimeMs) {
    throw new Error(`${path.relative(ROOT, built)} is missing or older than its source: run \`npm run build\` first (other processes run the built adapter)`);
  }
}

const isRoot = process.getuid?.() === 0;
let root: string;
const started: EmbeddedPostgres[] = [];
const children = new Set<ChildProcessWithoutNullStreams>();

beforeAll(() => {
  root = makeTempDir('kw-embedded-');
  // mkdtemp makes it 0700; as root the server runs as the postgres user, which must get through it.
  fs.chmodSync(root, 0o755);
});

afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  await Promise.allSettled(started.map((pg) => pg.stop()));
  // Whatever a failed test left running under our folder (root owns even the postgres user's files).
  for (const pid of serverPids(root)) process.kill(pid, 'SIGKILL');
  fs.rmSync(root, { recursive: true, force: true });
});

async function start(pgdata: string, log = memoryLogger('debug').logger): Promise<EmbeddedPostgres> {
  const pg = await startEmbeddedPostgres({ pgdata, log });
  started.push(pg);
  return pg;
}

/** pids of every process whose command line names this folder (the postmaster: `postgres -D <pgdata> ...`). */
function serverPids(folder: string): number[] {
  const ps = spawnSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' }).stdout;
  return ps
    .split('\n')
    .filter((line) => line.includes(` -D ${folder}`))
    .map((line) => Number.parseInt(line.trim(), 10));
}

/** The postmaster and the server processes it forked (checkpointer, backends, ...). */
function serverTree(pgdata: string): number[] {
  const [postmaster] = serverPids(pgdata);
  if (postmaster === undefined) return [];
  const kids = spawnSync('ps', ['-o', 'pid=', '--ppid', String(postmaster)], { encoding: 'utf8' }).stdout;
  return [postmaster, ...kids.split('\n').filter((l) => l.trim()).map((l) => Number.parseInt(l, 10))];
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function query<T extends object>(url: string, sql: string): Promise<T[]> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

interface Started {
  owner: boolean;
  ownerPid: number;
  port: number;
  initialised: boolean;
  url: string;
}

/** Another process: starts (or attaches to) the embedded PostgreSQL, runs a query, prints what it got, stops when its stdin ends. */
function otherProcess(pgdata: string): { child: ChildProcessWithoutNullStreams; started: Promise<Started>; exited: Promise<number | null> } {
  const script = `
    const { startEmbeddedPostgres } = require(${JSON.stringify(BUILT)});
    const { Client } = require('pg');
    (async () => {
      const pg = await startEmbeddedPostgres({ pgdata: process.argv[1] });
      const c = new Client({ connectionString: pg.url });
      await c.connect();
      await c.query('SELECT 1');
      await c.end();
      process.stdout.write(JSON.stringify({ owner: pg.owner, ownerPid: pg.ownerPid, port: pg.port, initialised: pg.initialised, url: pg.url }) + '\\n');
      process.stdin.resume();
      process.stdin.on('end', () => pg.stop().then(() => process.exit(0)));
    })().catch((e) => { process.stderr.write(e.message); process.exit(1); });`;
  const child = spawn(process.execPath, ['-e', script, pgdata], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
  children.add(child);
  let out = '';
  let err = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => (children.delete(child), resolve(code))));
  const startedP = new Promise<Started>((resolve, reject) => {
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      if (out.includes('\n')) resolve(JSON.parse(out) as Started);
    });
    void exited.then((code) => reject(new Error(`other process exited (${code}) before starting: ${err}`)));
  });
  return { child, started: startedP, exited };
}

describe('embedded PostgreSQL 17', () => {
  let pgdata: string;
  let scanId: string;

  beforeAll(() => {
    pgdata = path.join(root, 'data', 'pgdata'); // absent: the first start creates it
  });

  it('first start: initdb, migrations, a password kept 0600, and connections that really run in parallel', async () => {
    const mem = memoryLogger('debug');
    const config = loadConfig({ KEYWARDEN_DATA_DIR: path.join(root, 'data') });
    const t0 = Date.now();
    const db = await openDatabase(config, mem.logger);
    const firstStartMs = Date.now() - t0;
    try {
      const files = embeddedPostgresFiles(pgdata);
      const password = fs.readFileSync(files.password, 'utf8').trim();
      expect(password).toMatch(/^[0-9a-f]{48}$/);
      expect(fs.statSync(files.password).mode & 0o777).toBe(0o600);
      expect(db.url).toMatch(new RegExp(`^postgresql://postgres:${password}@127\\.0\\.0\\.1:\\d+/postgres$`));
      const port = Number(new URL(db.url).port);
      expect(db.description).toBe(`embedded PostgreSQL 17 in ${pgdata} (127.0.0.1:${port})`);
      expect(JSON.parse(fs.readFileSync(files.state, 'utf8'))).toMatchObject({ ownerPid: process.pid, port });
      expect(fs.readFileSync(path.join(pgdata, 'PG_VERSION'), 'utf8').trim()).toBe('17');
      if (isRoot) expect(fs.statSync(pgdata).uid).toBe(Number(spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).stdout));
      expect(mem.text()).toContain('created a new embedded PostgreSQL 17 data folder');
      expect(mem.text()).not.toContain(password);

      // Migrated: openDatabase ran prisma migrate deploy.
      const migrations = await query<{ migration_name: string }>(db.url, 'SELECT migration_name FROM _prisma_migrations WHERE finished_at IS NOT NULL ORDER BY 1');
      expect(migrations.map((m) => m.migration_name)).toEqual(COMMITTED_MIGRATIONS);
      const [{ server_version, server_encoding }] = await query<{ server_version: string; server_encoding: string }>(
        db.url,
        "SELECT current_setting('server_version') AS server_version, current_setting('server_encoding') AS server_encoding",
      );
      expect({ major: server_version.split('.')[0], server_encoding }).toEqual({ major: '17', server_encoding: 'UTF8' });

      // Five pg clients, as pg-boss's pool would hold: 5 × 0.2 s of sleep in well under 1 s.
      const clients = await Promise.all(Array.from({ length: 5 }, async () => {
        const c = new Client({ connectionString: db.url });
        await c.connect();
        return c;
      }));
      try {
        const t = Date.now();
        const pids = await Promise.all(clients.map(async (c) => (await c.query<{ pid: number }>('SELECT pg_backend_pid() AS pid, pg_sleep(0.2)')).rows[0]!.pid));
        expect(Date.now() - t).toBeLessThan(1000);
        expect(new Set(pids).size).toBe(5);
      } finally {
        await Promise.all(clients.map((c) => c.end()));
      }

      // Prisma's pool is no longer 1: three 0.3 s sleeps overlap too (one after another they take 0.9 s).
      const t = Date.now();
      await Promise.all([1, 2, 3].map(() => db.prisma.$queryRaw`SELECT 1 AS one FROM pg_sleep(0.3)`));
      expect(Date.now() - t).toBeLessThan(800);

      const scan = await db.prisma.scan.create({
        data: { status: 'COMPLETED', source: 'CREDENTIAL_REPORT', accountId: '111122223333', startedAt: new Date('2026-11-01T10:00:00Z'), passCount: 3 },
      });
      scanId = scan.id;
    } finally {
      await db.close();
    }
    expect(serverPids(pgdata)).toEqual([]);
    expect(fs.existsSync(embeddedPostgresFiles(pgdata).state)).toBe(false);
    console.log(`embedded PostgreSQL: first openDatabase (initdb + start + migrate) ${firstStartMs} ms`);
  });

  it('keeps the data across a stop and a start, without initdb', async () => {
    const t0 = Date.now();
    const pg = await start(pgdata);
    const startMs = Date.now() - t0;
    expect({ owner: pg.owner, ownerPid: pg.ownerPid, initialised: pg.initialised }).toEqual({ owner: true, ownerPid: process.pid, initialised: false });
    expect((await migrateDatabase(pg.url)).applied).toEqual([]);
    const prisma = createPrismaClient(pg.url);
    try {
      const row = await prisma.scan.findUniqueOrThrow({ where: { id: scanId } });
      expect(row).toMatchObject({ accountId: '111122223333', status: 'COMPLETED', passCount: 3 });
      expect(row.startedAt!.toISOString()).toBe('2026-11-01T10:00:00.000Z');
    } finally {
      await prisma.$disconnect();
    }
    console.log(`embedded PostgreSQL: later start ${startMs} ms`);
  });

  it('a second process attaches to the running server instead of starting one, and leaves it running', async () => {
    const pg = started.at(-1)!;
    const other = otherProcess(pgdata);
    const got = await other.started;
    expect(got).toEqual({ owner: false, ownerPid: process.pid, port: pg.port, initialised: false, url: pg.url });
    other.child.stdin.end();
    expect(await other.exited).toBe(0);
    expect(await query<{ one: number }>(pg.url, 'SELECT 1 AS one')).toEqual([{ one: 1 }]);
  });

  it('stop is a fast shutdown that leaves no server process, even with a client in a transaction', async () => {
    const pg = started.at(-1)!;
    const client = new Client({ connectionString: pg.url });
    client.on('error', () => undefined);
    await client.connect();
    await client.query('BEGIN');
    await client.query('SELECT 1');
    const tree = serverTree(pgdata);
    expect(tree.length).toBeGreaterThan(3); // postmaster, checkpointer, walwriter, ..., our backend

    const t = Date.now();
    await pg.stop();
    expect(Date.now() - t).toBeLessThan(3000);
    expect(tree.filter(alive)).toEqual([]);
    expect(serverPids(pgdata)).toEqual([]);
    expect(fs.existsSync(path.join(pgdata, 'postmaster.pid'))).toBe(false);
    expect(fs.existsSync(embeddedPostgresFiles(pgdata).state)).toBe(false);
    await pg.stop(); // twice is fine
  });

  it('a stale state file (its server gone) is removed and the server started again', async () => {
    const files = embeddedPostgresFiles(pgdata);
    // Names a live owner (us) but a port nobody serves: what a server killed behind its owner's back leaves.
    fs.writeFileSync(files.state, JSON.stringify({ ownerPid: process.pid, postmasterPid: 999_999, port: 1, startedAt: '2026-11-01T00:00:00Z' }));
    const mem = memoryLogger('debug');
    const pg = await start(pgdata, mem.logger);
    expect({ owner: pg.owner, initialised: pg.initialised }).toEqual({ owner: true, initialised: false });
    expect(JSON.parse(fs.readFileSync(files.state, 'utf8'))).toMatchObject({ ownerPid: process.pid, port: pg.port, postmasterPid: serverPids(pgdata)[0] });
    expect(mem.text()).toContain('the embedded PostgreSQL named in the state file is gone: starting it again');
    expect(await query<{ n: number }>(pg.url, 'SELECT count(*)::int AS n FROM scan')).toEqual([{ n: 1 }]);
    await pg.stop();
  });

  it('a server whose owner was killed (SIGKILL) is taken over by the next process and stopped by it', async () => {
    const other = otherProcess(pgdata);
    const got = await other.started;
    expect(got.owner).toBe(true);
    const [postmaster] = serverPids(pgdata);
    other.child.kill('SIGKILL');
    await other.exited;
    expect(alive(postmaster!)).toBe(true); // detached: it outlived its owner

    const mem = memoryLogger('debug');
    const pg = await start(pgdata, mem.logger);
    expect({ owner: pg.owner, port: pg.port }).toEqual({ owner: true, port: got.port });
    expect(mem.text()).toContain('took over an embedded PostgreSQL whose owner exited without stopping it');
    await pg.stop();
    expect(serverPids(pgdata)).toEqual([]);
  });

  it('two processes starting at once on a new folder: one runs initdb and the server, the other attaches', async () => {
    const fresh = path.join(root, 'race', 'pgdata');
    const [a, b] = [otherProcess(fresh), otherProcess(fresh)];
    const [ra, rb] = await Promise.all([a.started, b.started]);
    const [owner, attached] = ra.owner ? [ra, rb] : [rb, ra];
    const [ownerProc, attachedProc] = ra.owner ? [a, b] : [b, a];
    expect(owner).toMatchObject({ owner: true, initialised: true, ownerPid: ownerProc.child.pid });
    expect(attached).toMatchObject({ owner: false, initialised: false, ownerPid: ownerProc.child.pid, port: owner.port });
    expect(serverPids(fresh)).toHaveLength(1);
    attachedProc.child.stdin.end();
    ownerProc.child.stdin.end();
    expect(await Promise.all([a.exited, b.exited])).toEqual([0, 0]);
    expect(serverPids(fresh)).toEqual([]);
  });

  it('a port asked for that another process holds: one line, before talking to whatever listens there', async () => {
    const squatter = net.createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve));
    const { port } = squatter.address() as net.AddressInfo;
    try {
      await expect(startEmbeddedPostgres({ pgdata, port })).rejects.toThrow(
        `cannot start the embedded PostgreSQL on 127.0.0.1:${port}: the port is in use (choose another KEYWARDEN_EMBEDDED_PG_PORT, or unset it for a free one)`,
      );
    } finally {
      squatter.close();
    }
    expect(serverPids(pgdata)).toEqual([]);
  });

  it("refuses PGlite's data folder (PostgreSQL 18) with how to move it aside, and deletes nothing", async () => {
    const old = path.join(root, 'pglite', 'pgdata');
    fs.mkdirSync(old, { recursive: true });
    fs.writeFileSync(path.join(old, 'PG_VERSION'), '18\n');
    fs.writeFileSync(path.join(old, 'keywarden.lock'), '');
    await expect(startEmbeddedPostgres({ pgdata: old })).rejects.toThrow(
      `${old} holds a PostgreSQL 18 data folder (the PGlite database of earlier Keywarden versions), which the embedded PostgreSQL 17 cannot open: move it aside (mv ${old} ${old}.old) to start with a new, empty database; nothing in it is deleted`,
    );
    expect(fs.readdirSync(old).sort()).toEqual(['PG_VERSION', 'keywarden.lock']);
  });

  (isRoot ? it : it.skip)('as root: one line when the postgres user is missing or cannot reach the data folder', async () => {
    await expect(startEmbeddedPostgres({ pgdata: path.join(root, 'nouser', 'pgdata'), osUser: 'kw-no-such-user' })).rejects.toThrow(
      'PostgreSQL refuses to run as root, and there is no "kw-no-such-user" user to run the embedded one as: create it (useradd --system --user-group kw-no-such-user), run Keywarden as a normal user, or set DATABASE_URL',
    );
    const closed = path.join(root, 'closed');
    fs.mkdirSync(closed, { mode: 0o700 });
    await expect(startEmbeddedPostgres({ pgdata: path.join(closed, 'kw', 'pgdata') })).rejects.toThrow(
      `PostgreSQL runs as the "postgres" user when Keywarden runs as root, and that user cannot write ${closed}/kw/pgdata (${closed} is closed to it: mode 0700, owner uid 0): set KEYWARDEN_DATA_DIR to a folder it can reach, run Keywarden as a normal user, or set DATABASE_URL`,
    );
  });
});
