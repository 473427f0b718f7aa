import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/config';
import { CLI } from '../support/workers';

/**
 * Issue #11, "Holding up", through the built CLI: `serve --processes 2` answers from two processes behind one
 * port and aggregates their metrics; keep-alive and request timeouts are what the configuration says; a request
 * in flight when SIGTERM arrives is answered before the process exits.
 */
const TOKEN = 'serve-e2e-bootstrap-token-0123456789';
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kw-serve-'));

interface Served {
  child: ChildProcessWithoutNullStreams;
  url: URL;
  stdout(): string;
  stderr(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}
const running = new Set<ChildProcessWithoutNullStreams>();

async function serve(args: string[], env: Record<string, string>): Promise<Served> {
  if (!fs.existsSync(CLI)) throw new Error('dist/src/cli.js is missing: run `npm run build` first');
  const child = spawn(process.execPath, [CLI, 'serve', ...args], {
    cwd: tmp,
    stdio: ['pipe', 'pipe', 'pipe'],
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: tmp, KEYWARDEN_DATA_DIR: path.join(tmp, 'data'), DATABASE_URL: process.env.DATABASE_URL!,
      PORT: '0', KEYWARDEN_BOOTSTRAP_TOKEN: TOKEN, KEYWARDEN_SCAN_SCHEDULE: 'off', ...env,
    },
  });
  running.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => {
    running.delete(child);
    resolve({ code, signal });
  }));
  for (const start = Date.now(); Date.now() - start < 25_000; await new Promise((r) => setTimeout(r, 100))) {
    const m = /GraphQL API at (http:\/\/\S+)/.exec(stdout);
    if (m) return { child, url: new URL(m[1]!), stdout: () => stdout, stderr: () => stderr, exited };
    if (child.exitCode !== null) break;
  }
  child.kill('SIGKILL');
  throw new Error(`serve did not start:\n${stdout}\n${stderr}`);
}

/** One request on its own connection (no keep-alive agent reuse), with the response's headers. */
function post(url: URL, body: object, agent: http.Agent | false = false): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  const text = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), authorization: `Bearer ${TOKEN}` } }, (res) => {
      let data = '';
      res.setEncoding('utf8').on('data', (d: string) => (data += d));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: data }));
    });
    req.on('error', reject);
    req.end(text);
  });
}

/** A raw POST whose body is sent in two parts: the request is in flight between them. */
function slowPost(url: URL, query: string) {
  const body = JSON.stringify({ query });
  const socket = net.connect(Number(url.port), url.hostname);
  let answer = '';
  socket.setEncoding('utf8').on('data', (d: string) => (answer += d));
  const closed = new Promise<string>((resolve) => socket.once('close', () => resolve(answer)));
  socket.on('error', () => undefined);
  socket.write(
    `POST ${url.pathname} HTTP/1.1\r\nHost: ${url.host}\r\nContent-Type: application/json\r\nAuthorization: Bearer ${TOKEN}\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body.slice(0, 10)}`,
  );
  return { finish: () => socket.write(body.slice(10)), closed, answer: () => answer };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

afterAll(() => {
  for (const child of running) child.kill('SIGKILL');
});

describe('HTTP settings', () => {
  it('default to a keep-alive above ALB\'s 60 s, headers above it, and refuse settings that contradict each other', () => {
    const c = loadConfig({});
    expect([c.httpKeepAliveSeconds, c.httpHeadersTimeoutSeconds, c.httpRequestTimeoutSeconds, c.shutdownGraceSeconds]).toEqual([65, 66, 90, 10]);
    expect(() => loadConfig({ KEYWARDEN_HTTP_KEEP_ALIVE_SECONDS: '70' })).toThrow(/KEYWARDEN_HTTP_HEADERS_TIMEOUT_SECONDS: must be above KEYWARDEN_HTTP_KEEP_ALIVE_SECONDS \(70\)/);
    expect(() => loadConfig({ KEYWARDEN_HTTP_HEADERS_TIMEOUT_SECONDS: '100' })).toThrow(/KEYWARDEN_HTTP_REQUEST_TIMEOUT_SECONDS: must be at least/);
    expect(() => loadConfig({ KEYWARDEN_HTTP_KEEP_ALIVE_SECONDS: '0' })).toThrow(/invalid KEYWARDEN_HTTP_KEEP_ALIVE_SECONDS/);
    expect(loadConfig({ KEYWARDEN_PROCESSES: '3' }).processes).toBe(3);
  });
});

describe('serve --processes 2', () => {
  let served: Served;
  beforeAll(async () => {
    served = await serve(['--processes', '2'], {
      KEYWARDEN_HTTP_KEEP_ALIVE_SECONDS: '70', KEYWARDEN_HTTP_HEADERS_TIMEOUT_SECONDS: '75', KEYWARDEN_HTTP_REQUEST_TIMEOUT_SECONDS: '80', KEYWARDEN_METRICS_PORT: '0',
      // Metrics on an interface of their own (another loopback address), the API on HOST.
      KEYWARDEN_METRICS_HOST: '127.0.0.2',
      // Operation names are labelled only when known: this test's own is configured, as an operator would.
      KEYWARDEN_METRICS_OPERATIONS: 'Who',
    });
  }, 30_000);
  afterAll(async () => {
    if (served?.child.exitCode === null) served.child.kill('SIGKILL');
  });

  it('answers from both processes behind one port, with the configured keep-alive', async () => {
    const pids = /API processes \(pids (\d+), (\d+)\)/.exec(served.stdout())!.slice(1).map(Number);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const first = await post(served.url, { query: 'query Who { __typename }' }, agent);
    expect(first.status).toBe(200);
    expect(first.headers['keep-alive']).toBe('timeout=70');
    agent.destroy();
    // The primary hands connections round-robin: fresh connections reach both.
    for (let i = 0; i < 8; i++) expect((await post(served.url, { query: 'query Who { __typename }' })).status).toBe(200);
    const logged = served.stderr().split('\n').filter((l) => l.includes('"graphql request"')).map((l) => JSON.parse(l) as { pid: number; operationName: string });
    const answeredBy = new Set(logged.filter((l) => l.operationName === 'Who').map((l) => l.pid));
    expect([...answeredBy].sort()).toEqual([...pids].sort());
  });

  it('serves the whole cluster\'s metrics: on the metrics port (on KEYWARDEN_METRICS_HOST) without a token, on the API port with one', async () => {
    const metricsUrl = /metrics at (http:\/\/\S+)/.exec(served.stdout())![1]!;
    expect(new URL(metricsUrl).hostname).toBe('127.0.0.2');
    expect(new URL(served.url).hostname).toBe('127.0.0.1');
    const count = (text: string) =>
      text.split('\n').filter((l) => l.startsWith('keywarden_graphql_request_duration_seconds_count{operation="Who"')).reduce((n, l) => n + Number(l.split(' ').pop()), 0);
    const open = await fetch(metricsUrl);
    expect(open.status).toBe(200);
    expect(count(await open.text())).toBe(9); // both processes' requests, summed
    const api = await fetch(new URL('/metrics', served.url), { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(api.status).toBe(200);
    expect(count(await api.text())).toBe(9);
    expect((await fetch(new URL('/metrics', served.url))).status).toBe(401);
  });

  it('stops on SIGTERM with exit code 0, its API processes with it', async () => {
    const pids = /API processes \(pids (\d+), (\d+)\)/.exec(served.stdout())!.slice(1).map(Number);
    served.child.kill('SIGTERM');
    expect(await served.exited).toEqual({ code: 0, signal: null });
    for (const pid of pids) expect(() => process.kill(pid, 0)).toThrow();
  });
});

describe('serve --processes 1 with short timeouts', () => {
  it('cuts a client that never finishes its request (408), answers a request in flight at SIGTERM, then exits 0', async () => {
    const served = await serve(['--processes', '1'], { KEYWARDEN_HTTP_KEEP_ALIVE_SECONDS: '1', KEYWARDEN_HTTP_HEADERS_TIMEOUT_SECONDS: '2', KEYWARDEN_HTTP_REQUEST_TIMEOUT_SECONDS: '2' });
    try {
      const stalled = slowPost(served.url, '{ __typename }');
      const started = Date.now();
      expect(await stalled.closed).toMatch(/^HTTP\/1\.1 408 /);
      expect(Date.now() - started).toBeLessThan(5_000);

      const inFlight = slowPost(served.url, 'query InFlight { findings { totalCount } }');
      await sleep(300);
      served.child.kill('SIGTERM');
      await sleep(300);
      // No longer accepting...
      await expect(fetch(served.url, { method: 'POST' })).rejects.toThrow();
      // ...but the request already in flight is answered.
      inFlight.finish();
      const answer = await inFlight.closed;
      expect(answer).toMatch(/^HTTP\/1\.1 200 /);
      expect(answer).toContain('{"data":{"findings":{"totalCount":');
      expect(await served.exited).toEqual({ code: 0, signal: null });
    } finally {
      if (served.child.exitCode === null) served.child.kill('SIGKILL');
    }
  });
});
