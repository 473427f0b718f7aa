import { Field, Int, ObjectType, type ClassType } from 'type-graphql';
import { PageInfo } from './pagination';

/**
 * A Relay connection and its edge for one node type (type-graphql's generic-types example), so a new list
 * does not copy the Connection/Edge pair again: `@ObjectType() class AccountConnection extends Connection(Account) {}`.
 * The edge is named `<Node>Edge`. toConnection builds the value.
 */
export function Connection<TNode extends object>(nodeType: ClassType<TNode>) {
  @ObjectType(`${nodeType.name}Edge`)
  class Edge {
    @Field() cursor!: string;
    @Field(() => nodeType) node!: TNode;
  }

  @ObjectType() // abstract: only its subclasses are in the schema (type-graphql 2 emits what resolvers reach)
  abstract class ConnectionType {
    @Field(() => [Edge]) edges!: Edge[];
    @Field(() => [nodeType]) nodes!: TNode[];
    @Field(() => PageInfo) pageInfo!: PageInfo;
    @Field(() => Int) totalCount!: number;
  }
  return ConnectionType;
}
