import { InvalidInputError } from './errors';

/** One page of a keyset-paginated list; the transport turns it into a Relay connection. */
export interface Page<T> {
  nodes: T[];
  hasNextPage: boolean;
  /** Set by lists that page back (last/before); false when absent. */
  hasPreviousPage?: boolean;
  totalCount: number;
  cursorOf: (node: T) => string;
}

/**
 * Where a page starts: a string is an `after` cursor (forward, as every list always took it); `backward` pages
 * back, the `size` items before `before` (or the last ones of the list), still answered in the list's order.
 */
export type PageFrom = string | undefined | { before?: string; backward: true };

/** The cursor a PageFrom carries, which argument it came from, and the way. */
export function readPageFrom(from: PageFrom): { cursor: string | undefined; argument: 'after' | 'before'; backward: boolean } {
  if (typeof from === 'object' && from !== null) return { cursor: from.before, argument: 'before', backward: true };
  return { cursor: from, argument: 'after', backward: false };
}

/**
 * A page read in reverse (backward), put back in the list's order, with what lies on each side: the rows
 * were read first + 1 in the reversed order, so one more means more before them.
 */
export function pageOf<T>(rows: T[], size: number, from: PageFrom): { nodes: T[]; hasNextPage: boolean; hasPreviousPage: boolean } {
  const { cursor, backward } = readPageFrom(from);
  const more = rows.length > size;
  const nodes = rows.slice(0, size);
  if (!backward) return { nodes, hasNextPage: more, hasPreviousPage: cursor !== undefined };
  return { nodes: nodes.reverse(), hasNextPage: cursor !== undefined, hasPreviousPage: more };
}

/**
 * Whether a string can be sent to the database: PostgreSQL text cannot hold U+0000, and Prisma's engine
 * cannot carry an unpaired UTF-16 surrogate. Either made the query fail (an INTERNAL_SERVER_ERROR).
 */
export function isStorableText(s: string): boolean {
  return !/\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(s);
}

/**
 * The lists that hand out cursors, by the short tag each of their cursors carries. A cursor read as a position in a
 * list that did not issue it (scans' [queuedAt, id] as findings' [sortValue, identity], an account id as a change-log
 * seq) used to answer a wrong page, often an empty one, instead of an error. 'c' is taken: the change log's cursors
 * (adapters/store/change-log.ts) start with it.
 */
export const CURSOR_LISTS = {
  s: 'scans',
  f: 'findings',
  u: 'iamUsers',
  a: 'accounts',
  ac: 'accountCompliance',
  e: 'exceptions',
  r: 'remediationActions',
  w: 'webhooks',
  wd: 'webhookDeliveries',
  so: 'Scan.openedFindings',
  sr: 'Scan.resolvedFindings',
} as const;
export type CursorList = keyof typeof CURSOR_LISTS;

/**
 * What issued a cursor: its list and the order it was read in. `field` only for lists ordered by several fields
 * (findings, accountCompliance); `direction` for lists that take one. A key position means nothing in another list
 * or under another order (a FIRST_SEEN_AT instant is no position in IDENTITY order, ASC and DESC page opposite ways).
 */
export interface CursorTag {
  list: CursorList;
  field?: string;
  direction?: 'ASC' | 'DESC';
}

// Written into every cursor, so kept to a few characters: "s-" (scans, DESC), "f:LAST_SEEN_AT-".
const tagText = (t: CursorTag) => `${t.list}${t.field ? `:${t.field}` : ''}${t.direction ? (t.direction === 'ASC' ? '+' : '-') : ''}`;
const TAG = /^([a-z]{1,2})(?::([A-Z_]{1,20}))?([+-])?$/;

/** Cursors are opaque to clients: base64url of a JSON array, the tag of what issued it, then the sort key. */
export function encodeCursor(tag: CursorTag, key: string[]): string {
  return Buffer.from(JSON.stringify([tagText(tag), ...key])).toString('base64url');
}

/**
 * What each part of a cursor must look like before it goes into SQL: `instant` as toISOString() writes it,
 * `instant?` that or '' (no sort value), `uuid` a row id, `int` a bigint sequence value, `text` anything. A forged
 * cursor that decodes to strings of another shape used to reach PostgreSQL and fail there (INTERNAL_SERVER_ERROR).
 */
export type CursorPart = 'text' | 'uuid' | 'instant' | 'instant?' | 'int';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ISO_INSTANT = /^(?!0000)\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
// V8 reads 2020-02-30 as March 1st; only an instant that round-trips is one this API wrote.
const roundTrips = (s: string) => {
  const t = Date.parse(s);
  return !Number.isNaN(t) && new Date(t).toISOString() === s;
};
const PART_OK: Record<CursorPart, (s: string) => boolean> = {
  text: () => true,
  uuid: (s) => UUID.test(s),
  instant: (s) => ISO_INSTANT.test(s) && roundTrips(s),
  'instant?': (s) => s === '' || PART_OK.instant(s),
  // 18 digits stay below bigint's 2^63: beyond it PostgreSQL refuses the cast.
  int: (s) => /^\d{1,18}$/.test(s),
};

/**
 * The sort key of a cursor issued under `tag`, one string per part; null without a cursor. A cursor of another
 * list or order is refused, saying which it was issued for; anything else this API did not write, as not a cursor.
 */
export function decodeCursor(cursor: string | undefined | null, tag: CursorTag, parts: CursorPart[], argument: 'after' | 'before' = 'after'): string[] | null {
  if (cursor === undefined || cursor === null) return null;
  let key: unknown[] = [];
  try {
    const parsed: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(parsed)) key = parsed;
  } catch {
    // not JSON: refused below
  }
  const issued = typeof key[0] === 'string' ? TAG.exec(key[0]) : null;
  if (!issued || !Object.hasOwn(CURSOR_LISTS, issued[1]!)) throw new InvalidInputError(`${argument} is not a cursor returned by this API`, argument);
  if (key[0] !== tagText(tag)) throw new InvalidInputError(mismatch(argument, issued, tag), argument);
  const values = key.slice(1);
  if (values.length === parts.length && values.every((k, i) => typeof k === 'string' && isStorableText(k) && PART_OK[parts[i]!](k))) {
    return values as string[];
  }
  throw new InvalidInputError(`${argument} is not a cursor returned by this API`, argument);
}

function mismatch(argument: string, [, list, field, sign]: RegExpExecArray, tag: CursorTag): string {
  const restart = `start again without ${argument}`;
  if (list !== tag.list) return `${argument} was issued for ${CURSOR_LISTS[list as CursorList]}, not ${CURSOR_LISTS[tag.list]}: ${restart}`;
  const order = [field ? `field: ${field}` : null, sign ? `direction: ${sign === '+' ? 'ASC' : 'DESC'}` : null].filter(Boolean).join(', ');
  return `${argument} was issued for orderBy { ${order} }: ask that order, or ${restart}`;
}

/** What a newest-first page needs of a Prisma model: its rows in an order, and how many match. */
export interface NewestFirstSource<Row, Where> {
  findMany(args: { where: Where; orderBy: Record<string, 'asc' | 'desc'>[]; take: number }): Promise<Row[]>;
  count(args: { where: Where }): Promise<number>;
}

/**
 * A keyset page by a timestamp column, ties broken by id, newest first unless `direction` is ASC: the order of
 * the scans, exceptions and remediation audit lists. The cursor is that timestamp and id. Paging back reads
 * the same keyset the other way round.
 */
export async function newestFirstPage<Row extends { id: string }, Where extends object>(
  list: CursorList,
  source: NewestFirstSource<Row, Where>,
  by: keyof Row & string,
  where: Where,
  first: number,
  from?: PageFrom,
  direction: 'ASC' | 'DESC' = 'DESC',
): Promise<Page<Row>> {
  const { cursor: raw, argument, backward } = readPageFrom(from);
  const tag: CursorTag = { list, direction };
  const cursor = decodeCursor(raw, tag, ['instant', 'uuid'], argument);
  const ascending = (direction === 'ASC') !== backward;
  const cmp = ascending ? 'gt' : 'lt';
  const keyset = cursor ? { OR: [{ [by]: { [cmp]: new Date(cursor[0]) } }, { [by]: new Date(cursor[0]), id: { [cmp]: cursor[1] } }] } : null;
  const order = ascending ? 'asc' : 'desc';
  const [rows, totalCount] = await Promise.all([
    source.findMany({ where: (keyset ? { AND: [where, keyset] } : where) as Where, orderBy: [{ [by]: order }, { id: order }], take: first + 1 }),
    source.count({ where }),
  ]);
  return {
    ...pageOf(rows, first, from),
    totalCount,
    cursorOf: (row) => encodeCursor(tag, [(row[by] as Date).toISOString(), row.id]),
  };
}
