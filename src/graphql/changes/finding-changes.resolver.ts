import { Args, Arg, Authorized, Ctx, FieldResolver, Query, Resolver, Root } from 'type-graphql';
import type { Context } from '../context';
import { CursorExpiredGraphQLError } from '../common/errors';
import { MAX_PAGE_SIZE, pageSize } from '../common/pagination';
import { Finding } from '../findings/finding.type';
import { toFinding } from '../findings/finding.mapper';
import { Scan } from '../scans/scan.type';
import { toScan } from '../scans/scan.mapper';
import { CursorExpiredError } from '../../services/finding-changes.service';
import { FindingChange, FindingChangeConnection, FindingChangeFilter, FindingChangesArgs } from './finding-change.type';
import { fromFindingChangeType, toFindingChangeConnection } from './finding-change.mapper';

@Authorized('findings:read')
@Resolver(() => FindingChange)
export class FindingChangesResolver {
  @Query(() => FindingChangeConnection, {
    description:
      'Finding transitions (opened, resolved, reopened, excepted, unexcepted) in commit order, for clients that sync: keep pageInfo.endCursor and ' +
      'pass it as `after` next time to get only what changed since. A transaction still running is never passed over: its transitions come ' +
      'once it commits. A cursor older than retention kept is refused with CURSOR_EXPIRED: read `findings` again, then continue from a new cursor.',
  })
  async findingChanges(
    @Args(() => FindingChangesArgs) { first, after }: FindingChangesArgs,
    @Arg('filter', () => FindingChangeFilter, { nullable: true, description: 'Which accounts and transitions; omitted: all.' }) filter: FindingChangeFilter | undefined,
    @Ctx() { services }: Context,
  ): Promise<FindingChangeConnection> {
    try {
      const page = await services.findingChanges.list(
        { accountIds: filter?.accountIds, types: filter?.types?.map(fromFindingChangeType) },
        pageSize(first ?? MAX_PAGE_SIZE),
        after,
      );
      return toFindingChangeConnection(page);
    } catch (err) {
      if (err instanceof CursorExpiredError) throw new CursorExpiredGraphQLError(err.message);
      throw err;
    }
  }

  @FieldResolver(() => Finding, { description: 'The finding as it is now (it may have changed again since).' })
  async finding(@Root() change: FindingChange, @Ctx() { loaders }: Context): Promise<Finding> {
    return toFinding((await loaders.finding.load(change.findingId))!);
  }

  @FieldResolver(() => Scan, {
    nullable: true,
    description: 'The scan that caused it: a full scan, or the re-evaluation of a user right after a remediation or an exception.',
  })
  async scan(@Root() change: FindingChange, @Ctx() { loaders }: Context): Promise<Scan | null> {
    const row = change.scanId ? await loaders.scan.load(change.scanId) : null;
    return row ? toScan(row) : null;
  }
}
