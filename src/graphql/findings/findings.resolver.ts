import { Authorized, Arg, Args, Ctx, FieldResolver, Query, Resolver, Root } from 'type-graphql';
import type { Context } from '../context';
import { BidirectionalPageArgs, pageRequest, toConnection } from '../common/pagination';
import { Scan } from '../scans/scan.type';
import { toScan } from '../scans/scan.mapper';
import { Finding, FindingConnection, FindingFilter, FindingOrder } from './finding.type';
import { findingQuery, toFinding } from './finding.mapper';

@Authorized('findings:read')
@Resolver(() => Finding)
export class FindingsResolver {
  @Query(() => FindingConnection, { description: 'Findings as the latest scan of each account left them, or as of an instant.' })
  async findings(
    @Arg('filter', () => FindingFilter, { nullable: true, description: 'Which findings; omitted: all.' }) filter: FindingFilter | undefined,
    @Args(() => BidirectionalPageArgs) page: BidirectionalPageArgs,
    @Arg('asOf', () => Date, { nullable: true, description: 'Answer as of this instant: the latest completed scan at or before it. Omitted: now.' }) asOf: Date | undefined,
    @Arg('orderBy', () => FindingOrder, { nullable: true, description: 'Default: { field: IDENTITY, direction: ASC }.' }) orderBy: FindingOrder | undefined,
    @Ctx() { services }: Context,
  ): Promise<FindingConnection> {
    const { size, from } = pageRequest(page);
    return toConnection(await services.findings.list(findingQuery(filter), size, from, { asOf, order: orderBy }), toFinding);
  }

  @FieldResolver(() => Scan, { description: 'The scan that last observed this finding (as of the instant asked about).' })
  async scan(@Root() finding: Finding, @Ctx() { loaders }: Context): Promise<Scan> {
    return toScan((await loaders.scan.load(finding.scanId))!);
  }
}
