/**
 * npm run bench:scan — a 10,000-user sandbox account with 25 ms per IAM call, scanned through the
 * credential-report path and through the pure per-user API path in the same run.
 * Prints IAM calls, wall time and peak memory of each, their ratios, and the targets.
 * Storage goes to DATABASE_URL if set, else a throwaway database on 127.0.0.1:5432.
 */
import type { ScanSummary } from '../src/services/scan.service';
import { withDatabase } from './database';
import { child, nextMessage } from './process';
import { reportTargets } from './report';

const USERS = Number(process.env.BENCH_USERS ?? 10_000);
const LATENCY_MS = Number(process.env.BENCH_LATENCY_MS ?? 25);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const TARGET_SECONDS = 15;
const TARGET_MB = 300;

interface ScanResult {
  summary: ScanSummary;
  wallMs: number;
  peakRssBytes: number;
}

async function scan(url: string, iamUrl: string, mode: string): Promise<ScanResult> {
  await fetch(`${iamUrl}/_sandbox/calls/reset`, { method: 'POST' });
  const proc = child('scan.process.js', { DATABASE_URL: url, BENCH_IAM_URL: iamUrl, BENCH_MODE: mode, BENCH_CONCURRENCY: String(CONCURRENCY) });
  const result = await nextMessage<ScanResult & { error?: string }>(proc);
  proc.kill();
  if (result.error) throw new Error(`${mode} scan crashed: ${result.error}`);
  return result;
}

const mb = (bytes: number) => bytes / 1024 / 1024;

async function main(): Promise<void> {
  const sandbox = child('sandbox.process.js');
  sandbox.send({ users: USERS, seed: 42, latencyMs: LATENCY_MS });
  const { url: iamUrl, categories } = await nextMessage<{ url: string; categories: Record<string, number> }>(sandbox);
  try {
    const consoleWithActiveKeys = categories['console-setup-key'] + categories['console-later-key-used'];
    const budget = 10 + 2 * consoleWithActiveKeys;
    console.log(`account: ${USERS} users, ${LATENCY_MS} ms per IAM call, concurrency ${CONCURRENCY}`);
    console.log(`  ${JSON.stringify(categories)}`);
    console.log(`  console users with active keys: ${consoleWithActiveKeys} -> IAM call budget 10 + 2 x ${consoleWithActiveKeys} = ${budget}\n`);

    const [report, perUser] = await withDatabase('keywarden_bench', async (url) => [
      await scan(url, iamUrl, 'CREDENTIAL_REPORT'),
      await scan(url, iamUrl, 'PER_USER_API'),
    ]);

    const row = (label: string, r: ScanResult) =>
      `${label.padEnd(18)} ${String(r.summary.iamCalls.total).padStart(9)} ${(r.wallMs / 1000).toFixed(2).padStart(9)} ${mb(r.peakRssBytes).toFixed(0).padStart(12)}   ${r.summary.status} PASS ${r.summary.counts.pass} FAIL ${r.summary.counts.fail} N/A ${r.summary.counts.notApplicable} ERROR ${r.summary.counts.error}`;
    console.log(`${'path'.padEnd(18)} ${'IAM calls'.padStart(9)} ${'wall s'.padStart(9)} ${'peak RSS MB'.padStart(12)}   result`);
    console.log(row('credential report', report));
    console.log(row('per-user API', perUser));
    console.log(`${'ratio per-user/report'.padEnd(18)} ${(perUser.summary.iamCalls.total / report.summary.iamCalls.total).toFixed(1).padStart(6)}x ${(perUser.wallMs / report.wallMs).toFixed(1).padStart(8)}x ${(perUser.peakRssBytes / report.peakRssBytes).toFixed(2).padStart(11)}x`);
    console.log(`\ncredential-report path calls by operation: ${JSON.stringify(report.summary.iamCalls.byOperation)}`);

    const checks: [string, boolean][] = [
      [`IAM calls ${report.summary.iamCalls.total} <= ${budget}`, report.summary.iamCalls.total <= budget],
      [`wall ${(report.wallMs / 1000).toFixed(2)} s < ${TARGET_SECONDS} s`, report.wallMs < TARGET_SECONDS * 1000],
      [`peak RSS ${mb(report.peakRssBytes).toFixed(0)} MB < ${TARGET_MB} MB`, mb(report.peakRssBytes) < TARGET_MB],
      ['same findings from both paths', report.summary.counts.fail === perUser.summary.counts.fail && report.summary.counts.pass === perUser.summary.counts.pass],
    ];
    console.log('\ntargets (credential-report path):');
    reportTargets(checks);
  } finally {
    sandbox.disconnect();
  }
}

main().catch((err) => {
  console.error(`bench:scan: ${err.message}`);
  process.exit(1);
});
