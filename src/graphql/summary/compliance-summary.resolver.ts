import { Authorized, Arg, Ctx, FieldResolver, Query, Resolver, Root } from 'type-graphql';
import type { Context } from '../context';
import { Scan } from '../scans/scan.type';
import { toScan } from '../scans/scan.mapper';
import { ComplianceSummary } from './compliance-summary.type';
import { toComplianceSummary } from './compliance-summary.mapper';

@Authorized('findings:read')
@Resolver(() => ComplianceSummary)
export class ComplianceSummaryResolver {
  @Query(() => ComplianceSummary, {
    description: 'With accountId, that account from its latest scan. Otherwise the accounts in accountIds, or every account, summed, each from its latest scan.',
  })
  async complianceSummary(
    @Arg('accountId', () => String, { nullable: true, description: 'One account. Not with accountIds.' }) accountId: string | undefined,
    @Arg('accountIds', () => [String], { nullable: true, description: 'Several accounts, summed. Omit both for every account.' }) accountIds: string[] | undefined,
    @Ctx() { services }: Context,
  ): Promise<ComplianceSummary> {
    return toComplianceSummary(await services.complianceSummary.summary({ accountId, accountIds }));
  }

  @FieldResolver(() => Scan, { nullable: true, description: 'The account\'s latest COMPLETED or PARTIAL scan; null when several accounts are summed.' })
  async scan(@Root() summary: ComplianceSummary, @Ctx() { loaders }: Context): Promise<Scan | null> {
    if (summary.scanRow) return toScan(summary.scanRow);
    return summary.scanId ? toScan((await loaders.scan.load(summary.scanId))!) : null;
  }
}
