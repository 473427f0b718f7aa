import { IAMClient } from '@aws-sdk/client-iam';
import { OrganizationsClient } from '@aws-sdk/client-organizations';
import { AssumeRoleCommand, STSClient, type AssumeRoleCommandInput } from '@aws-sdk/client-sts';
import type { IamSandbox, OrganizationAccountFixtureInput, OrganizationFixtureInput } from '../../src/sandbox';

/** What the SDK clients take as static credentials. */
export interface AwsCredentialIdentity {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  expiration?: Date;
}

export const MANAGEMENT = '111111111111';
/** Member in Root/Engineering/Prod with users bea and bert. */
export const MEMBER_B = '222222222222';
/** Member in Root/Sandbox that requires ExternalId kw-ext-123. */
export const MEMBER_C = '333333333333';
/** SUSPENDED member. */
export const MEMBER_SUSPENDED = '444444444444';
/** Member without the KeywardenAudit role. */
export const MEMBER_NO_ROLE = '555555555555';
export const ROLE = 'KeywardenAudit';
export const EXTERNAL_ID = 'kw-ext-123';

export const roleArn = (accountId: string, role = ROLE): string => `arn:aws:iam::${accountId}:role/${role}`;

export const BASE_CREDENTIALS: AwsCredentialIdentity = {
  accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
};

const user = (userName: string) => ({ userName, createdAt: 'now-100d', loginProfile: { createdAt: 'now-100d' } });

/** 45 accounts: the five above and 40 fillers in Root/Engineering. */
export function organizationFixture(extra: Partial<OrganizationFixtureInput['organization']> = {}): OrganizationFixtureInput {
  const fillers: OrganizationAccountFixtureInput[] = Array.from({ length: 40 }, (_, i) => {
    const accountId = String(900_000_000_000 + i);
    return { accountId, name: `filler-${i}`, email: `filler-${i}@example.com`, parent: 'Root/Engineering', iam: { accountCreatedAt: 'now-50d' } };
  });
  return {
    organization: {
      id: 'o-keywarden01',
      managementAccountId: MANAGEMENT,
      memberRoleName: ROLE,
      ous: [
        { name: 'Prod', parent: 'Root/Engineering' }, // listed before its parent on purpose
        { name: 'Engineering', parent: 'Root' },
        { name: 'Sandbox', parent: 'Root' },
      ],
      accounts: [
        {
          accountId: MANAGEMENT,
          name: 'management',
          email: 'management@example.com',
          iam: { accountCreatedAt: 'now-900d', callerUserName: 'alice', users: [user('alice'), user('admin')] },
        },
        {
          accountId: MEMBER_B,
          name: 'prod',
          email: 'prod@example.com',
          parent: 'Root/Engineering/Prod',
          iam: { accountCreatedAt: 'now-500d', users: [user('bea'), user('bert')] },
        },
        {
          accountId: MEMBER_C,
          name: 'sandbox',
          email: 'sandbox@example.com',
          parent: 'Root/Sandbox',
          externalId: EXTERNAL_ID,
          iam: { accountCreatedAt: 'now-400d', users: [user('cleo')] },
        },
        { accountId: MEMBER_SUSPENDED, name: 'old', email: 'old@example.com', status: 'SUSPENDED', iam: { accountCreatedAt: 'now-999d' } },
        { accountId: MEMBER_NO_ROLE, name: 'norole', email: 'norole@example.com', roleMissing: true, iam: { accountCreatedAt: 'now-99d' } },
        ...fillers,
      ],
      ...extra,
    },
  };
}

const clientConfig = (sandbox: IamSandbox, credentials: AwsCredentialIdentity | (() => Promise<AwsCredentialIdentity>), maxAttempts = 1) => ({
  endpoint: sandbox.url,
  region: 'us-east-1',
  credentials,
  maxAttempts,
});

export const stsClient = (sandbox: IamSandbox, credentials: AwsCredentialIdentity = BASE_CREDENTIALS, maxAttempts = 1): STSClient =>
  new STSClient(clientConfig(sandbox, credentials, maxAttempts));

export const organizationsClient = (sandbox: IamSandbox, credentials: AwsCredentialIdentity = BASE_CREDENTIALS, maxAttempts = 1): OrganizationsClient =>
  new OrganizationsClient(clientConfig(sandbox, credentials, maxAttempts));

export const iamClientWith = (
  sandbox: IamSandbox,
  credentials: AwsCredentialIdentity | (() => Promise<AwsCredentialIdentity>),
  maxAttempts = 1,
): IAMClient => new IAMClient(clientConfig(sandbox, credentials, maxAttempts));

/** Plain AssumeRole, its Credentials as an SDK credential identity. */
export async function assumeRole(sandbox: IamSandbox, input: Partial<AssumeRoleCommandInput> & { RoleArn: string }): Promise<AwsCredentialIdentity> {
  const sts = stsClient(sandbox);
  try {
    const out = await sts.send(new AssumeRoleCommand({ RoleSessionName: 'keywarden-test', ...input }));
    const c = out.Credentials!;
    return { accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken!, expiration: c.Expiration! };
  } finally {
    sts.destroy();
  }
}
