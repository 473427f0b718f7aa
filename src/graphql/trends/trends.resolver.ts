import { Authorized, Arg, Ctx, Query, Resolver } from 'type-graphql';
import type { TrendInterval } from '../../services/trends.service';
import type { Context } from '../context';
import { TrendIntervalEnum } from '../common/scalars';
import { TrendPoint } from './trend.type';

@Authorized('findings:read')
@Resolver(() => TrendPoint)
export class TrendsResolver {
  @Query(() => [TrendPoint], { description: 'Compliance of one account over time, one point per bucket (at most 10,000).' })
  complianceTrend(
    @Arg('accountId', () => String, { nullable: true }) accountId: string | undefined,
    @Arg('from') from: Date,
    @Arg('to') to: Date,
    @Arg('interval', () => TrendIntervalEnum) interval: TrendInterval,
    @Ctx() { services }: Context,
  ): Promise<TrendPoint[]> {
    return services.trends.trend(accountId, from, to, interval);
  }
}
