import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { makeTempDir } from '../support/test-resources';

/**
 * Issue #14, done when: the README walked top to bottom in a fresh copy of the project, every shell command
 * run as printed, with the server up where the README has it up.
 *
 * The README marks its shell blocks with an HTML comment just above the fence (invisible on GitHub):
 *   <!-- readme-test: install -->          `npm install` / `npm ci`: see below
 *   <!-- readme-test: start -->            a long-running command (npm start): started, then the walk goes on
 *                                          once it prints "GraphQL API at"
 *   <!-- readme-test: run expect=/re/ -->  run as one bash script (set -euo pipefail); exit 0, stdout matches re
 *   <!-- readme-test: stop -->             (no block) Ctrl-C in the server's terminal: SIGINT to its process group
 *   <!-- readme-test: skip (why) -->       not run, with the reason (placeholders a person fills in)
 * Every ```sh block must carry one: a new command in the README is walked, or says why not.
 *
 * What the test does that a user would not, and why:
 * - The copy is the working tree's files that git tracks or would track (`git ls-files -co --exclude-standard`),
 *   not a `git clone`: the same files, and it also walks uncommitted edits while developing.
 * - `npm install` / `npm ci` link the checkout's node_modules instead of installing from the network (minutes,
 *   and CI already ran `npm ci`). Nothing else of the checkout is shared: dist/, src/generated and .keywarden
 *   are made in the copy, so the first `npm start` builds from scratch as in a fresh clone.
 * - The server listens on a free port, not 4000 (other processes on a shared machine may hold it); commands
 *   have `127.0.0.1:4000` rewritten to that port.
 * - KEYWARDEN_TOKEN is exported with the token `npm start` printed, as the README asks the reader to.
 * - HOME is an empty folder: no ~/.aws, so the built-in sandbox is used, as on a machine without AWS set up.
 */

const ROOT = path.resolve(__dirname, '../..');
const README = path.join(ROOT, 'README.md');

interface Step {
  kind: 'install' | 'start' | 'run' | 'stop' | 'skip';
  /** The block's text (empty for stop). */
  block: string;
  expect?: RegExp;
  line: number;
}

/** The marked steps, in README order; throws for an unmarked ```sh block or a marker without its block. */
export function readmeSteps(text: string): Step[] {
  const lines = text.split('\n');
  const steps: Step[] = [];
  let pending: Omit<Step, 'block'> | null = null;
  for (let i = 0; i < lines.length; i++) {
    const marker = /^<!-- readme-test: (install|start|run|stop|skip)(?: expect=\/(.*)\/)?(?: \(.*\))? -->$/.exec(lines[i]!);
    if (marker) {
      if (pending) throw new Error(`README.md:${pending.line}: marker without its block`);
      const step = { kind: marker[1] as Step['kind'], expect: marker[2] ? new RegExp(marker[2], 'm') : undefined, line: i + 1 };
      if (step.kind === 'stop') steps.push({ ...step, block: '' });
      else pending = step;
      continue;
    }
    const fence = /^```(\w*)$/.exec(lines[i]!);
    if (!fence) continue;
    let end = i + 1;
    while (end < lines.length && lines[end] !== '```') end++;
    const block = lines.slice(i + 1, end).join('\n');
    if (pending) {
      if (pending.line !== i) throw new Error(`README.md:${pending.line}: the marker must be the line just above its block`);
      steps.push({ ...pending, block });
      pending = null;
    } else if (['sh', 'bash', 'shell', 'console'].includes(fence[1]!)) {
      throw new Error(`README.md:${i + 1}: a shell block without a readme-test marker (run, start, install, or skip with the reason)`);
    }
    i = end;
  }
  if (pending) throw new Error(`README.md:${pending.line}: marker without its block`);
  return steps;
}

let clone: string;
let home: string;
let port: number;
const env: NodeJS.ProcessEnv = {};
let server: { child: ChildProcess; output: () => string; exited: Promise<number | null> } | null = null;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

function copyProject(to: string): void {
  const files = spawnSync('git', ['ls-files', '-z', '-co', '--exclude-standard'], { cwd: ROOT, encoding: 'utf8' });
  if (files.status !== 0) throw new Error(`git ls-files failed: ${files.stderr}`);
  for (const rel of files.stdout.split('\0').filter(Boolean)) {
    const from = path.join(ROOT, rel);
    if (!fs.existsSync(from) || fs.lstatSync(from).isDirectory()) continue; // deleted in the working tree; submodule
    fs.mkdirSync(path.dirname(path.join(to, rel)), { recursive: true });
    fs.copyFileSync(from, path.join(to, rel));
    fs.chmodSync(path.join(to, rel), fs.statSync(from).mode);
  }
}

function withPort(command: string): string {
  return command.replaceAll('127.0.0.1:4000', `127.0.0.1:${port}`);
}

function runBlock(block: string, timeoutMs: number): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync('bash', ['-euo', 'pipefail', '-c', withPort(block)], { cwd: clone, env, encoding: 'utf8', timeout: timeoutMs });
  return { code: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

async function startServer(block: string, timeoutMs: number): Promise<string> {
  // Its own process group, as a terminal's foreground job: Ctrl-C reaches npm, sh and node alike.
  const child = spawn('bash', ['-c', withPort(block)], { cwd: clone, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  server = { child, output: () => out, exited };
  const started = Date.now();
  while (!/GraphQL API at http:\/\/\S+/.test(out)) {
    if (child.exitCode !== null || Date.now() - started > timeoutMs) throw new Error(`${block} did not reach "GraphQL API at" within ${timeoutMs} ms:\n${out}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return out;
}

async function stopServer(): Promise<string> {
  if (!server) throw new Error('stop: no server running');
  const { child, output, exited } = server;
  process.kill(-child.pid!, 'SIGINT');
  const timer = setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), 20_000);
  await exited;
  clearTimeout(timer);
  server = null;
  return output();
}

beforeAll(async () => {
  clone = makeTempDir('kw-readme-');
  // As root, the embedded PostgreSQL runs as the postgres user, which must reach the copy's .keywarden.
  fs.chmodSync(clone, 0o755);
  home = makeTempDir('kw-readme-home-');
  port = await freePort();
  copyProject(clone);
  Object.assign(env, { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, PORT: String(port), TERM: 'dumb' });
});

afterAll(async () => {
  if (server) await stopServer().catch(() => {});
});

it('README.md: every shell command runs as printed, in a fresh copy of the project', async () => {
  const steps = readmeSteps(fs.readFileSync(README, 'utf8'));
  expect(steps.filter((s) => s.kind === 'start').length).toBeGreaterThan(0);
  const walked: string[] = [];
  let starts = 0;
  for (const step of steps) {
    const where = `README.md:${step.line}`;
    switch (step.kind) {
      case 'skip':
        break;
      case 'install':
        for (const command of step.block.split('\n').filter((l) => l.trim())) {
          if (!/^npm (install|ci)\b/.test(command.trim())) throw new Error(`${where}: the test links node_modules for npm install/ci only, not: ${command}`);
        }
        fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(clone, 'node_modules'), 'dir');
        break;
      case 'start': {
        const out = await startServer(step.block, 150_000);
        const token = /^\s+(kw_[0-9A-Za-z]{36})$/m.exec(out)?.[1];
        if (token) env.KEYWARDEN_TOKEN = token;
        if (++starts > 1) {
          // Done when: a second `npm start` reaches "GraphQL API at" without rebuilding.
          expect({ where, rebuilt: /building/.test(out) }).toEqual({ where, rebuilt: false });
        }
        // The README's claim for the next start: the deactivated key stays so, and nothing reads as changed.
        if (starts === 2) {
          expect(out).toMatch(/^scan \S+ COMPLETED for account 123456789012 .*: PASS 8, FAIL 4, .*; 0 opened, 0 resolved;/m);
          expect(out.match(/^scan \S+ COMPLETED for account \d{12} .*; 0 opened, 0 resolved;/gm)).toHaveLength(3);
          expect(out).not.toMatch(/kw_[0-9A-Za-z]{36}/);
        }
        break;
      }
      case 'run': {
        const r = runBlock(step.block, 60_000);
        const seen = { where, code: r.code, stderr: r.code === 0 ? '' : r.stderr };
        expect(seen).toEqual({ where, code: 0, stderr: '' });
        if (step.expect) expect({ where, stdout: r.stdout }).toEqual({ where, stdout: expect.stringMatching(step.expect) });
        break;
      }
      case 'stop': {
        const out = await stopServer();
        expect({ where, shuttingDown: /shutting down/.test(out) }).toEqual({ where, shuttingDown: true });
        break;
      }
    }
    walked.push(`${step.kind}@${step.line}`);
  }
  expect(server).toBeNull();
  // The embedded PostgreSQL of the copy stopped with its owner.
  expect(spawnSync('pgrep', ['-f', `${clone}/.keywarden/pgdata`]).status).toBe(1);
}, 300_000);

describe('readmeSteps', () => {
  it('refuses a shell block without a marker, and a marker away from its block', () => {
    expect(() => readmeSteps('text\n```sh\nnpm start\n```\n')).toThrow(/without a readme-test marker/);
    expect(() => readmeSteps('<!-- readme-test: run -->\n\n```sh\nls\n```\n')).toThrow(/just above/);
    expect(readmeSteps('<!-- readme-test: run expect=/ok/ -->\n```sh\necho ok\n```\n<!-- readme-test: stop -->\n')).toEqual([
      { kind: 'run', block: 'echo ok', expect: /ok/m, line: 1 },
      { kind: 'stop', block: '', expect: undefined, line: 5 },
    ]);
  });
});
