import { Arg, Args, Ctx, FieldResolver, Query, Resolver, Root } from 'type-graphql';
import type { Context } from '../context';
import { PageArgs, pageSize, toConnection } from '../common/pagination';
import { Scan } from '../scans/scan.type';
import { toScan } from '../scans/scan.mapper';
import { Finding, FindingConnection, FindingFilter } from './finding.type';
import { toFinding } from './finding.mapper';

@Resolver(() => Finding)
export class FindingsResolver {
  @Query(() => FindingConnection, { description: 'Findings as the latest scan of each account left them.' })
  async findings(
    @Arg('filter', () => FindingFilter, { nullable: true }) filter: FindingFilter | undefined,
    @Args(() => PageArgs) { first, after }: PageArgs,
    @Ctx() { services }: Context,
  ): Promise<FindingConnection> {
    const page = await services.findings.list(filter ?? {}, pageSize(first), after);
    return toConnection(page, toFinding);
  }

  @FieldResolver(() => Scan, { description: 'The scan that last observed this finding.' })
  async scan(@Root() finding: Finding, @Ctx() { loaders }: Context): Promise<Scan> {
    return toScan((await loaders.scan.load(finding.scanId))!);
  }
}
