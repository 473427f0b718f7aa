import { CursorExpiredError, decodeChangeCursor, InvalidCursorError, readChanges, type ChangeRow } from '../adapters/store/change-log';
import { FINDING_EVENTS, type FindingEvent, type FindingState, type Resolution } from '../domain/lifecycle';
import type { ComplianceStatus } from '../domain/finding';
import type { PrismaClient } from '../generated/prisma/client';
import { InvalidInputError } from './errors';
import { accountScope, assertKnownAccounts } from './instants';
import { decodeCursor, encodeCursor, type CursorTag, type Page } from './page';

export { CursorExpiredError };

/** One lifecycle transition of a finding, as the change log recorded it. */
export interface FindingChangeView {
  cursor: string;
  type: FindingEvent;
  occurredAt: Date;
  accountId: string;
  findingId: string;
  scanId: string | null;
  state: FindingState;
  previousState: FindingState | null;
  status: ComplianceStatus;
  resolution: Resolution | null;
  reopenCount: number;
}

export interface FindingChangePage {
  nodes: FindingChangeView[];
  hasNextPage: boolean;
  /** Where the next call resumes, also after an empty page. */
  endCursor: string;
  totalCount: number;
}

export interface FindingChangeQuery {
  accountIds?: readonly string[] | null;
  types?: readonly FindingEvent[] | null;
}

/** Which transitions Scan.openedFindings and Scan.resolvedFindings list: those its counts `opened` and `resolved` count. */
const CAUSED = {
  opened: { types: ['finding.opened', 'finding.reopened', 'finding.unexcepted'], sql: 'true' },
  // An exception covering a finding never opened resolves no open period: Scan.resolved does not count it.
  resolved: { types: ['finding.resolved', 'finding.excepted'], sql: `(e.type = 'finding.resolved' OR e.payload->>'previousState' = 'OPEN')` },
} as const;

/**
 * Finding transitions in commit order, for clients that sync (findingChanges), and the findings one scan
 * changed. Reads the change log through readChanges only (adapters/store/change-log.ts).
 */
export class FindingChangesService {
  constructor(private readonly prisma: PrismaClient) {}

  async list(query: FindingChangeQuery, first: number, after?: string | null): Promise<FindingChangePage> {
    const scope = accountScope(null, query.accountIds);
    await assertKnownAccounts(this.prisma, scope);
    if (query.types && query.types.length === 0) throw new InvalidInputError('types must name at least one type; omit it for every type', 'types');
    const types = query.types?.length ? [...new Set(query.types)] : [...FINDING_EVENTS];
    let page;
    try {
      page = await readChanges(this.prisma, { after, first, accountIds: scope?.ids ?? null, types });
    } catch (err) {
      if (err instanceof InvalidCursorError) throw new InvalidInputError(err.message, 'after');
      throw err;
    }
    const totalCount = await this.countAfter(page.rows.length ? page.rows[0].cursor : page.endCursor, page.rows.length > 0, scope?.ids ?? null, types);
    return { nodes: page.rows.map(toView), hasNextPage: page.hasNextPage, endCursor: page.endCursor, totalCount };
  }

  /** Events from `cursor` on (inclusive when it is this page's first row), as readChanges would page them. */
  private async countAfter(cursor: string, inclusive: boolean, accountIds: readonly string[] | null, types: readonly string[]): Promise<number> {
    const { txid, seq } = decodeChangeCursor(cursor);
    const [{ count }] = await this.prisma.$queryRawUnsafe<{ count: number }[]>(
      `SELECT count(*)::int AS count FROM change_event e
       WHERE e.txid < pg_snapshot_xmin(pg_current_snapshot()) AND (e.txid, e.seq) ${inclusive ? '>=' : '>'} ($1::text::xid8, $2::bigint)
         AND ($3::text[] IS NULL OR e.account_id = ANY($3::text[])) AND e.type = ANY($4::text[])`,
      txid, seq, accountIds ? [...accountIds] : null, [...types],
    );
    return count;
  }

  /**
   * The findings whose transition this scan caused (openedFindings, resolvedFindings), in the order it wrote
   * them. Read from the change log: once retention pruned the scan's events, the list is empty.
   */
  async causedBy(scanId: string, kind: keyof typeof CAUSED, first: number, after?: string): Promise<Page<{ findingId: string; seq: string }>> {
    const tag: CursorTag = { list: kind === 'opened' ? 'so' : 'sr' };
    const cursor = decodeCursor(after, tag, ['int']);
    const { types, sql } = CAUSED[kind];
    const where = `e.scan_id = $1::uuid AND e.type = ANY($2::text[]) AND ${sql}`;
    const [rows, [{ count }]] = await Promise.all([
      this.prisma.$queryRawUnsafe<{ finding_id: string; seq: bigint }[]>(
        `SELECT e.finding_id::text, e.seq FROM change_event e WHERE ${where} AND e.seq > $3::bigint ORDER BY e.seq LIMIT $4`,
        scanId, [...types], cursor ? cursor[0] : '0', first + 1,
      ),
      this.prisma.$queryRawUnsafe<{ count: number }[]>(`SELECT count(*)::int AS count FROM change_event e WHERE ${where}`, scanId, [...types]),
    ]);
    return {
      nodes: rows.slice(0, first).map((r) => ({ findingId: r.finding_id, seq: String(r.seq) })),
      hasNextPage: rows.length > first,
      totalCount: count,
      cursorOf: (r) => encodeCursor(tag, [r.seq]),
    };
  }
}

function toView(row: ChangeRow): FindingChangeView {
  const p = row.payload as Record<string, unknown>;
  return {
    cursor: row.cursor,
    type: row.type as FindingEvent,
    occurredAt: row.occurredAt,
    accountId: row.accountId,
    findingId: row.findingId!,
    scanId: row.scanId,
    state: p.state as FindingState,
    previousState: (p.previousState ?? null) as FindingState | null,
    status: p.status as ComplianceStatus,
    resolution: (p.resolution ?? null) as Resolution | null,
    reopenCount: Number(p.reopenCount ?? 0),
  };
}
