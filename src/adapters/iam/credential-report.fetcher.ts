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
      const report = await iam.send(new GetCredentialReportCommand({}));
      if (!report.Content || !report.GeneratedTime) {
        throw new CredentialReportUnavailableError('credential report response has no content', 'ReportEmpty');
      }
      return { content: report.Content, generatedAt: report.GeneratedTime };
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
