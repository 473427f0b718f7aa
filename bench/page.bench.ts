/**
 * npm run bench:page — the posture page's first load, as a person sees it, with the sample organization:
 * `keywarden start` (built-in sandbox: three accounts, one scan each) on a throwaway database, then headless
 * Chromium (Debian's chromium) loads / with a token already in sessionStorage, cold (a new browser context each
 * time: empty cache). Reports bytes transferred (as sent, gzipped where the server compresses: the page's files
 * are, /graphql's answers are not yet) and the time from navigation start to the trend chart drawn
 * (performance.mark in web/src/views/trend.view.ts). Targets: < 300 kB gzipped.
 *
 * Knobs: BENCH_PAGE_LOADS=7 (cold loads; the median is reported).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { withDatabase } from './database';
import { launchChromium } from './chromium';

const LOADS = Number(process.env.BENCH_PAGE_LOADS ?? 7);
const TOKEN = 'bench-page-bootstrap-token-0123456789abcdef';
const TARGET_BYTES = 300_000;

interface Load {
  staticBytes: number;
  apiBytes: number;
  decodedStaticBytes: number;
  requests: number;
  chartMs: number;
}

async function startKeywarden(databaseUrl: string): Promise<{ base: string; process: ChildProcess }> {
  const child = spawn(process.execPath, [path.join(__dirname, '..', 'src', 'cli.js'), 'start', '--port', '0'], {
    env: { ...process.env, DATABASE_URL: databaseUrl, KEYWARDEN_BOOTSTRAP_TOKEN: TOKEN, KEYWARDEN_LOG_LEVEL: 'warn', KEYWARDEN_SCAN_SCHEDULE: 'off' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`keywarden start did not serve within 120 s:\n${out}`)), 120_000);
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      const m = /GraphQL API at (http:\/\/\S+)\/graphql/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ base: m[1]!, process: child });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`keywarden start exited with ${code}:\n${out}`)));
  });
}

async function main(): Promise<void> {
  await withDatabase('keywarden_bench_page', async (url) => {
    const server = await startKeywarden(url);
    const chromium = await launchChromium();
    const loads: Load[] = [];
    try {
      for (let i = 0; i < LOADS; i++) {
        const context = await chromium.browser.createBrowserContext(); // cold: its own empty cache
        const page = await context.newPage();
        await page.setViewport({ width: 1280, height: 900 });
        await page.evaluateOnNewDocument(`sessionStorage.setItem('keywarden.token', ${JSON.stringify(TOKEN)})`);
        const cdp = await page.createCDPSession();
        await cdp.send('Network.enable');
        const urls = new Map<string, string>();
        const load: Load = { staticBytes: 0, apiBytes: 0, decodedStaticBytes: 0, requests: 0, chartMs: 0 };
        cdp.on('Network.requestWillBeSent', (e) => urls.set(e.requestId, e.request.url));
        cdp.on('Network.dataReceived', (e) => {
          if (!urls.get(e.requestId)?.endsWith('/graphql')) load.decodedStaticBytes += e.dataLength;
        });
        cdp.on('Network.loadingFinished', (e) => {
          load.requests++;
          if (urls.get(e.requestId)?.endsWith('/graphql')) load.apiBytes += e.encodedDataLength;
          else load.staticBytes += e.encodedDataLength;
        });
        await page.goto(`${server.base}/`, { waitUntil: 'load' });
        await page.waitForFunction(`performance.getEntriesByName('keywarden:chart').length > 0`, { timeout: 30_000 });
        load.chartMs = (await page.evaluate(`performance.getEntriesByName('keywarden:chart')[0].startTime`)) as number;
        await page.waitForNetworkIdle({ idleTime: 300 }); // the other sections' requests, for the byte count
        loads.push(load);
        await context.close();
      }
    } finally {
      await chromium.close();
      server.process.kill('SIGTERM');
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const kB = (n: number) => `${(n / 1000).toFixed(1)} kB`;
    const first = loads[0]!;
    console.log(`posture page, first load with the sample organization (${LOADS} cold loads in headless Chromium; median where it varies)`);
    console.log(`  page files (HTML, JS, CSS, icon), as transferred (gzip): ${kB(first.staticBytes)}  (${kB(first.decodedStaticBytes)} decoded)`);
    console.log(`  GraphQL answers for the first view (not compressed by the server):  ${kB(first.apiBytes)}`);
    console.log(`  total transferred: ${kB(first.staticBytes + first.apiBytes)} in ${first.requests} requests   target < ${kB(TARGET_BYTES)}: ${first.staticBytes + first.apiBytes < TARGET_BYTES ? 'met' : 'MISSED'}`);
    console.log(`  time to the trend chart drawn (navigation start to performance.mark): median ${median(loads.map((l) => l.chartMs)).toFixed(0)} ms, min ${Math.min(...loads.map((l) => l.chartMs)).toFixed(0)} ms, max ${Math.max(...loads.map((l) => l.chartMs)).toFixed(0)} ms`);
    if (first.staticBytes + first.apiBytes >= TARGET_BYTES) process.exitCode = 1;
  });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
