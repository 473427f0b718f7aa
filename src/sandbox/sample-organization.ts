/**
 * A small sample organization (`keywarden sandbox --organization`): the sample account as management account,
 * and two members in OUs, each with a few users including setup-key failures of the CIS check.
 * Base credentials act in the management account; the members are reached with AssumeRole into KeywardenAudit.
 */
import type { OrganizationFixtureInput } from './organization-fixture';
import { sampleAccountFixture } from './sample-account';

const { accountId: managementAccountId, ...managementIam } = sampleAccountFixture;

export const SAMPLE_MEMBER_ROLE_NAME = 'KeywardenAudit';

export const sampleOrganizationFixture: OrganizationFixtureInput = {
  organization: {
    id: 'o-kw7sample01',
    managementAccountId,
    memberRoleName: SAMPLE_MEMBER_ROLE_NAME,
    seed: 7,
    ous: [
      { name: 'Engineering', parent: 'Root' },
      { name: 'Prod', parent: 'Root/Engineering' },
      { name: 'Sandbox', parent: 'Root' },
    ],
    accounts: [
      { accountId: managementAccountId, name: 'keywarden-management', email: 'aws-management@example.com', iam: managementIam },
      {
        accountId: '234567890123',
        name: 'payments-prod',
        email: 'aws-payments-prod@example.com',
        parent: 'Root/Engineering/Prod',
        iam: {
          accountCreatedAt: 'now-700d',
          root: { passwordEnabled: true, passwordLastUsed: 'now-200d', mfaActive: true, accessKeys: 0 },
          users: [
            {
              // FAIL: console user, setup key never used.
              userName: 'oncall-anna',
              createdAt: 'now-300d',
              passwordLastUsed: 'now-1d',
              loginProfile: { createdAt: 'now-300d' },
              mfaActive: true,
              accessKeys: [{ status: 'Active', createdAt: 'now-300d+20s' }],
            },
            {
              // FAIL (CREATED_AT_SETUP): console user, setup key in use.
              userName: 'release-bot-admin',
              createdAt: 'now-250d',
              passwordLastUsed: 'now-30d',
              loginProfile: { createdAt: 'now-250d' },
              accessKeys: [
                { status: 'Active', createdAt: 'now-250d+4s', lastUsed: { date: 'now-2h', serviceName: 'codedeploy', region: 'eu-west-1' } },
              ],
            },
            {
              // PASS: console user, key made later and used.
              userName: 'dba-omar',
              createdAt: 'now-500d',
              passwordLastUsed: 'now-3d',
              loginProfile: { createdAt: 'now-500d' },
              mfaActive: true,
              accessKeys: [
                { status: 'Active', createdAt: 'now-120d', lastUsed: { date: 'now-1d', serviceName: 'rds', region: 'eu-west-1' } },
              ],
            },
            {
              // NOT_APPLICABLE: API-only deployer.
              userName: 'svc-deploy',
              path: '/service/',
              createdAt: 'now-600d',
              accessKeys: [
                { status: 'Active', createdAt: 'now-600d+2s', lastUsed: { date: 'now-10m', serviceName: 'ecs', region: 'eu-west-1' } },
              ],
            },
          ],
          credentialReport: { generationDelayMs: 300 },
        },
      },
      {
        accountId: '345678901234',
        name: 'sandbox-experiments',
        email: 'aws-sandbox@example.com',
        parent: 'Root/Sandbox',
        iam: {
          accountCreatedAt: 'now-200d',
          users: [
            {
              // FAIL: console user, setup key used once long ago.
              userName: 'intern-li',
              createdAt: 'now-90d',
              passwordLastUsed: 'now-60d',
              loginProfile: { createdAt: 'now-90d', passwordResetRequired: true },
              accessKeys: [
                { status: 'Active', createdAt: 'now-90d+9s', lastUsed: { date: 'now-80d', serviceName: 's3', region: 'N/A' } },
              ],
            },
            {
              // PASS: setup key deactivated.
              userName: 'researcher-kai',
              createdAt: 'now-150d',
              passwordLastUsed: 'now-5d',
              loginProfile: { createdAt: 'now-150d' },
              mfaActive: true,
              accessKeys: [{ status: 'Inactive', createdAt: 'now-150d+30s' }],
            },
            {
              // PASS: console user without keys.
              userName: 'viewer-sam',
              createdAt: 'now-40d',
              loginProfile: { createdAt: 'now-40d' },
            },
          ],
          credentialReport: { generationDelayMs: 300 },
        },
      },
    ],
  },
};
