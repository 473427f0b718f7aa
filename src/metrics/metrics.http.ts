import http from 'node:http';
import type { RequestHandler } from 'express';
import type { Logger } from 'pino';
import { hasScope, type Principal } from '../auth/scopes';
import { metricsContentType, metricsText } from './metrics.cluster';

/**
 * GET /metrics on the API port: Prometheus text for a token with `metrics:read` (or admin). The metrics name
 * accounts and operation names, so they are not public there.
 */
export function metricsRoute(authenticate: (header: string | undefined) => Promise<Principal | null>, logger: Logger): RequestHandler {
  return async (req, res) => {
    let principal: Principal | null;
    try {
      principal = await authenticate(req.headers.authorization);
    } catch {
      res.status(503).setHeader('retry-after', '5').type('text/plain').send('the token could not be checked right now; retry shortly\n');
      return;
    }
    if (!principal) {
      res.status(401).setHeader('www-authenticate', 'Bearer').type('text/plain').send('a token with the metrics:read scope is required: Authorization: Bearer <token>\n');
      return;
    }
    if (!hasScope(principal, 'metrics:read')) {
      res.status(403).type('text/plain').send('this token lacks the metrics:read scope\n');
      return;
    }
    await sendMetrics(res, logger);
  };
}

async function sendMetrics(res: http.ServerResponse, logger: Logger): Promise<void> {
  try {
    const text = await metricsText();
    res.writeHead(200, { 'content-type': metricsContentType, 'cache-control': 'no-store' }).end(text);
  } catch (err) {
    logger.warn({ err }, 'metrics could not be gathered');
    res.writeHead(503, { 'content-type': 'text/plain' }).end('metrics could not be gathered\n');
  }
}

export interface MetricsServer {
  url: string;
  close(): Promise<void>;
}

/**
 * KEYWARDEN_METRICS_PORT: a listener of its own, without a token, that answers GET /metrics and nothing else.
 * Keep it off the public network (compose publishes it to the compose network only).
 */
export async function startMetricsServer({ port, host, logger }: { port: number; host: string; logger: Logger }): Promise<MetricsServer> {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' || path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('only GET /metrics here\n');
      return;
    }
    void sendMetrics(res, logger);
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address();
  const bound = typeof address === 'object' && address ? address.port : port;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${bound}/metrics`,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}
