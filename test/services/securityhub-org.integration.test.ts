import { AwsAccess } from '../../src/adapters/aws/aws-access';
import { createScanService, createSecurityHubPush } from '../../src/app';
import { loadConfig } from '../../src/config';
import { DEFAULT_CONTROL_SETTINGS } from '../../src/controls/no-access-keys-at-setup/control';
import type { PrismaClient } from '../../src/generated/prisma/client';
import { parseOrganizationFixture, sampleOrganizationFixture, SAMPLE_MEMBER_ROLE_NAME, startIamSandbox, type IamSandbox } from '../../src/sandbox';
import { AccountsService } from '../../src/services/accounts.service';
import type { SecurityHubPushService } from '../../src/services/securityhub/securityhub-push.service';
import { resetDatabase, testPrisma } from '../support/stack';

/**
 * The sample organization (three accounts behind one sandbox serving IAM, STS, Organizations and Security Hub), as
 * `npm start` runs it: each account's findings are imported by that account, members through their role, with
 * their own default product ARN; a throttle is ridden out by the SDK's retries.
 */
const REGION = 'eu-west-1';

describe('Security Hub push for an organization', () => {
  let prisma: PrismaClient;
  let sandbox: IamSandbox;
  let push: SecurityHubPushService;
  let accountIds: string[];

  beforeAll(async () => {
    prisma = testPrisma();
    await resetDatabase(prisma);
    sandbox = await startIamSandbox({ fixture: parseOrganizationFixture(sampleOrganizationFixture) });
    const aws = new AwsAccess({
      region: 'us-east-1', credentials: { accessKeyId: 'AKIASANDBOX000000000', secretAccessKey: 'sandbox' },
      endpoints: { iam: sandbox.url, sts: sandbox.url, organizations: sandbox.url, securityhub: sandbox.url }, baseIdentity: 'STS', memberRoleName: SAMPLE_MEMBER_ROLE_NAME,
    });
    const accounts = new AccountsService(prisma, aws);
    const synced = await accounts.sync();
    accountIds = [...synced.added, ...synced.updated].sort();
    for (const accountId of accountIds) {
      const iam = await accounts.iamClientFor(accountId, 'keywarden-securityhub-test');
      expect((await createScanService(prisma, iam).run({ collect: { mode: 'PER_USER_API' }, control: DEFAULT_CONTROL_SETTINGS })).status).toBe('COMPLETED');
    }
    push = createSecurityHubPush(loadConfig({ KEYWARDEN_SECURITYHUB_REGION: REGION }), prisma, aws, accounts)!;
  }, 60_000);
  afterAll(async () => {
    await sandbox?.close();
    await prisma?.$disconnect();
  });

  it('each account imports its own open findings through its own credentials, under its own default product', async () => {
    expect(accountIds).toHaveLength(3);
    sandbox.resetCalls();
    for (const accountId of accountIds) {
      const opened = await prisma.finding.count({ where: { accountId, state: 'OPEN' } });
      const result = await push.push(accountId);
      expect(result).toMatchObject({ imported: opened, failed: [], requests: 1 });
      const stored = sandbox.securityHub(accountId).list();
      expect(stored).toHaveLength(opened);
      for (const f of stored) {
        expect(f).toMatchObject({ AwsAccountId: accountId, Region: REGION, ProductArn: `arn:aws:securityhub:${REGION}:${accountId}:product/${accountId}/default`, RecordState: 'ACTIVE' });
      }
      // The call acted in the account itself (members: the role's session).
      expect(sandbox.calls(accountId).succeededByOperation.BatchImportFindings).toBe(1);
    }
    const management = sandbox.organization!.managementAccountId;
    expect(sandbox.assumeRoleCalls().map((c) => c.accountId).sort()).toEqual(accountIds.filter((a) => a !== management).sort());
  });

  it('a throttle (LimitExceededException, 429) is retried by the SDK and the push completes', async () => {
    const [accountId] = accountIds;
    sandbox.setFaults([{ service: 'securityhub', operation: 'BatchImportFindings', error: 'Throttling', times: 2 }]);
    sandbox.resetCalls();
    const result = await push.push(accountId, { all: true });
    expect(result.failed).toEqual([]);
    expect(result.requests).toBe(1);
    expect(sandbox.calls(accountId).failedByOperation.BatchImportFindings).toBe(2);
    expect(sandbox.calls(accountId).succeededByOperation.BatchImportFindings).toBe(1);
    sandbox.setFaults([]);
  });
});
