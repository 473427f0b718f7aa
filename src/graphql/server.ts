import http from 'node:http';
import { randomUUID } from 'node:crypto';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { unwrapResolverError } from '@apollo/server/errors';
import { expressMiddleware } from '@as-integrations/express5';
import express from 'express';
import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import type { Logger } from 'pino';
import type { PrismaClient } from '../generated/prisma/client';
import { createContext, createServices, type Context, type RemediationSetup } from './context';
import { createIamClient } from '../adapters/iam/iam-client';
import { DEFAULT_CONTROL_SETTINGS } from '../controls/no-access-keys-at-setup/control';
import { DEFAULT_RECENT_USE_DAYS } from '../domain/remediation';
import { ErrorCode } from './common/errors';
import { keywardenSchema } from './schema';
import { InvalidInputError } from '../services/errors';

export interface ServerOptions {
  prisma: PrismaClient;
  logger: Logger;
  port: number;
  host?: string;
  /** IAM for remediation; default: the SDK's standard chain. */
  remediation?: Partial<RemediationSetup>;
}

export interface RunningServer {
  url: string;
  close(): Promise<void>;
}

/** Apollo Server on express: /graphql, plus /healthz (process) and /readyz (database). */
export async function startServer({ prisma, logger, port, host = '127.0.0.1', remediation = {} }: ServerOptions): Promise<RunningServer> {
  const app = express();
  const httpServer = http.createServer(app);
  const apollo = new ApolloServer<Context>({
    schema: await keywardenSchema(),
    plugins: [ApolloServerPluginDrainHttpServer({ httpServer })],
    includeStacktraceInErrorResponses: false,
    // The CLI owns shutdown (close the server, then the database); Apollo's own handlers would
    // re-send the signal and kill the process before the database is closed.
    stopOnTerminationSignals: false,
    formatError: (formatted, error) => maskUnexpected(formatted, error, logger),
  });
  await apollo.start();
  const services = createServices(prisma, {
    iam: remediation.iam ?? createIamClient(),
    scanRequest: remediation.scanRequest ?? { collect: { mode: 'PER_USER_API' }, control: DEFAULT_CONTROL_SETTINGS },
    recentUseDays: remediation.recentUseDays ?? DEFAULT_RECENT_USE_DAYS,
    afterPending: remediation.afterPending,
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
  app.use('/graphql', express.json({ limit: '100kb' }), expressMiddleware(apollo, { context: async ({ req }) => createContext(services, declaredClient(req.headers)) }));

  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(port, host, () => resolve());
  });
  const address = httpServer.address();
  const boundPort = typeof address === 'object' && address ? address.port : port;
  return {
    url: `http://${host}:${boundPort}/graphql`,
    close: async () => {
      await apollo.stop();
    },
  };
}

/** Until access control exists, the audit trail names the client that says who it is. */
function declaredClient(headers: Record<string, string | string[] | undefined>): string {
  const name = headers['x-keywarden-client'] ?? headers['apollographql-client-name'];
  const value = (Array.isArray(name) ? name[0] : name)?.trim().slice(0, 200);
  return value ? `client:${value}` : 'client:anonymous';
}

const EXPECTED_CODES = new Set<string>([
  ErrorCode.BAD_USER_INPUT, ErrorCode.NOT_FOUND, 'GRAPHQL_PARSE_FAILED', 'GRAPHQL_VALIDATION_FAILED',
  'BAD_REQUEST', 'PERSISTED_QUERY_NOT_FOUND', 'PERSISTED_QUERY_NOT_SUPPORTED', 'OPERATION_RESOLUTION_FAILURE',
]);

/** Expected errors keep their code and message; anything else is logged with an id and masked. */
function maskUnexpected(formatted: GraphQLFormattedError, error: unknown, logger: Logger): GraphQLFormattedError {
  const code = formatted.extensions?.code;
  if (typeof code === 'string' && EXPECTED_CODES.has(code)) {
    return { message: formatted.message, locations: formatted.locations, path: formatted.path, extensions: { ...formatted.extensions, stacktrace: undefined } };
  }
  const original = unwrapResolverError(error);
  if (original instanceof InvalidInputError) {
    return { message: original.message, path: formatted.path, extensions: { code: ErrorCode.BAD_USER_INPUT, ...(original.field ? { field: original.field } : {}) } };
  }
  // type-graphql's argument validation errors are the caller's fault, not ours.
  if (original instanceof GraphQLError && original.message === 'Argument Validation Error') {
    return { message: formatted.message, path: formatted.path, extensions: { code: ErrorCode.BAD_USER_INPUT } };
  }
  const errorId = randomUUID();
  logger.error({ errorId, err: original, path: formatted.path }, 'unexpected error in a GraphQL request');
  return { message: `Internal server error (id ${errorId})`, path: formatted.path, extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR, errorId } };
}
