/** The built-in sandbox alone, for integrators, and a reset of its sample organization's kept state. */
import { Command } from 'commander';
import { loadConfig } from '../config';
import { parseFixture } from '../sandbox/fixture';
import { loadSandboxFixture, parseOrganizationFixture } from '../sandbox/organization-fixture';
import { startIamSandbox } from '../sandbox/iam-sandbox.server';
import { sampleAccountFixture } from '../sandbox/sample-account';
import { sampleOrganizationFixture } from '../sandbox/sample-organization';
import { resetSampleState, sampleStateFile } from '../sandbox/sample-state';
import { CliError, untilSignal } from './environment';

/** `keywarden sandbox` and `keywarden sandbox reset`. */
export function registerSandboxCommands(program: Command): void {
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
}
