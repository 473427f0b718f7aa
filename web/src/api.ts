// The page's one way to the server: POST /graphql on the same origin with the session's token.

export interface GraphQLErrorShape {
  message: string;
  extensions?: { code?: string; [key: string]: unknown };
}

/** A request that answered errors (or no data): the first error's message and code. */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
    readonly status: number,
  ) {
    super(message);
  }
}

export type Gql = <T>(query: string, variables?: Record<string, unknown>) => Promise<T>;

/** `onUnauthenticated` runs when the server refuses the token (401): the page signs out. */
export function graphqlClient(token: () => string | null, onUnauthenticated: () => void): Gql {
  return async <T>(query: string, variables: Record<string, unknown> = {}): Promise<T> => {
    const res = await fetch('/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token() ?? ''}` },
      body: JSON.stringify({ query, variables }),
      credentials: 'omit', // the token travels in the header only; the page never uses cookies
    });
    let body: { data?: T; errors?: GraphQLErrorShape[] };
    try {
      body = (await res.json()) as typeof body;
    } catch {
      throw new ApiError(`the server answered ${res.status} without a GraphQL body`, undefined, res.status);
    }
    if (res.status === 401) onUnauthenticated();
    const first = body.errors?.[0];
    if (first || body.data == null) {
      throw new ApiError(first?.message ?? `no data (HTTP ${res.status})`, first?.extensions?.code, res.status);
    }
    return body.data;
  };
}
