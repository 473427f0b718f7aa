import type { FixtureInput } from '../../src/sandbox/fixture';
import { startStack, type Stack } from '../support/stack';

/**
 * IAM reuses a credential report for up to four hours. What changed since it was generated must
 * still be seen: new users and new keys through the per-user API, key status from ListAccessKeys.
 */
const FIXTURE: FixtureInput = {
  accountId: '123412341234',
  accountCreatedAt: 'now-900d',
  credentialReport: { generationDelayMs: 0, generatedAt: 'now-3h' },
  users: [
    { userName: 'old-setup', createdAt: 'now-400d', loginProfile: { createdAt: 'now-400d' },
      accessKeys: [{ accessKeyId: 'AKIAOLDSETUP00000001', status: 'Active', createdAt: 'now-400d+5s' }] },
    { userName: 'gets-a-key', createdAt: 'now-200d', loginProfile: { createdAt: 'now-200d' },
      accessKeys: [{ accessKeyId: 'AKIAGETSAKEY00000000', status: 'Active', createdAt: 'now-100d', lastUsed: { date: 'now-5h', serviceName: 's3' } }] },
  ],
};

describe('a scan from a credential report generated before recent changes', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack(FIXTURE);
    // After the report: a new console user with a setup key, a new key for an existing user, and a deactivation.
    stack.sandbox.state.addUser({ userName: 'brand-new', createdAt: 'now-1h', loginProfile: { createdAt: 'now-1h' },
      accessKeys: [{ accessKeyId: 'AKIABRANDNEW00000001', status: 'Active', createdAt: 'now-1h+10s' }] });
    stack.sandbox.state.addAccessKey('gets-a-key', { accessKeyId: 'AKIAGETSAKEY00000001', status: 'Active', createdAt: 'now-1h' });
    stack.sandbox.state.setKeyStatus('AKIAOLDSETUP00000001', 'Inactive');
  });
  afterAll(() => stack.close());

  it('reuses the report, records its age, and reads what changed since from the live API', async () => {
    const summary = await stack.scan({ mode: 'CREDENTIAL_REPORT' });
    expect(summary.status).toBe('COMPLETED');
    const scan = await stack.prisma.scan.findUniqueOrThrow({ where: { id: summary.scanId } });
    expect(Date.now() - scan.reportGeneratedAt!.getTime()).toBeGreaterThan(2.9 * 3600_000);

    const findings = await stack.prisma.finding.findMany({ orderBy: { identity: 'asc' } });
    const byKey = Object.fromEntries(findings.map((f) => [`${f.userName}/${f.accessKeyId ?? '-'}`, [f.status, f.reasons, (f.evidence as any).dataSource]]));
    expect(byKey).toMatchObject({
      'brand-new/AKIABRANDNEW00000001': ['FAIL', ['CREATED_AT_SETUP'], 'PER_USER_API'],
      'gets-a-key/AKIAGETSAKEY00000000': ['PASS', ['CREATED_AFTER_SETUP_AND_USED'], 'CREDENTIAL_REPORT'],
      'gets-a-key/AKIAGETSAKEY00000001': ['PASS', ['NOT_USED_WITHIN_GRACE_PERIOD'], 'PER_USER_API'],
      'old-setup/AKIAOLDSETUP00000001': ['PASS', ['KEY_INACTIVE'], 'CREDENTIAL_REPORT'],
    });
    const calls = stack.sandbox.calls().byOperation;
    expect(calls.GetLoginProfile).toBe(1); // only brand-new, absent from the report
    expect(calls.GetAccessKeyLastUsed).toBe(2); // brand-new's key and gets-a-key's new key
  });
});
