import { createScanService } from '../../src/app';
import { DEFAULT_CONTROL_SETTINGS } from '../../src/controls/no-access-keys-at-setup/control';
import type { FixtureInput, FixtureUserInput } from '../../src/sandbox/fixture';
import { AccountGuard } from '../../src/services/account-guard';
import { AccountsService } from '../../src/services/accounts.service';
import { RemediationService } from '../../src/services/remediation.service';
import { startStack, type Stack } from '../support/stack';

/**
 * Remediation through the HTTP endpoint, against the IAM sandbox and real PostgreSQL: acts on exactly
 * the key named, re-checks live state first, dry-runs, is idempotent, audited, and has a backout.
 */
const ACCOUNT = '555566667777';
const SETUP = 'AKIAALICESETUP000001';
const USED = 'AKIABOBUSEDYESTERDAY';

const console_ = (userName: string, accessKeys: FixtureUserInput['accessKeys']): FixtureUserInput => ({
  userName, createdAt: 'now-400d', loginProfile: { createdAt: 'now-400d' }, accessKeys,
});

const FIXTURE: FixtureInput = {
  accountId: ACCOUNT,
  accountCreatedAt: 'now-900d',
  users: [
    console_('alice', [{ accessKeyId: SETUP, status: 'Active', createdAt: 'now-400d+30s' }]),
    console_('bob', [{ accessKeyId: USED, status: 'Active', createdAt: 'now-400d+10s', lastUsed: { date: 'now-1d', serviceName: 'ec2', region: 'eu-west-1' } }]),
    console_('carol', [{ accessKeyId: 'AKIACAROLSETUP000001', status: 'Active', createdAt: 'now-400d+5s' }]),
    console_('gone', [{ accessKeyId: 'AKIAGONEBEHINDBACK01', status: 'Active', createdAt: 'now-400d+5s' }]),
  ],
};

const ACTION = `action { id kind status actor accountId userName accessKeyId reason dryRun force idempotencyKey plan
  stateBefore { found status lastUsedAt lastUsedService lastUsedRegion } stateAfter { found status } iamRequestId errorCode errorMessage createdAt completedAt }
  userErrors { code field message }`;

const mutate = (stack: Stack, name: string, input: Record<string, unknown>) =>
  stack.gql(`mutation($input: AccessKeyActionInput!) { ${name}(input: $input) { ${ACTION} } }`, { input }).then((r: any) => {
    expect(r.errors).toBeUndefined();
    return r.data[name];
  });

const keyInput = (userName: string, accessKeyId: string, extra: Record<string, unknown> = {}) => ({
  accountId: ACCOUNT, userName, accessKeyId, reason: 'CIS: key created at initial setup', ...extra,
});

const writes = (stack: Stack) => {
  const c = stack.sandbox.calls().byOperation;
  return (c.UpdateAccessKey ?? 0) + (c.DeleteAccessKey ?? 0);
};

const keyStatus = (stack: Stack, accessKeyId: string) => stack.sandbox.state.findAccessKey(accessKeyId)?.key.status ?? 'MISSING';

async function finding(stack: Stack, accessKeyId: string) {
  const res: any = await stack.gql(`{ findings(filter: { accountId: "${ACCOUNT}", state: [OPEN, RESOLVED, NEVER_FAILED] }, first: 100) { nodes { id accessKeyId status state resolution reopenCount exception { id } } } }`);
  expect(res.errors).toBeUndefined();
  return res.data.findings.nodes.find((n: any) => n.accessKeyId === accessKeyId);
}

describe('remediation mutations', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack(FIXTURE);
    expect((await stack.scan()).status).toBe('COMPLETED');
  });
  afterAll(() => stack.close());

  it('dry run: reports the plan from live state and writes nothing to IAM', async () => {
    const before = writes(stack);
    const p = await mutate(stack, 'deactivateAccessKey', keyInput('alice', SETUP, { dryRun: true }));
    expect(p.userErrors).toEqual([]);
    expect(p.action).toMatchObject({ status: 'DRY_RUN', dryRun: true, stateBefore: { found: 'OWN', status: 'ACTIVE' } });
    expect(p.action.plan).toMatch(/would set Inactive AKIAALICESETUP000001 of alice/);
    expect(writes(stack)).toBe(before);
    expect(keyStatus(stack, SETUP)).toBe('Active');
  });

  it('deactivate: the key goes Inactive in IAM, the finding resolves as REMEDIATED, the audit row is complete', async () => {
    const { id } = await finding(stack, SETUP);
    const p = await mutate(stack, 'deactivateAccessKey', keyInput('alice', SETUP, { idempotencyKey: 'deactivate-alice-1' }));
    expect(p.userErrors).toEqual([]);
    expect(keyStatus(stack, SETUP)).toBe('Inactive');
    expect(p.action).toMatchObject({
      kind: 'DEACTIVATE', status: 'SUCCEEDED', actor: 'bootstrap:KEYWARDEN_BOOTSTRAP_TOKEN (bootstrap)', accountId: ACCOUNT, userName: 'alice', accessKeyId: SETUP,
      reason: 'CIS: key created at initial setup', dryRun: false, idempotencyKey: 'deactivate-alice-1',
      stateBefore: { found: 'OWN', status: 'ACTIVE' }, stateAfter: { found: 'OWN', status: 'INACTIVE' }, errorCode: null,
    });
    expect(p.action.iamRequestId).toMatch(/\S/);
    expect(p.action.completedAt).not.toBeNull();
    expect(await finding(stack, SETUP)).toMatchObject({ id, status: 'PASS', state: 'RESOLVED', resolution: 'REMEDIATED' });
  });

  it('replaying the idempotency key returns the same payload with no second write; another input under it is refused', async () => {
    const first = await mutate(stack, 'deactivateAccessKey', keyInput('alice', SETUP, { idempotencyKey: 'deactivate-alice-1' }));
    const before = writes(stack);
    const replay = await mutate(stack, 'deactivateAccessKey', keyInput('alice', SETUP, { idempotencyKey: 'deactivate-alice-1' }));
    expect(replay).toEqual(first);
    expect(writes(stack)).toBe(before);
    const other = await mutate(stack, 'deactivateAccessKey', keyInput('carol', 'AKIACAROLSETUP000001', { idempotencyKey: 'deactivate-alice-1' }));
    expect(other.userErrors).toEqual([expect.objectContaining({ code: 'IDEMPOTENCY_KEY_REUSED', field: ['input', 'idempotencyKey'] })]);
    expect(keyStatus(stack, 'AKIACAROLSETUP000001')).toBe('Active');
  });

  it('already in the target state: succeeds without writing', async () => {
    const before = writes(stack);
    const p = await mutate(stack, 'deactivateAccessKey', keyInput('alice', SETUP));
    expect(p.action.status).toBe('NO_CHANGE');
    expect(p.userErrors).toEqual([]);
    expect(writes(stack)).toBe(before);
  });

  it('reactivate (the backout): the key is Active again and the same finding reopens', async () => {
    const { id } = await finding(stack, SETUP);
    const p = await mutate(stack, 'reactivateAccessKey', keyInput('alice', SETUP, { reason: 'backout: the nightly export broke' }));
    expect(p.action).toMatchObject({ kind: 'REACTIVATE', status: 'SUCCEEDED', stateAfter: { status: 'ACTIVE' } });
    expect(keyStatus(stack, SETUP)).toBe('Active');
    expect(await finding(stack, SETUP)).toMatchObject({ id, status: 'FAIL', state: 'OPEN', reopenCount: 1, resolution: null });
  });

  it('refuses to delete an Active key without force, and a key used yesterday without force', async () => {
    const before = writes(stack);
    const active = await mutate(stack, 'deleteAccessKey', keyInput('alice', SETUP, { idempotencyKey: 'delete-alice-1' }));
    expect(active.userErrors).toEqual([expect.objectContaining({ code: 'KEY_ACTIVE', field: ['input', 'force'] })]);
    expect(active.action.status).toBe('REFUSED');
    const used = await mutate(stack, 'deactivateAccessKey', keyInput('bob', USED));
    expect(used.userErrors).toEqual([expect.objectContaining({ code: 'KEY_RECENTLY_USED', field: ['input', 'force'] })]);
    expect(used.userErrors[0].message).toMatch(/by ec2 in eu-west-1/);
    expect(used.action.stateBefore).toMatchObject({ lastUsedService: 'ec2', lastUsedRegion: 'eu-west-1' });
    expect(writes(stack)).toBe(before);
    expect(keyStatus(stack, USED)).toBe('Active');
    const forced = await mutate(stack, 'deactivateAccessKey', keyInput('bob', USED, { force: true }));
    expect(forced.action).toMatchObject({ status: 'SUCCEEDED', force: true });
  });

  it('refuses a key deleted behind Keywarden\'s back, a key of another user, and the root account', async () => {
    stack.sandbox.state.deleteAccessKey('AKIAGONEBEHINDBACK01');
    const before = writes(stack);
    const gone = await mutate(stack, 'deactivateAccessKey', keyInput('gone', 'AKIAGONEBEHINDBACK01'));
    expect(gone.userErrors).toEqual([expect.objectContaining({ code: 'KEY_NOT_FOUND', field: ['input', 'accessKeyId'] })]);
    const other = await mutate(stack, 'deactivateAccessKey', keyInput('alice', 'AKIACAROLSETUP000001'));
    expect(other.userErrors).toEqual([expect.objectContaining({ code: 'KEY_BELONGS_TO_OTHER_USER' })]);
    expect(other.userErrors[0].message).toMatch(/belongs to carol/);
    const root = await mutate(stack, 'deactivateAccessKey', keyInput('<root_account>', SETUP));
    expect(root.userErrors).toEqual([expect.objectContaining({ code: 'ROOT_NOT_ALLOWED', field: ['input', 'userName'] })]);
    // An account Keywarden does not know (issue #9: before it, the credentials' proof answered ACCOUNT_MISMATCH).
    const otherAccount = await mutate(stack, 'deactivateAccessKey', { ...keyInput('alice', SETUP), accountId: '999999999999' });
    expect(otherAccount.userErrors).toEqual([expect.objectContaining({ code: 'UNKNOWN_ACCOUNT', field: ['input', 'accountId'] })]);
    expect(writes(stack)).toBe(before);
    expect(keyStatus(stack, 'AKIACAROLSETUP000001')).toBe('Active');
  });

  it('bad input gives userErrors with a code and the field, writes nothing to IAM, and is audited', async () => {
    const before = writes(stack);
    const auditBefore = await stack.prisma.remediationAction.count();
    const cases: [Record<string, unknown>, string, string][] = [
      [keyInput('alice', 'not-a-key'), 'INVALID_INPUT', 'accessKeyId'],
      [keyInput('alice', SETUP, { reason: '   ' }), 'INVALID_INPUT', 'reason'],
      [{ ...keyInput('alice', SETUP), accountId: '12' }, 'INVALID_INPUT', 'accountId'],
    ];
    for (const [input, code, field] of cases) {
      const p = await mutate(stack, 'deactivateAccessKey', input);
      expect(p.userErrors[0]).toMatchObject({ code, field: ['input', field] });
      expect(p.action.status).toBe('REFUSED');
    }
    const noKey = await mutate(stack, 'deleteAccessKey', keyInput('alice', SETUP, { force: true }));
    expect(noKey.userErrors[0]).toMatchObject({ code: 'IDEMPOTENCY_KEY_REQUIRED', field: ['input', 'idempotencyKey'] });
    expect(writes(stack)).toBe(before);
    expect(await stack.prisma.remediationAction.count()).toBe(auditBefore + cases.length + 1);
  });

  it('lists the audit trail, and finds one action by id', async () => {
    const res: any = await stack.gql(`{ remediationActions(filter: { accessKeyId: "${SETUP}", status: [SUCCEEDED] }) { totalCount nodes { id kind status } } }`);
    expect(res.data.remediationActions.nodes.map((n: any) => n.kind)).toEqual(['REACTIVATE', 'DEACTIVATE']);
    const one: any = await stack.gql(`query($id: ID!) { remediationAction(id: $id) { kind accessKeyId } node(id: $id) { __typename } }`, { id: res.data.remediationActions.nodes[0].id });
    expect(one.data).toEqual({ remediationAction: { kind: 'REACTIVATE', accessKeyId: SETUP }, node: { __typename: 'RemediationAction' } });
  });

  it('20 concurrent deactivations of one key make one IAM write', async () => {
    const before = stack.sandbox.calls().byOperation.UpdateAccessKey ?? 0;
    const results = await Promise.all(Array.from({ length: 20 }, () => mutate(stack, 'deactivateAccessKey', keyInput('carol', 'AKIACAROLSETUP000001'))));
    expect((stack.sandbox.calls().byOperation.UpdateAccessKey ?? 0) - before).toBe(1);
    expect(results.map((r) => r.action.status).sort()).toEqual(['SUCCEEDED', ...Array(19).fill('NO_CHANGE')].sort());
    expect(keyStatus(stack, 'AKIACAROLSETUP000001')).toBe('Inactive');
  });

  it('an approved exception turns the finding EXCEPTED until revoked, then it reopens', async () => {
    const expiresAt = new Date(Date.now() + 30 * 86_400_000).toISOString();
    const created: any = await stack.gql(`mutation($input: CreateExceptionInput!) { createException(input: $input) { exception { id active createdBy } userErrors { code field } } }`, {
      input: { accountId: ACCOUNT, userName: 'alice', accessKeyId: SETUP, justification: 'vendor integration needs this key until Q3', expiresAt },
    });
    expect(created.data.createException.userErrors).toEqual([]);
    const exception = created.data.createException.exception;
    expect(exception).toMatchObject({ active: true, createdBy: 'bootstrap:KEYWARDEN_BOOTSTRAP_TOKEN (bootstrap)' });
    expect(await finding(stack, SETUP)).toMatchObject({ status: 'EXCEPTED', state: 'RESOLVED', resolution: 'EXCEPTED', exception: { id: exception.id } });
    const listed: any = await stack.gql(`{ exceptions(filter: { accountId: "${ACCOUNT}", active: true }) { totalCount nodes { id } } }`);
    expect(listed.data.exceptions.nodes).toEqual([{ id: exception.id }]);

    const past: any = await stack.gql(`mutation($input: CreateExceptionInput!) { createException(input: $input) { exception { id } userErrors { code field message } } }`, {
      input: { accountId: ACCOUNT, userName: 'alice', justification: 'x', expiresAt: '2020-01-01T00:00:00Z' },
    });
    expect(past.data.createException).toMatchObject({ exception: null, userErrors: [{ code: 'INVALID_INPUT', field: ['input', 'expiresAt'] }] });

    const revoked: any = await stack.gql(`mutation($input: RevokeExceptionInput!) { revokeException(input: $input) { exception { active revokedBy } userErrors { code } } }`, { input: { id: exception.id } });
    expect(revoked.data.revokeException).toEqual({ exception: { active: false, revokedBy: 'bootstrap:KEYWARDEN_BOOTSTRAP_TOKEN (bootstrap)' }, userErrors: [] });
    expect(await finding(stack, SETUP)).toMatchObject({ status: 'FAIL', state: 'OPEN', exception: null });
  });
});

describe('remediateFindings (bulk)', () => {
  const many: FixtureUserInput[] = Array.from({ length: 500 }, (_, i) => console_(`user-${String(i).padStart(3, '0')}`, [{ status: 'Active', createdAt: 'now-400d+20s' }]));
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ accountId: ACCOUNT, accountCreatedAt: 'now-900d', users: many });
    await stack.scan();
  });
  afterAll(() => stack.close());

  const BULK = `mutation($input: RemediateFindingsInput!) { remediateFindings(input: $input) { results { findingId action { status accessKeyId } userErrors { code field message } } userErrors { code field message } } }`;

  async function failingIds(): Promise<string[]> {
    const ids: string[] = [];
    let after: string | null = null;
    for (;;) {
      const res: any = await stack.gql(`query($after: String) { findings(filter: { status: [FAIL] }, first: 100, after: $after) { nodes { id } pageInfo { hasNextPage endCursor } } }`, { after });
      ids.push(...res.data.findings.nodes.map((n: any) => n.id));
      if (!res.data.findings.pageInfo.hasNextPage) return ids;
      after = res.data.findings.pageInfo.endCursor;
    }
  }

  it('refuses more than 500 findings, an empty reason and a missing idempotency key as a whole, writing nothing', async () => {
    const ids = await failingIds();
    const tooMany: any = await stack.gql(BULK, { input: { findingIds: [...ids, ...ids.slice(0, 1).map((x) => `${x}x`)], action: 'DEACTIVATE', reason: 'r', idempotencyKey: 'b0' } });
    expect(tooMany.data.remediateFindings).toEqual({ results: [], userErrors: [expect.objectContaining({ code: 'TOO_MANY_FINDINGS', field: ['input', 'findingIds'] })] });
    const noReason: any = await stack.gql(BULK, { input: { findingIds: ids.slice(0, 2), action: 'DEACTIVATE', reason: '', idempotencyKey: 'b1' } });
    expect(noReason.data.remediateFindings.userErrors[0]).toMatchObject({ code: 'INVALID_INPUT', field: ['input', 'reason'] });
    expect(stack.sandbox.calls().byOperation.UpdateAccessKey ?? 0).toBe(0);
  });

  it('deactivates 500 findings with a result per finding, and a replay changes nothing', async () => {
    const ids = await failingIds();
    expect(ids).toHaveLength(500);
    const res: any = await stack.gql(BULK, { input: { findingIds: ids, action: 'DEACTIVATE', reason: 'CIS 1.11 sweep', idempotencyKey: 'sweep-1' } });
    expect(res.errors).toBeUndefined();
    const results = res.data.remediateFindings.results;
    expect(results).toHaveLength(500);
    expect(results.map((r: any) => r.findingId)).toEqual(ids);
    expect(results.every((r: any) => r.action?.status === 'SUCCEEDED' && r.userErrors.length === 0)).toBe(true);
    expect(stack.sandbox.calls().byOperation.UpdateAccessKey).toBe(500);
    const open: any = await stack.gql(`{ findings(filter: { status: [FAIL] }) { totalCount } }`);
    expect(open.data.findings.totalCount).toBe(0);

    const replay: any = await stack.gql(BULK, { input: { findingIds: ids, action: 'DEACTIVATE', reason: 'CIS 1.11 sweep', idempotencyKey: 'sweep-1' } });
    expect(replay.data.remediateFindings).toEqual(res.data.remediateFindings);
    expect(stack.sandbox.calls().byOperation.UpdateAccessKey).toBe(500);
  }, 120_000); // 500 audited IAM writes and their re-checks: about 13 s on an idle 2-core machine, over 30 s while it is busy

  it('answers unknown and already-resolved findings per finding, with the field', async () => {
    const ids = await stack.gql(`{ findings(filter: { state: [RESOLVED], userName: "user-000" }) { nodes { id } } }`).then((r: any) => r.data.findings.nodes.map((n: any) => n.id));
    const res: any = await stack.gql(BULK, { input: { findingIds: [ids[0], 'bm9wZQ'], action: 'DEACTIVATE', reason: 'again', idempotencyKey: 'sweep-2' } });
    expect(res.data.remediateFindings.results.map((r: any) => r.userErrors[0])).toEqual([
      expect.objectContaining({ code: 'FINDING_ALREADY_RESOLVED', field: ['input', 'findingIds', '0'] }),
      expect.objectContaining({ code: 'FINDING_NOT_FOUND', field: ['input', 'findingIds', '1'] }),
    ]);
  });
});

describe('remediateFindings: one finding under several spellings of its id', () => {
  // Repeats were checked, and per-finding idempotency keys built, on the raw strings: a global id, its
  // raw UUID and the UUID in capitals were three findings (3 DRY_RUN actions; a real DEACTIVATE with five
  // spellings made 1 SUCCEEDED + 4 NO_CHANGE, five audit rows for one key and 18 IAM calls).
  let stack: Stack;
  let globalId: string;
  let uuid: string;
  beforeAll(async () => {
    stack = await startStack(FIXTURE);
    await stack.scan();
    globalId = (await finding(stack, SETUP)).id;
    const decoded = Buffer.from(globalId, 'base64url').toString('utf8');
    expect(decoded).toMatch(/^Finding:[0-9a-f-]{36}$/);
    uuid = decoded.slice('Finding:'.length);
  });
  afterAll(() => stack.close());

  const BULK = `mutation($input: RemediateFindingsInput!) { remediateFindings(input: $input) {
    results { findingId action { status accessKeyId idempotencyKey } userErrors { code field message } } userErrors { code field message } } }`;
  const spellings = () => [
    globalId,
    uuid,
    uuid.toUpperCase(),
    Buffer.from(`Finding:${uuid.toUpperCase()}`).toString('base64url'), // a global id of the UUID in capitals
    Buffer.from(`Finding:${uuid}`).toString('base64'), // standard base64, padded
  ];
  const bulk = (findingIds: string[], extra: Record<string, unknown>) =>
    stack.gql(BULK, { input: { findingIds, action: 'DEACTIVATE', reason: 'spellings', ...extra } }).then((r: any) => {
      expect(r.errors).toBeUndefined();
      return r.data.remediateFindings;
    });

  it('refuses a dry run naming one finding three ways, as a repeat; no action is planned', async () => {
    const before = await stack.prisma.remediationAction.count({ where: { status: { not: 'REFUSED' } } });
    const res = await bulk(spellings().slice(0, 3), { dryRun: true, idempotencyKey: 'spellings-dry' });
    expect(res).toEqual({ results: [], userErrors: [{ code: 'INVALID_INPUT', field: ['input', 'findingIds'], message: 'findingIds must not repeat a finding' }] });
    expect(await stack.prisma.remediationAction.count({ where: { status: { not: 'REFUSED' } } })).toBe(before);
  });

  it('refuses a real DEACTIVATE naming one finding five ways: no IAM call, the key untouched, one refusal audited', async () => {
    const calls = stack.sandbox.calls().total;
    const before = await stack.prisma.remediationAction.count();
    const res = await bulk(spellings(), { idempotencyKey: 'spellings-real' });
    expect(res.results).toEqual([]);
    expect(res.userErrors).toEqual([expect.objectContaining({ code: 'INVALID_INPUT', field: ['input', 'findingIds'] })]);
    expect(stack.sandbox.calls().total).toBe(calls);
    expect(keyStatus(stack, SETUP)).toBe('Active');
    expect(await stack.prisma.remediationAction.findMany({ orderBy: { createdAt: 'asc' }, skip: before })).toEqual([expect.objectContaining({ status: 'REFUSED' })]);
  });

  it('keys the finding\'s action by its local UUID, lower-case, whatever the spelling; a retry in another spelling replays', async () => {
    const first = await bulk([uuid.toUpperCase()], { idempotencyKey: 'spellings-one' });
    expect(first.userErrors).toEqual([]);
    expect(first.results).toEqual([{ findingId: uuid.toUpperCase(), action: { status: 'SUCCEEDED', accessKeyId: SETUP, idempotencyKey: `spellings-one/${uuid}` }, userErrors: [] }]);
    const writesAfterFirst = writes(stack);
    const retry = await bulk([globalId], { idempotencyKey: 'spellings-one' });
    expect(retry).toEqual({ results: [{ ...first.results[0], findingId: globalId }], userErrors: [] });
    expect(writes(stack)).toBe(writesAfterFirst);
    expect(await stack.prisma.remediationAction.count({ where: { accessKeyId: SETUP, idempotencyKey: { startsWith: 'spellings-' } } })).toBe(1);
  });
});

describe('a crash between the PENDING row and the IAM call', () => {
  let stack: Stack;
  let crash: 'before-write' | 'after-write' | null = null;
  beforeAll(async () => {
    stack = await startStack(FIXTURE, {
      afterPending: async () => {
        if (crash === 'after-write') stack.sandbox.state.setKeyStatus('AKIACAROLSETUP000001', 'Inactive');
        if (crash) throw new Error('simulated crash');
      },
    });
    await stack.scan();
  });
  afterAll(() => stack.close());

  it('is reconciled against live IAM state: not applied, or applied', async () => {
    crash = 'before-write';
    const r1: any = await stack.gql(`mutation($input: AccessKeyActionInput!) { deactivateAccessKey(input: $input) { action { id } } }`, { input: keyInput('alice', SETUP) });
    expect(r1.errors[0].extensions.code).toBe('INTERNAL_SERVER_ERROR');
    crash = 'after-write';
    await stack.gql(`mutation($input: AccessKeyActionInput!) { deactivateAccessKey(input: $input) { action { id } } }`, { input: keyInput('carol', 'AKIACAROLSETUP000001') });
    crash = null;
    expect(await stack.prisma.remediationAction.count({ where: { status: 'PENDING' } })).toBe(2);

    const service = new RemediationService({
      prisma: stack.prisma, guard: new AccountGuard(new AccountsService(stack.prisma, stack.aws)), scans: createScanService(stack.prisma, stack.iam),
      scanRequest: { collect: { mode: 'CREDENTIAL_REPORT' }, control: DEFAULT_CONTROL_SETTINGS }, recentUseDays: 7, findings: async () => [],
    });
    const settled = await service.reconcile(0);
    const byKey = Object.fromEntries(settled.map((a) => [a.accessKeyId, [a.status, a.errorCode]]));
    expect(byKey).toEqual({ [SETUP]: ['FAILED', 'INTERRUPTED'], AKIACAROLSETUP000001: ['SUCCEEDED', null] });
    expect(keyStatus(stack, SETUP)).toBe('Active');
    expect(await finding(stack, 'AKIACAROLSETUP000001')).toMatchObject({ state: 'RESOLVED', resolution: 'REMEDIATED' });
    expect(await stack.prisma.remediationAction.count({ where: { status: 'PENDING' } })).toBe(0);
  });
});
