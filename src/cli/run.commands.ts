/** The main job and the long-running processes: start (embedded default), serve (the API, one or N processes), worker. */
import { Command } from 'commander';
import { AccountsService } from '../services/accounts.service';
import { openDatabase } from '../app';
import type { PrismaClient } from '../generated/prisma/client';
import { loadConfig, type Config } from '../config';
import cluster from 'node:cluster';
import { reportListening, startApiCluster, untilStopRequested } from '../cluster/serve-cluster';
import { findingsByAccount } from '../metrics/findings.source';
import { collectProcessMetrics, readAtScrape } from '../metrics/metrics';
import { aggregateClusterMetrics, joinClusterMetrics } from '../metrics/metrics.cluster';
import { startMetricsServer } from '../metrics/metrics.http';
import { TokensService } from '../auth/tokens.service';
import os from 'node:os';
import type { Logger } from '../logger';
import type { ScanFleet } from '../scan-fleet';
import { assertPortFree } from '../adapters/net/port';
import { awsAccess, configFrom, graphql, logger, openFleet, openScanEnvironment, pageUrls, reconcileAtStart, remediationSetup, scanOptions, serverOptions, untilSignal, webhookSetup } from './environment';
import { formatScanRow, untilEnded } from './scan.commands';

/** `keywarden start` (the main job on the embedded default), `serve` (the API, behind one port) and `worker`. */
export function registerRunCommands(program: Command): void {
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
}

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
