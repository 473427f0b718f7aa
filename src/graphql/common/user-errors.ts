import { Field, ObjectType } from 'type-graphql';
import { boundedMessage } from './client-message';

/**
 * One userError type per mutation family, each with its own code enum, as Shopify's API has them
 * (`CustomerUserError { code: CustomerErrorCode }`): a client switches on the codes its mutation can return,
 * and a new family does not widen the others' enums. Extend the result to name it:
 * `@ObjectType() class ScanUserError extends UserErrorOf(ScanUserErrorCodeEnum) {}`.
 */
export function UserErrorOf<TCodes extends Record<string, string>>(codes: TCodes) {
  @ObjectType() // abstract: only its subclasses are in the schema
  abstract class TypedUserError {
    @Field(() => codes, { description: 'A stable code to switch on.' })
    code!: TCodes[keyof TCodes];

    @Field(() => [String], {
      nullable: true,
      description: 'The path of the input field at fault, from the mutation\'s arguments (["input", "findingIds", "3"]); null when the request as a whole is at fault.',
    })
    field!: string[] | null;

    @Field({ description: 'What went wrong and what to change, for a person.' })
    message!: string;
  }
  return TypedUserError;
}

export interface UserErrorOut<TCode extends string = string> {
  code: TCode;
  field: string[] | null;
  message: string;
}

/**
 * A service's field name as a path from the mutation's arguments: every mutation takes one `input`, and the
 * services name its fields as `accountIds`, `findingIds[3]` or `filter.accountId`.
 */
export function fieldPath(field: string | null | undefined): string[] | null {
  if (!field) return null;
  return ['input', ...field.split(/[.[\]]+/).filter(Boolean)];
}

/**
 * The userErrors of every mutation's payload, as sent: each message bounded to MAX_ERROR_MESSAGE_LENGTH, like
 * every other error message. userErrors are data, so formatError's bound never reached them, and their messages
 * quote the caller's values (and replay what an idempotency record stored). `codes` is the family's enum: a
 * code outside it is the service's bug, answered as `fallback` rather than failing the whole response (without
 * `codes`, for the untyped UserError, codes pass as they are).
 */
export function toUserErrors<TCode extends string>(
  errors: readonly { code: string; field?: string | null; message: string }[],
  codes?: Record<TCode, TCode>,
  fallback?: TCode,
): UserErrorOut<TCode>[] {
  return errors.map(({ code, field, message }) => ({
    code: !codes || code in codes ? (code as TCode) : fallback!,
    field: fieldPath(field),
    message: boundedMessage(message),
  }));
}
