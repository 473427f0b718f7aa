/** The AWS accounts Keywarden reads: sync from Organizations, add, list, remove. */
import { Command } from 'commander';
import { validateAccountInput, type AccountInputError } from '../domain/accounts';
import { AccountsService, type AccountRecord } from '../services/accounts.service';
import { loadConfig } from '../config';
import { CliError, awsAccess, withDatabase } from './environment';

/** `keywarden accounts sync|add|list|remove`. */
export function registerAccountsCommands(program: Command): void {
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

async function withAccounts(work: (service: AccountsService) => Promise<void>): Promise<void> {
  const config = loadConfig();
  await withDatabase(config, (db) => work(new AccountsService(db.prisma, awsAccess(config))));
}
