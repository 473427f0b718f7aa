import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { classifyAddress, refusalOf, SsrfGuard, type Resolver } from '../../../src/adapters/webhooks/ssrf-guard';
import { SecretBox } from '../../../src/adapters/webhooks/secret-box';
import { WebhookSender } from '../../../src/adapters/webhooks/webhook.sender';
import type { FixtureInput } from '../../../src/sandbox/fixture';
import { startStack, type Stack } from '../../support/stack';

/** The SSRF guard of webhooks (issue #10): refused at creation and at delivery, by the address really connected to. */
const PUBLIC = '93.184.216.34';

/** A resolver from a table; a name with several answers gives them in turn (the last one stays), as a rebinding DNS would. */
function resolverOf(table: Record<string, string[]>): Resolver & { calls: string[] } {
  const calls: string[] = [];
  const turn: Record<string, number> = {};
  const resolve = async (hostname: string) => {
    calls.push(hostname);
    const answers = table[hostname];
    if (!answers) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    const address = answers[Math.min(turn[hostname] = (turn[hostname] ?? -1) + 1, answers.length - 1)]!;
    return [{ address, family: (address.includes(':') ? 6 : 4) as 4 | 6 }];
  };
  return Object.assign(resolve, { calls });
}

describe('address classes', () => {
  it.each([
    ['169.254.169.254', 'metadata'], ['fd00:ec2::254', 'metadata'], ['::ffff:169.254.169.254', 'metadata'],
    ['127.0.0.1', 'loopback'], ['::1', 'loopback'], ['10.0.0.1', 'private'], ['172.31.255.1', 'private'], ['192.168.1.1', 'private'],
    ['100.64.0.1', 'private'], ['fd12::1', 'private'], ['::ffff:10.0.0.1', 'private'], ['169.254.1.1', 'link-local'], ['fe80::1', 'link-local'],
    ['0.0.0.0', 'reserved'], ['224.0.0.1', 'reserved'], ['::', 'reserved'], [PUBLIC, 'public'], ['2606:4700::1111', 'public'], ['172.32.0.1', 'public'],
  ])('%s is %s', (address, kind) => {
    expect(classifyAddress(address)).toBe(kind);
  });

  it('private mode allows loopback, private and link-local, never metadata', () => {
    expect(refusalOf('10.0.0.1', false)).toMatch(/private address/);
    expect(refusalOf('10.0.0.1', true)).toBeNull();
    expect(refusalOf('127.0.0.1', true)).toBeNull();
    expect(refusalOf('169.254.169.254', true)).toMatch(/cloud metadata/);
    expect(refusalOf('fd00:ec2::254', true)).toMatch(/cloud metadata/);
  });
});

describe('SecretBox', () => {
  it('opens what it sealed for the same row only, and only with the same key', () => {
    const box = new SecretBox('a-key-of-at-least-thirty-two-characters!!');
    const sealed = box.seal('whsec_abc', 'row-1');
    expect(sealed).not.toContain('whsec_abc');
    expect(box.open(sealed, 'row-1')).toBe('whsec_abc');
    expect(() => box.open(sealed, 'row-2')).toThrow(/does not decrypt/);
    expect(() => new SecretBox('another-key-of-at-least-thirty-two-chars').open(sealed, 'row-1')).toThrow(/does not decrypt/);
  });
});

describe('the sender connects only where the guard allows', () => {
  let local: http.Server;
  let port: number;
  let hits = 0;
  beforeAll(async () => {
    local = http.createServer((_req, res) => {
      hits++;
      res.writeHead(204).end();
    });
    await new Promise<void>((r) => local.listen(0, '127.0.0.1', r));
    port = (local.address() as AddressInfo).port;
  });
  afterAll(() => new Promise((r) => local.close(r)));

  it('a name that resolves to a public address when checked and to loopback when connecting (DNS rebinding) is refused, and nothing is sent', async () => {
    const resolve = resolverOf({ 'rebind.example': [PUBLIC, '127.0.0.1'] });
    const guard = new SsrfGuard({ allowPrivate: false, resolve });
    const sender = new WebhookSender({ guard });
    // http only so the test needs no certificate: private mode is off, so the scheme is refused first...
    expect(await sender.send({ url: `http://rebind.example:${port}/`, secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', messageId: 'msg_1', body: '{}' })).toMatchObject({ ok: false, error: expect.stringMatching(/must be https/) });
    // ...and over https the connection's own lookup (the second answer) is refused before any connection.
    const result = await sender.send({ url: `https://rebind.example:${port}/`, secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', messageId: 'msg_1', body: '{}' });
    expect(result).toEqual({ ok: false, status: null, error: 'refused: rebind.example resolves to 127.0.0.1 is a loopback address (set KEYWARDEN_WEBHOOK_ALLOW_PRIVATE=true to allow it)' });
    expect(resolve.calls).toEqual(['rebind.example', 'rebind.example']);
    expect(hits).toBe(0);
    sender.close();
  });

  it('the address really connected to is checked on the socket too: a lookup that lies is caught before anything is sent', async () => {
    // A guard whose resolution checks nothing (as if a resolver and a cache disagreed): only the socket check is left.
    class LyingGuard extends SsrfGuard {
      override async addressesOf(): Promise<{ address: string; family: 4 | 6 }[]> {
        return [{ address: '127.0.0.1', family: 4 }];
      }
    }
    const sender = new WebhookSender({ guard: new LyingGuard({ allowPrivate: false }) });
    const result = await sender.send({ url: `https://looks-public.example:${port}/`, secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', messageId: 'msg_3', body: '{}' });
    expect(result).toEqual({ ok: false, status: null, error: 'refused: connected to 127.0.0.1 is a loopback address (set KEYWARDEN_WEBHOOK_ALLOW_PRIVATE=true to allow it)' });
    expect(hits).toBe(0);
    sender.close();
  });

  it('in private mode the same receiver is reached, signed', async () => {
    const sender = new WebhookSender({ guard: new SsrfGuard({ allowPrivate: true, resolve: resolverOf({ 'local.example': ['127.0.0.1'] }) }) });
    expect(await sender.send({ url: `http://local.example:${port}/`, secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', messageId: 'msg_2', body: '{}' })).toEqual({ ok: true, status: 204, error: null });
    expect(hits).toBe(1);
    sender.close();
  });
});

describe('webhooks outside private mode', () => {
  const FIXTURE: FixtureInput = { accountId: '222233334444', accountCreatedAt: 'now-900d', users: [] };
  const resolve = resolverOf({ 'hooks.example': [PUBLIC], 'internal.example': ['10.0.0.1'], 'rebind.example': [PUBLIC, '10.0.0.1'] });
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack(FIXTURE, {
      webhooks: { secrets: new SecretBox('ssrf-test-key-0123456789abcdefghijklmnop'), guard: new SsrfGuard({ allowPrivate: false, resolve }), dispatchIntervalMs: 100, timeoutMs: 2_000 },
    });
    await stack.prisma.$executeRawUnsafe('TRUNCATE webhook_endpoint, change_event CASCADE');
  });
  afterAll(() => stack?.close());
  const create = async (url: string, events = ['scan.completed']) =>
    ((await stack.gql(`mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { webhook { id } secret userErrors { code field message } } }`, { input: { url, events } })) as any).data.createWebhook;

  it('refuses at creation: http, cloud metadata, a name that resolves to 10.0.0.1, a name that does not resolve', async () => {
    expect((await create('http://hooks.example/x')).userErrors).toEqual([{ code: 'INVALID_INPUT', field: ['input', 'url'], message: 'url must be https (http only with KEYWARDEN_WEBHOOK_ALLOW_PRIVATE=true)' }]);
    expect((await create('https://169.254.169.254/latest/meta-data/')).userErrors).toEqual([{ code: 'INVALID_INPUT', field: ['input', 'url'], message: 'url refused: 169.254.169.254 is a cloud metadata address' }]);
    expect((await create('https://[fd00:ec2::254]/')).userErrors).toMatchObject([{ field: ['input', 'url'], message: expect.stringContaining('cloud metadata') }]);
    expect((await create('https://internal.example/hook')).userErrors).toEqual([
      { code: 'INVALID_INPUT', field: ['input', 'url'], message: 'url refused: internal.example resolves to 10.0.0.1 is a private address (set KEYWARDEN_WEBHOOK_ALLOW_PRIVATE=true to allow it)' },
    ]);
    expect((await create('https://nowhere.example/hook')).userErrors).toMatchObject([{ field: ['input', 'url'], message: expect.stringContaining('does not resolve') }]);
    expect((await create('https://hooks.example/hook', ['scan.completed', 'nope'])).userErrors).toMatchObject([{ field: ['input', 'events'] }]);
    expect(await stack.prisma.webhookEndpoint.count()).toBe(0);
  });

  it('refuses at delivery: a name that resolves to 10.0.0.1 by then, and a metadata URL stored before the guard', async () => {
    const created = await create('https://rebind.example/hook');
    expect(created.userErrors).toEqual([]); // it resolved to a public address then
    const id = Buffer.from(created.webhook.id, 'base64url').toString().replace('Webhook:', '');
    // A row the guard never saw (written before it existed, or by hand).
    const metadata = randomUUID();
    await stack.prisma.webhookEndpoint.create({ data: { id: metadata, url: 'https://169.254.169.254/latest/', events: ['scan.completed'], secretCiphertext: new SecretBox('ssrf-test-key-0123456789abcdefghijklmnop').seal('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', metadata), createdBy: 'test' } });
    await stack.prisma.$executeRawUnsafe('INSERT INTO webhook_cursor (endpoint_id) VALUES ($1::uuid)', metadata);
    await stack.prisma.$executeRawUnsafe(`INSERT INTO change_event (account_id, type, scan_id) VALUES ('222233334444', 'scan.completed', $1::uuid)`, randomUUID());
    const errors: Record<string, string | null> = {};
    for (const start = Date.now(); Date.now() - start < 10_000 && Object.keys(errors).length < 2; await new Promise((r) => setTimeout(r, 100))) {
      for (const d of await stack.prisma.webhookDelivery.findMany({ where: { attempts: { gt: 0 } } })) errors[d.endpointId] = d.error;
    }
    expect(errors).toEqual({
      [id]: 'refused: rebind.example resolves to 10.0.0.1 is a private address (set KEYWARDEN_WEBHOOK_ALLOW_PRIVATE=true to allow it)',
      [metadata]: 'refused: 169.254.169.254 is a cloud metadata address',
    });
  });

  it('a webhook whose secret was sealed under another key is disabled with the reason, not retried for ever', async () => {
    const id = randomUUID();
    await stack.prisma.webhookEndpoint.create({ data: { id, url: 'https://hooks.example/x', events: ['scan.completed'], secretCiphertext: new SecretBox('some-other-key-0123456789abcdefghijklmnop').seal('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', id), createdBy: 'test' } });
    await stack.prisma.$executeRawUnsafe('INSERT INTO webhook_cursor (endpoint_id) VALUES ($1::uuid)', id);
    await stack.prisma.$executeRawUnsafe(`INSERT INTO change_event (account_id, type, scan_id) VALUES ('222233334444', 'scan.completed', $1::uuid)`, randomUUID());
    let row = await stack.prisma.webhookEndpoint.findUniqueOrThrow({ where: { id } });
    for (const start = Date.now(); row.enabled && Date.now() - start < 10_000; await new Promise((r) => setTimeout(r, 100))) row = await stack.prisma.webhookEndpoint.findUniqueOrThrow({ where: { id } });
    expect(row).toMatchObject({ enabled: false, disabledReason: expect.stringContaining('does not decrypt with this KEYWARDEN_SECRET_KEY') });
  });
});
