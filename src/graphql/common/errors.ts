import { GraphQLError } from 'graphql';

/** Stable `extensions.code` values clients can switch on. */
export enum ErrorCode {
  BAD_USER_INPUT = 'BAD_USER_INPUT',
  NOT_FOUND = 'NOT_FOUND',
  INTERNAL_SERVER_ERROR = 'INTERNAL_SERVER_ERROR',
  /** HTTP 503 with Retry-After: a dependency (the token store) could not be reached; retry later. */
  SERVICE_UNAVAILABLE = 'SERVICE_UNAVAILABLE',
  /** A findingChanges cursor older than the change log's retention: resync from `findings`, then page from a new cursor. */
  CURSOR_EXPIRED = 'CURSOR_EXPIRED',
}

export class BadUserInputError extends GraphQLError {
  constructor(message: string, field?: string) {
    super(message, { extensions: { code: ErrorCode.BAD_USER_INPUT, ...(field ? { field } : {}) } });
  }
}

export class NotFoundError extends GraphQLError {
  constructor(message: string) {
    super(message, { extensions: { code: ErrorCode.NOT_FOUND } });
  }
}

export function assertNever(value: never): never {
  throw new Error(`unexpected value: ${JSON.stringify(value)}`);
}

/** Something this server needs is not there (no scan queue): retrying elsewhere or later may help. */
export class ServiceUnavailableError extends GraphQLError {
  constructor(message: string) {
    super(message, { extensions: { code: ErrorCode.SERVICE_UNAVAILABLE } });
  }
}

/** A cursor retention has passed: continuing from it would skip changes silently, so it is refused. */
export class CursorExpiredGraphQLError extends GraphQLError {
  constructor(message: string) {
    super(message, { extensions: { code: ErrorCode.CURSOR_EXPIRED, field: 'after' } });
  }
}
