import { BatchImportFindingsCommand, BatchUpdateFindingsCommand, type AwsSecurityFinding, type SecurityHubClient } from '@aws-sdk/client-securityhub';
import type { Logger } from 'pino';
import { errorCode, errorMessage } from '../../adapters/iam/iam-client';
import { CursorExpiredError, readChanges } from '../../adapters/store/change-log';
import { FINDING_EVENTS } from '../../domain/lifecycle';
import type { PrismaClient } from '../../generated/prisma/client';
import { toAsff } from '../exports/asff.mapper';
import { toExportRecord } from '../exports/export-record';
import type { FindingsService, FindingView } from '../findings.service';
import { BATCH_IMPORT_RATE, TokenBucket } from './token-bucket';

/** BatchImportFindings takes at most 100 findings a request. */
export const BATCH_SIZE = 100;
const CHANGE_PAGE = 1000;

export interface SecurityHubPushDeps {
  prisma: PrismaClient;
  findings: FindingsService;
  /** KEYWARDEN_SECURITYHUB_REGION: where findings are imported, and the region they are filed under. */
  region: string;
  /** A Security Hub client acting in the account (its own credentials: see README, "Security Hub"). */
  clientFor(accountId: string): Promise<SecurityHubClient>;
  /** Shared by every push of the process; default: 10 requests a second, burst 30. */
  bucket?: TokenBucket;
  /** Times the findings Security Hub refused (FailedFindings) are sent again within one push (default 3). */
  retries?: number;
  /** First wait before such a retry, doubled each time (default 500 ms). */
  retryDelayMs?: number;
  logger?: Logger;
}

export interface PushFailure {
  /** The ASFF Id (the finding's identity). */
  id: string;
  code: string;
  message: string;
}

export interface PushResult {
  accountId: string;
  /** Findings Security Hub accepted in this push. */
  imported: number;
  /** Findings still refused after the retries: kept in securityhub_pending and sent again by the next push. */
  failed: PushFailure[];
  /** BatchImportFindings requests sent, retries included. */
  requests: number;
  /** Findings whose Workflow.Status was set with BatchUpdateFindings (SUPPRESSED when excepted, NEW when no longer). */
  workflowUpdated: number;
  /** Every current finding was sent: asked for (--all), or the cursor had expired (retention pruned past it). */
  everything: boolean;
}

/**
 * Pushes an account's findings to AWS Security Hub: what changed since the last successful push, read from the
 * change log with readChanges after the account's cursor (table securityhub_push), deduplicated to each finding's
 * current state, mapped to ASFF by the export's mapper and imported with BatchImportFindings in batches of 100,
 * paced by a token bucket. Only the findings Security Hub refused are sent again (a bounded number of times); the
 * ones still refused are kept in securityhub_pending for the next push. The cursor moves only when every batch
 * was answered: a push that fails (Security Hub down, throttled past the SDK's retries, a role refused) moves
 * nothing and the next one sends the same changes again; importing a finding twice updates it in place.
 */
export class SecurityHubPushService {
  private readonly bucket: TokenBucket;

  constructor(private readonly deps: SecurityHubPushDeps) {
    this.bucket = deps.bucket ?? new TokenBucket(BATCH_IMPORT_RATE.ratePerSecond, BATCH_IMPORT_RATE.burst);
  }

  /** `all`: every current finding of the account, not only what changed. */
  async push(accountId: string, { all = false }: { all?: boolean } = {}): Promise<PushResult> {
    const { prisma } = this.deps;
    const [state] = await prisma.$queryRawUnsafe<{ cursor: string | null }[]>(
      `INSERT INTO securityhub_push (account_id, attempted_at) VALUES ($1, now())
       ON CONFLICT (account_id) DO UPDATE SET attempted_at = now() RETURNING cursor`,
      accountId,
    );
    try {
      const changes = await this.changedSince(accountId, state?.cursor ?? null);
      const everything = all || changes.expired;
      const views = everything ? await this.currentFindings(accountId) : await this.changedFindings(accountId, new Set(changes.events.keys()));
      const result = await this.importAll(accountId, views);
      // Compare-and-set: a push that ran beside this one (`keywarden securityhub push` while a worker pushes) and moved
      // the cursor first keeps its position; this one's imports stand, and it does not move the cursor back.
      await prisma.$executeRawUnsafe(
        `UPDATE securityhub_push SET cursor = CASE WHEN cursor IS NOT DISTINCT FROM $4 THEN $2 ELSE cursor END,
           pushed_at = now(), last_error = NULL, imported_total = imported_total + $3 WHERE account_id = $1`,
        accountId, changes.endCursor, result.imported, state?.cursor ?? null,
      );
      const out = { accountId, ...result, everything };
      this.deps.logger?.info({ accountId, imported: out.imported, failed: out.failed.length, requests: out.requests, everything }, 'security hub push done');
      return out;
    } catch (err) {
      // What failed, for `keywarden securityhub push` and the logs; never a credential (the SDK's messages hold none).
      await prisma.$executeRawUnsafe(`UPDATE securityhub_push SET last_error = $2 WHERE account_id = $1`, accountId, `${errorCode(err)}: ${errorMessage(err)}`.slice(0, 1000));
      throw err;
    }
  }

  /** Finding ids with an event after the cursor, and where the log ends now. An expired cursor restarts the log. */
  private async changedSince(accountId: string, cursor: string | null): Promise<{ events: Map<string, Set<string>>; endCursor: string; expired: boolean }> {
    const events = new Map<string, Set<string>>();
    let after = cursor;
    let expired = false;
    for (;;) {
      let page;
      try {
        page = await readChanges(this.deps.prisma, { after, first: CHANGE_PAGE, accountIds: [accountId], types: FINDING_EVENTS });
      } catch (err) {
        if (!(err instanceof CursorExpiredError) || expired) throw err;
        // Retention pruned events this account had not pushed: send every current finding instead.
        expired = true;
        after = null;
        continue;
      }
      for (const row of page.rows) {
        if (!row.findingId) continue;
        if (!events.has(row.findingId)) events.set(row.findingId, new Set());
        events.get(row.findingId)!.add(row.type);
      }
      after = page.endCursor;
      if (!page.hasNextPage) return { events, endCursor: page.endCursor, expired };
    }
  }

  private async changedFindings(accountId: string, changed: Set<string>): Promise<FindingView[]> {
    const pending = await this.deps.prisma.$queryRawUnsafe<{ finding_id: string }[]>(
      `SELECT finding_id::text FROM securityhub_pending WHERE account_id = $1`,
      accountId,
    );
    const ids = [...new Set([...changed, ...pending.map((p) => p.finding_id)])];
    const views: FindingView[] = [];
    for (let i = 0; i < ids.length; i += CHANGE_PAGE) {
      for (const v of await this.deps.findings.byIds(ids.slice(i, i + CHANGE_PAGE))) if (v && v.accountId === accountId) views.push(v);
    }
    return views;
  }

  private async currentFindings(accountId: string): Promise<FindingView[]> {
    // Every state named: a finding whose key or user is gone is listed too (its ARCHIVED record must reach Security
    // Hub, or --all and an expired cursor would move past it and leave it ACTIVE there).
    const scope = await this.deps.findings.exportScope({ accountIds: [accountId], state: ['OPEN', 'RESOLVED', 'NEVER_FAILED'] });
    const views: FindingView[] = [];
    let after: string | null = null;
    for (;;) {
      const page = await this.deps.findings.exportPage(scope, CHANGE_PAGE, after);
      views.push(...page.nodes);
      if (!page.hasNextPage || page.nodes.length === 0) return views;
      after = page.nodes.at(-1)!.identity;
    }
  }

  private async importAll(accountId: string, views: FindingView[]): Promise<Omit<PushResult, 'accountId' | 'everything'>> {
    if (views.length === 0) return { imported: 0, failed: [], requests: 0, workflowUpdated: 0 };
    const byIdentity = new Map(views.map((v) => [v.identity, v]));
    const findings = views.map((v) => toAsff(toExportRecord(v, { region: this.deps.region })));
    const client = await this.deps.clientFor(accountId);
    let imported = 0;
    let requests = 0;
    let workflowUpdated = 0;
    const failed: PushFailure[] = [];
    try {
      for (let i = 0; i < findings.length; i += BATCH_SIZE) {
        let batch: AwsSecurityFinding[] = findings.slice(i, i + BATCH_SIZE);
        let refused: PushFailure[] = [];
        for (let attempt = 0; ; attempt++) {
          await this.bucket.take();
          requests += 1;
          const out = await client.send(new BatchImportFindingsCommand({ Findings: batch }));
          refused = (out.FailedFindings ?? []).map((f) => ({ id: f.Id ?? '', code: f.ErrorCode ?? 'Unknown', message: f.ErrorMessage ?? '' }));
          imported += batch.length - refused.length;
          if (refused.length === 0 || attempt >= (this.deps.retries ?? 3)) break;
          // Only the refused findings go again.
          const again = new Set(refused.map((f) => f.id));
          batch = batch.filter((f) => again.has(f.Id!));
          await new Promise((r) => setTimeout(r, (this.deps.retryDelayMs ?? 500) * 2 ** attempt));
        }
        failed.push(...refused);
      }
      workflowUpdated = await this.updateWorkflows(client, findings, failed);
    } finally {
      client.destroy();
    }
    await this.recordPending(accountId, views, failed, byIdentity);
    return { imported, failed, requests, workflowUpdated };
  }

  /**
   * Workflow is the customer's once a finding exists: Security Hub ignores it in BatchImportFindings (it moves NEW
   * to RESOLVED on ARCHIVED and back to NEW on a reactivation by itself, but never out of SUPPRESSED). So every
   * finding this push imported gets its Workflow.Status with BatchUpdateFindings, as a customer would: SUPPRESSED
   * while an exception resolves it, NEW once it fails again, RESOLVED once it passes or is gone, whatever the path
   * (an exception revoked while its import was refused, an excepted key fixed since). A finding it cannot update is
   * kept pending, and the next push sets it again.
   */
  private async updateWorkflows(client: SecurityHubClient, findings: AwsSecurityFinding[], failed: PushFailure[]): Promise<number> {
    const refused = new Set(failed.map((f) => f.id));
    const wanted = new Map<'SUPPRESSED' | 'NEW' | 'RESOLVED', AwsSecurityFinding[]>([['SUPPRESSED', []], ['NEW', []], ['RESOLVED', []]]);
    for (const f of findings) {
      const status = f.Workflow?.Status;
      if (refused.has(f.Id!) || (status !== 'SUPPRESSED' && status !== 'NEW' && status !== 'RESOLVED')) continue;
      wanted.get(status)!.push(f);
    }
    let updated = 0;
    for (const [status, list] of wanted) {
      for (let i = 0; i < list.length; i += BATCH_SIZE) {
        await this.bucket.take();
        const out = await client.send(new BatchUpdateFindingsCommand({
          FindingIdentifiers: list.slice(i, i + BATCH_SIZE).map((f) => ({ Id: f.Id!, ProductArn: f.ProductArn! })),
          Workflow: { Status: status },
        }));
        updated += out.ProcessedFindings?.length ?? 0;
        for (const u of out.UnprocessedFindings ?? []) failed.push({ id: u.FindingIdentifier?.Id ?? '', code: u.ErrorCode ?? 'Unknown', message: u.ErrorMessage ?? '' });
      }
    }
    return updated;
  }

  /** Accepted findings leave securityhub_pending; refused ones enter it (or count one more attempt). */
  private async recordPending(accountId: string, views: FindingView[], failed: PushFailure[], byIdentity: Map<string, FindingView>): Promise<void> {
    const failedIds = new Set(failed.map((f) => byIdentity.get(f.id)?.localId).filter((x): x is string => !!x));
    const accepted = views.map((v) => v.localId).filter((id) => !failedIds.has(id));
    await this.deps.prisma.$transaction([
      this.deps.prisma.$executeRawUnsafe(`DELETE FROM securityhub_pending WHERE finding_id = ANY($1::uuid[])`, accepted),
      this.deps.prisma.$executeRawUnsafe(
        `INSERT INTO securityhub_pending (finding_id, account_id, error_code, error_message)
         SELECT x.finding_id, $1, x.code, x.message FROM jsonb_to_recordset($2::jsonb) AS x(finding_id uuid, code text, message text)
         ON CONFLICT (finding_id) DO UPDATE SET error_code = EXCLUDED.error_code, error_message = EXCLUDED.error_message,
           attempts = securityhub_pending.attempts + 1, last_failed_at = now()`,
        accountId,
        JSON.stringify(failed.filter((f) => byIdentity.has(f.id)).map((f) => ({ finding_id: byIdentity.get(f.id)!.localId, code: f.code, message: f.message.slice(0, 1000) }))),
      ),
    ]);
  }

  /** Accounts with findings: what the catch-up push covers. */
  async accountsWithFindings(): Promise<string[]> {
    const rows = await this.deps.prisma.$queryRawUnsafe<{ account_id: string }[]>(`SELECT DISTINCT account_id FROM finding ORDER BY account_id`);
    return rows.map((r) => r.account_id);
  }
}
