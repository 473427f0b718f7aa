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

/** Cursors are opaque to clients: base64url of a JSON array of the sort key. */
export function encodeCursor(key: unknown[]): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

/**
 * What each part of a cursor must look like before it goes into SQL: `instant` as toISOString() writes it,
 * `instant?` that or '' (no sort value), `uuid` a row id, `text` anything. A forged cursor that decodes
 * to strings of another shape used to reach PostgreSQL and fail there (INTERNAL_SERVER_ERROR).
 */
export type CursorPart = 'text' | 'uuid' | 'instant' | 'instant?';
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
};

export function decodeCursor(cursor: string | undefined, arity: number, parts: CursorPart[] = [], argument: 'after' | 'before' = 'after'): string[] | null {
  if (cursor === undefined || cursor === null) return null;
  try {
    const key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (
      Array.isArray(key) && key.length === arity &&
      key.every((k, i) => typeof k === 'string' && isStorableText(k) && PART_OK[parts[i] ?? 'text'](k))
    ) {
      return key;
    }
  } catch {
    // fall through to the error below
  }
  throw new InvalidInputError(`${argument} is not a cursor returned by this API`, argument);
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
  source: NewestFirstSource<Row, Where>,
  by: keyof Row & string,
  where: Where,
  first: number,
  from?: PageFrom,
  direction: 'ASC' | 'DESC' = 'DESC',
): Promise<Page<Row>> {
  const { cursor: raw, argument, backward } = readPageFrom(from);
  const cursor = decodeCursor(raw, 2, ['instant', 'uuid'], argument);
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
    cursorOf: (row) => encodeCursor([(row[by] as Date).toISOString(), row.id]),
  };
}
