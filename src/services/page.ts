import { InvalidInputError } from './errors';

/** One page of a keyset-paginated list; the transport turns it into a Relay connection. */
export interface Page<T> {
  nodes: T[];
  hasNextPage: boolean;
  totalCount: number;
  cursorOf: (node: T) => string;
}

/** Cursors are opaque to clients: base64url of a JSON array of the sort key. */
export function encodeCursor(key: unknown[]): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

export function decodeCursor(cursor: string | undefined, arity: number): string[] | null {
  if (cursor === undefined || cursor === null) return null;
  try {
    const key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(key) && key.length === arity && key.every((k) => typeof k === 'string')) return key;
  } catch {
    // fall through to the error below
  }
  throw new InvalidInputError('after is not a cursor returned by this API', 'after');
}
