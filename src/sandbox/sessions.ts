/**
 * Temporary credentials issued by the sandbox's AssumeRole, and who a request's credentials are.
 *
 * Signatures are not verified (as elsewhere in the sandbox), but the access key id decides the account:
 * an `ASIA…` key must be one the sandbox issued (with its session token) and not expired; any other key is
 * "base credentials" acting in the default account.
 */
import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { deterministicId } from './fixture';

export interface SandboxSession {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  accountId: string;
  roleName: string;
  roleArn: string;
  sessionName: string;
  externalId?: string;
  issuedAt: Date;
  expiresAt: Date;
}

export type SandboxCaller =
  /** Base credentials: the account's caller user (the fixture's callerUserName, else keywarden-scanner). */
  | { kind: 'user'; accountId: string; accessKeyId: string }
  | { kind: 'assumed-role'; accountId: string; accessKeyId: string; session: SandboxSession };

/** Why a request's credentials were refused, in neutral terms each protocol words its own way. */
export type CredentialsProblem = 'MissingAuthenticationToken' | 'InvalidClientTokenId' | 'ExpiredToken';

export class CredentialsRefused extends Error {
  override readonly name = 'CredentialsRefused';
  constructor(readonly problem: CredentialsProblem) {
    super(problem);
  }
}

/** `Credential=<AKID>/<date>/<region>/<service>/aws4_request` in a SigV4 Authorization header or presigned query. */
const CREDENTIAL_RE = /Credential=([^/,\s]+)\//;

export interface RequestCredentials {
  accessKeyId: string | undefined;
  sessionToken: string | undefined;
  /** False when neither an Authorization header nor a presigned signature is present. */
  signed: boolean;
}

export function requestCredentials(headers: IncomingHttpHeaders, query: URLSearchParams): RequestCredentials {
  const auth = headers['authorization'];
  const token = headers['x-amz-security-token'];
  if (typeof auth === 'string' && auth !== '') {
    return {
      accessKeyId: CREDENTIAL_RE.exec(auth)?.[1],
      sessionToken: typeof token === 'string' ? token : undefined,
      signed: true,
    };
  }
  if (query.get('X-Amz-Signature') !== null) {
    return {
      accessKeyId: query.get('X-Amz-Credential')?.split('/')[0],
      sessionToken: query.get('X-Amz-Security-Token') ?? undefined,
      signed: true,
    };
  }
  return { accessKeyId: undefined, sessionToken: undefined, signed: false };
}

const TEMPORARY_KEY_PREFIX = 'ASIA';

export class SessionStore {
  private readonly byKey = new Map<string, SandboxSession>();
  private issued = 0;

  constructor(private readonly salt: string) {}

  issue(input: Omit<SandboxSession, 'accessKeyId' | 'secretAccessKey' | 'sessionToken'>): SandboxSession {
    const n = String(++this.issued);
    const accessKeyId = deterministicId(TEMPORARY_KEY_PREFIX, 20, this.salt, 'session', n);
    const secretAccessKey = createHash('sha256').update(`${this.salt}\u0000secret\u0000${n}`).digest('base64').slice(0, 40);
    // Real session tokens are long opaque base64; clients only pass them back.
    const sessionToken = Buffer.from(
      createHash('sha512').update(`${this.salt}\u0000token\u0000${n}`).digest('hex') + `:${input.accountId}:${input.sessionName}`,
    ).toString('base64');
    const session: SandboxSession = { ...input, accessKeyId, secretAccessKey, sessionToken };
    this.byKey.set(accessKeyId, session);
    return session;
  }

  get(accessKeyId: string): SandboxSession | undefined {
    return this.byKey.get(accessKeyId);
  }

  /** Every session issued since the last clear, oldest first (expired ones included). */
  all(): SandboxSession[] {
    return [...this.byKey.values()];
  }

  /** Forgets every session; numbering goes on, so a key issued before never comes back with a new meaning. */
  clear(): void {
    this.byKey.clear();
  }

  /** Who the credentials are; throws CredentialsRefused like AWS refuses a request before reading it. */
  resolve(creds: RequestCredentials, defaultAccountId: string, now: Date): SandboxCaller {
    if (!creds.signed) throw new CredentialsRefused('MissingAuthenticationToken');
    const accessKeyId = creds.accessKeyId ?? '';
    if (!accessKeyId.startsWith(TEMPORARY_KEY_PREFIX)) return { kind: 'user', accountId: defaultAccountId, accessKeyId };
    const session = this.byKey.get(accessKeyId);
    // A temporary key is only valid with its own session token.
    if (!session || creds.sessionToken !== session.sessionToken) throw new CredentialsRefused('InvalidClientTokenId');
    if (now.getTime() >= session.expiresAt.getTime()) throw new CredentialsRefused('ExpiredToken');
    return { kind: 'assumed-role', accountId: session.accountId, accessKeyId, session };
  }
}

/** Stable role ids (AROA…), as IAM gives every role one. */
export const roleId = (accountId: string, roleName: string): string =>
  deterministicId('AROA', 21, accountId, 'role', roleName.toLowerCase());

export const assumedRoleArn = (s: Pick<SandboxSession, 'accountId' | 'roleName' | 'sessionName'>): string =>
  `arn:aws:sts::${s.accountId}:assumed-role/${s.roleName}/${s.sessionName}`;
