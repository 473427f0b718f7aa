import client, { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/**
 * Every metric Keywarden exposes, in prom-client's default registry, so one `/metrics` (and the cluster
 * aggregation, which reads the default registry of each process) carries them all. Label values that come
 * from callers or from the network go through a LabelAllowList (GraphQL operation names) or a LabelCap (IAM
 * operations and error codes): a scrape stays bounded however many distinct values the world sends.
 */
export const registry: Registry = client.register;

let defaultsCollected = false;
/** Node's process metrics (CPU, RSS, heap, event-loop lag, GC): once per process. */
export function collectProcessMetrics(): void {
  if (defaultsCollected) return;
  defaultsCollected = true;
  client.collectDefaultMetrics({ register: registry });
}

/**
 * The first `max` distinct values of a label are kept; later ones become `other`. Only for values the world does
 * not choose on purpose (what IAM answers): whoever sends `max` values first decides what every later one shows.
 */
export class LabelCap {
  private readonly seen = new Set<string>();
  constructor(
    private readonly max: number,
    private readonly valid: RegExp = /^[A-Za-z_][A-Za-z0-9_.:-]{0,63}$/,
  ) {}

  of(value: string | null | undefined, missing = 'none'): string {
    if (value === null || value === undefined || value === '') return missing;
    if (!this.valid.test(value)) return 'other';
    if (this.seen.has(value)) return value;
    if (this.seen.size >= this.max) return 'other';
    this.seen.add(value);
    return value;
  }
}

/**
 * Only values known when the process starts are kept; any other becomes `other`. For values callers choose: no
 * caller can use up the label's values, and every process labels the same names whatever it has seen.
 */
export class LabelAllowList {
  private readonly known: ReadonlySet<string>;
  constructor(values: Iterable<string>) {
    this.known = new Set(values);
  }

  of(value: string | null | undefined, missing = 'none'): string {
    if (value === null || value === undefined || value === '') return missing;
    return this.known.has(value) ? value : 'other';
  }
}

/**
 * A metric of this name already in the registry, else a new one. Two copies of this module in one process (the
 * compiled and the TypeScript one, as a test that loads dist/ beside src/ has) must share the metric, not throw
 * prom-client's "already been registered".
 */
function registered<T>(name: string, make: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? make();
}

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export const httpRequestDuration = registered('keywarden_http_request_duration_seconds', () => new Histogram({
  name: 'keywarden_http_request_duration_seconds',
  help: 'HTTP requests to the API, by route (a fixed set; anything else is "other"), method and status class',
  labelNames: ['route', 'method', 'status_class'] as const,
  buckets: LATENCY_BUCKETS,
}));

export const graphqlRequestDuration = registered('keywarden_graphql_request_duration_seconds', () => new Histogram({
  name: 'keywarden_graphql_request_duration_seconds',
  help: 'GraphQL requests by operation name (only known names: the posture page\'s, the README\'s and KEYWARDEN_METRICS_OPERATIONS; any other "other", unnamed "anonymous"), type and outcome (ok, client_error, server_error)',
  labelNames: ['operation', 'operation_type', 'outcome'] as const,
  buckets: LATENCY_BUCKETS,
}));

export const scansTotal = registered('keywarden_scans_total', () => new Counter({
  name: 'keywarden_scans_total',
  help: 'Account scans that ended, by status (COMPLETED, PARTIAL, FAILED, CANCELLED), in this process',
  labelNames: ['status'] as const,
}));

export const scanDuration = registered('keywarden_scan_duration_seconds', () => new Histogram({
  name: 'keywarden_scan_duration_seconds',
  help: 'Wall time of account scans that ran in this process (collect, evaluate, store), by status',
  labelNames: ['status'] as const,
  buckets: [1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600],
}));

export const iamRequests = registered('keywarden_iam_requests_total', () => new Counter({
  name: 'keywarden_iam_requests_total',
  help: 'HTTP requests sent to IAM (each retry counted), by operation and result: "OK" or the error code',
  labelNames: ['operation', 'code'] as const,
}));
export const iamOperations = new LabelCap(60);
export const iamErrorCodes = new LabelCap(40);

export const iamThrottled = registered('keywarden_iam_throttled_total', () => new Counter({
  name: 'keywarden_iam_throttled_total',
  help: 'IAM requests refused for throttling (the SDK retries them, slowing down: adaptive retry), by operation',
  labelNames: ['operation'] as const,
}));

/** What the gauges below read from the database when scraped; set by the process that has them open. */
export interface ScrapeSources {
  queue: () => Promise<{ queued: number; active: number; oldestQueuedSeconds: number }>;
  /** One row per account and status with a count (already bounded: see findings.source.ts). */
  findings: () => Promise<{ account: string; status: string; count: number }[]>;
}
const sources: Partial<ScrapeSources> = {};

/** Lets this process's scrapes read the queue and the findings; a source that fails leaves its gauge empty for that scrape. */
export function readAtScrape(given: Partial<ScrapeSources>): void {
  Object.assign(sources, given);
}

export const queueDepth = registered('keywarden_queue_jobs', () => new Gauge({
  name: 'keywarden_queue_jobs',
  help: 'Account-scan jobs in the queue, by state (queued: waiting or waiting to retry; active: running), read at scrape',
  labelNames: ['state'] as const,
  // Every process reads the same table: in a cluster the aggregate is one reading, not their sum.
  aggregator: 'max',
  async collect() {
    this.reset();
    queueOldestAge.reset();
    const depth = await sources.queue?.().catch(() => null);
    if (!depth) return;
    this.set({ state: 'queued' }, depth.queued);
    this.set({ state: 'active' }, depth.active);
    queueOldestAge.set(depth.oldestQueuedSeconds);
  },
}));

export const queueOldestAge = registered('keywarden_queue_oldest_queued_seconds', () => new Gauge({
  name: 'keywarden_queue_oldest_queued_seconds',
  help: 'Age of the oldest account-scan job waiting in the queue (0 when none), read at scrape',
  aggregator: 'max',
}));

export const webhookDeliveries = registered('keywarden_webhook_deliveries_total', () => new Counter({
  name: 'keywarden_webhook_deliveries_total',
  help: 'Webhook delivery attempts, by outcome (delivered, failed, retried, dropped, ...: a bounded set the caller chooses)',
  labelNames: ['outcome'] as const,
}));

export const findingsGauge = registered('keywarden_findings', () => new Gauge({
  name: 'keywarden_findings',
  help: 'Current findings by status and account, read from the database at scrape: the accounts with the most failing findings by name, the rest summed as account="other"',
  labelNames: ['status', 'account'] as const,
  aggregator: 'max',
  async collect() {
    this.reset();
    const rows = await sources.findings?.().catch(() => null);
    for (const r of rows ?? []) this.set({ status: r.status, account: r.account }, r.count);
  },
}));

/** Records one finished scan. */
export function observeScan(status: string, durationMs: number): void {
  scansTotal.inc({ status });
  scanDuration.observe({ status }, durationMs / 1000);
}

const THROTTLING = new Set(['Throttling', 'ThrottlingException', 'TooManyRequestsException', 'RequestLimitExceeded', 'SlowDown', 'RequestThrottled']);

/** Throttling as the SDK's retry strategy sees it: the error names IAM sends, or HTTP 429. */
export function isThrottling(err: unknown): boolean {
  const e = err as { name?: string; Code?: string; $metadata?: { httpStatusCode?: number } } | null;
  return !!e && (THROTTLING.has(e.name ?? '') || THROTTLING.has(e.Code ?? '') || e.$metadata?.httpStatusCode === 429);
}

/** `n` IAM request attempts of one operation that ended alike: `code` is "OK" or the error's code. */
export function observeIamAttempt(operation: string, code: string, throttled: boolean, n = 1): void {
  const op = iamOperations.of(operation, 'Unknown');
  iamRequests.inc({ operation: op, code: code === 'OK' ? code : iamErrorCodes.of(code, 'UnknownError') }, n);
  if (throttled) iamThrottled.inc({ operation: op }, n);
}
