import { GraphQLError } from 'graphql';
import type { AuthCheckerInterface, ResolverData } from 'type-graphql';
import type { Context } from './context';
import { hasScope, isScope } from '../auth/scopes';

/**
 * The one auth checker behind every @Authorized(scope). Requests without a valid token never reach
 * GraphQL (HTTP 401 before it); here a missing scope is FORBIDDEN, naming the scope needed.
 */
export class ScopeAuthChecker implements AuthCheckerInterface<Context> {
  check({ context }: ResolverData<Context>, scopes: string[]): boolean {
    const principal = context.principal;
    if (!principal) throw new GraphQLError('authentication required', { extensions: { code: 'UNAUTHENTICATED', http: { status: 401 } } });
    const needed = scopes.filter(isScope);
    if (needed.some((scope) => hasScope(principal, scope))) return true;
    throw new GraphQLError(`this needs the ${needed.join(' or ')} scope; the token has ${principal.scopes.join(', ') || 'none'}`, {
      extensions: { code: 'FORBIDDEN', requiredScopes: needed },
    });
  }
}
