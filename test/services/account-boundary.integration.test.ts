import { createScanService } from '../../src/app';
import { TokensService } from '../../src/auth/tokens.service';
import { DEFAULT_CONTROL_SETTINGS } from '../../src/controls/no-access-keys-at-setup/control';
import type { FixtureInput, FixtureUserInput } from '../../src/sandbox/fixture';
import { startIamSandbox, type IamSandbox } from '../../src/sandbox/iam-sandbox.server';
import { AccountsService } from '../../src/services/accounts.service';
import { sandboxIamClient, scannerArn, startStack, type Stack } from '../support/stack';

/**
 * Issue #13 item 1: two accounts in one database. Keywarden's server reads account A (its IAM credentials);
 * account B was scanned into the same database by another process with B's credentials. No mutation sent to
 * A's server may change what is stored for B, or store anything for an account its IAM reads did not prove.
 * Since issue #9, an account Keywarden does not know is UNKNOWN_ACCOUNT; a known account whose role's
 * credentials act in another account is ACCOUNT_MISMATCH (proven by STS GetCallerIdentity). Either way: no scan.
 */
const A = '131313131313';
const B = '242424242424';
const UNKNOWN = '999988887777';

const consoleUser = (userName: string, accessKeyId: string): FixtureUserInput => ({
  userName, createdAt: 'now-400d', loginProfile: { createdAt: 'now-400d' }, accessKeys: [{ accessKeyId, status: 'Active', createdAt: 'now-400d+30s' }],
});
// alice exists in both accounts (another person); dave only in B.
const FIXTURE_A: FixtureInput = { accountId: A, accountCreatedAt: 'now-900d', users: [consoleUser('alice', 'AKIAACCOUNTAALICE001')] };
const FIXTURE_B: FixtureInput = {
  accountId: B,
  accountCreatedAt: 'now-900d',
  users: [consoleUser('alice', 'AKIAACCOUNTBALICE001'), consoleUser('dave', 'AKIAACCOUNTBDAVE0001')],
};

const EXCEPTION = 'mutation($input: CreateExceptionInput!) { createException(input: $input) { exception { id } userErrors { code field message } } }';
const inAMonth = () => new Date(Date.now() + 30 * 86_400_000).toISOString();

describe('mutations act only on the account the IAM credentials prove', () => {
  let stack: Stack;
  let sandboxB: IamSandbox;
  let writer: string;

  /** Everything stored about B that a mutation could change: its scans, findings, versions and exceptions. */
  const stateOfB = async () => ({
    scans: await stack.prisma.scan.findMany({ where: { accountId: B }, orderBy: { startedAt: 'asc' } }),
    findings: await stack.prisma.finding.findMany({ where: { accountId: B }, orderBy: { identity: 'asc' } }),
    findingVersions: await stack.prisma.findingVersion.count({ where: { accountId: B } }),
    userVersions: await stack.prisma.iamUserVersion.count({ where: { accountId: B } }),
    exceptions: await stack.prisma.accessException.findMany({ where: { accountId: B }, orderBy: { createdAt: 'asc' } }),
  });
  const scanCount = () => stack.prisma.scan.count();

  beforeAll(async () => {
    stack = await startStack(FIXTURE_A);
    expect((await stack.scan()).status).toBe('COMPLETED');
    sandboxB = await startIamSandbox({ fixture: FIXTURE_B });
    const scanB = await createScanService(stack.prisma, sandboxIamClient(sandboxB)).run({ collect: { mode: 'PER_USER_API' }, control: DEFAULT_CONTROL_SETTINGS });
    expect(scanB).toMatchObject({ status: 'COMPLETED', accountId: B });
    writer = (await new TokensService(stack.prisma).create({ name: 'remediation writer', scopes: ['remediation:write'], createdBy: 'test' })).token;
  });
  afterAll(async () => {
    await stack?.close();
    await sandboxB?.close();
  });

  it('createException for another account in the database that Keywarden does not know is UNKNOWN_ACCOUNT: B keeps its findings, gets no scan, and B\'s IAM is never called', async () => {
    const before = await stateOfB();
    expect(before.findings.filter((f) => f.state === 'OPEN').map((f) => f.userName).sort()).toEqual(['alice', 'dave']);
    const scans = await scanCount();
    const callsToB = sandboxB.calls().total;
    // dave does not exist in A: before the fix, A's "no such user" was stored as B's dave being deleted.
    // alice exists in A: before the fix, A's alice was stored as B's alice.
    for (const userName of ['dave', 'alice']) {
      const res = await stack.gql(EXCEPTION, { input: { accountId: B, userName, justification: 'vendor integration', expiresAt: inAMonth() } }, writer);
      expect(res.errors).toBeUndefined();
      expect(res.data.createException.exception).toBeNull();
      expect(res.data.createException.userErrors).toEqual([expect.objectContaining({ code: 'UNKNOWN_ACCOUNT', field: 'accountId' })]);
      expect(res.data.createException.userErrors[0].message).toContain(`Keywarden does not know account ${B}`);
    }
    expect(await stateOfB()).toEqual(before);
    expect(await scanCount()).toBe(scans);
    expect(sandboxB.calls().total).toBe(callsToB);
  });

  it('createException for an account number no one scanned is UNKNOWN_ACCOUNT and stores no scan for it', async () => {
    const scans = await scanCount();
    const res = await stack.gql(EXCEPTION, { input: { accountId: UNKNOWN, userName: 'alice', justification: 'x', expiresAt: inAMonth() } }, writer);
    expect(res.data.createException.userErrors).toEqual([expect.objectContaining({ code: 'UNKNOWN_ACCOUNT', field: 'accountId' })]);
    expect(await scanCount()).toBe(scans);
    expect(await stack.prisma.scan.count({ where: { accountId: UNKNOWN } })).toBe(0);
    expect(await stack.prisma.accessException.count({ where: { accountId: UNKNOWN } })).toBe(0);
  });

  it('revokeException of an exception stored for an account Keywarden does not know is UNKNOWN_ACCOUNT and changes nothing', async () => {
    // An exception for B, as a process holding B's credentials (or the code before the fix) stored it.
    const row = await stack.prisma.accessException.create({ data: { accountId: B, userName: 'dave', justification: 'made with B\'s credentials', expiresAt: new Date(Date.now() + 86_400_000), createdBy: 'test' } });
    const before = await stateOfB();
    const scans = await scanCount();
    const id = Buffer.from(`AccessException:${row.id}`).toString('base64url');
    const res = await stack.gql('mutation($id: ID!) { revokeException(input: { id: $id }) { exception { id } userErrors { code field message } } }', { id }, writer);
    expect(res.data.revokeException).toEqual({ exception: null, userErrors: [expect.objectContaining({ code: 'UNKNOWN_ACCOUNT', field: 'id' })] });
    expect(await stateOfB()).toEqual(before);
    expect(await scanCount()).toBe(scans);
    await stack.prisma.accessException.delete({ where: { id: row.id } });
  });

  it('remediateFindings on B\'s findings is UNKNOWN_ACCOUNT per finding; B\'s keys and findings are untouched', async () => {
    const ids: string[] = (await stack.gql(`{ findings(filter: { accountId: "${B}", status: [FAIL] }) { nodes { id } } }`)).data.findings.nodes.map((n: any) => n.id);
    expect(ids).toHaveLength(2);
    const before = await stateOfB();
    const res = await stack.gql(
      'mutation($input: RemediateFindingsInput!) { remediateFindings(input: $input) { results { action { status } userErrors { code } } userErrors { code } } }',
      { input: { findingIds: ids, action: 'DEACTIVATE', reason: 'cross-account', idempotencyKey: 'account-boundary-bulk-1' } },
      writer,
    );
    expect(res.data.remediateFindings.results).toEqual(ids.map(() => ({ action: { status: 'REFUSED' }, userErrors: [{ code: 'UNKNOWN_ACCOUNT' }] })));
    expect(await stateOfB()).toEqual(before);
    expect(sandboxB.state.findAccessKey('AKIAACCOUNTBDAVE0001')?.key.status).toBe('Active');
  });

  describe('B known, through a role whose credentials act in A (what its ARN does not say)', () => {
    const ROLE = `arn:aws:iam::${B}:role/LooksLikeB`;
    beforeAll(async () => {
      stack.fakeAws.options.roles![ROLE] = { trusted: [scannerArn(A)], actsIn: A };
      await new AccountsService(stack.prisma, stack.aws).add({ accountId: B, roleArn: ROLE });
    });
    afterAll(() => stack.prisma.account.delete({ where: { accountId: B } }));

    it('createException, revokeException and remediateFindings are ACCOUNT_MISMATCH: nothing of B changes, no scan is stored, B\'s IAM is never called', async () => {
      const before = await stateOfB();
      const scans = await scanCount();
      const callsToB = sandboxB.calls().total;
      const created = await stack.gql(EXCEPTION, { input: { accountId: B, userName: 'dave', justification: 'vendor integration', expiresAt: inAMonth() } }, writer);
      expect(created.data.createException.userErrors).toEqual([expect.objectContaining({ code: 'ACCOUNT_MISMATCH', field: 'accountId' })]);
      expect(created.data.createException.userErrors[0].message).toContain(`gave credentials for account ${A}, not ${B}`);

      const row = await stack.prisma.accessException.create({ data: { accountId: B, userName: 'dave', justification: 'made with B\'s credentials', expiresAt: new Date(Date.now() + 86_400_000), createdBy: 'test' } });
      const revoked = await stack.gql('mutation($id: ID!) { revokeException(input: { id: $id }) { exception { id } userErrors { code field } } }', { id: Buffer.from(`AccessException:${row.id}`).toString('base64url') }, writer);
      expect(revoked.data.revokeException).toEqual({ exception: null, userErrors: [{ code: 'ACCOUNT_MISMATCH', field: 'id' }] });
      await stack.prisma.accessException.delete({ where: { id: row.id } });

      const ids: string[] = (await stack.gql(`{ findings(filter: { accountId: "${B}", status: [FAIL] }) { nodes { id } } }`)).data.findings.nodes.map((n: any) => n.id);
      const bulk = await stack.gql(
        'mutation($input: RemediateFindingsInput!) { remediateFindings(input: $input) { results { action { status } userErrors { code } } } }',
        { input: { findingIds: ids, action: 'DEACTIVATE', reason: 'cross-account', idempotencyKey: 'account-boundary-bulk-known-b' } },
        writer,
      );
      expect(bulk.data.remediateFindings.results).toEqual(ids.map(() => ({ action: { status: 'REFUSED' }, userErrors: [{ code: 'ACCOUNT_MISMATCH' }] })));
      expect(await stateOfB()).toEqual(before);
      expect(await scanCount()).toBe(scans);
      expect(sandboxB.calls().total).toBe(callsToB);
      // The role was assumed once for the bulk request, not once per finding.
      expect(stack.fakeAws.calls.filter((c) => c.action === 'AssumeRole' && c.params.RoleArn === ROLE && String(c.params.RoleSessionName).startsWith('keywarden-remediate-bulk-'))).toHaveLength(1);
    });
  });

  it('a targeted re-scan asked for another account fails without storing anything under it (the check that cannot be bypassed)', async () => {
    const before = await stateOfB();
    const summary = await createScanService(stack.prisma, stack.iam).runForUsers(B, ['dave', 'alice'], { collect: { mode: 'PER_USER_API' }, control: DEFAULT_CONTROL_SETTINGS });
    expect(summary).toMatchObject({ status: 'FAILED', accountId: null });
    expect(summary.errors[0]).toMatchObject({ code: 'AccountMismatchError' });
    expect(summary.errors[0].message).toContain(`IAM answers for account ${A}, not ${B}`);
    expect(await stateOfB()).toEqual(before);
    expect((await stack.prisma.scan.findUniqueOrThrow({ where: { id: summary.scanId } })).accountId).toBeNull();
  });

  it('the credentials\' own account still works: an exception for A turns A\'s finding EXCEPTED', async () => {
    const res = await stack.gql(EXCEPTION, { input: { accountId: A, userName: 'alice', justification: 'vendor integration', expiresAt: inAMonth() } }, writer);
    expect(res.data.createException.userErrors).toEqual([]);
    const findings = await stack.gql(`{ findings(filter: { accountId: "${A}", userName: "alice", state: [OPEN, RESOLVED, NEVER_FAILED] }) { nodes { status } } }`);
    expect(findings.data.findings.nodes).toEqual([{ status: 'EXCEPTED' }]);
  });
});
