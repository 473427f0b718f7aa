import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/** `keywarden worker` processes (the BUILT CLI) for tests, killed by killAll. */
export const CLI = path.resolve(__dirname, '../../dist/src/cli.js');

export type WorkerProcess = ChildProcessWithoutNullStreams & { output: () => string };

const children = new Set<ChildProcessWithoutNullStreams>();

/** Starts a worker in `cwd` with a minimal environment (nothing of the developer's shell) plus `env`. */
export function startWorker(cwd: string, concurrency: number, env: Record<string, string>): WorkerProcess {
  if (!fs.existsSync(CLI)) throw new Error('dist/src/cli.js is missing: run `npm run build` first');
  const child = spawn(process.execPath, [CLI, 'worker', '--concurrency', String(concurrency)], {
    cwd,
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: cwd, KEYWARDEN_DATA_DIR: path.join(cwd, 'data'), DATABASE_URL: process.env.DATABASE_URL!, KEYWARDEN_SCAN_SCHEDULE: 'off', ...env },
  });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (output += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (output += d));
  children.add(child);
  child.once('exit', () => children.delete(child));
  return Object.assign(child, { output: () => output });
}

export function killAllWorkers(): void {
  for (const c of children) c.kill('SIGKILL');
}

/** Polls `probe` until it gives a value; fails naming `what` after timeoutMs. */
export async function until<T>(what: string, probe: () => Promise<T | null | undefined | false>, timeoutMs = 40_000): Promise<T> {
  for (const start = Date.now(); Date.now() - start < timeoutMs; await new Promise((r) => setTimeout(r, 200))) {
    const value = await probe();
    if (value) return value;
  }
  throw new Error(`timed out waiting for ${what}`);
}
