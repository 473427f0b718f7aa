/**
 * Organizations (awsJson1_1, `X-Amz-Target: AWSOrganizationsV20161128.<Op>`): the read operations a fleet
 * sync needs, with Organizations' JSON error shapes (`__type`) and HTTP statuses from the SDK's model.
 *
 * Access as in AWS: an account outside any organization gets AWSOrganizationsNotInUseException; a member
 * account may DescribeOrganization but nothing else (AccessDeniedException); the management account may all.
 */
import type { SandboxBackend } from './backend';
import type { FaultErrorCode, OrganizationsOperation } from './faults';
import { ORGANIZATIONS_OPERATIONS } from './faults';
import type { SandboxOrganization, SandboxOrganizationAccount, SandboxOrganizationalUnit } from './organization';
import type { CredentialsProblem, SandboxCaller } from './sessions';

export const ORGANIZATIONS_TARGET_PREFIX = 'AWSOrganizationsV20161128.';
export const ORGANIZATIONS_CONTENT_TYPE = 'application/x-amz-json-1.1';

const ORGANIZATIONS_ERRORS = {
  AccessDeniedException: { status: 403, message: "You don't have permissions to access this resource." },
  AWSOrganizationsNotInUseException: { status: 404, message: 'Your account is not a member of an organization.' },
  AccountNotFoundException: { status: 404, message: "You specified an account that doesn't exist." },
  ChildNotFoundException: { status: 404, message: "We can't find an organizational unit (OU) or AWS account with the ChildId that you specified." },
  OrganizationalUnitNotFoundException: { status: 404, message: "We can't find an OU with the OrganizationalUnitId that you specified." },
  ParentNotFoundException: { status: 404, message: "We can't find a root or OU with the ParentId that you specified." },
  InvalidInputException: { status: 400, message: 'The requested operation failed because you provided invalid values for one or more of the request parameters.' },
  TooManyRequestsException: { status: 429, message: 'You have sent too many requests in too short a period of time. The quota helps protect against denial-of-service attacks. Try again later.' },
  ServiceException: { status: 500, message: "Organizations can't complete your request because of an internal service error. Try again later." },
  // Errors of the AWS JSON protocol itself.
  MissingAuthenticationTokenException: { status: 403, message: 'Missing Authentication Token' },
  UnrecognizedClientException: { status: 403, message: 'The security token included in the request is invalid.' },
  ExpiredTokenException: { status: 400, message: 'The security token included in the request is expired' },
  UnknownOperationException: { status: 400, message: 'Unknown operation' },
  SerializationException: { status: 400, message: 'Start of structure or map found where not expected.' },
} as const satisfies Record<string, { status: number; message: string }>;

export type OrganizationsErrorCode = keyof typeof ORGANIZATIONS_ERRORS;

export class OrganizationsError extends Error {
  override readonly name = 'OrganizationsError';
  readonly status: number;

  constructor(
    readonly code: OrganizationsErrorCode,
    message?: string,
    /** InvalidInputException's Reason (INVALID_PATTERN, MAX_VALUE_EXCEEDED, INVALID_NEXT_TOKEN, …). */
    readonly reason?: string,
  ) {
    super(message ?? ORGANIZATIONS_ERRORS[code].message);
    this.status = ORGANIZATIONS_ERRORS[code].status;
  }

  /** The JSON body: `__type` names the error (the SDK maps it to an exception class). */
  toJSON(): Record<string, string> {
    return { __type: this.code, Message: this.message, ...(this.reason !== undefined ? { Reason: this.reason } : {}) };
  }
}

const FAULT_CODES: Partial<Record<FaultErrorCode, OrganizationsErrorCode>> = {
  AccessDenied: 'AccessDeniedException',
  Throttling: 'TooManyRequestsException',
  ServiceFailure: 'ServiceException',
  ServiceUnavailable: 'ServiceException',
  ExpiredToken: 'ExpiredTokenException',
  InvalidClientTokenId: 'UnrecognizedClientException',
  InvalidInput: 'InvalidInputException',
  AWSOrganizationsNotInUseException: 'AWSOrganizationsNotInUseException',
  AccessDeniedException: 'AccessDeniedException',
  AccountNotFoundException: 'AccountNotFoundException',
  ChildNotFoundException: 'ChildNotFoundException',
  OrganizationalUnitNotFoundException: 'OrganizationalUnitNotFoundException',
  ParentNotFoundException: 'ParentNotFoundException',
  TooManyRequestsException: 'TooManyRequestsException',
  ServiceException: 'ServiceException',
};

/** A fault code in Organizations' words, or undefined when Organizations has no such error. */
export function organizationsFaultError(code: FaultErrorCode, message: string | undefined): OrganizationsError | undefined {
  const mapped = FAULT_CODES[code];
  // The rule's message is IAM-style "Rate exceeded" for sampled throttling; Organizations words it its own way.
  return mapped === undefined ? undefined : new OrganizationsError(mapped, mapped === 'TooManyRequestsException' ? undefined : message);
}

const CREDENTIALS_ERRORS: Record<CredentialsProblem, OrganizationsErrorCode> = {
  MissingAuthenticationToken: 'MissingAuthenticationTokenException',
  InvalidClientTokenId: 'UnrecognizedClientException',
  ExpiredToken: 'ExpiredTokenException',
};

export const organizationsCredentialsError = (problem: CredentialsProblem): OrganizationsError =>
  new OrganizationsError(CREDENTIALS_ERRORS[problem]);

export const isOrganizationsOperation = (op: string): op is OrganizationsOperation =>
  (ORGANIZATIONS_OPERATIONS as readonly string[]).includes(op);

// ------------------------------------------------------------ input

type Input = Record<string, unknown>;

const ACCOUNT_ID_RE = /^\d{12}$/;
const OU_ID_RE = /^ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}$/;
const ROOT_ID_RE = /^r-[0-9a-z]{4,32}$/;
const MAX_RESULTS = 20;

const invalid = (reason: string, message: string): OrganizationsError => new OrganizationsError('InvalidInputException', message, reason);

function requiredId(input: Input, field: string, patterns: RegExp[]): string {
  const v = input[field];
  if (v === undefined || v === null) throw invalid('INPUT_REQUIRED', `You must specify a value for ${field}.`);
  if (typeof v !== 'string' || !patterns.some((p) => p.test(v))) {
    throw invalid('INVALID_PATTERN', `You specified a value for ${field} that is not valid.`);
  }
  return v;
}

function maxResults(input: Input): number {
  const v = input['MaxResults'];
  if (v === undefined || v === null) return MAX_RESULTS;
  if (typeof v !== 'number' || !Number.isInteger(v)) throw invalid('INVALID_INPUT', 'MaxResults must be an integer.');
  if (v < 1) throw invalid('MIN_VALUE_EXCEEDED', 'You provided a value for MaxResults that is too small: the minimum is 1.');
  if (v > MAX_RESULTS) throw invalid('MAX_VALUE_EXCEEDED', `You provided a value for MaxResults that is too large: the maximum is ${MAX_RESULTS}.`);
  return v;
}

// ------------------------------------------------------------ pagination

interface PageToken {
  /** Operation and scope (e.g. the parent) the token belongs to. */
  o: string;
  /** Id of the last item returned, and its index then (used when that item has gone since). */
  k: string;
  i: number;
}

const badToken = (): OrganizationsError =>
  invalid('INVALID_NEXT_TOKEN', 'You specified an invalid value for nextToken. You must get the value from the response to a previous call to the API.');

/** One page of `items` after NextToken; tokens are opaque and tied to the operation and its scope. */
function page<T>(items: readonly T[], idOf: (t: T) => string, scope: string, input: Input): { page: T[]; nextToken?: string } {
  const max = maxResults(input);
  const token = input['NextToken'];
  let start = 0;
  if (token !== undefined && token !== null) {
    let data: Partial<PageToken>;
    try {
      data = JSON.parse(Buffer.from(String(token), 'base64url').toString('utf8')) as Partial<PageToken>;
    } catch {
      throw badToken();
    }
    if (data?.o !== scope || typeof data.k !== 'string' || typeof data.i !== 'number') throw badToken();
    const found = items.findIndex((t) => idOf(t) === data.k);
    start = found >= 0 ? found + 1 : Math.min(data.i + 1, items.length);
  }
  const out = items.slice(start, start + max);
  const end = start + out.length;
  if (end >= items.length || out.length === 0) return { page: out };
  const next: PageToken = { o: scope, k: idOf(out[out.length - 1]!), i: end - 1 };
  return { page: out, nextToken: Buffer.from(JSON.stringify(next), 'utf8').toString('base64url') };
}

// ------------------------------------------------------------ JSON shapes

/** awsJson timestamps are epoch seconds. */
const epochSeconds = (d: Date): number => d.getTime() / 1000;

function accountJson(org: SandboxOrganization, a: SandboxOrganizationAccount): Record<string, unknown> {
  return {
    Id: a.accountId,
    Arn: org.accountArn(a.accountId),
    Email: a.email,
    Name: a.name,
    // Status (being retired) has no CLOSED: a closed account is SUSPENDED there; State tells them apart.
    Status: a.status === 'CLOSED' ? 'SUSPENDED' : a.status,
    State: a.status,
    JoinedMethod: a.joinedMethod,
    JoinedTimestamp: epochSeconds(a.joinedAt),
  };
}

const ouJson = (org: SandboxOrganization, ou: SandboxOrganizationalUnit): Record<string, unknown> => ({
  Id: ou.id,
  Arn: org.ouArn(ou.id),
  Name: ou.name,
});

const withToken = (body: Record<string, unknown>, nextToken: string | undefined): Record<string, unknown> =>
  nextToken === undefined ? body : { ...body, NextToken: nextToken };

// ------------------------------------------------------------ operations

type Handler = (input: Input, org: SandboxOrganization) => Record<string, unknown>;

function requireParent(org: SandboxOrganization, parentId: string): void {
  if (parentId !== org.rootId && !org.getOrganizationalUnit(parentId)) throw new OrganizationsError('ParentNotFoundException');
}

const HANDLERS: Readonly<Record<OrganizationsOperation, Handler>> = {
  DescribeOrganization: (_input, org) => {
    // The management account cannot leave (SandboxOrganization.removeAccount refuses), so it is always there.
    const mgmt = org.getAccount(org.managementAccountId)!;
    return {
      Organization: {
        Id: org.id,
        Arn: org.arn,
        FeatureSet: 'ALL',
        MasterAccountArn: org.accountArn(org.managementAccountId),
        MasterAccountId: org.managementAccountId,
        MasterAccountEmail: mgmt.email,
        // Deprecated by AWS and answered empty.
        AvailablePolicyTypes: [],
      },
    };
  },
  DescribeAccount: (input, org) => {
    const id = requiredId(input, 'AccountId', [ACCOUNT_ID_RE]);
    const a = org.getAccount(id);
    if (!a) throw new OrganizationsError('AccountNotFoundException');
    return { Account: accountJson(org, a) };
  },
  DescribeOrganizationalUnit: (input, org) => {
    const id = requiredId(input, 'OrganizationalUnitId', [OU_ID_RE]);
    const ou = org.getOrganizationalUnit(id);
    if (!ou) throw new OrganizationsError('OrganizationalUnitNotFoundException');
    return { OrganizationalUnit: ouJson(org, ou) };
  },
  ListAccounts: (input, org) => {
    const p = page(org.accounts(), (a) => a.accountId, 'ListAccounts', input);
    return withToken({ Accounts: p.page.map((a) => accountJson(org, a)) }, p.nextToken);
  },
  ListAccountsForParent: (input, org) => {
    const parentId = requiredId(input, 'ParentId', [ROOT_ID_RE, OU_ID_RE]);
    requireParent(org, parentId);
    const p = page(org.accountsIn(parentId), (a) => a.accountId, `ListAccountsForParent:${parentId}`, input);
    return withToken({ Accounts: p.page.map((a) => accountJson(org, a)) }, p.nextToken);
  },
  ListOrganizationalUnitsForParent: (input, org) => {
    const parentId = requiredId(input, 'ParentId', [ROOT_ID_RE, OU_ID_RE]);
    requireParent(org, parentId);
    const p = page(org.organizationalUnitsIn(parentId), (ou) => ou.id, `ListOrganizationalUnitsForParent:${parentId}`, input);
    return withToken({ OrganizationalUnits: p.page.map((ou) => ouJson(org, ou)) }, p.nextToken);
  },
  ListParents: (input, org) => {
    const childId = requiredId(input, 'ChildId', [ACCOUNT_ID_RE, OU_ID_RE]);
    const parentId = org.parentOf(childId);
    if (parentId === undefined) throw new OrganizationsError('ChildNotFoundException');
    const p = page([parentId], (id) => id, `ListParents:${childId}`, input);
    return withToken({ Parents: p.page.map((id) => ({ Id: id, Type: id === org.rootId ? 'ROOT' : 'ORGANIZATIONAL_UNIT' })) }, p.nextToken);
  },
  ListRoots: (input, org) => {
    const p = page([org.rootId], (id) => id, 'ListRoots', input);
    return withToken({ Roots: p.page.map((id) => ({ Id: id, Arn: org.rootArn, Name: 'Root', PolicyTypes: [] })) }, p.nextToken);
  },
};

/** Runs an Organizations operation for the caller; the request is already authenticated. */
export function handleOrganizationsOperation(
  op: OrganizationsOperation,
  input: Input,
  caller: SandboxCaller,
  backend: SandboxBackend,
): Record<string, unknown> {
  const org = backend.organization;
  if (!org || !org.isMember(caller.accountId)) throw new OrganizationsError('AWSOrganizationsNotInUseException');
  if (caller.accountId !== org.managementAccountId && op !== 'DescribeOrganization') {
    throw new OrganizationsError('AccessDeniedException');
  }
  return HANDLERS[op](input, org);
}
