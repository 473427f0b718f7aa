import { randomUUID } from 'node:crypto';
import type { PrismaClient } from '../../generated/prisma/client';
import type { AccountInventory, InventorySource, ScanError } from '../../domain/inventory';
import { findingIdentity, type EvaluatedFinding, type StatusCounts } from '../../domain/finding';

export type ScanOutcome = 'COMPLETED' | 'PARTIAL';

export interface CompletedScan {
  scanId: string;
  inventory: AccountInventory;
  findings: EvaluatedFinding[];
  status: ScanOutcome;
  counts: StatusCounts;
  iamCalls: unknown;
  finishedAt: Date;
}

// Large accounts: one statement per batch keeps round trips low without huge parameter lists.
const BATCH = 1000;

/** Persists scans. A scan and everything it found are written in one transaction. */
export class ScanStore {
  constructor(private readonly prisma: PrismaClient) {}

  async startScan(source: InventorySource, startedAt: Date, settings: object): Promise<string> {
    try {
      const scan = await this.prisma.scan.create({ data: { status: 'RUNNING', source, startedAt, settings } });
      return scan.id;
    } catch (err) {
      throw new DatabaseUnavailableError(`cannot record the scan in the database: ${firstLine(err)}`);
    }
  }

  async failScan(scanId: string, errors: ScanError[], iamCalls: unknown, accountId: string | null, finishedAt: Date): Promise<void> {
    await this.prisma.scan.update({
      where: { id: scanId },
      data: { status: 'FAILED', finishedAt, errors: errors as object[], iamCalls: iamCalls as object, accountId },
    });
  }

  async completeScan(s: CompletedScan): Promise<void> {
    const { inventory } = s;
    await this.prisma.$transaction(
      async (tx) => {
        // Bulk rows go in as one JSON parameter per batch through jsonb_to_recordset: an order of
        // magnitude less time and memory than createMany for a 10,000-user account.
        for (const batch of chunks(inventory.users, BATCH)) {
          const users = batch.map((u) => ({ id: randomUUID(), u }));
          await tx.$executeRawUnsafe(
            `INSERT INTO iam_user_snapshot (id, scan_id, account_id, user_name, user_id, arn, path, created_at,
               has_console_password, password_last_used_at, mfa_active, tags, read_error)
             SELECT id, $2::uuid, $3, user_name, user_id, arn, path, created_at, has_console_password,
               password_last_used_at, mfa_active, tags, read_error
             FROM jsonb_to_recordset($1::jsonb) AS x(id uuid, user_name text, user_id text, arn text, path text,
               created_at timestamptz, has_console_password boolean, password_last_used_at timestamptz,
               mfa_active boolean, tags jsonb, read_error text)`,
            JSON.stringify(users.map(({ id, u }) => ({
              id,
              user_name: u.userName,
              user_id: u.userId,
              arn: u.arn,
              path: u.path,
              created_at: u.createdAt,
              has_console_password: u.hasConsolePassword,
              password_last_used_at: u.passwordLastUsedAt,
              mfa_active: u.mfaActive,
              tags: u.tags,
              read_error: u.readError ? `${u.readError.operation}: ${u.readError.code}: ${u.readError.message}` : null,
            }))),
            s.scanId,
            inventory.accountId,
          );
          const keys = users.flatMap(({ id, u }) =>
            (u.accessKeys ?? []).map((k) => ({
              user_snapshot_id: id,
              access_key_id: k.accessKeyId,
              status: k.status,
              created_at: k.createdAt,
              last_used_at: k.lastUsed?.date ?? null,
              last_used_service: k.lastUsed?.serviceName ?? null,
              last_used_region: k.lastUsed?.region ?? null,
            })),
          );
          if (keys.length === 0) continue;
          await tx.$executeRawUnsafe(
            `INSERT INTO access_key_snapshot (id, user_snapshot_id, access_key_id, status, created_at, last_used_at,
               last_used_service, last_used_region)
             SELECT gen_random_uuid(), user_snapshot_id, access_key_id, status, created_at, last_used_at,
               last_used_service, last_used_region
             FROM jsonb_to_recordset($1::jsonb) AS x(user_snapshot_id uuid, access_key_id text, status text,
               created_at timestamptz, last_used_at timestamptz, last_used_service text, last_used_region text)`,
            JSON.stringify(keys),
          );
        }

        for (const batch of chunks(s.findings, BATCH)) {
          const rows = batch.map((f) => ({
            identity: findingIdentity(inventory.accountId, f),
            control_id: f.controlId,
            user_name: f.userName,
            user_arn: f.userArn,
            access_key_id: f.accessKeyId,
            status: f.status,
            reasons: f.reasons,
            evidence: f.evidence,
          }));
          // Upsert by stable identity, then record this scan's result for each finding, in one statement.
          await tx.$executeRawUnsafe(
            `WITH input AS (
               SELECT * FROM jsonb_to_recordset($1::jsonb) AS x(identity text, control_id text, user_name text, user_arn text,
                 access_key_id text, status text, reasons text[], evidence jsonb)
             ), upserted AS (
               INSERT INTO finding (id, identity, account_id, control_id, user_name, user_arn, access_key_id, status, reasons,
                 evidence, first_seen_at, last_seen_at, last_scan_id)
               SELECT gen_random_uuid(), identity, $2, control_id, user_name, user_arn, access_key_id, status::"ComplianceStatus",
                 reasons, evidence, $3, $3, $4::uuid FROM input
               ON CONFLICT (identity) DO UPDATE SET status = EXCLUDED.status, reasons = EXCLUDED.reasons,
                 evidence = EXCLUDED.evidence, user_arn = EXCLUDED.user_arn, last_seen_at = EXCLUDED.last_seen_at,
                 last_scan_id = EXCLUDED.last_scan_id
               RETURNING id, status, reasons, evidence
             )
             INSERT INTO finding_result (id, scan_id, finding_id, status, reasons, evidence)
             SELECT gen_random_uuid(), $4::uuid, id, status, reasons, evidence FROM upserted`,
            JSON.stringify(rows),
            inventory.accountId,
            inventory.collectedAt,
            s.scanId,
          );
        }

        await tx.scan.update({
          where: { id: s.scanId },
          data: {
            status: s.status,
            // The report path falls back to the per-user API when the report is unavailable.
            source: inventory.source,
            accountId: inventory.accountId,
            finishedAt: s.finishedAt,
            reportGeneratedAt: inventory.reportGeneratedAt,
            passCount: s.counts.pass,
            failCount: s.counts.fail,
            notApplicableCount: s.counts.notApplicable,
            errorCount: s.counts.error,
            errors: inventory.errors as object[],
            iamCalls: s.iamCalls as object,
          },
        });
      },
      // A 10,000-user account writes tens of thousands of rows: far beyond Prisma's 5 s default.
      { timeout: 300_000, maxWait: 60_000 },
    );
  }
}

export class DatabaseUnavailableError extends Error {
  override name = 'DatabaseUnavailableError';
}

function firstLine(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.trim().split('\n').filter(Boolean).at(-1) ?? message;
}

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
