import { Field, InputType, ObjectType, registerEnumType } from 'type-graphql';
import { Node } from '../common/node';
import { Connection } from '../common/connection';
import { AccessKeyStatusEnum, OrderDirectionEnum, type AccessKeyStatus } from '../common/scalars';

export const IamUserOrderFieldEnum = { IDENTITY: 'IDENTITY' } as const;
registerEnumType(IamUserOrderFieldEnum, {
  name: 'IamUserOrderField',
  description: 'What IAM users are ordered by.',
  valuesConfig: { IDENTITY: { description: 'Account, then user name.' } },
});

@ObjectType({ description: 'An access key\'s metadata. Keywarden never reads or stores secret key material.' })
export class AccessKey {
  @Field({ description: 'The access key id (AKIA…).' }) accessKeyId!: string;
  @Field(() => AccessKeyStatusEnum, { description: 'Its status in IAM.' }) status!: AccessKeyStatus;
  @Field({ description: 'When it was created.' }) createdAt!: Date;
  @Field(() => Date, { nullable: true, description: 'When it was last used; null if never.' }) lastUsedAt!: Date | null;
  @Field(() => String, { nullable: true, description: 'The AWS service it was last used with.' }) lastUsedService!: string | null;
  @Field(() => String, { nullable: true, description: 'The AWS region it was last used in.' }) lastUsedRegion!: string | null;
}

@ObjectType({ description: 'An IAM user tag.' })
export class Tag {
  @Field({ description: 'The tag key.' }) key!: string;
  @Field({ description: 'The tag value.' }) value!: string;
}

@ObjectType({ implements: Node, description: 'An IAM user as a scan of its account saw it (the latest, or the one answering asOf).' })
export class IamUser extends Node {
  @Field({ description: 'The account (12 digits).' }) accountId!: string;
  @Field({ description: 'The user\'s name.' }) userName!: string;
  @Field({ description: 'The user\'s ARN.' }) arn!: string;
  @Field(() => String, { nullable: true, description: 'IAM\'s stable user id (AIDA…); null when it was not read.' }) userId!: string | null;
  @Field({ description: 'When the user was created.' }) createdAt!: Date;
  @Field(() => Boolean, { nullable: true, description: 'Null when the login profile could not be read.' })
  hasConsolePassword!: boolean | null;
  @Field(() => Date, { nullable: true, description: 'When the console password was last used; null if never.' }) passwordLastUsedAt!: Date | null;
  @Field(() => Boolean, { nullable: true, description: 'Whether the user has an MFA device; null when not read.' }) mfaActive!: boolean | null;
  @Field(() => [Tag], { nullable: true, description: 'Null when not collected (credential-report scans skip tags by default).' })
  tags!: Tag[] | null;
  @Field(() => String, { nullable: true, description: 'Why this user could not be fully read.' }) readError!: string | null;
  @Field({ description: 'The instant this view of the user describes: when the scan that answers read IAM.' })
  asOf!: Date;
  /** Internal: resolved into `scan`. */
  scanId!: string;
}

@InputType({ description: 'Which IAM users to list; every condition given must hold.' })
export class IamUserFilter {
  @Field(() => String, { nullable: true, description: 'One account.', deprecationReason: 'Use accountIds: [id]. Not with accountIds.' }) accountId?: string;
  @Field(() => [String], { nullable: true, description: 'The accounts to list (at most 1,000); omitted: every account. An id without a completed scan is BAD_USER_INPUT.' })
  accountIds?: string[];
  @Field(() => String, { nullable: true, description: 'One user, by name.' }) userName?: string;
  @Field(() => Boolean, { nullable: true, description: 'Users with (true) or without (false) a console password.' }) hasConsolePassword?: boolean;
}

@InputType({ description: 'The order of IAM users.' })
export class IamUserOrder {
  @Field(() => IamUserOrderFieldEnum, { description: 'What to order by.' }) field!: 'IDENTITY';
  @Field(() => OrderDirectionEnum, { defaultValue: 'ASC', description: 'ASC (the default) or DESC.' }) direction!: 'ASC' | 'DESC';
}

@ObjectType({ description: 'A page of IAM users.' })
export class IamUserConnection extends Connection(IamUser, 'IamUser') {}
