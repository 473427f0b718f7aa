/**
 * The AWS Organization the sandbox plays: a root, OUs, member accounts with a status and a parent.
 * Only membership lives here; each account's IAM is a SandboxState (see accounts.ts).
 *
 * Ids are stable functions of the organization id and the OU path, so a fixture gives the same ids every run.
 */
import { deterministicId } from './fixture';
import {
  ROOT_PATH,
  type OrganizationAccountStatus,
  type SandboxOrganizationFixture,
} from './organization-fixture';

export interface SandboxOrganizationalUnit {
  id: string;
  name: string;
  /** The root's id or an OU id. */
  parentId: string;
}

export interface SandboxOrganizationAccount {
  accountId: string;
  name: string;
  email: string;
  status: OrganizationAccountStatus;
  /** The root's id or an OU id. */
  parentId: string;
  externalId?: string;
  roleMissing: boolean;
  joinedAt: Date;
  joinedMethod: 'CREATED' | 'INVITED';
}

const lowerId = (prefix: string, length: number, ...parts: string[]): string =>
  prefix + deterministicId('', length, ...parts).toLowerCase();

export class SandboxOrganization {
  readonly id: string;
  readonly managementAccountId: string;
  readonly rootId: string;
  memberRoleName: string;

  // Insertion order is ListAccounts order (fixture order; moved accounts keep their place).
  private readonly members = new Map<string, SandboxOrganizationAccount>();
  private readonly ous = new Map<string, SandboxOrganizationalUnit>();
  private readonly ouByPath = new Map<string, string>();

  constructor(fixture: SandboxOrganizationFixture) {
    const o = fixture.organization;
    this.id = o.id;
    this.managementAccountId = o.managementAccountId;
    this.memberRoleName = o.memberRoleName;
    this.rootId = lowerId('r-', 4, o.id, 'root');
    this.ouByPath.set(ROOT_PATH, this.rootId);
    // Parents may be listed after their children in the fixture: add OUs shallowest first.
    const ous = [...o.ous].sort((a, b) => a.parent.split('/').length - b.parent.split('/').length);
    for (const ou of ous) this.addOrganizationalUnit(ou.name, ou.parent);
    for (const a of o.accounts) {
      this.members.set(a.accountId, {
        accountId: a.accountId,
        name: a.name,
        email: a.email,
        status: a.status,
        parentId: this.requireParent(a.parent),
        ...(a.externalId !== undefined ? { externalId: a.externalId } : {}),
        roleMissing: a.roleMissing,
        joinedAt: a.joinedAt,
        joinedMethod: a.accountId === o.managementAccountId ? 'INVITED' : 'CREATED',
      });
    }
  }

  // ------------------------------------------------------------ ARNs

  get arn(): string {
    return `arn:aws:organizations::${this.managementAccountId}:organization/${this.id}`;
  }

  get rootArn(): string {
    return `arn:aws:organizations::${this.managementAccountId}:root/${this.id}/${this.rootId}`;
  }

  accountArn(accountId: string): string {
    return `arn:aws:organizations::${this.managementAccountId}:account/${this.id}/${accountId}`;
  }

  ouArn(ouId: string): string {
    return `arn:aws:organizations::${this.managementAccountId}:ou/${this.id}/${ouId}`;
  }

  // ------------------------------------------------------------ reads

  /** Member accounts in ListAccounts order (removed accounts are not members). */
  accounts(): SandboxOrganizationAccount[] {
    return [...this.members.values()];
  }

  get accountCount(): number {
    return this.members.size;
  }

  getAccount(accountId: string): SandboxOrganizationAccount | undefined {
    return this.members.get(accountId);
  }

  isMember(accountId: string): boolean {
    return this.members.has(accountId);
  }

  organizationalUnits(): SandboxOrganizationalUnit[] {
    return [...this.ous.values()];
  }

  getOrganizationalUnit(ouId: string): SandboxOrganizationalUnit | undefined {
    return this.ous.get(ouId);
  }

  /** The root's or an OU's id for a path such as `Root/Engineering/Prod`. */
  idOfPath(path: string): string | undefined {
    return this.ouByPath.get(path);
  }

  /** The parent (root or OU id) of an account or OU; undefined when there is no such child. */
  parentOf(childId: string): string | undefined {
    return this.members.get(childId)?.parentId ?? this.ous.get(childId)?.parentId;
  }

  /** OUs directly under a parent, in creation order. */
  organizationalUnitsIn(parentId: string): SandboxOrganizationalUnit[] {
    return [...this.ous.values()].filter((ou) => ou.parentId === parentId);
  }

  accountsIn(parentId: string): SandboxOrganizationAccount[] {
    return [...this.members.values()].filter((a) => a.parentId === parentId);
  }

  /** Names from the root: `Root/Engineering/Prod` for an account or OU there. */
  pathOf(id: string): string {
    const names: string[] = [];
    let at = this.ous.has(id) ? id : this.parentOf(id);
    while (at !== undefined && at !== this.rootId) {
      const ou = this.ous.get(at);
      if (!ou) break;
      names.unshift(ou.name);
      at = ou.parentId;
    }
    return [ROOT_PATH, ...names].join('/');
  }

  /** Ids from the organization, as Organizations writes paths: `o-…/r-…/ou-…/` (an account ends with its id). */
  idPathOf(id: string): string {
    const ids: string[] = [id];
    let at = this.parentOf(id);
    while (at !== undefined) {
      ids.unshift(at);
      at = at === this.rootId ? undefined : this.ous.get(at)?.parentId;
    }
    return `${this.id}/${ids.join('/')}/`;
  }

  // ------------------------------------------------------------ changes

  /** Adds an OU (idempotent: an existing path answers its id). */
  addOrganizationalUnit(name: string, parentPath: string = ROOT_PATH): string {
    const path = `${parentPath}/${name}`;
    const existing = this.ouByPath.get(path);
    if (existing) return existing;
    if (name === '' || name.includes('/')) throw new Error(`invalid OU name ${JSON.stringify(name)}`);
    const parentId = this.requireParent(parentPath);
    const id = `ou-${this.rootId.slice(2)}-${deterministicId('', 8, this.id, 'ou', path).toLowerCase()}`;
    this.ous.set(id, { id, name, parentId });
    this.ouByPath.set(path, id);
    return id;
  }

  setAccountStatus(accountId: string, status: OrganizationAccountStatus): void {
    this.requireMember(accountId).status = status;
  }

  /** Moves an account under another parent, given as a path (`Root/Sandbox`) or an id (`r-…`, `ou-…`). */
  moveAccount(accountId: string, parent: string): void {
    this.requireMember(accountId).parentId = this.requireParent(parent);
  }

  /** The account leaves the organization (its IAM stays: credentials already issued keep working). */
  removeAccount(accountId: string): void {
    if (accountId === this.managementAccountId) throw new Error('the management account cannot leave its organization');
    this.requireMember(accountId);
    this.members.delete(accountId);
  }

  private requireMember(accountId: string): SandboxOrganizationAccount {
    const a = this.members.get(accountId);
    if (!a) throw new Error(`account ${accountId} is not in organization ${this.id}`);
    return a;
  }

  private requireParent(parent: string): string {
    if (parent === this.rootId || this.ous.has(parent)) return parent;
    const id = this.ouByPath.get(parent);
    if (!id) throw new Error(`no OU ${parent} in organization ${this.id}`);
    return id;
  }
}
