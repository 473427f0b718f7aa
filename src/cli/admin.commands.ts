/** Operating the store and access: tokens, migrations, retention, pending remediations, the schema. */
import { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { formatPruneResult } from '../app';
import { RetentionService } from '../services/retention.service';
import { loadConfig } from '../config';
import { TokensService } from '../auth/tokens.service';
import os from 'node:os';
import { migrateQueue } from '../adapters/queue/job-queue';
import { CliError, iamTargetOptions, openScanEnvironment, remediationService, withDatabase } from './environment';

/** `keywarden token create|list|revoke`, `migrate`, `prune`, `reconcile` and `schema`. */
export function registerAdminCommands(program: Command): void {
  const token = program.command('token').description('API tokens: create (shown once), list, revoke');
  token
    .command('create')
    .description('create an API token and print it once (only its hash is stored)')
    .requiredOption('--name <name>', 'what the token is for, e.g. "grc-platform"')
    .requiredOption('--scope <scope...>', 'findings:read, scans:write, remediation:write, metrics:read, admin')
    .option('--expires <date>', 'ISO 8601 date or a number of days, e.g. 90')
    .action(async (opts) => {
      await withDatabase(loadConfig(), async (db) => {
        const expiresAt = opts.expires === undefined ? null : /^\d+$/.test(opts.expires) ? new Date(Date.now() + Number(opts.expires) * 86_400_000) : new Date(opts.expires);
        if (expiresAt && Number.isNaN(expiresAt.getTime())) throw new CliError(`--expires ${opts.expires} is neither a date nor a number of days`);
        const created = await new TokensService(db.prisma).create({ name: opts.name, scopes: opts.scope, expiresAt, createdBy: `cli:${os.userInfo().username}` });
        console.log(`token ${created.record.id} "${created.record.name}" scopes ${created.record.scopes.join(' ')}${expiresAt ? ` expires ${expiresAt.toISOString()}` : ''}`);
        console.log(`${created.token}\n(shown once: store it now; Keywarden keeps only its hash)`);
      });
    });
  token
    .command('list')
    .description('list tokens (never their values)')
    .action(async () => {
      await withDatabase(loadConfig(), async (db) => {
        for (const t of await new TokensService(db.prisma).list()) {
          const state = t.revokedAt ? 'revoked' : t.expiresAt && t.expiresAt < new Date() ? 'expired' : 'active';
          console.log(`${t.id}  ${t.prefix}…  ${state.padEnd(7)}  ${t.name}  [${t.scopes.join(' ')}]  last used ${t.lastUsedAt?.toISOString() ?? 'never'}${t.expiresAt ? `  expires ${t.expiresAt.toISOString()}` : ''}`);
        }
      });
    });
  token
    .command('revoke <token>')
    .description('revoke a token, at once (also while the API runs): its id, its prefix (kw_ + 8 characters, as `token list` shows them), the whole token, or its name')
    .action(async (idOrPrefix: string) => {
      await withDatabase(loadConfig(), async (db) => {
        const t = await new TokensService(db.prisma).revoke(idOrPrefix);
        console.log(`token ${t.id} "${t.name}" revoked`);
      });
    });

  program
    .command('migrate')
    .description('apply the committed database migrations (DATABASE_URL, or the embedded database)')
    .action(async () => {
      const description = await withDatabase(loadConfig(), async (db) => {
        await migrateQueue(db.url);
        return db.description;
      });
      console.log(`migrations applied to ${description} (and the job queue's schema, pgboss)`);
    });

  program
    .command('prune')
    .description('delete detailed history older than the retention (KEYWARDEN_RETENTION_DAYS or --days); scan summaries and trends are kept')
    .option('--days <n>', 'days of detailed history to keep')
    .action(async (opts) => {
      const config = loadConfig(process.env, { retentionDays: opts.days });
      if (!config.retentionDays) throw new CliError('no retention configured: pass --days N or set KEYWARDEN_RETENTION_DAYS');
      const days = config.retentionDays;
      await withDatabase(config, async (db) => {
        for (const r of await new RetentionService(db.prisma).prune(days)) console.log(formatPruneResult(r));
      });
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

  program
    .command('schema')
    .description('print the GraphQL schema (SDL) this build serves')
    .option('--check <file>', 'exit non-zero when <file> differs from the schema this build serves')
    .action(async (opts) => {
      const sdl = await (require('../graphql/schema') as typeof import('../graphql/schema')).printKeywardenSchema();
      if (!opts.check) return void process.stdout.write(sdl);
      if (readFileSync(opts.check, 'utf8') !== sdl) throw new CliError(`${opts.check} is stale: run \`npm run schema\` and commit it`);
      console.log(`${opts.check} is up to date`);
    });
}
