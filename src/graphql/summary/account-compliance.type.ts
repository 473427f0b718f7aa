import { Field, InputType, ObjectType, registerEnumType } from 'type-graphql';
import type { AccountComplianceOrderField } from '../../services/compliance-summary.service';
import { Connection } from '../common/connection';
import { OrderDirectionEnum } from '../common/scalars';
import { ComplianceSummary } from './compliance-summary.type';

export const AccountComplianceOrderFieldEnum = {
  FAIL_COUNT: 'FAIL_COUNT',
  ERROR_COUNT: 'ERROR_COUNT',
  LAST_SCAN_AT: 'LAST_SCAN_AT',
  ACCOUNT_ID: 'ACCOUNT_ID',
} as const satisfies Record<AccountComplianceOrderField, AccountComplianceOrderField>;
registerEnumType(AccountComplianceOrderFieldEnum, {
  name: 'AccountComplianceOrderField',
  description: 'Counts and LAST_SCAN_AT are from each account\'s latest scan; ties are in account id order.',
  valuesConfig: {
    FAIL_COUNT: { description: 'FAIL findings.' },
    ERROR_COUNT: { description: 'ERROR findings (what could not be read).' },
    LAST_SCAN_AT: { description: 'When its latest scan read IAM.' },
    ACCOUNT_ID: { description: 'The account id.' },
  },
});

@InputType({ description: 'Which accounts a compliance breakdown lists.' })
export class AccountComplianceFilter {
  @Field(() => [String], { nullable: true, description: 'Only these accounts (12 digits each); an account without a completed scan is not listed.' }) accountIds?: string[];
}

@InputType({ description: 'The order of a compliance breakdown.' })
export class AccountComplianceOrder {
  @Field(() => AccountComplianceOrderFieldEnum, { description: 'What to order by.' }) field!: AccountComplianceOrderField;
  @Field(() => OrderDirectionEnum, { defaultValue: 'DESC', description: 'DESC (the default) lists the worst accounts first.' }) direction!: 'ASC' | 'DESC';
}

@ObjectType({ description: 'Each account\'s compliance summary, one node per account that has a completed scan.' })
export class AccountComplianceConnection extends Connection(ComplianceSummary, 'AccountCompliance') {}
