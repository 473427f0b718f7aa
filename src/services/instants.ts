import { readRows } from '../adapters/db/prisma';
import type { PrismaClient } from '../generated/prisma/client';
import { InvalidInputError } from './errors';
import type { Statement } from '../adapters/db/statement';

/** The instant an answer describes for one account: a scan's observedAt. */
export interface AccountInstant {
  accountId: string;
  scanId: string;
  at: Date;
}

/** A user at the instant a view of it describes, as IamUser.findings and IamUser.accessKeys batch them. */
export interface UserInstant {
  accountId: string;
  /** IAM's user id: findings follow it across renames. */
  userId: string | null;
  userName: string;
  at: Date;
  scanId: string;
}

/**
 * Which accounts a read covers: the ones named (deduplicated), and the argument that named them, for
 * errors. Null where a read covers every account that has a COMPLETED or PARTIAL scan.
 */
export interface AccountScope {
  ids: readonly string[];
  field: 'accountId' | 'accountIds';
}

/** A fleet is hundreds of accounts; a list longer than this is a mistake, not a question. */
export const MAX_ACCOUNT_IDS = 1_000;

/**
 * The scope a read asks about: `accountId` (one account, as before) or `accountIds` (several); neither is
 * every account. Both at once would be ambiguous (intersection or union?), so it is refused.
 */
export function accountScope(accountId?: string | null, accountIds?: readonly string[] | null): AccountScope | null {
  if (accountId != null && accountIds != null) throw new InvalidInputError('give accountId or accountIds, not both', 'accountIds');
  if (accountId != null) {
    if (accountId === '') throw new InvalidInputError('accountId must not be empty', 'accountId');
    return { ids: [accountId], field: 'accountId' };
  }
  if (accountIds == null) return null;
  if (accountIds.length === 0) throw new InvalidInputError('accountIds must name at least one account; omit it to ask about every account', 'accountIds');
  if (accountIds.length > MAX_ACCOUNT_IDS) throw new InvalidInputError(`accountIds names ${accountIds.length} accounts; at most ${MAX_ACCOUNT_IDS}`, 'accountIds');
  if (accountIds.includes('')) throw new InvalidInputError('accountIds must not contain an empty id', 'accountIds');
  return { ids: [...new Set(accountIds)], field: 'accountIds' };
}

const scopeOf = (accounts: string | AccountScope | null | undefined): AccountScope | null =>
  typeof accounts === 'string' ? (accounts === '' ? null : { ids: [accounts], field: 'accountId' }) : accounts ?? null;

/** Account ids for a message, the first few of a long list. */
export function accountList(ids: readonly string[]): string {
  return ids.length <= 10 ? ids.join(', ') : `${ids.slice(0, 10).join(', ')} and ${ids.length - 10} more`;
}

// Clocks of a client and this server can differ a little; an asOf a few seconds ahead is "now".
const CLOCK_SKEW_MS = 5_000;

/**
 * Which scan answers "as of" a time, per account: the latest COMPLETED or PARTIAL scan at or before
 * it (the latest one when no time is given). FAILED scans change nothing, so they never answer.
 * `accounts` is one account id, a scope, or nothing for every account. A named account without such a
 * scan is an error naming it, never an empty answer.
 */
export async function resolveInstants(prisma: PrismaClient, accounts?: string | AccountScope | null, asOf?: Date | null): Promise<AccountInstant[]> {
  if (asOf && asOf.getTime() > Date.now() + CLOCK_SKEW_MS) {
    throw new InvalidInputError(`asOf ${asOf.toISOString()} is in the future: ask about now (omit asOf) or a past instant`, 'asOf');
  }
  const scope = scopeOf(accounts);
  const rows = await readRows<InstantRow>(prisma, instantsStatement(scope?.ids ?? null, asOf));
  if (scope && rows.length < scope.ids.length) {
    const found = new Set(rows.map((r) => r.account_id));
    await refuseMissing(prisma, scope, scope.ids.filter((id) => !found.has(id)), asOf);
  }
  if (!scope && rows.length === 0 && asOf) throw new InvalidInputError(`asOf ${asOf.toISOString()} is before the first scan: ask about a later instant`, 'asOf');
  if (asOf) await assertWithinRetention(prisma, rows.map((r) => r.account_id), asOf);
  return rows.map((r) => ({ accountId: r.account_id, scanId: r.id, at: r.observed_at }));
}

/** Named accounts that have no answering scan: before their first scan (asOf), or never scanned. */
async function refuseMissing(prisma: PrismaClient, scope: AccountScope, missing: string[], asOf?: Date | null): Promise<never> {
  const unknown = asOf ? await unknownAccounts(prisma, missing) : missing;
  if (unknown.length > 0) {
    throw new InvalidInputError(
      unknown.length === 1 && scope.field === 'accountId'
        ? `no completed scan of account ${unknown[0]}: check the account id or run a scan first`
        : `no completed scan of account${unknown.length > 1 ? 's' : ''} ${accountList(unknown)}: check the account ids or run a scan first`,
      scope.field,
    );
  }
  throw new InvalidInputError(
    `asOf ${asOf!.toISOString()} is before the first scan of account${missing.length > 1 ? 's' : ''} ${accountList(missing)}: ask about a later instant`,
    'asOf',
  );
}

/** Of `ids`, those without any COMPLETED or PARTIAL scan (unknown to every read). */
export async function unknownAccounts(prisma: PrismaClient, ids: readonly string[]): Promise<string[]> {
  if (ids.length === 0) return [];
  const { sql, params } = unknownAccountsStatement(ids);
  return (await prisma.$queryRawUnsafe<{ account_id: string }[]>(sql, ...params)).map((r) => r.account_id);
}

/** Refuses a scope naming an account no read can answer for; named like resolveInstants names it. */
export async function assertKnownAccounts(prisma: PrismaClient, scope: AccountScope | null): Promise<void> {
  if (!scope) return;
  const unknown = await unknownAccounts(prisma, scope.ids);
  if (unknown.length > 0) await refuseMissing(prisma, scope, unknown);
}

export function unknownAccountsStatement(ids: readonly string[]): Statement {
  return {
    sql: `SELECT a.account_id FROM unnest($1::text[]) WITH ORDINALITY AS a(account_id, n)
      WHERE NOT EXISTS (SELECT 1 FROM scan s WHERE s.account_id = a.account_id AND s.status IN ('COMPLETED', 'PARTIAL'))
      ORDER BY a.n`,
    params: [[...ids]],
  };
}

export type InstantRow = {
  id: string;
  account_id: string;
  observed_at: Date;
};

/**
 * A relation `accounts(account_id)` for a statement that begins `WITH RECURSIVE`: the ids in the text[]
 * parameter `idsParam`, or (null) every account that has a scan. Every account is found by a loose index
 * scan of scan (account_id, observed_at): one index probe per account (about 1 ms for 200), where
 * `SELECT DISTINCT account_id` read every scan row (72,000 for 200 accounts scanned every 6 hours for 90 days).
 * Accounts whose scans all FAILED are listed too; the reads join them to no scan.
 */
export function accountsCte(idsParam: string | null): string {
  if (idsParam) return `accounts AS (SELECT DISTINCT unnest(${idsParam}::text[]) AS account_id)`;
  return `every_account(account_id) AS (
      (SELECT account_id FROM scan WHERE account_id IS NOT NULL ORDER BY account_id LIMIT 1)
      UNION ALL
      SELECT (SELECT s.account_id FROM scan s WHERE s.account_id > e.account_id ORDER BY s.account_id LIMIT 1)
      FROM every_account e WHERE e.account_id IS NOT NULL),
    accounts AS (SELECT account_id FROM every_account WHERE account_id IS NOT NULL)`;
}

/**
 * The scan answering "as of" per account: one account id, several, or every account (null); the latest
 * when asOf is null. One index probe per account.
 */
export function instantsStatement(accounts?: string | readonly string[] | null, asOf?: Date | null): Statement {
  const ids = typeof accounts === 'string' ? [accounts] : accounts ?? null;
  const params: unknown[] = [asOf ?? null];
  const cte = accountsCte(ids ? `$${params.push([...ids])}` : null);
  return {
    sql: `WITH RECURSIVE ${cte}
      SELECT l.id::text, l.account_id, l.observed_at FROM accounts a
      CROSS JOIN LATERAL (
        SELECT s.id, s.account_id, s.observed_at FROM scan s
        WHERE s.account_id = a.account_id AND s.status IN ('COMPLETED', 'PARTIAL')
          AND ($1::timestamptz IS NULL OR s.observed_at <= $1::timestamptz)
        ORDER BY s.observed_at DESC LIMIT 1) l
      ORDER BY l.account_id`,
    params,
  };
}

/** Where retention cut each account's detailed history (accounts never pruned have no row). */
export function horizonsStatement(accountIds: string[]): Statement {
  return { sql: 'SELECT account_id, pruned_before FROM history_horizon WHERE account_id = ANY($1::text[])', params: [accountIds] };
}

/**
 * Records a prune's cutoff as the account's horizon, unless an earlier prune reached later: an earlier
 * cutoff brings back none of the versions already deleted, so moving the horizon back would let asOf
 * reach instants whose versions are gone. Answers the horizon in force.
 */
export function advanceHorizonStatement(accountId: string, cutoff: Date): Statement {
  return {
    sql: `INSERT INTO history_horizon (account_id, pruned_before) VALUES ($1, $2::timestamptz)
      ON CONFLICT (account_id) DO UPDATE SET pruned_before = GREATEST(history_horizon.pruned_before, EXCLUDED.pruned_before)
      RETURNING pruned_before`,
    params: [accountId, cutoff],
  };
}

/**
 * The scans (of `scanIds`) whose detail retention pruned, with the horizon that did. The versions valid at a
 * scan's observedAt ended, if at all, when a later scan read IAM, so not before its next stored scan: its
 * detail is whole when that one read IAM at or after the horizon (or there is none), and may have lost
 * versions otherwise. A scan that recorded no state (RUNNING, FAILED) has no detail to lose.
 */
export function detailPrunedStatement(scanIds: readonly string[]): Statement {
  return {
    sql: `SELECT s.id::text, h.pruned_before FROM scan s
      JOIN history_horizon h ON h.account_id = s.account_id
      CROSS JOIN LATERAL (
        SELECT n.observed_at FROM scan n
        WHERE n.account_id = s.account_id AND n.status IN ('COMPLETED', 'PARTIAL') AND n.observed_at > s.observed_at
        ORDER BY n.observed_at LIMIT 1) next
      WHERE s.id = ANY($1::uuid[]) AND s.status IN ('COMPLETED', 'PARTIAL') AND next.observed_at < h.pruned_before`,
    params: [[...scanIds]],
  };
}

/**
 * An asOf at or after the horizon is answered in full, even when the scan answering it read IAM before the
 * horizon: each version valid at that scan's observedAt ended (if at all) when a later scan read IAM, after
 * asOf, so not before the horizon, the latest cutoff any prune deleted before.
 */
async function assertWithinRetention(prisma: PrismaClient, accountIds: string[], asOf: Date): Promise<void> {
  const { sql, params } = horizonsStatement(accountIds);
  const horizons = await prisma.$queryRawUnsafe<{ account_id: string; pruned_before: Date }[]>(sql, ...params);
  for (const h of horizons) {
    if (asOf < h.pruned_before) {
      throw new InvalidInputError(
        `detailed history of account ${h.account_id} before ${h.pruned_before.toISOString()} was pruned by retention; ` +
          `trends still cover it. Ask about ${h.pruned_before.toISOString()} or later`,
        'asOf',
      );
    }
  }
}

/** A JSON parameter naming each account's instant, for `jsonb_to_recordset` in the read queries. */
export function instantsParam(instants: AccountInstant[]): string {
  return JSON.stringify(instants.map((i) => ({ account_id: i.accountId, at: i.at.toISOString(), scan_id: i.scanId })));
}

export const INSTANTS_SQL = `jsonb_to_recordset($1::jsonb) AS at(account_id text, at timestamptz, scan_id uuid)`;
