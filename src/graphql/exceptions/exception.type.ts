import { Field, ID, InputType, ObjectType, registerEnumType } from 'type-graphql';
import { Connection } from '../common/connection';
import { Node } from '../common/node';
import { OrderDirectionEnum } from '../common/scalars';
import { UserErrorOf } from '../common/user-errors';

export const ExceptionOrderFieldEnum = { CREATED_AT: 'CREATED_AT' } as const;
registerEnumType(ExceptionOrderFieldEnum, {
  name: 'ExceptionOrderField',
  description: 'What exceptions are ordered by.',
  valuesConfig: { CREATED_AT: { description: 'When it was approved (ties in id order).' } },
});

const EXCEPTION_USER_ERROR_CODES = {
  INVALID_INPUT: 'An input field is malformed (see field and message).',
  EXCEPTION_NOT_FOUND: 'No exception has this id.',
  UNKNOWN_ACCOUNT: 'Keywarden does not know the account (keywarden accounts add / sync).',
  ACCOUNT_MISMATCH: 'The credentials act in another account than the one named: nothing was changed.',
  ASSUME_ROLE_DENIED: 'Keywarden could not assume its role in the account: nothing was changed.',
  KEY_NOT_FOUND: 'IAM has no such user or access key.',
  IAM_ACCESS_DENIED: 'IAM refused the read: the credentials lack a permission.',
  IAM_THROTTLED: 'IAM throttled the call after every retry: try again later.',
  IAM_LIMIT_EXCEEDED: 'An IAM limit was exceeded.',
  IAM_ERROR: 'IAM failed otherwise (see message).',
} as const;
export const ExceptionUserErrorCodeEnum = Object.fromEntries(Object.keys(EXCEPTION_USER_ERROR_CODES).map((k) => [k, k])) as { [K in keyof typeof EXCEPTION_USER_ERROR_CODES]: K };
registerEnumType(ExceptionUserErrorCodeEnum, {
  name: 'ExceptionUserErrorCode',
  description: 'Why createException or revokeException refused or failed.',
  valuesConfig: Object.fromEntries(Object.entries(EXCEPTION_USER_ERROR_CODES).map(([k, description]) => [k, { description }])),
});

@ObjectType({ description: 'An expected failure of createException or revokeException, as data: a stable code, the input field at fault, and what to change.' })
export class ExceptionUserError extends UserErrorOf(ExceptionUserErrorCodeEnum) {}

@ObjectType({ implements: Node, description: 'An approved exception: covered failing findings are EXCEPTED until it expires or is revoked.' })
export class AccessException extends Node {
  @Field({ description: 'The account (12 digits).' }) accountId!: string;
  @Field({ description: 'The IAM user it covers.' }) userName!: string;
  @Field(() => String, { nullable: true, description: 'Null covers every key of the user.' }) accessKeyId!: string | null;
  @Field({ description: 'Why this user needs keys.' }) justification!: string;
  @Field({ description: 'When it stops covering findings.' }) expiresAt!: Date;
  @Field({ description: 'Who approved it: the API token or JWT subject.' }) createdBy!: string;
  @Field({ description: 'When it was approved.' }) createdAt!: Date;
  @Field(() => Date, { nullable: true, description: 'When it was revoked; null unless revoked.' }) revokedAt!: Date | null;
  @Field(() => String, { nullable: true, description: 'Who revoked it.' }) revokedBy!: string | null;
  @Field({ description: 'Not revoked and not expired.' }) active!: boolean;
}

@InputType({ description: 'The exception to approve.' })
export class CreateExceptionInput {
  @Field({ description: 'The account (12 digits).' }) accountId!: string;
  @Field({ description: 'The IAM user to cover.' }) userName!: string;
  @Field(() => String, { nullable: true, description: 'Omit to cover every key of the user.' }) accessKeyId?: string | null;
  @Field({ description: 'Why this user needs keys: 1-1,000 characters.' }) justification!: string;
  @Field({ description: 'In the future, at most 366 days away.' }) expiresAt!: Date;
}

@InputType({ description: 'The exception to revoke.' })
export class RevokeExceptionInput {
  @Field(() => ID, { description: 'The exception\'s global id.' }) id!: string;
}

@ObjectType({ description: 'What createException and revokeException answer.' })
export class ExceptionPayload {
  @Field(() => AccessException, { nullable: true, description: 'The exception as it now is; null when refused.' }) exception!: AccessException | null;
  @Field(() => [ExceptionUserError], { description: 'Why it was refused or failed; empty when it succeeded.' }) userErrors!: ExceptionUserError[];
}

@InputType({ description: 'Which exceptions to list; every condition given must hold.' })
export class ExceptionFilter {
  @Field(() => String, { nullable: true, description: 'One account.', deprecationReason: 'Use accountIds: [id]. Not with accountIds.' }) accountId?: string;
  @Field(() => [String], { nullable: true, description: 'Any of these accounts.' }) accountIds?: string[];
  @Field(() => String, { nullable: true, description: 'One IAM user.' }) userName?: string;
  @Field(() => Boolean, { nullable: true, description: 'True: in force; false: revoked or expired.' }) active?: boolean;
}

@InputType({ description: 'The order of exceptions.' })
export class ExceptionOrder {
  @Field(() => ExceptionOrderFieldEnum, { description: 'What to order by.' }) field!: 'CREATED_AT';
  @Field(() => OrderDirectionEnum, { defaultValue: 'DESC', description: 'DESC (the default): newest first.' }) direction!: 'ASC' | 'DESC';
}

@ObjectType({ description: 'A page of exceptions.' })
export class AccessExceptionConnection extends Connection(AccessException) {}
