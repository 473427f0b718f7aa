import { GetUserCommand } from '@aws-sdk/client-iam';
import { OrganizationsClient } from '@aws-sdk/client-organizations';
import type { SecurityHubClient } from '@aws-sdk/client-securityhub';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { fromNodeProviderChain, fromTemporaryCredentials } from '@aws-sdk/credential-providers';
import { DEFAULT_MEMBER_ROLE_NAME } from '../../domain/accounts';
import { createIamClient, type AwsCredentials, type CountingIamClient } from '../iam/iam-client';

/**
 * How the base credentials' account is proven. STS GetCallerIdentity answers for any credentials (users, roles,
 * instance and task roles); IAM GetUser only for IAM users. IAM_GET_USER is for an IAM-only stand-in: the built-in
 * sandbox, until it serves STS.
 */
export type BaseIdentityProof = 'STS' | 'IAM_GET_USER';

export interface AwsAccessOptions {
  /** Default AWS_REGION, else us-east-1 (IAM and Organizations are global, signed for us-east-1). */
  region?: string;
  /** The base credentials; default: the SDK's standard chain (environment, profiles, web identity, containers). */
  credentials?: AwsCredentials;
  /**
   * Explicit endpoints (the built-in sandbox); otherwise the SDK reads AWS_ENDPOINT_URL_IAM, AWS_ENDPOINT_URL_STS
   * AWS_ENDPOINT_URL_ORGANIZATIONS and AWS_ENDPOINT_URL_SECURITYHUB itself.
   */
  endpoints?: { iam?: string; sts?: string; organizations?: string; securityhub?: string };
  /** KEYWARDEN_MEMBER_ROLE_NAME: the role read in member accounts that name no role (default KeywardenAudit). */
  memberRoleName?: string;
  /** KEYWARDEN_EXTERNAL_ID: sent as sts:ExternalId when a member account has none of its own. */
  externalId?: string | null;
  /** IAM attempts per call (adaptive retry). */
  maxAttempts?: number;
  baseIdentity?: BaseIdentityProof;
}

export interface CallerIdentity {
  account: string;
  arn: string;
}

export interface AssumedRole {
  roleArn: string;
  externalId: string | null;
  sessionName: string;
}

// STS throttles rarely and a denial is final: the SDK's standard three attempts.
const STS_MAX_ATTEMPTS = 3;

/**
 * Keywarden's way into AWS: the base credentials, the endpoints, the member role. It makes clients and nothing
 * else: which account to read, and through which role, is AccountsService's business.
 */
export class AwsAccess {
  readonly region: string;
  readonly memberRoleName: string;
  readonly externalId: string | null;
  readonly baseIdentityProof: BaseIdentityProof;
  /** One provider for every client: the chain resolves (and refreshes) once, not once per client. */
  private readonly baseCredentials: AwsCredentials;

  constructor(private readonly options: AwsAccessOptions = {}) {
    this.region = options.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1';
    this.memberRoleName = options.memberRoleName ?? DEFAULT_MEMBER_ROLE_NAME;
    this.externalId = options.externalId ?? null;
    this.baseIdentityProof = options.baseIdentity ?? 'STS';
    this.baseCredentials = options.credentials ?? fromNodeProviderChain();
  }

  /** A new IAM client with the base credentials (its own call counter). */
  baseIamClient(): CountingIamClient {
    return createIamClient({ region: this.region, maxAttempts: this.options.maxAttempts, endpoint: this.options.endpoints?.iam, credentials: this.baseCredentials });
  }

  /**
   * A new IAM client whose credentials come from STS AssumeRole, through the SDK's fromTemporaryCredentials:
   * the client memoizes them and assumes the role again before they expire. Nothing is called until the
   * credentials are first resolved.
   */
  assumedIamClient(role: AssumedRole): CountingIamClient {
    const credentials = fromTemporaryCredentials({
      params: { RoleArn: role.roleArn, RoleSessionName: role.sessionName, ...(role.externalId ? { ExternalId: role.externalId } : {}) },
      masterCredentials: this.baseCredentials,
      clientConfig: { region: this.region, maxAttempts: STS_MAX_ATTEMPTS, ...(this.options.endpoints?.sts ? { endpoint: this.options.endpoints.sts } : {}) },
    });
    return createIamClient({ region: this.region, maxAttempts: this.options.maxAttempts, endpoint: this.options.endpoints?.iam, credentials });
  }

  /** Who the base credentials are, proven by AWS (see BaseIdentityProof). */
  async baseIdentity(): Promise<CallerIdentity> {
    if (this.baseIdentityProof === 'STS') return this.identityOf(this.baseCredentials);
    const iam = this.baseIamClient();
    try {
      const arn = (await iam.client.send(new GetUserCommand({}))).User?.Arn ?? '';
      const account = arn.match(/^arn:aws[-a-z]*:iam::(\d{12}):/)?.[1];
      if (!account) throw new Error(`IAM GetUser named no account (ARN ${JSON.stringify(arn)})`);
      return { account, arn };
    } finally {
      iam.client.destroy();
    }
  }

  /** STS GetCallerIdentity with these credentials: the account they act in. */
  async identityOf(credentials: AwsCredentials): Promise<CallerIdentity> {
    const sts = new STSClient({ region: this.region, credentials, maxAttempts: STS_MAX_ATTEMPTS, ...(this.options.endpoints?.sts ? { endpoint: this.options.endpoints.sts } : {}) });
    try {
      const out = await sts.send(new GetCallerIdentityCommand({}));
      if (!out.Account || !out.Arn) throw new Error('STS GetCallerIdentity named no account');
      return { account: out.Account, arn: out.Arn };
    } finally {
      sts.destroy();
    }
  }

  /**
   * Security Hub in `region` with these credentials (an account's own: the base credentials, or a member role's
   * from AccountsService.credentialsFor). BatchImportFindings allows 10 requests a second (burst 30): the push paces
   * itself (SecurityHubPushService), and the SDK's standard retry backs off on a throttle that still happens.
   */
  securityHubClient(credentials: AwsCredentials, region: string): SecurityHubClient {
    // Loaded here, not at the top: a worker without KEYWARDEN_SECURITYHUB_REGION never needs this client (5 MB of RSS at load, measured).
    const { SecurityHubClient: Client } = require('@aws-sdk/client-securityhub') as typeof import('@aws-sdk/client-securityhub');
    return new Client({
      region,
      credentials,
      maxAttempts: 5,
      ...(this.options.endpoints?.securityhub ? { endpoint: this.options.endpoints.securityhub } : {}),
    });
  }

  /** Organizations with the base credentials (the management account or a delegated administrator). */
  organizationsClient(): OrganizationsClient {
    return new OrganizationsClient({
      region: this.region,
      // Organizations allows a few requests a second per account: adaptive retry slows down on throttling.
      retryMode: 'adaptive',
      maxAttempts: 8,
      credentials: this.baseCredentials,
      ...(this.options.endpoints?.organizations ? { endpoint: this.options.endpoints.organizations } : {}),
    });
  }
}
