import { Field, Int, ObjectType, type ClassType } from 'type-graphql';
import { PageInfo } from './pagination';

/**
 * A Relay connection of `node`: one definition instead of a Connection and an Edge class per entity, as
 * type-graphql's examples/generic-types builds its paginated responses. The edge type is `<name>Edge`;
 * extend the result to name the connection: `@ObjectType() class XConnection extends Connection(X, 'X') {}`.
 * toConnection (pagination.ts) builds the value.
 */
export function Connection<TNode extends object>(node: ClassType<TNode>, name: string) {
  @ObjectType(`${name}Edge`)
  class Edge {
    @Field() cursor!: string;
    @Field(() => node) node!: TNode;
  }

  @ObjectType()
  abstract class ConnectionOf {
    @Field(() => [Edge]) edges!: Edge[];
    @Field(() => [node]) nodes!: TNode[];
    @Field(() => PageInfo) pageInfo!: PageInfo;
    @Field(() => Int) totalCount!: number;
  }
  return ConnectionOf;
}
