import http from 'node:http';
import https from 'node:https';
import { Webhook } from 'standardwebhooks';
import { refusalOf, SsrfGuard, WebhookTargetRefused } from './ssrf-guard';

/** One attempt's outcome: ok means a 2xx within the time and size limits. */
export interface SendResult {
  ok: boolean;
  /** The HTTP status, when a response came. */
  status: number | null;
  /** Why it failed (null when ok); never holds the secret. */
  error: string | null;
}

export interface WebhookMessage {
  url: string;
  /** whsec_…, decrypted for this attempt only. */
  secret: string;
  messageId: string;
  /** The JSON body, exactly as signed. */
  body: string;
}

export interface SenderOptions {
  guard: SsrfGuard;
  /** The whole attempt, connect to last byte (the 10 s). */
  timeoutMs?: number;
  /** Bytes of the response read at most: a receiver sending more fails the attempt (its body is not needed). */
  maxResponseBytes?: number;
  now?: () => Date;
}

export const DEFAULT_TIMEOUT_MS = 10_000;
export const MAX_RESPONSE_BYTES = 64 * 1024;

/**
 * Sends signed webhook messages (Standard Webhooks: webhook-id, webhook-timestamp, webhook-signature, signed
 * by the `standardwebhooks` library). It follows no redirect, sends no Keywarden credential, connects only to
 * addresses the guard allows (checked in the lookup and again on the connected socket) and gives up after
 * the timeout or a response larger than the cap, so a slow or hostile receiver costs one attempt, not a worker.
 */
export class WebhookSender {
  private readonly agents: { http: http.Agent; https: https.Agent };
  private readonly timeoutMs: number;
  private readonly maxResponseBytes: number;
  private readonly now: () => Date;

  constructor(private readonly options: SenderOptions) {
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.maxResponseBytes = options.maxResponseBytes ?? MAX_RESPONSE_BYTES;
    this.now = options.now ?? (() => new Date());
    const lookup = options.guard.lookup;
    this.agents = {
      http: new http.Agent({ keepAlive: true, maxSockets: 4, lookup }),
      https: new https.Agent({ keepAlive: true, maxSockets: 4, lookup }),
    };
  }

  async send(message: WebhookMessage): Promise<SendResult> {
    const problem = this.options.guard.urlProblem(message.url);
    if (problem) return { ok: false, status: null, error: `url ${problem}` };
    const url = new URL(message.url);
    const started = Date.now();
    const timedOut = { ok: false, status: null, error: `no complete response within ${this.timeoutMs / 1000} s` } as const;
    let dnsTimer: NodeJS.Timeout | undefined;
    try {
      // An IP literal skips `lookup`: check it here (the socket check below catches it too). A resolver that
      // hangs counts against the same time limit.
      const deadline = new Promise<'timeout'>((resolve) => (dnsTimer = setTimeout(() => resolve('timeout'), this.timeoutMs)));
      if ((await Promise.race([this.options.guard.addressesOf(url.hostname), deadline])) === 'timeout') return timedOut;
    } catch (err) {
      return { ok: false, status: null, error: (err as Error).message };
    } finally {
      clearTimeout(dnsTimer);
    }
    const timestamp = this.now();
    const signature = new Webhook(message.secret).sign(message.messageId, timestamp, message.body);
    const headers = {
      'content-type': 'application/json',
      'user-agent': 'Keywarden-Webhooks/1',
      'webhook-id': message.messageId,
      'webhook-timestamp': String(Math.floor(timestamp.getTime() / 1000)),
      'webhook-signature': signature,
      'content-length': String(Buffer.byteLength(message.body)),
    };
    return new Promise<SendResult>((resolve) => {
      let settled = false;
      const finish = (result: SendResult) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(result);
      };
      const transport = url.protocol === 'https:' ? https : http;
      const req = transport.request(url, { method: 'POST', headers, agent: url.protocol === 'https:' ? this.agents.https : this.agents.http });
      const timer = setTimeout(() => {
        finish(timedOut);
        req.destroy();
      }, Math.max(0, this.timeoutMs - (Date.now() - started)));
      req.on('socket', (socket) => {
        const check = () => {
          // The address really connected to: what a rebinding resolver or an IP literal cannot hide.
          const refusal = socket.remoteAddress ? refusalOf(socket.remoteAddress, this.options.guard.allowPrivate) : null;
          if (refusal) {
            finish({ ok: false, status: null, error: `refused: connected to ${refusal}` });
            req.destroy(new WebhookTargetRefused(refusal));
          }
        };
        if (socket.remoteAddress) check(); // a kept-alive socket
        else socket.once('connect', check);
      });
      req.on('error', (err: NodeJS.ErrnoException) => finish({ ok: false, status: null, error: err.message || err.code || 'connection failed' }));
      req.on('response', (res) => {
        let received = 0;
        res.on('data', (chunk: Buffer) => {
          received += chunk.length;
          if (received > this.maxResponseBytes) {
            finish({ ok: false, status: res.statusCode ?? null, error: `response larger than ${this.maxResponseBytes} bytes` });
            res.destroy();
            req.destroy();
          }
        });
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) finish({ ok: true, status, error: null });
          else if (status >= 300 && status < 400) finish({ ok: false, status, error: `HTTP ${status}: redirects are not followed` });
          else finish({ ok: false, status, error: `HTTP ${status}` });
        });
        res.on('error', (err) => finish({ ok: false, status: res.statusCode ?? null, error: err.message }));
      });
      req.end(message.body);
    });
  }

  close(): void {
    this.agents.http.destroy();
    this.agents.https.destroy();
  }
}
