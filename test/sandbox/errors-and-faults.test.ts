import {
  GenerateCredentialReportCommand,
  GetAccessKeyLastUsedCommand,
  GetLoginProfileCommand,
  GetUserCommand,
  IAMServiceException,
  LimitExceededException,
  ListAccessKeysCommand,
  ListUsersCommand,
  ListUserTagsCommand,
  NoSuchEntityException,
  ServiceFailureException,
  type ListUserTagsCommandInput,
} from '@aws-sdk/client-iam';
import { startIamSandbox, type IamSandbox } from '../../src/sandbox';
import { baseFixture, iamClient, rawCall, sdkError } from './helpers';

describe('IAM sandbox: errors as the SDK sees them', () => {
  let sandbox: IamSandbox;
  beforeAll(async () => {
    sandbox = await startIamSandbox({ fixture: baseFixture(), seed: 1 });
  });
  afterAll(() => sandbox.close());
  beforeEach(() => {
    sandbox.setFaults([]);
    sandbox.resetCalls();
  });
  // No retries, so each failure is one call.
  const client = () => iamClient(sandbox, { maxAttempts: 1 });

  it('NoSuchEntity: same code, IAM messages for missing user vs missing login profile', async () => {
    const iam = client();
    const noUser = await sdkError(iam.send(new GetLoginProfileCommand({ UserName: 'nobody' })));
    expect(noUser).toBeInstanceOf(NoSuchEntityException);
    expect(noUser.name).toBe('NoSuchEntityException');
    expect(noUser.message).toBe('The user with name nobody cannot be found.');
    expect(noUser.$metadata.httpStatusCode).toBe(404);
    const noProfile = await sdkError(iam.send(new GetLoginProfileCommand({ UserName: 'bob' })));
    expect(noProfile).toBeInstanceOf(NoSuchEntityException);
    expect(noProfile.message).toBe('Login Profile for User bob cannot be found.');
    for (const cmd of [
      new ListAccessKeysCommand({ UserName: 'nobody' }),
      new ListUserTagsCommand({ UserName: 'nobody' }),
      new GetUserCommand({ UserName: 'nobody' }),
    ]) {
      const e = await sdkError(iam.send(cmd as never));
      expect(e.name).toBe('NoSuchEntityException');
      expect(e.message).toBe('The user with name nobody cannot be found.');
    }
  });

  it('GetAccessKeyLastUsed on a key not in the account is AccessDenied 403', async () => {
    const e = await sdkError(client().send(new GetAccessKeyLastUsedCommand({ AccessKeyId: 'AKIAZZZZZZZZZZZZZZZZ' })));
    expect(e).toBeInstanceOf(IAMServiceException);
    expect(e.name).toBe('AccessDenied');
    expect(e.$metadata.httpStatusCode).toBe(403);
    expect(e.$fault).toBe('client');
  });

  it('missing required parameter is a 400 ValidationError worded like IAM', async () => {
    const e = await sdkError(client().send(new ListUserTagsCommand({} as ListUserTagsCommandInput)));
    expect(e.name).toBe('ValidationError');
    expect(e.$metadata.httpStatusCode).toBe(400);
    expect(e.message).toBe(
      "1 validation error detected: Value null at 'userName' failed to satisfy constraint: Member must not be null",
    );
    const bad = await sdkError(client().send(new GetUserCommand({ UserName: 'a b' })));
    expect(bad.message).toContain("Value 'a b' at 'userName' failed to satisfy constraint: Member must satisfy regular expression pattern");
  });

  it('unknown action is 400 InvalidAction; missing Authorization is 403 MissingAuthenticationToken', async () => {
    const unknown = await rawCall(sandbox, 'Action=CreateUser&Version=2010-05-08&UserName=x');
    expect(unknown.status).toBe(400);
    expect(unknown.text).toContain('<Code>InvalidAction</Code>');
    expect(unknown.text).toContain('Could not find operation CreateUser for version 2010-05-08');
    const noVersion = await rawCall(sandbox, 'Action=ListUsers');
    expect(noVersion.status).toBe(400);
    expect(noVersion.text).toContain('NO_VERSION_SPECIFIED');
    const noAuth = await rawCall(sandbox, 'Action=ListUsers&Version=2010-05-08', {});
    expect(noAuth.status).toBe(403);
    expect(noAuth.text).toMatch(
      /^<ErrorResponse xmlns="https:\/\/iam\.amazonaws\.com\/doc\/2010-05-08\/"><Error><Type>Sender<\/Type><Code>MissingAuthenticationToken<\/Code><Message>.+<\/Message><\/Error><RequestId>[0-9a-f-]{36}<\/RequestId><\/ErrorResponse>/,
    );
  });

  it.each([
    ['AccessDenied', 'AccessDenied', 403],
    ['NoSuchEntity', 'NoSuchEntityException', 404],
    ['ServiceFailure', 'ServiceFailureException', 500],
    ['LimitExceeded', 'LimitExceededException', 409],
    ['Throttling', 'Throttling', 400],
    ['InvalidInput', 'InvalidInputException', 400],
    ['ReportNotPresent', 'CredentialReportNotPresentException', 410],
    ['ReportExpired', 'CredentialReportExpiredException', 410],
    ['ReportInProgress', 'CredentialReportNotReadyException', 404],
  ] as const)('fault error %s surfaces as %s with HTTP %d', async (code, name, status) => {
    sandbox.setFaults([{ operation: 'ListAccessKeys', userName: 'bob', error: code }]);
    const iam = client();
    const e = await sdkError(iam.send(new ListAccessKeysCommand({ UserName: 'bob' })));
    expect(e.name).toBe(name);
    expect(e.$metadata.httpStatusCode).toBe(status);
    // Rule is scoped to bob.
    await expect(iam.send(new ListAccessKeysCommand({ UserName: 'alice' }))).resolves.toBeDefined();
    expect(sandbox.calls().failedByOperation).toEqual({ ListAccessKeys: 1 });
    expect(sandbox.calls().succeededByOperation).toEqual({ ListAccessKeys: 1 });
  });

  it('AccessDenied from a fault rule names the user ARN like IAM', async () => {
    sandbox.setFaults([{ operation: 'ListAccessKeys', userName: 'bob', error: 'AccessDenied' }]);
    const e = await sdkError(client().send(new ListAccessKeysCommand({ UserName: 'bob' })));
    expect(e.message).toBe(
      'User: arn:aws:iam::123456789012:user/keywarden-scanner is not authorized to perform: iam:ListAccessKeys on resource: arn:aws:iam::123456789012:user/engineering/bob because no identity-based policy allows the iam:ListAccessKeys action',
    );
  });

  it('per-user rules also match GetAccessKeyLastUsed through the key owner', async () => {
    sandbox.setFaults([{ operation: '*', userName: 'alice', error: 'AccessDenied' }]);
    const e = await sdkError(client().send(new GetAccessKeyLastUsedCommand({ AccessKeyId: 'AKIAALICE00000000001' })));
    expect(e.name).toBe('AccessDenied');
  });

  it('Throttling (throttleRate 1, times 2) is retried by the standard retry strategy and succeeds', async () => {
    sandbox.setFaults([{ operation: 'ListUsers', throttleRate: 1, times: 2 }]);
    const iam = iamClient(sandbox); // SDK defaults: standard retry, 3 attempts
    const out = await iam.send(new ListUsersCommand({}));
    expect(out.Users).toHaveLength(3);
    expect(out.$metadata.attempts).toBe(3);
    const calls = sandbox.calls();
    expect(calls.byOperation.ListUsers).toBe(3);
    expect(calls.failedByOperation.ListUsers).toBe(2);
    expect(calls.succeededByOperation.ListUsers).toBe(1);
    expect(calls.total).toBe(3);
    iam.destroy();
  });

  it('ServiceFailure (500) is retried by the SDK as a transient error', async () => {
    sandbox.setFaults([{ operation: 'GetUser', error: 'ServiceFailure', times: 1 }]);
    const iam = iamClient(sandbox, { maxAttempts: 2 });
    const out = await iam.send(new GetUserCommand({ UserName: 'alice' }));
    expect(out.$metadata.attempts).toBe(2);
    sandbox.setFaults([{ operation: 'GenerateCredentialReport', error: 'ServiceFailure' }]);
    const e = await sdkError(client().send(new GenerateCredentialReportCommand({})));
    expect(e).toBeInstanceOf(ServiceFailureException);
    expect(e.$fault).toBe('server');
    iam.destroy();
  });

  it('LimitExceeded is modelled as LimitExceededException', async () => {
    sandbox.setFaults([{ operation: 'GenerateCredentialReport', error: 'LimitExceeded' }]);
    const e = await sdkError(client().send(new GenerateCredentialReportCommand({})));
    expect(e).toBeInstanceOf(LimitExceededException);
    expect(e.$metadata.httpStatusCode).toBe(409);
  });

  it('errorRate / throttleRate sampling is deterministic for a seed', async () => {
    const run = async (seed: number) => {
      const sb = await startIamSandbox({ fixture: baseFixture(), seed });
      sb.setFaults([
        { operation: 'GetUser', throttleRate: 0.3 },
        { operation: 'GetUser', errorRate: 0.3 },
      ]);
      const iam = iamClient(sb, { maxAttempts: 1 });
      const outcomes: string[] = [];
      for (let i = 0; i < 30; i++) {
        outcomes.push(await iam.send(new GetUserCommand({ UserName: 'alice' })).then(() => 'ok', (e: Error) => e.name));
      }
      iam.destroy();
      await sb.close();
      return outcomes;
    };
    const a = await run(42);
    expect(await run(42)).toEqual(a);
    expect(new Set(a)).toEqual(new Set(['ok', 'Throttling', 'ServiceFailureException']));
  });

  it('latencyMs delays answers; "*" rules apply to every operation', async () => {
    sandbox.setFaults([{ operation: '*', latencyMs: 60 }]);
    const iam = client();
    const t0 = Date.now();
    await iam.send(new GetUserCommand({ UserName: 'alice' }));
    await iam.send(new ListUsersCommand({}));
    expect(Date.now() - t0).toBeGreaterThanOrEqual(115);
  });

  it('setFaults validates rules and names the bad field', () => {
    expect(() => sandbox.setFaults([{ operation: 'ListUsers', throttleRate: 2 }])).toThrow(/\[0\]\.throttleRate/);
    expect(() => sandbox.setFaults([{ operation: 'Nope' as 'ListUsers', latencyMs: 1 }])).toThrow(/\[0\]\.operation/);
    expect(() => sandbox.setFaults([{ operation: 'ListUsers' }])).toThrow(/at least one of/);
  });
});
