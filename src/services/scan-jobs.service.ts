import { createHash, randomUUID } from 'node:crypto';
import type PgBoss from 'pg-boss';
import type { Logger } from 'pino';
import type { CountingIamClient } from '../adapters/iam/iam-client';
import { errorCode, errorMessage } from '../adapters/iam/iam-client';
import type { AccountScanJob, JobQueue } from '../adapters/queue/job-queue';
import { appendChanges } from '../adapters/store/change-log';
import { ScanStore, scanFailedChange } from '../adapters/store/scan.store';
import type { InventorySource, ScanError } from '../domain/inventory';
import type { PrismaClient, Scan } from '../generated/prisma/client';
import { AccountMismatchError, AssumeRoleDeniedError, UnknownAccountError } from './accounts.service';
import { InvalidInputError } from './errors';
import { afterScan } from './full-scan';
import type { RetentionService } from './retention.service';
import { ScanService, type ScanRequest, type ScanSummary } from './scan.service';

/** What the scan queue needs to know of accounts (AccountsService provides it). */
export interface ScanAccounts {
  /** The account the base credentials act on: scanned directly. */
  baseAccountId(): Promise<string>;
  /** Null for an account Keywarden does not know; `skipReason` says why a known one is not scanned. */
  get(accountId: string): Promise<{ accountId: string; skipReason: string | null } | null>;
  /** Every account an org-wide scan covers. */
  scannable(): Promise<{ accountId: string }[]>;
  /** An IAM client acting in the account (AssumeRole for members). Throws AssumeRoleDeniedError when refused. */
  iamClientFor(accountId: string, sessionName: string): Promise<CountingIamClient>;
}

export interface EnqueueRequest {
  /** Null: the base credentials' own account (unless allAccounts). */
  accountIds?: string[] | null;
  allAccounts?: boolean | null;
  mode?: InventorySource | null;
  requestedBy: string;
  /** The schedule's runs: an account whose scan is queued or running is left to it, not given another. */
  skipBusy?: boolean;
}

export interface EnqueueResult {
  runId: string;
  /** One per account asked for: QUEUED, or the scan already waiting for it (never two queued). */
  scans: Scan[];
  /** Accounts known but not scanned (suspended, left the organization), with the reason. */
  skipped: { accountId: string; reason: string }[];
}

export interface ScanJobsDeps {
  prisma: PrismaClient;
  queue: JobQueue;
  accounts: ScanAccounts;
  scanRequest: ScanRequest;
  retention?: { service: RetentionService; days: number | null | undefined };
  logger?: Logger;
  now?: () => Date;
}

/** A startScan that cannot be queued as asked: nothing was enqueued. `code` is the userError's. */
export class ScanInputError extends InvalidInputError {
  override name = 'ScanInputError';
  constructor(
    readonly code: 'INVALID_INPUT' | 'UNKNOWN_ACCOUNT' | 'IDEMPOTENCY_KEY_REUSED',
    message: string,
    field: string,
  ) {
    super(message, field);
  }
}

const MAX_IDEMPOTENCY_KEY = 200;

/** The scan failed in a way the next attempt may not: the job is retried (with backoff). */
class TransientScanFailure extends Error {
  override name = 'TransientScanFailure';
}

// Failures worth another attempt: throttling past the SDK's retries, IAM's 5xx, the network, the database.
// Prisma's errors carry their code (P1017) apart from the message, so its messages for a lost database are listed.
const TRANSIENT = /Throttl|TooManyRequests|RequestLimitExceeded|ServiceFailure|ServiceUnavailable|InternalError|TimeoutError|ECONNRESET|ECONNREFUSED|ETIMEDOUT|EAI_AGAIN|socket hang up|DatabaseUnavailable|Can't reach database|P1001|P1017|Connection terminated|Server has closed the connection|Timed out fetching a new connection/i;
const ACCOUNT_ID = /^\d{12}$/;
export const ASSUME_ROLE_DENIED = 'ASSUME_ROLE_DENIED';
export const INTERRUPTED = 'INTERRUPTED';

/**
 * Scans as jobs: `enqueue` records QUEUED scans and sends one job per account to the queue; any number of
 * workers (`keywarden worker`, `serve --worker`, `start`) run them through `runJob`. One account is scanned
 * by at most one worker at a time (the queue's stately policy keyed by account, and the store's per-account
 * lock behind it). A worker that dies mid-scan leaves its scan RUNNING; when the queue hands the job out
 * again, that scan is marked FAILED (INTERRUPTED) and a new one runs.
 */
export class ScanJobsService {
  private readonly store: ScanStore;
  private readonly now: () => Date;

  constructor(private readonly deps: ScanJobsDeps) {
    this.store = new ScanStore(deps.prisma);
    this.now = deps.now ?? (() => new Date());
  }

  /**
   * enqueue, once per (caller, idempotency key): the same key and input return the same scans; the same key
   * with another input is refused (IDEMPOTENCY_KEY_REUSED).
   */
  async enqueueIdempotent(request: EnqueueRequest, idempotencyKey?: string | null): Promise<EnqueueResult> {
    if (idempotencyKey == null) return this.enqueue(request);
    if (idempotencyKey.length < 1 || idempotencyKey.length > MAX_IDEMPOTENCY_KEY) {
      throw new ScanInputError('INVALID_INPUT', `idempotencyKey must be 1-${MAX_IDEMPOTENCY_KEY} characters`, 'idempotencyKey');
    }
    const { prisma } = this.deps;
    const id = { principal_key: { principal: request.requestedBy, key: idempotencyKey } };
    const requestHash = createHash('sha256')
      .update(JSON.stringify([[...new Set(request.accountIds ?? [])].sort(), request.accountIds == null, !!request.allAccounts, request.mode ?? null]))
      .digest('hex');
    const created = await prisma.idempotencyRecord.createMany({
      data: [{ principal: request.requestedBy, key: idempotencyKey, operation: 'startScan', requestHash }],
      skipDuplicates: true,
    });
    if (created.count === 0) {
      for (let waited = 0; ; waited += 200) {
        const record = await prisma.idempotencyRecord.findUniqueOrThrow({ where: id });
        if (record.operation !== 'startScan' || record.requestHash !== requestHash) {
          throw new ScanInputError('IDEMPOTENCY_KEY_REUSED', `idempotencyKey ${idempotencyKey} was already used for a different request; use a new key`, 'idempotencyKey');
        }
        if (record.response) {
          const answer = record.response as unknown as { runId: string; scanIds: string[]; skipped: EnqueueResult['skipped'] };
          const rows = await prisma.scan.findMany({ where: { id: { in: answer.scanIds } } });
          const byId = new Map(rows.map((r) => [r.id, r]));
          return { runId: answer.runId, scans: answer.scanIds.map((s) => byId.get(s)).filter((r): r is Scan => !!r), skipped: answer.skipped };
        }
        if (waited > 10_000) throw new Error(`the startScan with idempotencyKey ${idempotencyKey} is still running`);
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    try {
      const result = await this.enqueue(request);
      await prisma.idempotencyRecord.update({
        where: id,
        data: { response: { runId: result.runId, scanIds: result.scans.map((s) => s.id), skipped: result.skipped }, completedAt: this.now() },
      });
      return result;
    } catch (err) {
      await prisma.idempotencyRecord.delete({ where: id }).catch(() => undefined);
      throw err;
    }
  }

  async enqueue(request: EnqueueRequest): Promise<EnqueueResult> {
    const accountIds = await this.targets(request);
    const runId = randomUUID();
    const mode = request.mode ?? this.deps.scanRequest.collect.mode;
    const scans: Scan[] = [];
    const skipped: EnqueueResult['skipped'] = [];
    for (const { accountId, skipReason } of accountIds) {
      if (skipReason) {
        skipped.push({ accountId, reason: skipReason });
        continue;
      }
      if (request.skipBusy) {
        const busy = await this.deps.prisma.scan.findFirst({ where: { accountId, status: { in: ['QUEUED', 'RUNNING'] } } });
        if (busy) {
          skipped.push({ accountId, reason: `a scan of this account is already ${busy.status.toLowerCase()} (${busy.id})` });
          continue;
        }
      }
      scans.push(await this.enqueueOne(accountId, runId, mode, request.requestedBy));
    }
    return { runId, scans, skipped };
  }

  private async targets(request: EnqueueRequest): Promise<{ accountId: string; skipReason: string | null }[]> {
    const { accountIds, allAccounts } = request;
    if (allAccounts && accountIds?.length) throw new ScanInputError('INVALID_INPUT', 'give accountIds or allAccounts, not both', 'accountIds');
    if (allAccounts) return (await this.deps.accounts.scannable()).map((a) => ({ accountId: a.accountId, skipReason: null }));
    if (accountIds == null) return [{ accountId: await this.deps.accounts.baseAccountId(), skipReason: null }];
    if (accountIds.length === 0) throw new ScanInputError('INVALID_INPUT', 'accountIds is empty: name at least one account, or set allAccounts', 'accountIds');
    if (accountIds.length > 1000) throw new ScanInputError('INVALID_INPUT', 'at most 1000 accountIds per request: use allAccounts', 'accountIds');
    const malformed = accountIds.filter((id) => !ACCOUNT_ID.test(id));
    if (malformed.length) throw new ScanInputError('INVALID_INPUT', `accountIds must be 12-digit AWS account ids: ${malformed.slice(0, 5).map((id) => JSON.stringify(id.slice(0, 40))).join(', ')}`, 'accountIds');
    const known = await Promise.all([...new Set(accountIds)].map(async (id) => ({ id, account: await this.deps.accounts.get(id) })));
    const unknown = known.filter((k) => !k.account).map((k) => k.id);
    if (unknown.length) throw new ScanInputError('UNKNOWN_ACCOUNT', `unknown account ${unknown.join(', ')}: add it (keywarden accounts add) or sync the organization (keywarden accounts sync)`, 'accountIds');
    return known.map((k) => ({ accountId: k.id, skipReason: k.account!.skipReason }));
  }

  private async enqueueOne(accountId: string, runId: string, mode: InventorySource, requestedBy: string): Promise<Scan> {
    // Never two scans of an account waiting: a request while one waits gets that one. Requests for one account
    // decide this one at a time (an advisory lock, so across processes too): without it, concurrent requests each
    // found none waiting, each created one, and a loser could hand back another loser's row before its delete.
    const { scan, created } = await this.deps.prisma.$transaction(async (tx) => {
      await tx.$executeRawUnsafe('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', `scan-enqueue:${accountId}`);
      const waiting = await tx.scan.findFirst({ where: { accountId, status: 'QUEUED' }, orderBy: { queuedAt: 'asc' } });
      if (waiting) return { scan: waiting, created: false };
      const queued = await tx.scan.create({
        data: { status: 'QUEUED', source: mode, accountId, runId, requestedBy, queuedAt: this.now(), settings: { mode } },
      });
      return { scan: queued, created: true };
    });
    if (!created) return scan;
    const jobId = await this.deps.queue.enqueueAccountScan({ scanId: scan.id, accountId, runId });
    if (!jobId) {
      // The queue already holds a job for this account with no QUEUED row behind it (a retry waiting to run, a
      // cancelled scan's job the queue did not drop): that job stands, and this row goes.
      await this.deps.prisma.scan.delete({ where: { id: scan.id } });
      const other = await this.deps.prisma.scan.findFirst({ where: { accountId, status: 'QUEUED' }, orderBy: { queuedAt: 'asc' } });
      if (other) return other;
      throw new Error(`a scan of account ${accountId} is already waiting in the queue`);
    }
    return this.deps.prisma.scan.update({ where: { id: scan.id }, data: { jobId } });
  }

  /** A QUEUED scan is cancelled (its job too); a RUNNING or finished one cannot be. */
  async cancel(scanId: string): Promise<{ scan: Scan | null; error: { code: 'SCAN_NOT_FOUND' | 'SCAN_NOT_CANCELLABLE'; message: string } | null }> {
    const { count } = await this.deps.prisma.scan.updateMany({ where: { id: scanId, status: 'QUEUED' }, data: { status: 'CANCELLED', finishedAt: this.now() } });
    const scan = await this.deps.prisma.scan.findUnique({ where: { id: scanId } });
    if (!scan) return { scan: null, error: { code: 'SCAN_NOT_FOUND', message: `no scan ${scanId}` } };
    if (count === 0) {
      return { scan, error: scan.status === 'CANCELLED' ? null : { code: 'SCAN_NOT_CANCELLABLE', message: `scan ${scanId} is ${scan.status}: only a QUEUED scan can be cancelled` } };
    }
    if (scan.jobId) await this.deps.queue.cancel(scan.jobId).catch(() => undefined); // the worker checks the row anyway
    return { scan, error: null };
  }

  /** The queue's handler for one account scan. Throws only to have the job retried. */
  async runJob(job: PgBoss.Job<AccountScanJob>): Promise<ScanSummary | null> {
    const { accountId, runId } = job.data;
    const attempt = await this.scanForAttempt(job);
    if (!attempt) return null;
    const { id: scanId, source: mode } = attempt;
    const log = this.deps.logger?.child({ scanId, accountId, jobId: job.id });
    let iam: CountingIamClient;
    try {
      iam = await this.deps.accounts.iamClientFor(accountId, `keywarden-scan-${scanId}`);
    } catch (err) {
      // What to fix is in the scan's error; retrying a refused role, an unknown or another account changes nothing.
      const code = err instanceof AssumeRoleDeniedError ? ASSUME_ROLE_DENIED : err instanceof UnknownAccountError ? 'UNKNOWN_ACCOUNT' : err instanceof AccountMismatchError ? 'ACCOUNT_MISMATCH' : errorCode(err);
      await this.fail(scanId, accountId, code, errorMessage(err));
      log?.warn({ code }, 'account scan could not start');
      if (code !== errorCode(err) || !TRANSIENT.test(`${code} ${errorMessage(err)}`)) return null;
      throw new TransientScanFailure(`scan ${scanId}: ${errorMessage(err)}`);
    }
    const request = { ...this.deps.scanRequest, collect: { ...this.deps.scanRequest.collect, mode } };
    let summary: ScanSummary;
    try {
      summary = await new ScanService({ store: this.store, iam, now: this.deps.now }).runQueued({ scanId, accountId }, request);
    } finally {
      // A client per job (a role session for a member): its sockets go now, not when keep-alive times out.
      iam.client.destroy();
    }
    log?.info({ status: summary.status, durationMs: summary.durationMs, runId, ...(summary.status === 'FAILED' ? { error: summary.errors[0] } : {}) }, 'account scan ended');
    if (summary.status === 'FAILED' && isTransient(summary.errors)) {
      // The scan may have failed because the database went away, and then could not be marked: mark it once the
      // database answers, so it is not left RUNNING, before the queue is told to run the job again.
      await this.markFailedWhenReachable(scanId, accountId, summary.errors[0]!, log);
      throw new TransientScanFailure(`scan ${scanId}: ${summary.errors[0]?.message}`);
    }
    if (this.deps.retention) await afterScan(summary, this.deps.retention.service, this.deps.retention.days);
    return summary;
  }

  /**
   * The scan this attempt of the job runs: the queued row on the first attempt; on a retry, a new row
   * after marking a RUNNING one (its worker died) FAILED/INTERRUPTED. Null when there is nothing to do.
   */
  private async scanForAttempt(job: PgBoss.Job<AccountScanJob>): Promise<{ id: string; source: InventorySource } | null> {
    const { scanId, accountId, runId } = job.data;
    const attempts = await this.deps.prisma.scan.findMany({ where: { OR: [{ id: scanId }, { jobId: job.id }] }, orderBy: { queuedAt: 'desc' } });
    const latest = attempts[0];
    if (!latest || latest.status === 'CANCELLED' || latest.status === 'COMPLETED' || latest.status === 'PARTIAL') return null;
    if (latest.status === 'QUEUED') return latest;
    if (latest.status === 'RUNNING') {
      await this.fail(latest.id, accountId, INTERRUPTED, 'the worker running this scan stopped before it finished (killed, or lost its database); the job runs again as a new scan');
    }
    const retry = await this.deps.prisma.scan.create({
      data: { status: 'QUEUED', source: latest.source, accountId, runId, jobId: job.id, requestedBy: latest.requestedBy, queuedAt: this.now(), settings: { mode: latest.source } },
    });
    return retry;
  }

  private async fail(scanId: string, accountId: string, code: string, message: string): Promise<void> {
    const errors: ScanError[] = [{ severity: 'error', scope: 'ACCOUNT', operation: 'scan', code, message }];
    const finishedAt = this.now();
    await this.deps.prisma.$transaction(async (tx) => {
      const { count } = await tx.scan.updateMany({
        where: { id: scanId, status: { in: ['QUEUED', 'RUNNING'] } },
        data: { status: 'FAILED', finishedAt, errors: errors as object[], accountId },
      });
      // Only the call that failed it writes scan.failed: a scan already ended is left as it is.
      if (count === 1) await appendChanges(tx, [scanFailedChange(scanId, accountId, errors.length, finishedAt)]);
    });
  }

  /**
   * Records a failed scan's error on its row (if still QUEUED or RUNNING), retrying while the database is away, for
   * up to about a minute; past that, the sweep (reconcileInterrupted) or the job's next attempt marks it.
   */
  private async markFailedWhenReachable(scanId: string, accountId: string, error: ScanError, log?: Logger): Promise<void> {
    for (const delay of [0, 250, 500, 1_000, 2_000, 4_000, 8_000, 15_000, 30_000]) {
      await new Promise((r) => setTimeout(r, delay));
      try {
        await this.fail(scanId, accountId, error.code, error.message);
        return;
      } catch (err) {
        log?.warn({ err: errorMessage(err) }, 'cannot mark the failed scan yet: the database is not answering');
      }
    }
  }

  /**
   * At a worker's start: scans left RUNNING whose job the queue no longer runs (their worker died, or the
   * database went away under it) are FAILED/INTERRUPTED. A job still active elsewhere is left alone.
   */
  async reconcileInterrupted(): Promise<number> {
    const running = await this.deps.prisma.scan.findMany({ where: { status: 'RUNNING', jobId: { not: null } }, select: { id: true, jobId: true, accountId: true } });
    let marked = 0;
    for (const scan of running) {
      const state = await this.deps.queue.jobState(scan.jobId!);
      if (state === 'active') continue;
      await this.fail(scan.id, scan.accountId!, INTERRUPTED, 'the worker running this scan stopped before it finished');
      marked++;
    }
    return marked;
  }
}

function isTransient(errors: ScanError[]): boolean {
  return errors.some((e) => e.severity === 'error' && e.scope === 'ACCOUNT' && TRANSIENT.test(`${e.code} ${e.message}`));
}
