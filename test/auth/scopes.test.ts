import { SCOPES, type Scope } from '../../src/auth/scopes';
import { TokensService } from '../../src/auth/tokens.service';
import { keywardenSchema } from '../../src/graphql/schema';
import type { FixtureInput } from '../../src/sandbox/fixture';
import { rootOperations, type RootOperation } from '../support/operations';
import { startStack, type Stack } from '../support/stack';

/**
 * Scopes, through the HTTP endpoint with tokens made by TokensService: every root field of the schema
 * refuses, with FORBIDDEN naming the scope it needs, an authenticated token that lacks it; and each
 * scope lets its holder do what it is for. Because the walk is generated from the schema, a field
 * added without @Authorized fails here (a token without the scope would get data, not FORBIDDEN).
 */
const ACCOUNT = '343434343434';
const SETUP_KEY = 'AKIASCOPESETUPKEY001';
const FIXTURE: FixtureInput = {
  accountId: ACCOUNT,
  accountCreatedAt: 'now-900d',
  users: [
    { userName: 'alice', createdAt: 'now-100d', loginProfile: { createdAt: 'now-100d' }, accessKeys: [{ accessKeyId: SETUP_KEY, status: 'Active', createdAt: 'now-100d+1m' }] },
    { userName: 'bob', createdAt: 'now-100d', loginProfile: { createdAt: 'now-100d' }, accessKeys: [] },
  ],
};

const DAY = 86_400_000;

describe('scopes: @Authorized on every query and mutation', () => {
  let stack: Stack;
  let operations: RootOperation[];
  const tokenFor: Partial<Record<string, { token: string; id: string; name: string }>> = {};

  beforeAll(async () => {
    stack = await startStack(FIXTURE);
    expect((await stack.scan()).status).toBe('COMPLETED');
    operations = rootOperations(await keywardenSchema());
    const tokens = new TokensService(stack.prisma);
    for (const scope of ['findings:read', 'scans:write', 'remediation:write'] as const) {
      const { token, record } = await tokens.create({ name: `only ${scope}`, scopes: [scope], createdBy: 'test' });
      tokenFor[scope] = { token, id: record.id, name: record.name };
    }
  });
  afterAll(() => stack.close());

  const auditRows = () => stack.prisma.remediationAction.count();
  const iamWrites = () => {
    const c = stack.sandbox.calls().byOperation;
    return (c.UpdateAccessKey ?? 0) + (c.DeleteAccessKey ?? 0);
  };

  /** Sends op with a token holding only `held`; returns the scope the FORBIDDEN error names, or null if not refused. */
  async function refusal(op: RootOperation, held: Scope): Promise<string | null> {
    const res = await stack.gql(op.document, {}, tokenFor[held]!.token);
    expect(res.status).toBe(200);
    const forbidden = (res.errors ?? []).filter((e) => e.extensions?.code === 'FORBIDDEN');
    if (forbidden.length === 0) return null;
    expect(forbidden).toHaveLength(1);
    expect(res.data?.[op.field] ?? null).toBeNull();
    const needed = forbidden[0].extensions!.requiredScopes as string[];
    expect(needed.length).toBeGreaterThan(0);
    for (const scope of needed) {
      expect(SCOPES).toContain(scope);
      expect(scope).not.toBe(held);
      expect(forbidden[0].message).toContain(scope);
    }
    expect(forbidden[0].message).toMatch(new RegExp(`^this needs the .+ scope; the token has ${held}$`));
    expect(JSON.stringify(res)).not.toMatch(/\n\s+at |stacktrace/);
    return needed.join(' or ');
  }

  it('a findings:read token reads findings, iamUsers, scans and trends', async () => {
    const read = tokenFor['findings:read']!.token;
    const res = await stack.gql(
      `query($from: DateTime!, $to: DateTime!) {
        findings(filter: { accountId: "${ACCOUNT}" }) { totalCount nodes { userName accessKeyId status } }
        iamUsers { totalCount nodes { userName accessKeys { accessKeyId status } findings { status } } }
        scans { totalCount nodes { id status counts { pass fail } } }
        complianceTrend(accountId: "${ACCOUNT}", from: $from, to: $to, interval: DAY) { at scans }
        complianceSummary(accountId: "${ACCOUNT}") { compliant }
        controls { id }
      }`,
      { from: new Date(Date.now() - 2 * DAY).toISOString(), to: new Date(Date.now() + DAY).toISOString() },
      read,
    );
    expect(res.errors).toBeUndefined();
    expect(res.data.findings.totalCount).toBe(3); // alice's key, bob without keys, root
    expect(res.data.findings.nodes).toContainEqual({ userName: 'alice', accessKeyId: SETUP_KEY, status: 'FAIL' });
    expect(res.data.iamUsers.totalCount).toBe(2);
    expect(res.data.scans.nodes[0].status).toBe('COMPLETED');
    expect(res.data.complianceTrend.reduce((n: number, p: any) => n + p.scans, 0)).toBe(1);
  });

  // Webhook endpoints hold where Keywarden sends its findings: reading them is the admin's, as managing them is.
  const ADMIN_QUERIES = new Set(['webhooks', 'webhookDeliveries']);

  it('a findings:read token is refused no query but the admin-only ones: the whole generated list', async () => {
    for (const op of operations.filter((o) => o.kind === 'query')) {
      const expected = ADMIN_QUERIES.has(op.field) ? 'admin' : null;
      expect({ field: op.field, refused: await refusal(op, 'findings:read') }).toEqual({ field: op.field, refused: expected });
    }
  });

  it('a findings:read token gets FORBIDDEN, naming the scope, on EVERY mutation; nothing is written', async () => {
    const audit = await auditRows();
    const scans = await stack.prisma.scan.count();
    const writes = iamWrites();
    const mutations = operations.filter((o) => o.kind === 'mutation');
    expect(mutations.length).toBeGreaterThan(0);
    const needed: Record<string, string | null> = {};
    for (const op of mutations) needed[op.field] = await refusal(op, 'findings:read');
    expect(Object.entries(needed).filter(([, scope]) => scope === null)).toEqual([]);
    // The ones known today name the scope their contract says.
    expect(needed).toMatchObject({
      startScan: 'scans:write',
      deactivateAccessKey: 'remediation:write',
      reactivateAccessKey: 'remediation:write',
      deleteAccessKey: 'remediation:write',
      remediateFindings: 'remediation:write',
      createException: 'remediation:write',
      revokeException: 'remediation:write',
    });
    expect(await auditRows()).toBe(audit); // refused before the resolver: not even a REFUSED audit row
    expect(await stack.prisma.scan.count()).toBe(scans);
    expect(iamWrites()).toBe(writes);
  });

  it('EVERY query refuses a token without findings:read (scans:write only, remediation:write only), naming findings:read', async () => {
    const queries = operations.filter((o) => o.kind === 'query');
    const refusedWith: string[] = [];
    for (const op of queries) {
      for (const held of ['scans:write', 'remediation:write'] as const) refusedWith.push(`${op.field} ${held}: ${await refusal(op, held)}`);
    }
    const needs = (field: string) => (ADMIN_QUERIES.has(field) ? 'admin' : 'findings:read');
    expect(refusedWith).toEqual(queries.flatMap((op) => [`${op.field} scans:write: ${needs(op.field)}`, `${op.field} remediation:write: ${needs(op.field)}`]));
  });

  it('a scans:write or remediation:write token cannot read: FORBIDDEN naming findings:read', async () => {
    for (const held of ['scans:write', 'remediation:write'] as const) {
      const res = await stack.gql('{ findings { totalCount } }', {}, tokenFor[held]!.token);
      expect(res.errors?.[0]).toMatchObject({ message: `this needs the findings:read scope; the token has ${held}`, extensions: { code: 'FORBIDDEN', requiredScopes: ['findings:read'] } });
      expect(res.data).toBeNull();
    }
  });

  it('a remediation:write token deactivates a sandbox key; the audit row records the token id and name', async () => {
    const t = tokenFor['remediation:write']!;
    const res = await stack.gql(
      `mutation($input: AccessKeyActionInput!) { deactivateAccessKey(input: $input) { action { id status actor } userErrors { code message } } }`,
      { input: { accountId: ACCOUNT, userName: 'alice', accessKeyId: SETUP_KEY, reason: 'scope test: setup key' } },
      t.token,
    );
    expect(res.errors).toBeUndefined();
    expect(res.data.deactivateAccessKey.userErrors).toEqual([]);
    expect(res.data.deactivateAccessKey.action.status).toBe('SUCCEEDED');
    expect(stack.sandbox.state.findAccessKey(SETUP_KEY)?.key.status).toBe('Inactive');
    const row = await stack.prisma.remediationAction.findFirstOrThrow({ where: { accessKeyId: SETUP_KEY, status: 'SUCCEEDED' } });
    expect(row.actor).toBe(`token:${t.name} (${t.id})`);
    expect(row.actor).toContain(t.id);
    expect(row.actor).toContain(t.name);
    expect(res.data.deactivateAccessKey.action.actor).toBe(row.actor);
    // The same token still cannot read the audit trail it wrote.
    const trail = await stack.gql('{ remediationActions { totalCount } }', {}, t.token);
    expect(trail.errors?.[0].extensions?.code).toBe('FORBIDDEN');
  });

  it('a scans:write token starts a scan (and only that)', async () => {
    const before = await stack.prisma.scan.count();
    const res = await stack.gql('mutation { startScan { scans { id status queuedAt startedAt finishedAt } } }', {}, tokenFor['scans:write']!.token);
    expect(res.errors).toBeUndefined();
    expect(res.data.startScan.scans).toMatchObject([{ status: 'QUEUED' }]);
    expect((await stack.scanEnded(res.data.startScan.scans[0].id)).status).toBe('COMPLETED');
    expect(await stack.prisma.scan.count()).toBe(before + 1);
    const deactivate = await stack.gql(
      `mutation { deactivateAccessKey(input: { accountId: "${ACCOUNT}", userName: "alice", accessKeyId: "${SETUP_KEY}", reason: "x" }) { action { id } } }`,
      {},
      tokenFor['scans:write']!.token,
    );
    expect(deactivate.errors?.[0]).toMatchObject({ extensions: { code: 'FORBIDDEN', requiredScopes: ['remediation:write'] } });
  });

  it('scans:write alone sees how its scan ran, not what it found: the account, counts, errors or findings are FORBIDDEN before any scan runs', async () => {
    // alice's keys cannot be read: the scan's errors name her and would be returned.
    stack.sandbox.setFaults([{ operation: 'ListAccessKeys', userName: 'alice', error: 'AccessDenied' }]);
    try {
      const scanner = tokenFor['scans:write']!.token;
      const ran = await stack.gql('mutation { startScan { scans { id status source queuedAt startedAt finishedAt observedAt progress { usersDone } iamCalls { total } setupWindowSeconds } skipped { reason } } }', {}, scanner);
      expect(ran.errors).toBeUndefined();
      expect(ran.data.startScan.scans[0].status).toBe('QUEUED');
      expect((await stack.scanEnded(ran.data.startScan.scans[0].id)).status).toBe('PARTIAL');
      expect(JSON.stringify(ran)).not.toContain('alice');
      for (const [query, field] of [
        ['mutation { startScan { scans { id errors { userName accessKeyId message } } } }', 'Scan.errors'],
        ['mutation { startScan { scans { id accountId } } }', 'Scan.accountId'],
        ['mutation { startScan { scans { id counts { fail } } } }', 'Scan.counts'],
        ['mutation { startScan { scans { id opened } } }', 'Scan.opened'],
        ['mutation { startScan { scans { id findings { nodes { userName } } } } }', 'Scan.findings'],
        ['mutation { startScan { scans { id ... on Scan { iamUsers { totalCount } } } } }', 'Scan.iamUsers'],
        ['mutation { startScan { scans { id detailPruned } } }', 'Scan.detailPruned'],
        // Who asked names another caller when startScan hands back a scan someone else queued.
        ['mutation { startScan { scans { id requestedBy } } }', 'Scan.requestedBy'],
        ['mutation { startScan { skipped { accountId reason } } }', 'SkippedAccount.accountId'],
        ['mutation { startScan { scans { id ...Found } } } fragment Found on Scan { errors { userName } }', 'Scan.errors'],
      ] as const) {
        const scans = await stack.prisma.scan.count();
        const calls = stack.sandbox.calls().total;
        const res = await stack.gql(query, {}, scanner);
        expect({ query, status: res.status, code: res.errors?.[0]?.extensions?.code, data: res.data }).toEqual({ query, status: 403, code: 'FORBIDDEN', data: undefined });
        expect(res.errors![0].message).toBe(`this needs the findings:read scope to read ${field}; the token has scans:write. Nothing was done`);
        expect(JSON.stringify(res)).not.toContain('alice');
        expect(await stack.prisma.scan.count()).toBe(scans);
        expect(stack.sandbox.calls().total).toBe(calls);
      }
      // With findings:read as well, the same token sees it all.
      const both = await new TokensService(stack.prisma).create({ name: 'scan and read', scopes: ['scans:write', 'findings:read'], createdBy: 'test' });
      const full = await stack.gql('mutation { startScan { scans { id accountId counts { pass } errors { userName operation code } } } }', {}, both.token);
      expect(full.errors).toBeUndefined();
      expect(full.data.startScan.scans[0].accountId).toBe(ACCOUNT);
      await stack.scanEnded(full.data.startScan.scans[0].id);
      const read = await stack.gql('query($id: ID!) { scan(id: $id) { errors { userName operation code } } }', { id: full.data.startScan.scans[0].id }, both.token);
      expect(read.data.scan.errors).toContainEqual({ userName: 'alice', operation: 'ListAccessKeys', code: 'ACCESS_DENIED' });
    } finally {
      stack.sandbox.setFaults([]);
    }
  });

  it('a remediation:write token asking for an action\'s finding is FORBIDDEN before anything is done', async () => {
    const audit = await auditRows();
    const res = await stack.gql(
      `mutation { deactivateAccessKey(input: { accountId: "${ACCOUNT}", userName: "alice", accessKeyId: "${SETUP_KEY}", reason: "x", dryRun: true }) { action { id finding { id } } } }`,
      {},
      tokenFor['remediation:write']!.token,
    );
    expect(res.status).toBe(403);
    expect(res.errors?.[0]).toMatchObject({ extensions: { code: 'FORBIDDEN', requiredScopes: ['findings:read'] } });
    expect(await auditRows()).toBe(audit);
  });

  it('scopes add up: findings:read + remediation:write reads and remediates; admin implies every scope', async () => {
    const tokens = new TokensService(stack.prisma);
    const both = await tokens.create({ name: 'read and remediate', scopes: ['findings:read', 'remediation:write'], createdBy: 'test' });
    const res = await stack.gql(
      `mutation { reactivateAccessKey(input: { accountId: "${ACCOUNT}", userName: "alice", accessKeyId: "${SETUP_KEY}", reason: "backout", dryRun: true }) { action { status finding { id } } userErrors { code } } }`,
      {},
      both.token,
    );
    expect(res.errors).toBeUndefined();
    expect(res.data.reactivateAccessKey.action.status).toBe('DRY_RUN');
    const admin = await tokens.create({ name: 'admin', scopes: ['admin'], createdBy: 'test' });
    const read = await stack.gql('{ remediationActions(filter: { accessKeyId: "' + SETUP_KEY + '" }) { totalCount nodes { actor } } }', {}, admin.token);
    expect(read.errors).toBeUndefined();
    expect(read.data.remediationActions.nodes.map((n: any) => n.actor)).toContain(`token:read and remediate (${both.record.id})`);
  });
});
