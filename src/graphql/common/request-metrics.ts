import type { ApolloServerPlugin } from '@apollo/server';
import type { RequestHandler } from 'express';
import { graphqlRequestDuration, httpRequestDuration, LabelAllowList } from '../../metrics/metrics';
import { KNOWN_OPERATIONS } from '../../metrics/operation-names';
import { ErrorCode } from './errors';

/** Routes named in keywarden_http_request_duration_seconds; any other path is "other" (scanners probe thousands). */
const ROUTES = new Set(['/graphql', '/healthz', '/readyz', '/metrics', '/', '/graphiql']);
const METHODS = new Set(['GET', 'POST', 'HEAD', 'OPTIONS']);

/** Every HTTP request's duration, by route, method and status class, measured until the response is written. */
export function httpMetrics(): RequestHandler {
  return (req, res, next) => {
    const end = httpRequestDuration.startTimer();
    // Read now: routers mounted at a path (app.use('/graphql', ...)) rewrite req.path for their handlers.
    const path = req.path.length > 1 && req.path.endsWith('/') ? req.path.slice(0, -1) : req.path;
    const route = ROUTES.has(path) ? path : 'other';
    res.once('finish', () => {
      end({ route, method: METHODS.has(req.method) ? req.method : 'other', status_class: `${Math.floor(res.statusCode / 100)}xx` });
    });
    next();
  };
}

/**
 * Each GraphQL request's duration by operation name, operation type and outcome: server_error when any error is
 * masked as internal, client_error for any other error, else ok. Only known names are labelled (KNOWN_OPERATIONS
 * and `operations`, KEYWARDEN_METRICS_OPERATIONS); callers choose names, so any other is "other".
 */
export function graphqlMetrics<C extends object>(operations: readonly string[] = []): ApolloServerPlugin<C> {
  const names = new LabelAllowList([...KNOWN_OPERATIONS, ...operations]);
  return {
    async requestDidStart() {
      const end = graphqlRequestDuration.startTimer();
      return {
        async willSendResponse({ response, operation, operationName, errors }) {
          const body = response.body.kind === 'single' ? response.body.singleResult : null;
          const codes = (body?.errors ?? []).map((e) => e.extensions?.code);
          const outcome = codes.includes(ErrorCode.INTERNAL_SERVER_ERROR) ? 'server_error' : codes.length || errors?.length ? 'client_error' : 'ok';
          end({ operation: names.of(operationName, 'anonymous'), operation_type: operation?.operation ?? 'unknown', outcome });
        },
      };
    },
  };
}
