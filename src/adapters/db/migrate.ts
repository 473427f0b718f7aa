import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/*
 * Runs the project's own Prisma CLI (6.19, schema engine on WebAssembly through prisma.config.ts)
 * in a child process: Prisma has no supported programmatic Migrate API.
 */

export interface MigrateResult {
  /** Names of the migrations this run applied (empty when none was pending). */
  applied: string[];
  /** What the CLI printed (stdout then stderr). */
  output: string;
}

export interface MigrationStatus {
  upToDate: boolean;
  /** Migrations in prisma/migrations not yet applied to the database. */
  pending: string[];
  /** Migrations recorded as failed in the database (need `prisma migrate resolve`). */
  failed: string[];
  output: string;
}

export interface MigrateOptions {
  /** The folder holding prisma.config.ts; found from this file's location when omitted. */
  projectRoot?: string;
  /** Kill the CLI after this long (a black-holed host would otherwise hang forever). Default 5 min. */
  timeoutMs?: number;
}

const SUCCESS = /All migrations have been successfully applied\.|No pending migrations to apply\./;

/** `prisma migrate deploy` against databaseUrl. Throws one line, "migration failed: ...", on any failure. */
export async function migrateDatabase(databaseUrl: string, options: MigrateOptions = {}): Promise<MigrateResult> {
  const run = await runPrisma(['migrate', 'deploy'], databaseUrl, options);
  if (run.code !== 0) throw new Error(`migration failed: ${summarizeError(run.output) ?? `prisma migrate deploy exited with ${run.code}`}`);
  // The success line is required, not just exit 0: see UNREF_BOOTSTRAP for why exit 0 alone is not proof.
  if (!SUCCESS.test(run.output)) throw new Error('migration failed: prisma migrate deploy exited without reporting success');
  return { applied: appliedMigrations(run.output), output: run.output };
}

/** `prisma migrate status`. Throws "migration status failed: ..." when the database cannot be read. */
export async function migrationStatus(databaseUrl: string, options: MigrateOptions = {}): Promise<MigrationStatus> {
  const run = await runPrisma(['migrate', 'status'], databaseUrl, options);
  const pending = listAfter(run.output, /^Following migrations? have not yet been applied:$/);
  const failed = listAfter(run.output, /^Following migrations? have failed:$/);
  const upToDate = run.code === 0 && /Database schema is up to date!/.test(run.output);
  // Exit 1 also means "pending" or "failed"; only an error without either is a real failure.
  if (!upToDate && pending.length === 0 && failed.length === 0) {
    throw new Error(`migration status failed: ${summarizeError(run.output) ?? `prisma migrate status exited with ${run.code}`}`);
  }
  return { upToDate, pending, failed, output: run.output };
}

/** The folder above `from` that holds prisma.config.ts (src/adapters/db in tests, dist/src/adapters/db when built). */
export function findProjectRoot(from: string = __dirname): string {
  for (let dir = path.resolve(from); ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'prisma.config.ts'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`cannot find prisma.config.ts in any folder above ${from}`);
  }
}

/*
 * Loaded into the CLI process with --import. Prisma 6.19's CLI only exits when its event loop is
 * empty, and two things keep it alive ~10 s after it is done (measured: 11 s per command instead
 * of ~1.5 s, on PGlite and on PostgreSQL alike):
 *  - the WebAssembly schema engine arms a 10 s setTimeout (a timeout racing its work) and its
 *    JS glue has no clearTimeout, so the timer stays armed after the work ends;
 *  - prisma.config.ts's pg pool is never ended, and an idle pg client lives for 10 s.
 * So timers armed from WebAssembly are unref'd and the pool lets the process exit when idle.
 * While work is pending a socket (DB connection, stdio) keeps the process alive; should it ever
 * exit early, the missing success line turns that into an error instead of a false success.
 */
const UNREF_BOOTSTRAP = `
import { createRequire } from 'node:module';
const realSetTimeout = globalThis.setTimeout;
globalThis.setTimeout = function (...args) {
  const timer = realSetTimeout(...args);
  if (/wasm:\\/\\//.test(new Error().stack || '')) timer.unref();
  return timer;
};
const pg = createRequire(process.cwd() + '/package.json')('pg');
const Pool = pg.Pool;
pg.Pool = class extends Pool { constructor(o) { super({ ...o, allowExitOnIdle: true }); } };
`;

interface PrismaRun {
  code: number;
  output: string;
}

function runPrisma(args: string[], databaseUrl: string, options: MigrateOptions): Promise<PrismaRun> {
  const cwd = options.projectRoot ?? findProjectRoot();
  const cli = require.resolve('prisma/build/index.js', { paths: [cwd] });
  const timeoutMs = options.timeoutMs ?? 5 * 60_000;
  const nodeArgs = ['--import', `data:text/javascript,${encodeURIComponent(UNREF_BOOTSTRAP)}`, cli, ...args];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, nodeArgs, {
      cwd,
      env: {
        ...process.env,
        DATABASE_URL: databaseUrl,
        // No update check or telemetry: this machine is offline and the output must stay parseable.
        CHECKPOINT_DISABLE: '1',
        PRISMA_HIDE_UPDATE_MESSAGE: '1',
        NO_COLOR: '1',
        FORCE_COLOR: '0',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`migration failed: cannot run the prisma CLI: ${e.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (timedOut) {
        reject(new Error(`migration failed: prisma ${args.join(' ')} did not finish within ${Math.round(timeoutMs / 1000)} s`));
        return;
      }
      const output = stripAnsi(Buffer.concat(out).toString('utf8') + Buffer.concat(err).toString('utf8'));
      resolve({ code: code ?? (signal ? 128 : 1), output });
    });
  });
}

/** Migration names from deploy's tree ("  └─ 20261127000000_init/"). */
function appliedMigrations(output: string): string[] {
  const start = output.indexOf('have been applied:');
  if (start < 0) return [];
  return output
    .slice(start)
    .split('\n')
    .map((line) => /^\s*└─ (.+)\/\s*$/.exec(line)?.[1])
    .filter((name): name is string => name !== undefined);
}

/** The lines after the header line matching `header`, up to the next blank line. */
function listAfter(output: string, header: RegExp): string[] {
  const lines = output.split('\n').map((l) => l.trim());
  const at = lines.findIndex((l) => header.test(l));
  if (at < 0) return [];
  const names: string[] = [];
  for (const line of lines.slice(at + 1)) {
    if (!line) break;
    names.push(line);
  }
  return names;
}

/**
 * One line from the CLI's error block, e.g.
 *   "Error: P3009\n\nmigrate found failed migrations ... Read more ...: https://pris.ly/..."
 *   "Error: external connector error\nError querying the database: ERROR: ...\n   0: <backtrace>"
 */
function summarizeError(output: string): string | undefined {
  const lines = output.split('\n');
  const start = lines.findIndex((l) => /^Error:/.test(l));
  if (start < 0) return undefined;
  const block: string[] = [];
  for (const raw of [lines[start].replace(/^Error:\s*/, ''), ...lines.slice(start + 1)]) {
    if (/^\s+\d+: /.test(raw)) break; // schema-engine backtrace
    const line = raw.replace(/\s*Read more about[^:]*: https?:\/\/\S+/, '').trim();
    if (line) block.push(line);
  }
  let code: string | undefined;
  if (block.length > 1 && /^P\d{4}$/.test(block[0])) code = block.shift();
  if (block.length > 1 && block[0] === 'external connector error') block.shift();
  const migration = /migration_name="([^"]+)"/.exec(output)?.[1];
  let text = block.map((l) => (/[.:!?]$/.test(l) ? l : `${l}.`)).join(' ');
  if (!text) return code;
  if (migration && !text.includes(migration)) text = `${migration}: ${text}`;
  return code ? `${text} (${code})` : text;
}

function stripAnsi(text: string): string {
  return text.replace(/\u001b\[[0-9;]*m/g, '');
}
