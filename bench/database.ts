import { Client } from 'pg';
import { migrateDatabase } from '../src/adapters/db/migrate';

/**
 * Runs a benchmark against DATABASE_URL when set (migrated first), else against a throwaway
 * database on the local PostgreSQL, dropped afterwards.
 */
export async function withDatabase<T>(prefix: string, run: (url: string) => Promise<T>): Promise<T> {
  if (process.env.DATABASE_URL) {
    await migrateDatabase(process.env.DATABASE_URL);
    return run(process.env.DATABASE_URL);
  }
  const name = `${prefix}_${process.pid}`;
  const admin = new Client({ connectionString: 'postgresql://postgres@127.0.0.1:5432/postgres' });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  try {
    const url = `postgresql://postgres@127.0.0.1:5432/${name}`;
    await migrateDatabase(url);
    return await run(url);
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  }
}
