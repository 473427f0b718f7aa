import { Authorized, Arg, Args, Ctx, FieldResolver, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { AccessException as Row } from '../../generated/prisma/client';
import type { Context } from '../context';
import { quoted, type UserErrorData } from '../../domain/remediation';
import { toGlobalId, tryLocalIdOf } from '../common/node';
import { toUserErrors } from '../common/user-errors';
import { PageArgs, pageSize, toConnection } from '../common/pagination';
import { Finding } from '../findings/finding.type';
import { AccessException, AccessExceptionConnection, CreateExceptionInput, ExceptionFilter, ExceptionPayload, RevokeExceptionInput } from './exception.type';

export function toAccessException(row: Row): AccessException {
  return { ...row, id: toGlobalId('AccessException', row.id), active: row.revokedAt === null && row.expiresAt.getTime() > Date.now() };
}

const payload = (r: { exception: Row | null; userErrors: UserErrorData[] }): ExceptionPayload => ({
  exception: r.exception ? toAccessException(r.exception) : null,
  userErrors: toUserErrors(r.userErrors),
});

@Resolver(() => AccessException)
export class ExceptionsResolver {
  @Authorized('remediation:write')
  @Mutation(() => ExceptionPayload, { description: 'Approves an exception; the user is re-evaluated at once. Needs IAM read permissions only.' })
  async createException(@Arg('input', () => CreateExceptionInput) input: CreateExceptionInput, @Ctx() { services, actor }: Context): Promise<ExceptionPayload> {
    return payload(await services.exceptions.create(input, actor));
  }

  @Authorized('remediation:write')
  @Mutation(() => ExceptionPayload, { description: 'Revokes an exception: its findings fail (and reopen) again at once. Needs IAM read permissions only.' })
  async revokeException(@Arg('input', () => RevokeExceptionInput) input: RevokeExceptionInput, @Ctx() { services, actor }: Context): Promise<ExceptionPayload> {
    const id = tryLocalIdOf('AccessException', input.id);
    if (!id) return payload({ exception: null, userErrors: [{ code: 'EXCEPTION_NOT_FOUND', field: 'id', message: `no exception ${quoted(input.id)}` }] });
    return payload(await services.exceptions.revoke(id, actor));
  }

  @Authorized('findings:read')
  @Query(() => AccessExceptionConnection, { description: 'Exceptions, newest first.' })
  async exceptions(
    @Arg('filter', () => ExceptionFilter, { nullable: true }) filter: ExceptionFilter | undefined,
    @Args(() => PageArgs) { first, after }: PageArgs,
    @Ctx() { services }: Context,
  ): Promise<AccessExceptionConnection> {
    return toConnection(await services.exceptions.list(filter ?? {}, pageSize(first), after), toAccessException);
  }
}

@Authorized('findings:read')
@Resolver(() => Finding)
export class FindingExceptionResolver {
  @FieldResolver(() => AccessException, { nullable: true, description: 'The exception that makes this finding EXCEPTED.' })
  async exception(@Root() finding: Finding, @Ctx() { loaders }: Context): Promise<AccessException | null> {
    const id = finding.evidence.exceptionId;
    if (!id) return null;
    const row = await loaders.exception.load(id);
    return row ? toAccessException(row) : null;
  }
}
