import { DescribeOrganizationalUnitCommand, ListParentsCommand, paginateListAccounts, type Account, type OrganizationsClient } from '@aws-sdk/client-organizations';
import pLimit from 'p-limit';
import { accountStatusOf, type AccountStatus } from '../../domain/accounts';
import { errorCode, errorMessage } from '../iam/iam-client';

/** One account as Organizations lists it. */
export interface OrganizationAccount {
  accountId: string;
  name: string | null;
  email: string | null;
  status: AccountStatus;
  /**
   * The OUs' names from the root down: `Root/Engineering/Prod` (DescribeOrganizationalUnit). An OU whose name
   * cannot be read (no organizations:DescribeOrganizationalUnit) appears by its id, `ou-ab12-11111111`.
   */
  organizationalUnitPath: string;
}

/** Organizations could not be read with these credentials: nothing was changed. */
export class OrganizationUnreadableError extends Error {
  override name = 'OrganizationUnreadableError';
}

// Organizations allows a few requests a second; the client's adaptive retry absorbs the rest.
const PARENT_CONCURRENCY = 4;
// An organization nests OUs at most five levels under the root.
const MAX_DEPTH = 8;

const WHY_UNREADABLE: Record<string, string> = {
  AccessDenied: 'run it with the management account\'s credentials or a delegated administrator\'s (organizations:ListAccounts, organizations:ListParents, organizations:DescribeOrganizationalUnit)',
  AWSOrganizationsNotInUse: 'these credentials\' account is not in an organization',
};

/**
 * Every account of the organization (ListAccounts, all pages) with its OU path (ListParents, up to the root).
 * Each OU's parent is asked once, however many accounts it holds: about one call per account and per OU.
 */
export async function readOrganizationAccounts(client: OrganizationsClient): Promise<OrganizationAccount[]> {
  const listed: Account[] = [];
  try {
    for await (const page of paginateListAccounts({ client }, {})) listed.push(...(page.Accounts ?? []));
  } catch (err) {
    throw unreadable('ListAccounts', err);
  }
  const parents = new Map<string, Promise<{ id: string; isRoot: boolean }>>();
  const parentOf = (childId: string) => {
    let parent = parents.get(childId);
    if (!parent) {
      parent = client.send(new ListParentsCommand({ ChildId: childId })).then((out) => {
        const p = out.Parents?.[0];
        if (!p?.Id) throw new OrganizationUnreadableError(`Organizations ListParents named no parent of ${childId}; nothing was changed`);
        return { id: p.Id, isRoot: p.Type === 'ROOT' };
      });
      parents.set(childId, parent);
    }
    return parent;
  };
  // Each OU's name is asked once; without the permission, the id stands in (the path still says where).
  const names = new Map<string, Promise<string>>();
  const nameOf = (ouId: string) => {
    let name = names.get(ouId);
    if (!name) {
      name = client.send(new DescribeOrganizationalUnitCommand({ OrganizationalUnitId: ouId })).then(
        (out) => out.OrganizationalUnit?.Name ?? ouId,
        (err) => {
          if (errorCode(err) === 'AccessDenied') return ouId;
          throw err;
        },
      );
      names.set(ouId, name);
    }
    return name;
  };
  const pathOf = async (accountId: string): Promise<string> => {
    const parts: string[] = [];
    for (let child = accountId; parts.length < MAX_DEPTH; ) {
      const parent = await parentOf(child);
      parts.unshift(parent.isRoot ? 'Root' : await nameOf(parent.id));
      if (parent.isRoot) return parts.join('/');
      child = parent.id;
    }
    throw new OrganizationUnreadableError(`account ${accountId} is more than ${MAX_DEPTH} levels under the organization's root; nothing was changed`);
  };
  const limit = pLimit(PARENT_CONCURRENCY);
  try {
    return await Promise.all(
      listed.map((a) =>
        limit(async (): Promise<OrganizationAccount> => {
          const status = accountStatusOf(a.State, a.Status);
          if (!a.Id || !status) {
            throw new OrganizationUnreadableError(`ListAccounts gave account ${a.Id ?? '(no id)'} the state ${a.State ?? a.Status ?? '(none)'}, which this Keywarden does not know; nothing was changed`);
          }
          return { accountId: a.Id, name: a.Name ?? null, email: a.Email ?? null, status, organizationalUnitPath: await pathOf(a.Id) };
        }),
      ),
    );
  } catch (err) {
    throw err instanceof OrganizationUnreadableError ? err : unreadable('ListParents', err);
  }
}

function unreadable(operation: string, err: unknown): OrganizationUnreadableError {
  const code = errorCode(err);
  const why = WHY_UNREADABLE[code];
  return new OrganizationUnreadableError(`Organizations ${operation} failed (${code}: ${errorMessage(err)})${why ? `: ${why}` : ''}; nothing was changed`);
}
