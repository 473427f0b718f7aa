import type { FixtureInput } from '../../src/sandbox/fixture';
import { startStack, TEST_ADMIN_TOKEN, type Stack } from '../support/stack';

/**
 * Review of issue #10 (exports, webhooks, Security Hub push). Each test here FAILS on main: it reproduces a defect.
 */
const ACCOUNT = '727272727272';
const REGION = 'eu-west-1';
const K1 = 'AKIAREVIEWSHUBKEY001';
const K2 = 'AKIAREVIEWSHUBKEY002';
const K3 = 'AKIAREVIEWSHUBKEY003';

const FIXTURE: FixtureInput = {
  accountId: ACCOUNT,
  accountCreatedAt: 'now-900d',
  users: [K1, K2, K3].map((accessKeyId, i) => ({
    userName: `svc-${i + 1}`, createdAt: 'now-400d', loginProfile: { createdAt: 'now-400d' },
    accessKeys: [{ accessKeyId, status: 'Active' as const, createdAt: 'now-400d+30s' }],
  })),
};

const keyOf = (f: Record<string, any>): string => f.Resources.find((r: any) => r.Type === 'AwsIamAccessKey')?.Id;
const view = (f: Record<string, any>) => [keyOf(f), f.RecordState, f.Workflow.Status, f.Compliance.Status];

describe('review #10: Security Hub push and exports', () => {
  let stack: Stack;
  let base: string;
  beforeAll(async () => {
    stack = await startStack(FIXTURE, { securityHub: { region: REGION } });
    base = stack.server.url.replace(/\/graphql$/, '');
  });
  afterAll(async () => {
    await stack?.close();
  });

  const securityHub = () => stack.sandbox.securityHub(ACCOUNT);
  const findingIdOf = async (key: string) => (await stack.prisma.finding.findFirstOrThrow({ where: { accessKeyId: key } })).identity;

  it('an excepted finding whose key is then deactivated (the check now PASSes) leaves Security Hub with an ACTIVE, FAILED, SUPPRESSED finding for ever', async () => {
    await stack.scan();
    await stack.securityHub!.push(ACCOUNT);
    expect(view(securityHub().get(await findingIdOf(K1))!)).toEqual([K1, 'ACTIVE', 'NEW', 'FAILED']);

    const created = await stack.gql('mutation($i: CreateExceptionInput!) { createException(input: $i) { exception { id } userErrors { code message } } }', {
      i: { accountId: ACCOUNT, userName: 'svc-1', accessKeyId: K1, justification: 'break-glass key', expiresAt: new Date(Date.now() + 86_400_000).toISOString() },
    });
    expect(created.data.createException.userErrors).toEqual([]);
    await stack.securityHub!.push(ACCOUNT);
    expect(view(securityHub().get(await findingIdOf(K1))!)).toEqual([K1, 'ACTIVE', 'SUPPRESSED', 'FAILED']);

    // The owner deactivates the key: the check passes now (Keywarden itself says PASS).
    stack.sandbox.state.setKeyStatus(K1, 'Inactive');
    await stack.scan();
    const res = await fetch(`${base}/exports/findings?format=jsonl&accountIds=${ACCOUNT}`, { headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` } });
    const records = (await res.text()).trim().split('\n').map((l) => JSON.parse(l));
    const k1 = records.find((r) => r.accessKey?.id === K1);
    expect(k1.status).toBe('PASS');

    await stack.securityHub!.push(ACCOUNT);
    // A finding that passes is not "excepted" any more: Security Hub must not keep it ACTIVE and FAILED.
    expect(view(securityHub().get(await findingIdOf(K1))!)).toEqual([K1, 'ARCHIVED', 'RESOLVED', 'PASSED']);
  });
  it('an unexcepted finding whose import Security Hub refused once stays SUPPRESSED after the retry imports it (the NEW workflow update is never retried)', async () => {
    const created = await stack.gql('mutation($i: CreateExceptionInput!) { createException(input: $i) { exception { id } userErrors { code message } } }', {
      i: { accountId: ACCOUNT, userName: 'svc-2', accessKeyId: K2, justification: 'temporary', expiresAt: new Date(Date.now() + 86_400_000).toISOString() },
    });
    expect(created.data.createException.userErrors).toEqual([]);
    await stack.securityHub!.push(ACCOUNT);
    const id = await findingIdOf(K2);
    expect(view(securityHub().get(id)!)).toEqual([K2, 'ACTIVE', 'SUPPRESSED', 'FAILED']);

    const revoked = await stack.gql('mutation($i: RevokeExceptionInput!) { revokeException(input: $i) { userErrors { code message } } }', { i: { id: created.data.createException.exception.id } });
    expect(revoked.data.revokeException.userErrors).toEqual([]);
    await stack.scan();
    // Security Hub refuses this finding for the whole of one push (first try and its 3 retries): it is kept pending.
    securityHub().refuseFindings([id], 4, 'InvalidInput', 'transient refusal');
    const first = await stack.securityHub!.push(ACCOUNT);
    expect(first.failed.map((f) => f.id)).toEqual([id]);
    // The next push sends the pending finding, and Security Hub accepts it.
    const second = await stack.securityHub!.push(ACCOUNT);
    expect(second).toMatchObject({ imported: 1, failed: [] });
    // The exception is gone and the key still fails: the finding must be NEW again, as it is without the refusal.
    expect(view(securityHub().get(id)!)).toEqual([K2, 'ACTIVE', 'NEW', 'FAILED']);
  });
  it('`securityhub push --all` moves the cursor past a deleted key\'s resolution without sending it: Security Hub keeps that finding ACTIVE and FAILED for ever', async () => {
    await stack.scan();
    await stack.securityHub!.push(ACCOUNT);
    const id = await findingIdOf(K3);
    expect(view(securityHub().get(id)!)).toEqual([K3, 'ACTIVE', 'NEW', 'FAILED']);

    // The owner deletes the key: the next scan resolves its finding (KEY_DELETED).
    expect(stack.sandbox.state.deleteAccessKey(K3)).toBe(true);
    await stack.scan();
    const row = await stack.prisma.finding.findFirstOrThrow({ where: { accessKeyId: K3 } });
    expect(row.state).toBe('RESOLVED');

    // An operator re-sends everything on demand, before the worker's own push ran.
    await stack.securityHub!.push(ACCOUNT, { all: true });
    // Then the regular push: nothing changed since, as far as its cursor knows.
    await stack.securityHub!.push(ACCOUNT);
    // As the regular push alone files it: the resolved finding ARCHIVED.
    expect(view(securityHub().get(id)!).slice(0, 3)).toEqual([K3, 'ARCHIVED', 'RESOLVED']);
  });
});
