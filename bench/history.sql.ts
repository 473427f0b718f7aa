/**
 * The statements the read services run for the four benchmarked GraphQL queries, built by the
 * services' own exported builders and run one after another on a pg Client, so they can be timed
 * without Prisma, Apollo or HTTP (the services run some of them concurrently on two pool connections).
 */
import type { Client } from 'pg';
import { findingsForUsersStatement, findingsPageStatements } from '../src/services/findings.service';
import { accessKeysOfStatement, usersPageStatements } from '../src/services/iam-users.service';
import { horizonsStatement, instantsStatement, type AccountInstant, type InstantRow } from '../src/services/instants';
import type { Statement } from '../src/adapters/db/statement';
import { trendStatement } from '../src/services/trends.service';

export interface SqlRun<T> {
  result: T;
  /** Milliseconds per statement, in the order run. */
  statements: Record<string, number>;
}

class Timer {
  readonly statements: Record<string, number> = {};

  async run<R extends Record<string, unknown>>(db: Client, label: string, { sql, params }: Statement): Promise<R[]> {
    const t = performance.now();
    const { rows } = await db.query<R>(sql, params);
    this.statements[label] = performance.now() - t;
    return rows;
  }
}

/** resolveInstants: the answering scan, then (for asOf) the retention horizon. */
async function resolveInstants(db: Client, timer: Timer, accountId: string, asOf?: Date): Promise<AccountInstant[]> {
  const rows = await timer.run<InstantRow>(db, 'instants', instantsStatement(accountId, asOf));
  if (rows.length === 0) throw new Error(`no scan of ${accountId}${asOf ? ` at or before ${asOf.toISOString()}` : ''}`);
  if (asOf) await timer.run(db, 'horizons', horizonsStatement(rows.map((r) => r.account_id)));
  return rows.map((r) => ({ accountId: r.account_id, scanId: r.id, at: r.observed_at }));
}

/** complianceTrend(accountId, from, to, interval: DAY). */
export async function trendSql(db: Client, accountId: string, from: Date, to: Date): Promise<SqlRun<{ points: number; scans: number }>> {
  const timer = new Timer();
  const statement = trendStatement(accountId, from, to, 'DAY');
  await resolveInstants(db, timer, accountId);
  const rows = await timer.run<{ scans: string }>(db, 'trend', statement);
  return { result: { points: rows.length, scans: rows.reduce((n, r) => n + Number(r.scans), 0) }, statements: timer.statements };
}

/** findings(filter: { accountId, status }, first, after): the current state, by identity. */
export async function findingsPageSql(
  db: Client,
  accountId: string,
  status: ('PASS' | 'FAIL' | 'NOT_APPLICABLE' | 'ERROR')[] | null,
  after: string | undefined,
  first: number,
): Promise<SqlRun<{ identities: string[]; totalCount: number }>> {
  const timer = new Timer();
  // As the service reads a page of named accounts now: the latest scans, rows and total in one statement.
  const statements = findingsPageStatements({ accountIds: [accountId] }, { accountId, status }, first, after, 'current');
  const rows = await timer.run<{ user_name: string; access_key_id: string | null; total: string }>(db, 'page', statements.page);
  const total = rows.length > 0 ? rows[0]!.total : (await timer.run<{ count: string }>(db, 'count', statements.count))[0]!.count;
  return { result: { identities: rows.slice(0, first).map((r) => `${r.user_name}/${r.access_key_id ?? '-'}`), totalCount: Number(total) }, statements: timer.statements };
}

/** iamUsers(filter: {accountId}, asOf, first) with accessKeys and findings of each user (two DataLoader batches). */
export async function usersPageSql(db: Client, accountId: string, asOf: Date, first: number): Promise<SqlRun<{ userNames: string[]; totalCount: number; keys: number; findings: number }>> {
  const timer = new Timer();
  const instants = await resolveInstants(db, timer, accountId, asOf);
  const page = usersPageStatements(instants, { accountId }, first);
  const rows = await timer.run<{ account_id: string; user_id: string | null; user_name: string; at: Date; scan_id: string }>(db, 'rows', page.rows);
  const users = rows.slice(0, first).map((u) => ({ accountId: u.account_id, userId: u.user_id, userName: u.user_name, at: u.at, scanId: u.scan_id }));
  const [{ count }] = await timer.run<{ count: string }>(db, 'count', page.count);
  const keys = await timer.run(db, 'accessKeys', accessKeysOfStatement(users));
  const findings = await timer.run(db, 'findings', findingsForUsersStatement(users));
  return {
    result: { userNames: users.map((u) => u.userName), totalCount: Number(count), keys: keys.length, findings: findings.length },
    statements: timer.statements,
  };
}
