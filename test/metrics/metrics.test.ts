import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { TokensService } from '../../src/auth/tokens.service';
import { loadConfig } from '../../src/config';
import { findingsByAccount } from '../../src/metrics/findings.source';
import { collectProcessMetrics, LabelAllowList, LabelCap, readAtScrape, webhookDeliveries } from '../../src/metrics/metrics';
import { startMetricsServer } from '../../src/metrics/metrics.http';
import type { FixtureInput } from '../../src/sandbox/fixture';
import { startStack, type Stack } from '../support/stack';
import pino from 'pino';

/**
 * Issue #11, "Metrics": GET /metrics is Prometheus text (checked by a parser library and by the exposition
 * format's line grammar), its counters move as requests and a scan happen, the API port's /metrics needs the
 * metrics:read scope, and the metrics port (off unless configured) needs no token.
 */
const ACCOUNT = '123456789012';
const FIXTURE: FixtureInput = {
  accountId: ACCOUNT,
  accountCreatedAt: 'now-900d',
  users: [
    { userName: 'alice', createdAt: 'now-400d', loginProfile: { createdAt: 'now-400d' }, accessKeys: [{ accessKeyId: 'AKIAALICE00000000001', status: 'Active', createdAt: 'now-400d+30s' }] },
    { userName: 'bob', createdAt: 'now-300d', loginProfile: { createdAt: 'now-300d' }, accessKeys: [] },
    { userName: 'ci', createdAt: 'now-100d', accessKeys: [{ accessKeyId: 'AKIACI00000000000001', status: 'Active', createdAt: 'now-50d' }] },
  ],
};

// The exposition format's sample line: name, optional labels with escaped values, a float, an optional timestamp.
// Prometheus reads the value with Go's ParseFloat, which takes NaN and Inf in any case: prom-client writes `Nan`
// (nodejs_eventloop_lag_mean_seconds before the first sample).
const SAMPLE_LINE = /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="(\\\\|\\"|\\n|[^"\\\n])*",?)*\})? (-?[0-9.]+(e[+-]?[0-9]+)?|[+-]Inf|[Nn][Aa][Nn])( -?[0-9]+)?$/;

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}
interface Scrape {
  /** The parser library's families (it flattens labelled histograms badly: their samples are read from `samples`). */
  families: Map<string, ReturnType<typeof parsePrometheusTextFormat>[number]>;
  samples: Sample[];
}

/** Parses a scrape strictly: the grammar line by line, HELP and TYPE for every family, then the parser library. */
function parseStrict(text: string): Scrape {
  const typed = new Set<string>();
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const meta = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line);
    if (meta) {
      if (meta[1] === 'TYPE') {
        expect(['counter', 'gauge', 'histogram', 'summary']).toContain(meta[3]);
        expect(typed.has(meta[2]!)).toBe(false); // one TYPE per family
        typed.add(meta[2]!);
      }
      continue;
    }
    if (!SAMPLE_LINE.test(line)) throw new Error(`not a Prometheus sample line: ${line}`);
    const [, name, labelText = '', value] = /^([^{ ]+)(?:\{(.*)\})? (\S+)/.exec(line)!;
    const labels = Object.fromEntries([...labelText.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:\\.|[^"\\])*)"/g)].map((m) => [m[1]!, m[2]!]));
    samples.push({ name: name!, labels, value: Number(value) });
  }
  const families: Scrape['families'] = new Map();
  for (const family of parsePrometheusTextFormat(text)) {
    expect(family.type).not.toBe('UNTYPED');
    expect(family.help.length).toBeGreaterThan(0);
    families.set(family.name, family);
  }
  for (const name of typed) expect(families.has(name)).toBe(true);
  return { families, samples };
}

/** A sample's value (a histogram's count) for the series whose labels include `labels`; 0 when absent. */
function valueOf(scrape: Scrape, name: string, labels: Record<string, string> = {}): number {
  const series = scrape.families.get(name)?.type === 'HISTOGRAM' ? `${name}_count` : name;
  const sample = scrape.samples.find((m) => m.name === series && Object.entries(labels).every(([k, v]) => m.labels[k] === v));
  return sample?.value ?? 0;
}

describe('metrics', () => {
  let stack: Stack;
  let metricsToken: string;
  let readerToken: string;
  const scrape = async (token: string | null = metricsToken) => {
    const res = await fetch(new URL('/metrics', stack.server.url), { headers: token ? { authorization: `Bearer ${token}` } : {} });
    return { status: res.status, type: res.headers.get('content-type'), text: await res.text() };
  };

  beforeAll(async () => {
    stack = await startStack(FIXTURE, { metricsOperations: ['StartScan'] });
    const tokens = new TokensService(stack.prisma);
    metricsToken = (await tokens.create({ name: 'prometheus', scopes: ['metrics:read'], createdBy: 'test' })).token;
    readerToken = (await tokens.create({ name: 'reader', scopes: ['findings:read'], createdBy: 'test' })).token;
    // What `serve` wires (startMetrics in cli.ts): the gauges read the queue and the findings at scrape.
    readAtScrape({ queue: () => stack.fleet.queue.depth(), findings: findingsByAccount(stack.prisma, 20) });
    collectProcessMetrics();
  });
  afterAll(async () => {
    await stack?.close();
    await stack?.prisma.$executeRawUnsafe('TRUNCATE api_token CASCADE');
  });

  it('the API port answers /metrics only to a token with metrics:read (or admin)', async () => {
    expect((await scrape(null)).status).toBe(401);
    expect((await scrape(readerToken)).status).toBe(403);
    const ok = await scrape(metricsToken);
    expect(ok.status).toBe(200);
    expect(ok.type).toMatch(/^text\/plain; version=0\.0\.4/);
    expect((await scrape('test-bootstrap-token-0123456789abcdef')).status).toBe(200); // admin implies every scope
    // metrics:read reads metrics, nothing else.
    expect((await stack.gql('{ findings { totalCount } }', {}, metricsToken)).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it('parses as Prometheus text, and its counters move as requests and a scan happen', async () => {
    const before = parseStrict((await scrape()).text);
    for (let i = 0; i < 3; i++) expect((await stack.gql('query FailingFindings { findings(filter: { status: [FAIL] }) { totalCount } }')).status).toBe(200);
    const started = await stack.gql('mutation StartScan { startScan(input: { mode: CREDENTIAL_REPORT }) { scans { id } userErrors { code } } }');
    expect(started.data.startScan.userErrors).toEqual([]);
    const scan = await stack.jobEnded(started.data.startScan.scans[0].id);
    expect(scan.status).toBe('COMPLETED');
    const after = parseStrict((await scrape()).text);

    const delta = (name: string, labels: Record<string, string> = {}) => valueOf(after, name, labels) - valueOf(before, name, labels);
    expect(delta('keywarden_graphql_request_duration_seconds', { operation: 'FailingFindings', operation_type: 'query', outcome: 'ok' })).toBe(3);
    expect(delta('keywarden_graphql_request_duration_seconds', { operation: 'StartScan', operation_type: 'mutation', outcome: 'ok' })).toBe(1);
    expect(delta('keywarden_http_request_duration_seconds', { route: '/graphql', method: 'POST', status_class: '2xx' })).toBeGreaterThanOrEqual(4);
    expect(delta('keywarden_scans_total', { status: 'COMPLETED' })).toBe(1);
    expect(delta('keywarden_scan_duration_seconds', { status: 'COMPLETED' })).toBe(1);
    // The credential report's calls (made in a worker thread when built, in-process under jest) count too.
    expect(delta('keywarden_iam_requests_total', { operation: 'GenerateCredentialReport', code: 'OK' })).toBeGreaterThanOrEqual(1);
    expect(delta('keywarden_iam_requests_total', { operation: 'GetCredentialReport', code: 'OK' })).toBeGreaterThanOrEqual(1);
    // Read from the database at scrape: alice's setup key fails; the queue is empty again.
    expect(valueOf(after, 'keywarden_findings', { account: ACCOUNT, status: 'FAIL' })).toBe(1);
    expect(valueOf(after, 'keywarden_findings', { account: ACCOUNT, status: 'PASS' })).toBeGreaterThanOrEqual(1);
    expect(valueOf(after, 'keywarden_queue_jobs', { state: 'queued' })).toBe(0);
    expect(after.families.has('keywarden_queue_oldest_queued_seconds')).toBe(true);
    // Node's process metrics.
    expect(valueOf(after, 'process_resident_memory_bytes')).toBeGreaterThan(0);
  });

  it('counts IAM errors by code and throttling separately', async () => {
    const before = parseStrict((await scrape()).text);
    stack.sandbox.setFaults([{ operation: 'ListUsers', error: 'Throttling', times: 2 }]);
    const summary = await stack.scan({ mode: 'PER_USER_API' });
    stack.sandbox.setFaults([]);
    expect(summary.status).toBe('COMPLETED');
    const after = parseStrict((await scrape()).text);
    expect(valueOf(after, 'keywarden_iam_requests_total', { operation: 'ListUsers', code: 'Throttling' }) - valueOf(before, 'keywarden_iam_requests_total', { operation: 'ListUsers', code: 'Throttling' })).toBe(2);
    expect(valueOf(after, 'keywarden_iam_throttled_total', { operation: 'ListUsers' }) - valueOf(before, 'keywarden_iam_throttled_total', { operation: 'ListUsers' })).toBe(2);
  });

  it('keeps label sets bounded: operation names not known at start-up, and IAM values past the cap, become "other"', async () => {
    const cap = new LabelCap(2);
    expect([cap.of('A'), cap.of('B'), cap.of('C'), cap.of('A'), cap.of(undefined, 'anonymous'), cap.of('bad name')]).toEqual(['A', 'B', 'other', 'A', 'anonymous', 'other']);
    const allow = new LabelAllowList(['A']);
    expect([allow.of('A'), allow.of('B'), allow.of(undefined, 'anonymous'), allow.of('bad name')]).toEqual(['A', 'other', 'anonymous', 'other']);
    for (let i = 0; i < 120; i++) await stack.gql(`query Op${i} { __typename }`);
    await stack.gql('{ __typename }');
    const names = new Set(parseStrict((await scrape()).text).samples.filter((m) => m.name === 'keywarden_graphql_request_duration_seconds_count').map((m) => m.labels.operation));
    // The page's and README's names, the configured StartScan, "other" and "anonymous": nothing callers made up.
    expect([...names].filter((n) => !['FailingFindings', 'StartScan', 'other', 'anonymous'].includes(n!))).toEqual([]);
    expect(names).toContain('other');
    expect(names).toContain('anonymous');
  });

  it('KEYWARDEN_METRICS_OPERATIONS names operations to label: GraphQL names, comma-separated, at most 100', () => {
    expect(loadConfig({}).metricsOperations).toEqual([]);
    expect(loadConfig({ KEYWARDEN_METRICS_OPERATIONS: ' SyncFindings, Posture ,SyncFindings' }).metricsOperations).toEqual(['SyncFindings', 'Posture']);
    expect(() => loadConfig({ KEYWARDEN_METRICS_OPERATIONS: 'Sync Findings' })).toThrow(/invalid KEYWARDEN_METRICS_OPERATIONS: must be GraphQL operation names/);
    expect(() => loadConfig({ KEYWARDEN_METRICS_OPERATIONS: Array.from({ length: 101 }, (_, i) => `Op${i}`).join(',') })).toThrow(/at most 100/);
  });

  it('exports the webhook deliveries counter for the webhook sender to call', async () => {
    webhookDeliveries.inc({ outcome: 'delivered' });
    expect(valueOf(parseStrict((await scrape()).text), 'keywarden_webhook_deliveries_total', { outcome: 'delivered' })).toBeGreaterThanOrEqual(1);
  });

  it('the metrics port is off unless KEYWARDEN_METRICS_PORT is set, and answers without a token', async () => {
    expect(loadConfig({}).metricsPort).toBeUndefined();
    expect(loadConfig({ KEYWARDEN_METRICS_PORT: '9464' }).metricsPort).toBe(9464);
    expect(() => loadConfig({ KEYWARDEN_METRICS_PORT: '4000', PORT: '4000' })).toThrow(/KEYWARDEN_METRICS_PORT: must differ from PORT/);
    const server = await startMetricsServer({ port: 0, host: '127.0.0.1', logger: pino({ level: 'silent' }) });
    try {
      const res = await fetch(server.url);
      expect(res.status).toBe(200);
      expect(parseStrict(await res.text()).families.has('keywarden_scans_total')).toBe(true);
      expect((await fetch(server.url.replace('/metrics', '/graphql'))).status).toBe(404);
    } finally {
      await server.close();
    }
  });
});
