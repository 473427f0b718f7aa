import {
  GetAccessKeyLastUsedCommand,
  GetLoginProfileCommand,
  GetUserCommand,
  IAMClient,
  ListAccessKeysCommand,
  ListUsersCommand,
  ListUserTagsCommand,
} from '@aws-sdk/client-iam';
import { parseFixture, SYNTHETIC_CALLER_USER_NAME, startIamSandbox, type IamSandbox } from '../../src/sandbox';
import { baseFixture, FakeClock, iamClient, rawCall } from './helpers';

const DAY = 86_400_000;

describe('IAM sandbox: happy paths through @aws-sdk/client-iam', () => {
  const clock = new FakeClock();
  const ago = (ms: number) => new Date(clock.current.getTime() - ms);
  let sandbox: IamSandbox;
  let iam: IAMClient;

  beforeAll(async () => {
    sandbox = await startIamSandbox({ fixture: parseFixture(baseFixture(), clock.now()), now: clock.now });
    iam = iamClient(sandbox);
  });
  afterAll(async () => {
    iam.destroy();
    await sandbox.close();
  });

  it('ListUsers returns every user with IAM fields (no Tags, as IAM listing does)', async () => {
    const out = await iam.send(new ListUsersCommand({}));
    expect(out.$metadata.httpStatusCode).toBe(200);
    expect(out.$metadata.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(out.IsTruncated).toBe(false);
    expect(out.Marker).toBeUndefined();
    expect(out.Users!.map((u) => u.UserName)).toEqual(['alice', 'bob', 'ops,admin']);
    const alice = out.Users![0]!;
    expect(alice).toEqual({
      Path: '/',
      UserName: 'alice',
      UserId: expect.stringMatching(/^AIDA[A-Z2-7]{17}$/),
      Arn: 'arn:aws:iam::123456789012:user/alice',
      CreateDate: ago(400 * DAY),
      PasswordLastUsed: ago(2 * DAY),
    });
    expect(out.Users![1]!.Arn).toBe('arn:aws:iam::123456789012:user/engineering/bob');
    expect(out.Users![1]!.PasswordLastUsed).toBeUndefined();
  });

  it('GetUser returns the user with its tags', async () => {
    const out = await iam.send(new GetUserCommand({ UserName: 'alice' }));
    expect(out.User!.UserName).toBe('alice');
    expect(out.User!.CreateDate).toEqual(ago(400 * DAY));
    expect(out.User!.Tags).toEqual([
      { Key: 'team', Value: 'payments' },
      { Key: 'cost-center', Value: '42' },
    ]);
  });

  it('GetUser is case-insensitive like IAM and answers the canonical name', async () => {
    const out = await iam.send(new GetUserCommand({ UserName: 'ALICE' }));
    expect(out.User!.UserName).toBe('alice');
  });

  it('GetUser without UserName answers the synthetic caller', async () => {
    const out = await iam.send(new GetUserCommand({}));
    expect(out.User!.UserName).toBe(SYNTHETIC_CALLER_USER_NAME);
    expect(out.User!.Arn).toBe(`arn:aws:iam::123456789012:user/${SYNTHETIC_CALLER_USER_NAME}`);
  });

  it('ListUserTags', async () => {
    const out = await iam.send(new ListUserTagsCommand({ UserName: 'alice' }));
    expect(out.Tags).toEqual([
      { Key: 'team', Value: 'payments' },
      { Key: 'cost-center', Value: '42' },
    ]);
    expect(out.IsTruncated).toBe(false);
    const none = await iam.send(new ListUserTagsCommand({ UserName: 'bob' }));
    expect(none.Tags).toEqual([]);
  });

  it('GetLoginProfile', async () => {
    const out = await iam.send(new GetLoginProfileCommand({ UserName: 'ops,admin' }));
    expect(out.LoginProfile).toEqual({ UserName: 'ops,admin', CreateDate: ago(99 * DAY), PasswordResetRequired: true });
  });

  it('ListAccessKeys returns keys ordered by CreateDate', async () => {
    const out = await iam.send(new ListAccessKeysCommand({ UserName: 'alice' }));
    expect(out.AccessKeyMetadata).toEqual([
      { UserName: 'alice', AccessKeyId: 'AKIAALICE00000000001', Status: 'Active', CreateDate: ago(400 * DAY - 30_000) },
      { UserName: 'alice', AccessKeyId: 'AKIAALICE00000000002', Status: 'Inactive', CreateDate: ago(100 * DAY) },
    ]);
    const bob = await iam.send(new ListAccessKeysCommand({ UserName: 'bob' }));
    // Generated ids look like real ones.
    expect(bob.AccessKeyMetadata![0]!.AccessKeyId).toMatch(/^AKIA[A-Z0-9]{16}$/);
  });

  it('ListAccessKeys without UserName lists the caller (no keys)', async () => {
    const out = await iam.send(new ListAccessKeysCommand({}));
    expect(out.AccessKeyMetadata).toEqual([]);
  });

  it('GetAccessKeyLastUsed: used key and never-used key (ServiceName/Region "N/A", no date)', async () => {
    const used = await iam.send(new GetAccessKeyLastUsedCommand({ AccessKeyId: 'AKIAALICE00000000001' }));
    expect(used.UserName).toBe('alice');
    expect(used.AccessKeyLastUsed).toEqual({ LastUsedDate: ago(DAY), ServiceName: 's3', Region: 'us-east-1' });
    const never = await iam.send(new GetAccessKeyLastUsedCommand({ AccessKeyId: 'AKIAALICE00000000002' }));
    expect(never.AccessKeyLastUsed).toEqual({ ServiceName: 'N/A', Region: 'N/A' });
    expect(never.AccessKeyLastUsed!.LastUsedDate).toBeUndefined();
  });

  it('sends a fresh request id in the body and the x-amzn-RequestId header', async () => {
    const a = await rawCall(sandbox, 'Action=GetUser&Version=2010-05-08&UserName=bob');
    const b = await rawCall(sandbox, 'Action=GetUser&Version=2010-05-08&UserName=bob');
    expect(a.status).toBe(200);
    expect(a.requestId).not.toBe(b.requestId);
    expect(a.text).toContain(`<RequestId>${a.requestId}</RequestId>`);
    expect(a.text).toMatch(/^<GetUserResponse xmlns="https:\/\/iam\.amazonaws\.com\/doc\/2010-05-08\/"><GetUserResult><User>/);
    expect(a.text).toMatch(/<CreateDate>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ<\/CreateDate>/);
  });

  it('accepts GET with a query string, as IAM does', async () => {
    const res = await fetch(`${sandbox.url}/?Action=GetUser&Version=2010-05-08&UserName=bob`, {
      headers: { authorization: 'AWS4-HMAC-SHA256 Credential=x' },
    });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('<UserName>bob</UserName>');
  });
});

describe('IAM sandbox: XML escaping', () => {
  it('round-trips XML-special characters in paths through the SDK parser', async () => {
    const fixture = baseFixture();
    fixture.users = [{ userName: 'x.y', path: '/a&b<c>"\'/', createdAt: 'now-1d' }];
    const sandbox = await startIamSandbox({ fixture });
    const iam = iamClient(sandbox);
    try {
      const out = await iam.send(new GetUserCommand({ UserName: 'x.y' }));
      expect(out.User!.Path).toBe('/a&b<c>"\'/');
      expect(out.User!.Arn).toBe('arn:aws:iam::123456789012:user/a&b<c>"\'/x.y');
    } finally {
      iam.destroy();
      await sandbox.close();
    }
  });
});
