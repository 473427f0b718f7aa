import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { IAMClient, ListUsersCommand } from '@aws-sdk/client-iam';
import { ListAccountsCommand, OrganizationsClient } from '@aws-sdk/client-organizations';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { fromTemporaryCredentials } from '@aws-sdk/credential-providers';
import { organizationFixture, MEMBER_B, roleArn } from './organization-helpers';
import { makeTempDir } from '../support/test-resources';

/** `keywarden sandbox` from the BUILT CLI, reached through the SDK's standard AWS_ENDPOINT_URL_<SERVICE> variables. */

const ROOT = path.resolve(__dirname, '../..');
const CLI = path.join(ROOT, 'dist/src/cli.js');
if (!fs.existsSync(CLI) || fs.statSync(CLI).mtimeMs < fs.statSync(path.join(ROOT, 'src/cli.ts')).mtimeMs) {
  throw new Error('dist/src/cli.js is missing or older than src/cli.ts: run `npm run build` first (this test runs the built CLI)');
}

const ENV_KEYS = ['AWS_ENDPOINT_URL_IAM', 'AWS_ENDPOINT_URL_STS', 'AWS_ENDPOINT_URL_ORGANIZATIONS', 'AWS_REGION', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'];

/** Starts the CLI and resolves with the `export …` variables it prints; resolves null when it exits first. */
function startCli(args: string[]): Promise<{ env: Record<string, string>; stop: () => Promise<void> } | { code: number | null; stderr: string }> {
  const child = spawn(process.execPath, [CLI, 'sandbox', '--port', '0', ...args], { env: { ...process.env, NODE_ENV: 'test' } });
  let stdout = '';
  let stderr = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise((resolve) => {
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      const line = /^ {2}export (.+)$/m.exec(stdout);
      if (!line) return;
      const env = Object.fromEntries(line[1]!.split(' ').map((kv) => kv.split('=') as [string, string]));
      resolve({
        env,
        stop: async () => {
          child.kill('SIGTERM');
          await exited;
        },
      });
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('exit', (code) => resolve({ code, stderr }));
  });
}

describe('keywarden sandbox --fixture org.json', () => {
  const saved: Record<string, string | undefined> = {};
  beforeEach(() => {
    for (const k of ENV_KEYS) saved[k] = process.env[k];
  });
  afterEach(() => {
    for (const k of ENV_KEYS) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
  });

  it('serves the organization; IAM, STS and Organizations clients find it through AWS_ENDPOINT_URL_*', async () => {
    const file = path.join(makeTempDir('kw-cli-org-'), 'org.json');
    fs.writeFileSync(file, JSON.stringify(organizationFixture()));
    const started = await startCli(['--fixture', file]);
    if (!('env' in started)) throw new Error(`the sandbox did not start: ${started.stderr}`);
    try {
      expect(Object.keys(started.env).sort()).toEqual([...ENV_KEYS].sort());
      Object.assign(process.env, started.env);
      // No endpoint in the code: the SDK reads the service-specific variables.
      const orgs = new OrganizationsClient({ maxAttempts: 1 });
      expect((await orgs.send(new ListAccountsCommand({}))).Accounts).toHaveLength(20);
      const sts = new STSClient({ maxAttempts: 1 });
      expect((await sts.send(new GetCallerIdentityCommand({}))).Account).toBe('111111111111');
      const iam = new IAMClient({
        maxAttempts: 1,
        credentials: fromTemporaryCredentials({ params: { RoleArn: roleArn(MEMBER_B), RoleSessionName: 'keywarden-cli' } }),
      });
      expect((await iam.send(new ListUsersCommand({}))).Users!.map((u) => u.UserName)).toEqual(['bea', 'bert']);
      for (const c of [orgs, sts, iam]) c.destroy();
    } finally {
      await started.stop();
    }
  });

  it('a bad organization fixture fails at start with the path of the problem', async () => {
    const file = path.join(makeTempDir('kw-cli-org-'), 'org.json');
    const fixture = organizationFixture();
    fixture.organization.accounts[1]!.parent = 'Root/Nowhere';
    fs.writeFileSync(file, JSON.stringify(fixture));
    const result = await startCli(['--fixture', file]);
    expect('code' in result && result.code).toBe(1);
    expect('stderr' in result && result.stderr).toMatch(/^keywarden: Invalid sandbox organization fixture: organization\.accounts\[1\]\.parent: no OU Root\/Nowhere \(in .*org\.json\)$/m);
  });
});
