import { Authorized, Arg, Args, Ctx, FieldResolver, Query, Resolver, Root } from 'type-graphql';
import type { Context } from '../context';
import { PageArgs, pageSize, toConnection } from '../common/pagination';
import { Scan } from '../scans/scan.type';
import { toScan } from '../scans/scan.mapper';
import { Finding, FindingConnection, FindingFilter, FindingOrder } from './finding.type';
import { toFinding } from './finding.mapper';

@Authorized('findings:read')
@Resolver(() => Finding)
export class FindingsResolver {
  @Query(() => FindingConnection, { description: 'Findings as the latest scan of each account left them, or as of an instant.' })
  async findings(
    @Arg('filter', () => FindingFilter, { nullable: true }) filter: FindingFilter | undefined,
    @Args(() => PageArgs) { first, after }: PageArgs,
    @Arg('asOf', () => Date, { nullable: true, description: 'Answer as of this instant: the latest completed scan at or before it. Omitted: now.' }) asOf: Date | undefined,
    @Arg('orderBy', () => FindingOrder, { nullable: true }) orderBy: FindingOrder | undefined,
    @Ctx() { services }: Context,
  ): Promise<FindingConnection> {
    return toConnection(await services.findings.list(filter ?? {}, pageSize(first), after, { asOf, order: orderBy }), toFinding);
  }

  @FieldResolver(() => Scan, { description: 'The scan that last observed this finding (as of the instant asked about).' })
  async scan(@Root() finding: Finding, @Ctx() { loaders }: Context): Promise<Scan> {
    return toScan((await loaders.scan.load(finding.scanId))!);
  }
}
