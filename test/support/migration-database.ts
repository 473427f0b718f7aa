import fs from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';

/**
 * For tests of one migration on rows as the code before it stored them: a scratch database of its own, the committed
 * migrations before it as plain SQL, then it.
 */
const ADMIN_URL = process.env.TEST_DATABASE_ADMIN_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
const MIGRATIONS = path.join(__dirname, '../../prisma/migrations');

/** Runs `work` on a client of `database` on the test PostgreSQL, and ends the client whatever happens. */
export async function withClient<T>(database: string, work: (c: Client) => Promise<T>): Promise<T> {
  const url = new URL(ADMIN_URL);
  url.pathname = `/${database}`;
  const client = new Client({ connectionString: url.toString() });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** A committed migration's SQL. */
export const migrationSql = (name: string) => fs.readFileSync(path.join(MIGRATIONS, name, 'migration.sql'), 'utf8');

/** The committed migrations before `name`, in order. */
export const migrationsBefore = (name: string) => fs.readdirSync(MIGRATIONS).filter((n) => /^\d{14}_/.test(n) && n < name).sort();

/** An empty database `name`, made again (any leftover of a crashed run dropped). */
export const createScratchDatabase = (name: string) =>
  withClient('postgres', async (c) => {
    await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await c.query(`CREATE DATABASE ${name}`);
  });

export const dropScratchDatabase = (name: string) => withClient('postgres', (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => undefined);
