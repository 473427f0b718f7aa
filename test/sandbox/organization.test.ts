import { GetUserCommand, ListUsersCommand } from '@aws-sdk/client-iam';
import {
  AccessDeniedException,
  AWSOrganizationsNotInUseException,
  ChildNotFoundException,
  DescribeOrganizationalUnitCommand,
  DescribeOrganizationCommand,
  InvalidInputException,
  ListAccountsCommand,
  ListAccountsForParentCommand,
  ListOrganizationalUnitsForParentCommand,
  ListParentsCommand,
  ListRootsCommand,
  paginateListAccounts,
  TooManyRequestsException,
  type OrganizationsClient,
} from '@aws-sdk/client-organizations';
import { AssumeRoleCommand, GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { fromTemporaryCredentials } from '@aws-sdk/credential-providers';
import { startIamSandbox, type IamSandbox } from '../../src/sandbox';
import { baseFixture, sdkError } from './helpers';
import {
  assumeRole,
  BASE_CREDENTIALS,
  EXTERNAL_ID,
  iamClientWith,
  MANAGEMENT,
  MEMBER_B,
  MEMBER_C,
  MEMBER_NO_ROLE,
  MEMBER_SUSPENDED,
  organizationFixture,
  organizationsClient,
  roleArn,
  stsClient,
} from './organization-helpers';

const userNames = async (sandbox: IamSandbox, credentials: Parameters<typeof iamClientWith>[1]): Promise<string[]> => {
  const iam = iamClientWith(sandbox, credentials);
  try {
    return (await iam.send(new ListUsersCommand({}))).Users!.map((u) => u.UserName!);
  } finally {
    iam.destroy();
  }
};

/** Names from the root, walked with ListParents and DescribeOrganizationalUnit as a fleet sync would. */
async function ouPath(org: OrganizationsClient, accountId: string): Promise<string> {
  const names: string[] = [];
  let child = accountId;
  for (;;) {
    const parent = (await org.send(new ListParentsCommand({ ChildId: child }))).Parents![0]!;
    if (parent.Type === 'ROOT') return ['Root', ...names].join('/');
    names.unshift((await org.send(new DescribeOrganizationalUnitCommand({ OrganizationalUnitId: parent.Id! }))).OrganizationalUnit!.Name!);
    child = parent.Id!;
  }
}

describe('sandbox organization: Organizations through the real OrganizationsClient', () => {
  let sandbox: IamSandbox;
  let org: OrganizationsClient;
  beforeAll(async () => {
    sandbox = await startIamSandbox({ fixture: organizationFixture() });
    org = organizationsClient(sandbox);
  });
  afterAll(async () => {
    org.destroy();
    await sandbox.close();
  });

  it('ListAccounts pages through 45 accounts, at most 20 a page, with NextToken', async () => {
    const pages: number[] = [];
    const ids: string[] = [];
    for await (const page of paginateListAccounts({ client: org, pageSize: 20 }, {})) {
      pages.push(page.Accounts!.length);
      ids.push(...page.Accounts!.map((a) => a.Id!));
    }
    expect(pages).toEqual([20, 20, 5]);
    expect(new Set(ids).size).toBe(45);
    expect(ids.slice(0, 5)).toEqual([MANAGEMENT, MEMBER_B, MEMBER_C, MEMBER_SUSPENDED, MEMBER_NO_ROLE]);
    const first = (await org.send(new ListAccountsCommand({}))).Accounts!;
    expect(first).toHaveLength(20);
    expect(first[3]).toMatchObject({ Id: MEMBER_SUSPENDED, Status: 'SUSPENDED', State: 'SUSPENDED', JoinedMethod: 'CREATED' });
    expect(first[0]).toMatchObject({
      Arn: `arn:aws:organizations::${MANAGEMENT}:account/o-keywarden01/${MANAGEMENT}`,
      Email: 'management@example.com',
      JoinedMethod: 'INVITED',
    });
    expect(first[0]!.JoinedTimestamp).toBeInstanceOf(Date);
  });

  it('MaxResults above 20 and a forged NextToken are InvalidInputException', async () => {
    const tooMany = await sdkError(org.send(new ListAccountsCommand({ MaxResults: 21 })));
    expect(tooMany).toBeInstanceOf(InvalidInputException);
    expect((tooMany as unknown as InvalidInputException).Reason).toBe('MAX_VALUE_EXCEEDED');
    const forged = await sdkError(org.send(new ListAccountsCommand({ NextToken: 'bm90LWEtdG9rZW4' })));
    expect((forged as unknown as InvalidInputException).Reason).toBe('INVALID_NEXT_TOKEN');
  });

  it("ListParents + DescribeOrganizationalUnit give an account's OU path", async () => {
    expect(await ouPath(org, MEMBER_B)).toBe('Root/Engineering/Prod');
    expect(await ouPath(org, MEMBER_C)).toBe('Root/Sandbox');
    expect(await ouPath(org, MANAGEMENT)).toBe('Root');
    const roots = (await org.send(new ListRootsCommand({}))).Roots!;
    expect(roots).toEqual([expect.objectContaining({ Name: 'Root', Id: sandbox.organization!.rootId, PolicyTypes: [] })]);
    const missing = await sdkError(org.send(new ListParentsCommand({ ChildId: '999999999999' })));
    expect(missing).toBeInstanceOf(ChildNotFoundException);
    expect(missing.$metadata.httpStatusCode).toBe(404);
  });

  it('ListOrganizationalUnitsForParent and ListAccountsForParent walk the tree', async () => {
    const rootId = (await org.send(new ListRootsCommand({}))).Roots![0]!.Id!;
    const top = (await org.send(new ListOrganizationalUnitsForParentCommand({ ParentId: rootId }))).OrganizationalUnits!;
    expect(top.map((ou) => ou.Name).sort()).toEqual(['Engineering', 'Sandbox']);
    const eng = top.find((ou) => ou.Name === 'Engineering')!;
    expect(eng.Id).toMatch(new RegExp(`^ou-${rootId.slice(2)}-[a-z0-9]{8}$`));
    const engAccounts = (await org.send(new ListAccountsForParentCommand({ ParentId: eng.Id!, MaxResults: 20 })));
    expect(engAccounts.Accounts).toHaveLength(20);
    expect(engAccounts.NextToken).toBeDefined();
    const rootAccounts = (await org.send(new ListAccountsForParentCommand({ ParentId: rootId }))).Accounts!.map((a) => a.Id);
    expect(rootAccounts).toEqual([MANAGEMENT, MEMBER_SUSPENDED, MEMBER_NO_ROLE]);
  });

  it('a member account may DescribeOrganization but not list accounts (AccessDeniedException)', async () => {
    const memberOrg = organizationsClient(sandbox, await assumeRole(sandbox, { RoleArn: roleArn(MEMBER_B) }));
    try {
      const described = (await memberOrg.send(new DescribeOrganizationCommand({}))).Organization!;
      expect(described).toMatchObject({ Id: 'o-keywarden01', MasterAccountId: MANAGEMENT, FeatureSet: 'ALL' });
      const denied = await sdkError(memberOrg.send(new ListAccountsCommand({})));
      expect(denied).toBeInstanceOf(AccessDeniedException);
      expect(denied.$metadata.httpStatusCode).toBe(403);
    } finally {
      memberOrg.destroy();
    }
  });

  it('throttling answers TooManyRequestsException, which the SDK retries', async () => {
    sandbox.setFaults([{ operation: 'ListAccounts', throttleRate: 1, times: 2 }]);
    try {
      const once = await sdkError(org.send(new ListAccountsCommand({})));
      expect(once).toBeInstanceOf(TooManyRequestsException);
      const retrying = organizationsClient(sandbox, BASE_CREDENTIALS, 3);
      const out = await retrying.send(new ListAccountsCommand({}));
      expect(out.$metadata.attempts).toBe(2);
      retrying.destroy();
    } finally {
      sandbox.setFaults([]);
    }
  });
});

describe('sandbox organization: AssumeRole decides the account', () => {
  let sandbox: IamSandbox;
  beforeEach(async () => {
    sandbox = await startIamSandbox({ fixture: organizationFixture() });
  });
  afterEach(() => sandbox.close());

  it("AssumeRole into member B, then ListUsers lists B's users, not the management account's (plain AssumeRole credentials)", async () => {
    expect(await userNames(sandbox, BASE_CREDENTIALS)).toEqual(['admin', 'alice']);
    const b = await assumeRole(sandbox, { RoleArn: roleArn(MEMBER_B), RoleSessionName: 'keywarden-scan-42' });
    expect(b.accessKeyId).toMatch(/^ASIA[A-Z2-7]{16}$/);
    expect(b.sessionToken).toBeTruthy();
    expect(await userNames(sandbox, b)).toEqual(['bea', 'bert']);
    expect(sandbox.assumeRoleCalls()).toEqual([
      expect.objectContaining({ accountId: MEMBER_B, roleName: 'KeywardenAudit', sessionName: 'keywarden-scan-42', outcome: 'Issued', accessKeyId: b.accessKeyId }),
    ]);
    expect(sandbox.account(MEMBER_B).state.getUser('bea')).toBeDefined();
    expect(sandbox.state.accountId).toBe(MANAGEMENT);
  });

  it('fromTemporaryCredentials gives an IAMClient acting in the member account, with the session name recorded', async () => {
    const credentials = fromTemporaryCredentials({
      masterCredentials: BASE_CREDENTIALS,
      params: { RoleArn: roleArn(MEMBER_C), RoleSessionName: 'keywarden-fleet', ExternalId: EXTERNAL_ID },
      clientConfig: { endpoint: sandbox.url, region: 'us-east-1' },
    });
    expect(await userNames(sandbox, credentials)).toEqual(['cleo']);
    expect(sandbox.assumeRoleCalls()).toEqual([
      expect.objectContaining({ accountId: MEMBER_C, sessionName: 'keywarden-fleet', externalId: EXTERNAL_ID, outcome: 'Issued' }),
    ]);
  });

  it('GetCallerIdentity answers per credentials', async () => {
    const base = stsClient(sandbox);
    expect(await base.send(new GetCallerIdentityCommand({}))).toMatchObject({
      Account: MANAGEMENT,
      Arn: `arn:aws:iam::${MANAGEMENT}:user/alice`,
      UserId: sandbox.state.getUser('alice')!.userId,
    });
    const b = await assumeRole(sandbox, { RoleArn: roleArn(MEMBER_B), RoleSessionName: 'who-am-i' });
    const assumed = stsClient(sandbox, b);
    const id = await assumed.send(new GetCallerIdentityCommand({}));
    expect(id).toMatchObject({ Account: MEMBER_B, Arn: `arn:aws:sts::${MEMBER_B}:assumed-role/KeywardenAudit/who-am-i` });
    expect(id.UserId).toMatch(/^AROA[A-Z2-7]{17}:who-am-i$/);
    // An assumed role is not an IAM user: IAM wants a UserName.
    const getUser = await sdkError(iamClientWith(sandbox, b).send(new GetUserCommand({})));
    expect(getUser.name).toBe('ValidationError');
    expect(getUser.message).toBe('Must specify userName when calling with non-User credentials');
    base.destroy();
    assumed.destroy();
  });

  it.each([
    ['a wrong ExternalId', { RoleArn: roleArn(MEMBER_C), ExternalId: 'guess' }, 'external-id'],
    ['no ExternalId where one is required', { RoleArn: roleArn(MEMBER_C) }, 'external-id'],
    ['another role name', { RoleArn: roleArn(MEMBER_B, 'OrganizationAccountAccessRole') }, 'role-name'],
    ['a role path', { RoleArn: `arn:aws:iam::${MEMBER_B}:role/audit/KeywardenAudit` }, 'role-name'],
    ['an account without the role', { RoleArn: roleArn(MEMBER_NO_ROLE) }, 'role-missing'],
    ['a SUSPENDED account', { RoleArn: roleArn(MEMBER_SUSPENDED) }, 'account-not-active'],
    ['an account outside the organization', { RoleArn: roleArn('999999999999') }, 'not-in-organization'],
  ])('AssumeRole with %s is AccessDenied (403), the log says why', async (_what, input, reason) => {
    const sts = stsClient(sandbox);
    const e = await sdkError(sts.send(new AssumeRoleCommand({ RoleSessionName: 'keywarden', ...input })));
    expect(e.name).toBe('AccessDenied');
    expect(e.$metadata.httpStatusCode).toBe(403);
    expect(e.message).toBe(`User: arn:aws:iam::${MANAGEMENT}:user/alice is not authorized to perform: sts:AssumeRole on resource: ${input.RoleArn}`);
    expect(sandbox.assumeRoleCalls()).toEqual([expect.objectContaining({ outcome: 'AccessDenied', reason, sessionName: 'keywarden' })]);
    sts.destroy();
  });

  it('AssumeRole validates RoleSessionName, DurationSeconds and RoleArn like STS (ValidationError 400)', async () => {
    const sts = stsClient(sandbox);
    const short = await sdkError(sts.send(new AssumeRoleCommand({ RoleArn: roleArn(MEMBER_B), RoleSessionName: 'x', DurationSeconds: 600 })));
    expect(short.name).toBe('ValidationError');
    expect(short.$metadata.httpStatusCode).toBe(400);
    expect(short.message).toBe(
      "2 validation errors detected: Value 'x' at 'roleSessionName' failed to satisfy constraint: Member must have length greater than or equal to 2; " +
        "Value '600' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900",
    );
    const bad = await sdkError(sts.send(new AssumeRoleCommand({ RoleArn: roleArn(MEMBER_B), RoleSessionName: 'has space' })));
    expect(bad.message).toContain('Member must satisfy regular expression pattern: [\\w+=,.@-]*');
    const arn = await sdkError(sts.send(new AssumeRoleCommand({ RoleArn: 'arn:aws:iam::12:role/KeywardenAudit', RoleSessionName: 'ok' })));
    expect(arn.name).toBe('ValidationError');
    // Role chaining: an assumed role may assume another for at most an hour.
    const chained = stsClient(sandbox, await assumeRole(sandbox, { RoleArn: roleArn(MEMBER_B) }));
    const long = await sdkError(chained.send(new AssumeRoleCommand({ RoleArn: roleArn(MEMBER_C), RoleSessionName: 'chain', ExternalId: EXTERNAL_ID, DurationSeconds: 7200 })));
    expect(long.message).toBe('The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.');
    const hop = await chained.send(new AssumeRoleCommand({ RoleArn: roleArn(MEMBER_C), RoleSessionName: 'chain', ExternalId: EXTERNAL_ID }));
    expect(hop.AssumedRoleUser!.Arn).toBe(`arn:aws:sts::${MEMBER_C}:assumed-role/KeywardenAudit/chain`);
    expect(sandbox.assumeRoleCalls().at(-1)!.callerArn).toBe(`arn:aws:sts::${MEMBER_B}:assumed-role/KeywardenAudit/keywarden-test`);
    sts.destroy();
    chained.destroy();
  });

  it('role names compare case-insensitively, like IAM names; the session carries the role’s own spelling', async () => {
    const sts = stsClient(sandbox);
    const out = await sts.send(new AssumeRoleCommand({ RoleArn: roleArn(MEMBER_B, 'keywardenaudit'), RoleSessionName: 'lower' }));
    expect(out.AssumedRoleUser!.Arn).toBe(`arn:aws:sts::${MEMBER_B}:assumed-role/KeywardenAudit/lower`);
    sts.destroy();
  });

  it('a per-account fault refuses AssumeRole into that account only', async () => {
    sandbox.setFaults([{ operation: 'AssumeRole', accountId: MEMBER_B, error: 'AccessDenied' }]);
    const e = await sdkError(assumeRole(sandbox, { RoleArn: roleArn(MEMBER_B) }));
    expect(e.name).toBe('AccessDenied');
    expect(e.message).toContain(`on resource: ${roleArn(MEMBER_B)}`);
    const c = await assumeRole(sandbox, { RoleArn: roleArn(MEMBER_C), ExternalId: EXTERNAL_ID });
    expect(await userNames(sandbox, c)).toEqual(['cleo']);
    expect(sandbox.assumeRoleCalls().map((r) => [r.accountId, r.outcome, r.reason])).toEqual([
      [MEMBER_B, 'AccessDenied', 'fault'],
      [MEMBER_C, 'Issued', undefined],
    ]);
  });

  it('a per-account IAM fault hits that account only, in the assumed role’s name', async () => {
    sandbox.setFaults([{ service: 'iam', operation: 'ListUsers', accountId: MEMBER_B, error: 'AccessDenied' }]);
    const b = await assumeRole(sandbox, { RoleArn: roleArn(MEMBER_B), RoleSessionName: 'scan' });
    const e = await sdkError(iamClientWith(sandbox, b).send(new ListUsersCommand({})));
    expect(e.message).toBe(
      `User: arn:aws:sts::${MEMBER_B}:assumed-role/KeywardenAudit/scan is not authorized to perform: iam:ListUsers on resource: arn:aws:iam::${MEMBER_B}:user/ because no identity-based policy allows the iam:ListUsers action`,
    );
    expect(await userNames(sandbox, BASE_CREDENTIALS)).toEqual(['admin', 'alice']);
  });

  it('an unknown temporary key is InvalidClientTokenId (IAM, STS) / UnrecognizedClientException (Organizations)', async () => {
    const forged = { accessKeyId: 'ASIAFORGED0000000000', secretAccessKey: 'x', sessionToken: 'nope' };
    const iam = await sdkError(iamClientWith(sandbox, forged).send(new ListUsersCommand({})));
    expect([iam.name, iam.$metadata.httpStatusCode]).toEqual(['InvalidClientTokenId', 403]);
    const sts = await sdkError(stsClient(sandbox, forged).send(new GetCallerIdentityCommand({})));
    expect([sts.name, sts.$metadata.httpStatusCode]).toEqual(['InvalidClientTokenId', 403]);
    const orgs = await sdkError(organizationsClient(sandbox, forged).send(new ListAccountsCommand({})));
    expect([orgs.name, orgs.$metadata.httpStatusCode]).toEqual(['UnrecognizedClientException', 403]);
    // A real key with another session token is refused too.
    const b = await assumeRole(sandbox, { RoleArn: roleArn(MEMBER_B) });
    const swapped = await sdkError(iamClientWith(sandbox, { ...b, sessionToken: 'other' }).send(new ListUsersCommand({})));
    expect(swapped.name).toBe('InvalidClientTokenId');
    expect(sandbox.calls().failedByOperation).toMatchObject({ ListUsers: 2, GetCallerIdentity: 1, ListAccounts: 1 });
  });

  it('call counts per account: IAM and GetCallerIdentity where the credentials act, AssumeRole in the role’s account', async () => {
    const b = await assumeRole(sandbox, { RoleArn: roleArn(MEMBER_B) });
    await userNames(sandbox, b);
    await userNames(sandbox, b);
    await userNames(sandbox, BASE_CREDENTIALS);
    await stsClient(sandbox, b).send(new GetCallerIdentityCommand({}));
    await organizationsClient(sandbox).send(new ListRootsCommand({}));
    expect(sandbox.calls(MEMBER_B)).toEqual({
      total: 4,
      failed: 0,
      byOperation: { AssumeRole: 1, ListUsers: 2, GetCallerIdentity: 1 },
      succeededByOperation: { AssumeRole: 1, ListUsers: 2, GetCallerIdentity: 1 },
      failedByOperation: {},
    });
    expect(sandbox.calls(MANAGEMENT).byOperation).toEqual({ ListUsers: 1, ListRoots: 1 });
    expect(sandbox.account(MEMBER_B).calls()).toEqual(sandbox.calls(MEMBER_B));
    expect(sandbox.calls().total).toBe(6);
    const overHttp = await (await fetch(`${sandbox.url}/_sandbox/calls?accountId=${MEMBER_B}`)).json();
    expect(overHttp).toEqual(sandbox.calls(MEMBER_B));
    sandbox.resetCalls();
    expect(sandbox.calls(MEMBER_B).total).toBe(0);
    expect(sandbox.assumeRoleCalls()).toEqual([]);
  });

  it('latency per operation: 25 ms on every IAM call, 50 ms on AssumeRole', async () => {
    sandbox.setFaults([
      { service: 'iam', operation: '*', latencyMs: 25 },
      { operation: 'AssumeRole', latencyMs: 50 },
    ]);
    let t = Date.now();
    const b = await assumeRole(sandbox, { RoleArn: roleArn(MEMBER_B) });
    expect(Date.now() - t).toBeGreaterThanOrEqual(50);
    t = Date.now();
    await userNames(sandbox, b);
    expect(Date.now() - t).toBeGreaterThanOrEqual(25);
  });
});

describe('sandbox organization: changing the organization while it runs', () => {
  let sandbox: IamSandbox;
  let org: OrganizationsClient;
  beforeEach(async () => {
    sandbox = await startIamSandbox({ fixture: organizationFixture() });
    org = organizationsClient(sandbox);
  });
  afterEach(async () => {
    org.destroy();
    await sandbox.close();
  });

  it('an account moved to another OU answers its new path', async () => {
    sandbox.organization!.moveAccount(MEMBER_B, 'Root/Sandbox');
    expect(await ouPath(org, MEMBER_B)).toBe('Root/Sandbox');
    const patched = await fetch(`${sandbox.url}/_sandbox/organization/accounts/${MEMBER_B}`, {
      method: 'PATCH',
      body: JSON.stringify({ parent: 'Root/Engineering/Prod' }),
    });
    expect(patched.status).toBe(204);
    expect(await ouPath(org, MEMBER_B)).toBe('Root/Engineering/Prod');
  });

  it('a suspended account refuses AssumeRole and the sessions already issued into it', async () => {
    const b = await assumeRole(sandbox, { RoleArn: roleArn(MEMBER_B) });
    sandbox.organization!.setAccountStatus(MEMBER_B, 'SUSPENDED');
    const listed = (await org.send(new ListAccountsCommand({}))).Accounts!.find((a) => a.Id === MEMBER_B)!;
    expect([listed.Status, listed.State]).toEqual(['SUSPENDED', 'SUSPENDED']);
    expect((await sdkError(assumeRole(sandbox, { RoleArn: roleArn(MEMBER_B) }))).name).toBe('AccessDenied');
    const e = await sdkError(iamClientWith(sandbox, b).send(new ListUsersCommand({})));
    expect([e.name, e.$metadata.httpStatusCode]).toEqual(['AccessDenied', 403]);
    sandbox.organization!.setAccountStatus(MEMBER_B, 'CLOSED');
    const closed = (await org.send(new ListAccountsCommand({}))).Accounts!.find((a) => a.Id === MEMBER_B)!;
    // Status (being retired) has no CLOSED.
    expect([closed.Status, closed.State]).toEqual(['SUSPENDED', 'CLOSED']);
  });

  it('an account removed from the organization is not listed, has no parent and refuses AssumeRole; issued sessions keep working', async () => {
    const b = await assumeRole(sandbox, { RoleArn: roleArn(MEMBER_B) });
    const removed = await fetch(`${sandbox.url}/_sandbox/organization/accounts/${MEMBER_B}`, { method: 'DELETE' });
    expect(removed.status).toBe(204);
    const ids: string[] = [];
    for await (const page of paginateListAccounts({ client: org }, {})) ids.push(...page.Accounts!.map((a) => a.Id!));
    expect(ids).toHaveLength(44);
    expect(ids).not.toContain(MEMBER_B);
    expect(await sdkError(org.send(new ListParentsCommand({ ChildId: MEMBER_B })))).toBeInstanceOf(ChildNotFoundException);
    expect(await sdkError(assumeRole(sandbox, { RoleArn: roleArn(MEMBER_B) }))).toMatchObject({ name: 'AccessDenied' });
    expect(sandbox.assumeRoleCalls().at(-1)).toMatchObject({ reason: 'not-in-organization' });
    expect(await userNames(sandbox, b)).toEqual(['bea', 'bert']);
    // The left account sees no organization.
    const leftOrg = organizationsClient(sandbox, b);
    expect(await sdkError(leftOrg.send(new DescribeOrganizationCommand({})))).toBeInstanceOf(AWSOrganizationsNotInUseException);
    leftOrg.destroy();
    expect((await fetch(`${sandbox.url}/_sandbox/organization/accounts/${MANAGEMENT}`, { method: 'DELETE' })).status).toBe(409);
  });
});

describe('sandbox organization: temporary credentials expire', () => {
  afterEach(() => jest.useRealTimers());

  it('expired credentials are ExpiredToken (403); fromTemporaryCredentials refreshes them', async () => {
    // Only Date is faked: the SDK's expiry check and the sandbox's clock move together, sockets and timers stay real.
    jest.useFakeTimers({
      doNotFake: ['hrtime', 'nextTick', 'performance', 'queueMicrotask', 'setImmediate', 'clearImmediate', 'setInterval', 'clearInterval', 'setTimeout', 'clearTimeout'],
      now: new Date('2026-06-01T12:00:00Z'),
    });
    const sandbox = await startIamSandbox({ fixture: organizationFixture() });
    try {
      const credentials = fromTemporaryCredentials({
        masterCredentials: BASE_CREDENTIALS,
        params: { RoleArn: roleArn(MEMBER_B), RoleSessionName: 'keywarden-refresh', DurationSeconds: 900 },
        clientConfig: { endpoint: sandbox.url, region: 'us-east-1' },
      });
      const iam = iamClientWith(sandbox, credentials);
      await iam.send(new ListUsersCommand({}));
      await iam.send(new ListUsersCommand({}));
      // The SDK reuses credentials until 5 minutes before they expire.
      expect(sandbox.sessions()).toHaveLength(1);
      const [first] = sandbox.sessions();
      expect(first!.expiresAt.toISOString()).toBe('2026-06-01T12:15:00.000Z');

      jest.setSystemTime(new Date('2026-06-01T12:15:01Z'));
      const stale = { accessKeyId: first!.accessKeyId, secretAccessKey: first!.secretAccessKey, sessionToken: first!.sessionToken };
      const expired = await sdkError(iamClientWith(sandbox, stale).send(new ListUsersCommand({})));
      expect([expired.name, expired.$metadata.httpStatusCode]).toEqual(['ExpiredToken', 403]);
      expect(expired.message).toBe('The security token included in the request is expired');
      const expiredSts = await sdkError(stsClient(sandbox, stale).send(new GetCallerIdentityCommand({})));
      expect(expiredSts.name).toBe('ExpiredToken');

      const users = (await iam.send(new ListUsersCommand({}))).Users!.map((u) => u.UserName);
      expect(users).toEqual(['bea', 'bert']);
      expect(sandbox.sessions()).toHaveLength(2);
      expect(sandbox.sessions()[1]!.accessKeyId).not.toBe(first!.accessKeyId);
      expect(sandbox.assumeRoleCalls().map((r) => [r.sessionName, r.outcome])).toEqual([
        ['keywarden-refresh', 'Issued'],
        ['keywarden-refresh', 'Issued'],
      ]);
      iam.destroy();
    } finally {
      await sandbox.close();
    }
  });

  it('credentialLifetimeSeconds issues short credentials whatever DurationSeconds asks', async () => {
    let now = new Date('2026-06-01T12:00:00Z');
    const sandbox = await startIamSandbox({ fixture: organizationFixture({ credentialLifetimeSeconds: 5 }), now: () => now });
    try {
      const b = await assumeRole(sandbox, { RoleArn: roleArn(MEMBER_B), DurationSeconds: 3600 });
      expect(b.expiration!.toISOString()).toBe('2026-06-01T12:00:05.000Z');
      expect(await userNames(sandbox, b)).toEqual(['bea', 'bert']);
      now = new Date('2026-06-01T12:00:05Z');
      expect((await sdkError(userNames(sandbox, b))).name).toBe('ExpiredToken');
    } finally {
      await sandbox.close();
    }
  });
});

describe('single-account sandbox: STS and Organizations', () => {
  it('GetCallerIdentity is the caller user; Organizations says the account is in no organization; AssumeRole stays in the account', async () => {
    const sandbox = await startIamSandbox({ fixture: baseFixture() });
    try {
      const sts = stsClient(sandbox);
      expect(await sts.send(new GetCallerIdentityCommand({}))).toMatchObject({
        Account: '123456789012',
        Arn: 'arn:aws:iam::123456789012:user/keywarden-scanner',
      });
      const orgs = organizationsClient(sandbox);
      const e = await sdkError(orgs.send(new DescribeOrganizationCommand({})));
      expect(e).toBeInstanceOf(AWSOrganizationsNotInUseException);
      expect(e.message).toBe('Your account is not a member of an organization.');
      expect(sandbox.organization).toBeNull();
      const own = await assumeRole(sandbox, { RoleArn: 'arn:aws:iam::123456789012:role/AnyRole' });
      expect(await userNames(sandbox, own)).toEqual(['alice', 'bob', 'ops,admin']);
      expect((await sdkError(assumeRole(sandbox, { RoleArn: roleArn(MEMBER_B) }))).name).toBe('AccessDenied');
      sts.destroy();
      orgs.destroy();
    } finally {
      await sandbox.close();
    }
  });
});
