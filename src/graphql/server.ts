import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { unwrapResolverError } from '@apollo/server/errors';
import { ApolloServerPluginCacheControlDisabled } from '@apollo/server/plugin/disabled';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { expressMiddleware } from '@as-integrations/express5';
import { ApolloArmor } from '@escape.tech/graphql-armor';
import express from 'express';
import { rateLimit } from 'express-rate-limit';
import { GraphQLError, visit, type GraphQLFormattedError, type ValidationRule } from 'graphql';
import helmet from 'helmet';
import type { Logger } from 'pino';
import { AwsAccess } from '../adapters/aws/aws-access';
import { listenError } from '../adapters/net/port';
import { Authenticator, type AuthSettings } from '../auth/authenticator';
import { actorOf, callerKey, type Principal } from '../auth/scopes';
import { TokensService } from '../auth/tokens.service';
import { DEFAULT_CONTROL_SETTINGS } from '../controls/no-access-keys-at-setup/control';
import { DEFAULT_RECENT_USE_DAYS } from '../domain/remediation';
import type { PrismaClient } from '../generated/prisma/client';
import { InvalidInputError } from '../services/errors';
import { DEFAULT_EXPORT_REGION } from '../services/exports/export-record';
import { ExportsService } from '../services/exports/exports.service';
import { isStorableText } from '../services/page';
import { exportFindingsRoute } from '../http/exports.route';
import { interruptRunningScans } from '../services/scan.service';
import { clientMessage } from './common/client-message';
import { compiledExecutionGateway } from './common/compiled-execution';
import { ErrorCode } from './common/errors';
import { oneExpensiveMutation, TOO_MANY_EXPENSIVE_MUTATIONS } from './common/expensive-mutations';
import { costLimit } from './common/query-cost';
import { requiredScopesBeforeMutations } from './common/requires-scope';
import { stringifyResult } from './common/stringify-result';
import { createContext, createServices, type Context, type RemediationSetup, type ScanSetup, type WebhookSetup } from './context';
import { keywardenSchema } from './schema';
import { graphqlMetrics, httpMetrics } from './common/request-metrics';
import { DEFAULT_HTTP_SETTINGS, type HttpSettings } from './http-settings';
import { metricsRoute } from '../metrics/metrics.http';
import { webRoutes } from './web.routes';

export interface Limits {
  maxDepth: number;
  maxAliases: number;
  maxTokens: number;
  /** Estimated result size: a paginated field multiplies what is under it by `first` (default 50), any other list by its size. */
  maxCost: number;
  maxBodyBytes: number;
  /** A response body larger than this is replaced by a RESPONSE_TOO_LARGE error. */
  maxResponseBytes: number;
  /** Requests per token per minute. */
  ratePerMinute: number;
}

export const DEFAULT_LIMITS: Limits = {
  maxDepth: 12,
  maxAliases: 30,
  maxTokens: 2000,
  maxCost: 20_000,
  maxBodyBytes: 100_000,
  maxResponseBytes: 5_000_000,
  ratePerMinute: 600,
};

export interface ServerOptions {
  prisma: PrismaClient;
  logger: Logger;
  port: number;
  host?: string;
  auth?: AuthSettings;
  limits?: Partial<Limits>;
  /** AWS for remediation and scans; default: the SDK's standard chain and endpoints, the default member role. */
  remediation?: Partial<RemediationSetup>;
  /** The scan queue startScan and cancelScan use; without it they answer that no queue is configured. */
  scans?: ScanSetup | null;
  /**
   * GET /exports/findings: the region findings are filed under (KEYWARDEN_EXPORT_REGION), the keyset page size, and how
   * long a client may take nothing before its export is ended (KEYWARDEN_EXPORT_IDLE_TIMEOUT_SECONDS).
   */
  exports?: { region?: string; pageSize?: number; idleTimeoutMs?: number };
  /** Keep-alive, header and request timeouts, and how long shutdown waits for in-flight requests. */
  http?: Partial<HttpSettings>;
  /** The built page and GraphiQL (web/build.mjs output); default dist/web. */
  webRoot?: string;
  /** The secret key and SSRF guard of webhooks; without it the webhook fields answer SERVICE_UNAVAILABLE. */
  webhooks?: WebhookSetup | null;
  /** Operation names labelled in the GraphQL metrics besides the page's and the README's (KEYWARDEN_METRICS_OPERATIONS). */
  metricsOperations?: readonly string[];
}

export interface RunningServer {
  url: string;
  /** Stops accepting, drains in-flight requests, marks scans it was running as FAILED. */
  close(): Promise<void>;
}

/**
 * Request ids travel with the request: in res.locals, in the GraphQL context, and, for formatError (which sees
 * neither), beside each error Apollo reports. Not in an AsyncLocalStorage: on Node 20 it turns on promise hooks for
 * every promise of the process, which cost 4-8% of the CPU of a 50-finding page.
 */
const errorRequestIds = new WeakMap<object, string>();
const requestIdOf = (res: express.Response): string => (res.locals.requestId as string | undefined) ?? 'none';

/**
 * Apollo Server on express. Only GET /healthz, /readyz and the static page and GraphiQL (web.routes.ts, which
 * ask the person for a token) answer without a token; /graphql
 * authenticates first (401 before any GraphQL work), rate-limits per token, bounds request size,
 * depth, aliases, tokens and cost before execution, and logs one structured line per request.
 */
export async function startServer({ prisma, logger, port, host = '127.0.0.1', auth = {}, limits: given = {}, remediation = {}, scans = null, exports: exportSettings = {}, http: httpGiven = {}, webRoot, webhooks = null, metricsOperations = [] }: ServerOptions): Promise<RunningServer> {
  const limits = { ...DEFAULT_LIMITS, ...given };
  const httpSettings = { ...DEFAULT_HTTP_SETTINGS, ...httpGiven };
  const schema = await keywardenSchema();
  // Prisma loads its query compiler (WebAssembly) on first use: at start, not in the first request (which took
  // 70-300 ms longer for it). It opens no connection (the pool connects on the first query): a database that is
  // down at start still shows only in /readyz.
  await prisma.$connect();
  const app = express();
  app.disable('x-powered-by');
  // Express hashes every response body for an ETag; GraphQL POST responses are never revalidated.
  app.set('etag', false);
  const httpServer = http.createServer(
    // Above the load balancer's idle timeout (AWS ALB: 60 s): the balancer, not Node, must close an idle
    // connection, or it sends a request down a socket Node is closing and answers 502.
    {
      keepAliveTimeout: httpSettings.keepAliveTimeoutMs,
      headersTimeout: httpSettings.headersTimeoutMs,
      requestTimeout: httpSettings.requestTimeoutMs,
      // How often Node looks for connections past those timeouts (its default, 30 s, would let them overrun by as much).
      connectionsCheckingInterval: Math.min(30_000, Math.max(1_000, Math.floor(httpSettings.headersTimeoutMs / 10))),
    },
    app,
  );
  // Node <22 takes keepAliveTimeout from the options only since 18.x's later releases: set it on the server too.
  httpServer.keepAliveTimeout = httpSettings.keepAliveTimeoutMs;
  const armor = new ApolloArmor({
    maxDepth: { n: limits.maxDepth },
    maxAliases: { n: limits.maxAliases },
    // Enforced by graphql-js's own parser (parseOptions below): armor's token plugin parses again in a
    // plugin hook, and anything it throws there (every syntax error) became an HTTP 500.
    maxTokens: { enabled: false },
    maxDirectives: { n: 20 },
    // Suggestions are cut in formatError (clientMessage): armor's regex, like Apollo's, runs over caller text.
    blockFieldSuggestion: { enabled: false },
    costLimit: { enabled: false }, // replaced by the `first`-aware estimate below
  }).protect();
  const apollo = new ApolloServer<Context>({
    gateway: compiledExecutionGateway(schema),
    ...armor,
    plugins: [
      ...armor.plugins,
      // Stops accepting, lets in-flight requests finish for up to the grace period, then closes what is left.
      ApolloServerPluginDrainHttpServer({ httpServer, stopGracePeriodMillis: httpSettings.shutdownGraceMs }),
      graphqlMetrics(metricsOperations),
      // No cache hints are set: the default cache-control plugin only costs time on every field.
      ApolloServerPluginCacheControlDisabled(),
      rejectUnstorableStrings(),
      oneExpensiveMutation(schema), // before the cost estimate, whose refusal says less about aliased mutations
      requiredScopesBeforeMutations(schema),
      costLimit(schema, limits.maxCost),
      requestLog(logger),
      requestIdsOnErrors(),
    ],
    validationRules: [...armor.validationRules, knownOperationTypes],
    parseOptions: { maxTokens: limits.maxTokens },
    allowBatchedHttpRequests: false,
    persistedQueries: false,
    csrfPrevention: true,
    stringifyResult,
    includeStacktraceInErrorResponses: false,
    // Every request already carries a valid token, so introspection is for authenticated clients only;
    // explicit, because Apollo turns it off under NODE_ENV=production.
    introspection: true,
    // Off on purpose: all it does is strip suggestions from validation errors with a regex that backtracks
    // quadratically over caller text. formatError strips them from every error, in linear time.
    hideSchemaDetailsFromClientErrors: false,
    // The CLI owns shutdown (close the server, then the database); Apollo's own handlers would
    // re-send the signal and kill the process before the database is closed.
    stopOnTerminationSignals: false,
    formatError: (formatted, error) => maskUnexpected(formatted, error, logger),
  });
  await apollo.start();
  const services = createServices(prisma, {
    aws: remediation.aws ?? new AwsAccess(),
    scanRequest: remediation.scanRequest ?? { collect: { mode: 'PER_USER_API' }, control: DEFAULT_CONTROL_SETTINGS },
    recentUseDays: remediation.recentUseDays ?? DEFAULT_RECENT_USE_DAYS,
    afterPending: remediation.afterPending,
  }, scans, webhooks);
  const authenticator = new Authenticator(new TokensService(prisma), auth);

  app.use(httpMetrics());
  app.use(securityHeaders());
  app.use((_req, res, next) => {
    const requestId = randomUUID();
    res.locals.requestId = requestId;
    res.setHeader('x-request-id', requestId);
    next();
  });
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (_req, res) => {
    try {
      await prisma.$queryRaw`SELECT 1`;
      res.json({ status: 'ok' });
    } catch {
      res.status(503).json({ status: 'unavailable', reason: 'database unreachable' });
    }
  });
  // One authentication and one rate-limit bucket per token for every authenticated route.
  const authenticate = async (req: express.Request, res: express.Response, next: express.NextFunction) => {
    let principal: Principal | null;
    try {
      principal = await authenticator.authenticate(req.headers.authorization);
    } catch (err) {
      // The token could not be checked (its store is unreachable): a 401 would tell a valid caller to
      // re-authenticate, when it should retry.
      const id = requestIdOf(res);
      logger.error({ requestId: id, err, status: 503 }, 'token could not be checked');
      res.status(503).setHeader('retry-after', '5').json({
        errors: [{ message: `the token could not be checked right now; retry shortly (request ${id})`, extensions: { code: ErrorCode.SERVICE_UNAVAILABLE, requestId: id } }],
      });
      return;
    }
    if (!principal) {
      // originalUrl: under app.use('/graphql') req.path is '/', not the path the client asked for.
      logger.info({ requestId: requestIdOf(res), status: 401, path: req.originalUrl.split('?')[0] }, 'unauthenticated request refused');
      res.status(401).setHeader('www-authenticate', 'Bearer').json({
        errors: [{ message: 'a valid token is required: send Authorization: Bearer <token> (npx keywarden token create)', extensions: { code: 'UNAUTHENTICATED' } }],
      });
      return;
    }
    res.locals.principal = principal;
    next();
  };
  const limiter = rateLimit({
    windowMs: 60_000,
    limit: limits.ratePerMinute,
    standardHeaders: 'draft-7',
    legacyHeaders: false,
    // Kind-prefixed: a JWT's sub is whatever its issuer wrote, and must not name another caller's bucket.
    keyGenerator: (_req, res) => callerKey(res.locals.principal as Principal),
    handler: (_req, res, _next, options) => {
      res.status(429).json({ errors: [{ message: `rate limit: at most ${limits.ratePerMinute} requests a minute per token`, extensions: { code: 'RATE_LIMITED' } }] });
      logger.warn({ requestId: requestIdOf(res), status: 429, tokenId: (res.locals.principal as Principal).id, limit: options.limit }, 'rate limited');
    },
  });
  app.get('/exports/findings', authenticate, limiter, exportFindingsRoute(new ExportsService(services.findings, { region: exportSettings.region ?? DEFAULT_EXPORT_REGION, pageSize: exportSettings.pageSize }, logger), logger, requestIdOf, exportSettings.idleTimeoutMs));
  app.get('/metrics', metricsRoute((header) => authenticator.authenticate(header), logger));
  app.use(
    '/graphql',
    authenticate,
    limiter,
    express.json({ limit: limits.maxBodyBytes }),
    (_req: express.Request, res: express.Response, next: express.NextFunction) => {
      // The bound on a response's size, where the request (and its id) is known: Apollo's stringifyResult sees neither.
      const send = res.send.bind(res);
      res.send = (body?: unknown) => send(typeof body === 'string' ? boundedBody(body, limits.maxResponseBytes, logger, requestIdOf(res)) : body);
      next();
    },
    expressMiddleware(apollo, {
      context: async ({ res }) => {
        const principal = res.locals.principal as Principal;
        return createContext(services, actorOf(principal), principal, requestIdOf(res));
      },
    }),
  );
  // The posture page (/) and GraphiQL (/graphiql): static files without a token (they ask for one), each with
  // its own CSP. After /graphql, so neither its compression nor its CSP touch the API's responses.
  app.use(webRoutes(webRoot));
  // Body too large, malformed JSON: a clear 4xx in GraphQL's error shape, never a stack trace.
  app.use((err: Error & { status?: number; type?: string }, _req: express.Request, res: express.Response, next: express.NextFunction) => {
    if (res.headersSent) return next(err);
    const status = err.status && err.status >= 400 && err.status < 500 ? err.status : 500;
    if (status === 500) logger.error({ requestId: requestIdOf(res), err }, 'unexpected error outside GraphQL');
    const message = status === 413 ? `request body larger than ${limits.maxBodyBytes} bytes` : status === 500 ? `Internal server error (request ${requestIdOf(res)})` : 'malformed request body';
    res.status(status).json({ errors: [{ message, extensions: { code: status === 500 ? ErrorCode.INTERNAL_SERVER_ERROR : 'BAD_REQUEST' } }] });
  });

  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', (err) => reject(listenError(err, host, port)));
    httpServer.listen(port, host, () => resolve());
  });
  const address = httpServer.address();
  const boundPort = typeof address === 'object' && address ? address.port : port;
  return {
    url: `http://${host}:${boundPort}/graphql`,
    close: async () => {
      await apollo.stop();
      await interruptRunningScans(prisma);
    },
  };
}

/**
 * helmet's headers, which are the same on every response: taken once from helmet itself (it only calls setHeader
 * and removeHeader) and set in one loop. Its thirteen middlewares, run per request, were 1.2% of the CPU of a
 * 50-finding page.
 */
function securityHeaders(): express.RequestHandler {
  const set = new Map<string, string | number | readonly string[]>();
  const removed: string[] = [];
  const recorder = {
    setHeader: (name: string, value: string | number | readonly string[]) => set.set(name, value),
    removeHeader: (name: string) => removed.push(name),
  };
  let called = false;
  helmet()({} as http.IncomingMessage, recorder as unknown as http.ServerResponse, () => (called = true));
  if (!called) throw new Error('helmet did not answer at once: its headers cannot be taken ahead of time');
  return (_req, res, next) => {
    for (const [name, value] of set) res.setHeader(name, value);
    for (const name of removed) res.removeHeader(name);
    next();
  };
}

/**
 * The last bound on what one request can send: the cost estimate refuses large results before execution,
 * but some lists (a scan's errors) are only estimated. A body over the bound is replaced by an error.
 */
function boundedBody(body: string, maxBytes: number, logger: Logger, id: string): string {
  // A UTF-16 unit is at most 3 UTF-8 bytes: most bodies need no byte count.
  if (body.length <= maxBytes / 3 || Buffer.byteLength(body) <= maxBytes) return body;
  logger.warn({ requestId: id, bytes: Buffer.byteLength(body), maxBytes }, 'response too large, refused');
  return JSON.stringify({
    errors: [{ message: `the response would be larger than ${maxBytes} bytes; ask for fewer fields, smaller pages or shorter trends (request ${id})`, extensions: { code: 'RESPONSE_TOO_LARGE', maxBytes, requestId: id } }],
    data: null,
  });
}

/**
 * graphql-js 17's KnownOperationTypesRule, which 16 lacks: `subscription { … }` (this schema has no
 * Subscription type) passed validation and failed in execution, masked as INTERNAL_SERVER_ERROR.
 */
const knownOperationTypes: ValidationRule = (context) => ({
  OperationDefinition(node) {
    if (!context.getSchema().getRootType(node.operation)) {
      context.reportError(new GraphQLError(`this API has no ${node.operation} operations`, { nodes: node }));
    }
  },
});

/**
 * PostgreSQL text cannot hold U+0000 and Prisma's engine cannot carry an unpaired surrogate, so a string
 * argument with either made the database call fail (masked as INTERNAL_SERVER_ERROR, and a refused
 * remediation could not even be audited). Refused here, before execution, for literals and variables.
 */
function rejectUnstorableStrings(): ApolloServerPlugin<Context> {
  const unstorable = (root: unknown): boolean => {
    const pending: unknown[] = [root]; // iterative: variables may nest deeper than the call stack
    while (pending.length > 0) {
      const value = pending.pop();
      if (typeof value === 'string') {
        if (!isStorableText(value)) return true;
      } else if (value !== null && typeof value === 'object') {
        for (const item of Object.values(value)) pending.push(item);
      }
    }
    return false;
  };
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ request, document }) {
          let found = unstorable(request.variables ?? null);
          if (!found) {
            visit(document, {
              StringValue(node) {
                if (!isStorableText(node.value)) found = true;
              },
            });
          }
          if (found) {
            throw new GraphQLError('strings must be valid Unicode text without NUL (U+0000) characters', { extensions: { code: ErrorCode.BAD_USER_INPUT, http: { status: 400 } } });
          }
        },
      };
    },
  };
}

/** One structured line per GraphQL request: who, what, how long, how it ended. Never the token. */
/** Notes each error's request id for formatError, which is given the error but not the request. */
function requestIdsOnErrors(): ApolloServerPlugin<Context> {
  return {
    async requestDidStart({ contextValue }) {
      return {
        async didEncounterErrors({ errors }) {
          for (const error of errors) errorRequestIds.set(error, contextValue.requestId);
        },
      };
    },
  };
}

function requestLog(logger: Logger): ApolloServerPlugin<Context> {
  return {
    async requestDidStart({ contextValue, request }) {
      const started = process.hrtime.bigint();
      return {
        async willSendResponse({ response, errors, operationName }) {
          const body = response.body.kind === 'single' ? response.body.singleResult : null;
          const codes = (body?.errors ?? []).map((e) => e.extensions?.code);
          logger.info(
            {
              requestId: contextValue.requestId,
              tokenId: contextValue.principal?.id,
              principal: contextValue.principal?.kind,
              operationName: operationName ?? request.operationName ?? null,
              durationMs: Number(process.hrtime.bigint() - started) / 1e6,
              outcome: (errors?.length ?? codes.length) ? 'error' : 'ok',
              errorCodes: codes.length ? codes : undefined,
            },
            'graphql request',
          );
        },
      };
    },
  };
}

const EXPECTED_CODES = new Set<string>([
  ErrorCode.BAD_USER_INPUT, ErrorCode.NOT_FOUND, 'GRAPHQL_PARSE_FAILED', 'GRAPHQL_VALIDATION_FAILED', 'BAD_REQUEST',
  'PERSISTED_QUERY_NOT_FOUND', 'PERSISTED_QUERY_NOT_SUPPORTED', 'OPERATION_RESOLUTION_FAILURE', 'UNAUTHENTICATED', 'FORBIDDEN',
  'QUERY_TOO_COSTLY', TOO_MANY_EXPENSIVE_MUTATIONS, ErrorCode.CURSOR_EXPIRED,
  // A part this server was started without (its scan queue, webhooks): said as such, not masked as a fault.
  ErrorCode.SERVICE_UNAVAILABLE,
]);

/**
 * Expected errors keep their code and message; anything else is logged with the request id and masked.
 * Messages go out bounded and without schema suggestions (clientMessage): graphql-js suggests in validation
 * and variable errors alike ('… enum. Did you mean the enum value "FAIL"?').
 */
function maskUnexpected(formatted: GraphQLFormattedError, error: unknown, logger: Logger): GraphQLFormattedError {
  const code = formatted.extensions?.code;
  if (typeof code === 'string' && EXPECTED_CODES.has(code)) {
    const { stacktrace: _s, ...extensions } = formatted.extensions ?? {};
    return { message: clientMessage(formatted.message), locations: formatted.locations, path: formatted.path, extensions };
  }
  const original = unwrapResolverError(error);
  if (original instanceof InvalidInputError) {
    return { message: clientMessage(original.message), path: formatted.path, extensions: { code: ErrorCode.BAD_USER_INPUT, ...(original.field ? { field: original.field } : {}) } };
  }
  // type-graphql's argument validation errors are the caller's fault, not ours.
  if (original instanceof GraphQLError && original.message === 'Argument Validation Error') {
    return { message: formatted.message, path: formatted.path, extensions: { code: ErrorCode.BAD_USER_INPUT } };
  }
  const id = errorRequestIds.get(error as object) ?? 'none';
  logger.error({ requestId: id, err: original, path: formatted.path }, 'unexpected error in a GraphQL request');
  return { message: `Internal server error (request ${id})`, path: formatted.path, extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR, requestId: id } };
}
