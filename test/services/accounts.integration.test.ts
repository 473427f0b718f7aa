import fs from 'node:fs';
import path from 'node:path';
import { ListUsersCommand } from '@aws-sdk/client-iam';
import { AwsAccess } from '../../src/adapters/aws/aws-access';
import { createScanService } from '../../src/app';
import { DEFAULT_CONTROL_SETTINGS } from '../../src/controls/no-access-keys-at-setup/control';
import { AccountMismatchError, AccountsService, AssumeRoleDeniedError, UnknownAccountError } from '../../src/services/accounts.service';
import { InvalidInputError } from '../../src/services/errors';
import type { FixtureInput } from '../../src/sandbox/fixture';
import { startIamSandbox, type IamSandbox } from '../../src/sandbox/iam-sandbox.server';
import type { FakeOrganization } from '../support/fake-aws';
import { startFakeAws, type FakeAws } from '../support/fake-aws';
import { resetDatabase, scannerArn, testPrisma, TEST_ACCESS_KEY_ID } from '../support/stack';

/**
 * AccountsService through the real SDK over HTTP (STS, Organizations and IAM on loopback) and real PostgreSQL:
 * sync from Organizations, add/list/remove, and IAM clients acting in each account.
 */
const MANAGEMENT = '100000000001';
const PROD = '200000000002';
const DEV = '300000000003';
const SUSPENDED = '400000000004';
const OUTSIDE = '500000000005';
const ROOT = 'r-ab12';
const WORKLOADS = 'ou-ab12-11111111';
const PROD_OU = 'ou-ab12-22222222';

const organization = (): FakeOrganization => ({
  rootId: ROOT,
  ous: { [WORKLOADS]: ROOT, [PROD_OU]: WORKLOADS },
  pageSize: 2, // three pages for five accounts: the paginator must follow NextToken
  accounts: [
    { id: MANAGEMENT, name: 'management', email: 'aws@example.com', state: 'ACTIVE', parent: ROOT },
    { id: PROD, name: 'prod', email: 'prod@example.com', state: 'ACTIVE', parent: PROD_OU },
    { id: DEV, name: 'dev', email: 'dev@example.com', state: 'ACTIVE', parent: WORKLOADS },
    { id: SUSPENDED, name: 'old', email: 'old@example.com', state: 'SUSPENDED', parent: WORKLOADS },
    { id: '600000000006', name: 'new', email: 'new@example.com', state: 'PENDING_ACTIVATION', parent: ROOT },
  ],
});

const memberFixture = (accountId: string): FixtureInput => ({
  accountId, accountCreatedAt: 'now-900d',
  users: [{ userName: 'alice', createdAt: 'now-400d', loginProfile: { createdAt: 'now-400d' }, accessKeys: [{ accessKeyId: `AKIA${accountId.slice(0, 4)}ALICE0000001`.slice(0, 20), status: 'Active', createdAt: 'now-400d+30s' }] }],
});

describe('accounts', () => {
  const prisma = testPrisma();
  let fake: FakeAws;
  let prodIam: IamSandbox;
  let managementIam: IamSandbox;
  let service: AccountsService;
  const access = (options: { externalId?: string; memberRoleName?: string } = {}) =>
    new AwsAccess({
      region: 'us-east-1', maxAttempts: 2, credentials: { accessKeyId: TEST_ACCESS_KEY_ID, secretAccessKey: 'test' },
      endpoints: { iam: fake.url, sts: fake.url, organizations: fake.url }, ...options,
    });
  const roleArn = (accountId: string, name = 'KeywardenAudit') => `arn:aws:iam::${accountId}:role/${name}`;

  beforeAll(async () => {
    await resetDatabase(prisma);
    prodIam = await startIamSandbox({ fixture: memberFixture(PROD) });
    managementIam = await startIamSandbox({ fixture: memberFixture(MANAGEMENT) });
    fake = await startFakeAws({
      identities: { [TEST_ACCESS_KEY_ID]: { account: MANAGEMENT, arn: scannerArn(MANAGEMENT) } },
      roles: { [roleArn(PROD)]: { trusted: [scannerArn(MANAGEMENT)] } },
      organization: organization(),
      iam: { [PROD]: prodIam.url, [MANAGEMENT]: managementIam.url },
    });
    service = new AccountsService(prisma, access());
  });
  afterAll(async () => {
    await fake.close();
    await prodIam.close();
    await managementIam.close();
    await prisma.$disconnect();
  });

  describe('sync', () => {
    it('lists every page of the organization, with each account\'s OU path from ListParents, asking each parent once', async () => {
      const result = await service.sync();
      expect(result).toEqual({ added: [MANAGEMENT, PROD, DEV, SUSPENDED, '600000000006'], updated: [], left: [], total: 5 });
      expect(fake.count('organizations', 'ListAccounts')).toBe(3);
      // 5 accounts and 2 OUs: one ListParents each, however many accounts share an OU.
      expect(fake.count('organizations', 'ListParents')).toBe(7);
      const rows = await prisma.account.findMany({ orderBy: { accountId: 'asc' } });
      expect(rows.map((a) => [a.accountId, a.name, a.email, a.organizationalUnitPath, a.status, a.source, a.inOrganization])).toEqual([
        // The root is "Root"; the stand-in names each OU by its id (DescribeOrganizationalUnit).
        [MANAGEMENT, 'management', 'aws@example.com', 'Root', 'ACTIVE', 'ORGANIZATION', true],
        [PROD, 'prod', 'prod@example.com', `Root/${WORKLOADS}/${PROD_OU}`, 'ACTIVE', 'ORGANIZATION', true],
        [DEV, 'dev', 'dev@example.com', `Root/${WORKLOADS}`, 'ACTIVE', 'ORGANIZATION', true],
        [SUSPENDED, 'old', 'old@example.com', `Root/${WORKLOADS}`, 'SUSPENDED', 'ORGANIZATION', true],
        ['600000000006', 'new', 'new@example.com', 'Root', 'PENDING_ACTIVATION', 'ORGANIZATION', true],
      ]);
    });

    it('a later sync updates what changed and keeps accounts that left or stopped being ACTIVE, each saying why it is not scanned', async () => {
      const org = fake.options.organization!;
      org.accounts = org.accounts.filter((a) => a.id !== DEV); // DEV left the organization
      org.accounts.find((a) => a.id === '600000000006')!.state = 'ACTIVE';
      org.accounts.find((a) => a.id === PROD)!.name = 'production';
      const result = await service.sync();
      expect(result).toEqual({ added: [], updated: [PROD, '600000000006'], left: [DEV], total: 4 });
      const dev = (await service.get(DEV))!;
      expect(dev).toMatchObject({ inOrganization: false, status: 'ACTIVE', source: 'ORGANIZATION', name: 'dev' });
      expect(dev.skipReason).toMatch(/^it left the organization: the sync of \d{4}-.*Z no longer listed it/);
      expect((await service.get(SUSPENDED))!.skipReason).toBe('the organization reports it SUSPENDED: only ACTIVE accounts are scanned (its history is kept)');
      expect((await service.get(PROD))!).toMatchObject({ name: 'production', skipReason: null });
      // Nothing is deleted.
      expect(await prisma.account.count()).toBe(5);
    });

    it('an account that comes back is in the organization again, and no longer says it left', async () => {
      fake.options.organization!.accounts.push({ id: DEV, name: 'dev', email: 'dev@example.com', state: 'ACTIVE', parent: WORKLOADS });
      expect(await service.sync()).toMatchObject({ added: [], updated: [DEV], left: [] });
      expect(await prisma.account.findUniqueOrThrow({ where: { accountId: DEV } })).toMatchObject({ inOrganization: true, leftAt: null });
    });

    it('without Organizations access it says what to do and changes nothing', async () => {
      const before = await prisma.account.findMany({ orderBy: { accountId: 'asc' } });
      fake.options.organization!.denied = true;
      await expect(service.sync()).rejects.toThrow(/^Organizations ListAccounts failed \(AccessDenied: .*\): run it with the management account's credentials or a delegated administrator's .*; nothing was changed$/);
      fake.options.organization!.denied = false;
      const saved = fake.options.organization;
      fake.options.organization = null;
      await expect(service.sync()).rejects.toThrow(/AWSOrganizationsNotInUse.*not in an organization; nothing was changed$/);
      fake.options.organization = saved;
      expect(await prisma.account.findMany({ orderBy: { accountId: 'asc' } })).toEqual(before);
    });

    it('an account state this build does not know fails the sync, naming the account, and changes nothing', async () => {
      const before = await prisma.account.findMany({ orderBy: { accountId: 'asc' } });
      const dev = fake.options.organization!.accounts.find((a) => a.id === DEV)!;
      dev.state = 'HIBERNATING' as 'ACTIVE';
      await expect(service.sync()).rejects.toThrow(`ListAccounts gave account ${DEV} the state HIBERNATING, which this Keywarden does not know; nothing was changed`);
      dev.state = 'ACTIVE';
      expect(await prisma.account.findMany({ orderBy: { accountId: 'asc' } })).toEqual(before);
    });
  });

  describe('add, list and remove', () => {
    it('refuses malformed account ids and role ARNs of the wrong shape or of another account, naming the field, and changes nothing', async () => {
      const before = await prisma.account.count();
      const refusals: [Parameters<AccountsService['add']>[0], string, RegExp][] = [
        [{ accountId: '12345', roleArn: roleArn(OUTSIDE) }, 'accountId', /^accountId must be an AWS account id, 12 digits; got "12345"$/],
        [{ accountId: '5000000000o5', roleArn: roleArn(OUTSIDE) }, 'accountId', /12 digits/],
        [{ accountId: OUTSIDE, roleArn: 'KeywardenAudit' }, 'roleArn', /^roleArn must be an IAM role ARN, arn:aws:iam::<12-digit account>:role\/<name>; got "KeywardenAudit"$/],
        [{ accountId: OUTSIDE, roleArn: `arn:aws:iam::${OUTSIDE}:user/KeywardenAudit` }, 'roleArn', /must be an IAM role ARN/],
        [{ accountId: OUTSIDE, roleArn: `arn:aws:iam::${OUTSIDE}:role/` }, 'roleArn', /must be an IAM role ARN/],
        [{ accountId: OUTSIDE, roleArn: roleArn(PROD) }, 'roleArn', new RegExp(`is a role of account ${PROD}, not of ${OUTSIDE}`)],
        [{ accountId: OUTSIDE, roleArn: roleArn(OUTSIDE), externalId: 'x' }, 'externalId', /2-1224 characters/],
        [{ accountId: OUTSIDE, roleArn: roleArn(OUTSIDE), name: 'n'.repeat(51) }, 'name', /1-50 printable characters/],
      ];
      for (const [input, field, message] of refusals) {
        const err = await service.add(input).catch((e) => e);
        expect(err).toBeInstanceOf(InvalidInputError);
        expect({ field: err.field, message: err.message }).toEqual({ field, message: expect.stringMatching(message) });
      }
      expect(await prisma.account.count()).toBe(before);
    });

    it('the database refuses what the service refuses, should anything else write the table', async () => {
      await expect(prisma.account.create({ data: { accountId: '12345', source: 'ORGANIZATION' } })).rejects.toThrow(/account_id_is_12_digits/);
      await expect(prisma.account.create({ data: { accountId: OUTSIDE, source: 'CONFIGURED', roleArn: roleArn(PROD) } })).rejects.toThrow(/account_role_arn_in_account/);
      await expect(prisma.account.create({ data: { accountId: OUTSIDE, source: 'CONFIGURED' } })).rejects.toThrow(/account_configured_has_role/);
    });

    it('adds an account outside the organization, lists it scanned, and remove forgets it', async () => {
      const added = await service.add({ accountId: OUTSIDE, roleArn: roleArn(OUTSIDE, 'path/Auditor'), externalId: 'ext-123', name: 'partner' });
      expect(added).toMatchObject({ accountId: OUTSIDE, source: 'CONFIGURED', roleArn: roleArn(OUTSIDE, 'path/Auditor'), inOrganization: false, status: 'ACTIVE', name: 'partner', skipReason: null });
      expect((await service.list({ source: ['CONFIGURED'] }, 10)).nodes.map((a) => a.accountId)).toEqual([OUTSIDE]);
      expect(await service.remove(OUTSIDE)).toBe(true);
      expect(await service.get(OUTSIDE)).toBeNull();
      expect(await service.remove(OUTSIDE)).toBe(false);
    });

    it('adding an organization account makes its role explicit; removing it goes back to the member role; an organization account itself cannot be removed', async () => {
      await service.add({ accountId: DEV, roleArn: roleArn(DEV, 'OtherAudit') });
      expect(await service.get(DEV)).toMatchObject({ source: 'CONFIGURED', inOrganization: true, roleArn: roleArn(DEV, 'OtherAudit'), name: 'dev' });
      expect(await service.remove(DEV)).toBe(true);
      expect(await service.get(DEV)).toMatchObject({ source: 'ORGANIZATION', inOrganization: true, roleArn: null });
      const err = await service.remove(DEV).catch((e) => e);
      expect(err).toBeInstanceOf(InvalidInputError);
      expect(err.message).toMatch(/is in the organization: `keywarden accounts sync` keeps it/);
      expect(await service.get(DEV)).toMatchObject({ source: 'ORGANIZATION' });
    });

    it('lists in account id order, page by page, filtered by status, source and account ids; malformed ids are refused naming the field', async () => {
      const first = await service.list({}, 2);
      expect(first.nodes.map((a) => a.accountId)).toEqual([MANAGEMENT, PROD]);
      expect(first).toMatchObject({ hasNextPage: true, totalCount: 5 });
      const second = await service.list({}, 2, first.cursorOf(first.nodes[1]));
      expect(second.nodes.map((a) => a.accountId)).toEqual([DEV, SUSPENDED]);
      expect((await service.list({ status: ['SUSPENDED', 'PENDING_CLOSURE'] }, 10)).nodes.map((a) => a.accountId)).toEqual([SUSPENDED]);
      expect((await service.list({ accountIds: [DEV, OUTSIDE] }, 10)).nodes.map((a) => a.accountId)).toEqual([DEV]);
      const err = await service.list({ accountIds: [DEV, 'abc'] }, 10).catch((e) => e);
      expect({ field: err.field, message: err.message }).toEqual({ field: 'filter.accountIds', message: 'filter.accountIds[1] must be an AWS account id, 12 digits; got "abc"' });
      await expect(service.list({}, 2, 'not-a-cursor')).rejects.toThrow(/after is not a cursor/);
    });
  });

  describe('IAM in each account', () => {
    it('the base account is read with the base credentials and recorded as CREDENTIALS on first use; scannable lists ACTIVE organization accounts, configured ones and it', async () => {
      expect(await service.baseAccountId()).toBe(MANAGEMENT);
      expect(await service.get(MANAGEMENT)).toMatchObject({ source: 'CREDENTIALS', skipReason: null, inOrganization: true });
      const stsCalls = fake.count('sts');
      expect(await service.baseAccountId()).toBe(MANAGEMENT);
      expect(fake.count('sts')).toBe(stsCalls); // cached per process
      const iam = await service.iamClientFor(MANAGEMENT, 'keywarden-scan-1');
      expect(iam.account).toBe(MANAGEMENT);
      await iam.client.send(new ListUsersCommand({}));
      expect(fake.calls.at(-1)).toMatchObject({ service: 'iam', action: 'ListUsers', accessKeyId: TEST_ACCESS_KEY_ID });
      expect(fake.count('sts', 'AssumeRole')).toBe(0);
      expect((await service.scannable()).map((a) => a.accountId)).toEqual([MANAGEMENT, PROD, DEV, '600000000006']);
    });

    it('a member account is read through AssumeRole of the member role, with the session name asked for, resolved once before any IAM call', async () => {
      const iam = await service.iamClientFor(PROD, 'keywarden-scan-0b5e/with spaces and a very long tail that STS would refuse as it is');
      const assumed = fake.calls.filter((c) => c.action === 'AssumeRole');
      expect(assumed).toHaveLength(1);
      expect(assumed[0].params).toMatchObject({ RoleArn: roleArn(PROD), RoleSessionName: 'keywarden-scan-0b5e-with-spaces-and-a-very-long-tail-that-STS-wo' });
      expect(String(assumed[0].params.RoleSessionName)).toHaveLength(64);
      expect(assumed[0].params.ExternalId).toBeUndefined();
      expect(iam.account).toBe(PROD);
      const users = await iam.client.send(new ListUsersCommand({}));
      expect(users.Users?.map((u) => u.Arn)).toEqual([`arn:aws:iam::${PROD}:user/alice`]);
      await iam.client.send(new ListUsersCommand({}));
      expect(fake.count('sts', 'AssumeRole')).toBe(1); // the SDK reuses the session until it nears expiry
      // A worker thread's twin signs with the same session.
      const twin = await iam.workerOptions();
      expect(twin.credentials).toEqual({ accessKeyId: fake.calls.at(-1)!.accessKeyId, secretAccessKey: expect.any(String), sessionToken: expect.any(String) });
    });

    it('in the built app, the credential report worker reads the member account with the role\'s session, not the base credentials', async () => {
      // The compiled module: only there does the report run in a worker thread (a twin client made from workerOptions).
      const built = path.resolve(__dirname, '../../dist/src/adapters/iam/credential-report.source.js');
      if (!fs.existsSync(built)) throw new Error('dist/ is missing: run `npm run build` first');
      const { readCredentialReport } = require(built) as typeof import('../../src/adapters/iam/credential-report.source');
      const iam = await service.iamClientFor(PROD, 'keywarden-scan-worker');
      const sessionKey = fake.calls.filter((c) => c.action === 'GetCallerIdentity').at(-1)!.accessKeyId;
      const before = fake.calls.length;
      const report = await readCredentialReport(iam, { initialDelayMs: 10 });
      expect(report.rows.map((r) => r.arn)).toEqual([`arn:aws:iam::${PROD}:root`, `arn:aws:iam::${PROD}:user/alice`]);
      const workerCalls = fake.calls.slice(before);
      expect(new Set(workerCalls.map((c) => c.accessKeyId))).toEqual(new Set([sessionKey]));
      expect(iam.stats().byOperation.GetCredentialReport).toBe(1); // the worker's calls are counted on the client
    });

    it('a scan through a member account\'s client stores that account\'s users under its id', async () => {
      const iam = await service.iamClientFor(PROD, 'keywarden-scan-test');
      const summary = await createScanService(prisma, iam).run({ collect: { mode: 'PER_USER_API' }, control: DEFAULT_CONTROL_SETTINGS });
      expect(summary).toMatchObject({ status: 'COMPLETED', accountId: PROD, users: 1, counts: { fail: 1 } });
      expect(prodIam.calls().total).toBeGreaterThan(0);
    });

    it('sends the external id: the account\'s own, else KEYWARDEN_EXTERNAL_ID', async () => {
      fake.options.roles![roleArn(PROD)].externalId = 'org-wide-id';
      const withGlobal = new AccountsService(prisma, access({ externalId: 'org-wide-id' }));
      await withGlobal.iamClientFor(PROD, 'keywarden-scan-2');
      expect(fake.calls.filter((c) => c.action === 'AssumeRole').at(-1)!.params.ExternalId).toBe('org-wide-id');
      const denied = await service.iamClientFor(PROD, 'keywarden-scan-3').catch((e) => e);
      expect(denied).toBeInstanceOf(AssumeRoleDeniedError);
      expect(denied.message).toMatch(/whether it requires an sts:ExternalId \(set KEYWARDEN_EXTERNAL_ID, or --external-id\)$/);
      delete fake.options.roles![roleArn(PROD)].externalId;
    });

    it('an account Keywarden does not know, or a malformed id, is UnknownAccountError, before any AWS call', async () => {
      const calls = fake.calls.length;
      for (const id of ['999999999999', '12345']) {
        const err = await service.iamClientFor(id, 'keywarden-remediate-1').catch((e) => e);
        expect(err).toBeInstanceOf(UnknownAccountError);
      }
      expect((await service.iamClientFor('999999999999', 'x').catch((e) => e)).message).toMatch(/^Keywarden does not know account 999999999999: list it with `keywarden accounts sync` \(organizations\) or `keywarden accounts add 999999999999 --role-arn <arn>`/);
      expect(fake.calls.length).toBe(calls);
    });

    it('a role STS refuses is AssumeRoleDeniedError saying what to fix, tried once; a role acting in another account is AccountMismatchError', async () => {
      const before = fake.count('sts', 'AssumeRole');
      const denied = await service.iamClientFor(DEV, 'keywarden-scan-4').catch((e) => e); // DEV has no KeywardenAudit role
      expect(denied).toBeInstanceOf(AssumeRoleDeniedError);
      expect(denied.message).toBe(
        `STS refused AssumeRole of ${roleArn(DEV)} for ${scannerArn(MANAGEMENT)} (User: ${scannerArn(MANAGEMENT)} is not authorized to perform: sts:AssumeRole on resource: ${roleArn(DEV)}): ` +
          `check that the role exists in account ${DEV} under the name KeywardenAudit (KEYWARDEN_MEMBER_ROLE_NAME), that its trust policy allows ${scannerArn(MANAGEMENT)} sts:AssumeRole, ` +
          'and whether it requires an sts:ExternalId (set KEYWARDEN_EXTERNAL_ID, or --external-id)',
      );
      expect(fake.count('sts', 'AssumeRole')).toBe(before + 1);
      fake.options.roles![roleArn(DEV)] = { actsIn: PROD };
      const mismatch = await service.iamClientFor(DEV, 'keywarden-scan-5').catch((e) => e);
      expect(mismatch).toBeInstanceOf(AccountMismatchError);
      expect(mismatch.message).toBe(`the role ${roleArn(DEV)} gave credentials for account ${PROD}, not ${DEV}: nothing was read or changed in ${DEV}`);
    });

    it('KEYWARDEN_MEMBER_ROLE_NAME names the role assumed in organization accounts', async () => {
      fake.options.roles![roleArn(DEV, 'OrgAuditor')] = {};
      const iam = await new AccountsService(prisma, access({ memberRoleName: 'OrgAuditor' })).iamClientFor(DEV, 'keywarden-scan-6');
      expect(iam.account).toBe(DEV);
      expect(fake.calls.filter((c) => c.action === 'AssumeRole').at(-1)!.params.RoleArn).toBe(roleArn(DEV, 'OrgAuditor'));
    });

    it('the built-in sandbox, which serves IAM only, proves the base account with IAM GetUser', async () => {
      const sandboxAccess = new AwsAccess({ region: 'us-east-1', credentials: { accessKeyId: 'AKIASANDBOX000000000', secretAccessKey: 'x' }, endpoints: { iam: prodIam.url }, baseIdentity: 'IAM_GET_USER' });
      const stsCalls = fake.count('sts');
      expect(await sandboxAccess.baseIdentity()).toEqual({ account: PROD, arn: `arn:aws:iam::${PROD}:user/keywarden-scanner` });
      expect(fake.count('sts')).toBe(stsCalls);
    });

    it('when the base credentials change account, the earlier base account is no longer CREDENTIALS', async () => {
      fake.options.identities.AKIAOTHERBASE0000000 = { account: PROD, arn: scannerArn(PROD) };
      const other = new AccountsService(prisma, new AwsAccess({ region: 'us-east-1', credentials: { accessKeyId: 'AKIAOTHERBASE0000000', secretAccessKey: 'x' }, endpoints: { sts: fake.url } }));
      expect(await other.baseAccountId()).toBe(PROD);
      expect((await other.get(PROD))!.source).toBe('CREDENTIALS');
      expect((await other.get(MANAGEMENT))!.source).toBe('ORGANIZATION');
    });
  });
});
