import { Field, Int, ObjectType, type ClassType } from 'type-graphql';
import { PageInfo } from './pagination';

/**
 * A Relay connection of `node`: one definition instead of a Connection and an Edge class per entity, as
 * type-graphql's examples/generic-types builds its paginated responses. The edge type is `<name>Edge` (the
 * node type's name unless given); extend the result to name the connection:
 * `@ObjectType() class XConnection extends Connection(X) {}`. toConnection (pagination.ts) builds the value.
 */
export function Connection<TNode extends object>(node: ClassType<TNode>, name: string = node.name) {
  @ObjectType(`${name}Edge`)
  class Edge {
    @Field() cursor!: string;
    @Field(() => node) node!: TNode;
  }

  @ObjectType() // abstract: only its subclasses are in the schema (type-graphql 2 emits what resolvers reach)
  abstract class ConnectionOf {
    @Field(() => [Edge]) edges!: Edge[];
    @Field(() => [node]) nodes!: TNode[];
    @Field(() => PageInfo) pageInfo!: PageInfo;
    @Field(() => Int) totalCount!: number;
  }
  return ConnectionOf;
}
