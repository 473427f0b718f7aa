import { Authorized, Arg, Args, Ctx, Query, Resolver } from 'type-graphql';
import { DEFAULT_BREAKDOWN_ORDER } from '../../services/compliance-summary.service';
import type { Context } from '../context';
import { PageArgs, pageSize, toConnection } from '../common/pagination';
import { AccountComplianceConnection, AccountComplianceFilter, AccountComplianceOrder } from './account-compliance.type';
import { toComplianceSummary } from './compliance-summary.mapper';

@Authorized('findings:read')
@Resolver()
export class AccountComplianceResolver {
  @Query(() => AccountComplianceConnection, {
    description: 'Which accounts are worst: every account\'s compliance summary from its latest scan, by default most failing findings first.',
  })
  async accountCompliance(
    @Arg('filter', () => AccountComplianceFilter, { nullable: true, description: 'Which accounts; omitted: every account with a completed scan.' }) filter: AccountComplianceFilter | undefined,
    @Arg('orderBy', () => AccountComplianceOrder, { nullable: true, description: 'Default { field: FAIL_COUNT, direction: DESC }.' }) orderBy: AccountComplianceOrder | undefined,
    @Args(() => PageArgs) { first, after }: PageArgs,
    @Ctx() { services }: Context,
  ): Promise<AccountComplianceConnection> {
    const order = orderBy ? { orderBy: orderBy.field, direction: orderBy.direction } : DEFAULT_BREAKDOWN_ORDER;
    return toConnection(await services.complianceSummary.accountBreakdown({ ...order, first: pageSize(first), after, accountIds: filter?.accountIds }), toComplianceSummary);
  }
}
