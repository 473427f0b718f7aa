import type { FixtureInput } from '../../src/sandbox/fixture';
import { startStack, type Stack } from '../support/stack';

/**
 * Issue #12: history defects found from outside, each reproduced as written, through the real IAM sandbox,
 * the real SDK, real PostgreSQL and the HTTP GraphQL endpoint. Each test failed on the code before its fix.
 */
const ACCOUNT = '333344445555';
const DAY = 86_400_000;
const NOW = Date.now();
const day = (d: number) => new Date(NOW - d * DAY);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const consoleUser = (userName: string, createdAt: string, accessKeys: NonNullable<FixtureInput['users']>[number]['accessKeys'] = []) => ({
  userName, createdAt, loginProfile: { createdAt }, accessKeys,
});

const FINDING = 'id status reasons state resolution resolvedAt reopenCount userName userArn accessKeyId lastSeenAt scan { id }';

async function findings(stack: Stack, filter = '', asOf?: Date): Promise<any[]> {
  const res: any = await stack.gql(
    `query($asOf: DateTime) { findings(filter: { accountId: "${ACCOUNT}", state: [OPEN, RESOLVED, NEVER_FAILED] ${filter} }, asOf: $asOf, first: 100) { nodes { ${FINDING} } } }`,
    { asOf: asOf?.toISOString() },
  );
  expect(res.errors).toBeUndefined();
  return res.data.findings.nodes;
}

/** The local id of a finding's scan (the API gives global ids). */
const scanOf = (f: { scan: { id: string } }) => Buffer.from(f.scan.id, 'base64url').toString().replace(/^Scan:/, '');

const keyFinding = async (stack: Stack, accessKeyId: string, asOf?: Date) => (await findings(stack, '', asOf)).find((f) => f.accessKeyId === accessKeyId);

describe('issue #12: history an auditor can trust', () => {
  let stack: Stack | undefined;
  afterEach(async () => {
    await stack?.close();
    stack = undefined;
  });

  it('2. a scan whose reads began before another scan stored is refused as superseded, even when it finishes last', async () => {
    const KEY = 'AKIASETUPKEY00000002';
    stack = await startStack({
      accountId: ACCOUNT, accountCreatedAt: 'now-900d',
      users: [
        consoleUser('alice', 'now-400d', [{ accessKeyId: KEY, status: 'Active', createdAt: 'now-400d+30s' }]),
        consoleUser('bob', 'now-300d', [{ accessKeyId: 'AKIABOBLATERUSED0002', status: 'Active', createdAt: 'now-100d', lastUsed: { date: 'now-1d', serviceName: 's3' } }]),
      ],
    });
    expect((await stack.scan()).status).toBe('COMPLETED');
    // A reads alice's key Active at once, then waits on one slow call for bob.
    stack.sandbox.setFaults([{ operation: 'ListAccessKeys', userName: 'bob', latencyMs: 3000, times: 1 }]);
    const a = stack.scan();
    await sleep(800);
    // B begins 0.8 s later, sees the key Inactive, and stores first.
    stack.sandbox.state.setKeyStatus(KEY, 'Inactive');
    const b = await stack.scan();
    expect(b.status).toBe('COMPLETED');
    expect(b.resolved).toBe(1);
    const late = await a;
    expect(late.status).toBe('FAILED');
    expect(late.errors[0].message).toMatch(/was stored first; this scan read it at .* and is not recorded/);
    // History does not roll back to A's older reads.
    expect(await keyFinding(stack, KEY)).toMatchObject({ status: 'PASS', state: 'RESOLVED', resolution: 'PASSED', reopenCount: 0 });
  });

  it('3. a PARTIAL scan keeps the last known PASS and NOT_APPLICABLE of users it could not read, beside separate ERROR findings', async () => {
    stack = await startStack({
      accountId: ACCOUNT, accountCreatedAt: 'now-900d',
      users: [consoleUser('carol', 'now-200d'), { userName: 'dave', createdAt: 'now-200d' }],
    });
    const perUser = { mode: 'PER_USER_API' as const };
    const first = await stack.scan(perUser, {}, day(3));
    expect(first.counts).toMatchObject({ pass: 1, notApplicable: 1, error: 0 });
    const before = await findings(stack);

    stack.sandbox.setFaults([{ operation: 'GetLoginProfile', error: 'AccessDenied' }]);
    const partial = await stack.scan(perUser, {}, day(2));
    stack.sandbox.setFaults([]);
    expect(partial.status).toBe('PARTIAL');
    // Counts do not move for the unread users; their read errors are counted beside.
    expect(partial.counts).toMatchObject({ pass: 1, notApplicable: 1, error: 2 });
    const during = await findings(stack);
    for (const f of before) expect(during).toContainEqual(f); // carried over untouched
    const errors = during.filter((f) => f.status === 'ERROR');
    expect(errors.map((f) => [f.userName, f.state, f.reasons])).toEqual(
      expect.arrayContaining([['carol', 'OPEN', ['USER_UNREADABLE']], ['dave', 'OPEN', ['USER_UNREADABLE']]]),
    );
    expect(errors.map((f) => f.id)).not.toContain(before[0].id);

    const healed = await stack.scan(perUser, {}, day(1));
    expect(healed.counts).toMatchObject({ pass: 1, notApplicable: 1, error: 0 });
    expect(healed.resolved).toBe(2); // the two read errors, nothing else
    const after = await findings(stack);
    const dave = after.find((f) => f.userName === 'dave' && f.status !== 'ERROR');
    expect(dave).toMatchObject({ status: 'NOT_APPLICABLE', resolution: null, resolvedAt: null });
    const carol = after.find((f) => f.userName === 'carol' && f.status !== 'ERROR');
    expect(carol).toMatchObject({ status: 'PASS', reasons: ['NO_ACCESS_KEYS'], resolution: null });
  });

  it('4. a key made just after a reused report, for a user made just before it, fails in both modes and never flaps', async () => {
    stack = await startStack({ accountId: ACCOUNT, accountCreatedAt: 'now-900d', users: [consoleUser('frank', 'now-2m')] });
    expect((await stack.scan()).status).toBe('COMPLETED'); // generates the report
    const generatedAt = stack.sandbox.state.credentialReportGeneratedAt()!;
    const key = stack.sandbox.state.addAccessKey('frank', { status: 'Active', createdAt: new Date(generatedAt.getTime() + 1000).toISOString() });
    const seen: string[] = [];
    for (const mode of ['CREDENTIAL_REPORT', 'PER_USER_API', 'CREDENTIAL_REPORT'] as const) {
      const s = await stack.scan({ mode });
      expect(s.status).toBe('COMPLETED');
      const f = await keyFinding(stack, key.accessKeyId);
      seen.push(`${mode}: ${f?.status} ${f?.state} ${f?.reasons}`);
    }
    expect(seen).toEqual([
      'CREDENTIAL_REPORT: FAIL OPEN CREATED_AT_SETUP',
      'PER_USER_API: FAIL OPEN CREATED_AT_SETUP',
      'CREDENTIAL_REPORT: FAIL OPEN CREATED_AT_SETUP',
    ]);
    expect(await keyFinding(stack, key.accessKeyId)).toMatchObject({ reopenCount: 0, resolvedAt: null });
  });

  it.each(['CREDENTIAL_REPORT', 'PER_USER_API'] as const)(
    '6. %s: a key of a user whose password was removed resolves as NO_LONGER_APPLICABLE, and its version closes once deleted',
    async (mode) => {
      const KEY = 'AKIAGINAKEY000000006';
      stack = await startStack({
        accountId: ACCOUNT, accountCreatedAt: 'now-900d',
        users: [consoleUser('gina', 'now-300d', [{ accessKeyId: KEY, status: 'Active', createdAt: 'now-300d+1m' }])],
      });
      expect((await stack.scan({ mode })).status).toBe('COMPLETED');
      expect(await keyFinding(stack, KEY)).toMatchObject({ status: 'FAIL', state: 'OPEN' });

      stack.sandbox.state.setLoginProfile('gina', null);
      stack.sandbox.state.invalidateCredentialReport();
      expect((await stack.scan({ mode })).status).toBe('COMPLETED');
      expect(await keyFinding(stack, KEY)).toMatchObject({ state: 'RESOLVED', resolution: 'NO_LONGER_APPLICABLE' });

      stack.sandbox.state.deleteAccessKey(KEY);
      stack.sandbox.state.invalidateCredentialReport();
      expect((await stack.scan({ mode })).status).toBe('COMPLETED');
      const open = await stack.prisma.accessKeyVersion.count({ where: { accessKeyId: KEY, validTo: null } });
      expect(open).toBe(0);
      const gina: any = await stack.gql(`{ iamUser(accountId: "${ACCOUNT}", userName: "gina") { hasConsolePassword accessKeys { accessKeyId } } }`);
      expect(gina.data.iamUser).toEqual({ hasConsolePassword: false, accessKeys: [] });
    },
  );

  it('8. the live key status is stored even when GetAccessKeyLastUsed fails for that key', async () => {
    const KEY = 'AKIAIVANKEY000000008';
    stack = await startStack({
      accountId: ACCOUNT, accountCreatedAt: 'now-900d',
      users: [consoleUser('ivan', 'now-300d', [{ accessKeyId: KEY, status: 'Active', createdAt: 'now-100d', lastUsed: { date: 'now-5d', serviceName: 'ec2', region: 'eu-west-1' } }])],
    });
    const perUser = { mode: 'PER_USER_API' as const };
    await stack.scan(perUser, {}, day(2));
    stack.sandbox.state.setKeyStatus(KEY, 'Inactive');
    stack.sandbox.setFaults([{ operation: 'GetAccessKeyLastUsed', error: 'AccessDenied' }]);
    const s = await stack.scan(perUser, {}, day(1));
    stack.sandbox.setFaults([]);
    expect(s.status).toBe('PARTIAL');
    expect(await keyFinding(stack, KEY)).toMatchObject({ status: 'PASS', reasons: ['KEY_INACTIVE'] });
    const q = `query($asOf: DateTime) { iamUser(accountId: "${ACCOUNT}", userName: "ivan", asOf: $asOf) { accessKeys { accessKeyId status lastUsedAt lastUsedService } } }`;
    for (const asOf of [undefined, day(0.5)]) {
      const res: any = await stack.gql(q, { asOf: asOf?.toISOString() });
      // The status read live is stored; the last use that could not be read is the last one known.
      expect(res.data.iamUser.accessKeys).toEqual([{ accessKeyId: KEY, status: 'Inactive', lastUsedAt: expect.any(String), lastUsedService: 'ec2' }]);
    }
    const before: any = await stack.gql(q, { asOf: day(1.5).toISOString() });
    expect(before.data.iamUser.accessKeys[0].status).toBe('Active');
  });

  it('9. every field of an asOf answer comes from that instant: the ARN then, and the last scan that really saw the finding', async () => {
    const KEY = 'AKIAJILLSETUP0000009';
    stack = await startStack({
      accountId: ACCOUNT, accountCreatedAt: 'now-900d',
      users: [consoleUser('jill', 'now-300d', [{ accessKeyId: KEY, status: 'Active', createdAt: 'now-300d+1m' }])],
    });
    const s1 = await stack.scan({}, {}, day(4));
    stack.sandbox.state.updateUser('jill', { newPath: '/engineering/' });
    const s2 = await stack.scan({}, {}, day(3));
    expect(s2.versionsWritten).toBeGreaterThan(0);
    const then = await keyFinding(stack, KEY, day(3.5));
    expect([then.userArn, scanOf(then)]).toEqual([`arn:aws:iam::${ACCOUNT}:user/jill`, s1.scanId]);
    expect(await keyFinding(stack, KEY)).toMatchObject({ userArn: `arn:aws:iam::${ACCOUNT}:user/engineering/jill` });

    // A PARTIAL scan that could not read jill carries the finding over: as of then, it was last seen by s2.
    stack.sandbox.setFaults([{ operation: 'ListAccessKeys', userName: 'jill', error: 'AccessDenied' }]);
    const partial = await stack.scan({}, {}, day(2));
    stack.sandbox.setFaults([]);
    expect(partial.status).toBe('PARTIAL');
    const carried = await keyFinding(stack, KEY, day(1.5));
    expect([carried.status, carried.lastSeenAt, scanOf(carried)]).toEqual(['FAIL', day(3).toISOString(), s2.scanId]);
    const current = await keyFinding(stack, KEY);
    expect([current.lastSeenAt, scanOf(current)]).toEqual([day(3).toISOString(), s2.scanId]);
    // Read again, it is seen again.
    const s4 = await stack.scan({}, {}, day(1));
    const seenAgain = await keyFinding(stack, KEY, day(0.5));
    expect([seenAgain.lastSeenAt, scanOf(seenAgain)]).toEqual([day(1).toISOString(), s4.scanId]);
  });

  it('10. history follows the IAM user id: a rename keeps the finding, a re-created user of the same name starts new ones', async () => {
    const KATE = 'AKIAKATESETUP0000010';
    const LEO = 'AKIALEOSETUP00000010';
    stack = await startStack({
      accountId: ACCOUNT, accountCreatedAt: 'now-900d',
      users: [
        consoleUser('kate', 'now-300d', [{ accessKeyId: KATE, status: 'Active', createdAt: 'now-300d+1m' }]),
        consoleUser('leo', 'now-200d', [{ accessKeyId: LEO, status: 'Active', createdAt: 'now-200d+1m' }]),
      ],
    });
    await stack.scan({}, {}, day(3));
    const kate = await keyFinding(stack, KATE);

    stack.sandbox.state.updateUser('kate', { newUserName: 'kathy' });
    const renamed = await stack.scan({}, {}, day(2));
    expect([renamed.opened, renamed.resolved]).toEqual([0, 0]);
    expect(await keyFinding(stack, KATE)).toMatchObject({ id: kate.id, userName: 'kathy', status: 'FAIL', state: 'OPEN', reopenCount: 0, resolvedAt: null });
    expect(await keyFinding(stack, KATE, day(2.5))).toMatchObject({ id: kate.id, userName: 'kate' });
    const user = (name: string, asOf?: Date) =>
      stack!.gql(`query($asOf: DateTime) { iamUser(accountId: "${ACCOUNT}", userName: "${name}", asOf: $asOf) { userId findings { id accessKeyId } } }`, { asOf: asOf?.toISOString() });
    const now: any = await user('kathy');
    const then: any = await user('kate', day(2.5));
    expect(now.data.iamUser.userId).toBe(then.data.iamUser.userId);
    expect(now.data.iamUser.findings).toEqual([{ id: kate.id, accessKeyId: KATE }]);
    expect(then.data.iamUser.findings).toEqual([{ id: kate.id, accessKeyId: KATE }]);

    // leo is deleted and re-created under the same name: a new user id, a new key.
    const leo = await keyFinding(stack, LEO);
    stack.sandbox.state.deleteUser('leo');
    stack.sandbox.state.addUser({ userName: 'leo', userId: 'AIDANEWLEO0000000010', createdAt: 'now-1h', loginProfile: { createdAt: 'now-1h' },
      accessKeys: [{ accessKeyId: 'AKIALEOSECOND0000010', status: 'Active', createdAt: 'now-1h+1m' }] });
    await stack.scan({}, {}, day(1));
    expect(await keyFinding(stack, LEO)).toMatchObject({ id: leo.id, state: 'RESOLVED', resolution: 'USER_DELETED' });
    expect(await keyFinding(stack, 'AKIALEOSECOND0000010')).toMatchObject({ userName: 'leo', status: 'FAIL', state: 'OPEN', reopenCount: 0 });
  });

  it('10. a user renamed while it cannot be read frees its old name: a new user, or a swap, takes it and the scan stores', async () => {
    stack = await startStack({
      accountId: ACCOUNT, accountCreatedAt: 'now-900d',
      users: [consoleUser('alice', 'now-300d'), consoleUser('bob', 'now-200d', [{ accessKeyId: 'AKIABOBSETUP00000010', status: 'Active', createdAt: 'now-200d+1m' }])],
    });
    const perUser = { mode: 'PER_USER_API' as const };
    await stack.scan(perUser, {}, day(4));
    stack.sandbox.state.updateUser('alice', { newUserName: 'alicia' });
    stack.sandbox.state.addUser({ userName: 'alice', userId: 'AIDANEWALICE00000010', createdAt: 'now-1h', loginProfile: { createdAt: 'now-1h' } });
    stack.sandbox.setFaults([{ operation: 'ListAccessKeys', userName: 'alicia', error: 'AccessDenied' }]);
    expect((await stack.scan(perUser, {}, day(3))).status).toBe('PARTIAL');
    // bob and alicia swap names while bob cannot be read: bob's key follows bob, now named alicia.
    stack.sandbox.state.updateUser('alicia', { newUserName: 'tmp' });
    stack.sandbox.state.updateUser('bob', { newUserName: 'alicia' });
    stack.sandbox.state.updateUser('tmp', { newUserName: 'bob' });
    stack.sandbox.setFaults([{ operation: 'ListAccessKeys', userName: 'alicia', error: 'AccessDenied' }]);
    expect((await stack.scan(perUser, {}, day(2))).status).toBe('PARTIAL');
    stack.sandbox.setFaults([]);
    const keys: any = await stack.gql(`{ iamUser(accountId: "${ACCOUNT}", userName: "alicia") { accessKeys { accessKeyId } } }`);
    expect(keys.data.iamUser.accessKeys).toEqual([{ accessKeyId: 'AKIABOBSETUP00000010' }]);
    expect((await stack.scan(perUser, {}, day(1))).status).toBe('COMPLETED');
    expect(await keyFinding(stack, 'AKIABOBSETUP00000010')).toMatchObject({ userName: 'alicia', state: 'OPEN', reopenCount: 0 });
  });

  it.each(['CREDENTIAL_REPORT', 'PER_USER_API'] as const)('10. %s: a kept key of a user without a password follows the user through a rename', async (mode) => {
    const KEY = 'AKIAGINAKEY000000010';
    stack = await startStack({
      accountId: ACCOUNT, accountCreatedAt: 'now-900d',
      users: [consoleUser('gina', 'now-300d', [{ accessKeyId: KEY, status: 'Active', createdAt: 'now-300d+1m' }])],
    });
    await stack.scan({ mode }, {}, day(4));
    stack.sandbox.state.setLoginProfile('gina', null);
    stack.sandbox.state.invalidateCredentialReport();
    await stack.scan({ mode }, {}, day(3));
    stack.sandbox.state.updateUser('gina', { newUserName: 'gia' });
    stack.sandbox.state.invalidateCredentialReport();
    const keysOf = async (name: string) => ((await stack!.gql(`{ iamUser(accountId: "${ACCOUNT}", userName: "${name}") { accessKeys { accessKeyId } } }`)) as any).data.iamUser.accessKeys;
    for (const at of [day(2), day(1)]) {
      await stack.scan({ mode }, {}, at);
      expect(await keysOf('gia')).toEqual([{ accessKeyId: KEY }]);
    }
    expect(await stack.prisma.accessKeyVersion.count({ where: { accessKeyId: KEY, validTo: null, userName: 'gia' } })).toBe(1);
  });

  it('11. falling back to the per-user API (or choosing it) writes no version for an unchanged account and keeps root as it was', async () => {
    stack = await startStack({
      accountId: ACCOUNT, accountCreatedAt: 'now-900d',
      users: [
        consoleUser('mia', 'now-300d', [{ accessKeyId: 'AKIAMIASETUP00000011', status: 'Active', createdAt: 'now-300d+1m' }]),
        { ...consoleUser('ned', 'now-300d', [{ accessKeyId: 'AKIANEDLATER00000011', status: 'Active', createdAt: 'now-100d', lastUsed: { date: 'now-3d', serviceName: 's3' } }]), mfaActive: true, tags: { team: 'data' } },
        consoleUser('olga', 'now-300d'),
        { userName: 'pat', createdAt: 'now-300d', accessKeys: [{ accessKeyId: 'AKIAPATAPI0000000011', status: 'Active', createdAt: 'now-300d' }] },
        { userName: 'quinn', createdAt: 'now-300d' },
        consoleUser('rose', 'now-300d', [{ accessKeyId: 'AKIAROSEINACTIVE0011', status: 'Inactive', createdAt: 'now-300d+1m' }]),
      ],
    });
    const first = await stack.scan({}, {}, day(5));
    expect(first.counts).toMatchObject({ notApplicable: 3 }); // pat, quinn, root
    const rootBefore = (await findings(stack, 'userName: "<root_account>"'))[0];
    const counts = first.counts;

    stack.sandbox.setFaults([{ operation: 'GenerateCredentialReport', error: 'AccessDenied' }]);
    const fallback = await stack.scan({}, {}, day(4));
    stack.sandbox.setFaults([]);
    expect(fallback.errors.map((e) => e.operation)).toContain('GetCredentialReport');
    const perUser = await stack.scan({ mode: 'PER_USER_API' }, {}, day(3));
    const back = await stack.scan({}, {}, day(2));
    expect([fallback.versionsWritten, perUser.versionsWritten, back.versionsWritten]).toEqual([0, 0, 0]);
    expect([fallback.counts, perUser.counts, back.counts]).toEqual([counts, counts, counts]);
    expect([fallback.opened + fallback.resolved, perUser.opened + perUser.resolved, back.opened + back.resolved]).toEqual([0, 0, 0]);
    expect((await findings(stack, 'userName: "<root_account>"'))[0]).toMatchObject({ id: rootBefore.id, status: 'NOT_APPLICABLE', resolution: null });
  });
});
