/** Findings out of Keywarden: a streamed export, and a push to AWS Security Hub. */
import { Command } from 'commander';
import { AccountsService } from '../services/accounts.service';
import { createSecurityHubPush, formatPushResult } from '../app';
import { loadConfig } from '../config';
import { CliError, awsAccess, logger, withDatabase } from './environment';

/** `keywarden export findings` and `keywarden securityhub push`. */
export function registerFindingsCommands(program: Command): void {
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
      const { parseExportQuery } = require('../http/exports.route') as typeof import('../http/exports.route');
      const { ExportsService } = require('../services/exports/exports.service') as typeof import('../services/exports/exports.service');
      const { FindingsService } = require('../services/findings.service') as typeof import('../services/findings.service');
      const { InvalidInputError } = require('../services/errors') as typeof import('../services/errors');
      const flag: Record<string, string> = { format: '--format', asOf: '--as-of', accountIds: '--account', status: '--status', state: '--state', array: '--array', bom: '--no-bom' };
      const named = (err: unknown) => (err instanceof InvalidInputError && err.field ? new CliError(`${flag[err.field] ?? err.field}: ${err.message}`) : err);
      let request;
      try {
        request = parseExportQuery(query);
      } catch (err) {
        throw named(err);
      }
      const config = loadConfig();
      await withDatabase(config, async (db) => {
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
      });
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
      await withDatabase(config, async (db) => {
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
      }, log);
    });
}
