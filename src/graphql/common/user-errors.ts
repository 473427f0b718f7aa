import type { UserErrorData } from '../../domain/remediation';
import { boundedMessage } from './client-message';

export interface UserErrorOut {
  code: string;
  field: string | null;
  message: string;
}

/**
 * The userErrors of every mutation's payload, as sent: each message bounded to MAX_ERROR_MESSAGE_LENGTH, like
 * every other error message. userErrors are data, so formatError's bound never reached them, and their messages
 * quote the caller's values (and replay what an idempotency record stored).
 */
export function toUserErrors(errors: readonly (UserErrorData | UserErrorOut)[]): UserErrorOut[] {
  return errors.map(({ code, field, message }) => ({ code, field, message: boundedMessage(message) }));
}
