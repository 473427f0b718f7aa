import type { PrismaClient } from '../generated/prisma/client';
import { InvalidInputError } from './errors';

/** Current state = what the latest scan that read the account (COMPLETED or PARTIAL) saw. FAILED scans change nothing. */
export async function latestScanIds(prisma: PrismaClient, accountId?: string | null): Promise<Map<string, string>> {
  const rows = await prisma.$queryRaw<{ id: string; account_id: string }[]>`
    SELECT DISTINCT ON (account_id) id::text, account_id FROM scan
    WHERE status IN ('COMPLETED', 'PARTIAL') AND (${accountId ?? null}::text IS NULL OR account_id = ${accountId ?? null}::text)
    ORDER BY account_id, started_at DESC`;
  if (accountId && rows.length === 0) {
    throw new InvalidInputError(`no completed scan of account ${accountId}: check the account id or run a scan first`, 'accountId');
  }
  return new Map(rows.map((r) => [r.account_id, r.id]));
}
