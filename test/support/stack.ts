import pino from 'pino';
import { createIamClient, type CountingIamClient } from '../../src/adapters/iam/iam-client';
import { createPrismaClient } from '../../src/adapters/db/prisma';
import { createScanService } from '../../src/app';
import type { PrismaClient } from '../../src/generated/prisma/client';
import { startServer, type Limits, type RunningServer } from '../../src/graphql/server';
import type { FixtureInput } from '../../src/sandbox/fixture';
import { startIamSandbox, type IamSandbox, type IamSandboxOptions } from '../../src/sandbox/iam-sandbox.server';
import { DEFAULT_CONTROL_SETTINGS } from '../../src/controls/no-access-keys-at-setup/control';
import type { ScanRequest, ScanSummary } from '../../src/services/scan.service';

/** The test database made by global-setup; tables are emptied between test files. */
export function testPrisma(): PrismaClient {
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error('DATABASE_URL is not set: run the tests through jest (global-setup creates the database)');
  return createPrismaClient(url);
}

export async function resetDatabase(prisma: PrismaClient): Promise<void> {
  await prisma.$executeRawUnsafe('TRUNCATE finding_version, finding, access_key_version, iam_user_version, history_horizon, scan CASCADE');
}

/** Accepted as an admin token by every test server (KEYWARDEN_BOOTSTRAP_TOKEN's role). */
export const TEST_ADMIN_TOKEN = 'test-bootstrap-token-0123456789abcdef';

export function sandboxIamClient(sandbox: IamSandbox, maxAttempts = 4): CountingIamClient {
  return createIamClient({
    endpoint: sandbox.url,
    region: 'us-east-1',
    maxAttempts,
    credentials: { accessKeyId: 'AKIATESTTESTTESTTEST', secretAccessKey: 'test' },
  });
}

export interface Stack {
  prisma: PrismaClient;
  sandbox: IamSandbox;
  server: RunningServer;
  iam: CountingIamClient;
  /** `at` fixes the scan's clock (when it reads IAM), for histories spread over days. */
  scan(request?: Partial<ScanRequest['collect']>, control?: Partial<ScanRequest['control']>, at?: Date): Promise<ScanSummary>;
  /** POSTs a GraphQL request over HTTP, as the test admin unless `token` says otherwise (null: no token). */
  gql<T = any>(query: string, variables?: Record<string, unknown>, token?: string | null): Promise<{ data?: T; errors?: { message: string; extensions?: Record<string, unknown> }[]; status: number; headers: Headers }>;
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
}

export async function startStack(fixture: FixtureInput, options: StackOptions = {}): Promise<Stack> {
  const prisma = testPrisma();
  await resetDatabase(prisma);
  const { afterPending, retentionDays, logger: _logger, limits: _limits, ...sandboxOptions } = options;
  const sandbox = await startIamSandbox({ fixture, ...sandboxOptions });
  const iam = sandboxIamClient(sandbox);
  const logger = pino({ level: 'silent' });
  const server = await startServer({
    prisma, logger: options.logger ?? logger, port: 0, auth: { bootstrapToken: TEST_ADMIN_TOKEN }, limits: options.limits,
    remediation: { iam, scanRequest: { collect: { mode: 'CREDENTIAL_REPORT' }, control: DEFAULT_CONTROL_SETTINGS }, recentUseDays: 7, afterPending, retentionDays },
  });
  return {
    prisma,
    sandbox,
    server,
    iam,
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
    close: async () => {
      await server.close();
      await sandbox.close();
      await prisma.$disconnect();
    },
  };
}
