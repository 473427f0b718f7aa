import crypto from 'node:crypto';
import type { PrismaClient, WebhookDelivery } from '../../generated/prisma/client';
import { CursorExpiredError, decodeChangeCursor, encodeChangeCursor, readChanges, type ChangeEventType, type ChangeRow } from '../store/change-log';

/** A change event as the shared reader gives it, with its transaction id (the delivery's place in order). */
export interface OutboxEvent extends ChangeRow {
  txid: string;
}

/** A delivery to create: the event's place and the payload built for it. */
export interface NewDelivery {
  event: OutboxEvent;
  payload: unknown;
}

/** Where a cursor stands: (txid, seq), as digits. */
export interface CursorPosition {
  txid: string;
  seq: string;
}

/**
 * The stable Standard Webhooks message id of one event for one endpoint: a retry or a redelivery carries the
 * same id, so a receiver can drop what it already has.
 */
export function messageIdOf(endpointId: string, seq: bigint): string {
  return `msg_${crypto.createHash('sha256').update(`${endpointId}:${seq}`).digest('base64url').slice(0, 26)}`;
}

// readChanges's visibility rule, for the due-work check only (events are read through readChanges): below the
// oldest transaction still open every transaction has ended, so no event can appear behind a cursor.
const COMMITTED = 'e.txid < pg_snapshot_xmin(pg_current_snapshot())';

/**
 * The outbox as webhook endpoints read it: each endpoint's cursor in (txid, seq) order, the deliveries made
 * as the cursor passes events, and the endpoints with work due.
 */
export class WebhookStore {
  constructor(private readonly prisma: PrismaClient) {}

  /** Starts an endpoint's cursor (at the oldest open transaction: later events are its, earlier are not). */
  async startCursor(endpointId: string, tx: Pick<PrismaClient, '$executeRawUnsafe'> = this.prisma): Promise<void> {
    await tx.$executeRawUnsafe('INSERT INTO webhook_cursor (endpoint_id) VALUES ($1::uuid) ON CONFLICT DO NOTHING', endpointId);
  }

  /**
   * The endpoint's next committed events of the given types, through the change log's one reader (readChanges:
   * (txid, seq) order below the oldest open transaction), and the position to move the cursor to: past the
   * last event, or, when none matched, as far as every transaction has ended (events of other types are passed over).
   * A cursor older than retention's horizon (the endpoint was off longer than the history is kept) goes on from
   * the horizon: `expired` says so.
   */
  async nextEvents(endpointId: string, types: readonly string[], limit: number): Promise<{ events: OutboxEvent[]; end: CursorPosition; expired: boolean }> {
    const [cursor] = await this.prisma.$queryRawUnsafe<CursorPosition[]>(
      'SELECT txid::text AS txid, seq::text AS seq FROM webhook_cursor WHERE endpoint_id = $1::uuid',
      endpointId,
    );
    if (!cursor) return { events: [], end: { txid: '0', seq: '0' }, expired: false };
    const query = { first: limit, types: types as readonly ChangeEventType[] };
    let expired = false;
    let page;
    try {
      page = await readChanges(this.prisma, { ...query, after: encodeChangeCursor(cursor) });
    } catch (err) {
      if (!(err instanceof CursorExpiredError)) throw err;
      expired = true;
      page = await readChanges(this.prisma, { ...query, after: await this.prunedThrough() });
    }
    const events = page.rows.map((row) => ({ ...row, txid: decodeChangeCursor(row.cursor).txid }));
    return { events, end: decodeChangeCursor(page.endCursor), expired };
  }

  /** The newest position retention pruned in any account: an expired cursor goes on from there. */
  private async prunedThrough(): Promise<string | null> {
    const [row] = await this.prisma.$queryRawUnsafe<CursorPosition[]>(
      `SELECT changes_pruned_txid::text AS txid, changes_pruned_seq::text AS seq FROM history_horizon
       WHERE changes_pruned_txid IS NOT NULL ORDER BY changes_pruned_txid DESC, changes_pruned_seq DESC LIMIT 1`,
    );
    return row ? encodeChangeCursor(row) : null;
  }

  /**
   * Records the deliveries of the events read and moves the cursor past the last event read, in one
   * transaction: an event is never skipped, and never gets a second delivery (the message id is unique).
   */
  async advance(endpointId: string, deliveries: NewDelivery[], end: CursorPosition, now: Date): Promise<void> {
    const rows = deliveries.map(({ event, payload }) => ({
      message_id: messageIdOf(endpointId, event.seq), event_txid: event.txid, event_seq: String(event.seq), event_type: event.type,
      occurred_at: event.occurredAt.toISOString(), payload,
    }));
    await this.prisma.$transaction([
      this.prisma.$executeRawUnsafe(
        `INSERT INTO webhook_delivery (endpoint_id, message_id, event_txid, event_seq, event_type, occurred_at, payload, next_attempt_at)
         SELECT $1::uuid, r.message_id, r.event_txid, r.event_seq, r.event_type, r.occurred_at, r.payload, $3
         FROM jsonb_to_recordset($2::jsonb) AS r(message_id text, event_txid bigint, event_seq bigint, event_type text, occurred_at timestamptz, payload jsonb)
         ON CONFLICT (endpoint_id, message_id) DO NOTHING`,
        endpointId,
        JSON.stringify(rows),
        now,
      ),
      this.prisma.$executeRawUnsafe(
        `UPDATE webhook_cursor SET txid = $2::text::xid8, seq = $3, updated_at = $4
         WHERE endpoint_id = $1::uuid AND (txid, seq) < ($2::text::xid8, $3::bigint)`,
        endpointId,
        end.txid,
        end.seq,
        now,
      ),
    ]);
  }

  /**
   * Takes the endpoint's lease for `seconds` (database time), or null when another job holds it: one job per
   * endpoint at a time keeps its deliveries in order; a dead worker's lease lapses. What it answers names this
   * lease (its end, to the microsecond, as text), for `release`.
   */
  async lease(endpointId: string, seconds: number): Promise<string | null> {
    const rows = await this.prisma.$queryRawUnsafe<{ lease: string }[]>(
      `UPDATE webhook_cursor SET leased_until = now() + make_interval(secs => $2)
       WHERE endpoint_id = $1::uuid AND (leased_until IS NULL OR leased_until < now())
       RETURNING leased_until::text AS lease`,
      endpointId,
      seconds,
    );
    return rows[0]?.lease ?? null;
  }

  /**
   * Ends the lease `lease` names, and only that one: a job that outlived its lease must not end the lease another
   * job took since, which would let a third run beside it and deliver out of order.
   */
  async release(endpointId: string, lease: string): Promise<void> {
    await this.prisma.$executeRawUnsafe(
      'UPDATE webhook_cursor SET leased_until = NULL WHERE endpoint_id = $1::uuid AND leased_until = $2::timestamptz',
      endpointId,
      lease,
    );
  }

  /** Records deliveries the receiver accepted, in one statement (a batch of a job's successes). */
  async markDelivered(accepted: { id: string; status: number; at: Date }[]): Promise<void> {
    if (accepted.length === 0) return;
    await this.prisma.$executeRawUnsafe(
      `UPDATE webhook_delivery d SET status = 'SUCCEEDED', attempts = d.attempts + 1, response_status = x.status, error = NULL,
         last_attempt_at = x.at, delivered_at = x.at, next_attempt_at = NULL
       FROM jsonb_to_recordset($1::jsonb) AS x(id uuid, status int, at timestamptz)
       WHERE d.id = x.id AND d.status = 'PENDING'`,
      JSON.stringify(accepted),
    );
  }

  /** The endpoint's undelivered deliveries, oldest event first: the first one blocks the others. */
  pending(endpointId: string, limit: number): Promise<WebhookDelivery[]> {
    return this.prisma.webhookDelivery.findMany({
      where: { endpointId, status: 'PENDING' },
      orderBy: [{ eventTxid: 'asc' }, { eventSeq: 'asc' }],
      take: limit,
    });
  }

  /**
   * Enabled endpoints, not leased by a job, with something to do at `now`: a first undelivered delivery that is
   * due, or (with none waiting) a committed event past the cursor.
   */
  async dueEndpoints(now: Date): Promise<string[]> {
    const rows = await this.prisma.$queryRawUnsafe<{ id: string }[]>(
      `SELECT w.id::text FROM webhook_endpoint w JOIN webhook_cursor c ON c.endpoint_id = w.id
       LEFT JOIN LATERAL (
         SELECT d.next_attempt_at FROM webhook_delivery d WHERE d.endpoint_id = w.id AND d.status = 'PENDING'
         ORDER BY d.event_txid, d.event_seq LIMIT 1) head ON true
       WHERE w.enabled AND (c.leased_until IS NULL OR c.leased_until < now()) AND (
         head.next_attempt_at <= $1
         OR (head.next_attempt_at IS NULL AND NOT EXISTS (SELECT 1 FROM webhook_delivery d WHERE d.endpoint_id = w.id AND d.status = 'PENDING')
             AND EXISTS (SELECT 1 FROM change_event e WHERE (e.txid, e.seq) > (c.txid, c.seq) AND ${COMMITTED} AND e.type = ANY(w.events))))`,
      now,
    );
    return rows.map((r) => r.id);
  }
}
