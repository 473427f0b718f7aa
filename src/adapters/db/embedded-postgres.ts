import fs from 'node:fs';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

/*
 * Embedded PostgreSQL: PGlite (PostgreSQL in WebAssembly, one backend in this process) served
 * over the wire protocol by PGLiteSocketServer, so Prisma and `prisma migrate deploy` talk to it
 * like to any server.
 *
 * CALLERS MUST USE A POOL OF SIZE 1: `createPrismaClient(url, { poolMax: 1 })`.
 * PGlite is one session. pglite-socket lets several clients connect (up to `maxConnections`) but
 * runs their messages one at a time through a single queue on that one session: no parallelism,
 * and session state (SET, temp tables, session advisory locks) is shared by all of them. While a
 * client holds a transaction open, every other client's statements wait until it ends, so code
 * that waits inside a transaction for a second connection hangs for ever (real PostgreSQL would
 * not). Connections beyond `maxConnections` are not queued: the socket is closed at once and the
 * client sees "Connection terminated unexpectedly".
 *
 * Why accept more than one connection then (pglite-socket's default is 1): a pg pool's end()
 * (PrismaClient.$disconnect) resolves before the server has seen the socket close, so with a
 * limit of 1 a client connecting right after another disconnected was dropped (50 out of 50
 * tries). A few slots absorb such hand-overs and let `prisma migrate status` or psql look in
 * while the app's single connection is open.
 *
 * Nothing in PGlite stops two processes from opening one data directory: both run and the last
 * writer silently loses the other's rows. The lock file below (holding the pid) prevents that.
 */

export interface EmbeddedPostgresOptions {
  /** Where the data lives between runs; created when absent. */
  dataDir: string;
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /** Connections accepted at once; more are dropped. Not a pool size: see above. Default 4. */
  maxConnections?: number;
}

export interface EmbeddedPostgres {
  /** postgresql://postgres@host:port/postgres (no password: PGlite accepts any). */
  url: string;
  /** Closes the server and PGlite and releases the data directory. Safe to call twice. */
  stop(): Promise<void>;
}

const LOCK_FILE = 'keywarden.lock';

export async function startEmbeddedPostgres({
  dataDir,
  host = '127.0.0.1',
  port = 0,
  maxConnections = 4,
}: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const dir = path.resolve(dataDir);
  fs.mkdirSync(dir, { recursive: true });
  const releaseLock = acquireLock(dir);

  let db: PGlite | undefined;
  let server: PGLiteSocketServer | undefined;
  try {
    // btree_gist backs the exclusion constraints that keep history versions from overlapping.
    const { btree_gist } = await import('@electric-sql/pglite/contrib/btree_gist'); // ESM-only module
    db = await PGlite.create(dir, { extensions: { btree_gist } });
    server = new PGLiteSocketServer({ db, host, port, maxConnections });
    await server.start();
  } catch (err) {
    await server?.stop().catch(() => undefined);
    await db?.close().catch(() => undefined);
    releaseLock();
    throw new Error(`cannot start embedded PostgreSQL in ${dir}: ${oneLine(err)}`);
  }

  const address = server.getServerConn(); // "host:port", port resolved when 0 was asked
  const actualPort = Number(address.slice(address.lastIndexOf(':') + 1));
  const urlHost = host.includes(':') ? `[${host}]` : host;
  const url = `postgresql://postgres@${urlHost}:${actualPort}/postgres`;

  let stopping: Promise<void> | undefined;
  const runningServer = server;
  const runningDb = db;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      try {
        await runningServer.stop();
        // stop() detaches clients without awaiting their cleanup (a ROLLBACK of an open
        // transaction runs on PGlite): let it run before PGlite closes.
        await new Promise((resolve) => setImmediate(resolve));
        await runningDb.close();
      } finally {
        releaseLock();
      }
    })());

  return { url, stop };
}

/**
 * Creates `<dir>/keywarden.lock` holding our pid; replaces a lock left by a dead process.
 * Returns the release. The file is written aside and hard-linked into place, so nobody ever
 * reads a half-written lock. (Two processes taking over the same stale lock at the same instant
 * could still race; a crash followed by two simultaneous starts is not worth more machinery.)
 */
function acquireLock(dir: string): () => void {
  const lockPath = path.join(dir, LOCK_FILE);
  const tmpPath = `${lockPath}.${process.pid}.tmp`;
  fs.writeFileSync(tmpPath, `${process.pid}\n`);
  try {
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        fs.linkSync(tmpPath, lockPath); // atomic: fails with EEXIST when someone holds it
        return releaser(lockPath);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const holder = readPid(lockPath);
      if (holder !== undefined && isAlive(holder)) {
        const who = holder === process.pid ? `this process (pid ${holder})` : `process ${holder}`;
        throw new Error(`embedded PostgreSQL data directory ${dir} is in use by ${who} (lock file ${lockPath})`);
      }
      // Stale (dead pid) or garbage: remove it and try again.
      try {
        fs.unlinkSync(lockPath);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    }
    throw new Error(`cannot lock embedded PostgreSQL data directory ${dir}: lock file ${lockPath} keeps reappearing`);
  } finally {
    fs.rmSync(tmpPath, { force: true });
  }
}

function releaser(lockPath: string): () => void {
  let released = false;
  return () => {
    if (released) return;
    released = true;
    // Only remove our own lock: after a stale-lock takeover the file may be someone else's.
    if (readPid(lockPath) === process.pid) fs.rmSync(lockPath, { force: true });
  };
}

function readPid(lockPath: string): number | undefined {
  try {
    const pid = Number.parseInt(fs.readFileSync(lockPath, 'utf8').trim(), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function oneLine(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.split('\n').map((l) => l.trim()).filter(Boolean).join(' ');
}
