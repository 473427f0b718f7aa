import { Authorized, Arg, Args, Ctx, FieldResolver, Query, Resolver, Root } from 'type-graphql';
import type { Context } from '../context';
import { BadUserInputError } from '../common/errors';
import { BidirectionalPageArgs, pageRequest, pageSize, toConnection } from '../common/pagination';
import { FindingConnection, FindingFilter, FindingOrder } from '../findings/finding.type';
import { findingQuery, toFinding } from '../findings/finding.mapper';
import { Scan, ScanConnection, ScanFilter, ScanOrder } from '../scans/scan.type';
import { toScan } from '../scans/scan.mapper';
import { ComplianceSummary } from '../summary/compliance-summary.type';
import { toComplianceSummary } from '../summary/compliance-summary.mapper';
import { AccountComplianceOrder } from '../summary/account-compliance.type';
import { Account, AccountConnection, AccountFilter } from './account.type';
import { toAccount } from './account.mapper';

const EMPTY = { nodes: [], hasNextPage: false, totalCount: 0, cursorOf: () => '' };

@Authorized('findings:read')
@Resolver(() => Account)
export class AccountsResolver {
  @Query(() => AccountConnection, {
    description: 'The accounts Keywarden knows, in account id order: scanned ones, and those kept but not scanned (see skipReason). ' +
      'With orderBy, which accounts are worst: those with a completed scan, ordered by their latest scan (FAIL_COUNT, ERROR_COUNT, LAST_SCAN_AT, ACCOUNT_ID).',
  })
  async accounts(
    @Arg('filter', () => AccountFilter, { nullable: true, description: 'Which accounts; omitted: all. Not with orderBy.' }) filter: AccountFilter | undefined,
    @Arg('orderBy', () => AccountComplianceOrder, { nullable: true, description: 'By compliance, worst first by default; not with filter, and forward only (first/after).' }) orderBy: AccountComplianceOrder | undefined,
    @Args(() => BidirectionalPageArgs) pageArgs: BidirectionalPageArgs,
    @Ctx() { services }: Context,
  ): Promise<AccountConnection> {
    const { first, after } = pageArgs;
    if (!orderBy) {
      const { size, from } = pageRequest(pageArgs);
      return toConnection(await services.accounts.list(filter ?? {}, size, from), toAccount);
    }
    if (filter) throw new BadUserInputError('give orderBy or filter, not both: orderBy lists every account with a completed scan', 'orderBy');
    if (pageArgs.last != null || pageArgs.before != null) throw new BadUserInputError('accounts(orderBy:) pages forward only (first, after): leave last and before out', 'last');
    // The order and its cursors are the compliance breakdown's (accountCompliance); the nodes are the accounts.
    const page = await services.complianceSummary.accountBreakdown({ orderBy: orderBy.field, direction: orderBy.direction, first: pageSize(first), after });
    const ids = page.nodes.map((n) => n.accountId!);
    const records = ids.length ? (await services.accounts.list({ accountIds: ids }, ids.length)).nodes : [];
    const byId = new Map(records.map((r) => [r.accountId, r]));
    const summaries = new Map(page.nodes.map((n) => [n.accountId!, n]));
    // An account scanned before Keywarden kept accounts (no row) is left out: accountCompliance lists it.
    const nodes = ids.map((id) => byId.get(id)).filter((r): r is NonNullable<typeof r> => r !== undefined);
    return toConnection({ ...page, nodes, cursorOf: (r) => page.cursorOf(summaries.get(r.accountId)!) }, toAccount);
  }

  @Query(() => Account, { nullable: true, description: 'One account by its id (12 digits); null when Keywarden does not know it.' })
  async account(@Arg('accountId', { description: 'The account (12 digits).' }) accountId: string, @Ctx() { services }: Context): Promise<Account | null> {
    const found = await services.accounts.get(accountId);
    return found ? toAccount(found) : null;
  }

  @FieldResolver(() => Scan, { nullable: true, description: 'Its most recent scan, whatever its status (a FAILED one says why); null before the first.' })
  async lastScan(@Root() account: Account, @Ctx() { loaders }: Context): Promise<Scan | null> {
    const scan = await loaders.accountLastScan.load(account.accountId);
    return scan ? toScan(scan) : null;
  }

  @FieldResolver(() => ScanConnection, { description: 'Its scans, newest first.' })
  async scans(
    @Root() account: Account,
    @Args(() => BidirectionalPageArgs) page: BidirectionalPageArgs,
    @Arg('filter', () => ScanFilter, { nullable: true, description: 'Which of its scans; accountIds may only name this account.' }) filter: ScanFilter | undefined,
    @Arg('orderBy', () => ScanOrder, { nullable: true, description: 'Default: { field: QUEUED_AT, direction: DESC }.' }) orderBy: ScanOrder | undefined,
    @Ctx() { services }: Context,
  ): Promise<ScanConnection> {
    if (filter?.accountIds?.some((id) => id !== account.accountId)) {
      throw new BadUserInputError(`filter.accountIds may only name this account (${account.accountId}): leave it out`, 'filter.accountIds');
    }
    const { size, from } = pageRequest(page);
    return toConnection(await services.scans.list({ ...filter, accountIds: [account.accountId] }, size, from, orderBy?.direction), toScan);
  }

  @FieldResolver(() => FindingConnection, { description: 'Its findings as its latest completed scan left them (empty before the first); `filter.accountId` may only name this account.' })
  async findings(
    @Root() account: Account,
    @Arg('filter', () => FindingFilter, { nullable: true, description: 'Which of its findings; accountId and accountIds may only name this account.' }) filter: FindingFilter | undefined,
    @Arg('orderBy', () => FindingOrder, { nullable: true, description: 'Default: { field: IDENTITY, direction: ASC }.' }) orderBy: FindingOrder | undefined,
    @Args(() => BidirectionalPageArgs) page: BidirectionalPageArgs,
    @Ctx() { services }: Context,
  ): Promise<FindingConnection> {
    if (filter?.accountId != null && filter.accountId !== account.accountId) {
      throw new BadUserInputError(`filter.accountId ${JSON.stringify(filter.accountId).slice(0, 40)} is not this account (${account.accountId}): leave it out`, 'filter.accountId');
    }
    if (filter?.accountIds?.some((id) => id !== account.accountId)) {
      throw new BadUserInputError(`filter.accountIds may only name this account (${account.accountId}): leave it out`, 'filter.accountIds');
    }
    const { size, from } = pageRequest(page);
    if (!(await services.scans.latestCompleted(account.accountId))) return toConnection(EMPTY, toFinding);
    const query = { ...findingQuery(filter), accountIds: undefined, accountId: account.accountId };
    return toConnection(await services.findings.list(query, size, from, { order: orderBy }), toFinding);
  }

  @FieldResolver(() => ComplianceSummary, { nullable: true, description: 'Its standing from its latest completed scan; null before the first.' })
  async complianceSummary(@Root() account: Account, @Ctx() { services }: Context): Promise<ComplianceSummary | null> {
    if (!(await services.scans.latestCompleted(account.accountId))) return null;
    return toComplianceSummary(await services.complianceSummary.summary({ accountId: account.accountId }));
  }
}
