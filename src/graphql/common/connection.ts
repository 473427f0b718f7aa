import { Field, Int, ObjectType, type ClassType } from 'type-graphql';
import { PageInfo } from './pagination';

/**
 * A Relay connection of `node`: one definition instead of a Connection and an Edge class per entity, as
 * type-graphql's examples/generic-types builds its paginated responses. The edge type is `<name>Edge` (the
 * node type's name unless given); extend the result to name the connection:
 * `@ObjectType() class XConnection extends Connection(X) {}`. toConnection (pagination.ts) builds the value.
 */
export function Connection<TNode extends object>(node: ClassType<TNode>, name: string = node.name) {
  @ObjectType(`${name}Edge`, { description: `One ${node.name} of a page, with its cursor.` })
  class Edge {
    @Field({ description: 'Where this item is: pass it as after (or before) to continue from it.' }) cursor!: string;
    @Field(() => node, { description: 'The item.' }) node!: TNode;
  }

  @ObjectType() // abstract: only its subclasses are in the schema (type-graphql 2 emits what resolvers reach)
  abstract class ConnectionOf {
    @Field(() => [Edge], { description: 'The items with their cursors.' }) edges!: Edge[];
    @Field(() => [node], { description: 'The items, without cursors (pageInfo has the first and last).' }) nodes!: TNode[];
    @Field(() => PageInfo, { description: 'Where this page is in the list.' }) pageInfo!: PageInfo;
    @Field(() => Int, { description: 'How many items the whole list (the filter) has.' }) totalCount!: number;
  }
  return ConnectionOf;
}
