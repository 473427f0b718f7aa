import { randomBytes } from 'node:crypto';
import { TokensService } from '../../src/auth/tokens.service';
import type { FixtureInput, FixtureUserInput } from '../../src/sandbox/fixture';
import { startStack, type Stack } from '../support/stack';

/**
 * Issue #13 items 5 and 7: idempotency keys belong to the caller that sent them, every refusal is audited,
 * and a key is validated (at most 200 characters) on every mutation that takes one.
 */
const ACCOUNT = '575757575757';
const KEY_A = 'AKIAIDEMPOTENCYKEY01';
const KEY_B = 'AKIAIDEMPOTENCYKEY02';
const consoleUser = (userName: string, accessKeyId: string): FixtureUserInput => ({
  userName, createdAt: 'now-400d', loginProfile: { createdAt: 'now-400d' }, accessKeys: [{ accessKeyId, status: 'Active', createdAt: 'now-400d+30s' }],
});
const FIXTURE: FixtureInput = { accountId: ACCOUNT, accountCreatedAt: 'now-900d', users: [consoleUser('alice', KEY_A), consoleUser('bob', KEY_B)] };

const DEACTIVATE = `mutation($input: AccessKeyActionInput!) { deactivateAccessKey(input: $input) {
  action { id status actor idempotencyKey errorCode } userErrors { code field message } } }`;
const BULK = `mutation($input: RemediateFindingsInput!) { remediateFindings(input: $input) {
  results { findingId action { id status actor idempotencyKey } userErrors { code field } } userErrors { code field message } } }`;

describe('idempotency keys', () => {
  let stack: Stack;
  let a: { token: string; actor: string };
  let b: { token: string; actor: string };

  beforeAll(async () => {
    stack = await startStack(FIXTURE);
    expect((await stack.scan()).status).toBe('COMPLETED');
    const tokens = new TokensService(stack.prisma);
    const make = async (name: string) => {
      const { token, record } = await tokens.create({ name, scopes: ['remediation:write'], createdBy: 'test' });
      return { token, actor: `token:${name} (${record.id})` };
    };
    [a, b] = [await make('grc-a'), await make('soar-b')];
  });
  afterAll(() => stack.close());

  const deactivate = (token: string, input: Record<string, unknown>) =>
    stack.gql(DEACTIVATE, { input: { accountId: ACCOUNT, reason: 'CIS 1.11', dryRun: true, ...input } }, token).then((r) => {
      expect(r.errors).toBeUndefined();
      return r.data.deactivateAccessKey;
    });
  const auditRows = (where: Record<string, unknown> = {}) => stack.prisma.remediationAction.count({ where });

  describe('are scoped to the caller (item 5)', () => {
    it('B sending A\'s key with the same input gets an answer of its own (actor B, its own audit row), not A\'s action', async () => {
      const input = { userName: 'alice', accessKeyId: KEY_A, idempotencyKey: 'TICKET-1001' };
      const first = await deactivate(a.token, input);
      expect(first.action).toMatchObject({ status: 'DRY_RUN', actor: a.actor });
      const rows = await auditRows();
      const other = await deactivate(b.token, input);
      expect(other.userErrors).toEqual([]);
      expect(other.action).toMatchObject({ status: 'DRY_RUN', actor: b.actor, idempotencyKey: 'TICKET-1001' });
      expect(other.action.id).not.toBe(first.action.id);
      expect(await auditRows()).toBe(rows + 1);
      // A's own replay still answers A's first action, with no new row.
      expect(await deactivate(a.token, input)).toEqual(first);
      expect(await auditRows()).toBe(rows + 1);
    });

    it('B sending A\'s key with another input is not refused: the key is B\'s own', async () => {
      await deactivate(a.token, { userName: 'alice', accessKeyId: KEY_A, idempotencyKey: 'TICKET-1500' });
      const other = await deactivate(b.token, { userName: 'bob', accessKeyId: KEY_B, idempotencyKey: 'TICKET-1500' });
      expect(other.userErrors).toEqual([]);
      expect(other.action).toMatchObject({ status: 'DRY_RUN', actor: b.actor });
    });

    it('a key B reserved first (a predictable ticket number) does not block A', async () => {
      await deactivate(b.token, { userName: 'bob', accessKeyId: KEY_B, idempotencyKey: 'TICKET-2002' });
      const real = await deactivate(a.token, { userName: 'alice', accessKeyId: KEY_A, idempotencyKey: 'TICKET-2002', dryRun: false });
      expect(real.userErrors).toEqual([]);
      expect(real.action).toMatchObject({ status: 'SUCCEEDED', actor: a.actor });
      expect(stack.sandbox.state.findAccessKey(KEY_A)?.key.status).toBe('Inactive');
    });
  });

  describe('every refusal is audited (item 5)', () => {
    it('a reused key with another input is IDEMPOTENCY_KEY_REUSED and leaves a REFUSED audit row naming the caller and the key', async () => {
      await deactivate(a.token, { userName: 'bob', accessKeyId: KEY_B, idempotencyKey: 'TICKET-3003' });
      const rows = await auditRows({ errorCode: 'IDEMPOTENCY_KEY_REUSED' });
      const reused = await deactivate(a.token, { userName: 'alice', accessKeyId: KEY_A, idempotencyKey: 'TICKET-3003' });
      expect(reused.userErrors).toEqual([expect.objectContaining({ code: 'IDEMPOTENCY_KEY_REUSED', field: 'idempotencyKey' })]);
      expect(reused.action).toMatchObject({ status: 'REFUSED', actor: a.actor, idempotencyKey: 'TICKET-3003', errorCode: 'IDEMPOTENCY_KEY_REUSED' });
      expect(await auditRows({ errorCode: 'IDEMPOTENCY_KEY_REUSED' })).toBe(rows + 1);
      const row = await stack.prisma.remediationAction.findFirstOrThrow({ where: { errorCode: 'IDEMPOTENCY_KEY_REUSED', actor: a.actor }, orderBy: { createdAt: 'desc' } });
      expect(row).toMatchObject({ status: 'REFUSED', userName: 'alice', accessKeyId: KEY_A, idempotencyKey: 'TICKET-3003' });
    });

    it('remediateFindings: a reused key with other findings is refused as a whole and audited', async () => {
      const ids: string[] = (await stack.gql('{ findings(filter: { state: [OPEN, RESOLVED, NEVER_FAILED] }) { nodes { id accessKeyId } } }')).data.findings.nodes.map((n: any) => n.id);
      const first = await stack.gql(BULK, { input: { findingIds: ids.slice(0, 1), action: 'DEACTIVATE', reason: 'sweep', dryRun: true, idempotencyKey: 'SWEEP-4004' } }, a.token);
      expect(first.data.remediateFindings.userErrors).toEqual([]);
      const refusals = { errorCode: 'IDEMPOTENCY_KEY_REUSED', actor: a.actor, idempotencyKey: 'SWEEP-4004', status: 'REFUSED' };
      const rows = await auditRows(refusals);
      const reused = await stack.gql(BULK, { input: { findingIds: ids, action: 'DEACTIVATE', reason: 'sweep', dryRun: true, idempotencyKey: 'SWEEP-4004' } }, a.token);
      expect(reused.data.remediateFindings).toEqual({ results: [], userErrors: [expect.objectContaining({ code: 'IDEMPOTENCY_KEY_REUSED', field: 'idempotencyKey' })] });
      expect(await auditRows(refusals)).toBe(rows + 1);
    });
  });

  describe('are validated on every mutation that takes one (item 7)', () => {
    const findingIds = async () => (await stack.gql('{ findings(filter: { state: [OPEN] }) { nodes { id } } }')).data.findings.nodes.map((n: any) => n.id) as string[];

    it('remediateFindings with an 8,000-character key is INVALID_INPUT on idempotencyKey, audited, and reaches neither IAM nor the key store', async () => {
      const key = randomBytes(6000).toString('base64'); // 8,000 characters that do not compress below the btree limit
      const [audit, records, iam] = [await auditRows({ actor: a.actor, status: 'REFUSED' }), await stack.prisma.idempotencyRecord.count(), stack.sandbox.calls().total];
      const res = await stack.gql(BULK, { input: { findingIds: await findingIds(), action: 'DEACTIVATE', reason: 'sweep', dryRun: true, idempotencyKey: key } }, a.token);
      expect(res.errors).toBeUndefined();
      expect(res.data.remediateFindings).toEqual({ results: [], userErrors: [expect.objectContaining({ code: 'INVALID_INPUT', field: 'idempotencyKey', message: 'idempotencyKey must be 1-200 characters' })] });
      expect(await auditRows({ actor: a.actor, status: 'REFUSED' })).toBe(audit + 1);
      expect(await stack.prisma.idempotencyRecord.count()).toBe(records);
      expect(stack.sandbox.calls().total).toBe(iam);
    });

    it('a 200-character key works for every finding of the bulk (each derives <key>/<finding id>); 201 characters are refused', async () => {
      const ids = await findingIds();
      expect(ids.length).toBeGreaterThan(0);
      const ok = await stack.gql(BULK, { input: { findingIds: ids, action: 'DEACTIVATE', reason: 'sweep', dryRun: true, idempotencyKey: 'k'.repeat(200) } }, a.token);
      expect(ok.data.remediateFindings.userErrors).toEqual([]);
      expect(ok.data.remediateFindings.results.map((r: any) => [r.userErrors, r.action.status])).toEqual(ids.map(() => [[], 'DRY_RUN']));
      const over = await stack.gql(BULK, { input: { findingIds: ids, action: 'DEACTIVATE', reason: 'sweep', dryRun: true, idempotencyKey: 'k'.repeat(201) } }, a.token);
      expect(over.data.remediateFindings.userErrors).toEqual([expect.objectContaining({ code: 'INVALID_INPUT', field: 'idempotencyKey' })]);
    });
  });
});
