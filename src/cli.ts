#!/usr/bin/env node
import 'reflect-metadata';
import { Command, InvalidArgumentError } from 'commander';
import { readFileSync } from 'node:fs';
import { AwsAccess } from './adapters/aws/aws-access';
import { createIamClient, type CountingIamClient } from './adapters/iam/iam-client';
import { NoCredentialsError } from './adapters/iam/inventory.collector';
import { validateAccountInput, type AccountInputError } from './domain/accounts';
import { AccountGuard } from './services/account-guard';
import { AccountsService, type AccountRecord } from './services/accounts.service';
import { createScanService, createSecurityHubPush, formatPruneResult, formatPushResult, formatScanSummary, openDatabase, scanAndPrune, scanRequest } from './app';
import type { PrismaClient } from './generated/prisma/client';
import { RemediationService } from './services/remediation.service';
import { RetentionService } from './services/retention.service';
import { authSettings, awsCredentialsConfigured, httpSettings, loadConfig, type Config } from './config';
import cluster from 'node:cluster';
import { reportListening, startApiCluster, untilStopRequested } from './cluster/serve-cluster';
import { findingsByAccount } from './metrics/findings.source';
import { collectProcessMetrics, readAtScrape } from './metrics/metrics';
import { aggregateClusterMetrics, joinClusterMetrics } from './metrics/metrics.cluster';
import { startMetricsServer } from './metrics/metrics.http';
import { TokensService } from './auth/tokens.service';
import os from 'node:os';
import { createLogger, type Logger } from './logger';
import { FixtureError, parseFixture, type SandboxFixture } from './sandbox/fixture';
import { loadSandboxFixture, parseOrganizationFixture, type SandboxOrganizationFixture } from './sandbox/organization-fixture';
import { startIamSandbox, type IamSandbox } from './sandbox/iam-sandbox.server';
import { sampleAccountFixture } from './sandbox/sample-account';
import { migrateQueue } from './adapters/queue/job-queue';
import { openScanFleet, type ScanFleet } from './scan-fleet';
import { assertPortFree } from './adapters/net/port';
import { loadSecretBox } from './adapters/webhooks/secret-box';
import { SsrfGuard } from './adapters/webhooks/ssrf-guard';
import type { WebhookSetup } from './graphql/context';
import type { Scan } from './generated/prisma/client';
import { sampleOrganizationFixture } from './sandbox/sample-organization';
import { persistedSampleOrganization, resetSampleState, sampleStateFile, type PersistedSample } from './sandbox/sample-state';
import path from 'node:path';

const program = new Command('keywarden')
  .description('Compliance API for the CIS AWS control: IAM users with a console password get no access keys at initial setup.')
  .exitOverride()
  // Usage errors as one line, like every other failure: `keywarden: <reason> (see --help)`.
  .configureOutput({ outputError: (text, write) => write(`keywarden: ${text.replace(/^error: /, '').split('\n')[0]} (see --help)\n`) });

/** Which IAM a command reads: the built-in sandbox or AWS. */
const iamTargetOptions = (cmd: Command) =>
  cmd
    .option('--sandbox [bool]', 'use the built-in IAM sandbox (true/false; default: sandbox unless AWS credentials are configured)', parseBool)
    .option('--sandbox-fixture <file>', 'load the sandbox account from this fixture file instead of the sample organization');

const scanOptions = (cmd: Command) =>
  iamTargetOptions(
    cmd
      .option('--mode <mode>', 'credential-report (default; falls back to per-user-api) or per-user-api')
      .option('--concurrency <n>', 'parallel per-user IAM requests (default 8)')
      .option('--setup-window <seconds>', 'a key created this close to its user is a setup key (default 600)')
      .option('--grace-period <seconds>', 'a never-used key older than this fails (default 86400)')
      .option('--with-tags', 'also read user tags in credential-report mode (one call per user)'),
  );

program
  .command('migrate')
  .description('apply the committed database migrations (DATABASE_URL, or the embedded database)')
  .action(async () => {
    const config = loadConfig();
    const db = await openDatabase(config, logger(config));
    try {
      await migrateQueue(db.url);
    } finally {
      await db.close();
    }
    console.log(`migrations applied to ${db.description} (and the job queue's schema, pgboss)`);
  });

scanOptions(program.command('scan'))
  .description(
    'scan the account the credentials act on (the SDK standard environment: AWS_REGION, credentials, profiles, AWS_ENDPOINT_URL_IAM) and store the scan; ' +
      'with --account or --all-accounts, queue the scans and work the queue here until they end',
  )
  .option('--json', 'print the summary as JSON')
  .option('--account <accountId...>', 'queue a scan of these accounts (12-digit ids Keywarden knows)')
  .option('--all-accounts', 'queue a scan of every scannable account')
  .option('--no-wait', 'with --account/--all-accounts: queue and return (a worker runs them)')
  .action(async (opts) => {
    if (opts.account || opts.allAccounts) return queuedScan(opts);
    const { config, db, iam } = await openScanEnvironment(opts);
    try {
      const summary = await scanAndPrune(config, db.prisma, iam.client);
      // A failed scan is one line (its id and why), not a summary of zeros that repeats the error.
      if (opts.json || summary.status !== 'FAILED') console.log(opts.json ? JSON.stringify(summary, null, 2) : formatScanSummary(summary));
      if (summary.status === 'FAILED') throw new CliError(`scan ${summary.scanId} failed: ${summary.errors[0]?.message ?? 'unknown error'}`);
    } finally {
      await iam.close();
      await db.close();
    }
  });

program
  .command('prune')
  .description('delete detailed history older than the retention (KEYWARDEN_RETENTION_DAYS or --days); scan summaries and trends are kept')
  .option('--days <n>', 'days of detailed history to keep')
  .action(async (opts) => {
    const config = loadConfig(process.env, { retentionDays: opts.days });
    if (!config.retentionDays) throw new CliError('no retention configured: pass --days N or set KEYWARDEN_RETENTION_DAYS');
    const db = await openDatabase(config, logger(config));
    try {
      for (const r of await new RetentionService(db.prisma).prune(config.retentionDays)) console.log(formatPruneResult(r));
    } finally {
      await db.close();
    }
  });

iamTargetOptions(program.command('reconcile'))
  .description('settle remediation actions left PENDING by a process that stopped, against live IAM state')
  .option('--older-than <seconds>', 'only rows at least this old (default 60: leaves in-flight ones alone)')
  .action(async (opts) => {
    const olderThan = opts.olderThan ?? '60';
    if (!/^\d+$/.test(olderThan)) throw new CliError(`invalid --older-than: ${JSON.stringify(olderThan)} is not a whole number of seconds`);
    const { config, db, iam } = await openScanEnvironment(opts);
    try {
      const settled = await remediationService(db.prisma, iam.aws, config).reconcile(Number(olderThan) * 1000);
      for (const a of settled) console.log(`${a.id} ${a.kind} ${a.accessKeyId}: ${a.status} (${a.errorMessage})`);
      console.log(`${settled.length} pending remediation action(s) reconciled`);
    } finally {
      await iam.close();
      await db.close();
    }
  });

const token = program.command('token').description('API tokens: create (shown once), list, revoke');
token
  .command('create')
  .description('create an API token and print it once (only its hash is stored)')
  .requiredOption('--name <name>', 'what the token is for, e.g. "grc-platform"')
  .requiredOption('--scope <scope...>', 'findings:read, scans:write, remediation:write, metrics:read, admin')
  .option('--expires <date>', 'ISO 8601 date or a number of days, e.g. 90')
  .action(async (opts) => {
    const config = loadConfig();
    const db = await openDatabase(config, logger(config));
    try {
      const expiresAt = opts.expires === undefined ? null : /^\d+$/.test(opts.expires) ? new Date(Date.now() + Number(opts.expires) * 86_400_000) : new Date(opts.expires);
      if (expiresAt && Number.isNaN(expiresAt.getTime())) throw new CliError(`--expires ${opts.expires} is neither a date nor a number of days`);
      const created = await new TokensService(db.prisma).create({ name: opts.name, scopes: opts.scope, expiresAt, createdBy: `cli:${os.userInfo().username}` });
      console.log(`token ${created.record.id} "${created.record.name}" scopes ${created.record.scopes.join(' ')}${expiresAt ? ` expires ${expiresAt.toISOString()}` : ''}`);
      console.log(`${created.token}\n(shown once: store it now; Keywarden keeps only its hash)`);
    } finally {
      await db.close();
    }
  });
token
  .command('list')
  .description('list tokens (never their values)')
  .action(async () => {
    const config = loadConfig();
    const db = await openDatabase(config, logger(config));
    try {
      for (const t of await new TokensService(db.prisma).list()) {
        const state = t.revokedAt ? 'revoked' : t.expiresAt && t.expiresAt < new Date() ? 'expired' : 'active';
        console.log(`${t.id}  ${t.prefix}…  ${state.padEnd(7)}  ${t.name}  [${t.scopes.join(' ')}]  last used ${t.lastUsedAt?.toISOString() ?? 'never'}${t.expiresAt ? `  expires ${t.expiresAt.toISOString()}` : ''}`);
      }
    } finally {
      await db.close();
    }
  });
token
  .command('revoke <token>')
  .description('revoke a token, at once (also while the API runs): its id, its prefix (kw_ + 8 characters, as `token list` shows them), the whole token, or its name')
  .action(async (idOrPrefix: string) => {
    const config = loadConfig();
    const db = await openDatabase(config, logger(config));
    try {
      const t = await new TokensService(db.prisma).revoke(idOrPrefix);
      console.log(`token ${t.id} "${t.name}" revoked`);
    } finally {
      await db.close();
    }
  });

program
  .command('serve')
  .description('serve the GraphQL API on PORT (default 4000) at /graphql; with --worker, also run queued scans')
  .option('--port <port>', 'port to listen on')
  .option('--worker', 'run a scan worker in this process too (the primary, with --processes above 1)')
  .option('--concurrency <n>', 'with --worker: account scans at once (default KEYWARDEN_WORKER_CONCURRENCY, 4)')
  .option('--processes <n>', 'API processes behind the port (default KEYWARDEN_PROCESSES, else one per CPU); 1 serves from this process')
  .action(async (opts) => {
    const config = loadConfig(process.env, { port: opts.port, workerConcurrency: opts.concurrency, processes: opts.processes });
    if (cluster.isWorker) return serveApiProcess(config);
    await assertPortFree(config.host, config.port);
    const log = logger(config);
    const processes = config.processes ?? os.availableParallelism();
    const db = await openDatabase(config, log);
    const closing: Array<() => Promise<void>> = [() => db.close()];
    try {
      const aws = awsAccess(config);
      const webhooks = webhookSetup(config);
      const fleet = await openFleet(config, db, aws, log, { webhooks });
      closing.unshift(() => fleet.close());
      await reconcileAtStart(db.prisma, aws, config, log);
      if (opts.worker) await fleet.startWorker();
      if (processes > 1) aggregateClusterMetrics();
      const metrics = await startMetrics(config, log, db.prisma, fleet);
      if (metrics) closing.unshift(() => metrics.close());
      let api: { url: string; close(): Promise<void> };
      if (processes > 1) {
        // The API processes attach to this process's database (the embedded one included) through its URL.
        const apiCluster = await startApiCluster({ processes, logger: log, env: { DATABASE_URL: db.url, KEYWARDEN_METRICS_PORT: '', KEYWARDEN_PROCESSES: String(processes) } });
        api = { url: apiCluster.url, close: () => apiCluster.stop(config.shutdownGraceSeconds * 1000 + 5_000) };
        console.log(`${processes} API processes (pids ${apiCluster.pids().join(', ')}) share the port; this process (${process.pid}) supervises${opts.worker ? ' and runs queued scans' : ''}`);
      } else {
        api = await graphql().startServer({ ...serverOptions(config, log), prisma: db.prisma, remediation: remediationSetup(config, aws), scans: fleet.setup, webhooks });
      }
      // Stop accepting and drain in-flight requests (up to KEYWARDEN_SHUTDOWN_GRACE_SECONDS), then the rest.
      closing.unshift(() => api.close());
      console.log(`GraphQL API at ${api.url} (database: ${db.description}${opts.worker ? '; running queued scans' : ''}); every request needs Authorization: Bearer <token>`);
      console.log(pageUrls(api.url));
      if (metrics) console.log(`metrics at ${metrics.url} (no token: keep this port private)`);
      log.info({ signal: await untilStopRequested() }, 'shutting down: finishing requests and scans, then closing the database');
    } finally {
      for (const close of closing) await close();
    }
  });

/** One API process of `serve --processes N`: the database the primary opened, no scan worker, no metrics port. */
async function serveApiProcess(config: Config): Promise<void> {
  const log = logger(config);
  joinClusterMetrics();
  collectProcessMetrics();
  const db = await openDatabase(config, log, { migrate: false });
  const aws = awsAccess(config);
  const fleet = await openFleet(config, db, aws, log, { background: false });
  // Webhook mutations seal secrets here; delivery is the workers' (the primary's --worker, or keywarden worker).
  const server = await graphql().startServer({ ...serverOptions(config, log), prisma: db.prisma, remediation: remediationSetup(config, aws), scans: fleet.setup, webhooks: webhookSetup(config) });
  reportListening(server.url);
  await untilStopRequested();
  await server.close();
  await fleet.close();
  await db.close();
}

/**
 * KEYWARDEN_METRICS_PORT's listener, when set, and what its gauges read at scrape (the queue, the findings).
 * Process metrics are collected whether or not the port is open: the API port's /metrics serves them too.
 */
async function startMetrics(config: Config, log: Logger, prisma: PrismaClient, fleet: ScanFleet) {
  collectProcessMetrics();
  readAtScrape({ queue: () => fleet.queue.depth(), findings: findingsByAccount(prisma, config.metricsTopAccounts) });
  if (config.metricsPort === undefined) return null;
  return startMetricsServer({ port: config.metricsPort, host: config.metricsHost ?? config.host, logger: log });
}

program
  .command('worker')
  .description('run queued account scans (any number of workers, on one machine or many, share the database)')
  .option('--concurrency <n>', 'account scans at once (default KEYWARDEN_WORKER_CONCURRENCY, 4)')
  .action(async (opts) => {
    const config = loadConfig(process.env, { workerConcurrency: opts.concurrency });
    const log = logger(config);
    const db = await openDatabase(config, log);
    const fleet = await openFleet(config, db, awsAccess(config), log, { webhooks: webhookSetup(config) });
    await fleet.startWorker();
    const metrics = await startMetrics(config, log, db.prisma, fleet);
    console.log(`scan worker running ${config.workerConcurrency} account scans at a time (database: ${db.description}); stop with Ctrl-C`);
    if (metrics) console.log(`metrics at ${metrics.url} (no token: keep this port private)`);
    await untilSignal();
    console.log('stopping: waiting for the scans this worker runs');
    await metrics?.close();
    await fleet.close();
    await db.close();
  });

scanOptions(program.command('start'))
  .description('the main job: database (embedded unless DATABASE_URL), a first scan (built-in sandbox unless AWS credentials), then serve')
  .option('--port <port>', 'port to listen on')
  .action(async (opts) => {
    // Before the database, the scan and the token: a taken port must not cost any of them.
    const portConfig = configFrom(opts);
    await assertPortFree(portConfig.host, portConfig.port);
    const { config, log, db, iam } = await openScanEnvironment(opts);
    const closing: Array<() => Promise<void>> = [() => db.close(), () => iam.close()];
    try {
      console.log(`database: ${db.description}`);
      console.log(`IAM: ${iam.description}`);
      const webhooks = webhookSetup(config);
      const fleet = await openFleet(config, db, iam.aws, log, { webhooks });
      closing.unshift(() => fleet.close());
      await fleet.startWorker();
      // The first scan goes through the queue, as every scan does, and this process's worker runs it: every
      // account of the organization (the sandbox's sample one), else the account the credentials act on.
      if (iam.organization) await new AccountsService(db.prisma, iam.aws).sync();
      const { scans, skipped } = await fleet.jobs.enqueue({ requestedBy: 'keywarden start', allAccounts: iam.organization });
      for (const k of skipped) console.log(`account ${k.accountId} not scanned: ${k.reason}`);
      for (const scan of await untilEnded(db.prisma, scans.map((s) => s.id))) console.log(formatScanRow(scan));
      await reconcileAtStart(db.prisma, iam.aws, config, log);
      const metrics = await startMetrics(config, log, db.prisma, fleet);
      if (metrics) closing.unshift(() => metrics.close());
      const server = await graphql().startServer({ ...serverOptions(config, log), prisma: db.prisma, remediation: remediationSetup(config, iam.aws), scans: fleet.setup, webhooks });
      closing.unshift(() => server.close());
      // Made once the server listens: a token is never created unless it is shown.
      const token = await localAdminToken(db.prisma, config);
      console.log(`\nGraphQL API at ${server.url}`);
      console.log(pageUrls(server.url));
      if (metrics) console.log(`metrics at ${metrics.url} (no token: keep this port private)`);
      console.log(token.message);
      console.log(`try:\n  curl -s ${server.url} -H 'content-type: application/json' -H "authorization: Bearer ${token.shown ?? '$KEYWARDEN_TOKEN'}" \\\n    -d '{"query":"{ findings(filter: {status: [FAIL]}) { totalCount nodes { userName accessKeyId status reasons } } }"}'`);
      log.info({ signal: await untilSignal() }, 'shutting down: finishing requests and scans, then stopping the database');
    } finally {
      for (const close of closing) await close();
    }
  });

const accounts = program.command('accounts').description('the AWS accounts Keywarden reads: sync them from Organizations, or add, list and remove them');
accounts
  .command('sync')
  .description('list the organization\'s accounts (Organizations ListAccounts, ListParents) with the base credentials: the management account or a delegated administrator')
  .action(async () => {
    await withAccounts(async (service) => {
      const r = await service.sync();
      console.log(`organization: ${r.total} account(s); ${r.added.length} added, ${r.updated.length} updated, ${r.left.length} left (kept, not scanned)`);
      for (const [what, ids] of [['added', r.added], ['updated', r.updated], ['left', r.left]] as const) if (ids.length > 0) console.log(`  ${what} ${ids.join(', ')}`);
    });
  });
accounts
  .command('add <accountId>')
  .description('read an account through a role of its own: for accounts outside the organization, or when Organizations is not readable')
  .requiredOption('--role-arn <arn>', 'the role to assume, in that account: arn:aws:iam::<accountId>:role/<name>')
  .option('--external-id <id>', 'sts:ExternalId the role\'s trust policy requires (default KEYWARDEN_EXTERNAL_ID)')
  .option('--name <name>', 'a name to show for it')
  .action(async (accountId: string, opts: { roleArn: string; externalId?: string; name?: string }) => {
    const input = { accountId, roleArn: opts.roleArn, externalId: opts.externalId, name: opts.name };
    // Checked before the database is opened: bad input changes nothing and says which argument is wrong.
    const [invalid] = validateAccountInput(input);
    if (invalid) throw new CliError(cliMessage(invalid));
    await withAccounts(async (service) => {
      const a = await service.add(input);
      console.log(`account ${a.accountId} added: read through ${a.roleArn}${opts.externalId ? ' with its external id' : ''}${a.inOrganization ? ' (it is in the organization too)' : ''}`);
    });
  });
accounts
  .command('list')
  .description('every account Keywarden knows, whether it is scanned, and why not')
  .option('--json', 'print the accounts as JSON')
  .action(async (opts: { json?: boolean }) => {
    await withAccounts(async (service) => {
      const all: AccountRecord[] = [];
      for (let after: string | undefined, more = true; more; ) {
        const page = await service.list({}, 100, after);
        all.push(...page.nodes);
        more = page.hasNextPage;
        after = page.nodes.length ? page.cursorOf(page.nodes[page.nodes.length - 1]) : undefined;
      }
      if (opts.json) return void console.log(JSON.stringify(all, null, 2));
      if (all.length === 0) return void console.log('no accounts yet: `keywarden accounts sync` (an organization) or `keywarden accounts add <accountId> --role-arn <arn>`');
      for (const a of all) console.log(formatAccount(a));
    });
  });
accounts
  .command('remove <accountId>')
  .description('undo `accounts add`: forget an account outside the organization (its scans and findings are kept)')
  .action(async (accountId: string) => {
    const invalid = validateAccountInput({ accountId, roleArn: `arn:aws:iam::${accountId}:role/x` })[0];
    if (invalid) throw new CliError(cliMessage(invalid));
    await withAccounts(async (service) => {
      if (!(await service.remove(accountId))) throw new CliError(`Keywarden does not know account ${accountId}; nothing was changed`);
      const left = await service.get(accountId);
      console.log(left ? `account ${accountId}: its role is no longer configured; it stays, read through the organization's member role` : `account ${accountId} removed (its scans and findings are kept)`);
    });
  });

const sandboxCommand = program
  .command('sandbox')
  .description('run the built-in sandbox alone (for integrators): IAM, STS, Organizations and Security Hub on one port (AWS_ENDPOINT_URL_IAM, _STS, _ORGANIZATIONS, _SECURITYHUB)')
  .option('--port <port>', 'port to listen on', '4566')
  .option('--fixture <file>', 'account or organization fixture (default: the sample account)')
  .option('--organization', 'serve the sample organization of three accounts instead of the sample account')
  .action(async (opts) => {
    if (opts.fixture && opts.organization) throw new CliError('--fixture and --organization: choose one');
    const fixture = opts.fixture
      ? loadSandboxFixture(opts.fixture)
      : opts.organization
        ? parseOrganizationFixture(sampleOrganizationFixture)
        : parseFixture(sampleAccountFixture);
    const sandbox = await startIamSandbox({ fixture, port: Number(opts.port) });
    const env = `AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=sandbox AWS_SECRET_ACCESS_KEY=sandbox`;
    if ('organization' in fixture) {
      const o = fixture.organization;
      console.log(`IAM, STS and Organizations sandbox at ${sandbox.url} (organization ${o.id}, ${o.accounts.length} accounts; base credentials act in ${o.callerAccountId})`);
      console.log(`  export AWS_ENDPOINT_URL_IAM=${sandbox.url} AWS_ENDPOINT_URL_STS=${sandbox.url} AWS_ENDPOINT_URL_ORGANIZATIONS=${sandbox.url} ${env}`);
      console.log(`  member accounts: AssumeRole into arn:aws:iam::<account>:role/${o.memberRoleName}`);
    } else {
      console.log(`IAM sandbox at ${sandbox.url} (account ${fixture.accountId})\n  export AWS_ENDPOINT_URL_IAM=${sandbox.url} ${env}`);
    }
    await untilSignal();
    await sandbox.close();
  });

program
  .command('securityhub')
  .description('AWS Security Hub (KEYWARDEN_SECURITYHUB_REGION): push findings now')
  .command('push')
  .description('import into Security Hub what changed since the last push of each account (--all: every current finding)')
  .option('--account <id...>', 'only these accounts (default: every account with findings)')
  .option('--all', 'send every current finding, not only the changes')
  .action(async (opts: { account?: string[]; all?: boolean }) => {
    const config = loadConfig();
    if (!config.securityHubRegion) throw new CliError('KEYWARDEN_SECURITYHUB_REGION is not set: set it to the region Security Hub runs in');
    const log = logger(config);
    const db = await openDatabase(config, log);
    try {
      const aws = awsAccess(config);
      const push = createSecurityHubPush(config, db.prisma, aws, new AccountsService(db.prisma, aws), log)!;
      let failed = 0;
      for (const accountId of opts.account ?? (await push.accountsWithFindings())) {
        try {
          console.log(formatPushResult(await push.push(accountId, { all: opts.all === true })));
        } catch (err) {
          failed += 1;
          console.error(`account ${accountId}: push failed (nothing moved; the next push sends it again): ${err instanceof Error ? err.message : String(err)}`);
        }
      }
      if (failed > 0) process.exitCode = 1;
    } finally {
      await db.close();
    }
  });

const exportCommand = program.command('export').description('write findings in a standard format, streamed (GET /exports/findings does the same over HTTP)');
exportCommand
  .command('findings')
  .description('every finding the filters select, as OCSF Compliance Findings, ASFF, CSV or JSON lines; to stdout unless --out')
  .requiredOption('--format <format>', 'ocsf (JSON lines; --array for one array), asff (an array; --no-array for lines), csv, jsonl')
  .option('--as-of <instant>', 'as of this instant (RFC 3339), as the findings query\'s asOf; default: now')
  .option('--account <accountId...>', 'only these accounts')
  .option('--status <status...>', 'only these statuses: PASS, FAIL, NOT_APPLICABLE, ERROR, EXCEPTED')
  .option('--state <state...>', 'only these states: OPEN, RESOLVED')
  .option('--array', 'ocsf, asff: one JSON array')
  .option('--no-array', 'asff: one JSON object per line')
  .option('--no-bom', 'csv: no UTF-8 byte order mark')
  .option('--out <file>', 'write to this file (created or replaced) instead of stdout')
  .action(async (opts: { format: string; asOf?: string; account?: string[]; status?: string[]; state?: string[]; array?: boolean; bom?: boolean; out?: string }) => {
    // The same parameter checks as GET /exports/findings, with the command line's names in the message.
    const query: Record<string, unknown> = { format: opts.format };
    if (opts.asOf !== undefined) query.asOf = opts.asOf;
    if (opts.account) query.accountIds = opts.account;
    if (opts.status) query.status = opts.status;
    if (opts.state) query.state = opts.state;
    const flagged = process.argv.includes('--array') || process.argv.includes('--no-array');
    if (flagged) query.array = String(opts.array);
    if (process.argv.includes('--no-bom')) query.bom = 'false';
    const { parseExportQuery } = require('./http/exports.route') as typeof import('./http/exports.route');
    const { ExportsService } = require('./services/exports/exports.service') as typeof import('./services/exports/exports.service');
    const { FindingsService } = require('./services/findings.service') as typeof import('./services/findings.service');
    const { InvalidInputError } = require('./services/errors') as typeof import('./services/errors');
    const flag: Record<string, string> = { format: '--format', asOf: '--as-of', accountIds: '--account', status: '--status', state: '--state', array: '--array', bom: '--no-bom' };
    const named = (err: unknown) => (err instanceof InvalidInputError && err.field ? new CliError(`${flag[err.field] ?? err.field}: ${err.message}`) : err);
    let request;
    try {
      request = parseExportQuery(query);
    } catch (err) {
      throw named(err);
    }
    const config = loadConfig();
    const db = await openDatabase(config, logger(config));
    try {
      const exported = await new ExportsService(new FindingsService(db.prisma), { region: config.exportRegion }).open(request).catch((err) => {
        throw named(err);
      });
      const { createWriteStream } = require('node:fs') as typeof import('node:fs');
      const { pipeline } = require('node:stream/promises') as typeof import('node:stream/promises');
      try {
        await pipeline(exported.body, opts.out ? createWriteStream(opts.out) : process.stdout);
      } catch (err) {
        // `keywarden export … | head`: the reader has what it wanted; the reads stopped with the pipe.
        if ((err as NodeJS.ErrnoException).code !== 'EPIPE') throw err;
      }
      if (opts.out) console.error(`${exported.progress().findings} findings written to ${opts.out}`);
    } finally {
      await db.close();
    }
  });

sandboxCommand
  .command('reset')
  .description("start the built-in sandbox's sample organization over, as shipped (its state is kept in <data dir>/sandbox.json between runs)")
  .action(() => {
    const config = loadConfig();
    const file = sampleStateFile(config.dataDir);
    if (!resetSampleState(config.dataDir)) return void console.log(`nothing to reset: ${file} does not exist (the sample organization is as shipped)`);
    console.log(`sandbox state ${file} removed: the next start reads the sample organization as shipped`);
    console.log('(a running `keywarden start` keeps its state in memory: stop it first; history and tokens stay in the database)');
  });

program
  .command('schema')
  .description('print the GraphQL schema (SDL) this build serves')
  .option('--check <file>', 'exit non-zero when <file> differs from the schema this build serves')
  .action(async (opts) => {
    const sdl = await (require('./graphql/schema') as typeof import('./graphql/schema')).printKeywardenSchema();
    if (!opts.check) return void process.stdout.write(sdl);
    if (readFileSync(opts.check, 'utf8') !== sdl) throw new CliError(`${opts.check} is stale: run \`npm run schema\` and commit it`);
    console.log(`${opts.check} is up to date`);
  });

class CliError extends Error {}

/**
 * The GraphQL server, loaded by the commands that serve (about 25 MB of Apollo, type-graphql and the schema):
 * `keywarden worker`, which runs several account scans at once, does without it.
 */
function graphql(): typeof import('./graphql/server') {
  return require('./graphql/server') as typeof import('./graphql/server');
}

const CLI_ARGUMENTS: Record<AccountInputError['field'], string> = { accountId: 'accountId', roleArn: '--role-arn', externalId: '--external-id', name: '--name' };

/** An input error as the command line names it: `--role-arn must be …`. */
function cliMessage(error: AccountInputError): string {
  return error.message.startsWith(error.field) ? CLI_ARGUMENTS[error.field] + error.message.slice(error.field.length) : error.message;
}

function formatAccount(a: AccountRecord): string {
  const where = a.inOrganization ? a.organizationalUnitPath ?? 'organization' : a.source === 'ORGANIZATION' ? 'left the organization' : 'outside the organization';
  const how = a.source === 'CREDENTIALS' ? 'base credentials' : a.roleArn ?? 'member role';
  return [a.accountId, a.status.padEnd(18), a.source.padEnd(12), JSON.stringify(a.name ?? ''), where, how, a.skipReason ? `not scanned: ${a.skipReason}` : 'scanned'].join('  ');
}

/** The environment's AWS access (SDK chain and AWS_ENDPOINT_URL_*), with the member role from the configuration. */
function awsAccess(config: Config): AwsAccess {
  return new AwsAccess({ memberRoleName: config.memberRoleName, externalId: config.externalId });
}

async function withAccounts(work: (service: AccountsService) => Promise<void>): Promise<void> {
  const config = loadConfig();
  const db = await openDatabase(config, logger(config));
  try {
    await work(new AccountsService(db.prisma, awsAccess(config)));
  } finally {
    await db.close();
  }
}

function parseBool(value: string): boolean {
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw new InvalidArgumentError('expected true or false');
}

function configFrom(opts: Record<string, unknown>): Config {
  return loadConfig(process.env, {
    scanMode: opts.mode,
    scanConcurrency: opts.concurrency,
    setupWindowSeconds: opts.setupWindow,
    gracePeriodSeconds: opts.gracePeriod,
    collectTags: opts.withTags ? 'true' : undefined,
    port: opts.port,
  });
}

function logger(config: Config): Logger {
  return createLogger(config.logLevel, config.logFormat);
}

interface IamConnection {
  client: CountingIamClient;
  /** The same base credentials and endpoints, for what reaches other accounts (remediation, reconcile). */
  aws: AwsAccess;
  /** An organization to sync before org-wide scans (the built-in sandbox's sample one, or Organizations when readable). */
  organization?: boolean;
  description: string;
  close(): Promise<void>;
}

function pageUrls(graphqlUrl: string): string {
  const base = graphqlUrl.replace(/\/graphql$/, '');
  return `posture page at ${base}/ and GraphiQL at ${base}/graphiql/ (sign in with an API token)`;
}

function serverOptions(config: Config, log: Logger) {
  return { logger: log, port: config.port, host: config.host, auth: authSettings(config), limits: { ratePerMinute: config.rateLimitPerMinute }, exports: { region: config.exportRegion }, http: httpSettings(config), metricsOperations: config.metricsOperations };
}

/**
 * The out-of-the-box experience stays open to its owner without making the API open: when no token
 * exists, `start` creates a local admin token and prints it, once.
 */
async function localAdminToken(prisma: PrismaClient, config: Config): Promise<{ shown: string | null; message: string }> {
  if (config.bootstrapToken) return { shown: null, message: 'authenticate with the KEYWARDEN_BOOTSTRAP_TOKEN you set (export KEYWARDEN_TOKEN=...)' };
  const tokens = new TokensService(prisma);
  if ((await tokens.countActive()) > 0) {
    return { shown: null, message: 'authenticate with a token you created earlier (export KEYWARDEN_TOKEN=...), or make one: npx keywarden token create --name me --scope admin' };
  }
  const created = await tokens.create({ name: 'local-admin (created by keywarden start)', scopes: ['admin'], createdBy: 'keywarden start' });
  return { shown: created.token, message: `a local admin token was created (shown once, only its hash is kept):\n  ${created.token}` };
}

function remediationSetup(config: Config, aws: AwsAccess) {
  return { aws, scanRequest: scanRequest(config), recentUseDays: config.recentUseDays, retentionDays: config.retentionDays };
}

function remediationService(prisma: PrismaClient, aws: AwsAccess, config: Config): RemediationService {
  return new RemediationService({
    prisma, guard: new AccountGuard(new AccountsService(prisma, aws)), scans: createScanService(prisma, aws.baseIamClient()),
    scanRequest: scanRequest(config), recentUseDays: config.recentUseDays, findings: async () => [],
  });
}

/** A process that stopped mid-remediation left PENDING rows: settle them before serving. */
async function reconcileAtStart(prisma: PrismaClient, aws: AwsAccess, config: Config, log: Logger): Promise<void> {
  const settled = await remediationService(prisma, aws, config).reconcile().catch((err) => {
    log.warn({ err }, 'could not reconcile pending remediation actions; run `keywarden reconcile` later');
    return [];
  });
  if (settled.length > 0) log.info({ settled: settled.map((a) => ({ id: a.id, status: a.status })) }, 'reconciled pending remediation actions');
}

/** Config, then the IAM target (a bad fixture fails before anything opens), then the database and IAM. */
async function openScanEnvironment(opts: Record<string, unknown> & { sandbox?: boolean; sandboxFixture?: string }) {
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

interface IamTarget {
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
function chooseIam(opts: { sandbox?: boolean; sandboxFixture?: string }, config: Config): IamTarget {
  const useSandbox = opts.sandbox ?? (opts.sandboxFixture !== undefined || !(awsCredentialsConfigured() || process.env.AWS_ENDPOINT_URL_IAM));
  if (!useSandbox) return { fixture: null };
  if (opts.sandboxFixture) return { fixture: loadSandboxFixture(opts.sandboxFixture), sandboxFixture: opts.sandboxFixture };
  const sample = persistedSampleOrganization(config.dataDir);
  return { fixture: sample.fixture, sample };
}

async function connectIam({ fixture, sandboxFixture, sample }: IamTarget, config: Config, log: Logger): Promise<IamConnection> {
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
function openFleet(
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
function webhookSetup(config: Config): WebhookSetup {
  return { secrets: loadSecretBox(config), guard: new SsrfGuard({ allowPrivate: config.webhookAllowPrivate }) };
}

const ENDED = new Set(['COMPLETED', 'PARTIAL', 'FAILED', 'CANCELLED']);

/** Waits until every scan has ended (polling the database), telling `onChange` of each state seen. */
async function untilEnded(prisma: PrismaClient, ids: string[], onChange?: (scans: Scan[]) => void): Promise<Scan[]> {
  for (;;) {
    const scans = await prisma.scan.findMany({ where: { id: { in: ids } }, orderBy: { accountId: 'asc' } });
    onChange?.(scans);
    if (scans.every((s) => ENDED.has(s.status))) return scans;
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** One scan's outcome, on one line (then its errors). */
function formatScanRow(s: Scan): string {
  const calls = (s.iamCalls ?? {}) as { total?: number };
  const duration = s.startedAt && s.finishedAt ? ` in ${((s.finishedAt.getTime() - s.startedAt.getTime()) / 1000).toFixed(2)} s` : '';
  const lines = [
    `scan ${s.id} ${s.status}${s.accountId ? ` for account ${s.accountId}` : ''}${duration}: ` +
      `PASS ${s.passCount}, FAIL ${s.failCount}, NOT_APPLICABLE ${s.notApplicableCount}, ERROR ${s.errorCount}, EXCEPTED ${s.exceptedCount}; ` +
      `${s.openedCount} opened, ${s.resolvedCount} resolved; ${calls.total ?? 0} IAM calls`,
  ];
  for (const e of ((s.errors ?? []) as { severity: string; code: string; message: string; userName?: string }[]).filter((e) => e.severity === 'error').slice(0, 5)) {
    lines.push(`  error: ${e.userName ? `${e.userName}: ` : ''}${e.code}: ${e.message}`);
  }
  return lines.join('\n');
}

/** `scan --account/--all-accounts`: queue, then (unless --no-wait) work the queue here until those scans end. */
async function queuedScan(opts: Record<string, unknown> & { account?: string[]; allAccounts?: boolean; wait?: boolean }): Promise<void> {
  const { config, log, db, iam } = await openScanEnvironment(opts);
  const fleet = await openFleet(config, db, iam.aws, log);
  try {
    const result = await fleet.jobs.enqueue({ accountIds: opts.account ?? null, allAccounts: !!opts.allAccounts, requestedBy: `cli:${os.userInfo().username}` });
    for (const k of result.skipped) console.log(`account ${k.accountId} not scanned: ${k.reason}`);
    if (opts.wait === false) {
      for (const scan of result.scans) console.log(`scan ${scan.id} QUEUED for account ${scan.accountId}`);
      return;
    }
    await fleet.startWorker();
    const tty = process.stdout.isTTY;
    const ended = await untilEnded(db.prisma, result.scans.map((s) => s.id), (scans) => {
      if (!tty) return;
      const done = scans.filter((s) => ENDED.has(s.status)).length;
      const users = scans.reduce((n, s) => n + ((s.progress as { usersDone?: number } | null)?.usersDone ?? 0), 0);
      process.stdout.write(`\r${progressBar(done, scans.length)} ${done}/${scans.length} accounts, ${users} users read `);
    });
    if (tty) process.stdout.write('\n');
    for (const scan of ended) console.log(formatScanRow(scan));
    const failed = ended.filter((s) => s.status === 'FAILED');
    if (failed.length > 0) throw new CliError(`${failed.length} of ${ended.length} account scans failed`);
  } finally {
    await fleet.close();
    await iam.close();
    await db.close();
  }
}

function progressBar(done: number, total: number, width = 24): string {
  const filled = total === 0 ? width : Math.round((done / total) * width);
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}]`;
}

function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
}

async function main(argv: string[]): Promise<void> {
  try {
    await program.parseAsync(argv);
  } catch (err) {
    const e = err as { code?: string; exitCode?: number; message?: string };
    // commander.help carries exit code 1 when help was shown because no command was given.
    if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version') process.exit(0);
    if (e.code?.startsWith('commander.')) process.exit(e.exitCode ?? 2);
    // One line, no stack: the reason is for a person or a CI log. A fixture error's first line is
    // only its title: its reason is the issues (field path: message).
    // The SDK's "Could not load credentials from any providers" says nothing of how to provide them.
    const reason = (err as Error)?.name === 'CredentialsProviderError'
      ? `${new NoCredentialsError().message} (${NoCredentialsError.CODE})`
      : err instanceof FixtureError
        ? `${err.message.split('\n')[0]} ${err.issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`
        : (e.message ?? String(err)).split('\n')[0];
    console.error(`keywarden: ${reason}`);
    process.exit(1);
  }
  process.exit(0);
}

void main(process.argv);
