import { existsSync } from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { CredentialReportUnavailableError, fetchCredentialReport, type FetchReportOptions } from './credential-report.fetcher';
import { parseCredentialReport, CredentialReportParseError, type CredentialReportRow } from './credential-report.parser';
import type { CountingIamClient } from './iam-client';

export interface CredentialReport {
  rows: CredentialReportRow[];
  generatedAt: Date;
}

type WorkerAnswer =
  | { ok: true; rows: CredentialReportRow[]; generatedAt: Date; calls: Record<string, number>; outcomes: Record<string, number> }
  | { ok: false; name: string; code: string; message: string; calls: Record<string, number>; outcomes: Record<string, number> };

const WORKER = path.join(__dirname, 'credential-report.worker.js');

/**
 * Fetches and parses the credential report. In the built app this runs in a worker thread: the
 * report's text, its CSV records and rows are short-lived, and a worker's heap is handed back to
 * the OS when it ends instead of raising the scanner's peak memory for the rest of the scan. (The
 * SDK's XML parser, which built the 3 MB base64 node one character at a time, about 100 MB of
 * strings for 10,000 users, no longer sees it: see takeContentBeforeParsing.)
 * Run from TypeScript sources (tests) there is no compiled worker, so it runs in-process.
 */
export async function readCredentialReport(iam: CountingIamClient, options: FetchReportOptions = {}): Promise<CredentialReport> {
  if (options.inProcess || options.sleep || !WORKER.endsWith('.js') || !existsSync(WORKER)) {
    const fetched = await fetchCredentialReport(iam.client, options);
    return { rows: parseCredentialReport(fetched.content), generatedAt: fetched.generatedAt };
  }
  const worker = new Worker(WORKER, { workerData: { client: await iam.workerOptions(), report: options } });
  try {
    const answer = await new Promise<WorkerAnswer>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`credential report worker exited with code ${code}`)));
    });
    iam.addCalls(answer.calls, answer.outcomes);
    if (answer.ok) return { rows: answer.rows, generatedAt: answer.generatedAt };
    if (answer.name === 'CredentialReportParseError') throw new CredentialReportParseError(answer.message);
    throw new CredentialReportUnavailableError(answer.message, answer.code);
  } finally {
    await worker.terminate();
  }
}
