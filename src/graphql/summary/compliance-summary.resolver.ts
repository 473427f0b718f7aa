import { Authorized, Arg, Ctx, Query, Resolver } from 'type-graphql';
import { NO_ACCESS_KEYS_AT_SETUP } from '../../controls/no-access-keys-at-setup/control.metadata';
import type { ScansService } from '../../services/scans.service';
import type { Context, Services } from '../context';
import { toScan } from '../scans/scan.mapper';
import { ComplianceSummary } from './compliance-summary.type';

@Authorized('findings:read')
@Resolver(() => ComplianceSummary)
export class ComplianceSummaryResolver {
  @Query(() => ComplianceSummary)
  async complianceSummary(@Arg('accountId') accountId: string, @Ctx() { services }: Context): Promise<ComplianceSummary> {
    return complianceSummaryOf(accountId, await services.scans.latest(accountId), services);
  }
}

/** One account's summary from its latest completed scan: complianceSummary(accountId) and Account.complianceSummary. */
export async function complianceSummaryOf(accountId: string, latest: Awaited<ReturnType<ScansService['latest']>>, services: Services): Promise<ComplianceSummary> {
  const scan = toScan(latest.scan);
  const failingUsers = scan.counts.fail === 0 ? 0 : await services.findings.failingUserCount(latest.instant);
  return {
    accountId,
    control: NO_ACCESS_KEYS_AT_SETUP,
    scan,
    counts: scan.counts,
    compliant: scan.counts.fail === 0 && scan.counts.error === 0,
    failingUsers,
  };
}
