import pino from 'pino';
import { AwsAccess } from '../../src/adapters/aws/aws-access';
import { createIamClient, type CountingIamClient } from '../../src/adapters/iam/iam-client';
import { createPrismaClient } from '../../src/adapters/db/prisma';
import { createScanService } from '../../src/app';
import type { PrismaClient, Scan } from '../../src/generated/prisma/client';
import { startServer, type Limits, type RunningServer } from '../../src/graphql/server';
import type { FixtureInput } from '../../src/sandbox/fixture';
import { startIamSandbox, type IamSandbox, type IamSandboxOptions } from '../../src/sandbox/iam-sandbox.server';
import { DEFAULT_CONTROL_SETTINGS } from '../../src/controls/no-access-keys-at-setup/control';
import type { ScanRequest, ScanSummary } from '../../src/services/scan.service';
import { openScanFleet, type ScanFleet, type WebhookWorkerOptions } from '../../src/scan-fleet';
import { SecretBox } from '../../src/adapters/webhooks/secret-box';
import { SsrfGuard } from '../../src/adapters/webhooks/ssrf-guard';
import { AccountsService } from '../../src/services/accounts.service';
import { FindingsService } from '../../src/services/findings.service';
import { SecurityHubPushService } from '../../src/services/securityhub/securityhub-push.service';
import { TokenBucket } from '../../src/services/securityhub/token-bucket';
import { startFakeAws, type FakeAws, type FakeOrganization } from './fake-aws';

/** The test database made by global-setup; tables are emptied between test files. */
export function testPrisma(): PrismaClient {
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error('DATABASE_URL is not set: run the tests through jest (global-setup creates the database)');
  return createPrismaClient(url);
}

export async function resetDatabase(prisma: PrismaClient): Promise<void> {
  await prisma.$executeRawUnsafe('TRUNCATE securityhub_push, securityhub_pending, change_event, finding_version, finding, access_key_version, iam_user_version, history_horizon, scan, account CASCADE');
  // The queue's jobs, once a stack has created its schema.
  await prisma.$executeRawUnsafe(`DO $$ BEGIN IF to_regclass('pgboss.job') IS NOT NULL THEN EXECUTE 'DELETE FROM pgboss.job'; END IF; END $$`);
}

/** Accepted as an admin token by every test server (KEYWARDEN_BOOTSTRAP_TOKEN's role). */
export const TEST_ADMIN_TOKEN = 'test-bootstrap-token-0123456789abcdef';

/** The keys every test's base IAM client signs with; the fake STS knows them as the fixture account's scanner. */
export const TEST_ACCESS_KEY_ID = 'AKIATESTTESTTESTTEST';
/** The member role every member account of a stack has (KEYWARDEN_MEMBER_ROLE_NAME's default). */
export const MEMBER_ROLE = 'KeywardenAudit';
export const scannerArn = (accountId: string) => `arn:aws:iam::${accountId}:user/keywarden-scanner`;

export function sandboxIamClient(sandbox: IamSandbox, maxAttempts = 4): CountingIamClient {
  return createIamClient({
    endpoint: sandbox.url,
    region: 'us-east-1',
    maxAttempts,
    credentials: { accessKeyId: TEST_ACCESS_KEY_ID, secretAccessKey: 'test' },
  });
}

export interface Stack {
  prisma: PrismaClient;
  sandbox: IamSandbox;
  server: RunningServer;
  iam: CountingIamClient;
  /** The server's AWS access: the base keys on the sandbox's IAM, STS and Organizations on `fakeAws`. */
  aws: AwsAccess;
  /** STS and Organizations (and, with members, every account's IAM). */
  fakeAws: FakeAws;
  /** Member accounts' IAM sandboxes, by account id. */
  members: Record<string, IamSandbox>;
  /** `at` fixes the scan's clock (when it reads IAM), for histories spread over days. */
  scan(request?: Partial<ScanRequest['collect']>, control?: Partial<ScanRequest['control']>, at?: Date): Promise<ScanSummary>;
  /** POSTs a GraphQL request over HTTP, as the test admin unless `token` says otherwise (null: no token). */
  gql<T = any>(query: string, variables?: Record<string, unknown>, token?: string | null): Promise<{ data?: T; errors?: { message: string; extensions?: Record<string, unknown> }[]; status: number; headers: Headers }>;
  /** The scan queue behind startScan; its worker runs in this process unless `worker: false`. */
  fleet: ScanFleet;
  /** The Security Hub push (to the sandbox's Security Hub), when `securityHub` was given. */
  securityHub: SecurityHubPushService | null;
  /** Waits for a queued scan (global or local id) to end and returns its row. */
  scanEnded(id: string, timeoutMs?: number): Promise<Scan>;
  /** Waits until the scan's queue job has finished: the scan has ended and the steps after it (retention) have run. */
  jobEnded(id: string, timeoutMs?: number): Promise<Scan>;
  close(): Promise<void>;
}

/** Real parts end to end: IAM sandbox over HTTP, the real SDK, real PostgreSQL, the HTTP GraphQL endpoint. */
export interface StackOptions extends Partial<IamSandboxOptions> {
  /** Remediation fault injection: runs after the PENDING audit row, before the IAM write. */
  afterPending?: (actionId: string) => Promise<void>;
  logger?: pino.Logger;
  limits?: Partial<Limits>;
  /** The server's retention (KEYWARDEN_RETENTION_DAYS), applied after startScan; `scan()` below never prunes. */
  retentionDays?: number;
  /** Run the queue's worker in this process (default true). */
  worker?: boolean;
  /**
   * Member accounts, each with its own IAM sandbox and a role named MEMBER_ROLE that trusts the base credentials.
   * With members, IAM goes through fakeAws, which routes each request to the caller's account.
   */
  members?: FixtureInput[];
  organization?: FakeOrganization | null;
  /** KEYWARDEN_EXTERNAL_ID for the server. */
  externalId?: string;
  /** Webhooks for the server (its mutations) and the fleet's worker (delivery). */
  webhooks?: WebhookWorkerOptions;
  /** KEYWARDEN_SECURITYHUB_REGION: queued scans enqueue a push to the sandbox's Security Hub. */
  securityHub?: { region: string; retryDelayMs?: number; catchUp?: string };
  /** KEYWARDEN_METRICS_OPERATIONS for the server: operation names labelled besides the page's and the README's. */
  metricsOperations?: string[];
  /** GET /exports/findings settings for the server (an idle timeout a test can wait for). */
  exports?: { idleTimeoutMs?: number };
}

export async function startStack(fixture: FixtureInput, options: StackOptions = {}): Promise<Stack> {
  const prisma = testPrisma();
  await resetDatabase(prisma);
  const { afterPending, retentionDays, worker = true, logger: _logger, limits: _limits, members: memberFixtures = [], organization, externalId, webhooks, securityHub: securityHubOptions, metricsOperations, exports: exportSettings, ...sandboxOptions } = options;
  const sandbox = await startIamSandbox({ fixture, ...sandboxOptions });
  const iam = sandboxIamClient(sandbox);
  const members: Record<string, IamSandbox> = {};
  for (const member of memberFixtures) members[member.accountId] = await startIamSandbox({ fixture: member });
  const base = sandbox.state.accountId;
  const fakeAws = await startFakeAws({
    identities: { [TEST_ACCESS_KEY_ID]: { account: base, arn: scannerArn(base) } },
    roles: Object.fromEntries(Object.keys(members).map((id) => [`arn:aws:iam::${id}:role/${MEMBER_ROLE}`, { trusted: [scannerArn(base)], ...(externalId ? { externalId } : {}) }])),
    organization: organization ?? null,
    iam: { [base]: sandbox.url, ...Object.fromEntries(Object.entries(members).map(([id, m]) => [id, m.url])) },
  });
  const aws = new AwsAccess({
    region: 'us-east-1',
    maxAttempts: 4,
    credentials: { accessKeyId: TEST_ACCESS_KEY_ID, secretAccessKey: 'test' },
    endpoints: { iam: memberFixtures.length > 0 ? fakeAws.url : sandbox.url, sts: fakeAws.url, organizations: fakeAws.url, securityhub: sandbox.url },
    externalId,
  });
  const logger = pino({ level: 'silent' });
  const scanRequest: ScanRequest = { collect: { mode: 'CREDENTIAL_REPORT', concurrency: 4, report: { deadlineMs: 5000, initialDelayMs: 10 } }, control: DEFAULT_CONTROL_SETTINGS };
  const accounts = new AccountsService(prisma, aws);
  const region = securityHubOptions?.region;
  const securityHub = region
    ? new SecurityHubPushService({
        prisma, findings: new FindingsService(prisma), region, retryDelayMs: securityHubOptions.retryDelayMs ?? 20,
        // Fast enough for tests, slow enough to be a bucket: 50 requests a second, burst 5.
        bucket: new TokenBucket(50, 5),
        clientFor: async (accountId) => aws.securityHubClient(await accounts.credentialsFor(accountId, 'keywarden-securityhub-test'), region),
      })
    : null;
  const fleet = await openScanFleet({
    url: process.env.DATABASE_URL!, prisma, accounts, scanRequest,
    config: { scanSchedule: 'off', workerConcurrency: 2, scanTimeoutSeconds: 60, retentionDays }, logger: options.logger ?? logger,
    pollingIntervalSeconds: 0.5, retryDelaySeconds: 1, webhooks,
    securityHub: securityHub ? { push: securityHub, catchUp: securityHubOptions?.catchUp ?? 'off' } : null,
  });
  if (worker) await fleet.startWorker();
  const server = await startServer({
    prisma, logger: options.logger ?? logger, port: 0, auth: { bootstrapToken: TEST_ADMIN_TOKEN }, limits: options.limits,
    remediation: { aws, scanRequest, recentUseDays: 7, afterPending },
    scans: fleet.setup,
    // Every test server has webhooks (the fuzz tests reach them); their URLs resolve only where a test says so.
    webhooks: webhooks ?? { secrets: new SecretBox('stack-test-key-0123456789abcdefghijklmnop'), guard: new SsrfGuard({ allowPrivate: false, resolve: async () => [] }) },
    metricsOperations,
    exports: exportSettings,
  });
  const stack: Stack = {
    prisma,
    sandbox,
    server,
    iam,
    aws,
    fakeAws,
    members,
    scan: (collect = {}, control = {}, at) =>
      createScanService(prisma, iam, at ? () => at : undefined).run({
        collect: { mode: 'CREDENTIAL_REPORT', concurrency: 4, report: { deadlineMs: 5000, initialDelayMs: 10 }, ...collect },
        control: { ...DEFAULT_CONTROL_SETTINGS, ...control },
      }),
    gql: async (query, variables, token = TEST_ADMIN_TOKEN) => {
      const res = await fetch(server.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify({ query, variables }),
      });
      return { ...((await res.json()) as object), status: res.status, headers: res.headers };
    },
    fleet,
    securityHub,
    scanEnded: async (id, timeoutMs = 20_000) => {
      const local = id.includes('-') ? id : Buffer.from(id, 'base64url').toString().replace(/^Scan:/, '');
      for (const start = Date.now(); Date.now() - start < timeoutMs; await new Promise((r) => setTimeout(r, 100))) {
        const scan = await prisma.scan.findUnique({ where: { id: local } });
        if (scan && ['COMPLETED', 'PARTIAL', 'FAILED', 'CANCELLED'].includes(scan.status)) return scan;
      }
      throw new Error(`scan ${local} did not end within ${timeoutMs} ms`);
    },
    jobEnded: async (id, timeoutMs = 20_000) => {
      const scan = await stack.scanEnded(id, timeoutMs);
      for (const start = Date.now(); Date.now() - start < timeoutMs; await new Promise((r) => setTimeout(r, 100))) {
        const state = scan.jobId ? await fleet.queue.jobState(scan.jobId) : 'completed';
        if (state && ['completed', 'failed', 'cancelled'].includes(state)) return scan;
      }
      throw new Error(`the job of scan ${scan.id} did not finish within ${timeoutMs} ms`);
    },
    close: async () => {
      await server.close();
      await fleet.close(5_000);
      await sandbox.close();
      for (const member of Object.values(members)) await member.close();
      await fakeAws.close();
      await prisma.$disconnect();
    },
  };
  return stack;
}
