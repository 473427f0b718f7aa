import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * Just enough STS (Query: AssumeRole, GetCallerIdentity) and Organizations (JSON 1.1: ListAccounts, ListParents, DescribeOrganizationalUnit, whose name is the OU's id)
 * for the real SDK, on one loopback endpoint, until the built-in sandbox serves them (branch sandbox-org). IAM
 * requests (Version 2010-05-08) are forwarded to the IAM sandbox of the account the caller's keys act in, so
 * one endpoint serves every account as AWS does. Callers are told apart by the access key id in their SigV4
 * Authorization header; signatures are not checked.
 */
export interface FakeIdentity {
  account: string;
  arn: string;
}

export interface FakeRole {
  /** Caller ARNs the trust policy allows; default: any caller. */
  trusted?: string[];
  /** The sts:ExternalId its trust policy requires. */
  externalId?: string;
  /** The account its sessions act in, when not the role's own: a role that is not what its ARN says. */
  actsIn?: string;
}

export interface FakeOrgAccount {
  id: string;
  name: string;
  email: string;
  state: 'ACTIVE' | 'SUSPENDED' | 'PENDING_CLOSURE' | 'CLOSED' | 'PENDING_ACTIVATION';
  /** Its parent: the root id or an OU id. */
  parent: string;
}

export interface FakeOrganization {
  rootId: string;
  /** OU id → its parent (the root or another OU). */
  ous: Record<string, string>;
  accounts: FakeOrgAccount[];
  /** ListAccounts page size (the SDK's paginator follows NextToken). */
  pageSize?: number;
  /** Every Organizations call answers AccessDenied (credentials of a member account). */
  denied?: boolean;
}

export interface FakeAwsOptions {
  /** Access key id → who it is. */
  identities: Record<string, FakeIdentity>;
  /** Role ARN → trust; a role not listed does not exist (AccessDenied, as STS answers). */
  roles?: Record<string, FakeRole>;
  /** Null: the caller's account is in no organization. */
  organization?: FakeOrganization | null;
  /** Account id → its IAM sandbox URL. */
  iam?: Record<string, string>;
}

export interface FakeCall {
  service: 'sts' | 'organizations' | 'iam';
  action: string;
  accessKeyId: string;
  params: Record<string, unknown>;
}

export interface FakeAws {
  url: string;
  /** Mutable: tests change roles, the organization and IAM routes between calls. */
  options: FakeAwsOptions;
  calls: FakeCall[];
  count(service: FakeCall['service'], action?: string): number;
  close(): Promise<void>;
}

const STS_NS = 'https://sts.amazonaws.com/doc/2011-06-15/';

export async function startFakeAws(options: FakeAwsOptions): Promise<FakeAws> {
  const calls: FakeCall[] = [];
  let issued = 0;
  const server = createServer((req, res) => {
    handle(req, res).catch((err) => send(res, 500, 'text/plain', String(err)));
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    const accessKeyId = /Credential=([^/]+)\//.exec(req.headers.authorization ?? '')?.[1] ?? '';
    const caller = options.identities[accessKeyId];
    const target = req.headers['x-amz-target'];
    if (typeof target === 'string') return organizations(res, target.split('.')[1], JSON.parse(body || '{}'), accessKeyId, caller);
    const params = Object.fromEntries(new URLSearchParams(body));
    if (params.Version === '2011-06-15') return sts(res, params, accessKeyId, caller);
    calls.push({ service: 'iam', action: params.Action, accessKeyId, params });
    const iam = caller && options.iam?.[caller.account];
    if (!iam) return stsError(res, 403, 'InvalidClientTokenId', `no IAM here for key ${accessKeyId}`);
    // The account's own sandbox knows no session this stand-in issued: it gets the account's base credentials.
    const authorization = String(req.headers.authorization ?? '').replace(/Credential=[^/]+\//, 'Credential=AKIAFAKEAWSFORWARDED0/');
    const forwarded = await fetch(iam + req.url, { method: req.method, headers: { 'content-type': String(req.headers['content-type']), authorization }, body });
    send(res, forwarded.status, forwarded.headers.get('content-type') ?? 'text/xml', await forwarded.text());
  }

  function sts(res: ServerResponse, params: Record<string, string>, accessKeyId: string, caller: FakeIdentity | undefined): void {
    calls.push({ service: 'sts', action: params.Action, accessKeyId, params });
    if (!caller) return stsError(res, 403, 'InvalidClientTokenId', 'The security token included in the request is invalid.');
    if (params.Action === 'GetCallerIdentity') {
      return send(res, 200, 'text/xml', `<GetCallerIdentityResponse xmlns="${STS_NS}"><GetCallerIdentityResult><Arn>${caller.arn}</Arn><UserId>AIDAFAKE</UserId><Account>${caller.account}</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></GetCallerIdentityResponse>`);
    }
    if (params.Action !== 'AssumeRole') return stsError(res, 400, 'InvalidAction', `not faked: ${params.Action}`);
    const role = options.roles?.[params.RoleArn];
    const trusted = role && (!role.trusted || role.trusted.includes(caller.arn)) && (role.externalId ?? null) === (params.ExternalId ?? null);
    if (!trusted) return stsError(res, 403, 'AccessDenied', `User: ${caller.arn} is not authorized to perform: sts:AssumeRole on resource: ${params.RoleArn}`);
    const key = `ASIA${String(++issued).padStart(16, '0')}`;
    const roleName = params.RoleArn.split('/').pop();
    const account = role.actsIn ?? params.RoleArn.split(':')[4];
    const arn = `arn:aws:sts::${account}:assumed-role/${roleName}/${params.RoleSessionName}`;
    options.identities[key] = { account, arn };
    const expiration = new Date(Date.now() + 3600_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    send(res, 200, 'text/xml', `<AssumeRoleResponse xmlns="${STS_NS}"><AssumeRoleResult><AssumedRoleUser><AssumedRoleId>AROAFAKE:${params.RoleSessionName}</AssumedRoleId><Arn>${arn}</Arn></AssumedRoleUser><Credentials><AccessKeyId>${key}</AccessKeyId><SecretAccessKey>${randomBytes(20).toString('hex')}</SecretAccessKey><SessionToken>${randomBytes(32).toString('base64')}</SessionToken><Expiration>${expiration}</Expiration></Credentials></AssumeRoleResult><ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></AssumeRoleResponse>`);
  }

  function organizations(res: ServerResponse, action: string, params: Record<string, unknown>, accessKeyId: string, caller: FakeIdentity | undefined): void {
    calls.push({ service: 'organizations', action, accessKeyId, params });
    const org = options.organization;
    const error = (type: string, message: string) => send(res, 400, 'application/x-amz-json-1.1', JSON.stringify({ __type: type, Message: message }));
    if (!caller) return error('UnrecognizedClientException', 'The security token included in the request is invalid.');
    if (!org) return error('AWSOrganizationsNotInUseException', 'Your account is not a member of an organization.');
    if (org.denied) return error('AccessDeniedException', 'You don\'t have permissions to access this resource.');
    if (action === 'ListAccounts') {
      const start = Number(params.NextToken ?? 0);
      const size = org.pageSize ?? 20;
      const page = org.accounts.slice(start, start + size).map((a) => ({
        Id: a.id, Arn: `arn:aws:organizations::${caller.account}:account/o-fake/${a.id}`, Email: a.email, Name: a.name, State: a.state,
        JoinedMethod: 'CREATED', JoinedTimestamp: 1_700_000_000,
      }));
      const next = start + size < org.accounts.length ? String(start + size) : undefined;
      return send(res, 200, 'application/x-amz-json-1.1', JSON.stringify({ Accounts: page, ...(next ? { NextToken: next } : {}) }));
    }
    if (action === 'ListParents') {
      const child = String(params.ChildId);
      const parent = org.accounts.find((a) => a.id === child)?.parent ?? org.ous[child];
      if (!parent) return error('ChildNotFoundException', `no child ${child}`);
      return send(res, 200, 'application/x-amz-json-1.1', JSON.stringify({ Parents: [{ Id: parent, Type: parent === org.rootId ? 'ROOT' : 'ORGANIZATIONAL_UNIT' }] }));
    }
    if (action === 'DescribeOrganizationalUnit') {
      const id = String(params.OrganizationalUnitId);
      if (!(id in org.ous)) return error('OrganizationalUnitNotFoundException', `no OU ${id}`);
      return send(res, 200, 'application/x-amz-json-1.1', JSON.stringify({ OrganizationalUnit: { Id: id, Name: id, Arn: `arn:aws:organizations::${caller.account}:ou/o-fake/${id}` } }));
    }
    error('InvalidInputException', `not faked: ${action}`);
  }

  function stsError(res: ServerResponse, status: number, code: string, message: string): void {
    send(res, status, 'text/xml', `<ErrorResponse xmlns="${STS_NS}"><Error><Type>Sender</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`);
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    options,
    calls,
    count: (service, action) => calls.filter((c) => c.service === service && (!action || c.action === action)).length,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, contentType: string, body: string): void {
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body), 'x-amzn-requestid': randomUUID() });
  res.end(body);
}
