import type { PrismaClient } from '../generated/prisma/client';
import { InvalidInputError } from './errors';
import { accountScope, INSTANTS_SQL, instantsParam, resolveInstants, type AccountInstant, type UserInstant } from './instants';
import { decodeCursor, encodeCursor, pageOf, readPageFrom, type Page, type PageFrom } from './page';
import type { Statement } from '../adapters/db/statement';

export interface IamUserView {
  versionId: string;
  accountId: string;
  userName: string;
  userId: string | null;
  arn: string;
  path: string | null;
  createdAt: Date;
  hasConsolePassword: boolean | null;
  passwordLastUsedAt: Date | null;
  mfaActive: boolean | null;
  tags: Record<string, string> | null;
  readError: string | null;
  /** The instant this view describes, and the scan that read IAM then. */
  at: Date;
  scanId: string;
}

export interface AccessKeyView {
  accessKeyId: string;
  status: string;
  createdAt: Date;
  lastUsedAt: Date | null;
  lastUsedService: string | null;
  lastUsedRegion: string | null;
}

export interface IamUserQuery {
  /** One account; deprecated in the API in favour of accountIds. Not with accountIds. */
  accountId?: string | null;
  /** Several accounts; neither this nor accountId: every account. */
  accountIds?: readonly string[] | null;
  userName?: string | null;
  hasConsolePassword?: boolean | null;
}

const USER_COLUMNS = `u.id::text AS version_id, u.account_id, u.user_name, u.user_id, u.arn, u.path, u.created_at,
  u.has_console_password, u.password_last_used_at, u.mfa_active, u.tags, u.read_error, at.at, at.scan_id::text AS scan_id`;
// Plain comparisons, not `tstzrange(...) @> at`: they use the btree indexes and skip building a range per row.
const VALID_AT = `u.account_id = at.account_id AND u.valid_from <= at.at AND (u.valid_to IS NULL OR u.valid_to > at.at)`;

/** Reads IAM users as the latest scan saw them, or as of a past instant. */
export class IamUsersService {
  constructor(private readonly prisma: PrismaClient) {}

  async list(query: IamUserQuery, first: number, after?: PageFrom, asOf?: Date | null, direction: 'ASC' | 'DESC' = 'ASC'): Promise<Page<IamUserView>> {
    return this.listAt(await resolveInstants(this.prisma, accountScope(query.accountId, query.accountIds), asOf), query, first, after, direction);
  }

  async listAt(instants: AccountInstant[], query: IamUserQuery, first: number, after?: PageFrom, direction: 'ASC' | 'DESC' = 'ASC'): Promise<Page<IamUserView>> {
    const { rows: rowsStatement, count: countStatement } = usersPageStatements(instants, query, first, after, direction);
    const [rows, [{ count }]] = await Promise.all([
      this.prisma.$queryRawUnsafe<UserSqlRow[]>(rowsStatement.sql, ...rowsStatement.params),
      this.prisma.$queryRawUnsafe<{ count: bigint }[]>(countStatement.sql, ...countStatement.params),
    ]);
    const page = pageOf(rows, first, after);
    return {
      ...page,
      nodes: page.nodes.map(toView),
      totalCount: Number(count),
      cursorOf: (u) => encodeCursor({ list: 'u', direction }, [u.accountId, u.userName]),
    };
  }

  async get(accountId: string, userName: string, asOf?: Date | null): Promise<IamUserView | null> {
    if (!accountId) throw new InvalidInputError('accountId must not be empty', 'accountId');
    if (!userName) throw new InvalidInputError('userName must not be empty', 'userName');
    const page = await this.list({ accountId, userName }, 1, undefined, asOf);
    return page.nodes[0] ?? null;
  }

  /** Each user's keys at the user's instant, batched for IamUser.accessKeys. */
  async accessKeysOf(users: readonly Omit<UserInstant, 'scanId'>[]): Promise<AccessKeyView[][]> {
    const { sql, params } = accessKeysOfStatement(users);
    const rows = await this.prisma.$queryRawUnsafe<(AccessKeyView & { account_id: string; user_name: string })[]>(sql, ...params);
    return users.map((u) =>
      rows.filter((r) => r.account_id === u.accountId && r.user_name === u.userName).map(({ account_id: _a, user_name: _u, ...key }) => key),
    );
  }
}

/** The two statements of a users page: rows (first + 1) and the total count of the filter. */
export function usersPageStatements(
  instants: AccountInstant[],
  query: IamUserQuery,
  first: number,
  after?: PageFrom,
  direction: 'ASC' | 'DESC' = 'ASC',
): { rows: Statement; count: Statement } {
  const params: unknown[] = [instantsParam(instants)];
  const p = (value: unknown) => `$${params.push(value)}`;
  const where: string[] = [];
  if (query.userName) where.push(`u.user_name = ${p(query.userName)}`);
  if (query.hasConsolePassword != null) where.push(`u.has_console_password = ${p(query.hasConsolePassword)}`);
  const countParams = [...params];
  const filter = where.length ? `WHERE ${where.join(' AND ')}` : '';
  // Paging back reads the same keyset the other way round; the service puts the rows back in order.
  const { cursor: raw, argument, backward } = readPageFrom(after);
  const dir = (direction === 'DESC') !== backward ? 'DESC' : 'ASC';
  const cursor = decodeCursor(raw, { list: 'u', direction }, ['text', 'text'], argument);
  if (cursor) where.push(`(u.account_id, u.user_name) ${dir === 'DESC' ? '<' : '>'} (${p(cursor[0])}, ${p(cursor[1])})`);
  const limit = p(first + 1);
  return {
    // Per account, walk (account_id, user_name) in order and stop at the page size, instead of sorting every user.
    rows: {
      sql: `SELECT ${USER_COLUMNS} FROM ${INSTANTS_SQL}
      CROSS JOIN LATERAL (
        SELECT * FROM iam_user_version u WHERE ${[VALID_AT, ...where].join(' AND ')} ORDER BY u.user_name ${dir} LIMIT ${limit}
      ) u
      ORDER BY u.account_id ${dir}, u.user_name ${dir} LIMIT ${limit}`,
      params,
    },
    count: { sql: `SELECT count(*) FROM ${INSTANTS_SQL} JOIN iam_user_version u ON ${VALID_AT} ${filter}`, params: countParams },
  };
}

/**
 * The access keys each user had at its instant: one index lookup per user (LATERAL, with OFFSET 0 so the
 * planner keeps it). As a plain join, the planner scanned every key version of the account instead.
 */
export function accessKeysOfStatement(users: readonly Omit<UserInstant, 'scanId'>[]): Statement {
  return {
    sql: `SELECT k.account_id, k.user_name, k.access_key_id AS "accessKeyId", k.status, k.created_at AS "createdAt",
         k.last_used_at AS "lastUsedAt", k.last_used_service AS "lastUsedService", k.last_used_region AS "lastUsedRegion"
       FROM jsonb_to_recordset($1::jsonb) AS at(account_id text, user_name text, at timestamptz)
       CROSS JOIN LATERAL (
         SELECT * FROM access_key_version k
         WHERE k.account_id = at.account_id AND k.user_name = at.user_name AND k.valid_from <= at.at AND (k.valid_to IS NULL OR k.valid_to > at.at)
         OFFSET 0
       ) k
       ORDER BY k.created_at, k.access_key_id`,
    params: [JSON.stringify(users.map((u) => ({ account_id: u.accountId, user_name: u.userName, at: u.at.toISOString() })))],
  };
}

interface UserSqlRow {
  version_id: string;
  account_id: string;
  user_name: string;
  user_id: string | null;
  arn: string;
  path: string | null;
  created_at: Date;
  has_console_password: boolean | null;
  password_last_used_at: Date | null;
  mfa_active: boolean | null;
  tags: Record<string, string> | null;
  read_error: string | null;
  at: Date;
  scan_id: string;
}

function toView(r: UserSqlRow): IamUserView {
  return {
    versionId: r.version_id,
    accountId: r.account_id,
    userName: r.user_name,
    userId: r.user_id,
    arn: r.arn,
    path: r.path,
    createdAt: r.created_at,
    hasConsolePassword: r.has_console_password,
    passwordLastUsedAt: r.password_last_used_at,
    mfaActive: r.mfa_active,
    tags: r.tags,
    readError: r.read_error,
    at: r.at,
    scanId: r.scan_id,
  };
}
