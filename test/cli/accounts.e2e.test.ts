import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { PrismaClient } from '../../src/generated/prisma/client';
import { startFakeAws, type FakeAws } from '../support/fake-aws';
import { resetDatabase, testPrisma } from '../support/stack';
import { makeTempDir } from '../support/test-resources';

/**
 * `keywarden accounts sync|add|list|remove`, the BUILT CLI as a child process with a minimal environment (as in
 * cli.e2e.test.ts), against the test PostgreSQL and the STS/Organizations stand-in through AWS_ENDPOINT_URL_*.
 */
const CLI = path.resolve(__dirname, '../../dist/src/cli.js');
if (!fs.existsSync(CLI) || fs.statSync(CLI).mtimeMs < fs.statSync(path.resolve(__dirname, '../../src/cli.ts')).mtimeMs) {
  throw new Error('dist/src/cli.js is missing or older than src/cli.ts: run `npm run build` first (this test runs the built CLI)');
}

const MANAGEMENT = '123400000001';
const MEMBER = '123400000002';
const OUTSIDE = '123400000003';
const KEY = 'AKIACLIACCOUNTS00001';

// Each command that opens the database applies the migrations first (a few seconds with Prisma on WebAssembly).
const SLOW = 90_000;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

describe('keywarden accounts', () => {
  let prisma: PrismaClient;
  let fake: FakeAws;
  let home: string;
  const run = (args: string[]): Promise<Run> =>
    new Promise((resolve) => {
      const env = {
        PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, KEYWARDEN_DATA_DIR: path.join(home, 'unused'), DATABASE_URL: process.env.DATABASE_URL!,
        AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: KEY, AWS_SECRET_ACCESS_KEY: 'secret', AWS_ENDPOINT_URL_STS: fake.url, AWS_ENDPOINT_URL_ORGANIZATIONS: fake.url,
      };
      execFile(process.execPath, [CLI, 'accounts', ...args], { env, cwd: home, timeout: 20_000 }, (err, stdout, stderr) => {
        resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
      });
    });
  const accountRows = () => prisma.account.findMany({ orderBy: { accountId: 'asc' } });

  beforeAll(async () => {
    prisma = testPrisma();
    await resetDatabase(prisma);
    home = makeTempDir('keywarden-accounts-e2e-');
    fake = await startFakeAws({
      identities: { [KEY]: { account: MANAGEMENT, arn: `arn:aws:iam::${MANAGEMENT}:user/keywarden` } },
      organization: {
        rootId: 'r-cli1', ous: { 'ou-cli1-aaaaaaaa': 'r-cli1' },
        accounts: [
          { id: MANAGEMENT, name: 'management', email: 'aws@example.com', state: 'ACTIVE', parent: 'r-cli1' },
          { id: MEMBER, name: 'member', email: 'member@example.com', state: 'ACTIVE', parent: 'ou-cli1-aaaaaaaa' },
        ],
      },
    });
  });
  afterAll(async () => {
    await fake.close();
    await prisma.$disconnect();
    fs.rmSync(home, { recursive: true, force: true });
  });

  it('add refuses a malformed account id, a role ARN of the wrong shape or of another account, and a bad external id: one line naming the argument, exit 1, nothing written', async () => {
    const cases: [string[], string][] = [
      [['add', '12345', '--role-arn', `arn:aws:iam::${OUTSIDE}:role/Audit`], 'keywarden: accountId must be an AWS account id, 12 digits; got "12345"'],
      [['add', OUTSIDE, '--role-arn', 'Audit'], 'keywarden: --role-arn must be an IAM role ARN, arn:aws:iam::<12-digit account>:role/<name>; got "Audit"'],
      [['add', OUTSIDE, '--role-arn', `arn:aws:iam::${OUTSIDE}:user/Audit`], `keywarden: --role-arn must be an IAM role ARN, arn:aws:iam::<12-digit account>:role/<name>; got "arn:aws:iam::${OUTSIDE}:user/Audit"`],
      [['add', OUTSIDE, '--role-arn', `arn:aws:iam::${MEMBER}:role/Audit`], `keywarden: --role-arn arn:aws:iam::${MEMBER}:role/Audit is a role of account ${MEMBER}, not of ${OUTSIDE}: the role must be in the account it reads`],
      [['add', OUTSIDE, '--role-arn', `arn:aws:iam::${OUTSIDE}:role/Audit`, '--external-id', 'x'], 'keywarden: --external-id must be 2-1224 characters of letters, digits and +=,.@:/-_ (what STS accepts)'],
      [['add', OUTSIDE], 'keywarden: required option \'--role-arn <arn>\' not specified (see --help)'],
      [['remove', 'abc'], 'keywarden: accountId must be an AWS account id, 12 digits; got "abc"'],
    ];
    for (const [args, line] of cases) {
      const r = await run(args);
      expect({ args, code: r.code, stdout: r.stdout, stderr: r.stderr }).toEqual({ args, code: 1, stdout: '', stderr: `${line}\n` });
    }
    expect(await accountRows()).toEqual([]);
  }, SLOW);

  it('add, list and remove an account outside the organization', async () => {
    const added = await run(['add', OUTSIDE, '--role-arn', `arn:aws:iam::${OUTSIDE}:role/PartnerAudit`, '--external-id', 'partner-ext-1', '--name', 'partner']);
    expect(added).toEqual({ code: 0, stderr: '', stdout: `account ${OUTSIDE} added: read through arn:aws:iam::${OUTSIDE}:role/PartnerAudit with its external id\n` });
    expect(await prisma.account.findUnique({ where: { accountId: OUTSIDE } })).toMatchObject({ source: 'CONFIGURED', externalId: 'partner-ext-1', name: 'partner' });
    const listed = await run(['list']);
    expect(listed).toEqual({ code: 0, stderr: '', stdout: `${OUTSIDE}  ACTIVE              CONFIGURED    "partner"  outside the organization  arn:aws:iam::${OUTSIDE}:role/PartnerAudit  scanned\n` });
    const json = JSON.parse((await run(['list', '--json'])).stdout);
    expect(json).toEqual([expect.objectContaining({ accountId: OUTSIDE, source: 'CONFIGURED', skipReason: null })]);
    expect(await run(['remove', OUTSIDE])).toEqual({ code: 0, stderr: '', stdout: `account ${OUTSIDE} removed (its scans and findings are kept)\n` });
    expect(await run(['remove', OUTSIDE])).toEqual({ code: 1, stdout: '', stderr: `keywarden: Keywarden does not know account ${OUTSIDE}; nothing was changed\n` });
    expect(await run(['list'])).toMatchObject({ code: 0, stdout: 'no accounts yet: `keywarden accounts sync` (an organization) or `keywarden accounts add <accountId> --role-arn <arn>`\n' });
  }, SLOW);

  it('sync reads the organization through AWS_ENDPOINT_URL_ORGANIZATIONS, says what changed, and list says why an account is not scanned', async () => {
    expect(await run(['sync'])).toEqual({ code: 0, stderr: '', stdout: `organization: 2 account(s); 2 added, 0 updated, 0 left (kept, not scanned)\n  added ${MANAGEMENT}, ${MEMBER}\n` });
    fake.options.organization!.accounts[1].state = 'SUSPENDED';
    expect(await run(['sync'])).toEqual({ code: 0, stderr: '', stdout: `organization: 2 account(s); 0 added, 1 updated, 0 left (kept, not scanned)\n  updated ${MEMBER}\n` });
    const lines = (await run(['list'])).stdout.trim().split('\n');
    expect(lines).toEqual([
      `${MANAGEMENT}  ACTIVE              ORGANIZATION  "management"  Root  member role  scanned`,
      `${MEMBER}  SUSPENDED           ORGANIZATION  "member"  Root/ou-cli1-aaaaaaaa  member role  not scanned: the organization reports it SUSPENDED: only ACTIVE accounts are scanned (its history is kept)`,
    ]);
    const refused = await run(['remove', MEMBER]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^keywarden: account 123400000002 is in the organization: `keywarden accounts sync` keeps it; .*Nothing was changed\n$/);
  }, SLOW);

  it('sync without Organizations access fails with one line and changes nothing', async () => {
    const before = await accountRows();
    fake.options.organization!.denied = true;
    const r = await run(['sync']);
    fake.options.organization!.denied = false;
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^keywarden: Organizations ListAccounts failed \(AccessDenied: .*\): run it with the management account's credentials or a delegated administrator's \(organizations:ListAccounts, organizations:ListParents, organizations:DescribeOrganizationalUnit\); nothing was changed\n$/);
    expect(await accountRows()).toEqual(before);
  }, SLOW);
});
