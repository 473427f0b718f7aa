import { Field, InputType, ObjectType } from 'type-graphql';
import { Node } from '../common/node';
import { Connection } from '../common/connection';

@ObjectType({ description: 'An access key\'s metadata. Keywarden never reads or stores secret key material.' })
export class AccessKey {
  @Field() accessKeyId!: string;
  @Field() status!: string;
  @Field() createdAt!: Date;
  @Field(() => Date, { nullable: true }) lastUsedAt!: Date | null;
  @Field(() => String, { nullable: true }) lastUsedService!: string | null;
  @Field(() => String, { nullable: true }) lastUsedRegion!: string | null;
}

@ObjectType()
export class Tag {
  @Field() key!: string;
  @Field() value!: string;
}

@ObjectType({ implements: Node, description: 'An IAM user as a scan of its account saw it (the latest, or the one answering asOf).' })
export class IamUser extends Node {
  @Field() accountId!: string;
  @Field() userName!: string;
  @Field() arn!: string;
  @Field(() => String, { nullable: true }) userId!: string | null;
  @Field() createdAt!: Date;
  @Field(() => Boolean, { nullable: true, description: 'Null when the login profile could not be read.' })
  hasConsolePassword!: boolean | null;
  @Field(() => Date, { nullable: true }) passwordLastUsedAt!: Date | null;
  @Field(() => Boolean, { nullable: true }) mfaActive!: boolean | null;
  @Field(() => [Tag], { nullable: true, description: 'Null when not collected (credential-report scans skip tags by default).' })
  tags!: Tag[] | null;
  @Field(() => String, { nullable: true, description: 'Why this user could not be fully read.' }) readError!: string | null;
  @Field({ description: 'The instant this view of the user describes: when the scan that answers read IAM.' })
  asOf!: Date;
  /** Internal: resolved into `scan`. */
  scanId!: string;
}

@InputType()
export class IamUserFilter {
  @Field(() => String, { nullable: true, deprecationReason: 'Use accountIds: [id]. Not with accountIds.' }) accountId?: string;
  @Field(() => [String], { nullable: true, description: 'The accounts to list (at most 1,000); omitted: every account. An id without a completed scan is BAD_USER_INPUT.' })
  accountIds?: string[];
  @Field(() => String, { nullable: true }) userName?: string;
  @Field(() => Boolean, { nullable: true }) hasConsolePassword?: boolean;
}

@ObjectType()
export class IamUserConnection extends Connection(IamUser, 'IamUser') {}
