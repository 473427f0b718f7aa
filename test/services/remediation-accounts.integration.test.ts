import { createScanService } from '../../src/app';
import { DEFAULT_CONTROL_SETTINGS } from '../../src/controls/no-access-keys-at-setup/control';
import { AccountGuard } from '../../src/services/account-guard';
import { AccountsService } from '../../src/services/accounts.service';
import { RemediationService } from '../../src/services/remediation.service';
import type { FixtureInput, FixtureUserInput } from '../../src/sandbox/fixture';
import { MEMBER_ROLE, startStack, type Stack } from '../support/stack';

/**
 * Issue #9: remediation and exceptions act in the finding's account, through its role; over HTTP, with the
 * base account's IAM sandbox and a member account's, real PostgreSQL, and STS on the stand-in.
 */
const BASE = '616161616161';
const MEMBER = '727272727272';
const UNKNOWN = '838383838383';
const MEMBER_KEY = 'AKIAMEMBERALICE00001';
const MEMBER_BOB_KEY = 'AKIAMEMBERBOB0000001';
const BASE_KEY = 'AKIABASEALICE0000001';
const ROLE = `arn:aws:iam::${MEMBER}:role/${MEMBER_ROLE}`;

const withSetupKey = (userName: string, accessKeyId: string): FixtureUserInput => ({
  userName, createdAt: 'now-400d', loginProfile: { createdAt: 'now-400d' }, accessKeys: [{ accessKeyId, status: 'Active', createdAt: 'now-400d+30s' }],
});
const BASE_FIXTURE: FixtureInput = { accountId: BASE, accountCreatedAt: 'now-900d', users: [withSetupKey('alice', BASE_KEY)] };
const MEMBER_FIXTURE: FixtureInput = { accountId: MEMBER, accountCreatedAt: 'now-900d', users: [withSetupKey('alice', MEMBER_KEY), withSetupKey('bob', MEMBER_BOB_KEY)] };

const ACTION = 'action { id status accountId errorCode } userErrors { code field message }';
const localId = (globalId: string) => Buffer.from(globalId, 'base64url').toString().split(':')[1];

describe('remediation and exceptions in the finding\'s account', () => {
  let stack: Stack;
  const mutate = async (name: string, input: Record<string, unknown>) => {
    const res: any = await stack.gql(`mutation($input: AccessKeyActionInput!) { ${name}(input: $input) { ${ACTION} } }`, { input });
    expect(res.errors).toBeUndefined();
    return res.data[name];
  };
  const memberKey = (accessKeyId: string) => stack.members[MEMBER].state.findAccessKey(accessKeyId)?.key.status;
  const assumed = () => stack.fakeAws.calls.filter((c) => c.action === 'AssumeRole');
  const finding = async (accountId: string, userName: string) =>
    ((await stack.gql(`{ findings(filter: { accountId: "${accountId}", userName: "${userName}", state: [OPEN, RESOLVED, NEVER_FAILED] }) { nodes { id status state resolution } } }`)) as any).data.findings.nodes[0];

  beforeAll(async () => {
    stack = await startStack(BASE_FIXTURE, {
      members: [MEMBER_FIXTURE],
      organization: { rootId: 'r-rem1', ous: {}, accounts: [BASE, MEMBER].map((id) => ({ id, name: id, email: `${id}@example.com`, state: 'ACTIVE' as const, parent: 'r-rem1' })) },
    });
    const accounts = new AccountsService(stack.prisma, stack.aws);
    await accounts.sync();
    expect((await stack.scan()).status).toBe('COMPLETED');
    const memberIam = await accounts.iamClientFor(MEMBER, 'keywarden-scan-setup');
    expect((await createScanService(stack.prisma, memberIam).run({ collect: { mode: 'CREDENTIAL_REPORT', report: { initialDelayMs: 10 } }, control: DEFAULT_CONTROL_SETTINGS })).status).toBe('COMPLETED');
  });
  afterAll(() => stack?.close());

  it('deactivates a member account\'s key through its role, in a session named after the audit row, and the finding resolves there', async () => {
    const baseCalls = stack.sandbox.calls().total;
    const before = assumed().length;
    const p = await mutate('deactivateAccessKey', { accountId: MEMBER, userName: 'alice', accessKeyId: MEMBER_KEY, reason: 'CIS: setup key' });
    expect(p.userErrors).toEqual([]);
    expect(p.action).toMatchObject({ status: 'SUCCEEDED', accountId: MEMBER });
    expect(memberKey(MEMBER_KEY)).toBe('Inactive');
    const sessions = assumed().slice(before);
    expect(sessions.map((c) => [c.params.RoleArn, c.params.RoleSessionName])).toEqual([[ROLE, `keywarden-remediate-${localId(p.action.id)}`]]);
    // The base account's IAM was not asked anything: the member's alice is not the base account's alice.
    expect(stack.sandbox.calls().total).toBe(baseCalls);
    expect(stack.sandbox.state.findAccessKey(BASE_KEY)?.key.status).toBe('Active');
    expect(await finding(MEMBER, 'alice')).toMatchObject({ state: 'RESOLVED', resolution: 'REMEDIATED' });
    expect(await finding(BASE, 'alice')).toMatchObject({ state: 'OPEN', status: 'FAIL' });
  });

  it('an approved exception for a member account\'s user turns its finding EXCEPTED, read again through the role', async () => {
    const res: any = await stack.gql(
      'mutation($input: CreateExceptionInput!) { createException(input: $input) { exception { id } userErrors { code } } }',
      { input: { accountId: MEMBER, userName: 'bob', justification: 'vendor integration', expiresAt: new Date(Date.now() + 30 * 86_400_000).toISOString() } },
    );
    expect(res.data.createException.userErrors).toEqual([]);
    expect(assumed().at(-1)!.params.RoleSessionName).toBe(`keywarden-exception-${localId(res.data.createException.exception.id)}`);
    expect(await finding(MEMBER, 'bob')).toMatchObject({ status: 'EXCEPTED' });
  });

  it('remediateFindings across two accounts acts in each, assuming the member role once for the request', async () => {
    await stack.gql('mutation { reactivateAccessKey(input: { accountId: "' + MEMBER + '", userName: "alice", accessKeyId: "' + MEMBER_KEY + '", reason: "backout" }) { action { status } } }');
    expect(memberKey(MEMBER_KEY)).toBe('Active');
    const ids = [(await finding(BASE, 'alice')).id, (await finding(MEMBER, 'alice')).id];
    const before = assumed().length;
    const res: any = await stack.gql(
      'mutation($input: RemediateFindingsInput!) { remediateFindings(input: $input) { results { action { status accountId } userErrors { code } } } }',
      { input: { findingIds: ids, action: 'DEACTIVATE', reason: 'two accounts', idempotencyKey: 'two-accounts-1' } },
    );
    expect(res.data.remediateFindings.results).toEqual([
      { action: { status: 'SUCCEEDED', accountId: BASE }, userErrors: [] },
      { action: { status: 'SUCCEEDED', accountId: MEMBER }, userErrors: [] },
    ]);
    expect(stack.sandbox.state.findAccessKey(BASE_KEY)?.key.status).toBe('Inactive');
    expect(memberKey(MEMBER_KEY)).toBe('Inactive');
    expect(assumed().slice(before).map((c) => String(c.params.RoleSessionName))).toEqual([expect.stringMatching(/^keywarden-remediate-bulk-[0-9a-f-]{36}$/)]);
  });

  it('an account Keywarden does not know is UNKNOWN_ACCOUNT: refused, audited, no role assumed and no IAM call', async () => {
    // At most GetCallerIdentity of the base credentials (once per process): it could be the base account.
    const touching = () => stack.fakeAws.calls.filter((c) => c.action !== 'GetCallerIdentity').length + stack.sandbox.calls().total;
    const calls = touching();
    const p = await mutate('deactivateAccessKey', { accountId: UNKNOWN, userName: 'alice', accessKeyId: MEMBER_KEY, reason: 'typo' });
    expect(p.userErrors).toEqual([{ code: 'UNKNOWN_ACCOUNT', field: 'accountId', message: expect.stringContaining(`Keywarden does not know account ${UNKNOWN}`) }]);
    expect(p.action).toMatchObject({ status: 'REFUSED', accountId: UNKNOWN, errorCode: 'UNKNOWN_ACCOUNT' });
    expect(touching()).toBe(calls);
    expect(await stack.prisma.changeEvent.count({ where: { accountId: UNKNOWN } })).toBe(0); // a refused request changed nothing
  });

  it('a role STS refuses is ASSUME_ROLE_DENIED saying what to fix: audited FAILED, the key untouched, tried once', async () => {
    await stack.gql('mutation { reactivateAccessKey(input: { accountId: "' + MEMBER + '", userName: "bob", accessKeyId: "' + MEMBER_BOB_KEY + '", reason: "x" }) { action { status } } }');
    const trust = stack.fakeAws.options.roles![ROLE];
    stack.fakeAws.options.roles![ROLE] = { ...trust, trusted: ['arn:aws:iam::000000000000:root'] };
    const before = assumed().length;
    const p = await mutate('deactivateAccessKey', { accountId: MEMBER, userName: 'bob', accessKeyId: MEMBER_BOB_KEY, reason: 'trust changed' });
    stack.fakeAws.options.roles![ROLE] = trust;
    expect(p.userErrors).toEqual([{ code: 'ASSUME_ROLE_DENIED', field: null, message: expect.stringMatching(new RegExp(`^account ${MEMBER}: STS refused AssumeRole of ${ROLE} .*that its trust policy allows .*; nothing was changed$`)) }]);
    expect(p.action).toMatchObject({ status: 'FAILED', errorCode: 'ASSUME_ROLE_DENIED' });
    expect(await stack.prisma.changeEvent.findFirst({ where: { type: 'remediation.completed', remediationActionId: localId(p.action.id) }, select: { accountId: true, payload: true } })).toEqual({
      accountId: MEMBER, payload: expect.objectContaining({ kind: 'DEACTIVATE', outcome: 'FAILED', errorCode: 'ASSUME_ROLE_DENIED', accessKeyId: MEMBER_BOB_KEY }),
    });
    expect(memberKey(MEMBER_BOB_KEY)).toBe('Active');
    expect(assumed().length).toBe(before + 1);
  });

  it('reconcile settles a member account\'s PENDING action against that account\'s live IAM', async () => {
    const row = await stack.prisma.remediationAction.create({
      data: { kind: 'DEACTIVATE', status: 'PENDING', actor: 'test', accountId: MEMBER, userName: 'bob', accessKeyId: MEMBER_BOB_KEY, reason: 'crashed', dryRun: false, input: {}, createdAt: new Date(Date.now() - 3_600_000) },
    });
    const service = new RemediationService({
      prisma: stack.prisma, guard: new AccountGuard(new AccountsService(stack.prisma, stack.aws)), scans: createScanService(stack.prisma, stack.iam),
      scanRequest: { collect: { mode: 'PER_USER_API' }, control: DEFAULT_CONTROL_SETTINGS }, recentUseDays: 7, findings: async () => [],
    });
    const settled = await service.reconcile(0);
    expect(settled.map((a) => [a.id, a.status, a.errorCode])).toEqual([[row.id, 'FAILED', 'INTERRUPTED']]); // bob's key is Active: the write never happened
    expect((await stack.prisma.changeEvent.findFirstOrThrow({ where: { remediationActionId: row.id } })).payload).toMatchObject({ outcome: 'FAILED', errorCode: 'INTERRUPTED' });
    expect(assumed().at(-1)!.params.RoleSessionName).toBe(`keywarden-reconcile-${row.id}`);
  });
});
