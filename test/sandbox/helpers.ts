import { IAMClient, type IAMClientConfig } from '@aws-sdk/client-iam';
import { startIamSandbox, type FixtureInput, type IamSandbox, type IamSandboxOptions } from '../../src/sandbox';

/** Fixed clock the tests can move. */
export class FakeClock {
  constructor(public current = new Date('2024-05-01T12:00:00Z')) {}
  readonly now = (): Date => this.current;
  advance(ms: number): void {
    this.current = new Date(this.current.getTime() + ms);
  }
}

export function iamClient(sandbox: IamSandbox, config: Partial<IAMClientConfig> = {}): IAMClient {
  return new IAMClient({
    endpoint: sandbox.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' },
    ...config,
  });
}

export async function withSandbox<T>(
  opts: Omit<IamSandboxOptions, 'fixture'> & { fixture: IamSandboxOptions['fixture'] },
  fn: (sandbox: IamSandbox) => Promise<T>,
): Promise<T> {
  const sandbox = await startIamSandbox(opts);
  try {
    return await fn(sandbox);
  } finally {
    await sandbox.close();
  }
}

/** Raw awsQuery call, for what the SDK cannot send (no auth, unknown action, missing params). */
export async function rawCall(
  sandbox: IamSandbox,
  body: string,
  headers: Record<string, string> = { authorization: 'AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20240501/us-east-1/iam/aws4_request' },
): Promise<{ status: number; text: string; requestId: string | null }> {
  const res = await fetch(`${sandbox.url}/`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body,
  });
  return { status: res.status, text: await res.text(), requestId: res.headers.get('x-amzn-requestid') };
}

/** Catches the SDK error of a failing call. */
export async function sdkError(p: Promise<unknown>): Promise<Error & { $metadata: { httpStatusCode?: number; attempts?: number }; $fault?: string }> {
  try {
    await p;
  } catch (e) {
    return e as Error & { $metadata: { httpStatusCode?: number; attempts?: number }; $fault?: string };
  }
  throw new Error('expected the call to fail');
}

export const baseFixture = (): FixtureInput => ({
  accountId: '123456789012',
  accountCreatedAt: 'now-900d',
  root: { passwordEnabled: true, accessKeys: 0, mfaActive: true },
  users: [
    {
      userName: 'alice',
      path: '/',
      createdAt: 'now-400d',
      passwordLastUsed: 'now-2d',
      loginProfile: { createdAt: 'now-400d', passwordResetRequired: false },
      mfaActive: false,
      tags: { team: 'payments', 'cost-center': '42' },
      accessKeys: [
        { accessKeyId: 'AKIAALICE00000000001', status: 'Active', createdAt: 'now-400d+30s', lastUsed: { date: 'now-1d', serviceName: 's3', region: 'us-east-1' } },
        { accessKeyId: 'AKIAALICE00000000002', status: 'Inactive', createdAt: 'now-100d' },
      ],
    },
    {
      userName: 'bob',
      path: '/engineering/',
      createdAt: 'now-200d',
      loginProfile: null,
      accessKeys: [{ status: 'Active', createdAt: 'now-150d' }],
    },
    {
      userName: 'ops,admin',
      createdAt: 'now-100d',
      loginProfile: { createdAt: 'now-99d', passwordResetRequired: true },
      mfaActive: true,
      accessKeys: [{ accessKeyId: 'AKIAOPSADMIN00000001', createdAt: 'now-100d+5s', lastUsed: { date: 'now-3h', serviceName: 'iam', region: 'us-east-1' } }],
    },
  ],
  credentialReport: { generationDelayMs: 0 },
  faults: [],
});
