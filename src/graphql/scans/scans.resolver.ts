import { Authorized, Arg, Args, Ctx, Extensions, FieldResolver, ID, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { Context, Loaders } from '../context';
import { EXPENSIVE } from '../common/expensive-mutations';
import { localIdOf, tryLocalIdOf } from '../common/node';
import { BadUserInputError, ServiceUnavailableError } from '../common/errors';
import { RequiresScope } from '../common/requires-scope';
import { oneOrList, BidirectionalPageArgs, PageArgs, pageRequest, pageSize, toConnection } from '../common/pagination';
import { toUserErrors } from '../common/user-errors';
import { FindingConnection, FindingFilter, FindingOrder } from '../findings/finding.type';
import { findingQuery, toFinding } from '../findings/finding.mapper';
import { IamUserConnection, IamUserFilter, IamUserOrder } from '../users/iam-user.type';
import { toIamUser } from '../users/iam-user.mapper';
import { detailInstantOf } from '../../services/scans.service';
import type { FindingView } from '../../services/findings.service';
import { ScanInputError, type ScanJobsService } from '../../services/scan-jobs.service';
import {
  CancelScanInput,
  CancelScanPayload,
  Scan,
  ScanConnection,
  ScanFilter,
  ScanOrder,
  ScanSchedule,
  ScanUserErrorCodeEnum,
  StartScanInput,
  StartScanPayload,
} from './scan.type';
import { toScan } from './scan.mapper';

const EMPTY = { nodes: [], hasNextPage: false, totalCount: 0, cursorOf: () => '' };

@Authorized('findings:read')
@Resolver(() => Scan)
export class ScansResolver {
  @Query(() => ScanConnection, { description: 'Scan history, newest first.' })
  async scans(
    @Args(() => BidirectionalPageArgs) page: BidirectionalPageArgs,
    @Arg('accountId', () => String, { nullable: true, description: 'One account.', deprecationReason: 'Use filter: { accountIds: [id] }. Not with filter.accountIds.' }) accountId: string | undefined,
    @Arg('filter', () => ScanFilter, { nullable: true, description: 'Which scans; omitted: all.' }) filter: ScanFilter | undefined,
    @Arg('orderBy', () => ScanOrder, { nullable: true, description: 'Default: { field: QUEUED_AT, direction: DESC }.' }) orderBy: ScanOrder | undefined,
    @Ctx() { services }: Context,
  ): Promise<ScanConnection> {
    const { size, from } = pageRequest(page);
    const accountIds = oneOrList(accountId, filter?.accountIds, 'accountId');
    return toConnection(await services.scans.list({ ...filter, accountIds }, size, from, orderBy?.direction), toScan);
  }

  @Query(() => Scan, { nullable: true, description: 'One scan by its global id (a raw scan UUID is accepted too); null when there is none.' })
  async scan(@Arg('id', () => ID, { description: 'The scan\'s global id.' }) id: string, @Ctx() { loaders }: Context): Promise<Scan | null> {
    const row = await loaders.scan.load(localIdOf('Scan', id));
    return row ? toScan(row) : null;
  }

  @Authorized('scans:write')
  @Extensions(EXPENSIVE)
  @Mutation(() => StartScanPayload, {
    description: 'Queues a scan of each account asked for and returns at once: each scan QUEUED (poll scan(id) for RUNNING with progress, then ' +
      'COMPLETED, PARTIAL or FAILED). A scan already waiting for an account is returned instead of a second one. At most one per request.',
  })
  async startScan(
    @Arg('input', () => StartScanInput, { nullable: true, description: 'Which accounts; omitted: the account the base credentials act on.' }) input: StartScanInput | null,
    @Ctx() { services, actor }: Context,
  ): Promise<StartScanPayload> {
    const jobs = requireQueue(services.scanJobs);
    try {
      const { scans, skipped } = await jobs.enqueueIdempotent(
        { accountIds: input?.accountIds ?? null, allAccounts: input?.allAccounts ?? false, mode: input?.mode ?? null, requestedBy: actor },
        input?.idempotencyKey ?? null,
      );
      return { scans: scans.map(toScan), skipped, userErrors: [] };
    } catch (err) {
      if (err instanceof ScanInputError) return { scans: [], skipped: [], userErrors: scanUserErrors([err]) };
      throw err;
    }
  }

  @Authorized('scans:write')
  @Mutation(() => CancelScanPayload, { description: 'Cancels a QUEUED scan (its job leaves the queue); a RUNNING or finished scan cannot be cancelled.' })
  async cancelScan(@Arg('input', () => CancelScanInput, { description: 'The request: see its input type.' }) input: CancelScanInput, @Ctx() { services }: Context): Promise<CancelScanPayload> {
    const jobs = requireQueue(services.scanJobs);
    const id = tryLocalIdOf('Scan', input.scanId);
    if (!id) return { scan: null, userErrors: scanUserErrors([{ code: 'SCAN_NOT_FOUND', field: 'scanId', message: 'scanId is not a Scan id this API issued' }]) };
    const { scan, error } = await jobs.cancel(id);
    return { scan: scan ? toScan(scan) : null, userErrors: scanUserErrors(error ? [{ ...error, field: 'scanId' }] : []) };
  }

  @Query(() => ScanSchedule, { description: 'When organization-wide scans run by themselves (KEYWARDEN_SCAN_SCHEDULE, UTC).' })
  scanSchedule(@Ctx() { services }: Context): ScanSchedule {
    return services.scanSchedule();
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
  async findings(
    @Root() scan: Scan,
    @Args(() => BidirectionalPageArgs) page: BidirectionalPageArgs,
    @Arg('filter', () => FindingFilter, { nullable: true, description: 'Which of its findings; accountId and accountIds may only name its account.' }) filter: FindingFilter | undefined,
    @Arg('orderBy', () => FindingOrder, { nullable: true, description: 'Default: { field: IDENTITY, direction: ASC }.' }) orderBy: FindingOrder | undefined,
    @Ctx() { loaders, services }: Context,
  ): Promise<FindingConnection> {
    const { size, from } = pageRequest(page);
    const instant = await detailInstant(scan, loaders);
    if (instant) onlyAccount(filter, instant.accountId);
    return toConnection(instant ? await services.findings.listForScan(instant, size, from, findingQuery(filter), orderBy) : EMPTY, toFinding);
  }

  @RequiresScope('findings:read')
  @FieldResolver(() => FindingConnection, {
    description: 'findings:read. The findings this scan opened or reopened (its `opened` count), as they are now; from the change log, so empty once retention pruned its events.',
  })
  async openedFindings(@Root() scan: Scan, @Args(() => PageArgs) { first, after }: PageArgs, @Ctx() ctx: Context): Promise<FindingConnection> {
    return causedBy(scan, 'opened', pageSize(first), after, ctx);
  }

  @RequiresScope('findings:read')
  @FieldResolver(() => FindingConnection, {
    description: 'findings:read. The findings this scan resolved (its `resolved` count), as they are now; from the change log, so empty once retention pruned its events.',
  })
  async resolvedFindings(@Root() scan: Scan, @Args(() => PageArgs) { first, after }: PageArgs, @Ctx() ctx: Context): Promise<FindingConnection> {
    return causedBy(scan, 'resolved', pageSize(first), after, ctx);
  }

  @RequiresScope('findings:read')
  @FieldResolver(() => IamUserConnection, { description: 'The users as this scan saw them (empty for a FAILED scan; an error when `detailPruned`).' })
  async iamUsers(
    @Root() scan: Scan,
    @Args(() => BidirectionalPageArgs) page: BidirectionalPageArgs,
    @Arg('filter', () => IamUserFilter, { nullable: true, description: 'Which of its users; accountId and accountIds may only name its account.' }) filter: IamUserFilter | undefined,
    @Arg('orderBy', () => IamUserOrder, { nullable: true, description: 'Default: { field: IDENTITY, direction: ASC }.' }) orderBy: IamUserOrder | undefined,
    @Ctx() { loaders, services }: Context,
  ): Promise<IamUserConnection> {
    const { size, from } = pageRequest(page);
    const instant = await detailInstant(scan, loaders);
    if (instant) onlyAccount(filter, instant.accountId);
    const { accountId: _a, accountIds: _b, ...query } = filter ?? {};
    return toConnection(instant ? await services.iamUsers.listAt([instant], query, size, from, orderBy?.direction) : EMPTY, toIamUser);
  }
}

async function detailInstant(scan: Scan, loaders: Loaders) {
  const id = localIdOf('Scan', scan.id);
  const [row, prunedBefore] = await Promise.all([loaders.scan.load(id), loaders.scanDetailPrunedBefore.load(id)]);
  return detailInstantOf(row!, prunedBefore);
}

async function causedBy(scan: Scan, kind: 'opened' | 'resolved', first: number, after: string | undefined, { services, loaders }: Context): Promise<FindingConnection> {
  const page = await services.findingChanges.causedBy(localIdOf('Scan', scan.id), kind, first, after);
  const findings = await Promise.all(page.nodes.map((n) => loaders.finding.load(n.findingId)));
  const seqOf = new Map(page.nodes.map((n, i) => [findings[i], n] as const));
  const nodes = findings.filter((f): f is FindingView => f !== null);
  return toConnection({ ...page, nodes, cursorOf: (f) => page.cursorOf(seqOf.get(f)!) }, toFinding);
}

const scanUserErrors = (errors: { code: string; field?: string | null; message: string }[]) => toUserErrors(errors, ScanUserErrorCodeEnum, 'INVALID_INPUT');

/** A scan lists one account: a filter naming another is a mistake, not an empty page. */
function onlyAccount(filter: { accountId?: string; accountIds?: string[] } | undefined, accountId: string): void {
  const named = [...(filter?.accountId != null ? [filter.accountId] : []), ...(filter?.accountIds ?? [])];
  if (named.some((id) => id !== accountId)) throw new BadUserInputError(`this scan is of account ${accountId}: leave filter.accountId(s) out`, 'filter.accountIds');
}

function requireQueue(jobs: ScanJobsService | null): ScanJobsService {
  if (!jobs) throw new ServiceUnavailableError('this server has no scan queue: run keywarden serve (or start) with its database, which carries the queue');
  return jobs;
}
