import { readRows } from '../adapters/db/prisma';
import type { PrismaClient } from '../generated/prisma/client';
import type { ComplianceStatus, FindingEvidence, FindingReason } from '../domain/finding';
import type { FindingState, Resolution } from '../domain/lifecycle';
import { accountScope, INSTANTS_SQL, instantsParam, resolveInstants, type AccountInstant, type UserInstant } from './instants';
import { decodeCursor, encodeCursor, pageOf, readPageFrom, type CursorTag, type Page, type PageFrom } from './page';
import type { Statement } from '../adapters/db/statement';

export interface FindingView {
  localId: string;
  identity: string;
  controlId: string;
  status: ComplianceStatus;
  reasons: FindingReason[];
  userName: string;
  userArn: string;
  /** IAM's user id; null for the root account and for findings stored before identities followed it. */
  userId: string | null;
  accessKeyId: string | null;
  accountId: string;
  evidence: FindingEvidence;
  state: FindingState;
  resolvedAt: Date | null;
  resolution: Resolution | null;
  reopenCount: number;
  firstSeenAt: Date;
  lastSeenAt: Date;
  scanId: string;
}

export interface FindingQuery {
  /** One account; deprecated in the API in favour of accountIds. Not with accountIds. */
  accountId?: string | null;
  /** Several accounts; neither this nor accountId: every account. */
  accountIds?: readonly string[] | null;
  status?: ComplianceStatus[] | null;
  state?: FindingState[] | null;
  userName?: string | null;
  controlId?: string | null;
  /** Any of these controls; an empty list matches nothing (a severity no control has). */
  controlIds?: readonly string[] | null;
  accessKeyId?: string | null;
  /** Findings with at least one of these reasons. */
  reasons?: readonly FindingReason[] | null;
  firstSeenAfter?: Date | null;
  resolvedAfter?: Date | null;
}

export type FindingOrderField = 'IDENTITY' | 'FIRST_SEEN_AT' | 'LAST_SEEN_AT' | 'RESOLVED_AT';
export interface FindingOrder {
  field: FindingOrderField;
  direction: 'ASC' | 'DESC';
}

/** The accounts, instants and filters one export reads. */
export interface ExportScope {
  instants: AccountInstant[];
  mode: 'current' | 'asOf';
  query: FindingQuery;
}

const DEFAULT_ORDER: FindingOrder = { field: 'IDENTITY', direction: 'ASC' };
/** The findings lists' cursors (findings, Account.findings, Scan.findings, exports) carry their order. */
const findingsTag = (order: FindingOrder): CursorTag => ({ list: 'f', field: order.field, direction: order.direction });

// Columns of a finding as of an instant: from the finding row (now) or from its version valid then.
const CURRENT_FROM = `${INSTANTS_SQL} JOIN finding f ON f.account_id = at.account_id`;
// The same, with the instants resolved in the statement itself (LatestScansOf): the accounts' latest scans.
const LATEST_WITH = `WITH latest AS MATERIALIZED (
    SELECT l.account_id, l.observed_at AS at, l.id AS scan_id FROM unnest($1::text[]) AS a(account_id)
    CROSS JOIN LATERAL (
      SELECT s.id, s.account_id, s.observed_at FROM scan s
      WHERE s.account_id = a.account_id AND s.status IN ('COMPLETED', 'PARTIAL')
      ORDER BY s.observed_at DESC LIMIT 1) l)`;
const LATEST_FROM = 'latest at JOIN finding f ON f.account_id = at.account_id';
const AS_OF_FROM = `${INSTANTS_SQL}
  JOIN finding_version v ON v.account_id = at.account_id AND v.valid_from <= at.at AND (v.valid_to IS NULL OR v.valid_to > at.at)
  JOIN finding f ON f.id = v.finding_id`;
// The last scan, at or before the instant, that really read the finding: not a scan that carried it over
// unread (a user or key it could not read) nor a targeted scan of other users. The scan that opened the
// version read it, so there is always one. None read a gone finding's version (present false): its key or user
// was not there to read, so the scan its content comes from answers, as the finding row's lastSeenAt does.
const SEEN_SQL = `LEFT JOIN LATERAL (
    SELECT s.id, s.observed_at FROM scan s
    WHERE v.present AND s.account_id = v.account_id AND s.status IN ('COMPLETED', 'PARTIAL') AND s.observed_at <= at.at AND s.observed_at >= v.valid_from
      AND (s.settings->'scope' IS NULL OR s.settings->'scope' ? v.user_name)
      AND NOT (f.identity = ANY(COALESCE(s.carried_identities, '{}')))
    ORDER BY s.observed_at DESC LIMIT 1) seen ON true`;
const CURRENT_COLUMNS = `f.user_name, f.user_arn, f.status, f.reasons, f.evidence, f.state, f.resolved_at, f.resolution, f.reopen_count,
  f.last_seen_at, f.last_scan_id::text AS scan_id`;
// No scan read the version since it began (it was carried over for a user renamed while unreadable, or its key or
// user is gone): the scan its content comes from. Otherwise that scan began the version, at valid_from.
const LAST_SEEN_SQL = `COALESCE(seen.observed_at, (SELECT fs.observed_at FROM scan fs WHERE fs.id = v.first_scan_id))`;
// Every field from what was stored for the instant: the user's name and ARN then, and when it was last seen by then.
const AS_OF_COLUMNS = `v.user_name, v.user_arn, v.status, v.reasons, v.evidence, v.state, v.resolved_at, v.resolution, v.reopen_count,
  ${LAST_SEEN_SQL} AS last_seen_at, COALESCE(seen.id, v.first_scan_id)::text AS scan_id`;

const SORT_SQL: Record<FindingOrderField, { current: string; asOf: string } | null> = {
  IDENTITY: null,
  FIRST_SEEN_AT: { current: 'f.first_seen_at', asOf: 'f.first_seen_at' },
  LAST_SEEN_AT: { current: 'f.last_seen_at', asOf: LAST_SEEN_SQL },
  RESOLVED_AT: { current: "COALESCE(f.resolved_at, '-infinity')", asOf: "COALESCE(v.resolved_at, '-infinity')" },
};

/**
 * Reads findings now (the latest scan of each account) or as of a past instant (the versions valid
 * when the latest scan at or before it read IAM). Pages are keyset: deep pages cost what the first does.
 */
export class FindingsService {
  constructor(private readonly prisma: PrismaClient) {}

  async list(query: FindingQuery, first: number, after?: PageFrom, options: { asOf?: Date | null; order?: FindingOrder | null } = {}): Promise<Page<FindingView>> {
    const scope = accountScope(query.accountId, query.accountIds);
    const order = options.order ?? DEFAULT_ORDER;
    if (scope && !options.asOf) {
      // The most asked read, in one statement. An empty page, or an account without a scan (whose error
      // resolveInstants words), goes the long way.
      const page = await this.pageOrNull({ accountIds: scope.ids }, query, first, after, 'current', order);
      if (page) return page;
      // resolveInstants answered for every account named, so the page came back empty: only its total is left.
      return this.emptyPage(await resolveInstants(this.prisma, scope, null), query, first, after, 'current', order);
    }
    const instants = await resolveInstants(this.prisma, scope, options.asOf);
    return this.listAt(instants, query, first, after, options.asOf ? 'asOf' : 'current', order);
  }

  /** Everything one scan's state held (the versions valid at its observedAt). */
  async listForScan(instant: AccountInstant, first: number, after?: PageFrom, query: FindingQuery = {}, order?: FindingOrder | null): Promise<Page<FindingView>> {
    return this.listAt([instant], query, first, after, 'asOf', order ?? DEFAULT_ORDER);
  }

  private async listAt(instants: AccountInstant[], query: FindingQuery, first: number, after: PageFrom, mode: 'current' | 'asOf', order: FindingOrder): Promise<Page<FindingView>> {
    return (await this.pageOrNull(instants, query, first, after, mode, order)) ?? this.emptyPage(instants, query, first, after, mode, order);
  }

  /** A page without rows, with the filter's total (an empty page's statement carries none). */
  private async emptyPage(instants: AccountInstant[], query: FindingQuery, first: number, after: PageFrom, mode: 'current' | 'asOf', order: FindingOrder): Promise<Page<FindingView>> {
    const [{ count }] = await readRows<{ count: bigint | string }>(this.prisma, findingsPageStatements(instants, query, first, after, mode, order).count);
    return { ...pageOf<FindingView>([], first, after), totalCount: Number(count), cursorOf: () => '' };
  }

  /** A page with its total, or null where that takes more than the one statement (see list). */
  private async pageOrNull(
    instants: AccountInstant[] | LatestScansOf,
    query: FindingQuery,
    first: number,
    after: PageFrom,
    mode: 'current' | 'asOf',
    order: FindingOrder,
  ): Promise<Page<FindingView> | null> {
    const rows = await readRows<FindingSqlRow & { total: bigint | string; answered?: bigint | string }>(
      this.prisma,
      findingsPageStatements(instants, query, first, after, mode, order).page,
    );
    if (rows.length === 0) return null;
    if (!Array.isArray(instants) && Number(rows[0]!.answered) < instants.accountIds.length) return null;
    const page = pageOf(rows, first, after);
    return {
      ...page,
      nodes: page.nodes.map(toView),
      totalCount: Number(rows[0]!.total),
      cursorOf: (f) => encodeCursor(findingsTag(order), [sortCursorValue(rows, f), f.identity]),
    };
  }

  /** What an export reads: the scans answering each account (resolved once, so every page describes the same ones). */
  async exportScope(query: FindingQuery, asOf?: Date | null): Promise<ExportScope> {
    const instants = await resolveInstants(this.prisma, accountScope(query.accountId, query.accountIds), asOf);
    return { instants, mode: asOf ? 'asOf' : 'current', query };
  }

  /**
   * One page of an export: up to `size` findings after `afterIdentity`, in identity order (the unique index), with
   * the same filters and columns as `list` and without its count. Keyset: the last page costs what the first does.
   * The findings stay JSON text, a part of EXPORT_PART_ROWS at a time, until `findingsOfPart` reads one.
   */
  async exportPageText(scope: ExportScope, size: number, afterIdentity: string | null): Promise<ExportPageText> {
    const after = afterIdentity === null ? undefined : encodeCursor(findingsTag(DEFAULT_ORDER), ['', afterIdentity]);
    const { sql, params } = exportPageStatement(scope, size, after);
    const rows = await readRows<{ part: string | null; rows: number; last_identity: string | null; more: boolean }>(this.prisma, { sql, params });
    const parts: string[] = [];
    let count = 0;
    let last: string | null = null;
    let more = false;
    for (const r of rows) {
      if (r.part !== null) parts.push(r.part);
      count += r.rows;
      last = r.last_identity ?? last;
      more ||= r.more;
    }
    return { parts, rows: count, hasNextPage: more, after: more ? last : null };
  }

  /** One page of an export, read (see exportPageText). */
  async exportPage(scope: ExportScope, size: number, afterIdentity: string | null): Promise<{ nodes: FindingView[]; hasNextPage: boolean }> {
    const page = await this.exportPageText(scope, size, afterIdentity);
    return { nodes: page.parts.flatMap(findingsOfPart), hasNextPage: page.hasNextPage };
  }

  async byIds(ids: readonly string[]): Promise<(FindingView | null)[]> {
    const rows = await this.prisma.$queryRawUnsafe<FindingSqlRow[]>(
      `SELECT f.id::text, f.identity, f.control_id, f.user_id, f.access_key_id, f.account_id, f.first_seen_at,
         ${CURRENT_COLUMNS}, NULL AS sort_value
       FROM finding f WHERE f.id = ANY($1::uuid[])`,
      [...ids],
    );
    const byId = new Map(rows.map((r) => [r.id, toView(r)]));
    return ids.map((id) => byId.get(id) ?? null);
  }

  /** The findings a user had at an instant, batched for IamUser.findings. */
  async forUsers(keys: readonly UserInstant[]): Promise<FindingView[][]> {
    const { sql, params } = findingsForUsersStatement(keys);
    const rows = await this.prisma.$queryRawUnsafe<FindingSqlRow[]>(sql, ...params);
    return keys.map((k) => rows.filter((r) => r.account_id === k.accountId && r.user_id === k.userId).map(toView));
  }

  async failingUserCount(instant: AccountInstant): Promise<number> {
    // A gone key's or user's finding keeps the FAIL it last had: it fails nobody now.
    const [{ count }] = await this.prisma.$queryRawUnsafe<{ count: bigint }[]>(
      `SELECT count(DISTINCT f.user_name) FROM ${AS_OF_FROM} WHERE v.status = 'FAIL' AND v.present`,
      instantsParam([instant]),
    );
    return Number(count);
  }
}

/**
 * The accounts of a current-state page whose latest scans the page's own statement resolves, as resolveInstants
 * would without asOf: one round trip instead of two. The statement also says how many of them had a scan.
 */
export interface LatestScansOf {
  accountIds: readonly string[];
}

/**
 * The statements of a findings page: its rows (first + 1, to know whether another page follows), the total count
 * of the filter, and `page`, the rows with that total on each. Keyset: `after` continues from a cursor this API
 * returned.
 */
export function findingsPageStatements(
  instants: AccountInstant[] | LatestScansOf,
  query: FindingQuery,
  first: number,
  after: PageFrom,
  mode: 'current' | 'asOf',
  order: FindingOrder = DEFAULT_ORDER,
): { rows: Statement; count: Statement; page: Statement } {
  const latest = !Array.isArray(instants);
  if (latest && mode !== 'current') throw new Error('the latest scans answer the current state only');
  const accountIds = latest ? instants.accountIds : instants.map((i) => i.accountId);
  // One account's current findings need no instants at all: its finding rows are its latest scan's state (a scan
  // writes them as it completes), and whether it has such a scan is one probe (`answered`). A fifth less of
  // PostgreSQL's time than the join, most of it planning.
  const single = latest && accountIds.length === 1;
  const params: unknown[] = [single ? accountIds[0] : latest ? [...accountIds] : instantsParam(instants)];
  const p = (value: unknown) => `$${params.push(value)}`;
  const col = (name: string) => (mode === 'asOf' && ['status', 'state', 'resolved_at', 'user_name'].includes(name) ? `v.${name}` : `f.${name}`);
  const where: string[] = [];
  // Said again beside the join: the planner cannot see which account the instants name, and without it walked
  // every account's findings in identity order (15,000 rows for a 50-row page of one account among 60,000).
  // With it, one account's page is a range of its own index (finding_failing, finding_present, …).
  if (single) where.push('f.account_id = $1');
  else if (accountIds.length === 1) where.push(`f.account_id = ${p(accountIds[0])}`);
  // A finding whose key or user is gone stays listed among the resolved (or never failed) ones, now and as of any
  // instant since (its version then is not present).
  const wantsResolved = query.state?.includes('RESOLVED') || query.state?.includes('NEVER_FAILED') || query.resolvedAfter != null;
  if (!wantsResolved) where.push(mode === 'asOf' ? 'v.present' : 'f.present');
  // Compared as the enums (not ::text), so the partial index for failing findings applies. "Any of these": a list
  // given empty matches nothing, never everything.
  if (query.status) where.push(`${col('status')} = ANY(${p(query.status)}::"ComplianceStatus"[])`);
  if (query.state) where.push(`${col('state')} = ANY(${p(query.state)}::"FindingState"[])`);
  if (query.userName) where.push(`${col('user_name')} = ${p(query.userName)}`);
  if (query.controlId) where.push(`f.control_id = ${p(query.controlId)}`);
  if (query.controlIds) where.push(`f.control_id = ANY(${p([...query.controlIds])}::text[])`);
  if (query.accessKeyId) where.push(`f.access_key_id = ${p(query.accessKeyId)}`);
  if (query.reasons) where.push(`${mode === 'asOf' ? 'v' : 'f'}.reasons && ${p([...query.reasons])}::text[]`);
  if (query.firstSeenAfter) where.push(`f.first_seen_at > ${p(query.firstSeenAfter)}`);
  if (query.resolvedAfter) where.push(`${col('resolved_at')} > ${p(query.resolvedAfter)}`);
  const filter = where.length ? `WHERE ${where.join(' AND ')}` : '';
  const countParams = [...params];
  const from = single ? 'finding f' : latest ? LATEST_FROM : mode === 'current' ? CURRENT_FROM : AS_OF_FROM;
  const withLatest = latest && !single ? LATEST_WITH : '';
  const answered = single
    ? `(SELECT count(*) FROM (SELECT 1 FROM scan s WHERE s.account_id = $1 AND s.status IN ('COMPLETED', 'PARTIAL') LIMIT 1) a)`
    : '(SELECT count(*) FROM latest)';

  const sort = SORT_SQL[order.field]?.[mode === 'current' ? 'current' : 'asOf'] ?? null;
  // Paging back reads the same keyset the other way round; the service puts the rows back in order.
  const { cursor: raw, argument, backward } = readPageFrom(after);
  const dir = (order.direction === 'DESC') !== backward ? 'DESC' : 'ASC';
  const cmp = dir === 'DESC' ? '<' : '>';
  const cursor = decodeCursor(raw, findingsTag(order), ['instant?', 'text'], argument);
  const keyset: string[] = [];
  if (cursor) {
    if (sort) keyset.push(`(${sort}, f.identity) ${cmp} (${p(cursor[0] === '' ? '-infinity' : cursor[0])}::timestamptz, ${p(cursor[1])})`);
    else keyset.push(`f.identity ${cmp} ${p(cursor[1])}`);
  }
  const pageWhere = [...where, ...keyset];
  const orderBy = sort ? `${sort} ${dir}, f.identity ${dir}` : `f.identity ${dir}`;
  const limit = p(first + 1);
  const count = `SELECT count(*) FROM ${from} ${filter}`;
  const rows = (extra: string) => `${withLatest} SELECT f.id::text, f.identity, f.control_id, f.user_id, f.access_key_id, f.account_id,
        f.first_seen_at, ${mode === 'current' ? CURRENT_COLUMNS : AS_OF_COLUMNS}, ${sort ?? 'NULL'} AS sort_value${extra}
      FROM ${from} ${mode === 'current' ? '' : SEEN_SQL} ${pageWhere.length ? `WHERE ${pageWhere.join(' AND ')}` : ''}
      ORDER BY ${orderBy} LIMIT ${limit}`;
  return {
    rows: { sql: rows(''), params },
    count: { sql: `${withLatest} ${count}`, params: countParams },
    // The rows with the total (and how many accounts had a scan) on each: one round trip where rows and count were
    // two. The subqueries are uncorrelated, so each runs once. An empty page carries no total: ask `count` then.
    page: { sql: rows(`, (${count}) AS total${latest ? `, ${answered} AS answered` : ''}`), params },
  };
}

/**
 * Rows of an export page's JSON text. Not one text a page: a string over 128 KiB is a large object to V8, allocated
 * in the old generation that only a full collection frees, so a page of 500 (about 600 KB) grew the heap by its size
 * on every read. 50 findings are about 60 KB.
 */
export const EXPORT_PART_ROWS = 50;

/** One page of an export as the store returned it. */
export interface ExportPageText {
  /** The findings as JSON arrays of up to EXPORT_PART_ROWS each, in identity order; `findingsOfPart` reads one. */
  parts: string[];
  /** Findings in the parts. */
  rows: number;
  hasNextPage: boolean;
  /** The identity the next page starts after; null on the last page. */
  after: string | null;
}

/** The findings of one part of an export page. */
export function findingsOfPart(part: string): FindingView[] {
  return (JSON.parse(part) as JsonFindingRow[]).map((r) => toView(fromJsonRow(r)));
}

/**
 * An export page as JSON texts: the findings page's rows statement (`size` + 1 rows, to know whether another page
 * follows), aggregated EXPORT_PART_ROWS at a time. Prisma's raw queries convert every value of every row (about
 * 0.1 ms a row); a few text values and JSON.parse cost a fraction of that. Each part says how many of the page's
 * findings it holds and whether it holds the extra row; the one holding the page's last finding names it.
 */
export function exportPageStatement(scope: ExportScope, size: number, after: string | undefined): Statement {
  const { sql, params } = findingsPageStatements(scope.instants, scope.query, size, after, scope.mode, DEFAULT_ORDER).rows;
  const all = [...params, size, EXPORT_PART_ROWS];
  const [s, part] = [`$${all.length - 1}`, `$${all.length}`];
  return {
    sql: `SELECT json_agg(q.p ORDER BY q.n) FILTER (WHERE q.n <= ${s})::text AS part,
        count(*) FILTER (WHERE q.n <= ${s})::int AS rows,
        max((q.p).identity) FILTER (WHERE q.n = ${s}) AS last_identity,
        bool_or(q.n > ${s}) AS more
      FROM (SELECT p, row_number() OVER (ORDER BY p.identity) AS n FROM (${sql}) p) q
      GROUP BY (q.n - 1) / ${part}
      ORDER BY (q.n - 1) / ${part}`,
    params: all,
  };
}

type JsonFindingRow = Omit<FindingSqlRow, 'first_seen_at' | 'last_seen_at' | 'resolved_at' | 'sort_value'> & {
  first_seen_at: string;
  last_seen_at: string;
  resolved_at: string | null;
};

const fromJsonRow = (r: JsonFindingRow): FindingSqlRow => ({
  ...r,
  first_seen_at: new Date(r.first_seen_at),
  last_seen_at: new Date(r.last_seen_at),
  resolved_at: r.resolved_at === null ? null : new Date(r.resolved_at),
  sort_value: null,
});

/** The findings each user had at its instant: not those of keys gone by then, as the default findings list. */
export function findingsForUsersStatement(users: readonly UserInstant[]): Statement {
  return {
    sql: `SELECT f.id::text, f.identity, f.control_id, f.user_id, f.access_key_id, f.account_id, f.first_seen_at,
         ${AS_OF_COLUMNS}, NULL AS sort_value
       FROM jsonb_to_recordset($1::jsonb) AS at(account_id text, user_id text, at timestamptz, scan_id uuid)
       JOIN finding f ON f.account_id = at.account_id AND f.user_id = at.user_id
       JOIN finding_version v ON v.finding_id = f.id AND v.valid_from <= at.at AND (v.valid_to IS NULL OR v.valid_to > at.at) AND v.present
       ${SEEN_SQL}
       ORDER BY f.identity`,
    params: [JSON.stringify(users.map((u) => ({ account_id: u.accountId, user_id: u.userId, at: u.at.toISOString(), scan_id: u.scanId })))],
  };
}

interface FindingSqlRow {
  id: string;
  identity: string;
  control_id: string;
  user_id: string | null;
  user_name: string;
  user_arn: string;
  access_key_id: string | null;
  account_id: string;
  first_seen_at: Date;
  status: ComplianceStatus;
  reasons: string[];
  evidence: unknown;
  state: FindingState;
  resolved_at: Date | null;
  resolution: Resolution | null;
  reopen_count: number;
  last_seen_at: Date;
  scan_id: string;
  sort_value: Date | null;
}

function sortCursorValue(rows: FindingSqlRow[], view: FindingView): string {
  const value = rows.find((r) => r.id === view.localId)?.sort_value;
  if (value === null || value === undefined) return '';
  const t = value instanceof Date ? value.getTime() : Number.NEGATIVE_INFINITY;
  return Number.isFinite(t) ? (value as Date).toISOString() : '';
}

function toView(r: FindingSqlRow): FindingView {
  return {
    localId: r.id,
    identity: r.identity,
    controlId: r.control_id,
    status: r.status,
    reasons: r.reasons as FindingReason[],
    userName: r.user_name,
    userArn: r.user_arn,
    userId: r.user_id,
    accessKeyId: r.access_key_id,
    accountId: r.account_id,
    evidence: reviveEvidence(r.evidence),
    state: r.state,
    resolvedAt: r.resolved_at,
    resolution: r.resolution,
    reopenCount: r.reopen_count,
    firstSeenAt: r.first_seen_at,
    lastSeenAt: r.last_seen_at,
    scanId: r.scan_id,
  };
}

const date = (v: unknown): Date | null => (typeof v === 'string' ? new Date(v) : v instanceof Date ? v : null);
const orNull = <T>(v: T | undefined): T | null => (v === undefined ? null : v);

/**
 * The stored evidence (JSON: dates as text, keys in the order and with the presence of the control version that
 * wrote it) as one object shape for every finding: copies and reads of it stay monomorphic, where spreading the
 * parsed JSON objects was 7% of a 50-finding page's CPU. An exception's fields are there only when stored.
 */
function reviveEvidence(json: unknown): FindingEvidence {
  const e = json as Record<string, unknown>;
  return {
    userCreatedAt: date(e.userCreatedAt),
    passwordEnabled: orNull(e.passwordEnabled as boolean | null | undefined),
    passwordLastUsedAt: date(e.passwordLastUsedAt),
    accessKeyId: orNull(e.accessKeyId as string | null | undefined),
    accessKeyStatus: orNull(e.accessKeyStatus as string | null | undefined),
    accessKeyCreatedAt: date(e.accessKeyCreatedAt),
    accessKeyLastUsedAt: date(e.accessKeyLastUsedAt),
    accessKeyLastUsedService: orNull(e.accessKeyLastUsedService as string | null | undefined),
    accessKeyLastUsedRegion: orNull(e.accessKeyLastUsedRegion as string | null | undefined),
    secondsFromUserCreationToKey: orNull(e.secondsFromUserCreationToKey as number | null | undefined),
    setupWindowSeconds: e.setupWindowSeconds as number,
    gracePeriodSeconds: e.gracePeriodSeconds as number,
    dataSource: e.dataSource as string,
    dataSourceAsOf: date(e.dataSourceAsOf) as Date,
    evaluatedAt: date(e.evaluatedAt) as Date,
    error: orNull(e.error as string | null | undefined),
    // undefined, not null, when absent: JSON (webhook payloads, exports) leaves the key out, as it did.
    exceptionId: e.exceptionId as string | null | undefined,
    exceptionExpiresAt: e.exceptionExpiresAt === undefined ? undefined : date(e.exceptionExpiresAt),
  };
}
