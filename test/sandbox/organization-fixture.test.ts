import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ListUsersCommand } from '@aws-sdk/client-iam';
import { ListAccountsCommand, paginateListAccounts } from '@aws-sdk/client-organizations';
import {
  buildOrganizationFixture,
  buildOrganizationFixtureWithManifest,
  FixtureError,
  FaultRulesSchema,
  loadSandboxFixture,
  parseOrganizationFixture,
  sampleOrganizationFixture,
  SAMPLE_MEMBER_ROLE_NAME,
  startIamSandbox,
  type OrganizationFixtureInput,
} from '../../src/sandbox';
import { baseFixture, sdkError } from './helpers';
import { assumeRole, BASE_CREDENTIALS, iamClientWith, MANAGEMENT, MEMBER_B, organizationFixture, organizationsClient, roleArn } from './organization-helpers';
import { makeTempDir } from '../support/test-resources';

const NOW = new Date('2024-05-01T12:00:00Z');

function issuesOf(input: unknown): string[] {
  try {
    parseOrganizationFixture(input, NOW);
  } catch (e) {
    expect(e).toBeInstanceOf(FixtureError);
    return (e as FixtureError).issues.map((i) => `${i.path}: ${i.message}`);
  }
  throw new Error('expected the fixture to be refused');
}

const withAccounts = (patch: (f: OrganizationFixtureInput['organization']) => void): OrganizationFixtureInput => {
  const f = organizationFixture();
  patch(f.organization);
  return f;
};

describe('organization fixture validation', () => {
  it('parses the test organization: 45 accounts, base credentials in the management account, joinedAt from the account’s creation', () => {
    const parsed = parseOrganizationFixture(organizationFixture(), NOW);
    expect(parsed.organization.callerAccountId).toBe(MANAGEMENT);
    expect(parsed.organization.accounts).toHaveLength(45);
    expect(parsed.organization.accounts[1]!.joinedAt.toISOString()).toBe('2022-12-18T12:00:00.000Z'); // its accountCreatedAt, now-500d
  });

  it('names the path of every problem: fields of the organization and of an account’s IAM together', () => {
    const issues = issuesOf(
      withAccounts((o) => {
        o.accounts[1]!.status = 'GONE' as never;
        (o.accounts[1]!.iam as { users: { createdAt: string }[] }).users[1]!.createdAt = 'yesterday';
      }),
    );
    expect(issues).toEqual([
      'organization.accounts[1].status: Invalid option: expected one of "ACTIVE"|"SUSPENDED"|"PENDING_CLOSURE"|"CLOSED"',
      expect.stringMatching(/^organization\.accounts\[1\]\.iam\.users\[1\]\.createdAt: invalid time spec "yesterday"/),
    ]);
  });

  it('rules across accounts and OUs are checked once the fields are valid', () => {
    const issues = issuesOf(
      withAccounts((o) => {
        o.accounts[2]!.parent = 'Root/Nowhere';
        o.accounts[3]!.accountId = MEMBER_B;
        o.accounts[4]!.email = 'PROD@example.com';
      }),
    );
    expect(issues).toEqual([
      'organization.accounts[2].parent: no OU Root/Nowhere',
      `organization.accounts[3].accountId: duplicate account ${MEMBER_B} (also accounts[1])`,
      'organization.accounts[4].email: duplicate email PROD@example.com (also accounts[1])',
    ]);
  });

  it.each([
    ['management account not among the accounts', (o: OrganizationFixtureInput['organization']) => (o.managementAccountId = '999999999999'), 'organization.managementAccountId: no account 999999999999 in accounts'],
    ['accountId inside iam', (o: OrganizationFixtureInput['organization']) => ((o.accounts[0]!.iam as Record<string, unknown>)['accountId'] = MANAGEMENT), "organization.accounts[0].iam.accountId: unknown field (the account's id is its accountId)"],
    ['unknown account field', (o: OrganizationFixtureInput['organization']) => ((o.accounts[0] as Record<string, unknown>)['region'] = 'eu-west-1'), 'organization.accounts[0].region: unknown field'],
    ['duplicate OU', (o: OrganizationFixtureInput['organization']) => o.ous!.push({ name: 'Sandbox', parent: 'Root' }), 'organization.ous[3].name: duplicate OU Root/Sandbox'],
    ['OU name with a slash', (o: OrganizationFixtureInput['organization']) => o.ous!.push({ name: 'a/b' }), 'organization.ous[3].name: an OU name cannot contain "/" (it separates OU paths)'],
    ['bad role name', (o: OrganizationFixtureInput['organization']) => (o.memberRoleName = 'has space'), 'organization.memberRoleName: role name must be 1 to 64 characters from [A-Za-z0-9_+=,.@-]'],
    ['caller account unknown', (o: OrganizationFixtureInput['organization']) => (o.callerAccountId = '999999999999'), 'organization.callerAccountId: no account 999999999999 in accounts'],
    ['fault error another service lacks', (o: OrganizationFixtureInput['organization']) => (o.faults = [{ operation: 'AssumeRole', error: 'NoSuchEntity' }]), expect.stringMatching(/^organization\.faults\[0\]\.error: NoSuchEntity is not an error of sts: use one of AccessDenied, /)],
  ])('%s', (_what, patch, expected) => {
    expect(issuesOf(withAccounts(patch))).toContainEqual(expected);
  });

  it('fault rules: operation and service must agree; a rule for one service uses that service’s errors', () => {
    expect(FaultRulesSchema.safeParse([{ service: 'iam', operation: 'AssumeRole', latencyMs: 5 }]).success).toBe(false);
    expect(FaultRulesSchema.safeParse([{ service: 'organizations', operation: '*', error: 'TooManyRequestsException' }]).success).toBe(true);
    expect(FaultRulesSchema.safeParse([{ operation: 'ListUsers', error: 'ChildNotFoundException' }]).success).toBe(false);
    // A `*` rule's error applies where the service has it.
    expect(FaultRulesSchema.safeParse([{ operation: '*', error: 'NoSuchEntity' }]).success).toBe(true);
  });

  it('loadSandboxFixture reads either kind of file, naming the file in errors', () => {
    const dir = makeTempDir('kw-org-');
    const org = join(dir, 'org.json');
    const single = join(dir, 'account.json');
    writeFileSync(org, JSON.stringify(organizationFixture()));
    writeFileSync(single, JSON.stringify(baseFixture()));
    expect('organization' in loadSandboxFixture(org, NOW)).toBe(true);
    expect(loadSandboxFixture(single, NOW)).toMatchObject({ accountId: '123456789012' });
    writeFileSync(org, JSON.stringify(withAccounts((o) => (o.accounts[0]!.email = 'nope'))));
    expect(() => loadSandboxFixture(org, NOW)).toThrow(/organization\.accounts\[0\]\.email: email must look like name@example\.com \(in .*org\.json\)/);
  });
});

describe('organization fixture in a running sandbox', () => {
  it('PUT /_sandbox/fixture takes an organization; a bad one is 400 and changes nothing; healthz and organization describe it', async () => {
    const sandbox = await startIamSandbox({ fixture: baseFixture() });
    try {
      const put = await fetch(`${sandbox.url}/_sandbox/fixture`, { method: 'PUT', body: JSON.stringify(organizationFixture()) });
      expect(put.status).toBe(204);
      expect(sandbox.organization!.id).toBe('o-keywarden01');
      expect(sandbox.state.accountId).toBe(MANAGEMENT);
      expect(await (await fetch(`${sandbox.url}/_sandbox/healthz`)).json()).toEqual({ status: 'ok', users: 2, organization: 'o-keywarden01', accounts: 45 });
      expect(await (await fetch(`${sandbox.url}/_sandbox/healthz?accountId=${MEMBER_B}`)).json()).toMatchObject({ users: 2 });
      expect((await fetch(`${sandbox.url}/_sandbox/calls?accountId=999999999999`)).status).toBe(404);
      const summary = (await (await fetch(`${sandbox.url}/_sandbox/organization`)).json()) as { accounts: unknown[] };
      expect(summary.accounts[1]).toEqual({ accountId: MEMBER_B, name: 'prod', status: 'ACTIVE', parent: 'Root/Engineering/Prod' });

      const bad = await fetch(`${sandbox.url}/_sandbox/fixture`, { method: 'PUT', body: JSON.stringify(withAccounts((o) => (o.accounts = []))) });
      expect(bad.status).toBe(400);
      expect(((await bad.json()) as { issues: { path: string }[] }).issues[0]!.path).toBe('organization.accounts');
      expect(sandbox.organization!.accountCount).toBe(45);

      // Back to a single account: no organization, Organizations says so.
      sandbox.replaceFixture(baseFixture());
      expect(sandbox.organization).toBeNull();
      expect((await fetch(`${sandbox.url}/_sandbox/organization`)).status).toBe(404);
    } finally {
      await sandbox.close();
    }
  });

  it('account fixtures’ own fault rules apply to that account only', async () => {
    const fixture = withAccounts((o) => {
      (o.accounts[1]!.iam as { faults?: unknown[] }).faults = [{ operation: 'ListUsers', error: 'ServiceFailure' }];
    });
    const sandbox = await startIamSandbox({ fixture });
    try {
      expect(sandbox.getFaults()).toEqual([{ operation: 'ListUsers', error: 'ServiceFailure', accountId: MEMBER_B }]);
      const b = await assumeRole(sandbox, { RoleArn: roleArn(MEMBER_B) });
      expect((await sdkError(iamClientWith(sandbox, b).send(new ListUsersCommand({})))).name).toBe('ServiceFailureException');
      await expect(iamClientWith(sandbox, BASE_CREDENTIALS).send(new ListUsersCommand({}))).resolves.toBeDefined();
    } finally {
      await sandbox.close();
    }
  });
});

describe('sample organization', () => {
  it('three accounts in OUs; the members are reached with AssumeRole into KeywardenAudit', async () => {
    const sandbox = await startIamSandbox({ fixture: sampleOrganizationFixture });
    try {
      const org = organizationsClient(sandbox);
      const accounts = (await org.send(new ListAccountsCommand({}))).Accounts!;
      expect(accounts.map((a) => a.Id)).toEqual(['123456789012', '234567890123', '345678901234']);
      expect(sandbox.organization!.pathOf('234567890123')).toBe('Root/Engineering/Prod');
      expect(sandbox.organization!.pathOf('345678901234')).toBe('Root/Sandbox');
      const prod = await assumeRole(sandbox, { RoleArn: `arn:aws:iam::234567890123:role/${SAMPLE_MEMBER_ROLE_NAME}` });
      const users = (await iamClientWith(sandbox, prod).send(new ListUsersCommand({}))).Users!.map((u) => u.UserName);
      expect(users).toEqual(['dba-omar', 'oncall-anna', 'release-bot-admin', 'svc-deploy']);
      expect(sandbox.state.userCount).toBe(15); // the management account is the sample account
      org.destroy();
    } finally {
      await sandbox.close();
    }
  });
});

describe('buildOrganizationFixture', () => {
  it('is deterministic from the seed; its manifest says which accounts are suspended or lack the role', () => {
    const opts = { accounts: 30, usersPerAccount: 50, seed: 5, suspendedAccounts: 2, roleMissingAccounts: 3 };
    const { fixture, manifest } = buildOrganizationFixtureWithManifest(opts);
    const again = buildOrganizationFixture(opts);
    // Accounts' IAM are functions: compare what they give.
    const iamOf = (f: OrganizationFixtureInput, i: number) => (f.organization.accounts[i]!.iam as () => unknown)();
    expect(iamOf(again, 7)).toEqual(iamOf(fixture, 7));
    expect(iamOf(fixture, 7)).not.toEqual(iamOf(fixture, 8));
    expect(manifest.suspended).toHaveLength(2);
    expect(manifest.roleMissing).toHaveLength(3);
    expect(manifest.suspended).not.toContain(manifest.managementAccountId);
    const parsed = parseOrganizationFixture(fixture, NOW);
    const byId = new Map(parsed.organization.accounts.map((a) => [a.accountId, a]));
    for (const id of manifest.suspended) expect(byId.get(id)!.status).toBe('SUSPENDED');
    for (const id of manifest.roleMissing) expect(byId.get(id)!.roleMissing).toBe(true);
    const users = manifest.usersOf(manifest.accountIds[4]!);
    expect(Object.values(users.byCategory).flat()).toHaveLength(50);
  });

  it('200 accounts × 500 users: built and served at once, each account’s IAM made on first use', async () => {
    const started = Date.now();
    const { fixture, manifest } = buildOrganizationFixtureWithManifest({ accounts: 200, usersPerAccount: 500, seed: 11, iamLatencyMs: 1, assumeRoleLatencyMs: 1 });
    const sandbox = await startIamSandbox({ fixture });
    try {
      expect(Date.now() - started).toBeLessThan(1000);
      const org = organizationsClient(sandbox);
      let listed = 0;
      for await (const page of paginateListAccounts({ client: org }, {})) listed += page.Accounts!.length;
      expect(listed).toBe(200);
      const member = manifest.accountIds[150]!;
      const creds = await assumeRole(sandbox, { RoleArn: roleArn(member) });
      const iam = iamClientWith(sandbox, creds);
      const page = await iam.send(new ListUsersCommand({ MaxItems: 1000 }));
      expect(page.Users).toHaveLength(500);
      const setupKeyUser = manifest.usersOf(member).byCategory['console-setup-key'][0]!;
      expect(sandbox.account(member).state.getUser(setupKeyUser)).toBeDefined();
      // Only the accounts used have an IAM state: the caller's (AssumeRole names its user) and the member scanned.
      expect(sandbox.accountsWithState()).toEqual([manifest.managementAccountId, member]);
      expect(sandbox.getFaults()).toEqual([
        { service: 'iam', operation: '*', latencyMs: 1 },
        { operation: 'AssumeRole', latencyMs: 1 },
      ]);
      org.destroy();
      iam.destroy();
    } finally {
      await sandbox.close();
    }
  });

  it('a generated account may not bring its own fault rules', async () => {
    const fixture = buildOrganizationFixture({ accounts: 2, usersPerAccount: 1, seed: 1 });
    const generated = fixture.organization.accounts[1]!.iam as () => Record<string, unknown>;
    fixture.organization.accounts[1]!.iam = () => ({ ...generated(), faults: [{ operation: 'ListUsers', latencyMs: 1 }] }) as never;
    const sandbox = await startIamSandbox({ fixture });
    try {
      const creds = await assumeRole(sandbox, { RoleArn: roleArn(fixture.organization.accounts[1]!.accountId) });
      const e = await sdkError(iamClientWith(sandbox, creds).send(new ListUsersCommand({})));
      expect(e.name).toBe('ServiceFailureException');
      expect(e.message).toContain('put them in organization.faults with its accountId');
    } finally {
      await sandbox.close();
    }
  });
});
