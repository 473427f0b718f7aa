import cluster from 'node:cluster';
import { AggregatorRegistry } from 'prom-client';
import { registry } from './metrics';

// prom-client's own cluster protocol: its workers answer these once an AggregatorRegistry exists in them.
const GET_METRICS_REQ = 'prom-client:getMetricsReq';
const GET_METRICS_RES = 'prom-client:getMetricsRes';
// Ours: a worker asks the primary for the whole cluster's text (GET /metrics on the API port lands on one worker).
const CLUSTER_TEXT_REQ = 'keywarden:clusterMetricsReq';
const CLUSTER_TEXT_RES = 'keywarden:clusterMetricsRes';
const TIMEOUT_MS = 5_000;

type MetricsJson = object[];
type Message = { type?: string; requestId?: number; metrics?: MetricsJson[]; error?: string; text?: string };

let role: 'single' | 'primary' | 'worker' = 'single';
let nextId = 0;
const pending = new Map<number, { responses: MetricsJson[]; waiting: number; done: (err: Error | null, text?: string) => void }>();

/**
 * In a cluster primary: answers scrapes with every worker's metrics and its own, aggregated (counters and
 * histograms summed; the database-read gauges take the max, see their `aggregator`). The primary cannot use
 * AggregatorRegistry.clusterMetrics: it leaves out the primary's own registry, where the scan worker's metrics are.
 */
export function aggregateClusterMetrics(): void {
  role = 'primary';
  cluster.on('message', (worker, message: Message) => {
    if (message?.type === GET_METRICS_RES) {
      const request = pending.get(message.requestId!);
      if (!request) return;
      if (message.error) return request.done(new Error(message.error));
      request.responses.push(...message.metrics!);
      if (--request.waiting === 0) void finish(message.requestId!);
    } else if (message?.type === CLUSTER_TEXT_REQ) {
      clusterText().then(
        (text) => worker.isConnected() && worker.send({ type: CLUSTER_TEXT_RES, requestId: message.requestId, text }),
        (err: Error) => worker.isConnected() && worker.send({ type: CLUSTER_TEXT_RES, requestId: message.requestId, error: err.message }),
      );
    }
  });
}

/** In a cluster worker: answers the primary's requests for this process's metrics. */
export function joinClusterMetrics(): void {
  role = 'worker';
  new AggregatorRegistry(); // installs prom-client's worker-side listener
  process.on('message', (message: Message) => {
    if (message?.type !== CLUSTER_TEXT_RES) return;
    const request = pending.get(message.requestId!);
    if (request) request.done(message.error ? new Error(message.error) : null, message.text);
  });
}

/** The text a scrape gets: this process's metrics alone, or (in a cluster) the whole cluster's. */
export function metricsText(): Promise<string> {
  if (role === 'primary') return clusterText();
  if (role === 'worker') return ask((id) => process.send!({ type: CLUSTER_TEXT_REQ, requestId: id }), 1);
  return registry.metrics();
}

export const metricsContentType = registry.contentType;

function clusterText(): Promise<string> {
  const workers = Object.values(cluster.workers ?? {}).filter((w) => w?.isConnected());
  if (workers.length === 0) return registry.metrics();
  return ask((id) => workers.forEach((w) => w!.send({ type: GET_METRICS_REQ, requestId: id })), workers.length);
}

function ask(send: (id: number) => void, waiting: number): Promise<string> {
  const id = nextId++;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => request.done(new Error('metrics: a process of the cluster did not answer in time')), TIMEOUT_MS);
    const request = {
      responses: [] as MetricsJson[],
      waiting,
      done: (err: Error | null, text?: string) => {
        if (!pending.delete(id)) return;
        clearTimeout(timer);
        if (err) reject(err);
        else resolve(text ?? '');
      },
    };
    pending.set(id, request);
    send(id);
  });
}

async function finish(id: number): Promise<void> {
  const request = pending.get(id);
  if (!request) return;
  try {
    const own: MetricsJson = await registry.getMetricsAsJSON();
    request.done(null, await AggregatorRegistry.aggregate([...request.responses, own]).metrics());
  } catch (err) {
    request.done(err as Error);
  }
}
