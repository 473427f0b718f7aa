/**
 * The sandbox's HTTP server: IAM (awsQuery, 2010-05-08), STS (awsQuery, 2011-06-15), Organizations
 * (awsJson1_1) and Security Hub (restJson1, POST /findings/import and /findings: securityhub-api.ts) on one port,
 * routed per request, closely enough that the real SDK clients cannot tell.
 *
 * - SigV4 signatures are not verified, but an Authorization header (or presigned X-Amz-Signature) is required,
 *   and its access key id decides the account: temporary keys from AssumeRole act in the role's account,
 *   any other key in the default account (the single account, or the organization's callerAccountId).
 * - GetUser / GetLoginProfile / ListAccessKeys / UpdateAccessKey / DeleteAccessKey without UserName act on the
 *   caller: the fixture's `callerUserName`, else a synthetic unlisted user `keywarden-scanner` of the account.
 * - Admin endpoints (JSON, no auth) under /_sandbox/: see src/sandbox/README.md.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { handleAdmin } from './admin';
import { SandboxBackend, type AssumeRoleRecord, type SandboxAccountHandle } from './backend';
import { IamError, type IamErrorCode } from './errors';
import { FaultRulesSchema, SERVICE_FAULT_CODES, type FaultErrorCode, type FaultRule, type FaultRuleInput, type SandboxCallCounts } from './faults';
import { FixtureError, issuesFromZod, isParsedFixture, parseFixture, type FixtureInput, type SandboxFixture } from './fixture';
import { HttpError, readBody, send, sendJson } from './http';
import { ACTION_HANDLERS, faultErrorMessage, isSandboxOperation, subjectUserOf, type ActionParams, type IamCaller } from './handlers';
import type { SandboxOrganization } from './organization';
import {
  isOrganizationFixture,
  isParsedOrganizationFixture,
  parseOrganizationFixture,
  type AnySandboxFixture,
  type OrganizationAccountStatus,
  type SandboxOrganizationFixture,
} from './organization-fixture';
import {
  handleOrganizationsOperation,
  isOrganizationsOperation,
  ORGANIZATIONS_CONTENT_TYPE,
  ORGANIZATIONS_TARGET_PREFIX,
  OrganizationsError,
  organizationsCredentialsError,
  organizationsFaultError,
} from './organizations-api';
import { CredentialsRefused, requestCredentials, type SandboxCaller, type SandboxSession } from './sessions';
import type { SandboxState } from './state';
import { batchImportFindings, batchUpdateFindings, getFindings, SECURITYHUB_ROUTES, SecurityHubError, securityHubFaultError, SecurityHubState } from './securityhub-api';
import { assumeRoleRecord, handleStsAction, isStsOperation, roleArnAccount, STS_API_VERSION, StsError, stsCredentialsError, stsFaultError } from './sts-api';
import { errorXml, STS_XML_NAMESPACE, successXml } from './xml';

export { DEFAULT_SANDBOX_SEED } from './backend';

export const IAM_API_VERSION = '2010-05-08';

export interface IamSandboxHooks {
  /**
   * Runs before each IAM action (not STS or Organizations), after auth/action checks and before faults and the
   * handler, with the IAM state of the account the call acts in; may mutate state. Throwing answers an error.
   */
  beforeAction?: (action: string, params: Record<string, string>, state: SandboxState) => void | Promise<void>;
  /** Runs after each IAM action that succeeded, before the answer is sent (persisting the state, for one). */
  afterAction?: (action: string, state: SandboxState) => void | Promise<void>;
}

export interface IamSandboxOptions {
  /** A single account or an organization; parsed, or input form (parsed against `now()`). */
  fixture: AnySandboxFixture;
  /** 0 (default) = a random free port. */
  port?: number;
  /** Default 127.0.0.1: the sandbox has unauthenticated admin endpoints. */
  host?: string;
  /** Clock for the credential report, session expiry and fixture time specs. */
  now?: () => Date;
  /** Seed for fault sampling; overrides the fixture's `seed`. */
  seed?: number;
  hooks?: IamSandboxHooks;
}

export interface IamSandbox {
  /** e.g. http://127.0.0.1:54321 — pass as `endpoint` to IAMClient, STSClient and OrganizationsClient. */
  readonly url: string;
  readonly port: number;
  /** The single account's IAM; for an organization, the default (callerAccountId, else management) account's. */
  readonly state: SandboxState;
  /** The organization, or null for a single-account fixture. Change account status, parents, membership here. */
  readonly organization: SandboxOrganization | null;
  /** An account of the sandbox (throws for an unknown one); its state is created on first use. */
  account(accountId: string): SandboxAccountHandle;
  /** Accounts whose IAM state exists yet: a generated organization creates each when first used. */
  accountsWithState(): string[];
  /** All calls, or those acting in one account (IAM and GetCallerIdentity: the credentials' account; AssumeRole: the role's). */
  calls(accountId?: string): SandboxCallCounts;
  /** Resets the call counts and the AssumeRole log. */
  resetCalls(): void;
  /** Every AssumeRole since the last reset, refused ones included. */
  assumeRoleCalls(): AssumeRoleRecord[];
  /** Every temporary credential issued since the fixture was loaded, expired ones included. */
  sessions(): SandboxSession[];
  /**
   * An account's Security Hub (default: the default account's): its imported findings by Id, and refusals to
   * inject. Kept across replaceFixture; created on first use.
   */
  securityHub(accountId?: string): SecurityHubState;
  /** Replaces the fault rules (validated) and resets their `times` counters. */
  setFaults(rules: readonly FaultRuleInput[]): void;
  getFaults(): FaultRule[];
  /** GetCredentialReport answers ReportNotPresent until the next GenerateCredentialReport (default account). */
  invalidateCredentialReport(): void;
  /** GetCredentialReport answers ReportExpired until the next GenerateCredentialReport (default account). */
  expireCredentialReport(): void;
  /** Makes the current report look `ageMs` old (and complete) (default account). */
  setCredentialReportAge(ageMs: number): void;
  /** Replaces everything from a fixture of either kind; throws FixtureError and keeps state if invalid. */
  replaceFixture(fixture: AnySandboxFixture | string): void;
  close(): Promise<void>;
}

/** Parses a fixture of either kind (JSON text, input form or already parsed). */
export function toSandboxFixture(f: AnySandboxFixture | string, now: Date): SandboxFixture | SandboxOrganizationFixture {
  let data: unknown = f;
  if (typeof f === 'string') {
    try {
      data = JSON.parse(f);
    } catch (e) {
      throw new FixtureError([{ path: '(root)', message: `invalid JSON: ${(e as Error).message}` }]);
    }
  }
  if (isOrganizationFixture(data)) return isParsedOrganizationFixture(data) ? data : parseOrganizationFixture(data, now);
  const single = data as SandboxFixture | FixtureInput;
  return typeof single === 'object' && single !== null && isParsedFixture(single) ? single : parseFixture(single, now);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const IAM_FAULT_CODES: readonly FaultErrorCode[] = SERVICE_FAULT_CODES.iam;

export async function startIamSandbox(opts: IamSandboxOptions): Promise<IamSandbox> {
  const now = opts.now ?? (() => new Date());
  const backend = new SandboxBackend(toSandboxFixture(opts.fixture, now()), now, opts.seed);
  const { counters } = backend;

  const setFaults = (rules: readonly FaultRuleInput[]): void => {
    const parsed = FaultRulesSchema.safeParse(rules);
    if (!parsed.success) throw new FixtureError(issuesFromZod(parsed.error), 'Invalid fault rules');
    backend.faults.setRules(parsed.data);
  };

  const replaceFixture = (f: AnySandboxFixture | string): void => {
    backend.load(toSandboxFixture(f, now())); // parsing throws before anything changes
  };

  const resolveCaller = (req: IncomingMessage, query: URLSearchParams): SandboxCaller =>
    backend.sessions.resolve(requestCredentials(req.headers, query), backend.defaultAccountId, now());

  /** IAM answers AccessDenied for an account that is no longer ACTIVE (suspended accounts cannot be used). */
  const inactiveAccount = (accountId: string): OrganizationAccountStatus | undefined => {
    const status = backend.organization?.getAccount(accountId)?.status;
    return status !== undefined && status !== 'ACTIVE' ? status : undefined;
  };

  // ---------------------------------------------------------------- IAM and STS (awsQuery)

  async function handleQuery(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const body = req.method === 'POST' ? await readBody(req) : '';
    const params: ActionParams = {};
    // awsQuery: the SDK POSTs a form body; GET with a query string is also valid IAM usage.
    for (const source of [url.searchParams, new URLSearchParams(body)]) {
      for (const [k, v] of source) if (!(k in params)) params[k] = v;
    }
    if (params['Version'] === STS_API_VERSION) return handleSts(req, res, params);
    return handleIam(req, res, params);
  }

  async function handleIam(req: IncomingMessage, res: ServerResponse, params: ActionParams): Promise<void> {
    const requestId = randomUUID();
    const action = params['Action'] ?? '';
    const opName = action === '' ? '(none)' : action;
    let accountId: string | undefined;
    const reply = (status: number, xml: string, ok: boolean): void => {
      counters.record(accountId, opName, ok);
      send(res, status, 'text/xml', xml, { 'x-amzn-RequestId': requestId });
    };
    const replyError = (err: IamError): void => reply(err.status, errorXml(err, requestId), false);

    try {
      let caller: SandboxCaller;
      try {
        caller = resolveCaller(req, new URLSearchParams(params));
      } catch (e) {
        if (e instanceof CredentialsRefused) throw new IamError(e.problem);
        throw e;
      }
      accountId = caller.accountId;
      const version = params['Version'];
      if (version !== IAM_API_VERSION || !isSandboxOperation(action)) {
        throw new IamError('InvalidAction', `Could not find operation ${action} for version ${version ?? 'NO_VERSION_SPECIFIED'}`);
      }
      const iamCaller: IamCaller | undefined = caller.kind === 'assumed-role' ? { arn: backend.callerArn(caller), isUser: false } : undefined;
      const inactive = inactiveAccount(caller.accountId);
      if (inactive) {
        throw new IamError(
          'AccessDenied',
          `User: ${backend.callerArn(caller)} is not authorized to perform: iam:${action} because account ${caller.accountId} is ${inactive}`,
        );
      }
      const state = backend.state(caller.accountId);
      await opts.hooks?.beforeAction?.(action, { ...params }, state);
      const subject = subjectUserOf(action, params, state, iamCaller);
      const decision = backend.faults.evaluate({ service: 'iam', operation: action, accountId, userName: subject }, (code, message) =>
        IAM_FAULT_CODES.includes(code)
          ? new IamError(code as IamErrorCode, message ?? faultErrorMessage(code as IamErrorCode, action, subject, state, iamCaller))
          : undefined,
      );
      if (decision.latencyMs > 0) await sleep(decision.latencyMs);
      if (decision.error) throw decision.error;
      const result = ACTION_HANDLERS[action](params, state, iamCaller);
      await opts.hooks?.afterAction?.(action, state);
      reply(200, successXml(action, result, requestId), true);
    } catch (e) {
      if (e instanceof IamError) replyError(e);
      else replyError(new IamError('ServiceFailure', e instanceof Error ? e.message : String(e)));
    }
  }

  async function handleSts(req: IncomingMessage, res: ServerResponse, params: ActionParams): Promise<void> {
    const requestId = randomUUID();
    const action = params['Action'] ?? '';
    let accountId: string | undefined;
    let caller: SandboxCaller | undefined;
    const reply = (status: number, xml: string, ok: boolean): void => {
      counters.record(accountId, action === '' ? '(none)' : action, ok);
      send(res, status, 'text/xml', xml, { 'x-amzn-RequestId': requestId });
    };
    try {
      try {
        caller = resolveCaller(req, new URLSearchParams(params));
      } catch (e) {
        if (e instanceof CredentialsRefused) throw stsCredentialsError(e.problem);
        throw e;
      }
      if (!isStsOperation(action)) throw new StsError('InvalidAction', `Could not find operation ${action} for version ${STS_API_VERSION}`);
      // AssumeRole is about the role's account: that is where its faults and counts go.
      accountId = action === 'AssumeRole' ? roleArnAccount(params['RoleArn']) : caller.accountId;
      const who = caller;
      const decision = backend.faults.evaluate({ service: 'sts', operation: action, accountId }, (code, message) =>
        stsFaultError(code, message, () =>
          action === 'AssumeRole'
            ? `User: ${backend.callerArn(who)} is not authorized to perform: sts:AssumeRole on resource: ${params['RoleArn'] ?? ''}`
            : `User: ${backend.callerArn(who)} is not authorized to perform: sts:${action}`,
        ),
      );
      if (decision.latencyMs > 0) await sleep(decision.latencyMs);
      if (decision.error) throw decision.error;
      const { resultXml, session } = handleStsAction(action, params, caller, backend);
      if (session) backend.assumeRoleLog.push(assumeRoleRecord(backend, caller, params, session));
      reply(200, successXml(action, resultXml, requestId, STS_XML_NAMESPACE), true);
    } catch (e) {
      const err = e instanceof StsError ? e : new StsError('InternalFailure', e instanceof Error ? e.message : String(e));
      if (action === 'AssumeRole' && caller) backend.assumeRoleLog.push(assumeRoleRecord(backend, caller, params, err));
      reply(err.status, errorXml(err, requestId, STS_XML_NAMESPACE), false);
    }
  }

  // ---------------------------------------------------------------- Organizations (awsJson1_1)

  async function handleOrganizations(req: IncomingMessage, res: ServerResponse, url: URL, target: string): Promise<void> {
    const requestId = randomUUID();
    const op = target.startsWith(ORGANIZATIONS_TARGET_PREFIX) ? target.slice(ORGANIZATIONS_TARGET_PREFIX.length) : target;
    let accountId: string | undefined;
    const reply = (status: number, value: unknown, ok: boolean): void => {
      counters.record(accountId, op === '' ? '(none)' : op, ok);
      send(res, status, ORGANIZATIONS_CONTENT_TYPE, JSON.stringify(value), { 'x-amzn-RequestId': requestId });
    };
    try {
      const body = await readBody(req);
      let caller: SandboxCaller;
      try {
        caller = resolveCaller(req, url.searchParams);
      } catch (e) {
        if (e instanceof CredentialsRefused) throw organizationsCredentialsError(e.problem);
        throw e;
      }
      accountId = caller.accountId;
      if (!target.startsWith(ORGANIZATIONS_TARGET_PREFIX) || !isOrganizationsOperation(op)) {
        throw new OrganizationsError('UnknownOperationException', `Unknown operation ${target}`);
      }
      let input: unknown;
      try {
        input = body.trim() === '' ? {} : JSON.parse(body);
      } catch {
        throw new OrganizationsError('SerializationException');
      }
      if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new OrganizationsError('SerializationException');
      const decision = backend.faults.evaluate({ service: 'organizations', operation: op, accountId }, organizationsFaultError);
      if (decision.latencyMs > 0) await sleep(decision.latencyMs);
      if (decision.error) throw decision.error;
      reply(200, handleOrganizationsOperation(op, input as Record<string, unknown>, caller, backend), true);
    } catch (e) {
      const err = e instanceof OrganizationsError ? e : new OrganizationsError('ServiceException', e instanceof Error ? e.message : String(e));
      reply(err.status, err.toJSON(), false);
    }
  }

  // ---------------------------------------------------------------- Security Hub (restJson1)

  const securityHubs = new Map<string, SecurityHubState>();
  const securityHubOf = (accountId: string): SecurityHubState => {
    let state = securityHubs.get(accountId);
    if (!state) securityHubs.set(accountId, (state = new SecurityHubState()));
    return state;
  };

  async function handleSecurityHub(req: IncomingMessage, res: ServerResponse, url: URL, op: string): Promise<void> {
    const requestId = randomUUID();
    let accountId: string | undefined;
    const reply = (status: number, value: unknown, ok: boolean, headers: Record<string, string> = {}): void => {
      counters.record(accountId, op, ok);
      send(res, status, 'application/json', JSON.stringify(value), { 'x-amzn-RequestId': requestId, ...headers });
    };
    try {
      // BatchImportFindings takes up to 6 MB a request (100 findings of up to 240 KB each).
      const body = await readBody(req, 6 << 20);
      let caller: SandboxCaller;
      try {
        caller = resolveCaller(req, url.searchParams);
      } catch (e) {
        if (e instanceof CredentialsRefused) throw new SecurityHubError('InvalidAccessException', `The security token included in the request is invalid (${e.problem})`);
        throw e;
      }
      accountId = caller.accountId;
      let input: Record<string, unknown>;
      try {
        input = body.trim() === '' ? {} : JSON.parse(body);
      } catch {
        throw new SecurityHubError('InvalidInputException', 'the request body is not JSON');
      }
      const decision = backend.faults.evaluate({ service: 'securityhub', operation: op, accountId }, securityHubFaultError);
      if (decision.latencyMs > 0) await sleep(decision.latencyMs);
      if (decision.error) throw decision.error;
      const state = securityHubOf(caller.accountId);
      reply(
        200,
        op === 'BatchImportFindings'
          ? batchImportFindings(input, caller.accountId, state, now())
          : op === 'BatchUpdateFindings'
            ? batchUpdateFindings(input, caller.accountId, state)
            : getFindings(input, state),
        true,
      );
    } catch (e) {
      const err = e instanceof SecurityHubError ? e : new SecurityHubError('InternalException', e instanceof Error ? e.message : String(e));
      reply(err.status, err.toJSON(), false, { 'x-amzn-ErrorType': err.code });
    }
  }

  function resetCalls(): void {
    counters.reset();
    backend.assumeRoleLog.length = 0;
  }

  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://sandbox');
    const run = async (): Promise<void> => {
      if (url.pathname.startsWith('/_sandbox/')) return handleAdmin(req, res, url, { backend, setFaults, replaceFixture, resetCalls, securityHubFindings: (id) => securityHubOf(id).list() });
      const securityHubOp = SECURITYHUB_ROUTES[`${req.method} ${url.pathname}`];
      if (securityHubOp) return handleSecurityHub(req, res, url, securityHubOp);
      const target = req.headers['x-amz-target'];
      if (url.pathname === '/' && req.method === 'POST' && typeof target === 'string') return handleOrganizations(req, res, url, target);
      if (url.pathname === '/' && (req.method === 'POST' || req.method === 'GET')) return handleQuery(req, res, url);
      sendJson(res, 404, { error: 'not found: the IAM, STS and Organizations APIs are served at POST /, Security Hub at POST /findings/import and /findings' });
    };
    run().catch((e: unknown) => {
      if (e instanceof HttpError) sendJson(res, e.status, { error: e.message });
      else sendJson(res, 500, { error: e instanceof Error ? e.message : String(e) });
    });
  });
  // The SDK keeps connections alive; a server closing idle sockets first causes ECONNRESET retries.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;

  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

  return {
    url,
    port,
    get state() {
      return backend.state(backend.defaultAccountId);
    },
    get organization() {
      return backend.organization;
    },
    account: (accountId) => backend.account(accountId),
    accountsWithState: () => backend.accountsWithState(),
    calls: (accountId) => counters.snapshot(accountId),
    resetCalls,
    assumeRoleCalls: () => backend.assumeRoleLog.map((r) => ({ ...r })),
    sessions: () => backend.sessions.all(),
    securityHub: (accountId) => securityHubOf(accountId ?? backend.defaultAccountId),
    setFaults,
    getFaults: () => backend.getFaults(),
    invalidateCredentialReport: () => backend.state(backend.defaultAccountId).invalidateCredentialReport(),
    expireCredentialReport: () => backend.state(backend.defaultAccountId).expireCredentialReport(),
    setCredentialReportAge: (ageMs) => backend.state(backend.defaultAccountId).setCredentialReportAge(ageMs),
    replaceFixture,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}
