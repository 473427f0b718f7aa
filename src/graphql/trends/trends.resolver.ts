import { Authorized, Arg, Ctx, Query, Resolver } from 'type-graphql';
import type { TrendInterval } from '../../services/trends.service';
import type { Context } from '../context';
import { TrendIntervalEnum } from '../common/scalars';
import { TrendPoint } from './trend.type';

@Authorized('findings:read')
@Resolver(() => TrendPoint)
export class TrendsResolver {
  @Query(() => [TrendPoint], {
    description:
      'Compliance over time, one point per bucket (at most 10,000). With accountId, that account: a bucket without a scan has null figures. ' +
      'Otherwise the accounts in accountIds, or every account: each bucket sums every account\'s state after its last scan before the bucket\'s end, ' +
      'carried forward when it was not scanned inside the bucket.',
  })
  complianceTrend(
    @Arg('accountId', () => String, { nullable: true, description: 'One account. Not with accountIds.' }) accountId: string | undefined,
    @Arg('accountIds', () => [String], { nullable: true, description: 'Several accounts, summed. Omit both for every account.' }) accountIds: string[] | undefined,
    @Arg('from', { description: 'Start of the first bucket.' }) from: Date,
    @Arg('to', { description: 'End of the range (exclusive).' }) to: Date,
    @Arg('interval', () => TrendIntervalEnum, { description: 'Bucket size.' }) interval: TrendInterval,
    @Ctx() { services }: Context,
  ): Promise<TrendPoint[]> {
    return services.trends.trend({ accountId, accountIds }, from, to, interval);
  }
}
