import { GenerateCredentialReportCommand, GetCredentialReportCommand, type IAMClient } from '@aws-sdk/client-iam';
import { errorCode } from './iam-client';

export interface FetchedCredentialReport {
  content: Uint8Array;
  generatedAt: Date;
}

export interface FetchReportOptions {
  /** Give up after this long: IAM usually needs seconds, a stuck report must not hang the scan. */
  deadlineMs?: number;
  initialDelayMs?: number;
  maxDelayMs?: number;
  sleep?: (ms: number) => Promise<void>;
  /** Read it in this thread rather than a worker thread (a small report). */
  inProcess?: boolean;
}

export class CredentialReportUnavailableError extends Error {
  override name = 'CredentialReportUnavailableError';
  constructor(message: string, readonly code: string) {
    super(message);
  }
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Generate → poll with exponential backoff until COMPLETE, within a deadline → Get.
 * IAM reuses a report younger than four hours, so Generate often answers COMPLETE at once.
 */
export async function fetchCredentialReport(iam: IAMClient, options: FetchReportOptions = {}): Promise<FetchedCredentialReport> {
  const { deadlineMs = 60_000, initialDelayMs = 250, maxDelayMs = 5_000, sleep = defaultSleep } = options;
  const deadline = Date.now() + deadlineMs;
  let delay = initialDelayMs;
  const wait = async (why: string) => {
    if (Date.now() + delay > deadline) {
      throw new CredentialReportUnavailableError(`credential report not ready after ${deadlineMs} ms (${why})`, 'ReportTimeout');
    }
    await sleep(delay);
    delay = Math.min(delay * 2, maxDelayMs);
  };

  for (;;) {
    try {
      const generated = await iam.send(new GenerateCredentialReportCommand({}));
      if (generated.State !== 'COMPLETE') {
        await wait(`state ${generated.State}`);
        continue;
      }
      const get = new GetCredentialReportCommand({});
      const raw = takeContentBeforeParsing(get);
      const report = await iam.send(get);
      const content = raw.content ?? report.Content;
      if (!content?.length || !report.GeneratedTime) {
        throw new CredentialReportUnavailableError('credential report response has no content', 'ReportEmpty');
      }
      return { content, generatedAt: report.GeneratedTime };
    } catch (err) {
      if (err instanceof CredentialReportUnavailableError) throw err;
      const code = errorCode(err);
      // Not ready yet, gone between Generate and Get, or a generation already running (LimitExceeded): wait, generate again.
      if (['CredentialReportNotReady', 'ReportInProgress', 'CredentialReportNotPresent', 'ReportNotPresent',
        'CredentialReportExpired', 'ReportExpired', 'LimitExceeded'].includes(code)) {
        await wait(code);
        continue;
      }
      throw new CredentialReportUnavailableError(`credential report unavailable: ${code}: ${(err as Error).message}`, code);
    }
  }
}

/**
 * The SDK's XML parser builds the report's base64 text node one character at a time: for a 10,000-user account,
 * about 100 MB of short-lived strings for a 3 MB node, which set the scanning process's peak memory. This
 * middleware sits between the HTTP response and the parser: it decodes the <Content> text itself (base64 is
 * ASCII, so a latin1 read and indexOf are exact) and hands the parser the response without it. A response
 * without <Content> (an error) goes to the parser unchanged.
 */
function takeContentBeforeParsing(command: GetCredentialReportCommand): { content?: Uint8Array } {
  const taken: { content?: Uint8Array } = {};
  command.middlewareStack.add(
    (next) => async (args) => {
      const result = await next(args);
      const response = result.response as { body?: unknown };
      const body = await readBody(response.body);
      const text = body.toString('latin1');
      const open = text.indexOf('<Content>');
      const close = open < 0 ? -1 : text.indexOf('</Content>', open);
      if (close < 0) {
        response.body = body;
        return result;
      }
      taken.content = Buffer.from(text.slice(open + '<Content>'.length, close), 'base64');
      response.body = Buffer.from(text.slice(0, open) + text.slice(close + '</Content>'.length), 'latin1');
      return result;
    },
    // Low priority in the deserialize step: inside the SDK's deserializer, so it sees the raw response first.
    { step: 'deserialize', priority: 'low', name: 'keywardenCredentialReportContent' },
  );
  return taken;
}

async function readBody(body: unknown): Promise<Buffer> {
  if (body instanceof Uint8Array) return Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  const chunks: Buffer[] = [];
  for await (const chunk of body as AsyncIterable<Uint8Array | string>) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk));
  return Buffer.concat(chunks);
}
