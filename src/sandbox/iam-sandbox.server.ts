/**
 * IAM sandbox: an HTTP server speaking the IAM Query API (awsQuery) closely enough that
 * @aws-sdk/client-iam cannot tell it from IAM, for the operations in SANDBOX_OPERATIONS.
 *
 * - SigV4 signatures are not verified, but an Authorization header (or presigned X-Amz-Signature) is required.
 * - GetUser / GetLoginProfile / ListAccessKeys / UpdateAccessKey / DeleteAccessKey without UserName act on the
 *   caller: the fixture's `callerUserName`, else a synthetic unlisted user `keywarden-scanner` of the account.
 * - Admin endpoints (JSON, no auth) under /_sandbox/: GET healthz, GET calls, POST calls/reset, GET|PUT faults,
 *   PUT fixture, POST credential-report/invalidate, POST credential-report/expire, PUT credential-report/age {ageMs}.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { IamError } from './errors';
import { CallCounter, FaultEngine, FaultRulesSchema, type FaultRule, type FaultRuleInput, type SandboxCallCounts } from './faults';
import { FixtureError, issuesFromZod, isParsedFixture, parseFixture, type FixtureInput, type SandboxFixture } from './fixture';
import { ACTION_HANDLERS, faultErrorMessage, isSandboxOperation, subjectUserOf, type ActionParams } from './handlers';
import { SandboxState } from './state';
import { errorXml, successXml } from './xml';

export const IAM_API_VERSION = '2010-05-08';

/** Used when neither the options nor the fixture give a seed, so runs stay deterministic. */
export const DEFAULT_SANDBOX_SEED = 20100508;

const MAX_BODY_BYTES = 1 << 20;

export interface IamSandboxHooks {
  /** Runs after auth/action checks and before faults and the handler; may mutate state. Throwing answers an error. */
  beforeAction?: (action: string, params: Record<string, string>, state: SandboxState) => void | Promise<void>;
}

export interface IamSandboxOptions {
  /** Parsed (parseFixture/loadFixture) or input form; input form is parsed against `now()`. */
  fixture: SandboxFixture | FixtureInput;
  /** 0 (default) = a random free port. */
  port?: number;
  /** Default 127.0.0.1: the sandbox has unauthenticated admin endpoints. */
  host?: string;
  /** Clock for the credential report (4-hour reuse, generation delay) and fixture time specs. */
  now?: () => Date;
  /** Seed for fault sampling; overrides the fixture's `seed`. */
  seed?: number;
  hooks?: IamSandboxHooks;
}

export interface IamSandbox {
  /** e.g. http://127.0.0.1:54321 — pass as `endpoint` to IAMClient. */
  readonly url: string;
  readonly port: number;
  readonly state: SandboxState;
  calls(): SandboxCallCounts;
  resetCalls(): void;
  /** Replaces the fault rules (validated) and resets their `times` counters. */
  setFaults(rules: readonly FaultRuleInput[]): void;
  getFaults(): FaultRule[];
  /** GetCredentialReport answers ReportNotPresent until the next GenerateCredentialReport. */
  invalidateCredentialReport(): void;
  /** GetCredentialReport answers ReportExpired until the next GenerateCredentialReport. */
  expireCredentialReport(): void;
  /** Makes the current report look `ageMs` old (and complete). */
  setCredentialReportAge(ageMs: number): void;
  /** Replaces the account (users, report, fault rules) from a fixture; throws FixtureError and keeps state if invalid. */
  replaceFixture(fixture: SandboxFixture | FixtureInput | string): void;
  close(): Promise<void>;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        reject(new HttpError(413, 'request body too large'));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function send(res: ServerResponse, status: number, contentType: string, body: string, headers: Record<string, string> = {}): void {
  if (res.writableEnded || res.destroyed) return;
  res.writeHead(status, {
    'Content-Type': contentType,
    'Content-Length': Buffer.byteLength(body),
    ...headers,
  });
  res.end(body);
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  if (status === 204) {
    if (!res.writableEnded && !res.destroyed) res.writeHead(204).end();
    return;
  }
  send(res, status, 'application/json', JSON.stringify(value));
}

export async function startIamSandbox(opts: IamSandboxOptions): Promise<IamSandbox> {
  const now = opts.now ?? (() => new Date());
  const toFixture = (f: SandboxFixture | FixtureInput | string): SandboxFixture =>
    typeof f === 'string' ? parseFixture(f, now()) : isParsedFixture(f) ? f : parseFixture(f, now());

  const fixture = toFixture(opts.fixture);
  const state = new SandboxState(fixture, now);
  const faults = new FaultEngine(fixture.faults, opts.seed ?? fixture.seed ?? DEFAULT_SANDBOX_SEED);
  const counter = new CallCounter();

  const setFaults = (rules: readonly FaultRuleInput[]): void => {
    const parsed = FaultRulesSchema.safeParse(rules);
    if (!parsed.success) throw new FixtureError(issuesFromZod(parsed.error), 'Invalid fault rules');
    faults.setRules(parsed.data);
  };

  const replaceFixture = (f: SandboxFixture | FixtureInput | string): void => {
    const next = toFixture(f); // throws before anything changes
    state.load(next);
    faults.setRules(next.faults);
    if (opts.seed === undefined && next.seed !== undefined) faults.reseed(next.seed);
  };

  async function handleApi(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const requestId = randomUUID();
    const body = req.method === 'POST' ? await readBody(req) : '';
    const params: ActionParams = {};
    // awsQuery: the SDK POSTs a form body; GET with a query string is also valid IAM usage.
    for (const source of [url.searchParams, new URLSearchParams(body)]) {
      for (const [k, v] of source) if (!(k in params)) params[k] = v;
    }
    const action = params['Action'] ?? '';
    const opName = action === '' ? '(none)' : action;
    const reply = (status: number, xml: string, ok: boolean): void => {
      counter.record(opName, ok);
      send(res, status, 'text/xml', xml, { 'x-amzn-RequestId': requestId });
    };
    const replyError = (err: IamError): void => reply(err.status, errorXml(err, requestId), false);

    try {
      if (!req.headers['authorization'] && params['X-Amz-Signature'] === undefined) {
        throw new IamError('MissingAuthenticationToken');
      }
      const version = params['Version'];
      if (version !== IAM_API_VERSION || !isSandboxOperation(action)) {
        throw new IamError('InvalidAction', `Could not find operation ${action} for version ${version ?? 'NO_VERSION_SPECIFIED'}`);
      }
      await opts.hooks?.beforeAction?.(action, { ...params }, state);
      const subject = subjectUserOf(action, params, state);
      const decision = faults.evaluate(action, subject, (code) => faultErrorMessage(code, action, subject, state));
      if (decision.latencyMs > 0) await sleep(decision.latencyMs);
      if (decision.error) throw decision.error;
      const result = ACTION_HANDLERS[action](params, state);
      reply(200, successXml(action, result, requestId), true);
    } catch (e) {
      if (e instanceof IamError) replyError(e);
      else replyError(new IamError('ServiceFailure', e instanceof Error ? e.message : String(e)));
    }
  }

  async function handleAdmin(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const route = `${req.method} ${path}`;
    const jsonBody = async (): Promise<unknown> => {
      const text = await readBody(req);
      try {
        return JSON.parse(text);
      } catch (e) {
        throw new HttpError(400, `invalid JSON: ${(e as Error).message}`);
      }
    };
    try {
      switch (route) {
        case 'GET /_sandbox/healthz':
          return sendJson(res, 200, { status: 'ok', users: state.userCount });
        case 'GET /_sandbox/calls':
          return sendJson(res, 200, counter.snapshot());
        case 'POST /_sandbox/calls/reset':
          counter.reset();
          return sendJson(res, 204, null);
        case 'GET /_sandbox/faults':
          return sendJson(res, 200, faults.getRules());
        case 'PUT /_sandbox/faults':
          setFaults((await jsonBody()) as FaultRuleInput[]);
          return sendJson(res, 204, null);
        case 'PUT /_sandbox/fixture':
          replaceFixture(await readBody(req));
          return sendJson(res, 204, null);
        case 'POST /_sandbox/credential-report/invalidate':
          state.invalidateCredentialReport();
          return sendJson(res, 204, null);
        case 'POST /_sandbox/credential-report/expire':
          state.expireCredentialReport();
          return sendJson(res, 204, null);
        case 'PUT /_sandbox/credential-report/age': {
          const b = (await jsonBody()) as { ageMs?: unknown };
          if (typeof b?.ageMs !== 'number' || !Number.isFinite(b.ageMs) || b.ageMs < 0) {
            throw new HttpError(400, 'body must be {"ageMs": <non-negative number>}');
          }
          if (state.credentialReportGeneratedAt() === null) throw new HttpError(409, 'no credential report to age');
          state.setCredentialReportAge(b.ageMs);
          return sendJson(res, 204, null);
        }
        default:
          return sendJson(res, 404, { error: `no admin route ${route}` });
      }
    } catch (e) {
      if (e instanceof HttpError) return sendJson(res, e.status, { error: e.message });
      if (e instanceof FixtureError) return sendJson(res, 400, { error: e.message, issues: e.issues });
      return sendJson(res, 500, { error: e instanceof Error ? e.message : String(e) });
    }
  }

  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://sandbox');
    const run = async (): Promise<void> => {
      if (url.pathname.startsWith('/_sandbox/')) return handleAdmin(req, res, url.pathname);
      if (url.pathname === '/' && (req.method === 'POST' || req.method === 'GET')) return handleApi(req, res, url);
      sendJson(res, 404, { error: 'not found: the IAM API is served at POST /' });
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
    state,
    calls: () => counter.snapshot(),
    resetCalls: () => counter.reset(),
    setFaults,
    getFaults: () => faults.getRules(),
    invalidateCredentialReport: () => state.invalidateCredentialReport(),
    expireCredentialReport: () => state.expireCredentialReport(),
    setCredentialReportAge: (ageMs) => state.setCredentialReportAge(ageMs),
    replaceFixture,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}
