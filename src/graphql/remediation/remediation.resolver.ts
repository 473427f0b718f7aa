import { Arg, Args, Authorized, Ctx, Extensions, FieldResolver, ID, Mutation, Query, Resolver, Root } from 'type-graphql';
import { REMEDIATIONS, type RemediationKind } from '../../domain/remediation';
import type { RemediationResult } from '../../services/remediation.service';
import type { Context } from '../context';
import { EXPENSIVE } from '../common/expensive-mutations';
import { localIdOf, tryLocalIdOf } from '../common/node';
import { RequiresScope } from '../common/requires-scope';
import { toUserErrors } from '../common/user-errors';
import { oneOrList, BidirectionalPageArgs, pageRequest, toConnection } from '../common/pagination';
import { Finding } from '../findings/finding.type';
import { toFinding } from '../findings/finding.mapper';
import {
  AccessKeyActionInput,
  RemediateFindingsInput,
  RemediateFindingsPayload,
  RemediationAction,
  RemediationActionConnection,
  RemediationActionFilter,
  RemediationActionOrder,
  RemediationPayload,
  RemediationUserErrorCodeEnum,
} from './remediation.type';
import { toRemediationAction } from './remediation.mapper';

/** The mutation's description, with the IAM permissions its contract declares. */
const describe = (kind: RemediationKind) => `${REMEDIATIONS[kind].description} Needs IAM permissions: ${REMEDIATIONS[kind].permissions.join(', ')}.`;

const userErrors = (errors: RemediationResult['userErrors']) => toUserErrors(errors, RemediationUserErrorCodeEnum, 'IAM_ERROR');
const payload = (r: RemediationResult): RemediationPayload => ({ action: r.action ? toRemediationAction(r.action) : null, userErrors: userErrors(r.userErrors) });

@Resolver(() => RemediationAction)
export class RemediationResolver {
  @Authorized('remediation:write')
  @Mutation(() => RemediationPayload, { description: describe('DEACTIVATE') })
  async deactivateAccessKey(@Arg('input', () => AccessKeyActionInput, { description: 'The request: see its input type.' }) input: AccessKeyActionInput, @Ctx() { services, actor }: Context): Promise<RemediationPayload> {
    return payload(await services.remediation.run('DEACTIVATE', input, actor));
  }

  @Authorized('remediation:write')
  @Mutation(() => RemediationPayload, { description: describe('REACTIVATE') })
  async reactivateAccessKey(@Arg('input', () => AccessKeyActionInput, { description: 'The request: see its input type.' }) input: AccessKeyActionInput, @Ctx() { services, actor }: Context): Promise<RemediationPayload> {
    return payload(await services.remediation.run('REACTIVATE', input, actor));
  }

  @Authorized('remediation:write')
  @Mutation(() => RemediationPayload, { description: describe('DELETE') })
  async deleteAccessKey(@Arg('input', () => AccessKeyActionInput, { description: 'The request: see its input type.' }) input: AccessKeyActionInput, @Ctx() { services, actor }: Context): Promise<RemediationPayload> {
    return payload(await services.remediation.run('DELETE', input, actor));
  }

  @Authorized('remediation:write')
  @Extensions(EXPENSIVE)
  @Mutation(() => RemediateFindingsPayload, {
    description: `Deactivates or deletes the key of each finding (at most 500), one audited, idempotent action per finding. At most one per request. Needs the permissions of deactivateAccessKey or deleteAccessKey.`,
  })
  async remediateFindings(@Arg('input', () => RemediateFindingsInput, { description: 'The request: see its input type.' }) input: RemediateFindingsInput, @Ctx() { services, actor }: Context): Promise<RemediateFindingsPayload> {
    // One spelling per finding (its local UUID, lower-case) before the service checks repeats, fingerprints the
    // request and keys each finding's action: a global id, its raw UUID and the UUID in capitals were three
    // findings. An id that is not a finding's stays as given (FINDING_NOT_FOUND).
    const findingIds = input.findingIds.map((id) => tryLocalIdOf('Finding', id) ?? id);
    // Results name each finding as this request spelt it (a replay may come from another spelling).
    const spelt = new Map<string, string>();
    findingIds.forEach((id, i) => spelt.has(id) || spelt.set(id, input.findingIds[i]));
    const result = await services.remediation.runForFindings({ ...input, findingIds }, actor);
    return { results: result.results.map((r) => ({ findingId: spelt.get(r.findingId) ?? r.findingId, ...payload(r) })), userErrors: userErrors(result.userErrors) };
  }

  @Authorized('findings:read')
  @Query(() => RemediationActionConnection, { description: 'The remediation audit trail, newest first.' })
  async remediationActions(
    @Arg('filter', () => RemediationActionFilter, { nullable: true, description: 'Which records; omitted: all.' }) filter: RemediationActionFilter | undefined,
    @Arg('orderBy', () => RemediationActionOrder, { nullable: true, description: 'Default: { field: CREATED_AT, direction: DESC }.' }) orderBy: RemediationActionOrder | undefined,
    @Args(() => BidirectionalPageArgs) page: BidirectionalPageArgs,
    @Ctx() { services }: Context,
  ): Promise<RemediationActionConnection> {
    const kinds = oneOrList(filter?.kind, filter?.kinds, 'filter.kind');
    const { size, from } = pageRequest(page);
    return toConnection(await services.remediationActions.list({ ...filter, kind: undefined, kinds }, size, from, orderBy?.direction), toRemediationAction);
  }

  @Authorized('findings:read')
  @Query(() => RemediationAction, { nullable: true, description: 'One remediation record by its global id; null when there is none.' })
  async remediationAction(@Arg('id', () => ID, { description: 'The record\'s global id.' }) id: string, @Ctx() { loaders }: Context): Promise<RemediationAction | null> {
    const row = await loaders.remediationAction.load(localIdOf('RemediationAction', id));
    return row ? toRemediationAction(row) : null;
  }

  @RequiresScope('findings:read')
  @FieldResolver(() => Finding, { nullable: true, description: 'The finding this action was asked for, through remediateFindings.' })
  async finding(@Root() action: RemediationAction, @Ctx() { loaders }: Context): Promise<Finding | null> {
    if (!action.findingLocalId) return null;
    const f = await loaders.finding.load(action.findingLocalId);
    return f ? toFinding(f) : null;
  }
}
