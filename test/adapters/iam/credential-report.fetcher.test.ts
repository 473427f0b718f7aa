import { fetchCredentialReport, CredentialReportUnavailableError } from '../../../src/adapters/iam/credential-report.fetcher';
import { parseCredentialReport } from '../../../src/adapters/iam/credential-report.parser';
import { startIamSandbox, type IamSandbox } from '../../../src/sandbox/iam-sandbox.server';
import { sandboxIamClient } from '../../support/stack';

const fixture = (generationDelayMs: number) => ({
  accountId: '123456789012',
  accountCreatedAt: 'now-10d',
  users: [{ userName: 'alice', createdAt: 'now-5d', loginProfile: { createdAt: 'now-5d' } }],
  credentialReport: { generationDelayMs },
});

describe('credential report fetcher', () => {
  let sandbox: IamSandbox;
  afterEach(() => sandbox?.close());

  it('polls Generate with backoff until COMPLETE, then gets and records GeneratedTime', async () => {
    sandbox = await startIamSandbox({ fixture: fixture(150) });
    const iam = sandboxIamClient(sandbox);
    const report = await fetchCredentialReport(iam.client, { initialDelayMs: 20, deadlineMs: 5000 });
    expect(parseCredentialReport(report.content).map((r) => r.user)).toEqual(['<root_account>', 'alice']);
    expect(report.generatedAt).toBeInstanceOf(Date);
    expect(iam.stats().byOperation.GenerateCredentialReport).toBeGreaterThan(1);
    expect(iam.stats().byOperation.GetCredentialReport).toBe(1);
  });

  it('gives up at its deadline with a clear error instead of looping', async () => {
    sandbox = await startIamSandbox({ fixture: fixture(60_000) });
    const iam = sandboxIamClient(sandbox);
    const started = Date.now();
    await expect(fetchCredentialReport(iam.client, { initialDelayMs: 20, deadlineMs: 300 })).rejects.toThrow(/not ready after 300 ms/);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('reports AccessDenied as unavailable, with the code', async () => {
    sandbox = await startIamSandbox({ fixture: { ...fixture(0), faults: [{ operation: 'GenerateCredentialReport', error: 'AccessDenied' }] } });
    const err = await fetchCredentialReport(sandboxIamClient(sandbox).client).catch((e) => e);
    expect(err).toBeInstanceOf(CredentialReportUnavailableError);
    expect(err.code).toBe('AccessDenied');
  });
});
