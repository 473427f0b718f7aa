/**
 * STS (awsQuery, Version 2011-06-15): AssumeRole and GetCallerIdentity, with STS's error codes and XML.
 *
 * AssumeRole into an account of the organization succeeds when the account is a member and ACTIVE, the role is
 * the account's role (memberRoleName, not roleMissing), and the ExternalId matches when the account requires
 * one. Every refusal is AccessDenied with the same message, as in AWS; the AssumeRole log says why.
 * A single-account sandbox lets any role of its own account be assumed.
 */
import type { AssumeRoleRecord, SandboxBackend } from './backend';
import type { FaultErrorCode, StsOperation } from './faults';
import { STS_OPERATIONS } from './faults';
import { assumedRoleArn, roleId, type CredentialsProblem, type SandboxCaller, type SandboxSession } from './sessions';
import { el, wrap, type QueryErrorLike } from './xml';

export const STS_API_VERSION = '2011-06-15';

const STS_ERRORS = {
  AccessDenied: { status: 403, type: 'Sender', message: 'User is not authorized to perform this action.' },
  ValidationError: { status: 400, type: 'Sender', message: 'Validation error.' },
  InvalidAction: { status: 400, type: 'Sender', message: 'The action is not valid for this endpoint.' },
  MissingAuthenticationToken: { status: 403, type: 'Sender', message: 'Request is missing Authentication Token' },
  InvalidClientTokenId: { status: 403, type: 'Sender', message: 'The security token included in the request is invalid.' },
  ExpiredToken: { status: 403, type: 'Sender', message: 'The security token included in the request is expired' },
  RegionDisabledException: { status: 403, type: 'Sender', message: 'STS is not activated in this region for account. Your account administrator can activate STS in this region using the IAM Console.' },
  Throttling: { status: 400, type: 'Sender', message: 'Rate exceeded' },
  InternalFailure: { status: 500, type: 'Receiver', message: 'An internal error has occurred.' },
  ServiceUnavailable: { status: 503, type: 'Receiver', message: 'Service is unavailable.' },
} as const satisfies Record<string, { status: number; type: 'Sender' | 'Receiver'; message: string }>;

export type StsErrorCode = keyof typeof STS_ERRORS;

export class StsError extends Error implements QueryErrorLike {
  override readonly name = 'StsError';
  readonly status: number;
  readonly type: 'Sender' | 'Receiver';

  constructor(
    readonly code: StsErrorCode,
    message?: string,
    /** For the AssumeRole log: why it was refused. */
    readonly reason?: string,
  ) {
    super(message ?? STS_ERRORS[code].message);
    this.status = STS_ERRORS[code].status;
    this.type = STS_ERRORS[code].type;
  }
}

const FAULT_CODES: Partial<Record<FaultErrorCode, StsErrorCode>> = {
  AccessDenied: 'AccessDenied',
  Throttling: 'Throttling',
  ServiceFailure: 'InternalFailure',
  ServiceUnavailable: 'ServiceUnavailable',
  ExpiredToken: 'ExpiredToken',
  InvalidClientTokenId: 'InvalidClientTokenId',
  ValidationError: 'ValidationError',
  RegionDisabledException: 'RegionDisabledException',
};

/** A fault code in STS's words, or undefined when STS has no such error. */
export function stsFaultError(code: FaultErrorCode, message: string | undefined, deniedMessage: () => string): StsError | undefined {
  const sts = FAULT_CODES[code];
  if (sts === undefined) return undefined;
  return new StsError(sts, message ?? (sts === 'AccessDenied' ? deniedMessage() : undefined), 'fault');
}

export const stsCredentialsError = (problem: CredentialsProblem): StsError => new StsError(problem);

export const isStsOperation = (action: string): action is StsOperation => (STS_OPERATIONS as readonly string[]).includes(action);

// ------------------------------------------------------------ parameters

const ROLE_ARN_RE = /^arn:aws:iam::(\d{12}):role\/(?:[\u0021-\u007e]*\/)?([\w+=,.@-]{1,64})$/;

interface AssumeRoleInput {
  roleArn: string;
  accountId: string;
  rolePath: string;
  roleName: string;
  sessionName: string;
  externalId: string | undefined;
  durationSeconds: number | undefined;
}

/** The account a RoleArn names (for fault rules and counts), if it names one. */
export const roleArnAccount = (roleArn: string | undefined): string | undefined => ROLE_ARN_RE.exec(roleArn ?? '')?.[1];

/** Collects every problem, then answers one ValidationError worded like STS (Coral). */
function readAssumeRole(params: Record<string, string>, caller: SandboxCaller): AssumeRoleInput {
  const problems: string[] = [];
  const fail = (field: string, value: string | undefined, constraint: string) =>
    problems.push(`Value ${value === undefined ? 'null' : `'${value}'`} at '${field}' failed to satisfy constraint: ${constraint}`);
  const str = (name: string, field: string, required: boolean, min: number, max: number, pattern?: [RegExp, string]) => {
    const v = params[name];
    if (v === undefined) {
      if (required) fail(field, v, 'Member must not be null');
    } else if (v.length < min) fail(field, v, `Member must have length greater than or equal to ${min}`);
    else if (v.length > max) fail(field, v, `Member must have length less than or equal to ${max}`);
    else if (pattern && !pattern[0].test(v)) fail(field, v, `Member must satisfy regular expression pattern: ${pattern[1]}`);
    return v;
  };
  const roleArn = str('RoleArn', 'roleArn', true, 20, 2048);
  const sessionName = str('RoleSessionName', 'roleSessionName', true, 2, 64, [/^[\w+=,.@-]*$/, '[\\w+=,.@-]*']);
  const externalId = str('ExternalId', 'externalId', false, 2, 1224, [/^[\w+=,.@:/-]*$/, '[\\w+=,.@:\\/-]*']);
  const rawDuration = params['DurationSeconds'];
  let durationSeconds: number | undefined;
  if (rawDuration !== undefined) {
    durationSeconds = Number(rawDuration);
    if (!/^-?\d+$/.test(rawDuration)) fail('durationSeconds', rawDuration, 'Member must be an integer');
    else if (durationSeconds < 900) fail('durationSeconds', rawDuration, 'Member must have value greater than or equal to 900');
    else if (durationSeconds > 43_200) fail('durationSeconds', rawDuration, 'Member must have value less than or equal to 43200');
  }
  if (problems.length > 0) {
    throw new StsError('ValidationError', `${problems.length} validation error${problems.length === 1 ? '' : 's'} detected: ${problems.join('; ')}`);
  }
  const m = ROLE_ARN_RE.exec(roleArn!);
  if (!m) throw new StsError('ValidationError', `${roleArn} is invalid`);
  if (caller.kind === 'assumed-role' && durationSeconds !== undefined && durationSeconds > 3600) {
    throw new StsError('ValidationError', 'The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.');
  }
  const path = roleArn!.slice(roleArn!.indexOf(':role/') + 5, roleArn!.length - m[2]!.length);
  return { roleArn: roleArn!, accountId: m[1]!, rolePath: path, roleName: m[2]!, sessionName: sessionName!, externalId, durationSeconds };
}

// ------------------------------------------------------------ operations

const truncateToSecond = (ms: number): Date => new Date(Math.floor(ms / 1000) * 1000);

function refuse(backend: SandboxBackend, caller: SandboxCaller, roleArn: string, reason: string): StsError {
  return new StsError(
    'AccessDenied',
    `User: ${backend.callerArn(caller)} is not authorized to perform: sts:AssumeRole on resource: ${roleArn}`,
    reason,
  );
}

/** The session AssumeRole issues, or a refusal; the caller's request is already authenticated. */
function assumeRole(backend: SandboxBackend, caller: SandboxCaller, input: AssumeRoleInput): SandboxSession {
  const { accountId } = input;
  const org = backend.organization;
  let roleName = input.roleName;
  if (org) {
    const member = org.getAccount(accountId);
    if (!member || !backend.hasAccount(accountId)) throw refuse(backend, caller, input.roleArn, 'not-in-organization');
    if (member.status !== 'ACTIVE') throw refuse(backend, caller, input.roleArn, 'account-not-active');
    // IAM role names are case-insensitive; the session carries the role's own spelling.
    if (input.rolePath !== '/' || roleName.toLowerCase() !== org.memberRoleName.toLowerCase()) {
      throw refuse(backend, caller, input.roleArn, 'role-name');
    }
    if (member.roleMissing) throw refuse(backend, caller, input.roleArn, 'role-missing');
    if (member.externalId !== undefined && input.externalId !== member.externalId) {
      throw refuse(backend, caller, input.roleArn, 'external-id');
    }
    roleName = org.memberRoleName;
  } else if (!backend.hasAccount(accountId)) {
    throw refuse(backend, caller, input.roleArn, 'not-in-organization');
  }
  const issuedAt = truncateToSecond(backend.now().getTime());
  const lifetime = backend.credentialLifetimeSeconds ?? input.durationSeconds ?? 3600;
  return backend.sessions.issue({
    accountId,
    roleName,
    roleArn: `arn:aws:iam::${accountId}:role/${roleName}`,
    sessionName: input.sessionName,
    ...(input.externalId !== undefined ? { externalId: input.externalId } : {}),
    issuedAt,
    expiresAt: new Date(issuedAt.getTime() + lifetime * 1000),
  });
}

function assumeRoleXml(s: SandboxSession): string {
  return (
    wrap(
      'Credentials',
      el('AccessKeyId', s.accessKeyId) + el('SecretAccessKey', s.secretAccessKey) + el('SessionToken', s.sessionToken) + el('Expiration', s.expiresAt),
    ) +
    wrap('AssumedRoleUser', el('AssumedRoleId', `${roleId(s.accountId, s.roleName)}:${s.sessionName}`) + el('Arn', assumedRoleArn(s)))
  );
}

function callerIdentityXml(backend: SandboxBackend, caller: SandboxCaller): string {
  if (caller.kind === 'assumed-role') {
    const s = caller.session;
    return el('UserId', `${roleId(s.accountId, s.roleName)}:${s.sessionName}`) + el('Account', s.accountId) + el('Arn', assumedRoleArn(s));
  }
  const state = backend.state(caller.accountId);
  const user = state.callerUser();
  return el('UserId', user.userId) + el('Account', caller.accountId) + el('Arn', state.userArn(user));
}

/** Runs an STS action: the inner XML of `<XxxResult>`, and the session AssumeRole issued. */
export function handleStsAction(
  action: StsOperation,
  params: Record<string, string>,
  caller: SandboxCaller,
  backend: SandboxBackend,
): { resultXml: string; session?: SandboxSession } {
  if (action === 'GetCallerIdentity') return { resultXml: callerIdentityXml(backend, caller) };
  const session = assumeRole(backend, caller, readAssumeRole(params, caller));
  return { resultXml: assumeRoleXml(session), session };
}

/** The AssumeRole log entry for a request and its outcome (an issued session's key, or the error). */
export function assumeRoleRecord(
  backend: SandboxBackend,
  caller: SandboxCaller,
  params: Record<string, string>,
  outcome: { accessKeyId: string } | StsError,
): AssumeRoleRecord {
  const roleArn = params['RoleArn'] ?? '';
  const m = ROLE_ARN_RE.exec(roleArn);
  const duration = params['DurationSeconds'];
  return {
    at: backend.now(),
    callerArn: backend.callerArn(caller),
    roleArn,
    accountId: m?.[1],
    roleName: m?.[2],
    sessionName: params['RoleSessionName'],
    externalId: params['ExternalId'],
    durationSeconds: duration !== undefined && /^\d+$/.test(duration) ? Number(duration) : undefined,
    ...(outcome instanceof StsError
      ? { outcome: outcome.code, ...(outcome.reason !== undefined ? { reason: outcome.reason } : {}) }
      : { outcome: 'Issued', accessKeyId: outcome.accessKeyId }),
  };
}
