import {
  IAMClient,
  ListAccessKeysCommand,
  ListUsersCommand,
  ListUserTagsCommand,
  paginateListUsers,
  type User,
} from '@aws-sdk/client-iam';
import { startIamSandbox, type FixtureUserInput, type IamSandbox } from '../../src/sandbox';
import { baseFixture, iamClient, sdkError } from './helpers';

const USERS = 263;

describe('IAM sandbox: pagination', () => {
  let sandbox: IamSandbox;
  let iam: IAMClient;
  const names: string[] = [];

  beforeAll(async () => {
    const fixture = baseFixture();
    const users: FixtureUserInput[] = [];
    for (let i = 0; i < USERS; i++) {
      const userName = `user-${String(i).padStart(4, '0')}${i % 50 === 0 ? ',x' : ''}`;
      names.push(userName);
      users.push({ userName, createdAt: `now-${i + 1}d`, path: i % 2 ? '/even/' : '/odd/' });
    }
    const tags: Record<string, string> = {};
    for (let i = 0; i < 7; i++) tags[`k${i}`] = `v${i}`;
    users.push({
      userName: 'tagged',
      createdAt: 'now-1d',
      tags,
      accessKeys: [{ createdAt: 'now-1d' }, { createdAt: 'now-2h' }],
    });
    names.push('tagged');
    fixture.users = users;
    sandbox = await startIamSandbox({ fixture });
    iam = iamClient(sandbox, { maxAttempts: 1 });
  });
  afterAll(async () => {
    iam.destroy();
    await sandbox.close();
  });

  it('MaxItems 100 / Marker / IsTruncated: each user exactly once, in 3 pages', async () => {
    const seen: string[] = [];
    const pages: { count: number; truncated: boolean | undefined; marker: string | undefined }[] = [];
    let marker: string | undefined;
    do {
      const out = await iam.send(new ListUsersCommand({ MaxItems: 100, Marker: marker }));
      seen.push(...out.Users!.map((u) => u.UserName!));
      pages.push({ count: out.Users!.length, truncated: out.IsTruncated, marker: out.Marker });
      marker = out.IsTruncated ? out.Marker : undefined;
    } while (marker);
    expect(pages.map((p) => [p.count, p.truncated])).toEqual([
      [100, true],
      [100, true],
      [64, false],
    ]);
    expect(pages[0]!.marker).toEqual(expect.any(String));
    expect(pages[2]!.marker).toBeUndefined();
    expect(seen).toHaveLength(names.length);
    expect(new Set(seen)).toEqual(new Set(names));
  });

  it('default MaxItems is 100', async () => {
    const out = await iam.send(new ListUsersCommand({}));
    expect(out.Users).toHaveLength(100);
    expect(out.IsTruncated).toBe(true);
  });

  it("works with the SDK's paginateListUsers", async () => {
    const users: User[] = [];
    let pageCount = 0;
    for await (const page of paginateListUsers({ client: iam, pageSize: 100 }, {})) {
      pageCount++;
      users.push(...(page.Users ?? []));
    }
    expect(pageCount).toBe(3);
    expect(users.map((u) => u.UserName).sort()).toEqual([...names].sort());
  });

  it('PathPrefix filters, and pages within the filter', async () => {
    const seen: string[] = [];
    for await (const page of paginateListUsers({ client: iam, pageSize: 50 }, { PathPrefix: '/even/' })) {
      seen.push(...page.Users!.map((u) => u.UserName!));
      expect(page.Users!.every((u) => u.Path === '/even/')).toBe(true);
    }
    expect(seen).toHaveLength(Math.floor(USERS / 2));
  });

  it('an invalid Marker is a 400 ValidationError', async () => {
    const e = await sdkError(iam.send(new ListUsersCommand({ Marker: 'not-a-marker' })));
    expect(e.name).toBe('ValidationError');
    expect(e.$metadata.httpStatusCode).toBe(400);
    // A marker from another operation is not accepted either.
    const tags = await iam.send(new ListUserTagsCommand({ UserName: 'tagged', MaxItems: 2 }));
    const e2 = await sdkError(iam.send(new ListUsersCommand({ Marker: tags.Marker })));
    expect(e2.name).toBe('ValidationError');
  });

  it('MaxItems outside 1..1000 is a ValidationError with IAM wording', async () => {
    for (const MaxItems of [0, 1001]) {
      const e = await sdkError(iam.send(new ListUsersCommand({ MaxItems })));
      expect(e.name).toBe('ValidationError');
      expect(e.$metadata.httpStatusCode).toBe(400);
      expect(e.message).toMatch(new RegExp(`^1 validation error detected: Value '${MaxItems}' at 'maxItems' failed to satisfy constraint`));
    }
  });

  it('ListUserTags pages', async () => {
    const keys: string[] = [];
    let marker: string | undefined;
    let calls = 0;
    do {
      const out = await iam.send(new ListUserTagsCommand({ UserName: 'tagged', MaxItems: 3, Marker: marker }));
      calls++;
      keys.push(...out.Tags!.map((t) => t.Key!));
      marker = out.IsTruncated ? out.Marker : undefined;
    } while (marker);
    expect(calls).toBe(3);
    expect(keys).toEqual(['k0', 'k1', 'k2', 'k3', 'k4', 'k5', 'k6']);
  });

  it('ListAccessKeys pages, and survives the first key being deleted between pages', async () => {
    const first = await iam.send(new ListAccessKeysCommand({ UserName: 'tagged', MaxItems: 1 }));
    expect(first.IsTruncated).toBe(true);
    expect(first.AccessKeyMetadata).toHaveLength(1);
    const firstKey = first.AccessKeyMetadata![0]!.AccessKeyId!;
    const all = sandbox.state.getUser('tagged')!.accessKeys.map((k) => k.accessKeyId);
    sandbox.state.deleteAccessKey(firstKey);
    const second = await iam.send(new ListAccessKeysCommand({ UserName: 'tagged', MaxItems: 1, Marker: first.Marker }));
    expect(second.AccessKeyMetadata!.map((k) => k.AccessKeyId)).toEqual([all[1]]);
    expect(second.IsTruncated).toBe(false);
    // A key marker for one user is not valid for another.
    const e = await sdkError(iam.send(new ListAccessKeysCommand({ UserName: 'user-0001', Marker: first.Marker })));
    expect(e.name).toBe('ValidationError');
  });

  it('a user deleted between ListUsers pages does not shift the next page', async () => {
    const p1 = await iam.send(new ListUsersCommand({ MaxItems: 10 }));
    const firstPage = p1.Users!.map((u) => u.UserName!);
    sandbox.state.deleteUser(firstPage[3]!);
    const p2 = await iam.send(new ListUsersCommand({ MaxItems: 10, Marker: p1.Marker }));
    const sorted = [...names].sort((a, b) => (a.toLowerCase() < b.toLowerCase() ? -1 : 1));
    expect(p2.Users!.map((u) => u.UserName)).toEqual(sorted.slice(10, 20));
  });
});
