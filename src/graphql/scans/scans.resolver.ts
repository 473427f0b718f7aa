import { Arg, Args, Ctx, ID, Query, Resolver } from 'type-graphql';
import type { Context } from '../context';
import { localIdOf } from '../common/node';
import { PageArgs, pageSize, toConnection } from '../common/pagination';
import { Scan, ScanConnection } from './scan.type';
import { toScan } from './scan.mapper';

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
}
