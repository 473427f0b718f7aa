import http from 'node:http';
import { cloneFindings } from '../../bench/export.seed';
import { SecretBox } from '../../src/adapters/webhooks/secret-box';
import { SsrfGuard } from '../../src/adapters/webhooks/ssrf-guard';
import { createScanService } from '../../src/app';
import { TokensService } from '../../src/auth/tokens.service';
import { DEFAULT_CONTROL_SETTINGS } from '../../src/controls/no-access-keys-at-setup/control';
import { MAX_ERROR_MESSAGE_LENGTH, TRUNCATED_MARK } from '../../src/graphql/common/client-message';
import { MAX_EXPORTS_PER_CALLER } from '../../src/http/exports.route';
import type { FixtureInput, FixtureUserInput } from '../../src/sandbox/fixture';
import { AccountsService } from '../../src/services/accounts.service';
import { memoryLogger, type MemoryLogger } from '../support/memory-logger';
import { startStack, type Stack } from '../support/stack';

/**
 * Review of issue #13's fixes from outside (2026-11-29): variants of each item the item's own tests do not
 * try, on the surfaces added since (graphql-jit, the cost cache, member accounts through AssumeRole, exports,
 * webhooks, /metrics). Each `it` is one attack; those that held stay as regression tests.
 */
const A = '616161616161'; // the base credentials' account
const M = '727272727272'; // a member account, read through its role
const SUSPENDED = '838383838383'; // in the organization, suspended, no role to assume
const NO_ROLE = '949494949494'; // configured with a role that does not exist
const A_KEY = 'AKIAREVIEWAALICE0001';
const M_KEY = 'AKIAREVIEWMMALLORY01';

const consoleUser = (userName: string, accessKeyId: string): FixtureUserInput => ({
  userName, createdAt: 'now-400d', loginProfile: { createdAt: 'now-400d' }, accessKeys: [{ accessKeyId, status: 'Active', createdAt: 'now-400d+30s' }],
});
const FIXTURE_A: FixtureInput = { accountId: A, accountCreatedAt: 'now-900d', users: [consoleUser('alice', A_KEY), consoleUser('bob', 'AKIAREVIEWABOB000001')] };
// alice exists in M too (another person, another key).
const FIXTURE_M: FixtureInput = { accountId: M, accountCreatedAt: 'now-900d', users: [consoleUser('mallory', M_KEY), consoleUser('alice', 'AKIAREVIEWMALICE0001')] };

const fill = (bytes: number) => 'Did you mean '.repeat(Math.floor(bytes / 13));
const bounded = (message: string) => expect(message.length).toBeLessThanOrEqual(MAX_ERROR_MESSAGE_LENGTH + TRUNCATED_MARK.length);

describe('review: access control and hardening, from outside', () => {
  let stack: Stack;
  let log: MemoryLogger;
  const token: Record<string, string> = {};
  let tokens: TokensService;

  beforeAll(async () => {
    log = memoryLogger('debug');
    stack = await startStack(FIXTURE_A, {
      logger: log.logger,
      members: [FIXTURE_M],
      organization: {
        rootId: 'r-rv13', ous: {},
        accounts: [A, M, SUSPENDED].map((id) => ({ id, name: id, email: `${id}@example.com`, state: id === SUSPENDED ? ('SUSPENDED' as const) : ('ACTIVE' as const), parent: 'r-rv13' })),
      },
      // Receivers on loopback, so a webhook can be created; it is disabled at once (nothing is sent).
      webhooks: { secrets: new SecretBox('review-test-key-0123456789abcdefghijklmnop'), guard: new SsrfGuard({ allowPrivate: true, resolve: async () => [{ address: '127.0.0.1', family: 4 }] }) },
    });
    const accounts = new AccountsService(stack.prisma, stack.aws);
    await accounts.sync();
    await accounts.add({ accountId: NO_ROLE, roleArn: `arn:aws:iam::${NO_ROLE}:role/DoesNotExist` });
    expect((await stack.scan()).status).toBe('COMPLETED');
    const memberIam = await accounts.iamClientFor(M, 'keywarden-scan-review');
    expect((await createScanService(stack.prisma, memberIam).run({ collect: { mode: 'CREDENTIAL_REPORT', report: { initialDelayMs: 10 } }, control: DEFAULT_CONTROL_SETTINGS })).status).toBe('COMPLETED');
    tokens = new TokensService(stack.prisma);
    for (const scope of ['findings:read', 'scans:write', 'remediation:write', 'metrics:read'] as const) {
      token[scope] = (await tokens.create({ name: `only ${scope}`, scopes: [scope], createdBy: 'review' })).token;
    }
  }, 60_000);
  afterAll(() => stack?.close());

  const url = (path: string) => stack.server.url.replace(/\/graphql$/, path);
  const memberKey = (id: string) => stack.members[M].state.findAccessKey(id)?.key.status;
  const baseKey = (id: string) => stack.sandbox.state.findAccessKey(id)?.key.status;
  const storedFor = async (accountId: string) => ({
    scans: await stack.prisma.scan.count({ where: { accountId } }),
    findings: await stack.prisma.finding.count({ where: { accountId } }),
    exceptions: await stack.prisma.accessException.count({ where: { accountId } }),
  });
  const ACTION = 'action { status accountId errorCode } userErrors { code field message }';

  describe('item 1: mutations act only where Keywarden proves it reads', () => {
    it('deactivateAccessKey naming the member account with the base account\'s key (and the reverse) is KEY_NOT_FOUND; neither key changes', async () => {
      for (const [accountId, accessKeyId] of [[M, A_KEY], [A, M_KEY]]) {
        const res: any = await stack.gql(`mutation($i: AccessKeyActionInput!) { deactivateAccessKey(input: $i) { ${ACTION} } }`, {
          i: { accountId, userName: 'alice', accessKeyId, reason: 'review: cross-account key', force: true },
        }, token['remediation:write']);
        expect(res.errors).toBeUndefined();
        expect(res.data.deactivateAccessKey.userErrors.map((e: any) => e.code)).toEqual(['KEY_NOT_FOUND']);
      }
      expect([baseKey(A_KEY), memberKey(M_KEY)]).toEqual(['Active', 'Active']);
    });

    it('createException for an organization account whose role cannot be assumed is ASSUME_ROLE_DENIED: no exception, no scan, no finding stored for it', async () => {
      const res: any = await stack.gql('mutation($i: CreateExceptionInput!) { createException(input: $i) { exception { id } userErrors { code field message } } }', {
        i: { accountId: SUSPENDED, userName: 'alice', justification: 'review', expiresAt: new Date(Date.now() + 30 * 86_400_000).toISOString() },
      }, token['remediation:write']);
      expect(res.errors).toBeUndefined();
      expect(res.data.createException.exception).toBeNull();
      expect(res.data.createException.userErrors.map((e: any) => e.code)).toEqual(['ASSUME_ROLE_DENIED']);
      expect(await storedFor(SUSPENDED)).toEqual({ scans: 0, findings: 0, exceptions: 0 });
    });

    it('startScan of a configured account whose role does not exist queues a scan that FAILS with ASSUME_ROLE_DENIED and stores no finding', async () => {
      const res: any = await stack.gql(`mutation { startScan(input: { accountIds: ["${NO_ROLE}"] }) { scans { id status } userErrors { code } } }`, {}, token['scans:write']);
      expect(res.errors).toBeUndefined();
      const [queued] = res.data.startScan.scans;
      expect(queued.status).toBe('QUEUED');
      expect((await stack.scanEnded(queued.id)).status).toBe('FAILED');
      const scan: any = await stack.gql(`{ scan(id: "${queued.id}") { errors { code } counts { pass fail } } }`);
      expect(scan.data.scan.errors.map((e: any) => e.code)).toContain('ASSUME_ROLE_DENIED');
      expect((await storedFor(NO_ROLE)).findings).toBe(0);
    });

    it('a findings cursor issued under the member account\'s filter, used under the base account\'s, shows only the base account\'s findings', async () => {
      const page: any = await stack.gql(`{ findings(first: 1, filter: { accountIds: ["${M}"], state: [OPEN, RESOLVED, NEVER_FAILED] }) { pageInfo { endCursor } } }`);
      const cursor = page.data.findings.pageInfo.endCursor;
      const res: any = await stack.gql(`query($c: String) { findings(first: 100, after: $c, filter: { accountIds: ["${A}"], state: [OPEN, RESOLVED, NEVER_FAILED] }) { nodes { accountId } } }`, { c: cursor }, token['findings:read']);
      expect(res.errors).toBeUndefined();
      expect(new Set(res.data.findings.nodes.map((n: any) => n.accountId))).toEqual(new Set(res.data.findings.nodes.length ? [A] : []));
    });

    it('ids of another type: scan(id:) with a Finding id is BAD_USER_INPUT; cancelScan with one is SCAN_NOT_FOUND and cancels nothing', async () => {
      const finding: any = await stack.gql(`{ findings(first: 1) { nodes { id } } }`);
      const id = finding.data.findings.nodes[0].id;
      const scan: any = await stack.gql('query($id: ID!) { scan(id: $id) { id } }', { id }, token['findings:read']);
      expect(scan.errors[0].extensions.code).toBe('BAD_USER_INPUT');
      const before = await stack.prisma.scan.count({ where: { status: 'CANCELLED' } });
      const cancel: any = await stack.gql('mutation($id: String!) { cancelScan(input: { scanId: $id }) { scan { id } userErrors { code field } } }', { id }, token['scans:write']);
      expect(cancel.data.cancelScan.userErrors.map((e: any) => e.code)).toEqual(['SCAN_NOT_FOUND']);
      expect(await stack.prisma.scan.count({ where: { status: 'CANCELLED' } })).toBe(before);
    });

    it('an export naming an account without a completed scan is 400 before any byte, whatever else it names', async () => {
      const res = await fetch(url(`/exports/findings?format=jsonl&accountIds=${A},${NO_ROLE}`), { headers: { authorization: `Bearer ${token['findings:read']}` } });
      expect(res.status).toBe(400);
      const body: any = await res.json();
      expect(body.errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'accountIds' });
    });
  });

  describe('item 2: caller text reaching error formatting, on the graphql-jit path too', () => {
    const attacks = () => [
      // An operationName the document lacks: echoed by graphql-js.
      { query: '{ controls { controlId } }', operationName: fill(90_000).replace(/ /g, '_') },
      // Resolver errors under graphql-jit (queries run compiled), echoing an id and account ids.
      { query: 'query($id: ID!) { scan(id: $id) { id } }', variables: { id: fill(90_000) } },
      { query: 'query($a: [String!]) { findings(filter: { accountIds: $a }) { totalCount } }', variables: { a: [fill(90_000)] } },
      // Scalar coercion of a variable (DateTime), and unicode that is not ASCII.
      { query: 'query($d: DateTime) { findings(filter: { firstSeenAfter: $d }) { totalCount } }', variables: { d: `${fill(60_000)}é😀` } },
    ];
    const post = (body: Record<string, unknown>) =>
      fetch(stack.server.url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token['findings:read']}` }, body: JSON.stringify(body) })
        .then(async (r) => ({ status: r.status, ...((await r.json()) as any) }));

    it('each answers a bounded message with no suggestion and no 5xx, and /healthz answers promptly meanwhile', async () => {
      const started = Date.now();
      const inFlight = Promise.all(attacks().map(post));
      const health = await fetch(url('/healthz'));
      const healthMs = Date.now() - started;
      const answers = await inFlight;
      expect(health.status).toBe(200);
      expect(healthMs).toBeLessThan(1_000);
      for (const res of answers) {
        expect(res.status).toBeLessThan(500);
        expect(res.errors.length).toBeGreaterThan(0);
        for (const e of res.errors) {
          bounded(e.message);
          expect(e.message).not.toMatch(/did you mean/i);
          expect(e.extensions.code).not.toBe('INTERNAL_SERVER_ERROR');
        }
      }
    });
  });

  describe('item 3: costs', () => {
    const NESTED = 'query Q($n: Int) { scans(first: $n) { nodes { findings(first: $n) { nodes { scan { findings(first: $n) { nodes { id } } } } } } } }';

    it('the cost cache does not reuse a cheap estimate for the same document with costlier variables', async () => {
      const cheap: any = await stack.gql(NESTED, { n: 2 }, token['findings:read']);
      expect(cheap.errors).toBeUndefined();
      const again: any = await stack.gql(NESTED, { n: 2 }, token['findings:read']); // cached now
      expect(again.errors).toBeUndefined();
      const costly: any = await stack.gql(NESTED, { n: 100 }, token['findings:read']);
      expect(costly.status).toBe(400);
      expect(costly.errors[0].extensions.code).toBe('QUERY_TOO_COSTLY');
    });

    it('nor the estimate of one operation for another operation of the same document', async () => {
      const doc = `query Cheap { controls { controlId } } ${NESTED.replace('query Q($n: Int)', 'query Costly').replace(/\$n/g, '100')}`;
      const send = (operationName: string) =>
        fetch(stack.server.url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token['findings:read']}` }, body: JSON.stringify({ query: doc, operationName }) }).then(async (r) => ({ status: r.status, ...((await r.json()) as any) }));
      expect((await send('Cheap')).errors).toBeUndefined();
      const costly = await send('Costly');
      expect(costly.status).toBe(400);
      expect(costly.errors[0].extensions.code).toBe('QUERY_TOO_COSTLY');
    });

    it('connections added since (openedFindings, findingChanges, accounts\' scans) multiply like findings: nested pages are refused before any SQL', async () => {
      for (const q of [
        '{ scans(first: 100) { nodes { openedFindings(first: 100) { nodes { id userName } } resolvedFindings(first: 100) { nodes { id } } } } }',
        '{ findingChanges(first: 100) { nodes { scan { findings(first: 100) { nodes { id userName } } } } } }',
        '{ accounts(first: 100) { nodes { scans(first: 100) { nodes { id status } } findings(first: 100) { nodes { id } } } } }',
      ]) {
        const res: any = await stack.gql(q, {}, token['findings:read']);
        expect([q.slice(0, 60), res.status, res.errors?.[0]?.extensions?.code]).toEqual([q.slice(0, 60), 400, 'QUERY_TOO_COSTLY']);
      }
    });
  });

  describe('item 4: expensive mutations', () => {
    it('a second startScan under @include(if: false) is still refused (the count ignores directives), and nothing is queued', async () => {
      const before = await stack.prisma.scan.count();
      const res: any = await stack.gql('mutation($no: Boolean!) { a: startScan { scans { id } } b: startScan @include(if: $no) { scans { id } } }', { no: false }, token['scans:write']);
      expect(res.status).toBe(400);
      expect(res.errors[0].extensions.code).toBe('TOO_MANY_EXPENSIVE_MUTATIONS');
      expect(await stack.prisma.scan.count()).toBe(before);
    });

    it('a mutation over GET is refused (405) and queues nothing, with or without the CSRF header', async () => {
      const before = await stack.prisma.scan.count();
      for (const headers of [{}, { 'apollo-require-preflight': 'true' }] as Record<string, string>[]) {
        const res = await fetch(`${stack.server.url}?query=${encodeURIComponent('mutation { startScan { scans { id } } }')}`, { headers: { authorization: `Bearer ${token['scans:write']}`, ...headers } });
        expect(res.status).toBeGreaterThanOrEqual(400);
        expect(res.status).toBeLessThan(500);
      }
      expect(await stack.prisma.scan.count()).toBe(before);
    });
  });

  describe('items 5 and 7: idempotency keys', () => {
    const dryRun = (key: string) => ({ i: { accountId: A, userName: 'alice', accessKeyId: A_KEY, reason: 'review: idempotency', dryRun: true, force: true, idempotencyKey: key } });
    const DEACTIVATE = `mutation($i: AccessKeyActionInput!) { deactivateAccessKey(input: $i) { action { id actor status } userErrors { code } } }`;

    it('a revoked token cannot replay its own key (401, no audit row); the same key from another token is that token\'s own action', async () => {
      const first = await tokens.create({ name: 'review soon revoked', scopes: ['remediation:write'], createdBy: 'review' });
      const ran: any = await stack.gql(DEACTIVATE, dryRun('REVIEW-TICKET-1'), first.token);
      expect(ran.data.deactivateAccessKey.action.status).toBe('DRY_RUN');
      await tokens.revoke(first.record.id);
      const audit = await stack.prisma.remediationAction.count();
      const replay = await stack.gql(DEACTIVATE, dryRun('REVIEW-TICKET-1'), first.token);
      expect(replay.status).toBe(401);
      expect(await stack.prisma.remediationAction.count()).toBe(audit);
      const other: any = await stack.gql(DEACTIVATE, dryRun('REVIEW-TICKET-1'), token['remediation:write']);
      expect(other.data.deactivateAccessKey.action.id).not.toBe(ran.data.deactivateAccessKey.action.id);
      expect(other.data.deactivateAccessKey.action.actor).toContain('only remediation:write');
    });

    it('keys that differ only by Unicode normalisation are two keys; a key with NUL is 400 before anything is audited', async () => {
      const nfc: any = await stack.gql(DEACTIVATE, dryRun('ticket-caf\u00e9'), token['remediation:write']);
      const nfd: any = await stack.gql(DEACTIVATE, dryRun('ticket-cafe\u0301'), token['remediation:write']);
      expect([nfc.data.deactivateAccessKey.userErrors, nfd.data.deactivateAccessKey.userErrors]).toEqual([[], []]);
      expect(nfd.data.deactivateAccessKey.action.id).not.toBe(nfc.data.deactivateAccessKey.action.id);
      const audit = await stack.prisma.remediationAction.count();
      const nul = await stack.gql(DEACTIVATE, dryRun('ticket-\u0000'), token['remediation:write']);
      expect(nul.status).toBe(400);
      expect(nul.errors![0].extensions!.code).toBe('BAD_USER_INPUT');
      expect(await stack.prisma.remediationAction.count()).toBe(audit);
    });
  });

  describe('scopes', () => {
    it('metrics:read reads /metrics and nothing else: FORBIDDEN on GraphQL, 403 on exports; findings:read is 403 on /metrics', async () => {
      const gql: any = await stack.gql('{ controls { controlId } }', {}, token['metrics:read']);
      expect(gql.errors[0].extensions.code).toBe('FORBIDDEN');
      expect(gql.data).toBeNull();
      const exp = await fetch(url('/exports/findings?format=csv'), { headers: { authorization: `Bearer ${token['metrics:read']}` } });
      expect(exp.status).toBe(403);
      expect((await fetch(url('/metrics'), { headers: { authorization: `Bearer ${token['findings:read']}` } })).status).toBe(403);
      expect((await fetch(url('/metrics'), { headers: { authorization: `Bearer ${token['metrics:read']}` } })).status).toBe(200);
    });

    it('scans:write and remediation:write cannot export findings (403, no body)', async () => {
      for (const scope of ['scans:write', 'remediation:write']) {
        const res = await fetch(url('/exports/findings?format=jsonl'), { headers: { authorization: `Bearer ${token[scope]}` } });
        expect([scope, res.status]).toEqual([scope, 403]);
        expect(await res.text()).not.toContain(A);
      }
    });

    it('a webhook\'s secret is in createWebhook\'s answer only: never in webhooks, the database or the logs', async () => {
      const created: any = await stack.gql('mutation { createWebhook(input: { url: "http://127.0.0.1:9/review", events: ["finding.opened"], description: "review" }) { webhook { id } secret userErrors { code message } } }');
      expect(created.data.createWebhook.userErrors).toEqual([]);
      const { secret, webhook } = created.data.createWebhook;
      expect(secret).toMatch(/^whsec_/);
      const bare = secret.slice('whsec_'.length);
      await stack.gql('mutation($id: ID!) { updateWebhook(input: { id: $id, enabled: false }) { userErrors { code } } }', { id: webhook.id });
      const listed: any = await stack.gql('{ webhooks { nodes { id url events description enabled disabledReason createdBy } } }');
      expect(JSON.stringify(listed)).not.toContain(bare);
      const rows = await stack.prisma.$queryRawUnsafe<{ t: string }[]>('SELECT row_to_json(w)::text AS t FROM webhook_endpoint w');
      expect(rows.length).toBeGreaterThan(0);
      for (const { t } of rows) expect(t).not.toContain(bare);
      expect(log.text()).not.toContain(bare);
    });
  });
});

/**
 * Exports stream with backpressure: a client that stops reading holds its export open, with about two pages
 * (and the socket's buffers) in memory. Measured: 60 paused OCSF exports of 5,000 findings from one
 * findings:read token held +167 MB RSS in the server (2.8 MB each), within the rate limit (600 a minute).
 */
describe('review: concurrent exports from one caller', () => {
  let stack: Stack;
  let reader: string;
  let other: string;
  const open: http.ClientRequest[] = [];

  beforeAll(async () => {
    stack = await startStack({ accountId: A, accountCreatedAt: 'now-900d', users: [consoleUser('alice', A_KEY)] });
    expect((await stack.scan()).status).toBe('COMPLETED');
    expect(await cloneFindings(stack.prisma, A, 10_000)).toBe(10_000);
    const tokens = new TokensService(stack.prisma);
    reader = (await tokens.create({ name: 'export reader', scopes: ['findings:read'], createdBy: 'review' })).token;
    other = (await tokens.create({ name: 'another reader', scopes: ['findings:read'], createdBy: 'review' })).token;
  }, 60_000);
  afterAll(async () => {
    for (const req of open) req.destroy();
    await stack?.close();
  });

  /** Starts an export, takes its first chunk and stops reading; the status, and the request to end it. */
  async function pausedExport(bearer: string): Promise<{ status: number; body: string; retryAfter?: string; req: http.ClientRequest }> {
    const req = http.get(new URL(stack.server.url.replace(/graphql$/, 'exports/findings?format=ocsf')), { headers: { authorization: `Bearer ${bearer}` }, agent: false });
    open.push(req);
    const res = await new Promise<http.IncomingMessage>((resolve) => req.once('response', resolve));
    if (res.statusCode !== 200) {
      let body = '';
      for await (const chunk of res) body += chunk;
      return { status: res.statusCode!, body, retryAfter: res.headers['retry-after'] as string | undefined, req };
    }
    await new Promise((resolve) => res.once('data', resolve));
    res.pause();
    return { status: 200, body: '', req };
  }

  it('at most MAX_EXPORTS_PER_CALLER run at once per caller: the next is 429 with Retry-After; another caller is not held up; a slot frees when one ends', async () => {
    const held = [];
    for (let i = 0; i < MAX_EXPORTS_PER_CALLER; i++) held.push(await pausedExport(reader));
    expect(held.map((h) => h.status)).toEqual(held.map(() => 200));
    const refused = await pausedExport(reader);
    expect(refused.status).toBe(429);
    expect(Number(refused.retryAfter)).toBeGreaterThan(0);
    expect(JSON.parse(refused.body).errors[0].extensions.code).toBe('TOO_MANY_EXPORTS');
    expect((await pausedExport(other)).status).toBe(200);
    held[0].req.destroy();
    let again = refused;
    for (const start = Date.now(); again.status !== 200 && Date.now() - start < 5_000; await new Promise((r) => setTimeout(r, 100))) again = await pausedExport(reader);
    expect(again.status).toBe(200);
  }, 30_000);
});

describe('review: an export whose client stopped reading', () => {
  let stack: Stack;
  let reader: string;

  beforeAll(async () => {
    stack = await startStack({ accountId: A, accountCreatedAt: 'now-900d', users: [consoleUser('alice', A_KEY)] }, { exports: { idleTimeoutMs: 1_000 } });
    expect((await stack.scan()).status).toBe('COMPLETED');
    expect(await cloneFindings(stack.prisma, A, 10_000)).toBe(10_000);
    reader = (await new TokensService(stack.prisma).create({ name: 'stalled reader', scopes: ['findings:read'], createdBy: 'review' })).token;
  }, 60_000);
  afterAll(() => stack?.close());

  it('is ended after the idle timeout (KEYWARDEN_EXPORT_IDLE_TIMEOUT_SECONDS), freeing its caller\'s slot', async () => {
    const url = stack.server.url.replace(/graphql$/, 'exports/findings?format=ocsf');
    const stalled: http.ClientRequest[] = [];
    try {
      for (let i = 0; i < MAX_EXPORTS_PER_CALLER; i++) {
        const req = http.get(url, { headers: { authorization: `Bearer ${reader}` }, agent: false });
        stalled.push(req);
        const res = await new Promise<http.IncomingMessage>((resolve) => req.once('response', resolve));
        expect(res.statusCode).toBe(200);
        await new Promise((resolve) => res.once('data', resolve));
        res.pause(); // takes nothing more, and never closes
      }
      const startedAt = Date.now();
      const status = async () => {
        const res = await fetch(url, { method: 'HEAD', headers: { authorization: `Bearer ${reader}` } });
        return res.status;
      };
      expect(await status()).toBe(429); // the four hold every slot
      // The server ends them after a second of taking nothing: the client never does.
      let freed = 429;
      while (freed === 429 && Date.now() - startedAt < 10_000) {
        await new Promise((r) => setTimeout(r, 200));
        freed = await status();
      }
      expect(freed).toBe(200);
      expect(Date.now() - startedAt).toBeGreaterThanOrEqual(900);
    } finally {
      for (const req of stalled) req.destroy();
    }
  }, 30_000);
});
