import { BatchImportFindingsCommand, GetFindingsCommand, SecurityHubClient } from '@aws-sdk/client-securityhub';
import type { FixtureInput } from '../../src/sandbox/fixture';
import { startStack, TEST_ACCESS_KEY_ID, type Stack } from '../support/stack';

/**
 * Issue #10, "Push to AWS Security Hub": queued scans push what changed to the sandbox's Security Hub (REST-JSON,
 * the real @aws-sdk/client-securityhub over HTTP), which checks every finding against the shape derived from the
 * Security Hub service model. Real PostgreSQL, real pg-boss worker.
 */
const ACCOUNT = '626262626262';
const REGION = 'eu-west-1';
const KEYS = [1, 2, 3, 4, 5].map((n) => `AKIASHUBSETUPKEY000${n}`);
const [K1, K2, K3, K4, K5] = KEYS;

const FIXTURE: FixtureInput = {
  accountId: ACCOUNT,
  accountCreatedAt: 'now-900d',
  users: KEYS.map((accessKeyId, i) => ({
    userName: `user-${i + 1}`, createdAt: 'now-400d', loginProfile: { createdAt: 'now-400d' },
    // k1..k3 start inactive (PASS, never failed); k4 and k5 fail from the first scan.
    accessKeys: [{ accessKeyId, status: i < 3 ? ('Inactive' as const) : ('Active' as const), createdAt: 'now-400d+30s' }],
  })),
};

const keyOf = (f: Record<string, any>): string => f.Resources.find((r: any) => r.Type === 'AwsIamAccessKey')?.Id;
const view = (f: Record<string, any>) => [keyOf(f), f.RecordState, f.Workflow.Status, f.Compliance.Status];

describe('the Security Hub push', () => {
  let stack: Stack;
  let hub: SecurityHubClient;
  beforeAll(async () => {
    stack = await startStack(FIXTURE, { securityHub: { region: REGION } });
    hub = new SecurityHubClient({ region: REGION, endpoint: stack.sandbox.url, credentials: { accessKeyId: TEST_ACCESS_KEY_ID, secretAccessKey: 'test' }, maxAttempts: 1 });
  });
  afterAll(async () => {
    hub.destroy();
    await stack.close();
  });

  const securityHub = () => stack.sandbox.securityHub(ACCOUNT);
  const stored = () => securityHub().list().map(view).sort((a, b) => String(a[0]).localeCompare(String(b[0])));
  const findingIdOf = async (key: string) => (await stack.prisma.finding.findFirstOrThrow({ where: { accessKeyId: key } })).identity;

  /** Waits until no push job waits or runs and at least `completed` push jobs completed. */
  async function pushesSettled(completed: number, timeoutMs = 15_000): Promise<void> {
    for (const start = Date.now(); Date.now() - start < timeoutMs; await new Promise((r) => setTimeout(r, 100))) {
      const [row] = await stack.prisma.$queryRawUnsafe<{ busy: number; done: number }[]>(
        `SELECT count(*) FILTER (WHERE state IN ('created', 'retry', 'active'))::int AS busy, count(*) FILTER (WHERE state = 'completed')::int AS done
         FROM pgboss.job WHERE name = 'keywarden-securityhub-push'`,
      );
      if (row.busy === 0 && row.done >= completed) return;
    }
    throw new Error(`security hub pushes did not settle (${completed} completed) within ${timeoutMs} ms`);
  }

  async function queuedScan(): Promise<string> {
    const { scans } = await stack.fleet.jobs.enqueue({ requestedBy: 'securityhub test' });
    const scan = await stack.jobEnded(scans[0].id);
    return scan.status;
  }

  it('after a scan that opens 3 findings and resolves 2, Security Hub holds the 3 ACTIVE and FAILED and the 2 ARCHIVED and RESOLVED; pushing again imports nothing', async () => {
    expect(await queuedScan()).toBe('COMPLETED');
    await pushesSettled(1);
    expect(stored()).toEqual([
      [K4, 'ACTIVE', 'NEW', 'FAILED'],
      [K5, 'ACTIVE', 'NEW', 'FAILED'],
    ]);

    for (const k of [K1, K2, K3]) stack.sandbox.state.setKeyStatus(k, 'Active');
    for (const k of [K4, K5]) stack.sandbox.state.setKeyStatus(k, 'Inactive');
    const requestsBefore = securityHub().importLog.length;
    expect(await queuedScan()).toBe('COMPLETED');
    await pushesSettled(2);
    expect(stored()).toEqual([
      [K1, 'ACTIVE', 'NEW', 'FAILED'],
      [K2, 'ACTIVE', 'NEW', 'FAILED'],
      [K3, 'ACTIVE', 'NEW', 'FAILED'],
      [K4, 'ARCHIVED', 'RESOLVED', 'PASSED'],
      [K5, 'ARCHIVED', 'RESOLVED', 'PASSED'],
    ]);
    // That push sent exactly the 5 findings that changed, in one request, and the sandbox accepted them all.
    expect(securityHub().importLog.slice(requestsBefore).map((ids) => ids.length)).toEqual([5]);
    expect(stack.sandbox.calls(ACCOUNT).failedByOperation.BatchImportFindings).toBeUndefined();

    // Read back with the real SDK's GetFindings: the archived ones are the resolved keys.
    const archived = await hub.send(new GetFindingsCommand({ Filters: { RecordState: [{ Value: 'ARCHIVED', Comparison: 'EQUALS' }], AwsAccountId: [{ Value: ACCOUNT, Comparison: 'EQUALS' }] } }));
    expect(archived.Findings!.map((f) => keyOf(f as any)).sort()).toEqual([K4, K5]);
    expect(archived.Findings![0]).toMatchObject({ Region: REGION, ProductArn: `arn:aws:securityhub:${REGION}:${ACCOUNT}:product/${ACCOUNT}/default`, AwsAccountId: ACCOUNT });

    const calls = stack.sandbox.calls(ACCOUNT).byOperation.BatchImportFindings;
    const again = await stack.securityHub!.push(ACCOUNT);
    expect(again).toMatchObject({ imported: 0, requests: 0, failed: [] });
    expect(stack.sandbox.calls(ACCOUNT).byOperation.BatchImportFindings).toBe(calls);
  });

  it('only the findings Security Hub refused are sent again (bounded); one still refused is kept and sent by the next push', async () => {
    const k1 = await findingIdOf(K1);
    const k2 = await findingIdOf(K2);
    securityHub().refuseFindings([k1], 1, 'InvalidInput', 'transient refusal');
    // Four refusals: more than the push's three retries.
    securityHub().refuseFindings([k2], 4, 'InvalidInput', 'persistent refusal');
    const from = securityHub().importLog.length;
    const result = await stack.securityHub!.push(ACCOUNT, { all: true });
    const total = await stack.prisma.finding.count({ where: { accountId: ACCOUNT } });
    const log = securityHub().importLog.slice(from);
    // The whole batch once, then only the refused: k1 and k2, then k2 alone (k1 was accepted), twice more.
    expect(log.map((ids) => ids.length)).toEqual([total, 2, 1, 1]);
    expect(log.slice(1).map((ids) => ids.sort())).toEqual([[k1, k2].sort(), [k2], [k2]]);
    expect(result.failed).toEqual([{ id: k2, code: 'InvalidInput', message: 'persistent refusal' }]);
    expect(result.imported).toBe(total - 1);
    const pending = await stack.prisma.$queryRawUnsafe<{ finding_id: string; error_code: string }[]>(`SELECT f.identity AS finding_id, p.error_code FROM securityhub_pending p JOIN finding f ON f.id = p.finding_id`);
    expect(pending).toEqual([{ finding_id: k2, error_code: 'InvalidInput' }]);

    // Nothing changed since, but k2 is pending: the next push sends it alone, and it is accepted.
    const next = await stack.securityHub!.push(ACCOUNT);
    expect(next).toMatchObject({ imported: 1, requests: 1, failed: [] });
    expect(securityHub().importLog.at(-1)).toEqual([k2]);
    expect(await stack.prisma.$queryRawUnsafe(`SELECT * FROM securityhub_pending`)).toEqual([]);
    expect((await stack.securityHub!.push(ACCOUNT)).requests).toBe(0);
  });

  it('an exception shows SUPPRESSED (ACTIVE, still FAILED), set with BatchUpdateFindings; once revoked, NEW again', async () => {
    const created = await stack.gql('mutation($i: CreateExceptionInput!) { createException(input: $i) { exception { id } userErrors { code message } } }', {
      i: { accountId: ACCOUNT, userName: 'user-3', accessKeyId: K3, justification: 'break-glass key', expiresAt: new Date(Date.now() + 86_400_000).toISOString() },
    });
    expect(created.data.createException.userErrors).toEqual([]);
    const updates = stack.sandbox.calls(ACCOUNT).byOperation.BatchUpdateFindings ?? 0;
    const result = await stack.securityHub!.push(ACCOUNT);
    expect(result).toMatchObject({ imported: 1, failed: [], workflowUpdated: 1 });
    // Workflow is the customer's once the finding exists: the import alone leaves it NEW, the update suppresses it.
    expect(stack.sandbox.calls(ACCOUNT).byOperation.BatchUpdateFindings).toBe(updates + 1);
    expect(view(securityHub().get(await findingIdOf(K3))!)).toEqual([K3, 'ACTIVE', 'SUPPRESSED', 'FAILED']);

    const revoked = await stack.gql('mutation($i: RevokeExceptionInput!) { revokeException(input: $i) { userErrors { code message } } }', { i: { id: created.data.createException.exception.id } });
    expect(revoked.data.revokeException.userErrors).toEqual([]);
    await stack.scan();
    expect(await stack.securityHub!.push(ACCOUNT)).toMatchObject({ imported: 1, failed: [], workflowUpdated: 1 });
    expect(view(securityHub().get(await findingIdOf(K3))!)).toEqual([K3, 'ACTIVE', 'NEW', 'FAILED']);
  });

  it('--all re-sends every current finding, each updated in place', async () => {
    const total = await stack.prisma.finding.count({ where: { accountId: ACCOUNT } });
    const before = new Map([...securityHub().findings].map(([id, s]) => [id, s.imports]));
    const result = await stack.securityHub!.push(ACCOUNT, { all: true });
    expect(result).toMatchObject({ imported: total, failed: [], everything: true });
    expect(securityHub().findings.size).toBe(total);
    for (const [id, s] of securityHub().findings) expect(s.imports).toBe((before.get(id) ?? 0) + 1);
  });

  it('the sandbox refuses a finding that does not match the service model, or names another account, in FailedFindings', async () => {
    const good = securityHub().get(await findingIdOf(K1))! as any;
    const out = await hub.send(new BatchImportFindingsCommand({
      Findings: [
        { ...good, Id: 'too-long-title', Title: 'x'.repeat(257) },
        { ...good, Id: 'no-description', Description: undefined },
        { ...good, Id: 'other-account', AwsAccountId: '999999999999' },
        { ...good, Id: 'fine' },
      ],
    }));
    expect(out.SuccessCount).toBe(1);
    expect(out.FailedFindings!.map((f) => [f.Id, f.ErrorCode])).toEqual([
      ['too-long-title', 'InvalidInput'],
      ['no-description', 'InvalidInput'],
      ['other-account', 'AccessDeniedException'],
    ]);
    expect(out.FailedFindings![0].ErrorMessage).toMatch(/Title/);
    // A re-import updates in place but leaves Workflow alone (the customer's), as Security Hub does.
    expect(securityHub().get('fine')).toMatchObject({ Workflow: { Status: 'NEW' } });
    const later = new Date(Date.parse(good.UpdatedAt) + 1000).toISOString();
    await hub.send(new BatchImportFindingsCommand({ Findings: [{ ...good, Id: 'fine', UpdatedAt: later, Title: 'changed', Workflow: { Status: 'SUPPRESSED' } }] }));
    expect(securityHub().get('fine')).toMatchObject({ Title: 'changed', Workflow: { Status: 'NEW' } });
    securityHub().findings.delete('fine');
  });

  it('a Security Hub outage does not fail the scan; the push is retried and catches up', async () => {
    stack.sandbox.setFaults([{ service: 'securityhub', operation: 'BatchImportFindings', error: 'ServiceUnavailable' }]);
    stack.sandbox.state.setKeyStatus(K1, 'Inactive');
    const [{ cursor: before }] = await stack.prisma.$queryRawUnsafe<{ cursor: string }[]>(`SELECT cursor FROM securityhub_push WHERE account_id = $1`, ACCOUNT);
    expect(await queuedScan()).toBe('COMPLETED');
    // The push failed: its error is recorded and the cursor did not move.
    for (const start = Date.now(); Date.now() - start < 10_000; await new Promise((r) => setTimeout(r, 100))) {
      const [row] = await stack.prisma.$queryRawUnsafe<{ last_error: string | null }[]>(`SELECT last_error FROM securityhub_push WHERE account_id = $1`, ACCOUNT);
      if (row.last_error) break;
    }
    const [failed] = await stack.prisma.$queryRawUnsafe<{ cursor: string; last_error: string }[]>(`SELECT cursor, last_error FROM securityhub_push WHERE account_id = $1`, ACCOUNT);
    expect(failed.cursor).toBe(before);
    expect(failed.last_error).toMatch(/^Internal/);
    expect(view(securityHub().get(await findingIdOf(K1))!)).toEqual([K1, 'ACTIVE', 'NEW', 'FAILED']);

    stack.sandbox.setFaults([]);
    await pushesSettled(3, 20_000);
    expect(view(securityHub().get(await findingIdOf(K1))!)).toEqual([K1, 'ARCHIVED', 'RESOLVED', 'PASSED']);
    const [after] = await stack.prisma.$queryRawUnsafe<{ cursor: string; last_error: string | null }[]>(`SELECT cursor, last_error FROM securityhub_push WHERE account_id = $1`, ACCOUNT);
    expect(after.last_error).toBeNull();
    expect(after.cursor).not.toBe(before);
  });
});
