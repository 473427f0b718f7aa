/**
 * The SQL the read services run for the four benchmarked GraphQL queries, statement by statement,
 * copied from src/services/{instants,trends.service,findings.service,iam-users.service}.ts so they can
 * be timed without Prisma, Apollo or HTTP. Each statement runs in turn on one pg Client (the services
 * run some of them concurrently on two pool connections).
 */
import type { Client } from 'pg';
import { INSTANTS_SQL, instantsParam, type AccountInstant } from '../src/services/instants';
import { trendStatement } from '../src/services/trends.service';

export interface SqlRun<T> {
  result: T;
  /** Milliseconds per statement, in the order run. */
  statements: Record<string, number>;
}

class Timer {
  readonly statements: Record<string, number> = {};

  async run<R extends Record<string, unknown>>(db: Client, label: string, sql: string, params: unknown[]): Promise<R[]> {
    const t = performance.now();
    const { rows } = await db.query<R>(sql, params);
    this.statements[label] = performance.now() - t;
    return rows;
  }
}

// src/services/instants.ts resolveInstants (Prisma's tagged template: one parameter per interpolation).
const RESOLVE_INSTANTS = `
    SELECT DISTINCT ON (account_id) id::text, account_id, observed_at FROM scan
    WHERE status IN ('COMPLETED', 'PARTIAL')
      AND ($1::text IS NULL OR account_id = $2::text)
      AND ($3::timestamptz IS NULL OR observed_at <= $4::timestamptz)
    ORDER BY account_id, observed_at DESC`;
// assertWithinRetention: prisma.historyHorizon.findMany({ where: { accountId: { in } } }).
const HORIZONS = `SELECT account_id, pruned_before FROM history_horizon WHERE account_id IN ($1) OFFSET $2`;

async function resolveInstants(db: Client, timer: Timer, accountId: string, asOf?: Date): Promise<AccountInstant[]> {
  const rows = await timer.run<{ id: string; account_id: string; observed_at: Date }>(db, 'instants', RESOLVE_INSTANTS, [accountId, accountId, asOf ?? null, asOf ?? null]);
  if (rows.length === 0) throw new Error(`no scan of ${accountId}${asOf ? ` at or before ${asOf.toISOString()}` : ''}`);
  if (asOf) await timer.run(db, 'horizons', HORIZONS, [rows[0]!.account_id, 0]);
  return rows.map((r) => ({ accountId: r.account_id, scanId: r.id, at: r.observed_at }));
}

// src/services/trends.service.ts: the service's own statement and parameters.
export async function trendSql(db: Client, accountId: string, from: Date, to: Date): Promise<SqlRun<{ points: number; scans: number }>> {
  const timer = new Timer();
  const { sql, params } = trendStatement(accountId, from, to, 'DAY');
  await resolveInstants(db, timer, accountId);
  const rows = await timer.run<{ scans: string }>(db, 'trend', sql, params);
  return { result: { points: rows.length, scans: rows.reduce((n, r) => n + Number(r.scans), 0) }, statements: timer.statements };
}

// src/services/findings.service.ts, current mode (no asOf), IDENTITY ASC order.
const CURRENT_FROM = `${INSTANTS_SQL} JOIN finding f ON f.account_id = at.account_id`;
const CURRENT_COLUMNS = `f.status, f.reasons, f.evidence, f.state, f.resolved_at, f.resolution, f.reopen_count,
  f.last_seen_at, f.last_scan_id::text AS scan_id`;
const AS_OF_COLUMNS = `v.status, v.reasons, v.evidence, v.state, v.resolved_at, v.resolution, v.reopen_count,
  at.at AS last_seen_at, at.scan_id::text AS scan_id`;

/** The SQL of FindingsService.list({ accountId, status }, first, after) for this order and mode. */
export function findingsSql(status: string[] | null, afterIdentity: string | null, first: number): { rows: string; count: string; rowsParams: (p0: string) => unknown[]; countParams: (p0: string) => unknown[] } {
  const params: unknown[] = [null];
  const p = (value: unknown) => `$${params.push(value)}`;
  const where = ['f.present'];
  if (status?.length) where.push(`f.status = ANY(${p(status)}::"ComplianceStatus"[])`);
  const countParams = [...params];
  const filter = `WHERE ${where.join(' AND ')}`;
  const pageWhere = [...where];
  if (afterIdentity !== null) pageWhere.push(`f.identity > ${p(afterIdentity)}`);
  const limit = p(first + 1);
  const rows = `SELECT f.id::text, f.identity, f.control_id, f.user_name, f.user_arn, f.access_key_id, f.account_id,
        f.first_seen_at, ${CURRENT_COLUMNS}, NULL AS sort_value
      FROM ${CURRENT_FROM} WHERE ${pageWhere.join(' AND ')}
      ORDER BY f.identity ASC LIMIT ${limit}`;
  const count = `SELECT count(*) FROM ${CURRENT_FROM} ${filter}`;
  return { rows, count, rowsParams: (p0) => [p0, ...params.slice(1)], countParams: (p0) => [p0, ...countParams.slice(1)] };
}

export async function findingsPageSql(
  db: Client,
  accountId: string,
  status: string[] | null,
  afterIdentity: string | null,
  first: number,
): Promise<SqlRun<{ identities: string[]; totalCount: number }>> {
  const timer = new Timer();
  const instants = await resolveInstants(db, timer, accountId);
  const q = findingsSql(status, afterIdentity, first);
  const rows = await timer.run<{ identity: string }>(db, 'rows', q.rows, q.rowsParams(instantsParam(instants)));
  const [{ count }] = await timer.run<{ count: string }>(db, 'count', q.count, q.countParams(instantsParam(instants)));
  return { result: { identities: rows.slice(0, first).map((r) => r.identity), totalCount: Number(count) }, statements: timer.statements };
}

// src/services/iam-users.service.ts
const USER_COLUMNS = `u.id::text AS version_id, u.account_id, u.user_name, u.user_id, u.arn, u.path, u.created_at,
  u.has_console_password, u.password_last_used_at, u.mfa_active, u.tags, u.read_error, at.at, at.scan_id::text AS scan_id`;
const VALID_AT = `u.account_id = at.account_id AND u.valid_from <= at.at AND (u.valid_to IS NULL OR u.valid_to > at.at)`;
export const USERS_ROWS = `SELECT ${USER_COLUMNS} FROM ${INSTANTS_SQL}
      CROSS JOIN LATERAL (
        SELECT * FROM iam_user_version u WHERE ${VALID_AT} ORDER BY u.user_name LIMIT $2
      ) u
      ORDER BY u.account_id, u.user_name LIMIT $2`;
export const USERS_COUNT = `SELECT count(*) FROM ${INSTANTS_SQL} JOIN iam_user_version u ON ${VALID_AT} `;
const ACCESS_KEYS_OF = `SELECT k.account_id, k.user_name, k.access_key_id AS "accessKeyId", k.status, k.created_at AS "createdAt",
         k.last_used_at AS "lastUsedAt", k.last_used_service AS "lastUsedService", k.last_used_region AS "lastUsedRegion"
       FROM jsonb_to_recordset($1::jsonb) AS at(account_id text, user_name text, at timestamptz)
       JOIN access_key_version k ON k.account_id = at.account_id AND k.user_name = at.user_name
         AND k.valid_from <= at.at AND (k.valid_to IS NULL OR k.valid_to > at.at)
       ORDER BY k.created_at, k.access_key_id`;
// src/services/findings.service.ts forUsers
const FINDINGS_FOR_USERS = `SELECT f.id::text, f.identity, f.control_id, f.user_name, f.user_arn, f.access_key_id, f.account_id, f.first_seen_at,
         ${AS_OF_COLUMNS}, NULL AS sort_value
       FROM jsonb_to_recordset($1::jsonb) AS at(account_id text, user_name text, at timestamptz, scan_id uuid)
       JOIN finding f ON f.account_id = at.account_id AND f.user_name = at.user_name
       JOIN finding_version v ON v.finding_id = f.id AND v.valid_from <= at.at AND (v.valid_to IS NULL OR v.valid_to > at.at)
       ORDER BY f.identity`;

/** iamUsers(filter: {accountId}, asOf, first) with accessKeys and findings of each user (two DataLoader batches). */
export async function usersPageSql(db: Client, accountId: string, asOf: Date, first: number): Promise<SqlRun<{ userNames: string[]; totalCount: number; keys: number; findings: number }>> {
  const timer = new Timer();
  const instants = await resolveInstants(db, timer, accountId, asOf);
  const users = (await timer.run<{ account_id: string; user_name: string; at: Date; scan_id: string }>(db, 'rows', USERS_ROWS, [instantsParam(instants), first + 1])).slice(0, first);
  const [{ count }] = await timer.run<{ count: string }>(db, 'count', USERS_COUNT, [instantsParam(instants)]);
  const keys = await timer.run(db, 'accessKeys', ACCESS_KEYS_OF, [
    JSON.stringify(users.map((u) => ({ account_id: u.account_id, user_name: u.user_name, at: u.at.toISOString() }))),
  ]);
  const findings = await timer.run(db, 'findings', FINDINGS_FOR_USERS, [
    JSON.stringify(users.map((u) => ({ account_id: u.account_id, user_name: u.user_name, at: u.at.toISOString(), scan_id: u.scan_id }))),
  ]);
  return {
    result: { userNames: users.map((u) => u.user_name), totalCount: Number(count), keys: keys.length, findings: findings.length },
    statements: timer.statements,
  };
}

/** Statement texts with parameters, for EXPLAIN ANALYZE when a target is missed. */
export const STATEMENTS = { RESOLVE_INSTANTS, USERS_ROWS, USERS_COUNT, ACCESS_KEYS_OF, FINDINGS_FOR_USERS };
