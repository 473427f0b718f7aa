import { ArgsType, Field, Int, ObjectType } from 'type-graphql';
import type { Page, PageFrom } from '../../services/page';
import { BadUserInputError } from './errors';

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 100;

@ObjectType({ description: 'Relay connection page information.' })
export class PageInfo {
  @Field({ description: 'More items follow endCursor (paging forward); when paging back, true when `before` was given.' })
  hasNextPage!: boolean;

  @Field({ description: 'More items precede startCursor (paging back); when paging forward, true when `after` was given.' })
  hasPreviousPage!: boolean;

  @Field(() => String, { nullable: true, description: 'The cursor of the first item; null for an empty page.' })
  startCursor!: string | null;

  @Field(() => String, { nullable: true, description: 'The cursor of the last item; null for an empty page.' })
  endCursor!: string | null;
}

/**
 * Forward paging: `first`/`after`. A connection that can page back takes BidirectionalPageArgs; one that cannot
 * (accountCompliance) keeps this, so a client is never handed `last` and `before` that would be ignored.
 */
@ArgsType()
export class PageArgs {
  @Field(() => Int, { nullable: true, defaultValue: DEFAULT_PAGE_SIZE, description: `Page size, at most ${MAX_PAGE_SIZE}.` })
  first?: number;

  @Field(() => String, { nullable: true, description: 'The endCursor of the previous page.' })
  after?: string;
}

/** Relay paging both ways: `first`/`after` forward, `last`/`before` back (read with pageRequest). */
@ArgsType()
export class BidirectionalPageArgs extends PageArgs {
  @Field(() => Int, { nullable: true, description: `Page back: the last items (at most ${MAX_PAGE_SIZE}) before \`before\`, or of the whole list, in the list's order. Not with after, nor with a first other than its default.` })
  last?: number;

  @Field(() => String, { nullable: true, description: 'The startCursor of the next page: page back from it. Not with after.' })
  before?: string;
}

export function pageSize(first: number | undefined | null, name = 'first'): number {
  if (first === undefined || first === null) return DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(first) || first < 0 || first > MAX_PAGE_SIZE) {
    throw new BadUserInputError(`${name} must be between 0 and ${MAX_PAGE_SIZE}; got ${first}`, name);
  }
  return first;
}

/**
 * A connection's paging arguments as a service's page request: the size and where to start (see PageFrom).
 * `first` has its default in the schema, so only a `first` other than the default is known to be the
 * client's: with `last` or `before` that one is refused rather than silently ignored.
 */
export function pageRequest(args: Partial<BidirectionalPageArgs>): { size: number; from: PageFrom } {
  const backward = args.last != null || args.before != null;
  if (!backward) return { size: pageSize(args.first), from: args.after ?? undefined };
  if (args.after != null) throw new BadUserInputError('give after (page forward) or before/last (page back), not both', 'after');
  if (args.first != null && args.first !== DEFAULT_PAGE_SIZE) throw new BadUserInputError('give first (page forward) or last (page back), not both', 'first');
  return { size: pageSize(args.last, 'last'), from: { before: args.before ?? undefined, backward: true } };
}

/** A deprecated single-value filter field and its list successor: either, not both. */
export function oneOrList<T>(one: T | null | undefined, list: T[] | null | undefined, field: string): T[] | undefined {
  if (one != null && list != null) throw new BadUserInputError(`give ${field} or ${field}s, not both (${field} is deprecated)`, field);
  if (one != null) return [one];
  return list ?? undefined;
}

/**
 * Builds a Relay connection; cursors come from the service's rows, nodes are mapped for GraphQL.
 * Edges are built only when a client asks for them: most ask for `nodes` and `endCursor`, and
 * encoding a cursor per row was a tenth of a findings page's time.
 */
export function toConnection<T, N>(page: Page<T>, map: (row: T) => N) {
  const nodes = page.nodes.map(map);
  const cursorAt = (i: number) => (i >= 0 && i < page.nodes.length ? page.cursorOf(page.nodes[i]) : null);
  return {
    nodes,
    get edges() {
      return nodes.map((node, i) => ({ node, cursor: cursorAt(i)! }));
    },
    totalCount: page.totalCount,
    pageInfo: {
      hasNextPage: page.hasNextPage,
      hasPreviousPage: page.hasPreviousPage ?? false,
      get startCursor() {
        return cursorAt(0);
      },
      get endCursor() {
        return cursorAt(nodes.length - 1);
      },
    },
  };
}
