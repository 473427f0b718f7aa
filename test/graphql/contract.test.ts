import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { breakingChanges } from '../../scripts/schema-policy';
import { toScanErrorCode } from '../../src/graphql/scans/scan.mapper';
import type { FixtureInput } from '../../src/sandbox/fixture';
import { startStack, type Stack } from '../support/stack';

const ROOT = path.join(__dirname, '../..');
const run = promisify(execFile);
const ACCOUNT = '444455556666';
const key = (n: number) => `AKIACONTRACT${String(n).padStart(8, '0')}`;

// 12 console users with a setup key (FAIL), 4 with a key used later (PASS), one with an Inactive key (PASS), one
// without a password (NOT_APPLICABLE).
const FIXTURE: FixtureInput = {
  accountId: ACCOUNT,
  accountCreatedAt: 'now-900d',
  users: [
    ...Array.from({ length: 12 }, (_, i) => ({
      userName: `setup-${String(i).padStart(2, '0')}`, createdAt: 'now-400d', loginProfile: { createdAt: 'now-400d' },
      accessKeys: [{ accessKeyId: key(i), status: 'Active' as const, createdAt: 'now-400d+30s' }],
    })),
    ...Array.from({ length: 4 }, (_, i) => ({
      userName: `later-${i}`, createdAt: 'now-400d', loginProfile: { createdAt: 'now-400d' },
      accessKeys: [{ accessKeyId: key(100 + i), status: 'Active' as const, createdAt: 'now-100d', lastUsed: { date: 'now-1d', serviceName: 's3' } }],
    })),
    { userName: 'api-only', createdAt: 'now-300d', accessKeys: [{ accessKeyId: key(200), status: 'Active' as const, createdAt: 'now-300d' }] },
    { userName: 'retired', createdAt: 'now-300d', loginProfile: { createdAt: 'now-300d' }, accessKeys: [{ accessKeyId: key(300), status: 'Inactive' as const, createdAt: 'now-300d+1m' }] },
  ],
};

describe('the schema as a contract: lint and change policy', () => {
  it('the committed schema passes the schema linter; a field without a description fails it', async () => {
    await expect(run('node_modules/.bin/graphql-schema-linter', [], { cwd: ROOT })).resolves.toBeDefined();
    const dir = mkdtempSync(path.join(tmpdir(), 'kw-lint-'));
    try {
      const sdl = readFileSync(path.join(ROOT, 'schema.graphql'), 'utf8').replace(/"""Why, for the audit trail\. Required, not empty\."""\n\s*reason: String!/, 'reason: String!');
      writeFileSync(path.join(dir, 'schema.graphql'), sdl);
      const failed = await run('node_modules/.bin/graphql-schema-linter', [path.join(dir, 'schema.graphql')], { cwd: ROOT }).then(() => null, (err: { code: number; stdout: string }) => err);
      expect(failed?.code).toBe(1);
      expect(failed?.stdout).toMatch(/The input value `AccessKeyActionInput\.reason` is missing a description/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the current schema keeps the released one; removing a field breaks it, deprecating it does not', async () => {
    const released = readFileSync(path.join(ROOT, 'schema.released.graphql'), 'utf8');
    const current = readFileSync(path.join(ROOT, 'schema.graphql'), 'utf8');
    expect(await breakingChanges(released, current)).toEqual([]);
    // AccessKey.lastUsedService, removed, then kept and deprecated instead.
    const inAccessKey = (edit: (block: string) => string) => current.replace(/\ntype AccessKey \{[\s\S]*?\n\}/, edit);
    const removed = inAccessKey((block) => block.replace(/\n\n  """The AWS service it was last used with\."""\n  lastUsedService: String/, ''));
    expect(removed).not.toBe(current);
    expect((await breakingChanges(current, removed)).map((c) => c.message)).toEqual(["Field 'lastUsedService' was removed from object type 'AccessKey'"]);
    const deprecated = inAccessKey((block) => block.replace('  lastUsedService: String', '  lastUsedService: String @deprecated(reason: "Use lastUsedRegion.")'));
    expect(deprecated).not.toBe(current);
    expect(await breakingChanges(current, deprecated)).toEqual([]);
    // Casing a value differently is a removal: clients switch on the old spelling.
    expect(await breakingChanges(current, current.replace(/\nenum Severity \{[\s\S]*?\n\}/, (block) => block.replace(/^  MEDIUM$/m, '  medium')))).toEqual([expect.objectContaining({ message: expect.stringContaining("'MEDIUM' was removed from enum 'Severity'") })]);
  });

  it('scan error codes are a public enum, never an internal class or AWS error name', () => {
    expect(['AccountUnreadableError', 'AccountMismatchError', 'AccessDenied', 'Throttling', 'NoSuchEntity', 'CredentialReportNotReady', 'Interrupted', 'INTERRUPTED', 'ECONNREFUSED', 'SomethingNew'].map(toScanErrorCode))
      .toEqual(['ACCOUNT_UNREADABLE', 'ACCOUNT_MISMATCH', 'ACCESS_DENIED', 'THROTTLED', 'NOT_FOUND', 'CREDENTIAL_REPORT_UNAVAILABLE', 'INTERRUPTED', 'INTERRUPTED', 'NETWORK_ERROR', 'OTHER']);
  });
});

describe('the schema as a contract, over HTTP', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack(FIXTURE);
    stack.sandbox.setFaults([{ operation: 'ListAccessKeys', userName: 'later-3', error: 'AccessDenied' }]);
    expect((await stack.scan({ mode: 'PER_USER_API' })).status).toBe('PARTIAL');
    stack.sandbox.setFaults([]);
    expect((await stack.scan({ mode: 'PER_USER_API' })).status).toBe('COMPLETED');
  });
  afterAll(() => stack.close());

  const ok = async (query: string, variables?: Record<string, unknown>) => {
    const res = await stack.gql(query, variables);
    expect(res.errors).toBeUndefined();
    return res.data;
  };
  const refusal = async (query: string) => {
    const res = await stack.gql(query);
    expect(res.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    return res.errors![0];
  };

  it('answers closed value sets as enums in one casing', async () => {
    const data = await ok(`{
      controls { id controlId severity }
      scans(last: 1) { nodes { status errors { severity scope code operation userName } iamCalls { byOperation { operation count } } } }
      iamUser(accountId: "${ACCOUNT}", userName: "retired") { accessKeys { status } }
      findings(filter: { userName: "setup-00" }) { nodes { evidence { accessKeyStatus dataSource } } }
    }`);
    expect(data.controls).toEqual([{ id: expect.any(String), controlId: 'iam-no-access-keys-at-initial-setup', severity: 'MEDIUM' }]);
    const [partial] = data.scans.nodes; // the older scan: last: 1 of a newest-first list
    expect(partial.status).toBe('PARTIAL');
    expect(partial.errors).toContainEqual({ severity: 'ERROR', scope: 'USER', code: 'ACCESS_DENIED', operation: 'ListAccessKeys', userName: 'later-3' });
    expect(partial.iamCalls.byOperation.map((o: { operation: string }) => o.operation)).toEqual(expect.arrayContaining(['LIST_USERS', 'LIST_ACCESS_KEYS', 'GET_LOGIN_PROFILE']));
    expect(data.iamUser.accessKeys).toEqual([{ status: 'INACTIVE' }]);
    expect(data.findings.nodes[0].evidence).toEqual({ accessKeyStatus: 'ACTIVE', dataSource: 'PER_USER_API' });
  });

  it('Control is a Node; node, nodes and control(id) take its global id; nodes is bounded', async () => {
    const { controls: [control], findings } = await ok('{ controls { id controlId } findings(first: 2) { nodes { id } } }');
    const byNode = await ok('query($id: ID!) { node(id: $id) { __typename ... on Control { controlId } } control(id: $id) { controlId } }', { id: control.id });
    expect(byNode).toEqual({ node: { __typename: 'Control', controlId: control.controlId }, control: { controlId: control.controlId } });
    expect((await ok(`{ control(id: "${control.controlId}") { id } }`)).control).toEqual({ id: control.id });

    const gone = Buffer.from('Finding:00000000-0000-4000-8000-000000000000').toString('base64url');
    const ids = [findings.nodes[1].id, control.id, gone, findings.nodes[0].id];
    const { nodes } = await ok('query($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }', { ids });
    expect(nodes).toEqual([{ __typename: 'Finding', id: ids[0] }, { __typename: 'Control', id: ids[1] }, null, { __typename: 'Finding', id: ids[3] }]);

    const tooMany = await stack.gql('query($ids: [ID!]!) { nodes(ids: $ids) { id } }', { ids: Array.from({ length: 101 }, () => control.id) });
    expect(tooMany.errors?.[0]).toMatchObject({ message: 'nodes takes at most 100 ids; got 101: ask in batches', extensions: { code: 'BAD_USER_INPUT' } });
  });

  it('an EXCEPTED finding names its exception by the exception\'s global id, and as an object', async () => {
    const created = await ok('mutation($i: CreateExceptionInput!) { createException(input: $i) { exception { id } userErrors { code field message } } }', {
      i: { accountId: ACCOUNT, userName: 'setup-11', accessKeyId: key(11), justification: 'contract test', expiresAt: new Date(Date.now() + 86_400_000).toISOString() },
    });
    expect(created.createException.userErrors).toEqual([]);
    const { id } = created.createException.exception;
    const { findings } = await ok('{ findings(filter: { status: [EXCEPTED] }) { nodes { exception { id } evidence { exceptionId exception { id justification } } } } }');
    expect(findings.nodes).toEqual([{ exception: { id }, evidence: { exceptionId: id, exception: { id, justification: 'contract test' } } }]);

    const refused = await ok('mutation { revokeException(input: { id: "nope" }) { userErrors { code field } } }');
    expect(refused.revokeException.userErrors).toEqual([{ code: 'EXCEPTION_NOT_FOUND', field: ['input', 'id'] }]);
  });

  it('findings filter by access key, reasons and severity', async () => {
    const count = async (filter: string) => (await ok(`{ findings(filter: ${filter}) { totalCount } }`)).findings.totalCount;
    expect(await count(`{ accessKeyId: "${key(3)}" }`)).toBe(1);
    expect(await count('{ reasons: [CREATED_AT_SETUP] }')).toBe(12);
    expect(await count('{ reasons: [CREATED_AFTER_SETUP_AND_USED, NO_CONSOLE_PASSWORD] }')).toBe(5);
    expect(await count('{ severity: [MEDIUM], reasons: [CREATED_AT_SETUP] }')).toBe(12);
    expect(await count('{ severity: [LOW, HIGH, CRITICAL] }')).toBe(0);
  });

  it('pages back with last and before, and refuses first with last', async () => {
    const all = (await ok('{ findings(first: 100) { nodes { id } } }')).findings.nodes.map((n: { id: string }) => n.id);
    expect(all.length).toBeGreaterThan(10);
    const tail = (await ok('{ findings(last: 3) { nodes { id } pageInfo { hasPreviousPage hasNextPage startCursor } } }')).findings;
    expect(tail.nodes.map((n: { id: string }) => n.id)).toEqual(all.slice(-3));
    expect(tail.pageInfo).toMatchObject({ hasPreviousPage: true, hasNextPage: false });
    const before = (await ok('query($b: String) { findings(last: 2, before: $b) { nodes { id } pageInfo { hasPreviousPage hasNextPage } } }', { b: tail.pageInfo.startCursor })).findings;
    expect(before.nodes.map((n: { id: string }) => n.id)).toEqual(all.slice(-5, -3));
    expect(before.pageInfo).toEqual({ hasPreviousPage: true, hasNextPage: true });
    // Backward under an order: the last two by IDENTITY DESC are the first two by ASC, reversed.
    const asc = (await ok('{ findings(first: 2, orderBy: { field: IDENTITY, direction: ASC }) { nodes { id } } }')).findings.nodes;
    const descTail = (await ok('{ findings(last: 2, orderBy: { field: IDENTITY, direction: DESC }) { nodes { id } } }')).findings.nodes;
    expect(descTail).toEqual([...asc].reverse());

    // IAM users page back the same way (a key of two columns: account, user name).
    const users = (await ok('{ iamUsers(first: 100) { nodes { userName } } }')).iamUsers.nodes;
    const lastUsers = (await ok('{ iamUsers(last: 3) { nodes { userName } pageInfo { startCursor } } }')).iamUsers;
    expect(lastUsers.nodes).toEqual(users.slice(-3));
    expect((await ok('query($b: String) { iamUsers(last: 2, before: $b) { nodes { userName } } }', { b: lastUsers.pageInfo.startCursor })).iamUsers.nodes).toEqual(users.slice(-5, -3));

    expect((await refusal('{ findings(first: 5, last: 2) { totalCount } }')).message).toBe('give first (page forward) or last (page back), not both');
    expect((await refusal('{ findings(after: "x", before: "y") { totalCount } }')).message).toBe('give after (page forward) or before/last (page back), not both');
    expect(await refusal('{ findings(before: "bm90LWEtY3Vyc29y") { totalCount } }')).toMatchObject({ message: 'before is not a cursor returned by this API', extensions: { field: 'before' } });
  });

  it('scans take a filter and an order; the old accountId argument still works; they page back', async () => {
    const { byFilter, old, partial, asc } = await ok(`{
      byFilter: scans(filter: { accountIds: ["${ACCOUNT}"] }) { totalCount nodes { id } }
      old: scans(accountId: "${ACCOUNT}") { totalCount nodes { id } }
      partial: scans(filter: { statuses: [PARTIAL] }) { totalCount }
      asc: scans(orderBy: { field: QUEUED_AT, direction: ASC }) { nodes { id } }
    }`);
    // Two full scans and the targeted one createException ran.
    expect(byFilter.totalCount).toBe(3);
    expect(old).toEqual(byFilter);
    expect(partial.totalCount).toBe(1);
    expect(asc.nodes).toEqual([...byFilter.nodes].reverse());
    const back = (await ok('{ scans(last: 1) { nodes { id } pageInfo { hasPreviousPage } } }')).scans;
    expect(back).toEqual({ nodes: [byFilter.nodes[2]], pageInfo: { hasPreviousPage: true } });
    expect((await refusal(`{ scans(accountId: "${ACCOUNT}", filter: { accountIds: ["${ACCOUNT}"] }) { totalCount } }`)).message).toMatch(/give accountId or accountIds, not both/);
  });

  it('remediation records filter by a list of kinds (kind still works) and page back', async () => {
    // The audit trail outlives test files (resetDatabase keeps it): only this test's records, by createdAfter.
    const since = new Date(Date.now() - 1).toISOString();
    for (const [i, mutation] of ['deactivateAccessKey', 'reactivateAccessKey', 'deactivateAccessKey'].entries()) {
      const res = await ok(`mutation($i: AccessKeyActionInput!) { ${mutation}(input: $i) { action { status } userErrors { code } } }`, {
        i: { accountId: ACCOUNT, userName: `setup-0${i}`, accessKeyId: key(i), reason: 'contract test', dryRun: true },
      });
      expect(Object.values(res)[0]).toMatchObject({ action: { status: 'DRY_RUN' }, userErrors: [] });
    }
    const { kinds, kind, back } = await ok(`query($since: DateTime) {
      kinds: remediationActions(filter: { kinds: [DEACTIVATE, REACTIVATE], createdAfter: $since }) { totalCount }
      kind: remediationActions(filter: { kind: REACTIVATE, createdAfter: $since }) { totalCount nodes { userName } }
      back: remediationActions(last: 1, filter: { createdAfter: $since }) { nodes { userName } pageInfo { hasPreviousPage } }
    }`, { since });
    expect(kinds.totalCount).toBe(3);
    expect(kind).toEqual({ totalCount: 1, nodes: [{ userName: 'setup-01' }] });
    expect(back).toEqual({ nodes: [{ userName: 'setup-00' }], pageInfo: { hasPreviousPage: true } }); // newest first: the oldest is last
  });

  it('accounts page back too', async () => {
    await stack.prisma.account.createMany({ data: ['111111111111', '222222222222', '333333333333'].map((accountId) => ({ accountId, source: 'CONFIGURED' as const, roleArn: `arn:aws:iam::${accountId}:role/Audit` })), skipDuplicates: true });
    const all = (await ok('{ accounts(first: 100) { nodes { accountId } } }')).accounts.nodes;
    expect(all.length).toBeGreaterThanOrEqual(3);
    const { accounts } = await ok('{ accounts(last: 2) { nodes { accountId } pageInfo { hasPreviousPage hasNextPage startCursor } } }');
    expect(accounts).toMatchObject({ nodes: all.slice(-2), pageInfo: { hasPreviousPage: true, hasNextPage: false } });
    const before = (await ok('query($b: String) { accounts(last: 5, before: $b) { nodes { accountId } } }', { b: accounts.pageInfo.startCursor })).accounts;
    expect(before.nodes).toEqual(all.slice(0, -2));
    expect((await refusal('{ accounts(last: 1, orderBy: { field: FAIL_COUNT }) { totalCount } }')).message).toMatch(/pages forward only/);
  });
});
