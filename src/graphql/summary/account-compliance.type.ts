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
});

@InputType()
export class AccountComplianceOrder {
  @Field(() => AccountComplianceOrderFieldEnum) field!: AccountComplianceOrderField;
  @Field(() => OrderDirectionEnum, { defaultValue: 'DESC', description: 'DESC (the default) lists the worst accounts first.' }) direction!: 'ASC' | 'DESC';
}

@ObjectType({ description: 'Each account\'s compliance summary, one node per account that has a completed scan.' })
export class AccountComplianceConnection extends Connection(ComplianceSummary, 'AccountCompliance') {}
