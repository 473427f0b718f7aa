import { Field, InputType, ObjectType } from 'type-graphql';
import type { AccountSource, AccountStatus } from '../../domain/accounts';
import { Connection } from '../common/connection';
import { Node } from '../common/node';
import { AccountSourceEnum, AccountStatusEnum } from '../common/scalars';

@ObjectType({ implements: Node, description: 'An AWS account Keywarden reads (or knew): from the organization, added by hand, or its own credentials\' account.' })
export class Account extends Node {
  @Field({ description: '12 digits.' }) accountId!: string;
  @Field(() => String, { nullable: true, description: 'The name Organizations gives it (or `accounts add --name`).' }) name!: string | null;
  @Field(() => String, { nullable: true, description: 'The root user\'s email, from Organizations.' }) email!: string | null;
  @Field(() => String, { nullable: true, description: 'Root and OU ids from the root down, as ListParents gives them: `r-ab12/ou-ab12-11111111`.' })
  organizationalUnitPath!: string | null;
  @Field(() => AccountStatusEnum, { description: 'Its State in AWS Organizations.' }) status!: AccountStatus;
  @Field(() => AccountSourceEnum, { description: 'How Keywarden knows it.' }) source!: AccountSource;
  @Field(() => String, { nullable: true, description: 'The role Keywarden assumes, when one was configured; null: the member role (KEYWARDEN_MEMBER_ROLE_NAME), or none for CREDENTIALS.' })
  roleArn!: string | null;
  @Field({ description: 'Listed by the latest `keywarden accounts sync`.' }) inOrganization!: boolean;
  @Field(() => String, { nullable: true, description: 'Why Keywarden does not scan it (it left the organization, or is not ACTIVE); null when it does.' })
  skipReason!: string | null;
  @Field(() => Date, { nullable: true, description: 'The latest sync that listed it.' }) syncedAt!: Date | null;
  @Field({ description: 'When Keywarden first knew it.' }) createdAt!: Date;
}

@InputType({ description: 'Which accounts to list; every condition given must hold.' })
export class AccountFilter {
  @Field(() => [AccountStatusEnum], { nullable: true, description: 'Any of these statuses.' }) status?: AccountStatus[];
  @Field(() => [AccountSourceEnum], { nullable: true, description: 'Any of these sources.' }) source?: AccountSource[];
  @Field(() => [String], { nullable: true, description: 'Account ids, 12 digits each.' }) accountIds?: string[];
}

@ObjectType({ description: 'A page of accounts.' })
export class AccountConnection extends Connection(Account) {}
