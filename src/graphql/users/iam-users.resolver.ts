import { Authorized, Arg, Args, Ctx, FieldResolver, Query, Resolver, Root } from 'type-graphql';
import type { Context } from '../context';
import { BidirectionalPageArgs, pageRequest, toConnection } from '../common/pagination';
import { toAccessKeyStatus } from '../common/scalars';
import { Finding } from '../findings/finding.type';
import { toFinding } from '../findings/finding.mapper';
import { Scan } from '../scans/scan.type';
import { toScan } from '../scans/scan.mapper';
import { AccessKey, IamUser, IamUserConnection, IamUserFilter, IamUserOrder } from './iam-user.type';
import { toIamUser } from './iam-user.mapper';

const AS_OF = 'Answer as of this instant: the latest completed scan at or before it. Omitted: now.';

@Authorized('findings:read')
@Resolver(() => IamUser)
export class IamUsersResolver {
  @Query(() => IamUserConnection, { description: 'IAM users as the latest scan of each account saw them, or as of an instant.' })
  async iamUsers(
    @Arg('filter', () => IamUserFilter, { nullable: true, description: 'Which users; omitted: all.' }) filter: IamUserFilter | undefined,
    @Arg('orderBy', () => IamUserOrder, { nullable: true, description: 'Default: { field: IDENTITY, direction: ASC }.' }) orderBy: IamUserOrder | undefined,
    @Args(() => BidirectionalPageArgs) page: BidirectionalPageArgs,
    @Arg('asOf', () => Date, { nullable: true, description: AS_OF }) asOf: Date | undefined,
    @Ctx() { services }: Context,
  ): Promise<IamUserConnection> {
    const { size, from } = pageRequest(page);
    return toConnection(await services.iamUsers.list(filter ?? {}, size, from, asOf, orderBy?.direction), toIamUser);
  }

  @Query(() => IamUser, { nullable: true, description: 'Null when the answering scan did not see this user.' })
  async iamUser(
    @Arg('accountId', { description: 'The account (12 digits).' }) accountId: string,
    @Arg('userName', { description: 'The user\'s name.' }) userName: string,
    @Arg('asOf', () => Date, { nullable: true, description: AS_OF }) asOf: Date | undefined,
    @Ctx() { services }: Context,
  ): Promise<IamUser | null> {
    const row = await services.iamUsers.get(accountId, userName, asOf);
    return row ? toIamUser(row) : null;
  }

  @FieldResolver(() => [AccessKey], { description: 'The keys the user had at the same instant.' })
  async accessKeys(@Root() user: IamUser, @Ctx() { loaders }: Context): Promise<AccessKey[]> {
    const keys = await loaders.accessKeys.load({ accountId: user.accountId, userId: user.userId ?? null, userName: user.userName, at: user.asOf, scanId: user.scanId });
    return keys.map((k) => ({ ...k, status: toAccessKeyStatus(k.status)! }));
  }

  @FieldResolver(() => [Finding], { description: 'The user\'s findings at the same instant.' })
  async findings(@Root() user: IamUser, @Ctx() { loaders }: Context): Promise<Finding[]> {
    const views = await loaders.userFindings.load({ accountId: user.accountId, userId: user.userId ?? null, userName: user.userName, at: user.asOf, scanId: user.scanId });
    return views.map(toFinding);
  }

  @FieldResolver(() => Scan, { description: 'The scan this view of the user comes from.' })
  async scan(@Root() user: IamUser, @Ctx() { loaders }: Context): Promise<Scan> {
    return toScan((await loaders.scan.load(user.scanId))!);
  }
}
