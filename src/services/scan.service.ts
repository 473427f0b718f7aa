import { collectInventory, collectUsers, type CollectOptions } from '../adapters/iam/inventory.collector';
import { errorCode, errorMessage, type CountingIamClient, type IamCallStats } from '../adapters/iam/iam-client';
import type { ScanStore } from '../adapters/store/scan.store';
import { evaluateNoAccessKeysAtSetup, type ControlSettings } from '../controls/no-access-keys-at-setup/control';
import { applyExceptions } from '../domain/exceptions';
import type { StatusCounts } from '../domain/finding';
import type { AccountInventory, ScanError } from '../domain/inventory';
import type { Resolution } from '../domain/lifecycle';
import type { PrismaClient } from '../generated/prisma/client';

export interface ScanRequest {
  collect: CollectOptions;
  control: ControlSettings;
}

export interface ScanSummary {
  scanId: string;
  accountId: string | null;
  status: 'COMPLETED' | 'PARTIAL' | 'FAILED';
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
  await prisma.scan.updateMany({
    where: { id: { in: [...running] }, status: 'RUNNING' },
    data: { status: 'FAILED', finishedAt: new Date(), errors: [{ severity: 'error', scope: 'ACCOUNT', operation: 'scan', code: 'Interrupted', message: 'the server shut down before the scan finished' }] },
  });
  running.clear();
}

/** Collect once, evaluate purely, store atomically. A scan that cannot finish is recorded as FAILED. */
export class ScanService {
  private readonly now: () => Date;

  constructor(private readonly deps: ScanServiceDeps) {
    this.now = deps.now ?? (() => new Date());
  }

  /** A full scan of the account. */
  run(request: ScanRequest): Promise<ScanSummary> {
    const { setupWindowSeconds, gracePeriodSeconds } = request.control;
    return this.execute(this.deps.iam, request, {}, () => collectInventory(this.deps.iam, { ...request.collect, setupWindowSeconds, gracePeriodSeconds, now: this.now }));
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

  private async execute(
    iam: CountingIamClient,
    request: ScanRequest,
    target: { scope?: string[]; resolution?: Resolution },
    collect: () => Promise<AccountInventory>,
  ): Promise<ScanSummary> {
    const startedAt = this.now();
    const callsBefore = iam.stats();
    const callsSince = (): IamCallStats => diffStats(iam.stats(), callsBefore);
    const settings = { ...request.control, mode: request.collect.mode, concurrency: request.collect.concurrency ?? null, ...target };
    const scanId = await this.deps.store.startScan(request.collect.mode, startedAt, settings);
    running.add(scanId);

    let accountId: string | null = null;
    try {
      const inventory = await collect();
      accountId = inventory.accountId;
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

function diffStats(after: IamCallStats, before: IamCallStats): IamCallStats {
  const byOperation: Record<string, number> = {};
  for (const [op, n] of Object.entries(after.byOperation)) {
    const d = n - (before.byOperation[op] ?? 0);
    if (d > 0) byOperation[op] = d;
  }
  return { total: after.total - before.total, byOperation };
}
