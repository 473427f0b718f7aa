/**
 * What the commands share: the options that choose IAM, the configuration, the database and IAM they open, the
 * fleet, the server's options, and the one error a command throws for a person to read.
 */
import { Command, InvalidArgumentError } from 'commander';
import { AwsAccess } from '../adapters/aws/aws-access';
import { createIamClient, type CountingIamClient } from '../adapters/iam/iam-client';
import { AccountGuard } from '../services/account-guard';
import { AccountsService } from '../services/accounts.service';
import { createScanService, createSecurityHubPush, openDatabase, scanRequest, type Database } from '../app';
import type { PrismaClient } from '../generated/prisma/client';
import { RemediationService } from '../services/remediation.service';
import { authSettings, awsCredentialsConfigured, httpSettings, loadConfig, type Config } from '../config';
import { createLogger, type Logger } from '../logger';
import type { SandboxFixture } from '../sandbox/fixture';
import { loadSandboxFixture, type SandboxOrganizationFixture } from '../sandbox/organization-fixture';
import { startIamSandbox, type IamSandbox } from '../sandbox/iam-sandbox.server';
import { openScanFleet, type ScanFleet } from '../scan-fleet';
import { loadSecretBox } from '../adapters/webhooks/secret-box';
import { SsrfGuard } from '../adapters/webhooks/ssrf-guard';
import type { WebhookSetup } from '../graphql/context';
import { persistedSampleOrganization, type PersistedSample } from '../sandbox/sample-state';
import path from 'node:path';

export class CliError extends Error {}

/** Which IAM a command reads: the built-in sandbox or AWS. */
export const iamTargetOptions = (cmd: Command) =>
  cmd
    .option('--sandbox [bool]', 'use the built-in IAM sandbox (true/false; default: sandbox unless AWS credentials are configured)', parseBool)
    .option('--sandbox-fixture <file>', 'load the sandbox account from this fixture file instead of the sample organization');

export const scanOptions = (cmd: Command) =>
  iamTargetOptions(
    cmd
      .option('--mode <mode>', 'credential-report (default; falls back to per-user-api) or per-user-api')
      .option('--concurrency <n>', 'parallel per-user IAM requests (default 8)')
      .option('--setup-window <seconds>', 'a key created this close to its user is a setup key (default 600)')
      .option('--grace-period <seconds>', 'a never-used key older than this fails (default 86400)')
      .option('--with-tags', 'also read user tags in credential-report mode (one call per user)'),
  );

/**
 * The GraphQL server, loaded by the commands that serve (about 25 MB of Apollo, type-graphql and the schema):
 * `keywarden worker`, which runs several account scans at once, does without it.
 */
export function graphql(): typeof import('../graphql/server') {
  return require('../graphql/server') as typeof import('../graphql/server');
}

/** The environment's AWS access (SDK chain and AWS_ENDPOINT_URL_*), with the member role from the configuration. */
export function awsAccess(config: Config): AwsAccess {
  return new AwsAccess({ memberRoleName: config.memberRoleName, externalId: config.externalId });
}

export function parseBool(value: string): boolean {
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw new InvalidArgumentError('expected true or false');
}

export function configFrom(opts: Record<string, unknown>): Config {
  return loadConfig(process.env, {
    scanMode: opts.mode,
    scanConcurrency: opts.concurrency,
    setupWindowSeconds: opts.setupWindow,
    gracePeriodSeconds: opts.gracePeriod,
    collectTags: opts.withTags ? 'true' : undefined,
    port: opts.port,
  });
}

export function logger(config: Config): Logger {
  return createLogger(config.logLevel, config.logFormat);
}

/** Opens the configured database (embedded unless DATABASE_URL), runs `work` on it, and closes it whatever happens. */
export async function withDatabase<T>(config: Config, work: (db: Database) => Promise<T>, log: Logger = logger(config)): Promise<T> {
  const db = await openDatabase(config, log);
  try {
    return await work(db);
  } finally {
    await db.close();
  }
}

export interface IamConnection {
  client: CountingIamClient;
  /** The same base credentials and endpoints, for what reaches other accounts (remediation, reconcile). */
  aws: AwsAccess;
  /** An organization to sync before org-wide scans (the built-in sandbox's sample one, or Organizations when readable). */
  organization?: boolean;
  description: string;
  close(): Promise<void>;
}

export function pageUrls(graphqlUrl: string): string {
  const base = graphqlUrl.replace(/\/graphql$/, '');
  return `posture page at ${base}/ and GraphiQL at ${base}/graphiql/ (sign in with an API token)`;
}

export function serverOptions(config: Config, log: Logger) {
  return { logger: log, port: config.port, host: config.host, auth: authSettings(config), limits: { ratePerMinute: config.rateLimitPerMinute }, exports: { region: config.exportRegion, idleTimeoutMs: config.exportIdleTimeoutSeconds * 1000 }, http: httpSettings(config), metricsOperations: config.metricsOperations };
}

export function remediationSetup(config: Config, aws: AwsAccess) {
  return { aws, scanRequest: scanRequest(config), recentUseDays: config.recentUseDays, retentionDays: config.retentionDays };
}

export function remediationService(prisma: PrismaClient, aws: AwsAccess, config: Config): RemediationService {
  return new RemediationService({
    prisma, guard: new AccountGuard(new AccountsService(prisma, aws)), scans: createScanService(prisma, aws.baseIamClient()),
    scanRequest: scanRequest(config), recentUseDays: config.recentUseDays, findings: async () => [],
  });
}

/** A process that stopped mid-remediation left PENDING rows: settle them before serving. */
export async function reconcileAtStart(prisma: PrismaClient, aws: AwsAccess, config: Config, log: Logger): Promise<void> {
  const settled = await remediationService(prisma, aws, config).reconcile().catch((err) => {
    log.warn({ err }, 'could not reconcile pending remediation actions; run `keywarden reconcile` later');
    return [];
  });
  if (settled.length > 0) log.info({ settled: settled.map((a) => ({ id: a.id, status: a.status })) }, 'reconciled pending remediation actions');
}

/** Config, then the IAM target (a bad fixture fails before anything opens), then the database and IAM. */
export async function openScanEnvironment(opts: Record<string, unknown> & { sandbox?: boolean; sandboxFixture?: string }) {
  const config = configFrom(opts);
  const log = logger(config);
  const target = chooseIam(opts, config);
  const db = await openDatabase(config, log);
  try {
    return { config, log, db, iam: await connectIam(target, config, log) };
  } catch (err) {
    await db.close();
    throw err;
  }
}

export interface IamTarget {
  /** A single account, or an organization (the sample one by default: three accounts behind one sandbox). */
  fixture: SandboxFixture | SandboxOrganizationFixture | null;
  sandboxFixture?: string;
  /** The sample organization's state, kept under the data dir between runs. */
  sample?: PersistedSample;
}

/**
 * The built-in sandbox unless told otherwise or AWS credentials / an IAM endpoint are configured.
 * Decided (and a fixture file validated) before the database is opened, so a bad file fails fast.
 */
export function chooseIam(opts: { sandbox?: boolean; sandboxFixture?: string }, config: Config): IamTarget {
  const useSandbox = opts.sandbox ?? (opts.sandboxFixture !== undefined || !(awsCredentialsConfigured() || process.env.AWS_ENDPOINT_URL_IAM));
  if (!useSandbox) return { fixture: null };
  if (opts.sandboxFixture) return { fixture: loadSandboxFixture(opts.sandboxFixture), sandboxFixture: opts.sandboxFixture };
  const sample = persistedSampleOrganization(config.dataDir);
  return { fixture: sample.fixture, sample };
}

export async function connectIam({ fixture, sandboxFixture, sample }: IamTarget, config: Config, log: Logger): Promise<IamConnection> {
  if (!fixture) {
    return {
      client: createIamClient(), aws: awsAccess(config),
      description: `AWS IAM${process.env.AWS_ENDPOINT_URL_IAM ? ` at ${process.env.AWS_ENDPOINT_URL_IAM}` : ''} (SDK credential chain)`, close: async () => {},
    };
  }
  const sandbox: IamSandbox = await startIamSandbox({ fixture, hooks: sample?.hooks });
  log.debug({ url: sandbox.url }, 'IAM sandbox started');
  const credentials = { accessKeyId: 'AKIASANDBOX000000000', secretAccessKey: 'sandbox' };
  const organization = 'organization' in fixture ? fixture.organization : null;
  const what = organization
    ? `${sandboxFixture ?? 'sample organization'} of ${organization.accounts.length} accounts, management account ${organization.managementAccountId}`
    : `${sandboxFixture ?? 'sample account'} ${(fixture as SandboxFixture).accountId}`;
  return {
    client: createIamClient({ endpoint: sandbox.url, region: 'us-east-1', credentials }),
    // The sandbox speaks IAM, STS and Organizations on one port, as AWS_ENDPOINT_URL_* would point the SDK.
    aws: new AwsAccess({
      region: 'us-east-1', endpoints: { iam: sandbox.url, sts: sandbox.url, organizations: sandbox.url, securityhub: sandbox.url }, credentials, baseIdentity: 'STS',
      memberRoleName: organization?.memberRoleName ?? config.memberRoleName, externalId: config.externalId,
    }),
    organization: organization !== null,
    description:
      `built-in sandbox at ${sandbox.url} (${what}; --sandbox=false to scan AWS)` +
      (sample ? `\n  its state is kept in ${path.relative(process.cwd(), sample.file) || sample.file} between runs; \`npx keywarden sandbox reset\` starts it over` : ''),
    close: () => sandbox.close(),
  };
}

/**
 * The queue and its scan jobs, over the accounts Keywarden knows (the base credentials' own, configured, synced);
 * with `webhooks`, its worker delivers webhooks too, and with KEYWARDEN_SECURITYHUB_REGION it pushes to Security Hub.
 */
export function openFleet(
  config: Config,
  db: { prisma: PrismaClient; url: string },
  aws: AwsAccess,
  log: Logger,
  { background = true, webhooks }: { background?: boolean; webhooks?: WebhookSetup } = {},
): Promise<ScanFleet> {
  const accounts = new AccountsService(db.prisma, aws);
  const push = createSecurityHubPush(config, db.prisma, aws, accounts, log);
  return openScanFleet({
    url: db.url, prisma: db.prisma, accounts, scanRequest: scanRequest(config), config, logger: log, background, webhooks,
    securityHub: push ? { push, catchUp: config.securityHubCatchUp } : null,
  });
}

/** Webhook secrets sealed with KEYWARDEN_SECRET_KEY (or the data directory's key), URLs behind the SSRF guard. */
export function webhookSetup(config: Config): WebhookSetup {
  return { secrets: loadSecretBox(config), guard: new SsrfGuard({ allowPrivate: config.webhookAllowPrivate }) };
}

export function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
}
