import { execFile } from 'node:child_process';
import path from 'node:path';
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
const CLI = path.join(__dirname, '../../dist/src/cli.js');

/** The built CLI (npm run build first), with the environment given and nothing else. */
function runCli(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/nonexistent', ...env }, timeout: 20_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

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

  it('keywarden securityhub push [--account] [--all]: the built CLI through AWS_ENDPOINT_URL_*; without the region it refuses', async () => {
    const env = {
      DATABASE_URL: process.env.DATABASE_URL!, KEYWARDEN_SECURITYHUB_REGION: REGION, KEYWARDEN_MEMBER_ROLE_NAME: SAMPLE_MEMBER_ROLE_NAME, KEYWARDEN_LOG_LEVEL: 'silent',
      AWS_ACCESS_KEY_ID: 'AKIASANDBOX000000000', AWS_SECRET_ACCESS_KEY: 'sandbox', AWS_REGION: 'us-east-1',
      AWS_ENDPOINT_URL_IAM: sandbox.url, AWS_ENDPOINT_URL_STS: sandbox.url, AWS_ENDPOINT_URL_ORGANIZATIONS: sandbox.url, AWS_ENDPOINT_URL_SECURITYHUB: sandbox.url,
    };
    const member = accountIds[1];
    const total = await prisma.finding.count({ where: { accountId: member } });
    const all = await runCli(['securityhub', 'push', '--account', member, '--all'], env);
    expect([all.code, all.stdout.trim(), all.stderr]).toEqual([0, `account ${member}: ${total} findings imported (every current finding) in 1 BatchImportFindings requests`, '']);
    expect(sandbox.securityHub(member).findings.size).toBe(total);
    const again = await runCli(['securityhub', 'push', '--account', member], env);
    expect(again.stdout.trim()).toBe(`account ${member}: 0 findings imported (changes since the last push) in 0 BatchImportFindings requests`);
    const { KEYWARDEN_SECURITYHUB_REGION: _unset, ...noRegion } = env;
    const refused = await runCli(['securityhub', 'push'], noRegion);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/KEYWARDEN_SECURITYHUB_REGION is not set/);
  }, 40_000);
});
