import type { FixtureInput, FixtureUserInput } from '../../src/sandbox/fixture';
import { startStack, type Stack } from '../support/stack';

/**
 * The control's cases from the CIS text, scanned through the real AWS SDK against the IAM sandbox,
 * stored in real PostgreSQL and read back through the HTTP GraphQL endpoint.
 */
const console_ = (userName: string, createdAt: string, accessKeys: FixtureUserInput['accessKeys'] = []): FixtureUserInput => ({
  userName, createdAt, loginProfile: { createdAt }, passwordLastUsed: 'now-1d', accessKeys,
});

const fillers: FixtureUserInput[] = Array.from({ length: 260 }, (_, i) => console_(`filler-${String(i).padStart(3, '0')}`, 'now-200d'));

const FIXTURE: FixtureInput = {
  accountId: '111122223333',
  accountCreatedAt: 'now-900d',
  root: { passwordEnabled: true, accessKeys: 1 },
  users: [
    console_('setup-never-used', 'now-400d', [{ accessKeyId: 'AKIASETUPNEVERUSED01', status: 'Active', createdAt: 'now-400d+30s' }]),
    console_('setup-used', 'now-400d', [
      { accessKeyId: 'AKIASETUPUSED0000001', status: 'Active', createdAt: 'now-400d+2m', lastUsed: { date: 'now-1d', serviceName: 's3', region: 'us-east-1' } },
    ]),
    console_('later-used', 'now-400d', [
      { accessKeyId: 'AKIALATERUSED0000001', status: 'Active', createdAt: 'now-100d', lastUsed: { date: 'now-2h', serviceName: 'ec2', region: 'eu-west-1' } },
    ]),
    console_('later-never-used', 'now-400d', [{ accessKeyId: 'AKIALATERNEVERUSED01', status: 'Active', createdAt: 'now-30d' }]),
    console_('inactive-setup', 'now-400d', [{ accessKeyId: 'AKIAINACTIVESETUP001', status: 'Inactive', createdAt: 'now-400d+10s' }]),
    console_('two-keys', 'now-300d', [
      { accessKeyId: 'AKIATWOKEYSSETUP0001', status: 'Active', createdAt: 'now-300d+5s' },
      { accessKeyId: 'AKIATWOKEYSLATER0002', status: 'Active', createdAt: 'now-50d', lastUsed: { date: 'now-3d', serviceName: 'sts', region: 'us-east-1' } },
    ]),
    console_('console-no-keys', 'now-250d'),
    { userName: 'api-only', createdAt: 'now-500d', accessKeys: [{ accessKeyId: 'AKIAAPIONLY000000001', status: 'Active', createdAt: 'now-500d' }] },
    console_('denied-user', 'now-90d', [{ accessKeyId: 'AKIADENIED0000000001', status: 'Active', createdAt: 'now-90d+1s' }]),
    console_('ops,admin', 'now-60d', [{ accessKeyId: 'AKIACOMMA00000000001', status: 'Active', createdAt: 'now-60d+20s' }]),
    ...fillers,
  ],
  faults: [{ operation: 'ListAccessKeys', userName: 'denied-user', error: 'AccessDenied' }],
};

const EXPECTED: Record<string, [string, string[]]> = {
  'setup-never-used/AKIASETUPNEVERUSED01': ['FAIL', ['CREATED_AT_SETUP', 'NEVER_USED']],
  'setup-used/AKIASETUPUSED0000001': ['FAIL', ['CREATED_AT_SETUP']],
  'later-used/AKIALATERUSED0000001': ['PASS', ['CREATED_AFTER_SETUP_AND_USED']],
  'later-never-used/AKIALATERNEVERUSED01': ['FAIL', ['NEVER_USED']],
  'inactive-setup/AKIAINACTIVESETUP001': ['PASS', ['KEY_INACTIVE']],
  'two-keys/AKIATWOKEYSSETUP0001': ['FAIL', ['CREATED_AT_SETUP', 'NEVER_USED']],
  'two-keys/AKIATWOKEYSLATER0002': ['PASS', ['CREATED_AFTER_SETUP_AND_USED']],
  'console-no-keys/-': ['PASS', ['NO_ACCESS_KEYS']],
  'api-only/-': ['NOT_APPLICABLE', ['NO_CONSOLE_PASSWORD']],
  '<root_account>/-': ['NOT_APPLICABLE', ['ROOT_ACCOUNT']],
  'denied-user/-': ['ERROR', ['USER_UNREADABLE']],
  'ops,admin/AKIACOMMA00000000001': ['FAIL', ['CREATED_AT_SETUP', 'NEVER_USED']],
};

const FINDINGS = `query($after: String) {
  findings(first: 100, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    nodes { id userName accessKeyId status reasons controlId accountId userArn firstSeenAt lastSeenAt
      evidence { dataSource dataSourceAsOf setupWindowSeconds gracePeriodSeconds userCreatedAt accessKeyCreatedAt error }
      scan { id } }
  }
}`;

async function allFindings(stack: Stack) {
  const nodes: any[] = [];
  let after: string | null = null;
  for (;;) {
    const res: any = await stack.gql(FINDINGS, { after });
    expect(res.errors).toBeUndefined();
    nodes.push(...res.data.findings.nodes);
    if (!res.data.findings.pageInfo.hasNextPage) return { nodes, totalCount: res.data.findings.totalCount };
    after = res.data.findings.pageInfo.endCursor;
  }
}

describe.each([
  ['credential report', 'CREDENTIAL_REPORT'],
  ['per-user API', 'PER_USER_API'],
] as const)('a scan through the %s path', (_label, mode) => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack(FIXTURE);
  });
  afterAll(() => stack.close());

  it('yields exactly the expected status and reasons per key, read back over GraphQL', async () => {
    const summary = await stack.scan({ mode, pageSize: 100 });
    expect(summary.status).toBe('PARTIAL');
    expect(summary.accountId).toBe('111122223333');
    expect(summary.users).toBe(FIXTURE.users!.length);

    const { nodes, totalCount } = await allFindings(stack);
    const byKey = Object.fromEntries(nodes.map((n) => [`${n.userName}/${n.accessKeyId ?? '-'}`, [n.status, n.reasons]]));
    const rootExpected = mode === 'CREDENTIAL_REPORT' ? 1 : 0; // only the report shows root
    for (const [key, expected] of Object.entries(EXPECTED)) {
      if (key.startsWith('<root_account>') && !rootExpected) continue;
      expect([key, byKey[key]]).toEqual([key, expected]);
    }
    for (const f of fillers) expect(byKey[`${f.userName}/-`]).toEqual(['PASS', ['NO_ACCESS_KEYS']]);
    expect(totalCount).toBe(Object.keys(EXPECTED).length - 1 + rootExpected + fillers.length);
    expect(nodes).toHaveLength(totalCount);
    expect(new Set(nodes.map((n) => n.id)).size).toBe(totalCount);
  });

  it('keeps the evidence and the data source with each finding', async () => {
    const res: any = await stack.gql(`{ findings(filter: { userName: "setup-never-used" }) { nodes { evidence {
      dataSource setupWindowSeconds gracePeriodSeconds secondsFromUserCreationToKey accessKeyStatus passwordEnabled } scan { id reportGeneratedAt source } } } }`);
    const [f] = res.data.findings.nodes;
    expect(f.evidence).toMatchObject({ dataSource: mode, setupWindowSeconds: 600, gracePeriodSeconds: 86400, secondsFromUserCreationToKey: 30, accessKeyStatus: 'ACTIVE', passwordEnabled: true });
    expect(f.scan.source).toBe(mode);
    if (mode === 'CREDENTIAL_REPORT') expect(f.scan.reportGeneratedAt).not.toBeNull();
    else expect(f.scan.reportGeneratedAt).toBeNull();
  });

  it('reports the unreadable user in the scan errors, never as compliant', async () => {
    const res: any = await stack.gql(`{ scans(first: 1) { nodes { status counts { pass fail notApplicable error }
      errors { severity scope userName operation code } iamCalls { total } } } }`);
    const [scan] = res.data.scans.nodes;
    expect(scan.status).toBe('PARTIAL');
    expect(scan.counts.error).toBe(1);
    expect(scan.errors).toContainEqual({ severity: 'ERROR', scope: 'USER', userName: 'denied-user', operation: 'ListAccessKeys', code: 'ACCESS_DENIED' });
    expect(scan.iamCalls.total).toBeGreaterThan(0);
  });

  it('serves the user with a comma in its name, with its keys and findings', async () => {
    const res: any = await stack.gql(`{ iamUser(accountId: "111122223333", userName: "ops,admin") {
      userName arn hasConsolePassword accessKeys { accessKeyId status createdAt lastUsedAt } findings { status accessKeyId } } }`);
    expect(res.data.iamUser).toMatchObject({
      userName: 'ops,admin',
      arn: 'arn:aws:iam::111122223333:user/ops,admin',
      hasConsolePassword: true,
      accessKeys: [{ accessKeyId: 'AKIACOMMA00000000001', status: 'ACTIVE', lastUsedAt: null }],
      findings: [{ status: 'FAIL', accessKeyId: 'AKIACOMMA00000000001' }],
    });
  });
});
