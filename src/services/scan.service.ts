import { AccountMismatchError, collectInventory, collectUsers, type CollectOptions } from '../adapters/iam/inventory.collector';
import { errorCode, errorMessage, type CountingIamClient, type IamCallStats } from '../adapters/iam/iam-client';
import { appendChanges } from '../adapters/store/change-log';
import { scanFailedChange, type ScanStore } from '../adapters/store/scan.store';
import { evaluateNoAccessKeysAtSetup, type ControlSettings } from '../controls/no-access-keys-at-setup/control';
import { applyExceptions } from '../domain/exceptions';
import type { StatusCounts } from '../domain/finding';
import type { AccountInventory, ScanError } from '../domain/inventory';
import type { Resolution } from '../domain/lifecycle';
import type { PrismaClient } from '../generated/prisma/client';
import { observeScan } from '../metrics/metrics';

export interface ScanRequest {
  collect: CollectOptions;
  control: ControlSettings;
}

export interface ScanSummary {
  scanId: string;
  accountId: string | null;
  /** CANCELLED: a queued scan cancelled before a worker began it (nothing was read). */
  status: 'COMPLETED' | 'PARTIAL' | 'FAILED' | 'CANCELLED';
  users: number;
  /** The account's state after this scan (PARTIAL scans carry what they could not read over). */
  counts: StatusCounts;
  /** Findings this scan opened (or reopened) and resolved. */
  opened: number;
  resolved: number;
  /** History rows written: zero for an unchanged account. */
  versionsWritten: number;
  durationMs: number;
  iamCalls: IamCallStats;
  errors: ScanError[];
}

/** Where a running scan is, for Scan.progress: written at most once a second. */
export interface ScanProgress {
  phase: 'REPORT' | 'LISTING_USERS' | 'READING_USERS' | 'STORING';
  usersTotal: number | null;
  usersDone: number;
}

/** A queued scan a worker runs: its row exists (QUEUED), and what it reads must be this account. */
export interface QueuedScan {
  scanId: string;
  accountId: string;
}

export interface ScanServiceDeps {
  store: ScanStore;
  iam: CountingIamClient;
  now?: () => Date;
}

// Scans this process is running, so a shutdown can say which ones it interrupted.
const running = new Set<string>();

/** At shutdown: scans this process started and could not finish are FAILED, not left RUNNING. */
export async function interruptRunningScans(prisma: PrismaClient): Promise<void> {
  if (running.size === 0) return;
  const errors = [{ severity: 'error', scope: 'ACCOUNT', operation: 'scan', code: 'Interrupted', message: 'the server shut down before the scan finished' }];
  const finishedAt = new Date();
  await prisma.$transaction(async (tx) => {
    const failed = await tx.scan.updateManyAndReturn({
      where: { id: { in: [...running] }, status: 'RUNNING' },
      data: { status: 'FAILED', finishedAt, errors },
      select: { id: true, accountId: true },
    });
    // A scan that had not learnt its account yet has nobody to tell: no event.
    await appendChanges(tx, failed.filter((s) => s.accountId).map((s) => scanFailedChange(s.id, s.accountId!, errors.length, finishedAt)));
  });
  running.clear();
}

/** Collect once, evaluate purely, store atomically. A scan that cannot finish is recorded as FAILED. */
export class ScanService {
  private readonly now: () => Date;

  constructor(private readonly deps: ScanServiceDeps) {
    this.now = deps.now ?? (() => new Date());
  }

  /** A full scan of the account the IAM client acts in. */
  run(request: ScanRequest): Promise<ScanSummary> {
    return this.runFull(request, null);
  }

  /** A full scan a worker took from the queue: it runs as the queued row, which reports progress. */
  runQueued(queued: QueuedScan, request: ScanRequest): Promise<ScanSummary> {
    return this.runFull(request, queued);
  }

  private runFull(request: ScanRequest, queued: QueuedScan | null): Promise<ScanSummary> {
    const { setupWindowSeconds, gracePeriodSeconds } = request.control;
    return this.execute(this.deps.iam, request, { queued }, (onProgress) =>
      collectInventory(this.deps.iam, {
        ...request.collect, setupWindowSeconds, gracePeriodSeconds, now: this.now, onProgress,
        liveReadsSince: (accountId, since) => this.deps.store.liveReadsSince(accountId, since),
      }),
    );
  }

  /**
   * A targeted scan of a few users, read live right after a remediation (or an exception) so their
   * findings resolve or reopen at once; the rest of the account is carried over. `iam` acts in the account
   * (AccountsService.iamClientFor); default: this service's client.
   */
  runForUsers(accountId: string, userNames: string[], request: ScanRequest, resolution: Resolution = 'PASSED', iam: CountingIamClient = this.deps.iam): Promise<ScanSummary> {
    const scope = new Set(userNames);
    return this.execute(iam, { ...request, collect: { ...request.collect, mode: 'PER_USER_API' } }, { scope: [...scope], resolution }, () =>
      collectUsers(iam, accountId, [...scope], { ...request.collect, now: this.now }),
    );
  }

  private async execute(...args: Parameters<ScanService['executeUnobserved']>): Promise<ScanSummary> {
    const summary = await this.executeUnobserved(...args);
    observeScan(summary.status, summary.durationMs);
    return summary;
  }

  private async executeUnobserved(
    iam: CountingIamClient,
    request: ScanRequest,
    { queued = null, ...target }: { scope?: string[]; resolution?: Resolution; queued?: QueuedScan | null },
    collect: (onProgress: (p: ScanProgress) => void) => Promise<AccountInventory>,
  ): Promise<ScanSummary> {
    const startedAt = this.now();
    const callsBefore = iam.stats();
    const callsSince = (): IamCallStats => diffStats(iam.stats(), callsBefore);
    const settings = { ...request.control, mode: request.collect.mode, concurrency: request.collect.concurrency ?? null, ...target };
    let scanId: string;
    if (queued) {
      scanId = queued.scanId;
      // Cancelled (or taken by another worker) since it was queued: nothing to do.
      if (!(await this.deps.store.beginQueuedScan(scanId, startedAt, settings))) return cancelledSummary(queued);
    } else {
      scanId = await this.deps.store.startScan(request.collect.mode, startedAt, settings);
    }
    running.add(scanId);
    const progress = queued ? throttledProgress((p) => this.deps.store.setProgress(scanId, p)) : () => undefined;

    let accountId: string | null = queued?.accountId ?? null;
    try {
      const inventory = await collect(progress);
      if (queued && inventory.accountId !== queued.accountId) {
        throw new AccountMismatchError(`IAM answered for account ${inventory.accountId}, not ${queued.accountId}: nothing is stored`);
      }
      accountId = inventory.accountId;
      progress({ phase: 'STORING', usersTotal: inventory.users.length, usersDone: inventory.users.length }, true);
      const evaluated = evaluateNoAccessKeysAtSetup(inventory, { now: inventory.collectedAt, settings: request.control });
      const findings = applyExceptions(evaluated, await this.deps.store.exceptionsOf(inventory.accountId), inventory.collectedAt);
      const partial = findings.some((f) => f.status === 'ERROR') || inventory.errors.some((e) => e.severity === 'error');
      const status = partial ? 'PARTIAL' : 'COMPLETED';
      const finishedAt = this.now();
      const iamCalls = callsSince();
      const { counts, opened, resolved, versionsWritten } = await this.deps.store.completeScan({
        scanId, inventory, findings, status, iamCalls, finishedAt,
        scope: target.scope ? new Set(target.scope) : undefined,
        resolution: target.resolution,
      });
      return {
        opened, resolved, versionsWritten,
        scanId, accountId, status, users: inventory.users.length, counts,
        durationMs: finishedAt.getTime() - startedAt.getTime(), iamCalls, errors: inventory.errors,
      };
    } catch (err) {
      const errors: ScanError[] = [{ severity: 'error', scope: 'ACCOUNT', operation: 'scan', code: errorCode(err), message: errorMessage(err) }];
      const finishedAt = this.now();
      const iamCalls = callsSince();
      try {
        await this.deps.store.failScan(scanId, errors, iamCalls, accountId, finishedAt);
      } catch {
        // The database itself is what failed: the original error is the one worth reporting.
      }
      return {
        scanId, accountId, status: 'FAILED', users: 0, counts: { pass: 0, fail: 0, notApplicable: 0, error: 0, excepted: 0 }, opened: 0, resolved: 0, versionsWritten: 0,
        durationMs: finishedAt.getTime() - startedAt.getTime(), iamCalls, errors,
      };
    } finally {
      running.delete(scanId);
    }
  }
}

function cancelledSummary(queued: QueuedScan): ScanSummary {
  return {
    scanId: queued.scanId, accountId: queued.accountId, status: 'CANCELLED', users: 0, counts: { pass: 0, fail: 0, notApplicable: 0, error: 0, excepted: 0 },
    opened: 0, resolved: 0, versionsWritten: 0, durationMs: 0, iamCalls: { total: 0, byOperation: {} }, errors: [],
  };
}

/** Progress goes to the database at each new phase and at most once a second within one; a failed write is not the scan's failure. */
function throttledProgress(write: (p: ScanProgress) => Promise<void>): (p: ScanProgress, force?: boolean) => void {
  let last = 0;
  let phase: ScanProgress['phase'] | null = null;
  return (p, force = false) => {
    const now = Date.now();
    if (!force && p.phase === phase && now - last < 1000) return;
    last = now;
    phase = p.phase;
    write(p).catch(() => undefined);
  };
}

function diffStats(after: IamCallStats, before: IamCallStats): IamCallStats {
  const byOperation: Record<string, number> = {};
  for (const [op, n] of Object.entries(after.byOperation)) {
    const d = n - (before.byOperation[op] ?? 0);
    if (d > 0) byOperation[op] = d;
  }
  return { total: after.total - before.total, byOperation };
}
