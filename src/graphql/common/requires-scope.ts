import type { ApolloServerPlugin } from '@apollo/server';
import {
  getNamedType,
  GraphQLError,
  isInterfaceType,
  isObjectType,
  Kind,
  type DocumentNode,
  type GraphQLNamedType,
  type GraphQLSchema,
  type SelectionSetNode,
} from 'graphql';
import { Authorized, Extensions } from 'type-graphql';
import { hasScope, type Scope } from '../../auth/scopes';
import type { Context } from '../context';

/**
 * A field only some scopes may read, on a type others reach too (a Scan returned by startScan to a
 * scans:write token). The auth checker enforces it when the field resolves, like every @Authorized; the mark
 * lets requiredScopesBeforeMutations refuse a mutation that asks for it before the mutation acts.
 */
export function RequiresScope(scope: Scope): PropertyDecorator & MethodDecorator {
  return (target: object, key: string | symbol, descriptor?: PropertyDescriptor) => {
    Authorized(scope)(target, key, descriptor as TypedPropertyDescriptor<unknown>);
    Extensions({ requiredScope: scope })(target, key, descriptor as TypedPropertyDescriptor<unknown>);
  };
}

/**
 * A mutation whose selection asks for a field the token may not read is FORBIDDEN before it runs: otherwise
 * it would act (start a scan), then answer FORBIDDEN with null data.
 */
export function requiredScopesBeforeMutations(schema: GraphQLSchema): ApolloServerPlugin<Context> {
  return {
    async requestDidStart({ contextValue }) {
      return {
        async didResolveOperation({ document, operation }) {
          const principal = contextValue.principal;
          if (operation?.operation !== 'mutation' || !principal) return;
          for (const { field, scope } of scopedFields(schema, document, operation.selectionSet, schema.getMutationType()!)) {
            if (hasScope(principal, scope)) continue;
            throw new GraphQLError(`this needs the ${scope} scope to read ${field}; the token has ${principal.scopes.join(', ') || 'none'}. Nothing was done`, {
              extensions: { code: 'FORBIDDEN', requiredScopes: [scope], http: { status: 403 } },
            });
          }
        },
      };
    },
  };
}

/** Every field in a selection (fragments followed) that carries a RequiresScope mark. */
function scopedFields(schema: GraphQLSchema, document: DocumentNode, root: SelectionSetNode, rootType: GraphQLNamedType): { field: string; scope: Scope }[] {
  const fragments = new Map(document.definitions.filter((d) => d.kind === Kind.FRAGMENT_DEFINITION).map((d) => [d.name.value, d]));
  const found: { field: string; scope: Scope }[] = [];
  const pending: [SelectionSetNode, GraphQLNamedType][] = [[root, rootType]];
  while (pending.length > 0) {
    const [set, type] = pending.pop()!;
    for (const selection of set.selections) {
      if (selection.kind === Kind.FIELD) {
        const field = isObjectType(type) || isInterfaceType(type) ? type.getFields()[selection.name.value] : undefined;
        if (!field) continue; // __typename, or an unknown field validation has already refused
        const scope = field.extensions?.requiredScope as Scope | undefined;
        if (scope) found.push({ field: `${type.name}.${field.name}`, scope });
        if (selection.selectionSet) pending.push([selection.selectionSet, getNamedType(field.type)]);
      } else {
        const fragment = selection.kind === Kind.INLINE_FRAGMENT ? selection : fragments.get(selection.name.value);
        if (!fragment) continue;
        const on = fragment.typeCondition ? schema.getType(fragment.typeCondition.name.value) : type;
        if (on) pending.push([fragment.selectionSet, on]);
      }
    }
  }
  return found;
}
