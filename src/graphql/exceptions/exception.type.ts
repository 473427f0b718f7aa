import { Field, ID, InputType, Int, ObjectType } from 'type-graphql';
import { Node } from '../common/node';
import { PageInfo } from '../common/pagination';
import { UserError } from '../remediation/remediation.type';

@ObjectType({ implements: Node, description: 'An approved exception: covered failing findings are EXCEPTED until it expires or is revoked.' })
export class AccessException extends Node {
  @Field() accountId!: string;
  @Field() userName!: string;
  @Field(() => String, { nullable: true, description: 'Null covers every key of the user.' }) accessKeyId!: string | null;
  @Field() justification!: string;
  @Field() expiresAt!: Date;
  @Field() createdBy!: string;
  @Field() createdAt!: Date;
  @Field(() => Date, { nullable: true }) revokedAt!: Date | null;
  @Field(() => String, { nullable: true }) revokedBy!: string | null;
  @Field({ description: 'Not revoked and not expired.' }) active!: boolean;
}

@InputType()
export class CreateExceptionInput {
  @Field() accountId!: string;
  @Field() userName!: string;
  @Field(() => String, { nullable: true, description: 'Omit to cover every key of the user.' }) accessKeyId?: string | null;
  @Field({ description: 'Why this user needs keys: 1-1,000 characters.' }) justification!: string;
  @Field({ description: 'In the future, at most 366 days away.' }) expiresAt!: Date;
}

@InputType()
export class RevokeExceptionInput {
  @Field(() => ID) id!: string;
}

@ObjectType()
export class ExceptionPayload {
  @Field(() => AccessException, { nullable: true }) exception!: AccessException | null;
  @Field(() => [UserError]) userErrors!: UserError[];
}

@InputType()
export class ExceptionFilter {
  @Field(() => String, { nullable: true }) accountId?: string;
  @Field(() => String, { nullable: true }) userName?: string;
  @Field(() => Boolean, { nullable: true }) active?: boolean;
}

@ObjectType()
export class AccessExceptionEdge {
  @Field() cursor!: string;
  @Field(() => AccessException) node!: AccessException;
}

@ObjectType()
export class AccessExceptionConnection {
  @Field(() => [AccessExceptionEdge]) edges!: AccessExceptionEdge[];
  @Field(() => [AccessException]) nodes!: AccessException[];
  @Field(() => PageInfo) pageInfo!: PageInfo;
  @Field(() => Int) totalCount!: number;
}
