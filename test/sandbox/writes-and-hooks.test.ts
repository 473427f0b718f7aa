import {
  DeleteAccessKeyCommand,
  GenerateCredentialReportCommand,
  GetCredentialReportCommand,
  GetLoginProfileCommand,
  IAMClient,
  ListAccessKeysCommand,
  ListUsersCommand,
  NoSuchEntityException,
  UpdateAccessKeyCommand,
  type StatusType,
} from '@aws-sdk/client-iam';
import { parse } from 'csv-parse/sync';
import { startIamSandbox, type IamSandbox } from '../../src/sandbox';
import { baseFixture, iamClient, sdkError } from './helpers';

describe('IAM sandbox: UpdateAccessKey / DeleteAccessKey', () => {
  let sandbox: IamSandbox;
  let iam: IAMClient;
  beforeEach(async () => {
    sandbox = await startIamSandbox({ fixture: baseFixture() });
    iam = iamClient(sandbox, { maxAttempts: 1 });
  });
  afterEach(async () => {
    iam.destroy();
    await sandbox.close();
  });

  const keysOf = async (UserName: string) =>
    (await iam.send(new ListAccessKeysCommand({ UserName }))).AccessKeyMetadata!.map((k) => [k.AccessKeyId, k.Status]);

  it('UpdateAccessKey changes the status ListAccessKeys returns (empty result, request id)', async () => {
    const out = await iam.send(new UpdateAccessKeyCommand({ UserName: 'alice', AccessKeyId: 'AKIAALICE00000000001', Status: 'Inactive' }));
    expect(out.$metadata.httpStatusCode).toBe(200);
    expect(out.$metadata.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(await keysOf('alice')).toEqual([
      ['AKIAALICE00000000001', 'Inactive'],
      ['AKIAALICE00000000002', 'Inactive'],
    ]);
    await iam.send(new UpdateAccessKeyCommand({ UserName: 'alice', AccessKeyId: 'AKIAALICE00000000002', Status: 'Active' }));
    expect((await keysOf('alice'))[1]).toEqual(['AKIAALICE00000000002', 'Active']);
  });

  it('DeleteAccessKey removes the key from ListAccessKeys and the next report', async () => {
    await iam.send(new GenerateCredentialReportCommand({}));
    await iam.send(new DeleteAccessKeyCommand({ UserName: 'alice', AccessKeyId: 'AKIAALICE00000000001' }));
    expect(await keysOf('alice')).toEqual([['AKIAALICE00000000002', 'Inactive']]);
    // The existing report (< 4 h) is a snapshot; a new one reflects the deletion.
    sandbox.invalidateCredentialReport();
    await iam.send(new GenerateCredentialReportCommand({}));
    const csv = Buffer.from((await iam.send(new GetCredentialReportCommand({}))).Content!).toString();
    const alice = (parse(csv, { columns: true }) as Record<string, string>[]).find((r) => r.user === 'alice')!;
    expect(alice.access_key_1_active).toBe('false');
    expect(alice.access_key_2_last_rotated).toBe('N/A');
  });

  it('a key of another user is NoSuchEntity about the key; a missing user is NoSuchEntity about the user', async () => {
    const e = await sdkError(iam.send(new UpdateAccessKeyCommand({ UserName: 'bob', AccessKeyId: 'AKIAALICE00000000001', Status: 'Inactive' })));
    expect(e).toBeInstanceOf(NoSuchEntityException);
    expect(e.message).toBe('The Access Key with id AKIAALICE00000000001 cannot be found.');
    expect(e.$metadata.httpStatusCode).toBe(404);
    const d = await sdkError(iam.send(new DeleteAccessKeyCommand({ UserName: 'nobody', AccessKeyId: 'AKIAALICE00000000001' })));
    expect(d.message).toBe('The user with name nobody cannot be found.');
    // Without UserName the caller (synthetic scanner) is meant, who owns no keys.
    const c = await sdkError(iam.send(new DeleteAccessKeyCommand({ AccessKeyId: 'AKIAALICE00000000001' })));
    expect(c.name).toBe('NoSuchEntityException');
    expect(await keysOf('alice')).toHaveLength(2);
  });

  it('an invalid Status is a 400 ValidationError', async () => {
    const e = await sdkError(
      iam.send(new UpdateAccessKeyCommand({ UserName: 'alice', AccessKeyId: 'AKIAALICE00000000001', Status: 'Paused' as StatusType })),
    );
    expect(e.name).toBe('ValidationError');
    expect(e.$metadata.httpStatusCode).toBe(400);
    expect(e.message).toContain("Value 'Paused' at 'status' failed to satisfy constraint: Member must satisfy enum value set: [Active, Inactive]");
  });
});

describe('IAM sandbox: beforeAction hook', () => {
  it('can delete a user between ListUsers and GetLoginProfile', async () => {
    const seen: string[] = [];
    const sandbox = await startIamSandbox({
      fixture: baseFixture(),
      hooks: {
        beforeAction: (action, params, state) => {
          seen.push(action);
          if (action === 'GetLoginProfile' && params.UserName === 'alice') state.deleteUser('alice');
        },
      },
    });
    const iam = iamClient(sandbox, { maxAttempts: 1 });
    try {
      const users = (await iam.send(new ListUsersCommand({}))).Users!.map((u) => u.UserName!);
      expect(users).toContain('alice');
      const e = await sdkError(iam.send(new GetLoginProfileCommand({ UserName: 'alice' })));
      expect(e.name).toBe('NoSuchEntityException');
      expect(e.message).toBe('The user with name alice cannot be found.');
      expect(seen).toEqual(['ListUsers', 'GetLoginProfile']);
      expect(sandbox.calls()).toMatchObject({ total: 2, failedByOperation: { GetLoginProfile: 1 } });
    } finally {
      iam.destroy();
      await sandbox.close();
    }
  });

  it('an async hook that throws answers ServiceFailure', async () => {
    const sandbox = await startIamSandbox({
      fixture: baseFixture(),
      hooks: {
        beforeAction: async () => {
          await new Promise((r) => setTimeout(r, 5));
          throw new Error('boom');
        },
      },
    });
    const iam = iamClient(sandbox, { maxAttempts: 1 });
    try {
      const e = await sdkError(iam.send(new ListUsersCommand({})));
      expect(e.name).toBe('ServiceFailureException');
      expect(e.message).toBe('boom');
    } finally {
      iam.destroy();
      await sandbox.close();
    }
  });
});
