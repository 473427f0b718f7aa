import { Authorized, Arg, Args, Ctx, Extensions, FieldResolver, ID, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { Context, Loaders } from '../context';
import { EXPENSIVE } from '../common/expensive-mutations';
import { localIdOf } from '../common/node';
import { RequiresScope } from '../common/requires-scope';
import { PageArgs, pageSize, toConnection } from '../common/pagination';
import { FindingConnection } from '../findings/finding.type';
import { toFinding } from '../findings/finding.mapper';
import { IamUserConnection } from '../users/iam-user.type';
import { toIamUser } from '../users/iam-user.mapper';
import { detailInstantOf } from '../../services/scans.service';
import { Scan, ScanConnection } from './scan.type';
import { toScan } from './scan.mapper';

const EMPTY = { nodes: [], hasNextPage: false, totalCount: 0, cursorOf: () => '' };

@Authorized('findings:read')
@Resolver(() => Scan)
export class ScansResolver {
  @Query(() => ScanConnection, { description: 'Scan history, newest first.' })
  async scans(
    @Args(() => PageArgs) { first, after }: PageArgs,
    @Arg('accountId', () => String, { nullable: true }) accountId: string | undefined,
    @Ctx() { services }: Context,
  ): Promise<ScanConnection> {
    return toConnection(await services.scans.list(accountId, pageSize(first), after), toScan);
  }

  @Query(() => Scan, { nullable: true })
  async scan(@Arg('id', () => ID) id: string, @Ctx() { loaders }: Context): Promise<Scan | null> {
    const row = await loaders.scan.load(localIdOf('Scan', id));
    return row ? toScan(row) : null;
  }

  @Authorized('scans:write')
  @Extensions(EXPENSIVE)
  @Mutation(() => Scan, {
    description: 'Scans the account the server\'s IAM credentials read and returns the stored scan (FAILED scans included). ' +
      'While a scan of the account runs, callers wait and then share the next one. At most one per request.',
  })
  async startScan(@Ctx() { services, loaders }: Context): Promise<Scan> {
    const summary = await services.startScan();
    return toScan((await loaders.scan.load(summary.scanId))!);
  }

  @RequiresScope('findings:read')
  @FieldResolver(() => Boolean, {
    description: 'True when retention deleted part of the state this scan recorded: `findings` and `iamUsers` are then refused, not listed in part; '
      + 'its counts and trends still cover it. False for a scan that recorded no state.',
  })
  async detailPruned(@Root() scan: Scan, @Ctx() { loaders }: Context): Promise<boolean> {
    return (await loaders.scanDetailPrunedBefore.load(localIdOf('Scan', scan.id))) !== null;
  }

  @RequiresScope('findings:read')
  @FieldResolver(() => FindingConnection, { description: 'The account\'s findings as this scan left them (empty for a FAILED scan; an error when `detailPruned`).' })
  async findings(@Root() scan: Scan, @Args(() => PageArgs) { first, after }: PageArgs, @Ctx() { loaders, services }: Context): Promise<FindingConnection> {
    const instant = await detailInstant(scan, loaders);
    return toConnection(instant ? await services.findings.listForScan(instant, pageSize(first), after) : EMPTY, toFinding);
  }

  @RequiresScope('findings:read')
  @FieldResolver(() => IamUserConnection, { description: 'The users as this scan saw them (empty for a FAILED scan; an error when `detailPruned`).' })
  async iamUsers(@Root() scan: Scan, @Args(() => PageArgs) { first, after }: PageArgs, @Ctx() { loaders, services }: Context): Promise<IamUserConnection> {
    const instant = await detailInstant(scan, loaders);
    return toConnection(instant ? await services.iamUsers.listAt([instant], {}, pageSize(first), after) : EMPTY, toIamUser);
  }
}

async function detailInstant(scan: Scan, loaders: Loaders) {
  const id = localIdOf('Scan', scan.id);
  const [row, prunedBefore] = await Promise.all([loaders.scan.load(id), loaders.scanDetailPrunedBefore.load(id)]);
  return detailInstantOf(row!, prunedBefore);
}
