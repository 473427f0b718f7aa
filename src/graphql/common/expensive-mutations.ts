import type { ApolloServerPlugin } from '@apollo/server';
import { GraphQLError, Kind, type DocumentNode, type GraphQLSchema, type OperationDefinitionNode, type SelectionSetNode } from 'graphql';

/**
 * Marks a mutation as expensive: a full scan, or a bulk of up to 500 remediations. Set with type-graphql's
 * `@Extensions(EXPENSIVE)` on the mutation itself, so the mark sits with the mutation.
 */
export const EXPENSIVE = { expensive: true } as const;

export const TOO_MANY_EXPENSIVE_MUTATIONS = 'TOO_MANY_EXPENSIVE_MUTATIONS';

/** The mutations marked EXPENSIVE in the schema. */
export function expensiveMutations(schema: GraphQLSchema): Set<string> {
  const fields = Object.values(schema.getMutationType()?.getFields() ?? {});
  return new Set(fields.filter((f) => f.extensions?.expensive === true).map((f) => f.name));
}

/**
 * At most one expensive mutation field per request, refused before anything runs. Aliases made one request
 * start 30 full scans (360 IAM calls) or 30 bulk remediations. Fields are counted by response key (what
 * GraphQL executes once), through fragments, whatever @skip/@include say: a request that could run two is refused.
 */
export function oneExpensiveMutation(schema: GraphQLSchema): ApolloServerPlugin {
  const expensive = expensiveMutations(schema);
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ document, operation }) {
          if (operation?.operation !== 'mutation') return;
          const asked = [...rootFields(operation, document)].filter(([, name]) => expensive.has(name));
          if (asked.length > 1) {
            throw new GraphQLError(`at most one of ${[...expensive].join(', ')} per request; this one asks for ${asked.map(([key]) => key).join(', ')}: send them one at a time`, {
              extensions: { code: TOO_MANY_EXPENSIVE_MUTATIONS, http: { status: 400 } },
            });
          }
        },
      };
    },
  };
}

/**
 * The root fields an operation selects, by response key (alias or name) to field name. Fields under one key
 * are merged and run once; fragments are followed once each (validation has refused cycles).
 */
function rootFields(operation: OperationDefinitionNode, document: DocumentNode): Map<string, string> {
  const fragments = new Map(document.definitions.filter((d) => d.kind === Kind.FRAGMENT_DEFINITION).map((d) => [d.name.value, d]));
  const fields = new Map<string, string>();
  const followed = new Set<string>();
  const pending: SelectionSetNode[] = [operation.selectionSet];
  while (pending.length > 0) {
    for (const selection of pending.pop()!.selections) {
      if (selection.kind === Kind.FIELD) fields.set(selection.alias?.value ?? selection.name.value, selection.name.value);
      else if (selection.kind === Kind.INLINE_FRAGMENT) pending.push(selection.selectionSet);
      else if (!followed.has(selection.name.value)) {
        followed.add(selection.name.value);
        const fragment = fragments.get(selection.name.value);
        if (fragment) pending.push(fragment.selectionSet);
      }
    }
  }
  return fields;
}
