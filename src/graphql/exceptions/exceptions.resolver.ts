import { Authorized, Arg, Args, Ctx, FieldResolver, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { AccessException as Row } from '../../generated/prisma/client';
import type { Context } from '../context';
import { quoted, type UserErrorData } from '../../domain/remediation';
import { toGlobalId, tryLocalIdOf } from '../common/node';
import { toUserErrors } from '../common/user-errors';
import { oneOrList, BidirectionalPageArgs, pageRequest, toConnection } from '../common/pagination';
import { Finding, FindingEvidence } from '../findings/finding.type';
import {
  AccessException,
  AccessExceptionConnection,
  CreateExceptionInput,
  ExceptionFilter,
  ExceptionOrder,
  ExceptionPayload,
  ExceptionUserErrorCodeEnum,
  RevokeExceptionInput,
} from './exception.type';

export function toAccessException(row: Row): AccessException {
  return { ...row, id: toGlobalId('AccessException', row.id), active: row.revokedAt === null && row.expiresAt.getTime() > Date.now() };
}

const payload = (r: { exception: Row | null; userErrors: UserErrorData[] }): ExceptionPayload => ({
  exception: r.exception ? toAccessException(r.exception) : null,
  userErrors: toUserErrors(r.userErrors, ExceptionUserErrorCodeEnum, 'IAM_ERROR'),
});

@Resolver(() => AccessException)
export class ExceptionsResolver {
  @Authorized('remediation:write')
  @Mutation(() => ExceptionPayload, { description: 'Approves an exception; the user is re-evaluated at once. Needs IAM read permissions only.' })
  async createException(@Arg('input', () => CreateExceptionInput, { description: 'The request: see its input type.' }) input: CreateExceptionInput, @Ctx() { services, actor }: Context): Promise<ExceptionPayload> {
    return payload(await services.exceptions.create(input, actor));
  }

  @Authorized('remediation:write')
  @Mutation(() => ExceptionPayload, { description: 'Revokes an exception: its findings fail (and reopen) again at once. Needs IAM read permissions only.' })
  async revokeException(@Arg('input', () => RevokeExceptionInput, { description: 'The request: see its input type.' }) input: RevokeExceptionInput, @Ctx() { services, actor }: Context): Promise<ExceptionPayload> {
    const id = tryLocalIdOf('AccessException', input.id);
    if (!id) return payload({ exception: null, userErrors: [{ code: 'EXCEPTION_NOT_FOUND', field: 'id', message: `no exception ${quoted(input.id)}` }] });
    return payload(await services.exceptions.revoke(id, actor));
  }

  @Authorized('findings:read')
  @Query(() => AccessExceptionConnection, { description: 'Exceptions, newest first.' })
  async exceptions(
    @Arg('filter', () => ExceptionFilter, { nullable: true, description: 'Which exceptions; omitted: all.' }) filter: ExceptionFilter | undefined,
    @Arg('orderBy', () => ExceptionOrder, { nullable: true, description: 'Default: { field: CREATED_AT, direction: DESC }.' }) orderBy: ExceptionOrder | undefined,
    @Args(() => BidirectionalPageArgs) page: BidirectionalPageArgs,
    @Ctx() { services }: Context,
  ): Promise<AccessExceptionConnection> {
    const { size, from } = pageRequest(page);
    const { accountId, accountIds, ...rest } = filter ?? {};
    const list = await services.exceptions.list({ ...rest, accountIds: oneOrList(accountId, accountIds, 'filter.accountId') }, size, from, orderBy?.direction);
    return toConnection(list, toAccessException);
  }
}

@Authorized('findings:read')
@Resolver(() => FindingEvidence)
export class FindingEvidenceExceptionResolver {
  @FieldResolver(() => AccessException, { nullable: true, description: 'The exception that made this finding EXCEPTED.' })
  async exception(@Root() evidence: FindingEvidence, @Ctx() { loaders }: Context): Promise<AccessException | null> {
    return exceptionOf(evidence.exceptionLocalId, loaders);
  }
}

async function exceptionOf(localId: string | null | undefined, loaders: Context['loaders']): Promise<AccessException | null> {
  if (!localId) return null;
  const row = await loaders.exception.load(localId);
  return row ? toAccessException(row) : null;
}

@Authorized('findings:read')
@Resolver(() => Finding)
export class FindingExceptionResolver {
  @FieldResolver(() => AccessException, { nullable: true, description: 'The exception that makes this finding EXCEPTED.' })
  async exception(@Root() finding: Finding, @Ctx() { loaders }: Context): Promise<AccessException | null> {
    return exceptionOf(finding.evidence.exceptionLocalId, loaders);
  }
}
