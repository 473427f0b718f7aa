import { GetCredentialReportCommand, GenerateCredentialReportCommand, ListAccessKeysCommand, ListUsersCommand } from '@aws-sdk/client-iam';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import {
  buildLargeFixture,
  buildLargeFixtureWithManifest,
  FixtureError,
  loadFixture,
  parseFixture,
  resolveTimeSpec,
  sampleAccountFixture,
  startIamSandbox,
  type FixtureInput,
} from '../../src/sandbox';
import { baseFixture, iamClient } from './helpers';
import { makeTempDir } from '../support/test-resources';

const NOW = new Date('2024-05-01T12:00:00.750Z');

describe('time specs', () => {
  it.each([
    ['now', '2024-05-01T12:00:00.000Z'],
    ['now-400d+30s', '2023-03-28T12:00:30.000Z'],
    ['now+2h-30m', '2024-05-01T13:30:00.000Z'],
    ['2022-04-17T14:59:38Z', '2022-04-17T14:59:38.000Z'],
    ['2022-04-17T14:59:38.999+02:00', '2022-04-17T12:59:38.000Z'],
    ['2022-04-17', '2022-04-17T00:00:00.000Z'],
  ])('%s → %s (whole seconds, like IAM)', (spec, iso) => {
    expect((resolveTimeSpec(spec, NOW) as Date).toISOString()).toBe(iso);
  });

  it.each(['yesterday', 'now-3w', 'now - 1d', '2022-04-17T14:59:38', 'now-1.5d', '2022-13-45T00:00:00Z'])('rejects %s', (spec) => {
    expect(typeof resolveTimeSpec(spec, NOW)).toBe('string');
  });
});

describe('parseFixture', () => {
  const expectIssue = (f: unknown, path: string, re?: RegExp) => {
    let err: unknown;
    try {
      parseFixture(f, NOW);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(FixtureError);
    const fe = err as FixtureError;
    expect(fe.issues.map((i) => i.path)).toContain(path);
    expect(fe.message).toContain(path);
    if (re) expect(fe.message).toMatch(re);
  };
  const withUsers = (users: unknown[]): unknown => ({ ...baseFixture(), users });

  it('resolves times against now and fills ids deterministically', () => {
    const a = parseFixture(baseFixture(), NOW);
    const b = parseFixture(baseFixture(), NOW);
    expect(a.users[0]!.createdAt.toISOString()).toBe('2023-03-28T12:00:00.000Z');
    expect(a.users[1]!.userId).toMatch(/^AIDA[A-Z2-7]{17}$/);
    expect(a.users[1]!.accessKeys[0]!.accessKeyId).toMatch(/^AKIA[A-Z2-7]{16}$/);
    expect(b.users[1]!.accessKeys[0]!.accessKeyId).toBe(a.users[1]!.accessKeys[0]!.accessKeyId);
    expect(a.users[1]!.userId).toBe(b.users[1]!.userId);
    expect(a.users[0]!.tags).toEqual([
      { key: 'team', value: 'payments' },
      { key: 'cost-center', value: '42' },
    ]);
  });

  it('accepts JSON text', () => {
    expect(parseFixture(JSON.stringify(baseFixture()), NOW).users).toHaveLength(3);
  });

  it('bad JSON', () => expectIssue('{"accountId": ', '(root)', /invalid JSON/));
  it('unknown field, with its path', () =>
    expectIssue(withUsers([{ userName: 'a', createdAt: 'now', passwrd: true }]), 'users[0].passwrd', /unknown field/));
  it('unknown top-level field', () => expectIssue({ ...baseFixture(), acount: 1 }, 'acount'));
  it('bad time spec', () =>
    expectIssue(withUsers([{ userName: 'a', createdAt: 'now', accessKeys: [{ createdAt: 'now-1x' }] }]), 'users[0].accessKeys[0].createdAt', /now-1x/));
  it('duplicate user names (case-insensitive)', () =>
    expectIssue(withUsers([{ userName: 'Alice', createdAt: 'now' }, { userName: 'alice', createdAt: 'now' }]), 'users[1].userName', /duplicate/));
  it('more than 2 access keys', () =>
    expectIssue(
      withUsers([{ userName: 'a', createdAt: 'now', accessKeys: [{ createdAt: 'now' }, { createdAt: 'now' }, { createdAt: 'now' }] }]),
      'users[0].accessKeys',
      /at most 2/,
    ));
  it('invalid user name characters', () =>
    expectIssue(withUsers([{ userName: 'bad name!', createdAt: 'now' }]), 'users[0].userName', /invalid user name/));
  it('user name longer than 64', () => expectIssue(withUsers([{ userName: 'x'.repeat(65), createdAt: 'now' }]), 'users[0].userName'));
  it('bad access key id and duplicate key ids', () => {
    expectIssue(withUsers([{ userName: 'a', createdAt: 'now', accessKeys: [{ accessKeyId: 'AKIAlower', createdAt: 'now' }] }]), 'users[0].accessKeys[0].accessKeyId');
    expectIssue(
      withUsers([
        { userName: 'a', createdAt: 'now', accessKeys: [{ accessKeyId: 'AKIAAAAAAAAAAAAAAAAA', createdAt: 'now' }] },
        { userName: 'b', createdAt: 'now', accessKeys: [{ accessKeyId: 'AKIAAAAAAAAAAAAAAAAA', createdAt: 'now' }] },
      ]),
      'users[1].accessKeys[0].accessKeyId',
    );
  });
  it('callerUserName must name a user', () => expectIssue({ ...baseFixture(), callerUserName: 'ghost' }, 'callerUserName'));
  it('bad fault rule', () => expectIssue({ ...baseFixture(), faults: [{ operation: 'ListUsers', errorRate: 1.5 }] }, 'faults[0].errorRate'));

  it('loadFixture reads a file and names it in errors', () => {
    const dir = makeTempDir('kw-fixture-');
    const good = join(dir, 'good.json');
    writeFileSync(good, JSON.stringify(baseFixture()));
    expect(loadFixture(good, NOW).users).toHaveLength(3);
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ ...baseFixture(), accountId: 'x' }));
    expect(() => loadFixture(bad, NOW)).toThrow(/accountId: .*bad\.json/);
  });

  it('the sample account parses and covers a comma user name', () => {
    const f = parseFixture(sampleAccountFixture, NOW);
    expect(f.users.length).toBeGreaterThanOrEqual(15);
    expect(f.users.map((u) => u.userName)).toContain('ops,admin');
    expect(f.root.passwordEnabled).toBe(true);
  });
});

describe('admin endpoints', () => {
  it('PUT /_sandbox/fixture: bad fixture → 400 with the path, state unchanged; good fixture replaces the account', async () => {
    const sandbox = await startIamSandbox({ fixture: baseFixture() });
    const iam = iamClient(sandbox);
    try {
      const bad = { ...baseFixture(), users: [{ userName: 'x', createdAt: 'now-1q' }] };
      const res = await fetch(`${sandbox.url}/_sandbox/fixture`, { method: 'PUT', body: JSON.stringify(bad) });
      expect(res.status).toBe(400);
      const body = (await res.json()) as { error: string; issues: { path: string }[] };
      expect(body.error).toContain('users[0].createdAt');
      expect(body.issues[0]!.path).toBe('users[0].createdAt');
      expect((await iam.send(new ListUsersCommand({}))).Users!.map((u) => u.UserName)).toEqual(['alice', 'bob', 'ops,admin']);

      const next: FixtureInput = { ...baseFixture(), users: [{ userName: 'zed', createdAt: 'now-1d' }] };
      const ok = await fetch(`${sandbox.url}/_sandbox/fixture`, { method: 'PUT', body: JSON.stringify(next) });
      expect(ok.status).toBe(204);
      expect((await iam.send(new ListUsersCommand({}))).Users!.map((u) => u.UserName)).toEqual(['zed']);
      expect(() => sandbox.replaceFixture({ ...baseFixture(), accountId: '1' })).toThrow(/accountId/);
      expect(sandbox.state.userCount).toBe(1);
    } finally {
      iam.destroy();
      await sandbox.close();
    }
  });

  it('healthz, calls, calls/reset, faults', async () => {
    const sandbox = await startIamSandbox({ fixture: baseFixture() });
    const iam = iamClient(sandbox, { maxAttempts: 1 });
    try {
      expect(await (await fetch(`${sandbox.url}/_sandbox/healthz`)).json()).toEqual({ status: 'ok', users: 3 });
      const put = await fetch(`${sandbox.url}/_sandbox/faults`, {
        method: 'PUT',
        body: JSON.stringify([{ operation: 'ListAccessKeys', userName: 'bob', error: 'AccessDenied' }]),
      });
      expect(put.status).toBe(204);
      await iam.send(new ListAccessKeysCommand({ UserName: 'bob' })).catch(() => undefined);
      await iam.send(new ListAccessKeysCommand({ UserName: 'alice' }));
      const calls = await (await fetch(`${sandbox.url}/_sandbox/calls`)).json();
      expect(calls).toEqual({
        total: 2,
        failed: 1,
        byOperation: { ListAccessKeys: 2 },
        succeededByOperation: { ListAccessKeys: 1 },
        failedByOperation: { ListAccessKeys: 1 },
      });
      expect((await fetch(`${sandbox.url}/_sandbox/calls/reset`, { method: 'POST' })).status).toBe(204);
      expect(sandbox.calls().total).toBe(0);
      const badFaults = await fetch(`${sandbox.url}/_sandbox/faults`, { method: 'PUT', body: '[{"operation":"ListUsers","throttleRate":7}]' });
      expect(badFaults.status).toBe(400);
      expect(sandbox.getFaults()).toHaveLength(1);
    } finally {
      iam.destroy();
      await sandbox.close();
    }
  });
});

describe('buildLargeFixture', () => {
  it('is deterministic from the seed and has the documented mix', () => {
    const { fixture, manifest } = buildLargeFixtureWithManifest({ users: 2000, seed: 3 });
    expect(buildLargeFixture({ users: 2000, seed: 3 })).toEqual(fixture);
    expect(buildLargeFixture({ users: 2000, seed: 4 })).not.toEqual(fixture);
    const counts = Object.fromEntries(Object.entries(manifest.byCategory).map(([k, v]) => [k, v.length]));
    expect(counts).toEqual({
      'console-setup-key': 100,
      'api-keys': 1200,
      'console-no-keys': 500,
      'console-later-key-used': 100,
      'console-inactive-keys': 40,
      'api-no-keys': 60,
    });
    const parsed = parseFixture(fixture, NOW);
    const byName = new Map(parsed.users.map((u) => [u.userName, u]));
    for (const name of manifest.byCategory['console-setup-key']) {
      const u = byName.get(name)!;
      expect(u.loginProfile).not.toBeNull();
      const k = u.accessKeys[0]!;
      expect(k.status).toBe('Active');
      const gap = k.createdAt.getTime() - u.createdAt.getTime();
      expect(gap).toBeGreaterThan(0);
      expect(gap).toBeLessThan(60_000);
    }
    for (const u of parsed.users) {
      for (const k of u.accessKeys) {
        expect(k.createdAt.getTime()).toBeGreaterThanOrEqual(u.createdAt.getTime());
        if (k.lastUsed) expect(k.lastUsed.date.getTime()).toBeGreaterThanOrEqual(k.createdAt.getTime() - 3_600_000);
      }
    }
  });

  it('10,000 users: parse, full ListUsers scan and report stay fast', async () => {
    const t0 = Date.now();
    const fixture = parseFixture(buildLargeFixture({ users: 10_000, seed: 1 }));
    const sandbox = await startIamSandbox({ fixture });
    const iam = iamClient(sandbox);
    try {
      let marker: string | undefined;
      let n = 0;
      do {
        const out = await iam.send(new ListUsersCommand({ MaxItems: 1000, Marker: marker }));
        n += out.Users!.length;
        marker = out.IsTruncated ? out.Marker : undefined;
      } while (marker);
      expect(n).toBe(10_000);
      await iam.send(new GenerateCredentialReportCommand({}));
      const csv = Buffer.from((await iam.send(new GetCredentialReportCommand({}))).Content!).toString();
      const rows = parse(csv) as string[][];
      expect(rows).toHaveLength(10_002);
      expect(rows.every((r) => r.length === 22)).toBe(true);
      expect(Date.now() - t0).toBeLessThan(8_000);
    } finally {
      iam.destroy();
      await sandbox.close();
    }
  });
});
