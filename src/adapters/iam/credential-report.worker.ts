import { parentPort, workerData } from 'node:worker_threads';
import { fetchCredentialReport, type FetchReportOptions } from './credential-report.fetcher';
import { parseCredentialReport } from './credential-report.parser';
import { createIamClient, errorCode, errorMessage, type IamClientOptions } from './iam-client';

// Runs in a worker thread: see credential-report.source.ts for why.
const { client: clientOptions, report } = workerData as { client: IamClientOptions; report: Omit<FetchReportOptions, 'sleep'> };
const iam = createIamClient(clientOptions);

fetchCredentialReport(iam.client, report)
  .then((fetched) => ({ rows: parseCredentialReport(fetched.content), generatedAt: fetched.generatedAt }))
  .then(
    (result) => parentPort!.postMessage({ ok: true, ...result, calls: iam.stats().byOperation, outcomes: iam.outcomes() }),
    (err) => parentPort!.postMessage({ ok: false, name: (err as Error).name, code: errorCode(err), message: errorMessage(err), calls: iam.stats().byOperation, outcomes: iam.outcomes() }),
  );
