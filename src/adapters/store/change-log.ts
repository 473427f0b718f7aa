import type { PrismaClient } from '../../generated/prisma/client';
import { FINDING_EVENTS, type FindingEvent, type FindingState } from '../../domain/lifecycle';

/**
 * The change log (table change_event, migration 20261130100000_change_events): what changed, appended in the
 * transaction that changed it, and read in commit order. findingChanges, webhooks and Security Hub read it
 * through readChanges and nothing else, so the visibility rule below lives in one place.
 */

export const SCAN_EVENTS = ['scan.completed', 'scan.failed'] as const;
export const REMEDIATION_EVENTS = ['remediation.completed'] as const;
export const CHANGE_EVENT_TYPES = [...FINDING_EVENTS, ...SCAN_EVENTS, ...REMEDIATION_EVENTS] as const;
export type ChangeEventType = (typeof CHANGE_EVENT_TYPES)[number];

/** A finding event's payload: the finding after the transition, enough for a consumer without another read. */
export interface FindingChangePayload {
  identity: string;
  state: FindingState;
  status: string;
  resolution: string | null;
  reasons: string[];
  reopenCount: number;
  userName: string;
  userId: string | null;
  accessKeyId: string | null;
  controlId: string;
  /** The state before the transition; null for a finding seen for the first time. */
  previousState: FindingState | null;
}

export interface ScanChangePayload {
  status: 'COMPLETED' | 'PARTIAL' | 'FAILED';
  /** The account's state after the scan; null for a FAILED scan (it recorded nothing). */
  counts: { pass: number; fail: number; notApplicable: number; error: number; excepted: number } | null;
  opened: number;
  resolved: number;
  observedAt: string | null;
  /** How many errors the scan reported (Scan.errors has them). */
  errors: number;
}

export interface RemediationChangePayload {
  kind: string;
  accessKeyId: string | null;
  userName: string | null;
  /** The action's final status: SUCCEEDED, NO_CHANGE, REFUSED or FAILED. */
  outcome: string;
  errorCode: string | null;
  actor: string;
}

export interface ChangeRow {
  /** The opaque cursor of this event: its (txid, seq) position. */
  cursor: string;
  seq: bigint;
  occurredAt: Date;
  accountId: string;
  type: ChangeEventType;
  findingId: string | null;
  scanId: string | null;
  remediationActionId: string | null;
  payload: Record<string, unknown>;
}

/** The cursor is older than what retention kept: the client must resync from `findings`. */
export class CursorExpiredError extends Error {
  override name = 'CursorExpiredError';
}

/** `after` is not a cursor this API gave out. */
export class InvalidCursorError extends Error {
  override name = 'InvalidCursorError';
}

interface Position {
  txid: string;
  seq: string;
}

const START: Position = { txid: '0', seq: '0' };
const DIGITS = /^\d{1,20}$/;

export function encodeChangeCursor(p: Position): string {
  return Buffer.from(JSON.stringify(['c', p.txid, p.seq])).toString('base64url');
}

export function decodeChangeCursor(cursor: string): Position {
  try {
    const key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(key) && key.length === 3 && key[0] === 'c' && DIGITS.test(key[1]) && DIGITS.test(key[2])) {
      // Beyond bigint's range PostgreSQL would refuse the cast: not a cursor this API wrote.
      if (BigInt(key[1]) < 2n ** 63n && BigInt(key[2]) < 2n ** 63n) return { txid: key[1], seq: key[2] };
    }
  } catch {
    // fall through
  }
  throw new InvalidCursorError('after is not a findingChanges cursor returned by this API');
}

export interface ReadChangesQuery {
  /** The endCursor of the previous page; omitted: from the oldest event retention kept. */
  after?: string | null;
  first: number;
  /** Only these accounts; null: every account. */
  accountIds?: readonly string[] | null;
  /** Only these types; null: every type. */
  types?: readonly ChangeEventType[] | null;
}

export interface ChangePage {
  rows: ChangeRow[];
  hasNextPage: boolean;
  /**
   * Where to resume: the last row's cursor, or, for an empty page, the position below which every event has
   * been read (every transaction before it has ended), so a client polling an idle log moves forward too.
   */
  endCursor: string;
}

interface ChangeSqlRow {
  seq: bigint;
  txid: string;
  occurred_at: Date;
  account_id: string;
  type: ChangeEventType;
  finding_id: string | null;
  scan_id: string | null;
  remediation_action_id: string | null;
  payload: Record<string, unknown>;
  frontier: string;
}

/**
 * One page of the change log in commit order: (txid, seq) after the cursor, below the oldest transaction
 * still open. A sequence value is taken at insert, not at commit: paging by seq alone would pass an event of
 * a transaction still open and never see it. A cursor below a position retention deleted is refused
 * (CursorExpiredError) rather than continued past the gap.
 */
export async function readChanges(db: PrismaClient, q: ReadChangesQuery): Promise<ChangePage> {
  const after = q.after ? decodeChangeCursor(q.after) : null;
  if (after) await assertNotExpired(db, after, q.accountIds ?? null);
  const from = after ?? START;
  const { sql, params } = readChangesStatement(from, q);
  const rows = await db.$queryRawUnsafe<ChangeSqlRow[]>(sql, ...params);
  const page = rows.filter((r) => r.seq !== null).slice(0, q.first);
  const hasNextPage = rows.filter((r) => r.seq !== null).length > q.first;
  const frontier = rows[0]?.frontier ?? from.txid;
  // Every cursor this API returns is at or below the frontier (the oldest running transaction), which never moves
  // back. One beyond it was made up: paging from it would skip every transition until the frontier passed it.
  if (after && BigInt(after.txid) > BigInt(frontier)) throw new InvalidCursorError('after is not a findingChanges cursor returned by this API');
  let endCursor: string;
  if (page.length > 0) endCursor = encodeChangeCursor({ txid: page.at(-1)!.txid, seq: String(page.at(-1)!.seq) });
  else if (!hasNextPage && BigInt(frontier) > BigInt(from.txid)) endCursor = encodeChangeCursor({ txid: frontier, seq: '0' });
  else endCursor = encodeChangeCursor(from);
  return {
    rows: page.map((r) => ({
      cursor: encodeChangeCursor({ txid: r.txid, seq: String(r.seq) }),
      seq: r.seq,
      occurredAt: r.occurred_at,
      accountId: r.account_id,
      type: r.type,
      findingId: r.finding_id,
      scanId: r.scan_id,
      remediationActionId: r.remediation_action_id,
      payload: r.payload,
    })),
    hasNextPage,
    endCursor,
  };
}

/** The page's statement: the snapshot's xmin comes back on every row (and alone when no row matched). */
export function readChangesStatement(from: Position, q: ReadChangesQuery): { sql: string; params: unknown[] } {
  return {
    sql: `WITH snap AS MATERIALIZED (SELECT pg_snapshot_xmin(pg_current_snapshot()) AS xmin),
      page AS (
        SELECT e.seq, e.txid, e.occurred_at, e.account_id, e.type, e.finding_id::text, e.scan_id::text,
          e.remediation_action_id::text, e.payload
        FROM change_event e, snap
        WHERE e.txid < snap.xmin AND (e.txid, e.seq) > ($1::text::xid8, $2::bigint)
          AND ($3::text[] IS NULL OR e.account_id = ANY($3::text[]))
          AND ($4::text[] IS NULL OR e.type = ANY($4::text[]))
        ORDER BY e.txid, e.seq LIMIT $5)
      SELECT page.seq, page.txid::text AS txid, page.occurred_at, page.account_id, page.type, page.finding_id,
        page.scan_id, page.remediation_action_id, page.payload, snap.xmin::text AS frontier
      FROM snap LEFT JOIN page ON true
      ORDER BY page.txid, page.seq`,
    params: [from.txid, from.seq, q.accountIds ? [...q.accountIds] : null, q.types ? [...q.types] : null, q.first + 1],
  };
}

async function assertNotExpired(db: PrismaClient, after: Position, accountIds: readonly string[] | null): Promise<void> {
  const rows = await db.$queryRawUnsafe<{ account_id: string }[]>(
    `SELECT account_id FROM history_horizon
     WHERE changes_pruned_txid IS NOT NULL AND ($3::text[] IS NULL OR account_id = ANY($3::text[]))
       AND (changes_pruned_txid, changes_pruned_seq) > ($1::text::xid8, $2::bigint)
     LIMIT 1`,
    after.txid, after.seq, accountIds ? [...accountIds] : null,
  );
  if (rows.length > 0) {
    throw new CursorExpiredError(
      `this cursor is older than the change log's retention horizon (account ${rows[0].account_id}): changes after it were pruned. ` +
        'Resync: read the current state from findings, then page findingChanges again from its end',
    );
  }
}

/** A change to append: occurredAt is the instant the change describes (a scan's observedAt, an action's completion). */
export interface NewChange {
  accountId: string;
  type: ChangeEventType;
  occurredAt: Date;
  findingId?: string | null;
  scanId?: string | null;
  remediationActionId?: string | null;
  payload: object;
}

/** Appends changes; run it on the transaction that makes them, so a rollback takes them away too. */
export async function appendChanges(db: Pick<PrismaClient, '$executeRawUnsafe'>, changes: NewChange[]): Promise<void> {
  if (changes.length === 0) return;
  const { sql, params } = appendChangesStatement(changes);
  await db.$executeRawUnsafe(sql, ...params);
}

/** The insert, for a batch transaction ($transaction([...])) beside the write that causes it. */
export function appendChangesStatement(changes: NewChange[]): { sql: string; params: unknown[] } {
  return {
    sql: `INSERT INTO change_event (occurred_at, account_id, type, finding_id, scan_id, remediation_action_id, payload)
      SELECT occurred_at, account_id, type, finding_id, scan_id, remediation_action_id, payload
      FROM jsonb_to_recordset($1::jsonb) AS x(occurred_at timestamptz, account_id text, type text,
        finding_id uuid, scan_id uuid, remediation_action_id uuid, payload jsonb, n int)
      ORDER BY n`,
    params: [
      JSON.stringify(
        changes.map((c, n) => ({
          n, occurred_at: c.occurredAt.toISOString(), account_id: c.accountId, type: c.type, finding_id: c.findingId ?? null,
          scan_id: c.scanId ?? null, remediation_action_id: c.remediationActionId ?? null, payload: c.payload,
        })),
      ),
    ],
  };
}

/**
 * Finding events of a stored scan, one per transition, by identity: the payload is built from the finding row as
 * this transaction left it (so it says what is stored), plus the state before.
 */
export async function appendFindingChanges(
  db: Pick<PrismaClient, '$executeRawUnsafe'>,
  scan: { accountId: string; scanId: string; at: Date },
  transitions: { identity: string; type: FindingEvent; previousState: FindingState | null }[],
): Promise<void> {
  if (transitions.length === 0) return;
  await db.$executeRawUnsafe(
    `INSERT INTO change_event (occurred_at, account_id, type, finding_id, scan_id, payload)
     SELECT $3, f.account_id, x.type, f.id, $4::uuid, jsonb_build_object(
       'identity', f.identity, 'state', f.state, 'status', f.status, 'resolution', f.resolution, 'reasons', to_jsonb(f.reasons),
       'reopenCount', f.reopen_count, 'userName', f.user_name, 'userId', f.user_id, 'accessKeyId', f.access_key_id,
       'controlId', f.control_id, 'previousState', x.previous_state)
     FROM jsonb_to_recordset($1::jsonb) AS x(identity text, type text, previous_state text, n int)
     JOIN finding f ON f.identity = x.identity AND f.account_id = $2
     ORDER BY x.n`,
    JSON.stringify(transitions.map((t, n) => ({ identity: t.identity, type: t.type, previous_state: t.previousState, n }))),
    scan.accountId, scan.at, scan.scanId,
  );
}

/**
 * Retention for the change log of one account: deletes events that describe changes before the cutoff and
 * moves the account's pruned-through position forward (never back), so readChanges refuses cursors below it.
 * Returns how many events went. Run it in the transaction that prunes the account's history.
 */
export function pruneChangesStatement(accountId: string, cutoff: Date): { sql: string; params: unknown[] } {
  return {
    sql: `WITH gone AS (DELETE FROM change_event WHERE account_id = $1 AND occurred_at < $2::timestamptz RETURNING txid, seq),
      last AS (SELECT txid, seq FROM gone ORDER BY txid DESC, seq DESC LIMIT 1),
      moved AS (
        UPDATE history_horizon h SET changes_pruned_txid = last.txid, changes_pruned_seq = last.seq FROM last
        WHERE h.account_id = $1
          AND (h.changes_pruned_txid IS NULL OR (last.txid, last.seq) > (h.changes_pruned_txid, h.changes_pruned_seq))
        RETURNING 1)
      SELECT count(*)::int AS count FROM gone`,
    params: [accountId, cutoff],
  };
}
