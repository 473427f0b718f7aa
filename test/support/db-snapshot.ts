import type { PrismaClient } from '../../src/generated/prisma/client';

/** Every table of the public schema (Prisma's migration table included). */
export async function publicTables(prisma: PrismaClient): Promise<string[]> {
  const rows = await prisma.$queryRawUnsafe<{ table_name: string }[]>(
    `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name`,
  );
  return rows.map((r) => r.table_name);
}

/** Every row of every table as PostgreSQL's text form of the row: all columns, whatever their type. */
export async function dumpDatabase(prisma: PrismaClient): Promise<string> {
  const out: string[] = [];
  for (const table of await publicTables(prisma)) {
    const rows = await prisma.$queryRawUnsafe<{ row: string }[]>(`SELECT t::text AS row FROM "${table}" t`);
    out.push(`-- ${table}`, ...rows.map((r) => r.row));
  }
  return out.join('\n');
}

export interface TableState {
  rows: number;
  /** md5 over the rows' text, sorted, without the excluded columns. */
  checksum: string;
}

/**
 * Row count and checksum of every table. `exclude` names columns (`table.column`) that may change
 * without the data changing, such as api_token.last_used_at.
 */
export async function snapshotTables(prisma: PrismaClient, exclude: string[] = []): Promise<Record<string, TableState>> {
  const columns = await prisma.$queryRawUnsafe<{ table_name: string; column_name: string }[]>(
    `SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'public' ORDER BY table_name, ordinal_position`,
  );
  const out: Record<string, TableState> = {};
  for (const table of await publicTables(prisma)) {
    const cols = columns.filter((c) => c.table_name === table && !exclude.includes(`${table}.${c.column_name}`)).map((c) => `"${c.column_name}"`);
    const [state] = await prisma.$queryRawUnsafe<{ rows: number; checksum: string }[]>(
      `SELECT count(*)::int AS rows, md5(coalesce(string_agg(r::text, E'\\n' ORDER BY r::text), '')) AS checksum
       FROM (SELECT ${cols.join(', ')} FROM "${table}") r`,
    );
    out[table] = state;
  }
  return out;
}
