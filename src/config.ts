import fs from 'node:fs';
import path from 'node:path';
import parser from 'cron-parser';
import { z } from 'zod';
import { DEFAULT_CONTROL_SETTINGS } from './controls/no-access-keys-at-setup/control';
import { DEFAULT_JWT_MAX_AGE_SECONDS } from './auth/jwt.verifier';
import { DEFAULT_RECENT_USE_DAYS } from './domain/remediation';
import { DEFAULT_MEMBER_ROLE_NAME, EXTERNAL_ID_PATTERN, ROLE_NAME_PATTERN } from './domain/accounts';

const intFromEnv = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

/**
 * Typed configuration, read once at start-up from the environment; CLI flags override it.
 * Every default says where it comes from.
 */
const ConfigSchema = z.object({
  /** Unset: an embedded PostgreSQL 17 keeps its data under dataDir (see adapters/db/embedded-postgres.ts). */
  databaseUrl: z.string().url().optional(),
  dataDir: z.string().default(path.resolve('.keywarden')),
  /** The embedded PostgreSQL's port on 127.0.0.1 when this process starts it. Unset: a free port, found at each start. */
  embeddedPgPort: intFromEnv(1, 65535).optional(),
  port: intFromEnv(0, 65535).default(4000),
  /** Loopback by default; the docker-compose file sets 0.0.0.0. */
  host: z.string().default('127.0.0.1'),
  /** See DEFAULT_CONTROL_SETTINGS: 10 minutes covers the console wizard and scripted provisioning. */
  setupWindowSeconds: intFromEnv(0, 30 * 86_400).default(DEFAULT_CONTROL_SETTINGS.setupWindowSeconds),
  /** 24 h before a never-used key fails the CIS audit procedure's test. */
  gracePeriodSeconds: intFromEnv(0, 365 * 86_400).default(DEFAULT_CONTROL_SETTINGS.gracePeriodSeconds),
  scanMode: z.enum(['credential-report', 'per-user-api']).default('credential-report'),
  /** IAM's per-account API rate is shared with everything else in the account: stay modest. */
  scanConcurrency: intFromEnv(1, 64).default(8),
  /** IAM usually generates a report in seconds; a minute before falling back to the per-user API. */
  reportDeadlineSeconds: intFromEnv(1, 3600).default(60),
  collectTags: z.enum(['true', 'false']).transform((v) => v === 'true').optional(),
  /** A key used this recently is refused for remediation unless forced (something still depends on it). */
  recentUseDays: intFromEnv(0, 365).default(DEFAULT_RECENT_USE_DAYS),
  /** Days of detailed history to keep (per-scan summaries are always kept). Unset: nothing is pruned. */
  retentionDays: intFromEnv(1, 100 * 365).optional(),
  /** Accepted as an admin token while set (automation, first use). Keep it out of shell history. */
  bootstrapToken: z.string().min(20, 'must be at least 20 characters').optional(),
  /** OIDC/JWT bearer tokens: all three, or none. */
  jwtJwksUrl: z.string().url().optional(),
  jwtIssuer: z.string().min(1).optional(),
  jwtAudience: z.string().min(1).optional(),
  /** Oldest JWT accepted, by its `iat`: see DEFAULT_JWT_MAX_AGE_SECONDS (a day, Auth0's default token lifetime). */
  jwtMaxAgeSeconds: intFromEnv(60, 7 * 86_400).default(DEFAULT_JWT_MAX_AGE_SECONDS),
  /** Requests per token per minute. */
  rateLimitPerMinute: intFromEnv(1, 1_000_000).default(600),
  /** The role read in member accounts (README, "Accounts and roles": its trust and read-only policies). */
  memberRoleName: z.string().regex(ROLE_NAME_PATTERN, 'must be an IAM role name: 1-64 characters of letters, digits and +=,.@_-').default(DEFAULT_MEMBER_ROLE_NAME),
  /** Sent as sts:ExternalId when assuming member roles (an account added with --external-id sends its own). Unset: none. */
  externalId: z.string().regex(EXTERNAL_ID_PATTERN, 'must be 2-1224 characters of letters, digits and +=,.@:/-_').optional(),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Unset: human-readable lines when stderr is a terminal, JSON lines otherwise (log collectors). */
  logFormat: z.enum(['json', 'pretty']).optional(),
  /**
   * Org-wide scans by themselves: a cron in UTC, or `off`. Every 6 hours by default: IAM reuses a credential
   * report for up to 4 hours, so scanning more often reads the same report.
   */
  scanSchedule: z
    .string()
    .default('0 */6 * * *')
    .refine((v) => v === 'off' || validCron(v), 'not a cron expression (five fields, UTC: minute hour day month weekday), nor "off"'),
  /** Account scans a worker runs at once: each reads one account, at KEYWARDEN_SCAN_CONCURRENCY requests. */
  workerConcurrency: intFromEnv(1, 64).default(4),
  /** A scan running longer is taken for lost (its worker died) and run again. */
  scanTimeoutSeconds: intFromEnv(5, 24 * 3600).default(3600),
  /** First wait before a failed account scan runs again (throttling, network, database); doubled each time, 3 retries. */
  scanRetryDelaySeconds: intFromEnv(1, 3600).default(30),
  /** IAM is global: the region exported findings are filed under (ASFF Region and ProductArn, OCSF cloud.region), us-east-1 where IAM lives. */
  /** An export whose client takes nothing for this long is ended: each one held open keeps pages and a slot of its caller's. */
  exportIdleTimeoutSeconds: intFromEnv(1, 3600).default(120),
  exportRegion: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, 'must be an AWS region name, e.g. eu-west-1').default('us-east-1'),
  /** Idle keep-alive connections close after this: 65 s, above AWS ALB's 60 s idle timeout (Node's own 5 s gave 502s behind one). */
  httpKeepAliveSeconds: intFromEnv(1, 3600).default(65),
  /** Request headers must arrive within this; above the keep-alive timeout (checked below). */
  httpHeadersTimeoutSeconds: intFromEnv(1, 3600).default(66),
  /** The whole request must arrive within this (a slow client cannot hold a connection); at least the headers timeout. */
  httpRequestTimeoutSeconds: intFromEnv(1, 3600).default(90),
  /** On SIGTERM, in-flight requests get this long to finish before their connections are closed (then the database). */
  shutdownGraceSeconds: intFromEnv(0, 600).default(10),
  /** `keywarden serve` processes behind one port (node:cluster). Unset: one per CPU (os.availableParallelism()). */
  processes: intFromEnv(1, 256).optional(),
  /** A listener for GET /metrics without a token, for Prometheus. Unset: off (the API port's /metrics needs metrics:read). */
  metricsPort: intFromEnv(0, 65535).optional(),
  /** The interface the metrics listener binds. Unset: HOST. Set it to keep metrics on a private interface while HOST is public. */
  metricsHost: z.string().min(1).optional(),
  /** Accounts named in keywarden_findings (most failing first); the rest are summed as account="other". */
  metricsTopAccounts: intFromEnv(0, 1000).default(20),
  /**
   * GraphQL operation names your own clients send, comma-separated, labelled in keywarden_graphql_request_duration_seconds
   * besides the posture page's and the README's. Unset: only those; any other name is "other".
   */
  metricsOperations: z
    .string()
    .default('')
    .transform((v) => [...new Set(v.split(',').map((name) => name.trim()).filter(Boolean))])
    .refine((names) => names.every((name) => /^[_A-Za-z][_0-9A-Za-z]{0,63}$/.test(name)), 'must be GraphQL operation names (letters, digits and _, at most 64), comma-separated')
    .refine((names) => names.length <= 100, 'names at most 100 operations'),
  /**
   * Encrypts stored secrets that must be recovered (webhook signing secrets): any string of 32+ characters,
   * stretched with HKDF. Unset: a random key kept in `<dataDir>/secret.key` (one machine only: every process
   * that signs webhooks must share the key).
   */
  secretKey: z.string().min(32, 'must be at least 32 characters').optional(),
  /** Webhooks to http and to loopback, private and link-local addresses (cloud metadata stays refused). For local receivers. */
  webhookAllowPrivate: z.enum(['true', 'false']).transform((v) => v === 'true').default(false),
  /**
   * Set: findings are pushed to AWS Security Hub in this region after each scan (README, "Security Hub"). Unset:
   * nothing is pushed. Findings are filed under this region (ASFF Region and ProductArn), whatever KEYWARDEN_EXPORT_REGION says.
   */
  securityHubRegion: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, 'must be an AWS region name, e.g. eu-west-1').optional(),
  /** The catch-up push of every account (a push that failed is retried by it at the latest): a cron in UTC, or `off`. */
  securityHubCatchUp: z
    .string()
    .default('*/15 * * * *')
    .refine((v) => v === 'off' || validCron(v), 'not a cron expression (five fields, UTC: minute hour day month weekday), nor "off"'),
});

function validCron(cron: string): boolean {
  if (cron.trim().split(/\s+/).length !== 5) return false;
  try {
    parser.parseExpression(cron, { tz: 'UTC' });
    return true;
  } catch {
    return false;
  }
}

/** When a cron (UTC) next fires after `from`; null for `off`. */
export function nextCronRun(cron: string, from = new Date()): Date | null {
  if (cron === 'off') return null;
  return parser.parseExpression(cron, { tz: 'UTC', currentDate: from }).next().toDate();
}

export type Config = z.infer<typeof ConfigSchema>;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

const ENV_NAMES: Record<keyof Config, string> = {
  databaseUrl: 'DATABASE_URL',
  dataDir: 'KEYWARDEN_DATA_DIR',
  embeddedPgPort: 'KEYWARDEN_EMBEDDED_PG_PORT',
  port: 'PORT',
  host: 'HOST',
  setupWindowSeconds: 'KEYWARDEN_SETUP_WINDOW_SECONDS',
  gracePeriodSeconds: 'KEYWARDEN_GRACE_PERIOD_SECONDS',
  scanMode: 'KEYWARDEN_SCAN_MODE',
  scanConcurrency: 'KEYWARDEN_SCAN_CONCURRENCY',
  reportDeadlineSeconds: 'KEYWARDEN_REPORT_DEADLINE_SECONDS',
  collectTags: 'KEYWARDEN_COLLECT_TAGS',
  retentionDays: 'KEYWARDEN_RETENTION_DAYS',
  recentUseDays: 'KEYWARDEN_RECENT_USE_DAYS',
  logLevel: 'KEYWARDEN_LOG_LEVEL',
  logFormat: 'KEYWARDEN_LOG_FORMAT',
  bootstrapToken: 'KEYWARDEN_BOOTSTRAP_TOKEN',
  jwtJwksUrl: 'KEYWARDEN_JWT_JWKS_URL',
  jwtIssuer: 'KEYWARDEN_JWT_ISSUER',
  jwtAudience: 'KEYWARDEN_JWT_AUDIENCE',
  jwtMaxAgeSeconds: 'KEYWARDEN_JWT_MAX_AGE_SECONDS',
  rateLimitPerMinute: 'KEYWARDEN_RATE_LIMIT_PER_MINUTE',
  scanSchedule: 'KEYWARDEN_SCAN_SCHEDULE',
  workerConcurrency: 'KEYWARDEN_WORKER_CONCURRENCY',
  scanTimeoutSeconds: 'KEYWARDEN_SCAN_TIMEOUT_SECONDS',
  scanRetryDelaySeconds: 'KEYWARDEN_SCAN_RETRY_DELAY_SECONDS',
  memberRoleName: 'KEYWARDEN_MEMBER_ROLE_NAME',
  externalId: 'KEYWARDEN_EXTERNAL_ID',
  exportRegion: 'KEYWARDEN_EXPORT_REGION',
  exportIdleTimeoutSeconds: 'KEYWARDEN_EXPORT_IDLE_TIMEOUT_SECONDS',
  httpKeepAliveSeconds: 'KEYWARDEN_HTTP_KEEP_ALIVE_SECONDS',
  httpHeadersTimeoutSeconds: 'KEYWARDEN_HTTP_HEADERS_TIMEOUT_SECONDS',
  httpRequestTimeoutSeconds: 'KEYWARDEN_HTTP_REQUEST_TIMEOUT_SECONDS',
  shutdownGraceSeconds: 'KEYWARDEN_SHUTDOWN_GRACE_SECONDS',
  processes: 'KEYWARDEN_PROCESSES',
  metricsPort: 'KEYWARDEN_METRICS_PORT',
  metricsHost: 'KEYWARDEN_METRICS_HOST',
  metricsTopAccounts: 'KEYWARDEN_METRICS_TOP_ACCOUNTS',
  metricsOperations: 'KEYWARDEN_METRICS_OPERATIONS',
  secretKey: 'KEYWARDEN_SECRET_KEY',
  webhookAllowPrivate: 'KEYWARDEN_WEBHOOK_ALLOW_PRIVATE',
  securityHubRegion: 'KEYWARDEN_SECURITYHUB_REGION',
  securityHubCatchUp: 'KEYWARDEN_SECURITYHUB_CATCH_UP',
};

const FLAG_NAMES: Partial<Record<keyof Config, string>> = {
  port: '--port',
  setupWindowSeconds: '--setup-window',
  gracePeriodSeconds: '--grace-period',
  scanMode: '--mode',
  scanConcurrency: '--concurrency',
  retentionDays: '--days',
  workerConcurrency: '--concurrency',
  processes: '--processes',
};

/** Environment first, then overrides (CLI flags); an invalid value stops start-up naming where it came from. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: Partial<Record<keyof Config, unknown>> = {}): Config {
  const raw: Record<string, unknown> = {};
  for (const [key, name] of Object.entries(ENV_NAMES)) {
    const value = env[name];
    if (value !== undefined && value !== '') raw[key] = value;
  }
  for (const [key, value] of Object.entries(overrides)) if (value !== undefined) raw[key] = value;
  const parsed = ConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const key = String(issue.path[0]) as keyof Config;
    const source = overrides[key] !== undefined ? (FLAG_NAMES[key] ?? key) : ENV_NAMES[key];
    throw new ConfigError(`invalid ${source}: ${readableIssue(issue, raw[key])}`);
  }
  const jwt = [parsed.data.jwtJwksUrl, parsed.data.jwtIssuer, parsed.data.jwtAudience];
  if (jwt.some(Boolean) && !jwt.every(Boolean)) {
    throw new ConfigError('JWT verification needs KEYWARDEN_JWT_JWKS_URL, KEYWARDEN_JWT_ISSUER and KEYWARDEN_JWT_AUDIENCE together');
  }
  const c = parsed.data;
  // A headers timeout at or below the keep-alive timeout cuts a request that starts on a connection about to idle out.
  if (c.httpHeadersTimeoutSeconds <= c.httpKeepAliveSeconds) {
    throw new ConfigError(`invalid KEYWARDEN_HTTP_HEADERS_TIMEOUT_SECONDS: must be above KEYWARDEN_HTTP_KEEP_ALIVE_SECONDS (${c.httpKeepAliveSeconds})`);
  }
  // Node refuses a request timeout below the headers timeout.
  if (c.httpRequestTimeoutSeconds < c.httpHeadersTimeoutSeconds) {
    throw new ConfigError(`invalid KEYWARDEN_HTTP_REQUEST_TIMEOUT_SECONDS: must be at least KEYWARDEN_HTTP_HEADERS_TIMEOUT_SECONDS (${c.httpHeadersTimeoutSeconds})`);
  }
  if (c.metricsPort !== undefined && c.metricsPort !== 0 && c.metricsPort === c.port) {
    throw new ConfigError('invalid KEYWARDEN_METRICS_PORT: must differ from PORT (the API\'s /metrics is there, behind the metrics:read scope)');
  }
  return c;
}

/** The API listener's timeouts, in the server's milliseconds. */
export function httpSettings(config: Config) {
  return {
    keepAliveTimeoutMs: config.httpKeepAliveSeconds * 1000,
    headersTimeoutMs: config.httpHeadersTimeoutSeconds * 1000,
    requestTimeoutMs: config.httpRequestTimeoutSeconds * 1000,
    shutdownGraceMs: config.shutdownGraceSeconds * 1000,
  };
}

/** zod's wording for a number ("expected number, received NaN") is for developers: say what was given and what is expected. */
function readableIssue(issue: z.core.$ZodIssue, given: unknown): string {
  const shown = JSON.stringify(String(given));
  if (issue.code === 'invalid_type' && issue.expected === 'number') return `${shown} is not a number: expected a whole number`;
  if (issue.code === 'invalid_type' && issue.expected === 'int') return `${shown} is not a whole number`;
  if (issue.code === 'too_small') return `${shown} is below the minimum, ${String(issue.minimum)}`;
  if (issue.code === 'too_big') return `${shown} is above the maximum, ${String(issue.maximum)}`;
  if (issue.code === 'invalid_value') return `${shown} is not one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
  return issue.message;
}

export function authSettings(config: Config) {
  return {
    bootstrapToken: config.bootstrapToken ?? null,
    jwt: config.jwtJwksUrl ? { jwksUrl: config.jwtJwksUrl, issuer: config.jwtIssuer!, audience: config.jwtAudience!, maxAgeSeconds: config.jwtMaxAgeSeconds } : null,
  };
}

/** Credentials the SDK's chain would find without a network call (we never probe the instance metadata service). */
export function awsCredentialsConfigured(env: NodeJS.ProcessEnv = process.env, home = process.env.HOME ?? ''): boolean {
  if (env.AWS_ACCESS_KEY_ID || env.AWS_PROFILE || env.AWS_WEB_IDENTITY_TOKEN_FILE || env.AWS_CONTAINER_CREDENTIALS_FULL_URI || env.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI) {
    return true;
  }
  const files = [env.AWS_SHARED_CREDENTIALS_FILE ?? path.join(home, '.aws', 'credentials'), env.AWS_CONFIG_FILE ?? path.join(home, '.aws', 'config')];
  return files.some((f) => f && fs.existsSync(f));
}
