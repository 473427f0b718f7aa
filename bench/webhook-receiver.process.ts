/**
 * The benchmark's webhook receiver, in its own process: verifies every message with the standardwebhooks
 * library, answers 204, and reports (when asked) each message's id, its bench tag and when it arrived.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

let verifier: Webhook | null = null;
const arrivals: [string, number, number][] = []; // message id, transaction tag, arrival (ms since epoch)
let rejected = 0;

const server = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    try {
      const body = verifier!.verify(Buffer.concat(chunks).toString('utf8'), req.headers as Record<string, string>) as { data: { change: { bench?: number } } };
      arrivals.push([String(req.headers['webhook-id']), body.data.change.bench ?? -1, Date.now()]);
      res.writeHead(204).end();
    } catch {
      rejected++;
      res.writeHead(400).end();
    }
  });
});
server.keepAliveTimeout = 65_000;

process.on('message', (m: { secret?: string; report?: boolean }) => {
  if (m.secret) verifier = new Webhook(m.secret);
  if (m.report) process.send!({ arrivals, rejected });
});
server.listen(0, '127.0.0.1', () => process.send!({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks` }));
