import { Authorized, Arg, Ctx, ID, Query, Resolver } from 'type-graphql';
import { controlById } from '../../controls/registry';
import type { Context } from '../context';
import { toFinding } from '../findings/finding.mapper';
import { toScan } from '../scans/scan.mapper';
import { toIamUser } from '../users/iam-user.mapper';
import { toRemediationAction } from '../remediation/remediation.mapper';
import { toAccessException } from '../exceptions/exceptions.resolver';
import { toAccount } from '../accounts/account.mapper';
import { toControl } from '../controls/control.mapper';
import { assertNever, BadUserInputError } from './errors';
import { fromGlobalId, MAX_NODE_IDS, Node } from './node';

@Authorized('findings:read')
@Resolver()
export class NodeResolver {
  @Query(() => Node, { nullable: true, description: 'Fetches any object by its global id (Relay).' })
  async node(@Arg('id', () => ID, { description: 'A global id this API issued.' }) id: string, @Ctx() context: Context): Promise<Node | null> {
    return nodeOf(id, context);
  }

  @Query(() => [Node], {
    nullable: 'items',
    description: `Fetches objects by their global ids, in the order given (at most ${MAX_NODE_IDS}); null for an id that names nothing.`,
  })
  async nodes(@Arg('ids', () => [ID], { description: `Global ids this API issued, at most ${MAX_NODE_IDS}.` }) ids: string[], @Ctx() context: Context): Promise<(Node | null)[]> {
    if (ids.length > MAX_NODE_IDS) throw new BadUserInputError(`nodes takes at most ${MAX_NODE_IDS} ids; got ${ids.length}: ask in batches`, 'ids');
    return Promise.all(ids.map((id) => nodeOf(id, context)));
  }
}

async function nodeOf(id: string, { loaders, services }: Context): Promise<Node | null> {
  const { type, localId } = fromGlobalId(id);
  switch (type) {
    case 'Finding': {
      const f = await loaders.finding.load(localId);
      return f ? toFinding(f) : null;
    }
    case 'Scan': {
      const s = await loaders.scan.load(localId);
      return s ? toScan(s) : null;
    }
    case 'IamUser': {
      const slash = localId.indexOf('/');
      if (slash < 1) throw new BadUserInputError(`not a Keywarden id: ${id}`, 'id');
      const u = await services.iamUsers.get(localId.slice(0, slash), localId.slice(slash + 1));
      return u ? toIamUser(u) : null;
    }
    case 'RemediationAction': {
      const a = await loaders.remediationAction.load(localId);
      return a ? toRemediationAction(a) : null;
    }
    case 'AccessException': {
      const e = await loaders.exception.load(localId);
      return e ? toAccessException(e) : null;
    }
    case 'Account': {
      const a = await services.accounts.get(localId);
      return a ? toAccount(a) : null;
    }
    case 'Control': {
      const c = controlById(localId);
      return c ? toControl(c) : null;
    }
    default:
      return assertNever(type);
  }
}
