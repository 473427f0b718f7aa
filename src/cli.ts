#!/usr/bin/env node
import 'reflect-metadata';
import { Command } from 'commander';
import { NoCredentialsError } from './adapters/iam/inventory.collector';
import { FixtureError } from './sandbox/fixture';
import { registerAccountsCommands } from './cli/accounts.commands';
import { registerAdminCommands } from './cli/admin.commands';
import { registerFindingsCommands } from './cli/findings.commands';
import { registerRunCommands } from './cli/run.commands';
import { registerSandboxCommands } from './cli/sandbox.commands';
import { registerScanCommands } from './cli/scan.commands';

/** keywarden: the commands, each group in its own file under cli/, in the order --help lists them. */
const program = new Command('keywarden')
  .description('Compliance API for the CIS AWS control: IAM users with a console password get no access keys at initial setup.')
  .exitOverride()
  // Usage errors as one line, like every other failure: `keywarden: <reason> (see --help)`.
  .configureOutput({ outputError: (text, write) => write(`keywarden: ${text.replace(/^error: /, '').split('\n')[0]} (see --help)\n`) });

registerRunCommands(program);
registerScanCommands(program);
registerAccountsCommands(program);
registerFindingsCommands(program);
registerAdminCommands(program);
registerSandboxCommands(program);

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
