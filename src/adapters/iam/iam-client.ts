import { isMainThread } from 'node:worker_threads';
import { IAMClient, type IAMClientConfig } from '@aws-sdk/client-iam';
import { isThrottling, observeIamAttempt } from '../../metrics/metrics';

/** Keys, or a provider of them (the SDK's chain, an assumed role): what every SDK client accepts. */
export type AwsCredentials = NonNullable<IAMClientConfig['credentials']>;

silenceSdkNodeVersionWarning();

export interface IamCallStats {
  /** HTTP requests sent to IAM, retries included: what IAM bills against your rate limits. */
  total: number;
  byOperation: Record<string, number>;
}

export interface CountingIamClient {
  client: IAMClient;
  /** How this client was made. */
  options: IamClientOptions;
  /**
   * The account these credentials act in, when Keywarden proved it (STS GetCallerIdentity): set by
   * AccountsService.iamClientFor. IAM's GetUser cannot tell it under role credentials.
   */
  account?: string;
  /**
   * Options for a twin client in a worker thread (the credential report). A credentials provider cannot cross
   * the thread boundary: the twin gets the keys it resolves to now (an assumed role's session keys), so it reads
   * the same account; the SDK refreshes them long before they expire.
   */
  workerOptions(): Promise<IamClientOptions>;
  stats(): IamCallStats;
  /**
   * Attempts by outcome (`operation\tcode\tthrottled`), kept only in a worker thread, whose metrics registry
   * nobody scrapes: the twin hands them back with its calls.
   */
  outcomes(): Record<string, number>;
  /** Adds calls made by a twin client (the credential-report worker), and their outcomes to the metrics. */
  addCalls(byOperation: Record<string, number>, outcomes?: Record<string, number>): void;
}

export interface IamClientOptions {
  /** IAM is global and signed for us-east-1; AWS_REGION still has to be resolvable by the SDK. */
  region?: string;
  maxAttempts?: number;
  /** Explicit endpoint (the built-in sandbox); otherwise the SDK reads AWS_ENDPOINT_URL_IAM itself. */
  endpoint?: string;
  /** Keys, or a provider (an assumed role: fromTemporaryCredentials); default: the SDK's standard chain. */
  credentials?: AwsCredentials;
}

/**
 * An IAMClient from the SDK's standard chain (credentials, profiles, AWS_ENDPOINT_URL_IAM) with
 * adaptive retry (client-side rate limiting on throttling) and a per-attempt call counter.
 */
export function createIamClient(options: IamClientOptions = {}): CountingIamClient {
  const client = new IAMClient({
    region: options.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1',
    retryMode: 'adaptive',
    maxAttempts: options.maxAttempts ?? 8,
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    ...(options.credentials ? { credentials: options.credentials } : {}),
  });
  const byOperation: Record<string, number> = {};
  const outcomes: Record<string, number> = {};
  const observe = (op: string, code: string, throttled: boolean) => {
    if (isMainThread) return observeIamAttempt(op, code, throttled);
    const key = `${op}\t${code}\t${throttled ? 1 : 0}`;
    outcomes[key] = (outcomes[key] ?? 0) + 1;
  };
  // The deserialize step sits inside the retry loop, so each attempt is counted (and its error seen before a retry).
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const op = String(context.commandName ?? 'Unknown').replace(/Command$/, '');
      byOperation[op] = (byOperation[op] ?? 0) + 1;
      try {
        const result = await next(args);
        observe(op, 'OK', false);
        return result;
      } catch (err) {
        observe(op, errorCode(err), isThrottling(err));
        throw err;
      }
    },
    { step: 'deserialize', name: 'keywardenCallCounter', priority: 'high' },
  );
  return {
    client,
    options,
    workerOptions: async () => {
      if (typeof options.credentials !== 'function') return options;
      // The client's own memoized provider: no second AssumeRole.
      const { accessKeyId, secretAccessKey, sessionToken } = await client.config.credentials();
      return { ...options, credentials: { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) } };
    },
    outcomes: () => ({ ...outcomes }),
    addCalls: (calls, twinOutcomes = {}) => {
      for (const [op, n] of Object.entries(calls)) byOperation[op] = (byOperation[op] ?? 0) + n;
      for (const [key, n] of Object.entries(twinOutcomes)) {
        const [op, code, throttled] = key.split('\t');
        observeIamAttempt(op!, code!, throttled === '1', n);
      }
    },
    stats: () => ({ total: Object.values(byOperation).reduce((a, b) => a + b, 0), byOperation: { ...byOperation } }),
  };
}

/** The SDK's modeled and unmodeled service errors carry `name`; network errors carry `code`. */
export function errorCode(err: unknown): string {
  if (err && typeof err === 'object') {
    const e = err as { name?: string; Code?: string; code?: string };
    return (e.Code ?? e.name ?? e.code ?? 'UnknownError').replace(/Exception$/, '');
  }
  return 'UnknownError';
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

// The SDK warns on Node 20 about its releases after January 2027; our versions are pinned in the
// lockfile, so the warning says nothing actionable to a user of the CLI.
function silenceSdkNodeVersionWarning(): void {
  const emit = process.emitWarning.bind(process);
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
    const text = typeof warning === 'string' ? warning : warning.message;
    if (text.startsWith('NodeVersionSupportWarning')) return;
    (emit as (...args: unknown[]) => void)(warning, ...rest);
  }) as typeof process.emitWarning;
}
