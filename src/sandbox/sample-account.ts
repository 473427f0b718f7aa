/**
 * A small, realistic sandbox account (used by `npm start`). Expected outcome of the CIS check
 * "no access keys created during initial user setup for users with a console password" is noted per user.
 * "At setup" = key created within seconds of the user.
 */
import type { FixtureInput } from './fixture';

export const sampleAccountFixture: FixtureInput = {
  accountId: '123456789012',
  accountCreatedAt: 'now-900d',
  seed: 7,
  root: { passwordEnabled: true, passwordLastUsed: 'now-40d', mfaActive: true, accessKeys: 0 },
  users: [
    {
      // FAIL: console user, key made at setup and never used (the CIS audit's N/A case).
      userName: 'alice',
      createdAt: 'now-400d',
      passwordLastUsed: 'now-2d',
      loginProfile: { createdAt: 'now-400d' },
      tags: { team: 'payments' },
      accessKeys: [{ status: 'Active', createdAt: 'now-400d+30s' }],
    },
    {
      // FAIL (CREATED_AT_SETUP): console user, setup key used since.
      userName: 'bob',
      createdAt: 'now-380d',
      passwordLastUsed: 'now-1d',
      loginProfile: { createdAt: 'now-380d' },
      mfaActive: true,
      tags: { team: 'platform' },
      accessKeys: [
        { status: 'Active', createdAt: 'now-380d+5s', lastUsed: { date: 'now-1d', serviceName: 's3', region: 'N/A' } },
      ],
    },
    {
      // PASS: console user, key made long after setup and used.
      userName: 'carol',
      createdAt: 'now-700d',
      passwordLastUsed: 'now-3h',
      loginProfile: { createdAt: 'now-700d' },
      mfaActive: true,
      tags: { team: 'data' },
      accessKeys: [
        { status: 'Active', createdAt: 'now-200d', lastUsed: { date: 'now-6h', serviceName: 'athena', region: 'eu-west-1' } },
      ],
    },
    {
      // FAIL (NEVER_USED): console user, key made long after setup, never used.
      userName: 'dave',
      createdAt: 'now-650d',
      passwordLastUsed: 'now-20d',
      loginProfile: { createdAt: 'now-650d' },
      accessKeys: [{ status: 'Active', createdAt: 'now-90d' }],
    },
    {
      // PASS: setup key deactivated.
      userName: 'erin',
      createdAt: 'now-500d',
      passwordLastUsed: 'now-7d',
      loginProfile: { createdAt: 'now-500d' },
      mfaActive: true,
      accessKeys: [
        { status: 'Inactive', createdAt: 'now-500d+12s', lastUsed: { date: 'now-480d', serviceName: 'ec2', region: 'us-east-1' } },
      ],
    },
    {
      // FAIL on key 1 only: setup key still active and used; second key made later and used.
      userName: 'frank',
      createdAt: 'now-800d',
      passwordLastUsed: 'now-5d',
      loginProfile: { createdAt: 'now-800d' },
      tags: { team: 'sre', oncall: 'true' },
      accessKeys: [
        { status: 'Active', createdAt: 'now-800d+20s', lastUsed: { date: 'now-30d', serviceName: 'cloudwatch', region: 'us-west-2' } },
        { status: 'Active', createdAt: 'now-100d', lastUsed: { date: 'now-1h', serviceName: 'sts', region: 'us-east-1' } },
      ],
    },
    {
      // PASS: console user without keys.
      userName: 'grace',
      createdAt: 'now-300d',
      passwordLastUsed: 'now-10d',
      loginProfile: { createdAt: 'now-300d' },
      mfaActive: true,
    },
    {
      // NOT_APPLICABLE: API-only user (no console password) with a setup key in use.
      userName: 'ci-deploy',
      path: '/service/',
      createdAt: 'now-600d',
      tags: { owner: 'platform', purpose: 'ci' },
      accessKeys: [
        { status: 'Active', createdAt: 'now-600d+3s', lastUsed: { date: 'now-15m', serviceName: 'ecr', region: 'us-east-1' } },
      ],
    },
    {
      // FAIL: user name with a comma (legal in IAM) — the report must quote it.
      userName: 'ops,admin',
      createdAt: 'now-250d',
      passwordLastUsed: 'now-4d',
      loginProfile: { createdAt: 'now-250d' },
      accessKeys: [
        { status: 'Active', createdAt: 'now-250d+8s', lastUsed: { date: 'now-2d', serviceName: 'iam', region: 'us-east-1' } },
      ],
    },
    {
      // PASS: new console user, password never used (reset required at first sign-in), no keys.
      userName: 'heidi',
      createdAt: 'now-10d',
      loginProfile: { createdAt: 'now-10d', passwordResetRequired: true },
      mfaActive: false,
    },
    {
      // NOT_APPLICABLE: API-only, one active key in use and one inactive rotated-out key.
      userName: 'svc-backup',
      path: '/service/',
      createdAt: 'now-850d',
      accessKeys: [
        { status: 'Inactive', createdAt: 'now-850d+1s', lastUsed: { date: 'now-400d', serviceName: 's3', region: 'N/A' } },
        { status: 'Active', createdAt: 'now-390d', lastUsed: { date: 'now-1h', serviceName: 's3', region: 'N/A' } },
      ],
    },
    {
      // NOT_APPLICABLE: console password since removed (PasswordLastUsed remains); a setup key without a password is out of scope.
      userName: 'ivan',
      createdAt: 'now-420d',
      passwordLastUsed: 'now-300d',
      accessKeys: [
        { status: 'Active', createdAt: 'now-420d+40s', lastUsed: { date: 'now-3d', serviceName: 'dynamodb', region: 'eu-central-1' } },
      ],
    },
    {
      // PASS: console user (email-style name), key made later and used.
      userName: 'judy@example.com',
      createdAt: 'now-150d',
      passwordLastUsed: 'now-12h',
      loginProfile: { createdAt: 'now-150d' },
      mfaActive: true,
      accessKeys: [
        { status: 'Active', createdAt: 'now-60d', lastUsed: { date: 'now-2d', serviceName: 'lambda', region: 'ap-southeast-2' } },
      ],
    },
    {
      // NOT_APPLICABLE: API-only user with a key never used.
      userName: 'terraform+prod',
      path: '/automation/',
      createdAt: 'now-45d',
      tags: { owner: 'platform', env: 'prod' },
      accessKeys: [{ status: 'Active', createdAt: 'now-45d+2s' }],
    },
    {
      // PASS: console user with only an inactive key made later.
      userName: 'mallory=temp',
      createdAt: 'now-30d',
      passwordLastUsed: 'now-29d',
      loginProfile: { createdAt: 'now-30d' },
      accessKeys: [{ status: 'Inactive', createdAt: 'now-20d' }],
    },
  ],
  credentialReport: { generationDelayMs: 500 },
  faults: [],
};
