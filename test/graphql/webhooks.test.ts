import { randomUUID } from 'node:crypto';
import { SecretBox } from '../../src/adapters/webhooks/secret-box';
import { SsrfGuard } from '../../src/adapters/webhooks/ssrf-guard';
import { WebhookStore } from '../../src/adapters/webhooks/webhook.store';
import { TokensService } from '../../src/auth/tokens.service';
import { RetentionService } from '../../src/services/retention.service';
import type { FixtureInput } from '../../src/sandbox/fixture';
import { startReceiver, type WebhookReceiver } from '../support/webhook-receiver';
import { resetDatabase, startStack, type Stack } from '../support/stack';

/**
 * Webhooks (issue #10): signed per Standard Webhooks, each committed event once and in order per endpoint,
 * retried with the injectable clock, a bad receiver slowing no other, bad input as userErrors.
 */
const ACCOUNT = '111122223333';
const FIXTURE: FixtureInput = {
  accountId: ACCOUNT,
  accountCreatedAt: 'now-900d',
  users: Array.from({ length: 3 }, (_, i) => ({
    userName: `dev${i}`, createdAt: 'now-300d', loginProfile: { createdAt: 'now-300d' },
    accessKeys: [{ status: 'Active' as const, createdAt: 'now-300d+1m' }],
  })),
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const CREATE = `mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { webhook { id url events enabled } secret userErrors { code field message } } }`;
const DELIVERIES = `query($id: ID!) { webhookDeliveries(webhookId: $id, first: 100) { totalCount nodes { id messageId eventType status attempts responseStatus error nextAttemptAt payload } } }`;

describe('webhooks', () => {
  let stack: Stack;
  const receivers: WebhookReceiver[] = [];
  // The clock retries are scheduled by: tests move it forward instead of waiting.
  let offsetMs = 0;
  const now = () => new Date(Date.now() + offsetMs);

  beforeAll(async () => {
    stack = await startStack(FIXTURE, {
      webhooks: {
        secrets: new SecretBox('webhooks-test-key-0123456789abcdefghijkl'),
        guard: new SsrfGuard({ allowPrivate: true }), // the receivers listen on loopback
        dispatchIntervalMs: 100,
        timeoutMs: 2_000,
        retry: { firstDelayMs: 60_000, windowMs: 24 * 3600_000 },
        now,
      },
    });
  });
  afterAll(async () => {
    for (const r of receivers) await r.close();
    await stack?.close();
  });
  beforeEach(async () => {
    offsetMs = 0;
    await stack.prisma.webhookEndpoint.deleteMany(); // row locks: a delivery job still finishing cannot deadlock with it
    await resetDatabase(stack.prisma); // findings and the change log: each test's scans open findings anew
  });

  async function receiver(): Promise<WebhookReceiver> {
    const r = await startReceiver();
    receivers.push(r);
    return r;
  }

  async function createWebhook(r: WebhookReceiver, events: string[] = ['finding.opened', 'finding.resolved', 'scan.completed']): Promise<string> {
    const res: any = await stack.gql(CREATE, { input: { url: r.url, events, description: 'test' } });
    expect(res.data.createWebhook.userErrors).toEqual([]);
    r.secret = res.data.createWebhook.secret;
    return res.data.createWebhook.webhook.id;
  }

  /** Change events in one transaction, as the scan and remediation transactions write them. */
  async function emit(events: { type: string; findingId?: string; scanId?: string; payload?: object }[]): Promise<void> {
    await stack.prisma.$transaction(events.map((e) => stack.prisma.$executeRawUnsafe(
      'INSERT INTO change_event (account_id, type, finding_id, scan_id, payload) VALUES ($1, $2, $3::uuid, $4::uuid, $5::jsonb)',
      ACCOUNT, e.type, e.findingId ?? null, e.scanId ?? null, JSON.stringify(e.payload ?? {}),
    )));
  }

  const deliveries = async (id: string) => ((await stack.gql(DELIVERIES, { id })) as any).data.webhookDeliveries;

  it('createWebhook shows the whsec_ secret once and stores it only sealed; bad input comes back as userErrors naming the field', async () => {
    const r = await receiver();
    const res: any = await stack.gql(CREATE, { input: { url: r.url, events: ['finding.opened'], description: 'soc' } });
    const { webhook, secret, userErrors } = res.data.createWebhook;
    expect(userErrors).toEqual([]);
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(webhook).toMatchObject({ url: r.url, events: ['finding.opened'], enabled: true });
    const rows = await stack.prisma.$queryRawUnsafe<any[]>('SELECT row_to_json(w)::text AS row FROM webhook_endpoint w');
    expect(rows).toHaveLength(1);
    expect(rows[0].row).not.toContain(secret.slice(6));
    expect(rows[0].row).not.toContain(secret.slice(6, 20));
    const listed: any = await stack.gql('{ webhooks { totalCount nodes { id url events description } } }');
    expect(listed.data.webhooks).toEqual({ totalCount: 1, nodes: [{ id: webhook.id, url: r.url, events: ['finding.opened'], description: 'soc' }] });

    const bad = async (input: object) => ((await stack.gql(CREATE, { input })) as any).data.createWebhook;
    const unknown = await bad({ url: r.url, events: ['finding.opened', 'finding.exploded'] });
    expect(unknown).toMatchObject({ webhook: null, secret: null, userErrors: [{ code: 'INVALID_INPUT', field: ['input', 'events'], message: expect.stringContaining('"finding.exploded"') }] });
    expect((await bad({ url: r.url, events: [] })).userErrors).toMatchObject([{ field: ['input', 'events'] }]);
    expect((await bad({ url: 'not a url', events: ['scan.completed'] })).userErrors).toMatchObject([{ field: ['input', 'url'], message: 'url is not a URL' }]);
    expect((await bad({ url: 'ftp://example.com/x', events: ['scan.completed'] })).userErrors).toMatchObject([{ field: ['input', 'url'] }]);
    // Cloud metadata is refused even where private addresses are allowed.
    expect((await bad({ url: 'http://169.254.169.254/latest/meta-data', events: ['scan.completed'] })).userErrors).toMatchObject([{ field: ['input', 'url'], message: expect.stringContaining('metadata') }]);
    expect((await bad({ url: 'https://u:p@example.com/', events: ['scan.completed'] })).userErrors).toMatchObject([{ field: ['input', 'url'], message: expect.stringContaining('credentials') }]);
    expect((await bad({ url: r.url, events: ['scan.completed'], description: 'x'.repeat(501) })).userErrors).toMatchObject([{ field: ['input', 'description'] }]);
    expect(await stack.prisma.webhookEndpoint.count()).toBe(1);

    // admin only: a findings:read token may not list or create webhooks.
    const { token } = await new TokensService(stack.prisma).create({ name: 'reader', scopes: ['findings:read'], createdBy: 'test' });
    const denied: any = await stack.gql('{ webhooks { totalCount } }', {}, token);
    expect(denied.errors[0].extensions.code).toBe('FORBIDDEN');
  });

  it('a receiver verifying with standardwebhooks gets each event of a scan exactly once; a FAILED scan sends none; a rolled-back transaction nothing', async () => {
    const r = await receiver();
    const id = await createWebhook(r, ['finding.opened', 'finding.resolved', 'finding.reopened', 'scan.completed', 'scan.failed']);
    const first = await stack.scan();
    const got = await r.waitFor(4);
    expect(got.map((m) => m.type)).toEqual(['finding.opened', 'finding.opened', 'finding.opened', 'scan.completed']);

    // The finding as the GraphQL API shapes it (read now, before later scans change it).
    const opened = got[0]!.body;
    const fields = 'id controlId status reasons userName userArn accessKeyId accountId state resolvedAt resolution reopenCount firstSeenAt lastSeenAt evidence { dataSource evaluatedAt accessKeyId }';
    const api: any = await stack.gql(`query($id: ID!) { node(id: $id) { ... on Finding { ${fields} scan { id } } } }`, { id: opened.data.finding.id });
    expect(opened).toMatchObject({ type: 'finding.opened', timestamp: expect.any(String), data: { accountId: ACCOUNT, finding: api.data.node, change: { state: 'OPEN', previousState: null } } });
    expect(opened.data.finding).not.toHaveProperty('localId');
    expect(got[3]!.body.data.scan).toMatchObject({ id: api.data.node.scan.id, status: 'COMPLETED', counts: { fail: 3 } });

    // One key is deactivated: the next scan resolves its finding.
    const key = api.data.node.accessKeyId as string;
    stack.sandbox.state.setKeyStatus(key, 'Inactive');
    const second = await stack.scan();
    // A scan that read IAM before the last stored one FAILs (superseded): its findings are not stored, nor sent.
    stack.sandbox.state.setKeyStatus(key, 'Active');
    const failed = await stack.scan({}, {}, new Date(Date.now() - 3_600_000));
    expect(failed.status).toBe('FAILED');
    // Rolled back: the event vanishes with it.
    await stack.prisma.$transaction(async (tx) => {
      await tx.$executeRawUnsafe(`INSERT INTO change_event (account_id, type, scan_id) VALUES ($1, 'scan.completed', $2::uuid)`, ACCOUNT, randomUUID());
      throw new Error('roll back');
    }).catch(() => {});
    await r.waitFor(7);
    await sleep(1_000); // nothing more comes
    const scanOf = (s: string) => Buffer.from(`Scan:${s}`).toString('base64url');
    expect(r.received.slice(4).map((m) => [m.type, m.body.data.scanId])).toEqual([
      ['finding.resolved', scanOf(second.scanId)],
      ['scan.completed', scanOf(second.scanId)],
      ['scan.failed', scanOf(failed.scanId)],
    ]);
    expect(r.received.slice(4)[0]!.body.data.finding).toMatchObject({ accessKeyId: key, state: 'RESOLVED' });
    expect(r.received.every((m) => m.body.data.scanId !== scanOf(failed.scanId) || m.type === 'scan.failed')).toBe(true);
    expect(r.received.filter((m) => m.body.data.scanId === scanOf(first.scanId))).toHaveLength(4);
    expect(new Set(r.received.map((m) => m.id)).size).toBe(7);
    expect(r.rejected).toBe(0);
    expect(r.requests).toBe(7);

    const d = await deliveries(id);
    expect(d.totalCount).toBe(7);
    expect(d.nodes.map((n: any) => [n.status, n.attempts, n.responseStatus])).toEqual(Array(7).fill(['SUCCEEDED', 1, 204]));
    expect(d.nodes.map((n: any) => n.messageId).sort()).toEqual(r.received.map((m) => m.id).sort());
    expect(JSON.parse(d.nodes[0].payload)).toEqual(r.received[6]!.body); // newest first: the bytes sent
    // Pages: newest event first, the second page picks up where the first ended.
    const PAGE = `query($id: ID!, $after: String) { webhookDeliveries(webhookId: $id, first: 3, after: $after) { nodes { messageId } pageInfo { hasNextPage endCursor } } }`;
    const seen: string[] = [];
    let after: string | null = null;
    for (let page = 0; page < 5; page++) {
      const res: any = await stack.gql(PAGE, { id, after });
      seen.push(...res.data.webhookDeliveries.nodes.map((n: any) => n.messageId));
      if (!res.data.webhookDeliveries.pageInfo.hasNextPage) break;
      after = res.data.webhookDeliveries.pageInfo.endCursor;
    }
    expect(seen).toEqual(d.nodes.map((n: any) => n.messageId));
    expect(seen).toEqual([...r.received].reverse().map((m) => m.id));

    // Retention prunes settled deliveries with the history they describe.
    await new RetentionService(stack.prisma).prune(1, new Date(Date.now() + 2 * 86_400_000));
    expect(await stack.prisma.webhookDelivery.count()).toBe(0);
  });

  it('an exception and a remediation send finding.excepted and remediation.completed, the action shaped as the API shapes it', async () => {
    await stack.scan();
    const r = await receiver();
    await createWebhook(r, ['finding.excepted', 'remediation.completed']);
    const [dev0, dev1] = await stack.prisma.finding.findMany({ where: { status: 'FAIL' }, orderBy: { userName: 'asc' } });
    const exception: any = await stack.gql(`mutation($input: CreateExceptionInput!) { createException(input: $input) { userErrors { code } } }`, {
      input: { accountId: ACCOUNT, userName: dev0!.userName, accessKeyId: dev0!.accessKeyId, justification: 'vendor', expiresAt: new Date(Date.now() + 7 * 86_400_000).toISOString() },
    });
    expect(exception.data.createException.userErrors).toEqual([]);
    const done: any = await stack.gql(`mutation($input: AccessKeyActionInput!) { deactivateAccessKey(input: $input) { action { id status } userErrors { code } } }`, {
      input: { accountId: ACCOUNT, userName: dev1!.userName, accessKeyId: dev1!.accessKeyId, reason: 'CIS: created at setup' },
    });
    expect(done.data.deactivateAccessKey.action.status).toBe('SUCCEEDED');
    const got = await r.waitFor(2);
    expect(got.map((m) => m.type)).toEqual(['finding.excepted', 'remediation.completed']);
    expect(got[0]!.body.data.finding).toMatchObject({ accessKeyId: dev0!.accessKeyId, status: 'EXCEPTED' });
    const api: any = await stack.gql(`query($id: ID!) { node(id: $id) { ... on RemediationAction { id kind status actor accountId userName accessKeyId reason dryRun force plan createdAt completedAt } } }`, { id: done.data.deactivateAccessKey.action.id });
    expect(got[1]!.body.data).toMatchObject({ accountId: ACCOUNT, action: api.data.node, change: { kind: 'DEACTIVATE', outcome: 'SUCCEEDED' } });
    // Leave IAM and the exceptions as the other tests expect them.
    stack.sandbox.state.setKeyStatus(dev1!.accessKeyId!, 'Active');
    await stack.prisma.accessException.deleteMany();
  });

  it('an event of a transaction still open holds back later ones: the endpoint gets them in (txid, seq) order once it commits', async () => {
    const r = await receiver();
    await createWebhook(r, ['scan.completed', 'scan.failed']);
    const first = randomUUID();
    const second = randomUUID();
    let release!: () => void;
    const held = new Promise<void>((res) => (release = res));
    const slow = stack.prisma.$transaction(async (tx) => {
      await tx.$executeRawUnsafe(`INSERT INTO change_event (account_id, type, scan_id) VALUES ($1, 'scan.failed', $2::uuid)`, ACCOUNT, first);
      await held;
    }, { timeout: 20_000 });
    await sleep(200);
    await emit([{ type: 'scan.completed', scanId: second }]);
    await sleep(1_000);
    expect(r.received).toHaveLength(0); // the later transaction's event waits below the open one
    release();
    await slow;
    const got = await r.waitFor(2);
    expect(got.map((m) => [m.type, m.body.data.scanId])).toEqual([
      ['scan.failed', Buffer.from(`Scan:${first}`).toString('base64url')],
      ['scan.completed', Buffer.from(`Scan:${second}`).toString('base64url')],
    ]);
  });

  it('a receiver down for its first 10 minutes then gets every event of the scan, in order, each once; the retries wait on the clock', async () => {
    const r = await receiver();
    r.mode = 'down';
    const id = await createWebhook(r, ['finding.opened', 'scan.completed']);
    await stack.scan();
    const events = await stack.prisma.changeEvent.findMany({ where: { type: { in: ['finding.opened', 'scan.completed'] } }, orderBy: { seq: 'asc' } });
    expect(events).toHaveLength(4);
    for (const start = Date.now(); r.requests < 1 && Date.now() - start < 10_000; ) await sleep(50);
    await sleep(500);
    expect(r.requests).toBe(1); // the next attempt waits a minute of the (test) clock; the later events wait behind it
    let d = await deliveries(id);
    const head = d.nodes.find((n: any) => n.attempts === 1);
    expect(head).toMatchObject({ status: 'PENDING', eventType: 'finding.opened', responseStatus: 500, error: 'HTTP 500' });
    expect(new Date(head.nextAttemptAt).getTime() - now().getTime()).toBeGreaterThan(50_000);
    // Minutes pass, the receiver still down: attempts 2, 3, 4 (1, 2, then 4 minutes apart).
    // Each failure is recorded before the clock moves on (its next attempt is scheduled from the clock then).
    const attempted = async (n: number) => {
      for (const start = Date.now(); Date.now() - start < 15_000; await sleep(50)) {
        if ((await stack.prisma.webhookDelivery.aggregate({ _max: { attempts: true } }))._max.attempts === n) return;
      }
      throw new Error(`attempt ${n} was not recorded`);
    };
    await attempted(1);
    for (const [minutes, attempt] of [[1, 2], [3, 3], [7, 4]] as const) {
      offsetMs = minutes * 60_000 + 1_000;
      await attempted(attempt);
    }
    expect(r.requests).toBe(4);
    r.mode = 'up';
    offsetMs = 16 * 60_000; // past the attempt due at minute 15
    const got = await r.waitFor(4);
    expect(got.map((m) => [m.type, m.body.data.finding?.id ?? m.body.data.scan.id])).toEqual(events.map((e) => [
      e.type, e.findingId ? Buffer.from(`Finding:${e.findingId}`).toString('base64url') : Buffer.from(`Scan:${e.scanId}`).toString('base64url'),
    ]));
    await sleep(500);
    expect(r.received).toHaveLength(4);
    d = await deliveries(id);
    expect(d.nodes.map((n: any) => n.attempts).sort()).toEqual([1, 1, 1, 5]);
  });

  it('a receiver answering 500, hanging, or sending 10 MB fails its own delivery; another endpoint gets its events meanwhile', async () => {
    const good = await receiver();
    const bad = await Promise.all([receiver(), receiver(), receiver()]);
    bad[0]!.mode = 'down';
    bad[1]!.mode = 'hang';
    bad[2]!.mode = 'huge';
    const badIds = [];
    for (const b of bad) badIds.push(await createWebhook(b, ['scan.completed']));
    await createWebhook(good, ['scan.completed']);
    const started = Date.now();
    await emit([{ type: 'scan.completed', scanId: randomUUID() }, { type: 'scan.completed', scanId: randomUUID() }]);
    await good.waitFor(2);
    expect(Date.now() - started).toBeLessThan(1_900); // before the hanging receiver's 2 s timeout
    const errors: string[] = [];
    for (const id of badIds) {
      for (const start = Date.now(); Date.now() - start < 8_000; await sleep(100)) {
        const head = (await deliveries(id)).nodes.find((n: any) => n.attempts > 0);
        if (head) {
          errors.push(head.error);
          expect(head.status).toBe('PENDING'); // to be retried
          break;
        }
      }
    }
    expect(errors).toEqual(['HTTP 500', 'no complete response within 2 s', 'response larger than 65536 bytes']);
  });

  it('after 24 hours of failures the webhook is disabled with the reason; enabled again, a redelivery sends the same message', async () => {
    const r = await receiver();
    r.mode = 'down';
    const id = await createWebhook(r, ['scan.completed']);
    await emit([{ type: 'scan.completed', scanId: randomUUID() }]);
    for (const start = Date.now(); Date.now() - start < 15_000; await sleep(50)) {
      if ((await stack.prisma.webhookDelivery.count({ where: { attempts: 1 } })) === 1) break; // recorded: retries end 24 h from now
    }
    offsetMs = 24 * 3600_000 + 1_000;
    let webhook: any;
    for (const start = Date.now(); Date.now() - start < 10_000; await sleep(100)) {
      webhook = ((await stack.gql('{ webhooks { nodes { id enabled disabledReason disabledAt } } }')) as any).data.webhooks.nodes[0];
      if (!webhook.enabled) break;
    }
    expect(webhook).toMatchObject({ id, enabled: false, disabledReason: expect.stringMatching(/failed for 24 h.*HTTP 500/), disabledAt: expect.any(String) });
    const [failed] = (await deliveries(id)).nodes;
    expect(failed).toMatchObject({ status: 'FAILED', attempts: 2 });

    const REDELIVER = `mutation($id: ID!) { redeliverWebhookDelivery(id: $id) { delivery { id status } userErrors { code field } } }`;
    const refused: any = await stack.gql(REDELIVER, { id: failed.id });
    expect(refused.data.redeliverWebhookDelivery).toEqual({ delivery: null, userErrors: [{ code: 'WEBHOOK_DISABLED', field: ['id'] }] });
    const enabled: any = await stack.gql(`mutation($id: ID!) { updateWebhook(input: { id: $id, enabled: true }) { webhook { enabled disabledReason } userErrors { code } } }`, { id });
    expect(enabled.data.updateWebhook).toEqual({ webhook: { enabled: true, disabledReason: null }, userErrors: [] });
    r.mode = 'up';
    const again: any = await stack.gql(REDELIVER, { id: failed.id });
    expect(again.data.redeliverWebhookDelivery).toEqual({ delivery: { id: failed.id, status: 'PENDING' }, userErrors: [] });
    const [got] = await r.waitFor(1);
    expect(got!.id).toBe(failed.messageId);

    const unknown: any = await stack.gql(`mutation { updateWebhook(input: { id: "nope", events: ["scan.exploded"] }) { webhook { id } userErrors { code field } } }`);
    expect(unknown.data.updateWebhook.userErrors).toEqual([{ code: 'WEBHOOK_NOT_FOUND', field: ['input', 'id'] }]);
    const badEvents: any = await stack.gql(`mutation($id: ID!) { updateWebhook(input: { id: $id, events: ["scan.exploded"] }) { webhook { id } userErrors { code field } } }`, { id });
    expect(badEvents.data.updateWebhook.userErrors).toEqual([{ code: 'INVALID_INPUT', field: ['input', 'events'] }]);
    const deleted: any = await stack.gql(`mutation($id: ID!) { deleteWebhook(id: $id) { webhook { id } userErrors { code } } }`, { id });
    expect(deleted.data.deleteWebhook).toEqual({ webhook: { id }, userErrors: [] });
    expect(await stack.prisma.webhookDelivery.count()).toBe(0);
  });

  it('a job that outlived its lease cannot end the lease another job took since (which would let a third run beside it)', async () => {
    await createWebhook(await receiver());
    const endpointId = (await stack.prisma.webhookEndpoint.findFirstOrThrow()).id;
    const store = new WebhookStore(stack.prisma);
    const first = await store.lease(endpointId, 60);
    expect(first).not.toBeNull();
    expect(await store.lease(endpointId, 60)).toBeNull(); // held
    // The first job's worker stalls past its lease; it lapses and a second job takes the endpoint.
    await stack.prisma.$executeRawUnsafe(`UPDATE webhook_cursor SET leased_until = now() - interval '1 second' WHERE endpoint_id = $1::uuid`, endpointId);
    const second = await store.lease(endpointId, 60);
    expect(second).not.toBeNull();
    expect(second).not.toBe(first);
    // The first job finishes and releases what it took: the second job's lease stands.
    await store.release(endpointId, first!);
    expect(await store.lease(endpointId, 60)).toBeNull();
    await store.release(endpointId, second!);
    expect(await store.lease(endpointId, 60)).not.toBeNull();
  });
});
