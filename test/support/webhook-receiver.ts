import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

/** How the receiver answers: up (204 after verifying), down (500), hang (never answers), huge (200 with 10 MB). */
export type ReceiverMode = 'up' | 'down' | 'hang' | 'huge';

export interface Received {
  id: string;
  type: string;
  body: any;
  at: number;
}

/** A webhook receiver on loopback that verifies every message with the standardwebhooks library. */
export interface WebhookReceiver {
  url: string;
  /** Messages that verified and were accepted (2xx), in arrival order. */
  received: Received[];
  /** Requests of any kind, accepted or not. */
  requests: number;
  /** Requests whose signature did not verify. */
  rejected: number;
  mode: ReceiverMode;
  secret: string | null;
  /** Waits until `count` messages were accepted. */
  waitFor(count: number, timeoutMs?: number): Promise<Received[]>;
  close(): Promise<void>;
}

export async function startReceiver(path = '/hooks'): Promise<WebhookReceiver> {
  const hanging = new Set<http.ServerResponse>();
  const receiver: WebhookReceiver = {
    url: '',
    received: [],
    requests: 0,
    rejected: 0,
    mode: 'up',
    secret: null,
    async waitFor(count, timeoutMs = 15_000) {
      for (const start = Date.now(); Date.now() - start < timeoutMs; await new Promise((r) => setTimeout(r, 50))) {
        if (receiver.received.length >= count) return receiver.received;
      }
      throw new Error(`the receiver got ${receiver.received.length} of ${count} messages within ${timeoutMs} ms`);
    },
    close: async () => {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      receiver.requests++;
      if (receiver.mode === 'hang') return void hanging.add(res);
      if (receiver.mode === 'down') return void res.writeHead(500).end('down');
      if (receiver.mode === 'huge') {
        res.writeHead(200, { 'content-type': 'text/plain' });
        const mb = Buffer.alloc(1024 * 1024, 'x');
        let sent = 0;
        const pump = () => {
          while (sent < 10 && res.write(mb)) sent++;
          if (sent >= 10) res.end();
          else res.once('drain', () => { sent++; pump(); });
        };
        res.on('error', () => {});
        return pump();
      }
      const body = Buffer.concat(chunks).toString('utf8');
      try {
        const payload = new Webhook(receiver.secret!).verify(body, req.headers as Record<string, string>) as { type: string };
        receiver.received.push({ id: String(req.headers['webhook-id']), type: payload.type, body: payload, at: Date.now() });
        res.writeHead(204).end();
      } catch {
        receiver.rejected++;
        res.writeHead(400).end('bad signature');
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}${path}`;
  return receiver;
}
