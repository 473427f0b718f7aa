import type { PrismaClient } from '../generated/prisma/client';
import { InvalidInputError } from './errors';
import type { Statement } from './statement';

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

// Clocks of a client and this server can differ a little; an asOf a few seconds ahead is "now".
const CLOCK_SKEW_MS = 5_000;

/**
 * Which scan answers "as of" a time, per account: the latest COMPLETED or PARTIAL scan at or before
 * it (the latest one when no time is given). FAILED scans change nothing, so they never answer.
 */
export async function resolveInstants(prisma: PrismaClient, accountId?: string | null, asOf?: Date | null): Promise<AccountInstant[]> {
  if (asOf && asOf.getTime() > Date.now() + CLOCK_SKEW_MS) {
    throw new InvalidInputError(`asOf ${asOf.toISOString()} is in the future: ask about now (omit asOf) or a past instant`, 'asOf');
  }
  const { sql, params } = instantsStatement(accountId, asOf);
  const rows = await prisma.$queryRawUnsafe<InstantRow[]>(sql, ...params);
  if (rows.length === 0) {
    if (accountId && asOf && (await hasScans(prisma, accountId))) {
      throw new InvalidInputError(`asOf ${asOf.toISOString()} is before the first scan of account ${accountId}: ask about a later instant`, 'asOf');
    }
    if (accountId) throw new InvalidInputError(`no completed scan of account ${accountId}: check the account id or run a scan first`, 'accountId');
    if (asOf) throw new InvalidInputError(`asOf ${asOf.toISOString()} is before the first scan: ask about a later instant`, 'asOf');
  }
  if (asOf) await assertWithinRetention(prisma, rows.map((r) => r.account_id), asOf);
  return rows.map((r) => ({ accountId: r.account_id, scanId: r.id, at: r.observed_at }));
}

export type InstantRow = {
  id: string;
  account_id: string;
  observed_at: Date;
};

/** The scan answering "as of" per account (all accounts when accountId is null; the latest when asOf is null). */
export function instantsStatement(accountId?: string | null, asOf?: Date | null): Statement {
  return {
    sql: `SELECT DISTINCT ON (account_id) id::text, account_id, observed_at FROM scan
      WHERE status IN ('COMPLETED', 'PARTIAL')
        AND ($1::text IS NULL OR account_id = $1::text)
        AND ($2::timestamptz IS NULL OR observed_at <= $2::timestamptz)
      ORDER BY account_id, observed_at DESC`,
    params: [accountId ?? null, asOf ?? null],
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

async function hasScans(prisma: PrismaClient, accountId: string): Promise<boolean> {
  return (await prisma.scan.count({ where: { accountId, status: { in: ['COMPLETED', 'PARTIAL'] } } })) > 0;
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
