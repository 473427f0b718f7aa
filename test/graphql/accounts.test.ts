import { DEFAULT_CONTROL_SETTINGS } from '../../src/controls/no-access-keys-at-setup/control';
import { createScanService } from '../../src/app';
import { AccountsService } from '../../src/services/accounts.service';
import type { FixtureInput } from '../../src/sandbox/fixture';
import { startStack, type Stack } from '../support/stack';

/**
 * accounts(filter, first, after), account(accountId) and the Account node over HTTP: an organization of three
 * accounts (the management account holds the base credentials; prod is read through its member role; old is
 * SUSPENDED), plus one configured account outside it.
 */
const MANAGEMENT = '110000000001';
const PROD = '220000000002';
const OLD = '330000000003';
const PARTNER = '440000000004';

const consoleUserWithSetupKey = (userName: string, accessKeyId: string) => ({
  userName, createdAt: 'now-400d', loginProfile: { createdAt: 'now-400d' }, accessKeys: [{ accessKeyId, status: 'Active' as const, createdAt: 'now-400d+30s' }],
});
const BASE: FixtureInput = { accountId: MANAGEMENT, accountCreatedAt: 'now-900d', users: [consoleUserWithSetupKey('admin', 'AKIAMANAGEMENTADMIN1')] };
const PROD_FIXTURE: FixtureInput = {
  accountId: PROD, accountCreatedAt: 'now-900d',
  users: [consoleUserWithSetupKey('alice', 'AKIAPRODALICE0000001'), consoleUserWithSetupKey('bob', 'AKIAPRODBOB000000001'), { userName: 'ci', createdAt: 'now-100d', accessKeys: [] }],
};

const ACCOUNT_FIELDS = 'id accountId name email organizationalUnitPath status source roleArn inOrganization skipReason syncedAt createdAt lastScan { status accountId }';

describe('accounts over GraphQL', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack(BASE, {
      members: [PROD_FIXTURE],
      organization: {
        rootId: 'r-ab12', ous: { 'ou-ab12-11111111': 'r-ab12' },
        accounts: [
          { id: MANAGEMENT, name: 'management', email: 'aws@example.com', state: 'ACTIVE', parent: 'r-ab12' },
          { id: PROD, name: 'prod', email: 'prod@example.com', state: 'ACTIVE', parent: 'ou-ab12-11111111' },
          { id: OLD, name: 'old', email: 'old@example.com', state: 'SUSPENDED', parent: 'ou-ab12-11111111' },
        ],
      },
    });
    const accounts = new AccountsService(stack.prisma, stack.aws);
    await accounts.sync();
    await accounts.add({ accountId: PARTNER, roleArn: `arn:aws:iam::${PARTNER}:role/PartnerAudit`, name: 'partner' });
    expect((await stack.scan()).status).toBe('COMPLETED');
    const prodIam = await accounts.iamClientFor(PROD, 'keywarden-scan-graphql-test');
    expect((await createScanService(stack.prisma, prodIam).run({ collect: { mode: 'PER_USER_API' }, control: DEFAULT_CONTROL_SETTINGS })).status).toBe('COMPLETED');
  });
  afterAll(() => stack?.close());

  it('lists every account in account id order with what the organization says and why one is not scanned', async () => {
    const res: any = await stack.gql(`{ accounts { totalCount nodes { ${ACCOUNT_FIELDS} } pageInfo { hasNextPage } } }`);
    expect(res.errors).toBeUndefined();
    const { totalCount, nodes, pageInfo } = res.data.accounts;
    expect({ totalCount, pageInfo }).toEqual({ totalCount: 4, pageInfo: { hasNextPage: false } });
    expect(nodes.map((a: any) => [a.accountId, a.status, a.source, a.inOrganization, a.organizationalUnitPath, a.skipReason, a.lastScan?.status ?? null])).toEqual([
      // The base credentials' account: listed by sync, then recorded as CREDENTIALS by its first use (iamClientFor).
      [MANAGEMENT, 'ACTIVE', 'CREDENTIALS', true, 'Root', null, 'COMPLETED'],
      [PROD, 'ACTIVE', 'ORGANIZATION', true, 'Root/ou-ab12-11111111', null, 'COMPLETED'],
      [OLD, 'SUSPENDED', 'ORGANIZATION', true, 'Root/ou-ab12-11111111', 'the organization reports it SUSPENDED: only ACTIVE accounts are scanned (its history is kept)', null],
      [PARTNER, 'ACTIVE', 'CONFIGURED', false, null, null, null],
    ]);
    expect(nodes[1]).toMatchObject({ name: 'prod', email: 'prod@example.com', roleArn: null, lastScan: { accountId: PROD } });
    expect(nodes[3]).toMatchObject({ name: 'partner', roleArn: `arn:aws:iam::${PARTNER}:role/PartnerAudit`, syncedAt: null });
    expect(Buffer.from(nodes[1].id, 'base64url').toString()).toBe(`Account:${PROD}`);
  });

  it('orderBy FAIL_COUNT lists the accounts with a completed scan, worst first, with keyset pages; not with a filter', async () => {
    const q = `query($after: String) { accounts(orderBy: { field: FAIL_COUNT }, first: 1, after: $after) { totalCount nodes { accountId complianceSummary { counts { fail } } } pageInfo { hasNextPage endCursor } } }`;
    const first: any = await stack.gql(q);
    expect(first.errors).toBeUndefined();
    expect(first.data.accounts.nodes).toEqual([{ accountId: PROD, complianceSummary: { counts: { fail: 2 } } }]);
    expect(first.data.accounts.pageInfo.hasNextPage).toBe(true);
    const second: any = await stack.gql(q, { after: first.data.accounts.pageInfo.endCursor });
    expect(second.data.accounts.nodes).toEqual([{ accountId: MANAGEMENT, complianceSummary: { counts: { fail: 1 } } }]);
    expect(second.data.accounts.pageInfo.hasNextPage).toBe(false);
    const both: any = await stack.gql('{ accounts(orderBy: { field: FAIL_COUNT }, filter: { status: [ACTIVE] }) { totalCount } }');
    expect(both.errors[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', field: 'orderBy' } });
  });

  it('filters by status, source and account ids, and pages with first and after', async () => {
    const ids = async (args: string) => ((await stack.gql(`{ accounts${args} { nodes { accountId } } }`)) as any).data.accounts.nodes.map((a: any) => a.accountId);
    expect(await ids('(filter: { status: [SUSPENDED] })')).toEqual([OLD]);
    expect(await ids('(filter: { source: [CONFIGURED] })')).toEqual([PARTNER]);
    expect(await ids(`(filter: { accountIds: ["${PARTNER}", "${PROD}", "999999999999"] })`)).toEqual([PROD, PARTNER]);
    const first: any = await stack.gql('{ accounts(first: 2) { nodes { accountId } pageInfo { hasNextPage endCursor } } }');
    expect(first.data.accounts.nodes.map((a: any) => a.accountId)).toEqual([MANAGEMENT, PROD]);
    const next: any = await stack.gql('query($after: String) { accounts(first: 2, after: $after) { nodes { accountId } pageInfo { hasNextPage } } }', { after: first.data.accounts.pageInfo.endCursor });
    expect(next.data.accounts).toEqual({ nodes: [{ accountId: OLD }, { accountId: PARTNER }], pageInfo: { hasNextPage: false } });
  });

  it('account(accountId) gives its findings, scans and compliance summary, delegating to the existing reads for that account', async () => {
    const res: any = await stack.gql(`{ account(accountId: "${PROD}") {
      findings(filter: { status: [FAIL] }) { totalCount nodes { accountId userName status } }
      scans { totalCount nodes { accountId status } }
      complianceSummary { accountId compliant failingUsers counts { fail pass notApplicable } scan { accountId } }
    } }`);
    expect(res.errors).toBeUndefined();
    const prod = res.data.account;
    expect(prod.findings.totalCount).toBe(2);
    expect(prod.findings.nodes.map((f: any) => [f.accountId, f.userName, f.status]).sort()).toEqual([[PROD, 'alice', 'FAIL'], [PROD, 'bob', 'FAIL']]);
    expect(prod.scans).toEqual({ totalCount: 1, nodes: [{ accountId: PROD, status: 'COMPLETED' }] });
    // ci has no password (N/A); the per-user API does not read root, which only the credential report shows.
    expect(prod.complianceSummary).toEqual({ accountId: PROD, compliant: false, failingUsers: 2, counts: { fail: 2, pass: 0, notApplicable: 1 }, scan: { accountId: PROD } });
    // The same as the top-level reads for that account.
    const top: any = await stack.gql(`{ findings(filter: { accountId: "${PROD}", status: [FAIL] }) { totalCount } complianceSummary(accountId: "${PROD}") { failingUsers } }`);
    expect(top.data).toEqual({ findings: { totalCount: 2 }, complianceSummary: { failingUsers: 2 } });
  });

  it('an account never scanned has no last scan, no summary and no findings, without an error', async () => {
    const res: any = await stack.gql(`{ account(accountId: "${OLD}") { lastScan { id } complianceSummary { compliant } findings { totalCount nodes { id } } scans { totalCount } } }`);
    expect(res).toMatchObject({ data: { account: { lastScan: null, complianceSummary: null, findings: { totalCount: 0, nodes: [] }, scans: { totalCount: 0 } } } });
    expect(res.errors).toBeUndefined();
  });

  it('node(id) resolves an Account; an account Keywarden does not know is null', async () => {
    const id = Buffer.from(`Account:${PARTNER}`).toString('base64url');
    const res: any = await stack.gql('query($id: ID!) { node(id: $id) { __typename ... on Account { accountId source } } }', { id });
    expect(res.data.node).toEqual({ __typename: 'Account', accountId: PARTNER, source: 'CONFIGURED' });
    const unknown: any = await stack.gql('{ account(accountId: "999999999999") { id } }');
    expect(unknown).toMatchObject({ data: { account: null } });
    expect(unknown.errors).toBeUndefined();
  });

  it('malformed account ids and a filter naming another account are BAD_USER_INPUT naming the field', async () => {
    const refusal = async (query: string) => {
      const res: any = await stack.gql(query);
      expect(res.errors).toHaveLength(1);
      return { code: res.errors[0].extensions.code, field: res.errors[0].extensions.field, message: res.errors[0].message };
    };
    expect(await refusal('{ account(accountId: "12345") { id } }')).toEqual({ code: 'BAD_USER_INPUT', field: 'accountId', message: 'accountId must be an AWS account id, 12 digits; got "12345"' });
    expect(await refusal(`{ accounts(filter: { accountIds: ["${PROD}", "prod"] }) { totalCount } }`)).toEqual({
      code: 'BAD_USER_INPUT', field: 'filter.accountIds', message: 'filter.accountIds[1] must be an AWS account id, 12 digits; got "prod"',
    });
    expect(await refusal(`{ account(accountId: "${PROD}") { findings(filter: { accountId: "${MANAGEMENT}" }) { totalCount } } }`)).toMatchObject({ code: 'BAD_USER_INPUT', field: 'filter.accountId' });
    expect(await refusal(`{ node(id: "${Buffer.from('Account:prod').toString('base64url')}") { id } }`)).toMatchObject({ code: 'BAD_USER_INPUT', field: 'id' });
    expect(await refusal('{ accounts(after: "bm90LWEtY3Vyc29y") { totalCount } }')).toMatchObject({ code: 'BAD_USER_INPUT', field: 'after' });
  });
});
