/** One scan now, or queued scans of the fleet's accounts worked here until they end. */
import { Command } from 'commander';
import { formatScanSummary, scanAndPrune } from '../app';
import os from 'node:os';
import type { PrismaClient, Scan } from '../generated/prisma/client';
import { CliError, openFleet, openScanEnvironment, scanOptions } from './environment';

/** `keywarden scan`: the credentials' account now and stored, or (--account, --all-accounts) queued scans worked here. */
export function registerScanCommands(program: Command): void {
  scanOptions(program.command('scan'))
    .description(
      'scan the account the credentials act on (the SDK standard environment: AWS_REGION, credentials, profiles, AWS_ENDPOINT_URL_IAM) and store the scan; ' +
        'with --account or --all-accounts, queue the scans and work the queue here until they end',
    )
    .option('--json', 'print the summary as JSON')
    .option('--account <accountId...>', 'queue a scan of these accounts (12-digit ids Keywarden knows)')
    .option('--all-accounts', 'queue a scan of every scannable account')
    .option('--no-wait', 'with --account/--all-accounts: queue and return (a worker runs them)')
    .action(async (opts) => {
      if (opts.account || opts.allAccounts) return queuedScan(opts);
      const { config, db, iam } = await openScanEnvironment(opts);
      try {
        const summary = await scanAndPrune(config, db.prisma, iam.client);
        // A failed scan is one line (its id and why), not a summary of zeros that repeats the error.
        if (opts.json || summary.status !== 'FAILED') console.log(opts.json ? JSON.stringify(summary, null, 2) : formatScanSummary(summary));
        if (summary.status === 'FAILED') throw new CliError(`scan ${summary.scanId} failed: ${summary.errors[0]?.message ?? 'unknown error'}`);
      } finally {
        await iam.close();
        await db.close();
      }
    });
}

/** `scan --account/--all-accounts`: queue, then (unless --no-wait) work the queue here until those scans end. */
async function queuedScan(opts: Record<string, unknown> & { account?: string[]; allAccounts?: boolean; wait?: boolean }): Promise<void> {
  const { config, log, db, iam } = await openScanEnvironment(opts);
  const fleet = await openFleet(config, db, iam.aws, log);
  try {
    const result = await fleet.jobs.enqueue({ accountIds: opts.account ?? null, allAccounts: !!opts.allAccounts, requestedBy: `cli:${os.userInfo().username}` });
    for (const k of result.skipped) console.log(`account ${k.accountId} not scanned: ${k.reason}`);
    if (opts.wait === false) {
      for (const scan of result.scans) console.log(`scan ${scan.id} QUEUED for account ${scan.accountId}`);
      return;
    }
    await fleet.startWorker();
    const tty = process.stdout.isTTY;
    const ended = await untilEnded(db.prisma, result.scans.map((s) => s.id), (scans) => {
      if (!tty) return;
      const done = scans.filter((s) => ENDED.has(s.status)).length;
      const users = scans.reduce((n, s) => n + ((s.progress as { usersDone?: number } | null)?.usersDone ?? 0), 0);
      process.stdout.write(`\r${progressBar(done, scans.length)} ${done}/${scans.length} accounts, ${users} users read `);
    });
    if (tty) process.stdout.write('\n');
    for (const scan of ended) console.log(formatScanRow(scan));
    const failed = ended.filter((s) => s.status === 'FAILED');
    if (failed.length > 0) throw new CliError(`${failed.length} of ${ended.length} account scans failed`);
  } finally {
    await fleet.close();
    await iam.close();
    await db.close();
  }
}

function progressBar(done: number, total: number, width = 24): string {
  const filled = total === 0 ? width : Math.round((done / total) * width);
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}]`;
}

const ENDED = new Set(['COMPLETED', 'PARTIAL', 'FAILED', 'CANCELLED']);

/** Waits until every scan has ended (polling the database), telling `onChange` of each state seen. */
export async function untilEnded(prisma: PrismaClient, ids: string[], onChange?: (scans: Scan[]) => void): Promise<Scan[]> {
  for (;;) {
    const scans = await prisma.scan.findMany({ where: { id: { in: ids } }, orderBy: { accountId: 'asc' } });
    onChange?.(scans);
    if (scans.every((s) => ENDED.has(s.status))) return scans;
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** One scan's outcome, on one line (then its errors). */
export function formatScanRow(s: Scan): string {
  const calls = (s.iamCalls ?? {}) as { total?: number };
  const duration = s.startedAt && s.finishedAt ? ` in ${((s.finishedAt.getTime() - s.startedAt.getTime()) / 1000).toFixed(2)} s` : '';
  const lines = [
    `scan ${s.id} ${s.status}${s.accountId ? ` for account ${s.accountId}` : ''}${duration}: ` +
      `PASS ${s.passCount}, FAIL ${s.failCount}, NOT_APPLICABLE ${s.notApplicableCount}, ERROR ${s.errorCount}, EXCEPTED ${s.exceptedCount}; ` +
      `${s.openedCount} opened, ${s.resolvedCount} resolved; ${calls.total ?? 0} IAM calls`,
  ];
  for (const e of ((s.errors ?? []) as { severity: string; code: string; message: string; userName?: string }[]).filter((e) => e.severity === 'error').slice(0, 5)) {
    lines.push(`  error: ${e.userName ? `${e.userName}: ` : ''}${e.code}: ${e.message}`);
  }
  return lines.join('\n');
}
